//! Whether an edited shape is still a valid feature: rings long enough, no vertex on top of its
//! neighbour, and polygons simple (no ring crossing itself or another, every hole inside its
//! outline). A refusal says where, so the app can show the reason at the place it happened.

use geo::algorithm::line_intersection::{LineIntersection, line_intersection};
use geo::{Coord, Line};

use super::shape::{Shape, ShapeKind};

/// Why an edit is refused, and where (lon/lat).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct Invalid {
    pub at: [f64; 2],
    pub reason: String,
}

fn invalid(at: [f64; 2], reason: impl Into<String>) -> Invalid {
    Invalid { at, reason: reason.into() }
}

/// Whether an open ring holds a point (lon/lat as a plane, as the editor works locally).
pub fn ring_contains(ring: &[[f64; 2]], p: [f64; 2]) -> bool {
    use geo::Contains;
    let outline = geo::LineString(ring.iter().map(|&[x, y]| Coord { x, y }).collect());
    geo::Polygon::new(outline, vec![]).contains(&geo::Point::new(p[0], p[1]))
}

struct Seg {
    ring: usize,
    index: usize,
    a: [f64; 2],
    b: [f64; 2],
}

impl Seg {
    fn min_x(&self) -> f64 {
        self.a[0].min(self.b[0])
    }
    fn max_x(&self) -> f64 {
        self.a[0].max(self.b[0])
    }
    fn line(&self) -> Line<f64> {
        Line::new(Coord { x: self.a[0], y: self.a[1] }, Coord { x: self.b[0], y: self.b[1] })
    }
}

/// Checks a whole shape. Polygons are checked part by part with a sweep over their edges sorted
/// by x, so a county outline of thousands of vertices is checked in milliseconds.
pub fn validate(shape: &Shape) -> Result<(), Invalid> {
    let min = shape.kind.min_vertices();
    for rings in &shape.parts {
        for (r, ring) in rings.iter().enumerate() {
            if let Some(v) =
                ring.iter().find(|v| !v[0].is_finite() || !v[1].is_finite() || v[0].abs() > 180.0 || v[1].abs() > 90.0)
            {
                return Err(invalid(*v, "a vertex is off the globe"));
            }
            if ring.len() < min {
                let what = match shape.kind {
                    ShapeKind::Line | ShapeKind::MultiLine => "a line needs at least 2 vertices",
                    _ if r == 0 => "a polygon's outline needs at least 3 vertices",
                    _ => "a hole needs at least 3 vertices",
                };
                return Err(invalid(ring.last().copied().unwrap_or([0.0, 0.0]), what));
            }
            if shape.kind.is_point() {
                continue;
            }
            let n = ring.len();
            let pairs = if shape.closed() { n } else { n - 1 };
            for i in 0..pairs {
                if ring[i] == ring[(i + 1) % n] {
                    return Err(invalid(ring[i], "two neighbouring vertices at the same place"));
                }
            }
        }
        if shape.kind.is_polygon() {
            simple(rings)?;
        }
    }
    Ok(())
}

