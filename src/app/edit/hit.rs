//! Which handle of the edited shape is under the pointer, in screen space: plain functions the
//! pointer system and the overlay share, tested without Bevy.

use bevy::math::Vec2;

use crate::edit::shape::{Shape, VertexPath};

/// A grip on the edited shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handle {
    /// An existing vertex: drag moves it, click selects it (Delete removes it).
    Vertex(VertexPath),
    /// The middle of the edge that starts at this vertex: dragging it inserts a vertex there.
    Midpoint(VertexPath),
}

/// Screen radius within which a handle is hit.
pub const GRIP_PX: f32 = 8.0;

/// Midpoint handles only on edges at least this long on screen, so short edges stay clickable.
pub const MIN_EDGE_PX: f32 = 3.0 * GRIP_PX;

/// The midpoints worth a handle: on edges long enough on screen.
pub fn midpoints(shape: &Shape, to_screen: &impl Fn([f64; 2]) -> Vec2) -> Vec<(VertexPath, Vec2)> {
    shape
        .edges()
        .filter_map(|(at, a, b)| {
            let (a, b) = (to_screen(a), to_screen(b));
            (a.distance(b) >= MIN_EDGE_PX).then_some((at, (a + b) * 0.5))
        })
        .collect()
}

/// The handle under `cursor`: the nearest vertex within [`GRIP_PX`], else the nearest midpoint.
pub fn handle_at(shape: &Shape, to_screen: impl Fn([f64; 2]) -> Vec2, cursor: Vec2) -> Option<Handle> {
    let nearest = |it: &mut dyn Iterator<Item = (VertexPath, Vec2)>| {
        it.map(|(at, p)| (p.distance(cursor), at))
            .filter(|(d, _)| *d <= GRIP_PX)
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, at)| at)
    };
    if let Some(v) = nearest(&mut shape.vertices().map(|(at, v)| (at, to_screen(v)))) {
        return Some(Handle::Vertex(v));
    }
    nearest(&mut midpoints(shape, &to_screen).into_iter()).map(Handle::Midpoint)
}

/// Whether two clicks make a double click (finishing a line or polygon).
pub fn double_click(first: (Vec2, f64), second: (Vec2, f64)) -> bool {
    second.1 - first.1 <= 0.4 && first.0.distance(second.0) <= GRIP_PX
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::shape::ShapeKind;

    #[test]
    fn vertices_win_then_midpoints_of_long_edges() {
        let shape =
            Shape { kind: ShapeKind::Polygon, parts: vec![vec![vec![[0.0, 0.0], [100.0, 0.0], [100.0, 10.0]]]] };
        let screen = |p: [f64; 2]| Vec2::new(p[0] as f32, p[1] as f32);
        assert_eq!(handle_at(&shape, screen, Vec2::new(96.0, 3.0)), Some(Handle::Vertex(VertexPath::new(0, 0, 1))));
        assert_eq!(handle_at(&shape, screen, Vec2::new(51.0, 2.0)), Some(Handle::Midpoint(VertexPath::new(0, 0, 0))));
        // The 10 px edge is too short for a midpoint handle; the closing edge is long enough.
        assert_eq!(midpoints(&shape, &screen).len(), 2);
        assert_eq!(handle_at(&shape, screen, Vec2::new(30.0, 30.0)), None);
        assert!(double_click((Vec2::ZERO, 1.0), (Vec2::new(2.0, 2.0), 1.3)));
        assert!(!double_click((Vec2::ZERO, 1.0), (Vec2::new(2.0, 2.0), 1.6)));
    }
}
