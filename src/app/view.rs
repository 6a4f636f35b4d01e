//! Where the map looks and how input reaches it: the shared map geometry every plugin reads.
//! Imports no plugin; the camera plugin drives it, others read it.

use bevy::math::DVec2;
use bevy::prelude::*;
use geo::Rect;

use crate::proj::LocalFrame;

/// Closest and farthest zoom, in metres per pixel.
pub const MIN_SCALE: f64 = 0.5;
pub const MAX_SCALE: f64 = 5000.0;

/// Where the map looks, and where it is easing to.
#[derive(Resource, Debug, Clone)]
pub struct MapView {
    /// Centre in local metres.
    pub center: DVec2,
    /// Metres per logical pixel.
    pub scale: f64,
    pub target_center: DVec2,
    pub target_scale: f64,
    /// The part of the window the map occupies (logical pixels, top-left origin), i.e. the
    /// window minus the egui panels.
    pub viewport: bevy::math::Rect,
    /// The last framing asked for (lon/lat bounds, padding), kept until the user pans or zooms
    /// so it can be re-applied when the viewport changes size (first layout, window resize).
    pub fit: Option<(Rect<f64>, f32)>,
    /// Where a scripted flight (a presenter step) will land, centre and scale. Such a flight
    /// moves `target_*` with the camera, so this is the only place its end is known; the basemap
    /// fetches tiles there ahead of arrival.
    pub heading: Option<(DVec2, f64)>,
    /// The view of the presenter's next step, fetched for once the current view is complete.
    pub upcoming: Option<(DVec2, f64)>,
    /// `viewport` has been set from a real layout (until then it is a guess).
    pub viewport_known: bool,
}

impl Default for MapView {
    fn default() -> Self {
        MapView {
            center: DVec2::ZERO,
            scale: 100.0,
            target_center: DVec2::ZERO,
            target_scale: 100.0,
            viewport: bevy::math::Rect::new(0.0, 0.0, 1280.0, 800.0),
            fit: None,
            heading: None,
            upcoming: None,
            viewport_known: false,
        }
    }
}

impl MapView {
    /// Local metres under a window position (logical pixels), at the current view.
    pub fn screen_to_world(&self, p: Vec2) -> DVec2 {
        let c = self.viewport.center();
        self.center + DVec2::new((p.x - c.x) as f64, -(p.y - c.y) as f64) * self.scale
    }

    /// Window position (logical pixels) of local metres, at the current view.
    pub fn world_to_screen(&self, w: DVec2) -> Vec2 {
        let c = self.viewport.center();
        let d = (w - self.center) / self.scale;
        Vec2::new(c.x + d.x as f32, c.y - d.y as f32)
    }

    /// Sets the target so `bounds` (local metres) fills the viewport with `padding_px` to spare.
    pub fn fit_local(&mut self, min: DVec2, max: DVec2, padding_px: f32, min_scale: f64) {
        let size = self.viewport.size() - Vec2::splat(2.0 * padding_px);
        let size = size.max(Vec2::splat(50.0));
        let span = (max - min).max(DVec2::splat(1.0));
        let scale = (span.x / size.x as f64).max(span.y / size.y as f64);
        self.target_scale = scale.clamp(min_scale.max(MIN_SCALE), MAX_SCALE);
        self.target_center = (min + max) / 2.0;
    }

    /// Fits lon/lat bounds.
    pub fn fit_lonlat(&mut self, frame: &LocalFrame, r: Rect<f64>, padding_px: f32) {
        self.fit = Some((r, padding_px));
        let (x0, y0) = frame.project(r.min().x, r.min().y);
        let (x1, y1) = frame.project(r.max().x, r.max().y);
        // A single point or a tiny site still gets a neighbourhood around it.
        self.fit_local(DVec2::new(x0, y0), DVec2::new(x1, y1), padding_px, 8.0);
    }

