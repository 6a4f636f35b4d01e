//! Camera flights between presentation steps: ease in and out, zooming out over the middle so
//! both ends are on screen.

use bevy::math::DVec2;

/// How long a flight between steps takes.
pub const FLIGHT_SECONDS: f32 = 1.1;

/// A camera flight in local metres and metres per pixel.
#[derive(Debug, Clone, Copy)]
pub struct Flight {
    pub from: (DVec2, f64),
    pub to: (DVec2, f64),
    /// The widest zoom on the way, so both ends are on screen mid-flight.
    pub peak: f64,
    pub t: f32,
}

impl Flight {
    /// Position at time fraction `t` (0..1): ease in and out, zooming out over the middle.
    pub fn at(&self, t: f32) -> (DVec2, f64) {
        let t = t.clamp(0.0, 1.0) as f64;
        let e = if t < 0.5 { 4.0 * t * t * t } else { 1.0 - (-2.0 * t + 2.0).powi(3) / 2.0 };
        let center = self.from.0 + (self.to.0 - self.from.0) * e;
        let (l0, l1) = (self.from.1.ln(), self.to.1.ln());
        let bump = (self.peak.ln() - l0.max(l1)).max(0.0);
        let ls = l0 + (l1 - l0) * e + 4.0 * e * (1.0 - e) * bump;
        (center, ls.exp())
    }
}
