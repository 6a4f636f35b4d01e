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

/// A polygon Shapefile written for tests and benchmarks: rings (already in the file's
/// coordinates, outer rings clockwise) and text attributes encoded in `encoding`. GDAL reads
/// what this writes (`ogrinfo` in the tests' fixtures script); the reader never sees it as
/// anything but bytes.
pub struct ShapefileOut<'a> {
    pub fields: &'a [(&'a str, u8)],
    pub encoding: &'static encoding_rs::Encoding,
    /// DBF language-driver byte (0x4D: GBK; 0: unset).
    pub ldid: u8,
    pub prj: Option<&'a str>,
    pub cpg: Option<&'a str>,
}

/// A polygon's rings and its attribute texts, one per field.
pub type ShapefileRecord = (Vec<Vec<(f64, f64)>>, Vec<String>);

impl ShapefileOut<'_> {
    /// Writes `stem.shp/.shx/.dbf` (and `.prj`, `.cpg`). Each record: polygon rings and one text
    /// per field.
    pub fn write(&self, stem: &std::path::Path, records: &[ShapefileRecord]) -> std::io::Result<()> {
        let mut shp = Vec::new();
        let mut shx = Vec::new();
        let (mut min, mut max) = ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN));
        for (rings, _) in records {
            for &(x, y) in rings.iter().flatten() {
                min = (min.0.min(x), min.1.min(y));
                max = (max.0.max(x), max.1.max(y));
            }
        }
        let header = |len_bytes: usize| {
            let mut h = vec![0u8; 100];
            h[0..4].copy_from_slice(&9994u32.to_be_bytes());
            h[24..28].copy_from_slice(&((len_bytes / 2) as u32).to_be_bytes());
            h[28..32].copy_from_slice(&1000u32.to_le_bytes());
            h[32..36].copy_from_slice(&5u32.to_le_bytes());
            for (i, v) in [min.0, min.1, max.0, max.1].iter().enumerate() {
                h[36 + i * 8..44 + i * 8].copy_from_slice(&v.to_le_bytes());
            }
            h
        };
        for (n, (rings, _)) in records.iter().enumerate() {
            let points: usize = rings.iter().map(Vec::len).sum();
            let content_len = 44 + 4 * rings.len() + 16 * points;
            shx.extend_from_slice(&(((100 + shp.len()) / 2) as u32).to_be_bytes());
            shx.extend_from_slice(&((content_len / 2) as u32).to_be_bytes());
            shp.extend_from_slice(&(n as u32 + 1).to_be_bytes());
            shp.extend_from_slice(&((content_len / 2) as u32).to_be_bytes());
            shp.extend_from_slice(&5i32.to_le_bytes());
            let (mut lo, mut hi) = ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN));
            for &(x, y) in rings.iter().flatten() {
                lo = (lo.0.min(x), lo.1.min(y));
                hi = (hi.0.max(x), hi.1.max(y));
            }
            for v in [lo.0, lo.1, hi.0, hi.1] {
                shp.extend_from_slice(&v.to_le_bytes());
            }
            shp.extend_from_slice(&(rings.len() as i32).to_le_bytes());
            shp.extend_from_slice(&(points as i32).to_le_bytes());
            let mut start = 0i32;
            for r in rings {
                shp.extend_from_slice(&start.to_le_bytes());
                start += r.len() as i32;
            }
            for &(x, y) in rings.iter().flatten() {
                shp.extend_from_slice(&x.to_le_bytes());
                shp.extend_from_slice(&y.to_le_bytes());
            }
        }
        let mut shp_file = header(100 + shp.len());
        shp_file.extend_from_slice(&shp);
        let mut shx_file = header(100 + shx.len());
        shx_file.extend_from_slice(&shx);

        let header_len = 32 + 32 * self.fields.len() + 1;
        let record_len = 1 + self.fields.iter().map(|f| f.1 as usize).sum::<usize>();
        let mut dbf = vec![0u8; 32];
        dbf[0] = 3;
        dbf[1..4].copy_from_slice(&[126, 1, 1]);
        dbf[4..8].copy_from_slice(&(records.len() as u32).to_le_bytes());
        dbf[8..10].copy_from_slice(&(header_len as u16).to_le_bytes());
        dbf[10..12].copy_from_slice(&(record_len as u16).to_le_bytes());
        dbf[29] = self.ldid;
        for (name, len) in self.fields {
            let mut d = [0u8; 32];
            let (n, _, _) = self.encoding.encode(name);
            let n = &n[..n.len().min(10)];
            d[..n.len()].copy_from_slice(n);
            d[11] = b'C';
            d[16] = *len;
            dbf.extend_from_slice(&d);
        }
        dbf.push(0x0D);
        dbf.reserve(records.len() * record_len + 1);
        for (_, values) in records {
            dbf.push(b' ');
            for ((_, len), v) in self.fields.iter().zip(values) {
                let (bytes, _, _) = self.encoding.encode(v);
                let len = *len as usize;
                // Never cut a multi-byte character in half.
                let mut take = bytes.len().min(len);
                while take > 0
                    && self.encoding.decode_without_bom_handling_and_without_replacement(&bytes[..take]).is_none()
                {
                    take -= 1;
                }
                dbf.extend_from_slice(&bytes[..take]);
                dbf.extend(std::iter::repeat_n(b' ', len - take));
            }
        }
        dbf.push(0x1A);
        std::fs::write(stem.with_extension("shp"), shp_file)?;
        std::fs::write(stem.with_extension("shx"), shx_file)?;
        std::fs::write(stem.with_extension("dbf"), dbf)?;
        if let Some(prj) = self.prj {
            std::fs::write(stem.with_extension("prj"), prj)?;
        }
        if let Some(cpg) = self.cpg {
            std::fs::write(stem.with_extension("cpg"), cpg)?;
        }
        Ok(())
    }
}