    /// Zooms by `factor` (>1 zooms out) keeping the world point under `anchor` fixed.
    pub fn zoom_about(&mut self, anchor: Vec2, factor: f64) {
        let c = self.viewport.center();
        let offset = DVec2::new((anchor.x - c.x) as f64, -(anchor.y - c.y) as f64);
        let world = self.target_center + offset * self.target_scale;
        let new_scale = (self.target_scale * factor).clamp(MIN_SCALE, MAX_SCALE);
        self.fit = None;
        self.target_center = world - offset * new_scale;
        self.target_scale = new_scale;
    }

    /// Moves view and target together (dragging must not lag behind the hand).
    pub fn pan_pixels(&mut self, delta: Vec2) {
        let d = DVec2::new(-delta.x as f64, delta.y as f64) * self.scale;
        self.fit = None;
        self.center += d;
        self.target_center += d;
    }

    /// Changes the viewport, re-applying a pending fit so it frames the real map area.
    pub fn set_viewport(&mut self, frame: &LocalFrame, vp: bevy::math::Rect) {
        if (vp.min - self.viewport.min).length() < 0.5 && (vp.max - self.viewport.max).length() < 0.5 {
            return;
        }
        self.viewport = vp;
        let first = !std::mem::replace(&mut self.viewport_known, true);
        if let Some((r, pad)) = self.fit {
            self.fit_lonlat(frame, r, pad);
            // The opening view appears framed, not easing in from a guessed window size (which
            // would also fetch basemap tiles for views nobody sees).
            if first {
                self.snap();
            }
        }
    }

    /// Jumps to the target without easing (screenshots, tests).
    pub fn snap(&mut self) {
        self.center = self.target_center;
        self.scale = self.target_scale;
    }

    /// Eases toward the target; returns whether anything moved.
    pub fn step(&mut self, dt: f64) -> bool {
        let k = 1.0 - (-dt * 10.0).exp();
        let ls = self.scale.ln() + (self.target_scale.ln() - self.scale.ln()) * k;
        let before = (self.center, self.scale);
        self.center += (self.target_center - self.center) * k;
        self.scale = ls.exp();
        if (self.target_center - self.center).length() < self.scale * 0.05 {
            self.center = self.target_center;
        }
        if (self.target_scale / self.scale - 1.0).abs() < 1e-3 {
            self.scale = self.target_scale;
        }
        before != (self.center, self.scale)
    }

    /// The lon/lat bounds of everything visible.
    pub fn visible_lonlat(&self, frame: &LocalFrame) -> Rect<f64> {
        let a = self.screen_to_world(self.viewport.min);
        let b = self.screen_to_world(self.viewport.max);
        let (x0, y0) = frame.unproject(a.x.min(b.x), a.y.min(b.y));
        let (x1, y1) = frame.unproject(a.x.max(b.x), a.y.max(b.y));
        Rect::new((x0, y0), (x1, y1))
    }
}

/// Whether egui owns the pointer / keyboard this frame (set by the panels plugin).
#[derive(Resource, Default, Debug, Clone, Copy)]
pub struct UiCapture {
    pub pointer: bool,
    pub keyboard: bool,
}

/// Mouse gesture state: a press that moves more than a few pixels is a drag, not a click.
#[derive(Resource, Default, Debug, Clone, Copy)]
pub struct PointerGesture {
    pub press: Option<Vec2>,
    pub dragging: bool,
    /// Set on the frame a press is released without dragging.
    pub clicked: Option<Vec2>,
    pub cursor: Option<Vec2>,
    /// A tool took this press (the editor dragging a vertex): the drag does not pan the map.
    /// Cleared when the button is released.
    pub held: bool,
}

