//! Map labels: anchor points per feature, and greedy placement without overlaps, best first.

use bevy::math::{DVec2, Rect, Vec2};
use geo::{Euclidean, Geometry, InteriorPoint, InterpolatableLine, Point};

use crate::proj::LocalFrame;

/// Where a feature's label goes, in local metres: a point inside polygons (of the largest part
/// for multipolygons, unless a part lies in that part's hole: a ring around its centre, as an
/// imprecise mentioned place is drawn, is labelled at the centre), the middle of lines, the
/// point itself.
pub fn anchor(g: &Geometry<f64>, frame: &LocalFrame) -> Option<DVec2> {
    use geo::{Area, Contains};
    let p: Point<f64> = match g {
        Geometry::MultiPolygon(m) => {
            let largest = m.0.iter().max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))?;
            let holes: Vec<geo::Polygon<f64>> =
                largest.interiors().iter().map(|h| geo::Polygon::new(h.clone(), vec![])).collect();
            let centre = m.0.iter().find(|part| holes.iter().any(|h| h.contains(*part)));
            centre.unwrap_or(largest).interior_point()?
        }
        Geometry::LineString(l) => l.point_at_ratio_from_start(&Euclidean, 0.5)?,
        Geometry::MultiLineString(m) => m.0.first()?.point_at_ratio_from_start(&Euclidean, 0.5)?,
        other => other.interior_point()?,
    };
    let (x, y) = frame.project(p.x(), p.y());
    Some(DVec2::new(x, y))
}

/// A name to put on the map from outside the atlas's layers (vector tile features): where (local
/// metres), what, and how it ranks.
#[derive(Debug, Clone, PartialEq)]
pub struct MapLabel {
    pub world: DVec2,
    pub text: String,
    pub is_point: bool,
    /// The feature's size in metres (0 for points): smaller ones are placed first.
    pub size_m: f64,
    /// Selected: placed before everything else.
    pub chosen: bool,
}

/// A label that wants a place on screen.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Screen rectangle the text would occupy.
    pub rect: Rect,
    /// Lower is placed first.
    pub priority: (u8, i64),
}

/// Indices of the candidates that fit, in placement order: each takes its rectangle if it
/// overlaps nothing placed before and lies inside `bounds`.
pub fn place(cands: &[Candidate], bounds: Rect, margin: f32) -> Vec<usize> {
    let mut order: Vec<usize> = (0..cands.len()).collect();
    order.sort_by_key(|&i| cands[i].priority);
    let mut taken: Vec<Rect> = Vec::new();
    let mut out = Vec::new();
    for i in order {
        let r = cands[i].rect;
        if r.min.x < bounds.min.x || r.min.y < bounds.min.y || r.max.x > bounds.max.x || r.max.y > bounds.max.y {
            continue;
        }
        let grown = Rect::from_corners(r.min - Vec2::splat(margin), r.max + Vec2::splat(margin));
        if taken.iter().any(|t| !t.intersect(grown).is_empty()) {
            continue;
        }
        taken.push(r);
        out.push(i);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x: f32, y: f32, p: u8) -> Candidate {
        Candidate { rect: Rect::new(x, y, x + 40.0, y + 14.0), priority: (p, 0) }
    }

    #[test]
    fn higher_priority_wins_overlaps_and_out_of_bounds_are_dropped() {
        let bounds = Rect::new(0.0, 0.0, 200.0, 100.0);
        let cands = vec![c(10.0, 10.0, 5), c(20.0, 12.0, 1), c(100.0, 50.0, 3), c(190.0, 50.0, 0)];
        assert_eq!(place(&cands, bounds, 2.0), vec![1, 2]);
    }

    #[test]
    fn a_ring_around_a_dot_is_labelled_at_the_dot() {
        let square = |c: (f64, f64), r: f64| -> geo::LineString<f64> {
            vec![(c.0 - r, c.1 - r), (c.0 + r, c.1 - r), (c.0 + r, c.1 + r), (c.0 - r, c.1 + r), (c.0 - r, c.1 - r)]
                .into()
        };
        let c = (121.0, 31.5);
        let ring = geo::Polygon::new(square(c, 0.2), vec![square(c, 0.19)]);
        let dot = geo::Polygon::new(square(c, 0.003), vec![]);
        let frame = LocalFrame::default();
        let a = anchor(&Geometry::MultiPolygon(geo::MultiPolygon(vec![ring.clone(), dot])), &frame).expect("anchor");
        let (lon, lat) = frame.unproject(a.x, a.y);
        assert!((lon - c.0).abs() < 0.004 && (lat - c.1).abs() < 0.004, "at the dot: {lon} {lat}");
        // Two parts side by side: the larger one, as before.
        let beside = geo::Polygon::new(square((122.0, 31.5), 0.003), vec![]);
        let a = anchor(&Geometry::MultiPolygon(geo::MultiPolygon(vec![ring, beside])), &frame).expect("anchor");
        let (lon, _) = frame.unproject(a.x, a.y);
        assert!((lon - c.0).abs() <= 0.21, "on the ring: {lon}");
    }

    #[test]
    fn anchors_fall_inside_real_polygons() {
        use geo::Contains;
        let atlas = crate::atlas::Atlas::builtin();
        let frame = LocalFrame::default();
        let context = atlas.layers.iter().find(|l| l.id == "context").expect("context layer");
        for f in &context.features {
            let a = anchor(&f.geometry, &frame).expect("anchor");
            let (lon, lat) = frame.unproject(a.x, a.y);
            assert!(f.geometry.contains(&Point::new(lon, lat)), "{} label outside its polygon", f.id);
        }
    }
}