/// ESRI's `.prj` for EPSG:4549 (CGCS2000 3-degree Gauss-Krüger CM 120E), as ArcGIS writes it.
pub const PRJ_4549: &str = r#"PROJCS["CGCS2000_3_Degree_GK_CM_120E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

/// A planning office's parcel layer: `n` polygons around Taicang in EPSG:4549 with GBK
/// attributes as ArcGIS writes them (DKBH parcel number, MC name, YDXZ land-use code, and
/// no `.cpg`), for the import benchmark.
pub fn planner_shapefile(n: usize, stem: &std::path::Path) -> std::io::Result<()> {
    let gk = crate::spatial::crs::ProjectedCrs::from_epsg(4549).map_err(std::io::Error::other)?;
    let layer = polygons(n, 12, 7);
    const USES: [(&str, &str); 6] = [
        ("M1", "一类工业用地"),
        ("R2", "二类居住用地"),
        ("G1", "公园绿地"),
        ("B1", "商业用地"),
        ("W1", "物流仓储用地"),
        ("S1", "城市道路用地"),
    ];
    const TOWNS: [&str; 6] = ["城厢镇", "沙溪镇", "浏河镇", "浮桥镇", "璜泾镇", "双凤镇"];
    let mut records = Vec::with_capacity(n);
    for (i, f) in layer.features.iter().enumerate() {
        let Geometry::Polygon(p) = &f.geometry else { continue };
        // Outer rings clockwise, as the format requires.
        let mut ring: Vec<(f64, f64)> = p.exterior().0.iter().filter_map(|c| gk.from_wgs84(c.x, c.y).ok()).collect();
        ring.reverse();
        let (code, use_name) = USES[i % USES.len()];
        records.push((
            vec![ring],
            vec![
                format!("TC{:07}", i),
                format!("{}{}号地块（{use_name}）", TOWNS[i % TOWNS.len()], i),
                code.to_string(),
            ],
        ));
    }
    ShapefileOut {
        fields: &[("DKBH", 12), ("MC", 60), ("YDXZ", 4)],
        encoding: encoding_rs::GB18030,
        ldid: 0,
        prj: Some(PRJ_4549),
        cpg: None,
    }
    .write(stem, &records)
}
