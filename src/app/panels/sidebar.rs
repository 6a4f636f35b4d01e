//! The left panel: search, and the layers with their swatches, visibility and opacity; the
//! presenter's compact legend draws the same swatches.

use bevy::prelude::*;
use bevy_egui::egui;
use egui::{Align2, Color32, Sense, Stroke, Ui};

use super::{PanelState, color32};
use crate::app::state::{AtlasCommand, AtlasRes, Lang, LayerId, LayerView};
use crate::geodata::LayerMeta;

pub(super) fn search_panel(
    ui: &mut Ui,
    res: &AtlasRes,
    view: &LayerView,
    state: &mut PanelState,
    cmds: &mut MessageWriter<AtlasCommand>,
) {
    ui.heading("搜尋 Search");
    let edit = ui.add(
        egui::TextEdit::singleline(&mut state.search)
            .hint_text("太倉港 / 太仓港 / Taicang port …")
            .desired_width(f32::INFINITY),
    );
    let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    if state.search.trim().is_empty() {
        return;
    }
    let hits = res.atlas.gazetteer.search(&state.search, res.atlas.matcher.fold());
    if hits.is_empty() {
        ui.weak("no place matches");
    }
    for (n, &i) in hits.iter().take(12).enumerate() {
        let p = &res.atlas.gazetteer.places[i];
        let name = view.lang.pick(&p.name_zh_hant, &p.name_zh_hans, &p.name_en);
        let r = ui.selectable_label(false, format!("{name}  ·  {}", p.name_en));
        if r.clicked() || (enter && n == 0) {
            cmds.write(AtlasCommand::FocusPlace(p.id.clone()));
        }
    }
}

pub(super) fn layers_panel(ui: &mut Ui, res: &AtlasRes, view: &mut LayerView) {
    ui.heading("圖層 Layers");
    for (i, (layer, meta)) in res.atlas.layers.iter().map(|l| (l, &l.meta)).enumerate() {
        ui.horizontal(|ui| {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(18.0, 14.0), Sense::hover());
            let [sr, sg, sb] = meta.stroke_rgb();
            let stroke = Color32::from_rgb(sr, sg, sb);
            // The swatch draws what the layer mostly holds: an area, a line or a point symbol.
            match dominant_kind(layer) {
                SwatchKind::Area => {
                    ui.painter().rect_filled(rect, 2.0, color32(meta));
                    ui.painter().rect_stroke(rect, 2.0, Stroke::new(1.0, stroke), egui::StrokeKind::Inside);
                }
                SwatchKind::Line => {
                    ui.painter().line_segment([rect.left_bottom(), rect.right_top()], Stroke::new(3.0, color32(meta)));
                }
                SwatchKind::Point => {
                    ui.painter().circle(rect.center(), 5.0, color32(meta), Stroke::new(1.5, Color32::WHITE));
                }
            }
            let title = view_title(view.lang, meta);
            if let Some(state) = view.get_mut(LayerId(i)) {
                ui.checkbox(&mut state.visible, title);
                ui.weak(if state.shown { format!("{}", layer.features.len()) } else { "…".into() });
            }
        });
        if let Some(state) = view.get_mut(LayerId(i)) {
            ui.add(egui::Slider::new(&mut state.opacity, 0.0..=1.0).text("opacity"));
        }
    }
    ui.add_space(6.0);
    ui.weak("Hatched areas, dashed lines and hollow markers are schematic: no published outline or position.");
}

enum SwatchKind {
    Area,
    Line,
    Point,
}

fn dominant_kind(layer: &crate::geodata::Layer) -> SwatchKind {
    use geo::Geometry as G;
    let (mut a, mut l, mut p) = (0, 0, 0);
    for f in &layer.features {
        match f.geometry {
            G::Polygon(_) | G::MultiPolygon(_) | G::Rect(_) | G::Triangle(_) => a += 1,
            G::LineString(_) | G::MultiLineString(_) | G::Line(_) => l += 1,
            _ => p += 1,
        }
    }
    if a >= l && a >= p {
        SwatchKind::Area
    } else if l >= p {
        SwatchKind::Line
    } else {
        SwatchKind::Point
    }
}

pub(super) fn view_title(lang: Lang, meta: &LayerMeta) -> String {
    lang.pick(&meta.title_zh_hant, &meta.title_zh_hans, &meta.title_en).to_string()
}

/// A compact legend for presentations and slides: every visible layer's swatch and title.
pub(super) fn legend(ctx: &egui::Context, res: &AtlasRes, view: &LayerView) {
    egui::Area::new(egui::Id::new("presenter_legend"))
        .anchor(Align2::RIGHT_TOP, [-12.0, 12.0])
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                for (i, (layer, meta)) in res.atlas.layers.iter().map(|l| (l, &l.meta)).enumerate() {
                    if !view.is_visible(LayerId(i)) {
                        continue;
                    }
                    ui.horizontal(|ui| {
                        let (rect, _) = ui.allocate_exact_size(egui::vec2(16.0, 12.0), Sense::hover());
                        let painter = ui.painter();
                        match dominant_kind(layer) {
                            SwatchKind::Area => {
                                painter.rect_filled(rect, 2.0, color32(meta));
                            }
                            SwatchKind::Line => {
                                painter.line_segment(
                                    [rect.left_bottom(), rect.right_top()],
                                    Stroke::new(3.0, color32(meta)),
                                );
                            }
                            SwatchKind::Point => {
                                painter.circle_filled(rect.center(), 5.0, color32(meta));
                            }
                        }
                        ui.label(view_title(view.lang, meta));
                    });
                }
                ui.weak("hatched / dashed / hollow: schematic");
            });
        });
}
