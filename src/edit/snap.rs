//! Snapping: a vertex being placed lands on a nearby vertex of a visible feature, else on the
//! nearest point of a nearby edge, so a corrected boundary meets its neighbour exactly.
//! Works in any plane (the app passes local metres, so the tolerance is a screen distance).

/// What the cursor snapped to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SnapKind {
    Vertex,
    Edge,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    pub at: [f64; 2],
    pub kind: SnapKind,
    pub distance: f64,
}

/// A polyline or ring to snap to (`closed`: its last vertex joins its first).
pub struct Target<'a> {
    pub points: &'a [[f64; 2]],
    pub closed: bool,
}

fn dist(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// The nearest point of segment `a`-`b` to `p`.
pub fn nearest_on_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
    use geo::{Closest, ClosestPoint, Coord, Line, Point};
    let line = Line::new(Coord { x: a[0], y: a[1] }, Coord { x: b[0], y: b[1] });
    match line.closest_point(&Point::new(p[0], p[1])) {
        Closest::Intersection(q) | Closest::SinglePoint(q) => [q.x(), q.y()],
        Closest::Indeterminate => a,
    }
}

/// The best snap within `tolerance` of `p`: any vertex beats any edge, then the nearest wins.
pub fn snap<'a>(p: [f64; 2], tolerance: f64, targets: impl IntoIterator<Item = Target<'a>>) -> Option<Snap> {
    let mut vertex: Option<Snap> = None;
    let mut edge: Option<Snap> = None;
    let better = |best: &Option<Snap>, d: f64| d <= tolerance && best.is_none_or(|b| d < b.distance);
    for t in targets {
        let n = t.points.len();
        for (i, &v) in t.points.iter().enumerate() {
            let d = dist(p, v);
            if better(&vertex, d) {
                vertex = Some(Snap { at: v, kind: SnapKind::Vertex, distance: d });
            }
            let last = if t.closed && n >= 3 { n } else { n.saturating_sub(1) };
            if i < last {
                let q = nearest_on_segment(p, v, t.points[(i + 1) % n]);
                let d = dist(p, q);
                if better(&edge, d) {
                    edge = Some(Snap { at: q, kind: SnapKind::Edge, distance: d });
                }
            }
        }
    }
    vertex.or(edge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vertices_beat_edges_and_nothing_snaps_beyond_the_tolerance() {
        let square = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        let t = || [Target { points: &square, closed: true }];
        // Near a corner: the corner, although the edge is nearer.
        let s = snap([9.0, 0.5], 2.0, t()).unwrap();
        assert_eq!((s.at, s.kind), ([10.0, 0.0], SnapKind::Vertex));
        // Mid-edge, including the closing edge from the last vertex back to the first.
        let s = snap([0.5, 5.0], 2.0, t()).unwrap();
        assert_eq!((s.at, s.kind), ([0.0, 5.0], SnapKind::Edge));
        assert_eq!(snap([5.0, 5.0], 2.0, t()), None);
        // An open line has no closing edge.
        assert_eq!(snap([0.5, 5.0], 2.0, [Target { points: &square, closed: false }]), None);
    }
}
