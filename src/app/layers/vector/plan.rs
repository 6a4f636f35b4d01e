//! The vector layer's decisions as plain functions: which zoom of tiles a scale wants, which tiles
//! cover a view, when to fly to a new source, which tiles to drop.

use geo::Rect;

use crate::tiles::{TileId, covering, zoom_for};

/// The data zoom for a view at `metres_per_px` (local Web Mercator metres per logical pixel):
/// vector tiles are drawn at 512 px a tile, as MapLibre and QGIS do, so one zoom coarser than a
/// raster tile at the same scale; clamped to the source's range (beyond its maximum, its
/// deepest tiles are over-zoomed).
///
/// ```
/// use port_atlas::app::layers::vector::plan::data_zoom;
/// // 10 ground metres per pixel around Suzhou is about 11.7 Web Mercator metres: zoom 13.
/// assert_eq!(data_zoom(11.7, 0, 14), 13);
/// assert_eq!(data_zoom(0.5, 9, 15), 15, "over-zoomed past the source's deepest tiles");
/// assert_eq!(data_zoom(2000.0, 9, 15), 9, "never coarser than the source has");
/// ```
pub fn data_zoom(metres_per_px: f64, min_zoom: u8, max_zoom: u8) -> u8 {
    zoom_for(metres_per_px * 2.0, 24).clamp(min_zoom, max_zoom.max(min_zoom))
}

/// Tiles at `z` covering the view, within the source's bounds when it has them, nearest the
/// centre first.
pub fn tiles_for(view: Rect<f64>, bounds: Option<[f64; 4]>, z: u8, limit: usize) -> Vec<TileId> {
    let mut b = [view.min().x, view.min().y, view.max().x, view.max().y];
    if let Some(s) = bounds {
        b = [b[0].max(s[0]), b[1].max(s[1]), b[2].min(s[2]), b[3].min(s[3])];
        if b[0] >= b[2] || b[1] >= b[3] {
            return vec![];
        }
    }
    // Web Mercator stops at ±85.05°.
    b[1] = b[1].max(-85.0);
    b[3] = b[3].min(85.0);
    covering(b, z, limit)
}

/// Whether opening a source should move the view to it: when none of it is in view, or it
/// would fill less than a thousandth of the view.
pub fn should_fly(view: Rect<f64>, source: [f64; 4]) -> bool {
    let [w, s, e, n] = source;
    let ix = (view.max().x.min(e) - view.min().x.max(w)).max(0.0);
    let iy = (view.max().y.min(n) - view.min().y.max(s)).max(0.0);
    let world = [-180.0, -85.0, 180.0, 85.0];
    // A source covering the world (no real bounds) is shown where the user is.
    if source == world || (e - w) >= 359.0 {
        return false;
    }
    ix * iy < view.width() * view.height() * 1e-3
}

/// Tiles to drop so the rest fit `budget` bytes: least recently shown first, never one shown
/// this frame.
pub fn evict(tiles: impl Iterator<Item = (TileId, u64, usize)>, budget: usize, frame: u64) -> Vec<TileId> {
    let mut all: Vec<(u64, TileId, usize)> = tiles.map(|(t, seen, b)| (seen, t, b)).collect();
    let mut total: usize = all.iter().map(|(_, _, b)| b).sum();
    if total <= budget {
        return vec![];
    }
    all.sort();
    let mut out = Vec::new();
    for (seen, t, b) in all {
        if total <= budget || seen >= frame {
            break;
        }
        total -= b;
        out.push(t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(x: u32) -> TileId {
        TileId { z: 14, x, y: 0 }
    }

    #[test]
    fn eviction_drops_the_longest_unseen_and_never_what_is_on_screen() {
        let tiles = vec![(t(1), 5, 100), (t(2), 9, 100), (t(3), 1, 100), (t(4), 10, 100)];
        assert_eq!(evict(tiles.clone().into_iter(), 400, 10), vec![]);
        assert_eq!(evict(tiles.clone().into_iter(), 250, 10), vec![t(3), t(1)]);
        // All shown this frame: nothing can go, even over budget.
        let now: Vec<_> = tiles.iter().map(|(t, _, b)| (*t, 10, *b)).collect();
        assert_eq!(evict(now.into_iter(), 100, 10), vec![]);
    }

    #[test]
    fn tiles_stay_inside_the_source_and_far_sources_call_the_view() {
        let view = Rect::new((121.0, 31.4), (121.3, 31.6));
        assert!(tiles_for(view, Some([100.0, 20.0, 101.0, 21.0]), 12, 100).is_empty());
        let inside = tiles_for(view, Some([121.1, 31.45, 121.15, 31.5]), 14, 100);
        let all = tiles_for(view, None, 14, 1000);
        assert!(!inside.is_empty() && inside.len() < all.len());
        assert!(should_fly(view, [100.0, 20.0, 101.0, 21.0]));
        assert!(!should_fly(view, [121.1, 31.45, 121.15, 31.5]));
        assert!(!should_fly(view, [-180.0, -85.0, 180.0, 85.0]), "a world source stays where the user is");
    }
}
