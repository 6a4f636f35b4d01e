//! The measuring tool's window (distance, area, undo, clear, copy) and its path on the map.

use bevy_egui::egui::{self, Color32, Stroke};

use crate::app::state::Measure;
use crate::app::view::MapView;
use crate::proj::LocalFrame;

/// The figures, live, with *Undo*, *Clear* and *Copy*; closing the window ends measuring.
pub(super) fn measure_window(ctx: &egui::Context, measure: &mut Measure) {
    if !measure.active {
        return;
    }
    let mut open = true;
    egui::Window::new("📏 測量 Measure").open(&mut open).default_width(280.0).resizable(false).show(ctx, |ui| {
        ui.weak("Click the map to add points; Backspace takes the last back. Geodesic, on the WGS84 ellipsoid.");
        if measure.points.len() < 2 {
            ui.label("Click two points or more.");
        } else {
            ui.strong(format!("距離 Distance: {}", crate::spatial::measure::format_length(measure.length_m())));
            if measure.points.len() >= 3 {
                ui.strong(format!("面積 Area: {}", crate::spatial::measure::format_area(measure.area_m2())))
                    .on_hover_text("of the polygon the points enclose, closed back to the first");
            }
        }
        ui.horizontal(|ui| {
            if ui.add_enabled(!measure.points.is_empty(), egui::Button::new("↶ Undo")).clicked() {
                measure.points.pop();
            }
            if ui.add_enabled(!measure.points.is_empty(), egui::Button::new("Clear")).clicked() {
                measure.points.clear();
            }
            if ui.add_enabled(measure.points.len() >= 2, egui::Button::new("📋 Copy")).clicked() {
                ui.ctx().copy_text(measure.figures());
            }
        });
    });
    if !open {
        measure.active = false;
    }
}

/// The measured path on the map, and from three points the fainter edge that closes the area.
pub(super) fn draw_measure(
    ctx: &egui::Context,
    central: egui::Rect,
    map: &MapView,
    frame: &LocalFrame,
    measure: &Measure,
) {
    if !measure.active || measure.points.is_empty() {
        return;
    }
    let painter = ctx
        .layer_painter(egui::LayerId::new(egui::Order::Foreground, egui::Id::new("measure")))
        .with_clip_rect(central);
    let screen: Vec<egui::Pos2> = measure
        .points
        .iter()
        .map(|&(lon, lat)| {
            let (x, y) = frame.project(lon, lat);
            let s = map.world_to_screen(bevy::math::DVec2::new(x, y));
            egui::pos2(s.x, s.y)
        })
        .collect();
    let ink = Color32::from_rgb(0xd0, 0x30, 0x20);
    if screen.len() >= 3 {
        painter.line_segment([screen[screen.len() - 1], screen[0]], Stroke::new(1.5, ink.gamma_multiply(0.5)));
    }
    painter.add(egui::Shape::line(screen.clone(), Stroke::new(2.5, ink)));
    for p in &screen {
        painter.circle(*p, 4.0, Color32::WHITE, Stroke::new(2.0, ink));
    }
}