/// The order of the map's work within a frame, so plugins can run before or after each other
/// without naming each other's systems.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MapSet {
    /// Pointer and keys move the view; the camera eases and is placed.
    Input,
    /// A presentation moves the view to its step (after input, so it wins).
    Present,
    /// Hover and click find features under the cursor, seeing this frame's gesture and view.
    Pick,
    /// Layers and basemap tiles follow the view and report their [`super::state::Readiness`].
    Content,
}

/// Depths of everything drawn on the map (2D, larger is nearer): each layer owns a band of
/// [`z::LAYER_BAND`], its styles sit inside the band, basemap tiles above the vector basemap,
/// the presenter's veil and the highlight overlays above every layer.
pub mod z {
    /// Depth units per layer; a layer's styles use offsets below this.
    pub const LAYER_BAND: f32 = 10.0;
    /// Raster basemap tiles, within the band of the last vector-basemap layer.
    pub const TILES_IN_BAND: f32 = 6.0;
    /// The dimming veil of a presentation step.
    pub const VEIL: f32 = 880.0;
    /// The hover outline.
    pub const HOVER: f32 = 890.0;
    /// The selection and a step's emphasised places.
    pub const SELECTED: f32 = 900.0;

    /// Depth of a layer's style.
    pub fn layer(layer: usize, style: f32) -> f32 {
        layer as f32 * LAYER_BAND + style
    }

    /// Depth of basemap tiles: just above the last vector-basemap layer, or under everything.
    pub fn tiles(last_basemap_layer: Option<usize>) -> f32 {
        match last_basemap_layer {
            Some(i) => layer(i, TILES_IN_BAND),
            None => -TILES_IN_BAND,
        }
    }
}

/// Asks the view to fit everything (initial view, Home key, the toolbar button).
#[derive(Message, Debug, Clone, Copy)]
pub struct ZoomToAll;

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> MapView {
        MapView { viewport: bevy::math::Rect::new(100.0, 0.0, 1100.0, 800.0), ..default() }
    }

    #[test]
    fn screen_world_round_trip() {
        let v = view();
        let p = Vec2::new(321.0, 456.0);
        assert!((v.world_to_screen(v.screen_to_world(p)) - p).length() < 1e-3);
        assert_eq!(v.screen_to_world(Vec2::new(600.0, 400.0)), DVec2::ZERO);
    }

    #[test]
    fn zoom_keeps_the_point_under_the_cursor() {
        let mut v = view();
        let anchor = Vec2::new(900.0, 100.0);
        let before = v.screen_to_world(anchor);
        v.zoom_about(anchor, 0.5);
        for _ in 0..200 {
            v.step(1.0 / 60.0);
        }
        assert!((v.scale - 50.0).abs() < 1e-6);
        assert!((v.screen_to_world(anchor) - before).length() < 1e-6 * 100.0);
    }

    #[test]
    fn the_opening_fit_appears_at_once_and_later_ones_ease() {
        let frame = LocalFrame::default();
        let taicang = Rect::new((120.9, 31.3), (121.4, 31.8));
        let mut v = MapView::default();
        v.fit_lonlat(&frame, taicang, 30.0);
        // The first real layout re-frames for the true map area and jumps there.
        v.set_viewport(&frame, bevy::math::Rect::new(280.0, 24.0, 1000.0, 880.0));
        assert_eq!((v.center, v.scale), (v.target_center, v.target_scale));
        // A window resize afterwards eases.
        v.set_viewport(&frame, bevy::math::Rect::new(280.0, 24.0, 1600.0, 880.0));
        assert_ne!(v.scale, v.target_scale);
    }

    #[test]
    fn fit_frames_bounds_with_padding() {
        let mut v = view();
        v.fit_local(DVec2::new(-10_000.0, -2_000.0), DVec2::new(30_000.0, 2_000.0), 20.0, 1.0);
        // 40 km across 960 usable pixels.
        assert!((v.target_scale - 40_000.0 / 960.0).abs() < 1e-9);
        assert_eq!(v.target_center, DVec2::new(10_000.0, 0.0));
    }
}
