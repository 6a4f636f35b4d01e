//! What the app asks of a decoded tile's features: which one lies under a point (picking), where
//! its label goes and how big it is, and which key says "the same feature" in the neighbouring
//! tile (encoders cut features at tile borders and repeat them).

use geo::{Area, BoundingRect, Centroid, Contains, Coord, Distance, Euclidean, LineString, Point, Polygon};

use super::build::TileFrame;
use super::mvt::{TileFeature, TileGeometry, TileLayer, Value, geometry};

/// What identifies a feature across tiles: the MVT feature id where the encoder wrote one,
/// else an `id`-like attribute, else its attributes together.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FeatureKey {
    Id(u64),
    Attr(String),
    Attributes(u64),
}

/// Attribute names that hold a feature's identity when the tile has no feature ids (GDAL
/// writes none; PostGIS and tippecanoe usually do).
const ID_FIELDS: [&str; 6] = ["id", "ID", "fid", "gid", "objectid", "OBJECTID"];

pub fn feature_key(layer: &TileLayer, f: &TileFeature) -> FeatureKey {
    if let Some(id) = f.id {
        return FeatureKey::Id(id);
    }
    for k in ID_FIELDS {
        if let Some(v) = layer.property(f, k)
            && !matches!(v, Value::Float(_))
        {
            return FeatureKey::Attr(v.to_string());
        }
    }
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (k, v) in layer.properties(f) {
        k.hash(&mut h);
        v.to_string().hash(&mut h);
    }
    FeatureKey::Attributes(h.finish())
}

/// A ring or line of tile units in local metres from the drawn tile's NW corner (y up).
fn local_line(points: &[[i32; 2]], fr: &TileFrame) -> LineString<f64> {
    LineString(
        points
            .iter()
            .map(|p| {
                let [x, y] = fr.to_local([f64::from(p[0]), f64::from(p[1])]);
                Coord { x, y }
            })
            .collect(),
    )
}

/// A feature's polygons in local metres, unclipped.
fn local_polygons(g: &TileGeometry, fr: &TileFrame) -> Vec<Polygon<f64>> {
    match g {
        TileGeometry::Polygons(ps) => ps
            .iter()
            .filter_map(|rings| {
                Some(Polygon::new(
                    local_line(rings.first()?, fr),
                    rings[1..].iter().map(|r| local_line(r, fr)).collect(),
                ))
            })
            .collect(),
        _ => vec![],
    }
}

/// A feature's lines in local metres, unclipped.
fn local_lines(g: &TileGeometry, fr: &TileFrame) -> Vec<LineString<f64>> {
    match g {
        TileGeometry::Lines(ls) => ls.iter().map(|l| local_line(l, fr)).collect(),
        _ => vec![],
    }
}

/// The feature of `layer` under `p` (local metres from the NW corner of the drawn tile): a
/// polygon containing it, else the nearest line or point within `tolerance_m`; the topmost (last
/// drawn) wins among polygons.
pub fn pick(layer: &TileLayer, fr: &TileFrame, p: [f64; 2], tolerance_m: f64, bboxes: &[[i32; 4]]) -> Option<usize> {
    let pt = Point::new(p[0], p[1]);
    let mut best: Option<(f64, usize)> = None;
    // The point and tolerance in tile units: features whose box is farther are not decoded.
    let u = fr.to_units(p);
    let tol_u = tolerance_m / fr.scale;
    for (i, f) in layer.features.iter().enumerate().rev() {
        if let Some(b) = bboxes.get(i)
            && (u[0] < f64::from(b[0]) - tol_u
                || u[0] > f64::from(b[2]) + tol_u
                || u[1] < f64::from(b[1]) - tol_u
                || u[1] > f64::from(b[3]) + tol_u)
        {
            continue;
        }
        let Ok(g) = geometry(f) else { continue };
        match &g {
            TileGeometry::Polygons(_) => {
                if local_polygons(&g, fr).iter().any(|poly| poly.contains(&pt)) {
                    return Some(i);
                }
            }
            TileGeometry::Lines(_) => {
                for l in local_lines(&g, fr) {
                    let d = Euclidean.distance(&pt, &l);
                    if d <= tolerance_m && best.is_none_or(|(b, _)| d < b) {
                        best = Some((d, i));
                    }
                }
            }
            TileGeometry::Points(ps) => {
                for q in ps {
                    let [x, y] = fr.to_local([f64::from(q[0]), f64::from(q[1])]);
                    let d = ((x - p[0]).powi(2) + (y - p[1]).powi(2)).sqrt();
                    if d <= tolerance_m && best.is_none_or(|(b, _)| d < b) {
                        best = Some((d, i));
                    }
                }
            }
        }
    }
    best.map(|(_, i)| i)
}

