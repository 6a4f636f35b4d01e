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
    // Thousands of places (the regional table, a planner's parcels): searched when the query or
    // the atlas changes, not every frame.
    let generation = state.atlas_generation;
    let fresh = state.search_hits.as_ref().is_some_and(|(q, g, _)| *q == state.search && *g == generation);
    if !fresh {
        let hits = res.atlas.gazetteer.search(&state.search, res.atlas.matcher.fold());
        state.search_hits = Some((state.search.clone(), generation, hits));
    }
    let hits: &[usize] = state.search_hits.as_ref().map_or(&[], |(_, _, h)| h);
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

/// Search hits among the vector tile features on screen ("features in view"), below the
/// places: a click selects the feature and centres it.
pub(super) fn search_in_view(
    ui: &mut Ui,
    res: &AtlasRes,
    vl: &crate::app::layers::vector::VectorLayers,
    vp: &mut crate::app::layers::vector::pick::VectorPick,
    map: &mut crate::app::view::MapView,
    state: &mut PanelState,
) {
    if state.search.trim().is_empty() || vl.layers.is_empty() {
        return;
    }
    let generation = vl.generation;
    let fresh = state.vector_hits.as_ref().is_some_and(|(q, g, _)| *q == state.search && *g == generation);
    if !fresh {
        let hits = crate::app::layers::vector::pick::search_in_view(vl, &res.frame, &state.search, 30);
        state.vector_hits = Some((state.search.clone(), generation, hits));
    }
    let Some((_, _, hits)) = &state.vector_hits else { return };
    if hits.is_empty() {
        return;
    }
    ui.weak(format!("在畫面中 In view: {}", hits.len()));
    for h in hits.iter().take(12) {
        let name = h.name.clone().unwrap_or_default();
        if ui.selectable_label(vp.selected.as_ref() == Some(h), format!("{name}  ·  {}", h.sublayer)).clicked() {
            if let Some(a) = h.anchor {
                map.target_center = a;
            }
            vp.selected = Some(h.clone());
        }
    }
}

pub(super) fn layers_panel(
    ui: &mut Ui,
    res: &AtlasRes,
    view: &mut LayerView,
    state: &mut PanelState,
    cmds: &mut MessageWriter<AtlasCommand>,
    vector: Option<&crate::app::layers::vector::VectorLayers>,
) {
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
        if let Some(c) = &meta.categorized {
            class_legend(ui, c);
        }
        layer_details(ui, i, layer, state, cmds);
    }
    if let Some(dir) = &res.atlas.dir {
        // Order, styles, name fields and the files with their answers, for next time.
        if ui
            .button("💾 Save layers.json")
            .on_hover_text(format!("into {} (the old one kept as layers.json.bak)", dir.display()))
            .clicked()
        {
            let tiles: Vec<_> = match vector {
                Some(vl) => vl.layers.iter().map(|l| l.entry(Some(dir))).collect(),
                None => res.atlas.tile_layers.clone(),
            };
            state.saved = Some(match res.atlas.save_manifest_with(dir, &tiles) {
                Ok(p) => format!("saved {}", p.display()),
                Err(e) => format!("cannot save in {}: {e}", dir.display()),
            });
        }
        if let Some(m) = &state.saved {
            ui.weak(m);
        }
    }
    ui.add_space(6.0);
    ui.weak("Hatched areas, dashed lines and hollow markers are schematic: no published outline or position.");
}

/// A layer's table, its style by attribute and its name field, folded away until wanted.
fn layer_details(
    ui: &mut Ui,
    i: usize,
    layer: &crate::geodata::Layer,
    state: &mut PanelState,
    cmds: &mut MessageWriter<AtlasCommand>,
) {
    egui::CollapsingHeader::new("table, style, source").id_salt(("layer_details", i)).show(ui, |ui| {
        if ui.button("▦ Attribute table").clicked() {
            state.table.layer = Some(i);
        }
        let fields = layer.attribute_names();
        if fields.is_empty() {
            return;
        }
        let current = layer.meta.categorized.as_ref().map(|c| c.field.clone());
        if let Some(chosen) = field_choice(ui, ("style_by", i), "colour by", "one colour", &fields, current) {
            cmds.write(AtlasCommand::StyleBy(LayerId(i), chosen));
        }
        if !layer.has_atlas_names() {
            let current = layer.meta.name_field.clone();
            if let Some(chosen) = field_choice(ui, ("name_field", i), "names from", "no names", &fields, current) {
                cmds.write(AtlasCommand::NameField(LayerId(i), chosen));
            }
        }
        if let Some(p) = &layer.provenance {
            ui.weak(p.summary());
        }
    });
}

/// A choice among a layer's fields (or none, shown as `none`): the new choice when it changed.
fn field_choice(
    ui: &mut Ui,
    id: (&str, usize),
    label: &str,
    none: &str,
    fields: &[String],
    current: Option<String>,
) -> Option<Option<String>> {
    let mut chosen = current.clone();
    egui::ComboBox::new(id, label).selected_text(current.clone().unwrap_or_else(|| none.into())).show_ui(ui, |ui| {
        ui.selectable_value(&mut chosen, None, none);
        for f in fields {
            ui.selectable_value(&mut chosen, Some(f.clone()), f);
        }
    });
    (chosen != current).then_some(chosen)
}

/// The classes of a categorized layer, as the map colours them.
fn class_legend(ui: &mut Ui, c: &crate::geodata::Categorized) {
    let swatch = |ui: &mut Ui, hex: &str, text: &str| {
        ui.horizontal(|ui| {
            ui.add_space(8.0);
            let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 10.0), Sense::hover());
            let [r, g, b] = crate::geodata::parse_hex_color(hex).unwrap_or([128, 128, 128]);
            ui.painter().rect_filled(rect, 1.0, Color32::from_rgb(r, g, b));
            ui.label(egui::RichText::new(text).small());
        });
    };
    ui.label(egui::RichText::new(&c.field).small().strong());
    for (value, hex) in &c.classes {
        swatch(ui, hex, value);
    }
    swatch(ui, &c.other, "other");
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
                    if let Some(c) = &meta.categorized {
                        class_legend(ui, c);
                    }
                }
                ui.weak("hatched / dashed / hollow: schematic");
            });
        });
}
