//! The problems window (what could not be used, then warnings, each under the file it came
//! from), and the hover tooltip.

use bevy_egui::egui;
use egui::{Align2, Color32, RichText};

use crate::app::state::{AtlasRes, Lang, LayerView, Problems, Selection};
use crate::diagnostic::{Diagnostic, Severity};

/// Diagnostics of one severity grouped by file, files in the order they were first reported.
pub fn by_file(list: &[&Diagnostic]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for d in list {
        let file = d.file.display().to_string();
        match out.iter_mut().find(|(f, _)| *f == file) {
            Some((_, items)) => items.push(d.located_message()),
            None => out.push((file, vec![d.located_message()])),
        }
    }
    out
}

pub(super) fn problems_window(ctx: &egui::Context, problems: &mut Problems) {
    if problems.is_empty() || !problems.open {
        return;
    }
    let mut open = problems.open;
    let mut clear = false;
    let errors: Vec<&Diagnostic> = problems.list.iter().filter(|d| d.severity == Severity::Error).collect();
    let warnings: Vec<&Diagnostic> = problems.list.iter().filter(|d| d.severity == Severity::Warning).collect();
    egui::Window::new("⚠ Problems").open(&mut open).default_width(560.0).anchor(Align2::CENTER_TOP, [0.0, 60.0]).show(
        ctx,
        |ui| {
            egui::ScrollArea::vertical().max_height(320.0).show(ui, |ui| {
                let sections = [
                    (
                        &errors,
                        "Could not be used",
                        "Left out; everything else is loaded and nothing on disk was changed.",
                        Color32::from_rgb(150, 30, 20),
                    ),
                    (&warnings, "Warnings", "Used, with these caveats.", Color32::from_rgb(140, 90, 0)),
                ];
                for (list, title, note, color) in sections {
                    if list.is_empty() {
                        continue;
                    }
                    ui.label(RichText::new(title).strong().color(color));
                    ui.weak(note);
                    for (file, items) in by_file(list) {
                        ui.label(RichText::new(file).monospace().strong());
                        for item in items {
                            ui.label(RichText::new(format!("  {item}")).monospace().color(color));
                        }
                    }
                    ui.add_space(6.0);
                }
            });
            if ui.button("Clear").clicked() {
                clear = true;
            }
        },
    );
    problems.open = open && !clear;
    if clear {
        problems.list.clear();
    }
}

/// A tooltip beside the pointer naming the hovered place, its kind and how often the documents
/// mention it.
pub(super) fn hover_tooltip(ctx: &egui::Context, res: &AtlasRes, view: &LayerView, selection: &Selection) {
    let (Some(r), Some(pos)) = (selection.hovered, ctx.input(|i| i.pointer.hover_pos())) else { return };
    let Some(f) = res.atlas.feature(r) else { return };
    let mentions = res.atlas.mentions_of(&f.id).len();
    egui::Area::new(egui::Id::new("map_hover_tooltip"))
        .order(egui::Order::Tooltip)
        .fixed_pos(pos + egui::vec2(16.0, 16.0))
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.strong(view.lang.pick(&f.name_zh_hant, &f.name_zh_hans, &f.name_en));
                if view.lang != Lang::En {
                    ui.label(&f.name_en);
                }
                let acc = if f.accuracy.is_schematic() { "schematic".to_string() } else { f.accuracy.to_string() };
                ui.weak(format!("{} · {acc} · {mentions} mentions", f.kind));
            });
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Position;

    #[test]
    fn problems_group_under_their_files_in_report_order() {
        let a = Diagnostic::error("b.geojson", Position::Feature(3, None), "no geometry");
        let b = Diagnostic::error("a.geojson", Position::LineColumn(2, 5), "invalid JSON");
        let c = Diagnostic::error("b.geojson", Position::File, "tessellation failed");
        let groups = by_file(&[&a, &b, &c]);
        assert_eq!(
            groups,
            vec![
                ("b.geojson".to_string(), vec!["feature #3: no geometry".to_string(), "tessellation failed".into()]),
                ("a.geojson".to_string(), vec!["line 2, column 5: invalid JSON".to_string()]),
            ]
        );
    }
}
