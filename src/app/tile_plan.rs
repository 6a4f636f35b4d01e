//! Which tiles to show and which to ask for: plain functions of what the view needs and what is
//! loaded, failed or on its way, so the decisions are tested without a renderer or a network.
//! Shared by the raster basemap and the vector tile layers; imports no plugin.

use std::collections::HashSet;

use bevy::math::DVec2;

use crate::tiles::TileId;

/// A failed tile is not asked for again for this long (seconds), doubling with each failure in a
/// row up to `RETRY_MAX_S`, unless the user retries: a server that is down gets a few requests
/// an hour per visible tile, not two a minute.
pub const RETRY_AFTER_S: f64 = 30.0;
pub const RETRY_MAX_S: f64 = 480.0;

/// Seconds before a tile that failed `in_row` times in a row is asked for again.
pub fn retry_wait(in_row: u32) -> f64 {
    (RETRY_AFTER_S * 2f64.powi(in_row.saturating_sub(1).min(16) as i32)).min(RETRY_MAX_S)
}

/// Where, besides the current view, tiles are worth fetching ahead: a scripted flight's landing
/// view, the target of an easing camera, or (once the current view is complete) a presenter's
/// next step.
pub fn ahead(
    heading: Option<(DVec2, f64)>,
    easing_to: Option<(DVec2, f64)>,
    upcoming: Option<(DVec2, f64)>,
    view_complete: bool,
) -> Option<(DVec2, f64)> {
    heading.or(easing_to).or(upcoming.filter(|_| view_complete))
}

/// The tiles a frame deals with.
#[derive(Debug, Clone, Default)]
pub struct ViewTiles {
    /// The current view's tiles, nearest the centre first.
    pub needed: Vec<TileId>,
    /// During a presenter flight: the view passed through, two zoom levels coarser. Its tiles
    /// replace the current view's in the requests, so the destination is not queued behind
    /// tiles that scroll away.
    pub passing: Option<Vec<TileId>>,
    /// Where the camera is going (see [`ahead`]).
    pub destination: Vec<TileId>,
}

/// What the tile state looks like to the planner.
pub trait TileState {
    /// On the GPU, ready to show.
    fn loaded(&self, t: &TileId) -> bool;
    /// Failed recently; not to be asked for until its back-off ends.
    fn failed(&self, t: &TileId) -> bool;
    /// Arrived from the tile thread, waiting for its upload.
    fn arrived(&self, t: &TileId) -> bool;
}

/// The frame's decision: tiles to show and tiles to ask the tile thread for, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TilePlan {
    pub show: HashSet<TileId>,
    pub want: Vec<TileId>,
}

/// Shows loaded tiles of the view, stands a loaded coarser tile (up to four levels up) in for a
/// missing one, and asks for the view's missing tiles, then a coarser stand-in where a tile
/// failed (the cache often has it offline), then the passing view's and the destination's.
pub fn plan(view: &ViewTiles, state: &impl TileState) -> TilePlan {
    let mut show = HashSet::new();
    let mut want: Vec<TileId> = Vec::new();
    let mut stand_ins: Vec<TileId> = Vec::new();
    for &t in &view.needed {
        if state.loaded(&t) {
            show.insert(t);
            continue;
        }
        if !state.failed(&t) && !state.arrived(&t) && view.passing.is_none() {
            want.push(t);
        }
        let mut p = t;
        for _ in 0..4 {
            if p.z == 0 {
                break;
            }
            p = TileId { z: p.z - 1, x: p.x / 2, y: p.y / 2 };
            if state.loaded(&p) {
                show.insert(p);
                break;
            }
            if state.failed(&t) && !state.failed(&p) {
                if !stand_ins.contains(&p) {
                    stand_ins.push(p);
                }
                break;
            }
        }
    }
    want.extend(stand_ins);
    let have = |t: &TileId| state.loaded(t) || state.failed(t) || state.arrived(t);
    for t in view.passing.iter().flatten().chain(&view.destination) {
        if !have(t) && !want.contains(t) {
            want.push(*t);
        }
    }
    TilePlan { show, want }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct State {
        loaded: HashSet<TileId>,
        failed: HashSet<TileId>,
        arrived: HashSet<TileId>,
    }

    impl TileState for State {
        fn loaded(&self, t: &TileId) -> bool {
            self.loaded.contains(t)
        }
        fn failed(&self, t: &TileId) -> bool {
            self.failed.contains(t)
        }
        fn arrived(&self, t: &TileId) -> bool {
            self.arrived.contains(t)
        }
    }

    fn t(z: u8, x: u32, y: u32) -> TileId {
        TileId { z, x, y }
    }

    #[test]
    fn failed_tiles_back_off_to_a_few_requests_an_hour() {
        let waits: Vec<f64> = (1..=7).map(retry_wait).collect();
        assert_eq!(waits, vec![30.0, 60.0, 120.0, 240.0, 480.0, 480.0, 480.0]);
        assert_eq!(retry_wait(u32::MAX), RETRY_MAX_S);
        // An hour of a dead server costs each visible tile 11 requests, not 120.
        let (mut time, mut n) = (0.0, 0);
        while time < 3600.0 {
            n += 1;
            time += retry_wait(n);
        }
        assert_eq!(n, 11);
    }

    #[test]
    fn loaded_tiles_show_missing_ones_are_asked_for_and_a_coarser_one_stands_in() {
        let mut s = State::default();
        s.loaded.insert(t(10, 5, 5));
        s.loaded.insert(t(9, 3, 2));
        s.arrived.insert(t(10, 7, 7));
        let view = ViewTiles { needed: vec![t(10, 5, 5), t(10, 6, 5), t(10, 7, 7)], ..Default::default() };
        let p = plan(&view, &s);
        assert_eq!(p.want, vec![t(10, 6, 5)], "loaded and arrived tiles are not asked for again");
        assert!(p.show.contains(&t(10, 5, 5)) && p.show.contains(&t(9, 3, 2)), "{:?}", p.show);
    }

    #[test]
    fn a_failed_tile_asks_for_its_parent_and_flights_fetch_the_destination_not_the_way() {
        let mut s = State::default();
        s.failed.insert(t(12, 100, 100));
        let view = ViewTiles {
            needed: vec![t(12, 100, 100)],
            passing: None,
            destination: vec![t(12, 400, 400), t(12, 100, 100)],
        };
        assert_eq!(plan(&view, &s).want, vec![t(11, 50, 50), t(12, 400, 400)]);
        // In flight: the view's own tiles wait; the coarse passing view and the destination go.
        let flying =
            ViewTiles { needed: vec![t(12, 1, 1)], passing: Some(vec![t(10, 0, 0)]), destination: vec![t(12, 9, 9)] };
        assert_eq!(plan(&flying, &State::default()).want, vec![t(10, 0, 0), t(12, 9, 9)]);
    }

    #[test]
    fn the_next_step_is_fetched_only_once_the_view_is_complete() {
        let here = (DVec2::ZERO, 10.0);
        let next = (DVec2::ONE, 5.0);
        assert_eq!(ahead(None, None, Some(next), false), None);
        assert_eq!(ahead(None, None, Some(next), true), Some(next));
        assert_eq!(ahead(Some(here), None, Some(next), true), Some(here), "a flight's landing first");
        assert_eq!(ahead(None, Some(here), Some(next), true), Some(here));
    }
}
