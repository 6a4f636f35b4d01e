//! P in a presentation: the current view saved as a slide at twice the window's resolution.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;

use super::Presenter;
use crate::app::png::save_png;

/// P in a presentation: the window doubled for a capture, and what to restore afterwards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct SlideCapture {
    /// The window's physical size and scale-factor override before the capture.
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) scale_factor: Option<f32>,
    /// Frames waited so far for the doubled window to lay out.
    pub(super) frames: u32,
}

/// Frames to wait after doubling the window so the UI and the map have re-laid out.
const SLIDE_SETTLE_FRAMES: u32 = 4;

/// P in a presentation: doubles the window's pixel density, captures the frame (map, legend,
/// caption with its source line) as `port-atlas-slide-N.png` in the working folder, and restores
/// the window.
pub(super) fn slide_export(
    mut commands: Commands,
    mut p: ResMut<Presenter>,
    mut window: Single<&mut Window, With<PrimaryWindow>>,
) {
    use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
    if p.export_slide && p.slide.is_none() {
        p.export_slide = false;
        let r = &window.resolution;
        let before = SlideCapture {
            width: r.physical_width(),
            height: r.physical_height(),
            scale_factor: r.scale_factor_override(),
            frames: 0,
        };
        let base = before.scale_factor.unwrap_or(r.scale_factor());
        window.resolution.set_physical_resolution(before.width * 2, before.height * 2);
        window.resolution.set_scale_factor_override(Some(base * 2.0));
        p.slide = Some(before);
        return;
    }
    let Some(slide) = p.slide.as_mut() else { return };
    if slide.frames > SLIDE_SETTLE_FRAMES {
        return; // waiting for the capture
    }
    slide.frames += 1;
    if slide.frames <= SLIDE_SETTLE_FRAMES {
        return;
    }
    let SlideCapture { width: w, height: h, scale_factor: sf, .. } = *slide;
    let path = std::path::PathBuf::from(format!("port-atlas-slide-{}.png", p.index + 1));
    commands.spawn(Screenshot::primary_window()).observe(
        move |captured: On<ScreenshotCaptured>,
              mut p: ResMut<Presenter>,
              mut window: Single<&mut Window, With<PrimaryWindow>>| {
            p.status = Some(match save_png(&captured.image, &path) {
                Ok(()) => format!("slide saved: {}", path.display()),
                Err(e) => format!("{}: cannot save the slide: {e}", path.display()),
            });
            window.resolution.set_physical_resolution(w, h);
            window.resolution.set_scale_factor_override(sf);
            p.slide = None;
        },
    );
}
