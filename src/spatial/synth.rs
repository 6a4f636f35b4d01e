//! Synthetic layers for benchmarks: many small valid polygons scattered around Taicang.

use geo::{Coord, Geometry, LineString, Polygon};
use serde_json::Map;

use crate::geodata::{Accuracy, Feature, Layer};

/// A tiny deterministic PRNG (xorshift64*), so benchmark inputs are identical run to run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` star-shaped polygons of `vertices` vertices each (so always valid), 50-300 m across,
/// spread over about 60 x 60 km centred on Taicang, with full atlas attributes.
pub fn polygons(n: usize, vertices: usize, seed: u64) -> Layer {
    let mut rng = Rng::new(seed);
    let (lon0, lat0): (f64, f64) = (121.174, 31.564);
    let kx = 111_320.0 * lat0.to_radians().cos();
    let features = (0..n)
        .map(|i| {
            let cx = lon0 + (rng.f64() - 0.5) * 60_000.0 / kx;
            let cy = lat0 + (rng.f64() - 0.5) * 60_000.0 / 110_540.0;
            let r = 25.0 + rng.f64() * 125.0;
            let mut ring: Vec<Coord<f64>> = (0..vertices)
                .map(|k| {
                    let a = k as f64 / vertices as f64 * std::f64::consts::TAU;
                    let rr = r * (0.6 + 0.4 * rng.f64());
                    Coord { x: cx + rr * a.cos() / kx, y: cy + rr * a.sin() / 110_540.0 }
                })
                .collect();
            ring.push(ring[0]);
            Feature {
                id: format!("synth-{i}"),
                name_zh_hant: format!("地塊{i}"),
                name_zh_hans: format!("地块{i}"),
                name_en: format!("Parcel {i}"),
                kind: "parcel".into(),
                accuracy: if i % 5 == 0 { Accuracy::Schematic } else { Accuracy::Metres(5.0) },
                source: "synthetic (port-atlas benchmark)".into(),
                extra: Map::new(),
                geometry: Geometry::Polygon(Polygon::new(LineString(ring), vec![])),
            }
        })
        .collect();
    Layer { id: "synthetic".into(), path: "synthetic.geojson".into(), features }
}