/// No edge crosses or touches another except neighbours at their shared vertex; holes inside.
fn simple(rings: &[Vec<[f64; 2]>]) -> Result<(), Invalid> {
    let mut segs: Vec<Seg> = Vec::new();
    for (r, ring) in rings.iter().enumerate() {
        let n = ring.len();
        for i in 0..n {
            segs.push(Seg { ring: r, index: i, a: ring[i], b: ring[(i + 1) % n] });
        }
    }
    segs.sort_by(|a, b| a.min_x().total_cmp(&b.min_x()));
    for i in 0..segs.len() {
        let s = &segs[i];
        let (s_lo, s_hi) = (s.a[1].min(s.b[1]), s.a[1].max(s.b[1]));
        for t in &segs[i + 1..] {
            if t.min_x() > s.max_x() {
                break;
            }
            if t.a[1].max(t.b[1]) < s_lo || t.a[1].min(t.b[1]) > s_hi {
                continue;
            }
            let Some(hit) = line_intersection(s.line(), t.line()) else { continue };
            let n = rings[s.ring].len();
            let neighbours = s.ring == t.ring && {
                let (x, y) = (s.index.min(t.index), s.index.max(t.index));
                y == x + 1 || (x == 0 && y == n - 1)
            };
            let at = match hit {
                // Neighbours meet at their shared vertex; anything else is a crossing.
                LineIntersection::SinglePoint { is_proper: false, .. } if neighbours => continue,
                LineIntersection::SinglePoint { intersection, .. } => [intersection.x, intersection.y],
                LineIntersection::Collinear { intersection } => [intersection.start.x, intersection.start.y],
            };
            let reason = match (s.ring, t.ring) {
                (0, 0) => "the outline would cross itself",
                (0, _) | (_, 0) => "a hole would cross the outline",
                (a, b) if a == b => "a hole would cross itself",
                _ => "two holes would cross",
            };
            return Err(invalid(at, reason));
        }
    }
    if let Some(outer) = rings.first() {
        for hole in &rings[1..] {
            if let Some(&v) = hole.first()
                && !ring_contains(outer, v)
            {
                return Err(invalid(v, "a hole would lie outside its outline"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::shape::VertexPath;

    fn shape(kind: ShapeKind, rings: Vec<Vec<[f64; 2]>>) -> Shape {
        Shape { kind, parts: vec![rings] }
    }

    #[test]
    fn a_bow_tie_is_refused_where_it_crosses() {
        let mut s = shape(ShapeKind::Polygon, vec![vec![[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]]]);
        assert_eq!(validate(&s), Ok(()));
        // Dragging the third corner past the fourth's far side makes a bow tie.
        s.move_vertex(VertexPath::new(0, 0, 2), [-1.0, 1.0]).unwrap();
        s.move_vertex(VertexPath::new(0, 0, 3), [2.0, 2.0]).unwrap();
        let e = validate(&s).unwrap_err();
        assert_eq!(e.reason, "the outline would cross itself");
        assert!(e.at[0] >= 0.0 && e.at[0] <= 2.0, "{e:?}");
    }

    #[test]
    fn short_rings_duplicates_and_stray_holes_are_refused() {
        let e = validate(&shape(ShapeKind::Polygon, vec![vec![[0.0, 0.0], [1.0, 0.0]]])).unwrap_err();
        assert_eq!(e.reason, "a polygon's outline needs at least 3 vertices");
        let e = validate(&shape(ShapeKind::Line, vec![vec![[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]]])).unwrap_err();
        assert_eq!(e.reason, "two neighbouring vertices at the same place");
        let outer = vec![[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]];
        let hole_in = vec![[1.0, 1.0], [2.0, 1.0], [2.0, 2.0]];
        assert_eq!(validate(&shape(ShapeKind::Polygon, vec![outer.clone(), hole_in.clone()])), Ok(()));
        let hole_out = vec![[5.0, 5.0], [6.0, 5.0], [6.0, 6.0]];
        assert_eq!(
            validate(&shape(ShapeKind::Polygon, vec![outer.clone(), hole_out])).unwrap_err().reason,
            "a hole would lie outside its outline"
        );
        let crossing = vec![[3.0, 3.0], [5.0, 3.0], [5.0, 3.5]];
        assert_eq!(
            validate(&shape(ShapeKind::Polygon, vec![outer, hole_in, crossing])).unwrap_err().reason,
            "a hole would cross the outline"
        );
        // A line may cross itself (a loop road); a polygon may not backtrack onto its own edge.
        assert_eq!(
            validate(&shape(ShapeKind::Line, vec![vec![[0.0, 0.0], [2.0, 2.0], [2.0, 0.0], [0.0, 2.0]]])),
            Ok(())
        );
        let spike = vec![[0.0, 0.0], [2.0, 0.0], [1.0, 0.0], [1.0, 1.0]];
        assert!(validate(&shape(ShapeKind::Polygon, vec![spike])).is_err());
    }

    #[test]
    fn a_county_sized_ring_is_checked_by_the_sweep() {
        // 20,000 vertices on a circle: valid, and found valid without comparing every pair.
        let ring: Vec<[f64; 2]> = (0..20_000)
            .map(|i| {
                let t = i as f64 / 20_000.0 * std::f64::consts::TAU;
                [121.0 + 0.1 * t.cos(), 31.5 + 0.1 * t.sin()]
            })
            .collect();
        assert_eq!(validate(&shape(ShapeKind::Polygon, vec![ring])), Ok(()));
    }
}
