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
    Layer::new("synthetic", "synthetic.geojson", features)
}

/// The same polygons as a planner's layer has them: a `name`, a land-use code and an area,
/// none of the atlas's own attributes (no id, no names by script, no accuracy or source).
pub fn planner_polygons(n: usize, vertices: usize, seed: u64) -> Layer {
    const USES: [&str; 5] = ["R2", "M1", "B1", "G1", "U2"];
    let mut layer = polygons(n, vertices, seed);
    for (i, f) in layer.features.iter_mut().enumerate() {
        let name = std::mem::take(&mut f.name_zh_hans);
        f.id.clear();
        f.name_zh_hant.clear();
        f.name_en.clear();
        f.kind.clear();
        f.source.clear();
        f.extra.insert("name".into(), name.into());
        f.extra.insert("landuse".into(), USES[i % USES.len()].into());
        f.extra.insert("area_m2".into(), (1000 + (i * 37) % 50_000).into());
    }
    layer
}

/// GeoJSON of a planner's layer: each feature's geometry and its own properties only (the
/// atlas attributes a [`Feature`] always has, such as `accuracy`, are left out).
pub fn planner_geojson(layer: &Layer) -> String {
    let features = layer
        .features
        .iter()
        .map(|f| geojson::Feature {
            bbox: None,
            geometry: Some(geojson::Geometry::new(geojson::Value::from(&f.geometry))),
            id: None,
            properties: Some(f.extra.clone()),
            foreign_members: None,
        })
        .collect();
    let mut s = geojson::FeatureCollection { bbox: None, features, foreign_members: None }.to_string();
    s.push('\n');
    s
}
