//! The vector tiles section of the layers panel: each source with its state, and each of its
//! source layers with visibility, colours, opacity, width and the label field; plus the box to
//! open a URL, drawn by the panels.

use bevy_egui::egui::{self, Color32, Ui};

use super::VectorLayers;
use crate::tiles::vector::VectorSpec;
use crate::tiles::vector::style::SourceLayerStyle;

/// The section; a source typed into its box is queued on [`VectorLayers`] to open.
pub fn vector_section(ui: &mut Ui, vl: &mut VectorLayers, url: &mut String) {
    let mut open = None;
    ui.heading("向量瓦片 Vector tiles");
    ui.horizontal(|ui| {
        let r = ui.add(
            egui::TextEdit::singleline(url)
                .hint_text("Martin / TileJSON URL, .pmtiles, {z}/{x}/{y}.pbf")
                .desired_width(200.0),
        );
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Open").clicked() || enter {
            match VectorSpec::recognise(url.trim()) {
                Some(spec) => {
                    open = Some(spec);
                    url.clear();
                }
                None => {
                    ui.ctx().data_mut(|d| d.insert_temp(egui::Id::new("vector_url_error"), true));
                }
            }
        }
    });
    if ui.ctx().data(|d| d.get_temp::<bool>(egui::Id::new("vector_url_error"))).unwrap_or(false) && !url.is_empty() {
        ui.colored_label(
            Color32::from_rgb(0xb0, 0x20, 0x20),
            "Not a vector tile source: give a TileJSON or Martin URL, a .pmtiles or .mbtiles file, or a template with {z}/{x}/{y}",
        );
    }
    for l in &mut vl.layers {
        ui.separator();
        ui.horizontal(|ui| {
            let title = l.title();
            ui.checkbox(&mut l.visible, egui::RichText::new(title).strong()).on_hover_text(l.spec.location());
        });
        if let Some(e) = &l.error {
            ui.colored_label(Color32::from_rgb(0xb0, 0x20, 0x20), e);
            continue;
        }
        let Some(info) = &l.info else {
            ui.weak("opening…");
            continue;
        };
        let mb = l.bytes() as f64 / 1048576.0;
        ui.weak(format!(
            "{} · zoom {}–{} · {} tiles on screen{} · {mb:.0} MB held",
            info.kind.title(),
            info.min_zoom,
            info.max_zoom,
            l.shown.len(),
            if l.complete { "" } else { ", loading" },
        ));
        let mut recategorise: Option<(usize, Option<String>)> = None;
        for (si, s) in l.styles.iter_mut().enumerate() {
            ui.horizontal(|ui| {
                ui.checkbox(&mut s.visible, &s.name);
                ui.color_edit_button_srgb(&mut s.fill).on_hover_text("fill");
                ui.color_edit_button_srgb(&mut s.stroke).on_hover_text("outline");
            });
            if s.visible {
                ui.indent(("vstyle", &s.name), |ui| {
                    ui.add(egui::Slider::new(&mut s.opacity, 0.0..=1.0).text("opacity"));
                    ui.add(egui::Slider::new(&mut s.width, 0.0..=6.0).text("width px"));
                    ui.add(egui::Slider::new(&mut s.point_px, 2.0..=20.0).text("point px"));
                    let current = s.label_field.clone().unwrap_or_else(|| "no labels".into());
                    egui::ComboBox::from_id_salt(("vlabel", &s.name))
                        .selected_text(format!("labels: {current}"))
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut s.label_field, None, "no labels");
                            for f in &s.fields {
                                ui.selectable_value(&mut s.label_field, Some(f.clone()), f);
                            }
                        });
                    // Colour by an attribute, as for imported layers: a colour per common value.
                    let mut by = s.category_field.clone();
                    let shown = by.clone().unwrap_or_else(|| "one colour".into());
                    egui::ComboBox::from_id_salt(("vcat", &s.name))
                        .selected_text(format!("colour by: {shown}"))
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut by, None, "one colour");
                            for f in &s.fields {
                                ui.selectable_value(&mut by, Some(f.clone()), f);
                            }
                        });
                    if by != s.category_field {
                        recategorise = Some((si, by));
                    }
                    for (value, rgb) in &mut s.categories {
                        ui.horizontal(|ui| {
                            ui.color_edit_button_srgb(rgb);
                            ui.label(value.as_str());
                        });
                    }
                    if !s.categories.is_empty() {
                        ui.horizontal(|ui| {
                            let (r, _) = ui.allocate_exact_size(egui::vec2(18.0, 14.0), egui::Sense::hover());
                            ui.painter().rect_filled(r, 2.0, Color32::from_rgb(s.fill[0], s.fill[1], s.fill[2]));
                            ui.weak("other values");
                        });
                    }
                });
            }
        }
        if let Some((si, field)) = recategorise {
            let categories = match &field {
                Some(f) => SourceLayerStyle::categorise(l.value_counts(&l.styles[si].name, f)),
                None => Vec::new(),
            };
            let s = &mut l.styles[si];
            s.category_field = field;
            s.categories = categories;
        }
    }
    if let Some(spec) = open {
        vl.pending.push(super::OpenVector::new(spec));
    }
}

/// The selected vector feature's attributes, in a window of their own (closing it clears the
/// selection).
pub fn feature_window(ctx: &egui::Context, vp: &mut super::pick::VectorPick) {
    let Some(sel) = vp.selected.clone() else { return };
    let mut open = true;
    let title = sel.name.clone().unwrap_or_else(|| format!("{} feature", sel.sublayer));
    egui::Window::new(format!("要素 Feature: {title}"))
        .id(egui::Id::new("vector_feature"))
        .open(&mut open)
        .default_width(300.0)
        .resizable(true)
        .show(ctx, |ui| {
            ui.weak(format!("{} · {} · tile {}", sel.source_title, sel.sublayer, sel.tile));
            egui::ScrollArea::vertical().max_height(360.0).show(ui, |ui| {
                egui::Grid::new("vector_feature_attrs").striped(true).num_columns(2).show(ui, |ui| {
                    for (k, v) in &sel.properties {
                        ui.strong(k);
                        ui.label(v);
                        ui.end_row();
                    }
                });
            });
            if sel.properties.is_empty() {
                ui.weak("no attributes");
            }
        });
    if !open {
        vp.selected = None;
    }
}

/// A tooltip at the cursor naming the hovered vector feature and its first attributes.
pub fn hover_tip(ctx: &egui::Context, vp: &super::pick::VectorPick, cursor: Option<bevy::math::Vec2>) {
    let (Some(h), Some(c)) = (&vp.hovered, cursor) else { return };
    if vp.selected.as_ref().is_some_and(|s| s.key == h.key && s.sublayer == h.sublayer) {
        return;
    }
    egui::Area::new(egui::Id::new("vector_hover"))
        .fixed_pos(egui::pos2(c.x + 14.0, c.y + 14.0))
        .order(egui::Order::Tooltip)
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.strong(h.name.clone().unwrap_or_else(|| h.sublayer.clone()));
                for (k, v) in h.properties.iter().take(4) {
                    ui.label(format!("{k}: {v}"));
                }
                if h.properties.len() > 4 {
                    ui.weak(format!("… {} more (click)", h.properties.len() - 4));
                }
            });
        });
}