/// Where a feature's label goes (local metres from the NW corner) and how large it is (its
/// bounding box's longer side, metres; 0 for points), from its part inside the tile: a polygon's
/// largest part's centroid, a line's middle vertex, a point itself. `None` when nothing of it
/// lies in the tile (the buffer), so a feature cut by tile borders is labelled by one tile.
pub fn label_anchor(layer: &TileLayer, index: usize, fr: &TileFrame) -> Option<([f64; 2], f64)> {
    let f = layer.features.get(index)?;
    let g = geometry(f).ok()?;
    let side = fr.size * fr.scale;
    let inside = |x: f64, y: f64| (0.0..side).contains(&x) && (-side..=0.0).contains(&y);
    match &g {
        TileGeometry::Polygons(_) => {
            let polys = local_polygons(&g, fr);
            let largest = polys.iter().max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))?;
            let c = largest.centroid()?;
            let b = polys.iter().filter_map(|p| p.bounding_rect()).reduce(|a, b| {
                geo::Rect::new(
                    Coord { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                    Coord { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
                )
            })?;
            inside(c.x(), c.y()).then_some(([c.x(), c.y()], b.width().max(b.height())))
        }
        TileGeometry::Lines(_) => {
            let lines = local_lines(&g, fr);
            let l = lines.iter().max_by_key(|l| l.0.len())?;
            let m = l.0.get(l.0.len() / 2)?;
            let b = l.bounding_rect()?;
            inside(m.x, m.y).then_some(([m.x, m.y], b.width().max(b.height())))
        }
        TileGeometry::Points(ps) => {
            let q = ps.first()?;
            let [x, y] = fr.to_local([f64::from(q[0]), f64::from(q[1])]);
            inside(x, y).then_some(([x, y], 0.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiles::TileId;
    use crate::tiles::vector::mvt::GeomKind;

    fn layer() -> TileLayer {
        // A square 100..200 units with a hole 140..160; a line across; a point.
        let zz = |v: i32| ((v << 1) ^ (v >> 31)) as u32;
        let sq = vec![
            9,
            zz(100),
            zz(100),
            3 << 3 | 2,
            zz(100),
            0,
            0,
            zz(100),
            zz(-100),
            0,
            15,
            9,
            zz(40),
            zz(-60),
            3 << 3 | 2,
            0,
            zz(20),
            zz(20),
            0,
            0,
            zz(-20),
            15,
        ];
        let line = vec![9, zz(0), zz(1000), 1 << 3 | 2, zz(4000), 0];
        let point = vec![9, zz(3000), zz(3000)];
        TileLayer {
            name: "parcels".into(),
            extent: 4096,
            keys: vec!["id".into(), "name".into()],
            values: vec![Value::Uint(7), Value::String("地块-0007".into())],
            features: vec![
                TileFeature { id: None, kind: GeomKind::Polygon, tags: vec![0, 0, 1, 1], commands: sq },
                TileFeature { id: Some(9), kind: GeomKind::LineString, tags: vec![], commands: line },
                TileFeature { id: None, kind: GeomKind::Point, tags: vec![1, 1], commands: point },
            ],
        }
    }

    #[test]
    fn picking_finds_polygons_not_their_holes_and_lines_and_points_within_tolerance() {
        let l = layer();
        let t = TileId { z: 14, x: 13704, y: 6682 };
        let fr = TileFrame::new(t, t, 4096);
        let at = |u: [f64; 2]| fr.to_local(u);
        let boxes = crate::tiles::vector::build::feature_bboxes(&l);
        assert_eq!(boxes[0], [100, 100, 200, 200]);
        assert_eq!(boxes[1], [0, 1000, 4000, 1000]);
        assert_eq!(pick(&l, &fr, at([120.0, 120.0]), 1.0, &[]), Some(0));
        assert_eq!(pick(&l, &fr, at([150.0, 150.0]), 1.0, &boxes), None, "in the hole");
        assert_eq!(pick(&l, &fr, at([2000.0, 1003.0]), 3.0 * fr.scale, &boxes), Some(1));
        assert_eq!(pick(&l, &fr, at([3001.0, 3001.0]), 3.0 * fr.scale, &boxes), Some(2));
        assert_eq!(pick(&l, &fr, at([3500.0, 3500.0]), 3.0 * fr.scale, &boxes), None);
        assert_eq!(feature_key(&l, &l.features[0]), FeatureKey::Attr("7".into()));
        assert_eq!(feature_key(&l, &l.features[1]), FeatureKey::Id(9));
        let (a, size) = label_anchor(&l, 0, &fr).unwrap();
        let u = fr.to_units(a);
        assert!((u[0] - 150.0).abs() < 2.0 && (u[1] - 150.0).abs() < 2.0, "{u:?}");
        assert!((size - 100.0 * fr.scale).abs() < 1e-6);
    }
}
