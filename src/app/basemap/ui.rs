//! The basemap section of the layers panel (source, look, progress, failures, the cache) and the
//! attribution on the map, drawn by the panels.

use bevy_egui::egui::{self, Color32, Ui};

use super::{BasemapChoice, TileLoader};
use crate::proj::Crs;

/// The basemap section of the layers panel: source, look, progress, failures and the cache.
pub fn basemap_section(ui: &mut Ui, bm: &mut BasemapChoice, loader: &mut TileLoader) {
    ui.heading("底圖 Basemap");
    let current = bm.active.and_then(|i| bm.choices.get(i)).map_or("None (vector basemap)", |c| c.title.as_str());
    let mut choice = bm.active;
    let mut custom_open = ui.ctx().data(|d| d.get_temp::<bool>(egui::Id::new("basemap_custom"))).unwrap_or(false);
    egui::ComboBox::from_id_salt("basemap_source").selected_text(current).width(240.0).show_ui(ui, |ui| {
        ui.selectable_value(&mut choice, None, "None (vector basemap)");
        for (i, c) in bm.choices.iter().enumerate() {
            ui.selectable_value(&mut choice, Some(i), &c.title);
        }
        if ui.selectable_label(custom_open, "Custom URL template…").clicked() {
            custom_open = true;
        }
    });
    bm.select(choice);
    if custom_open {
        ui.horizontal(|ui| {
            let edit = egui::TextEdit::singleline(&mut bm.custom_template)
                .hint_text("https://host/{z}/{x}/{y}.png")
                .desired_width(200.0);
            let r = ui.add(edit).on_hover_text(
                "Placeholders as in QGIS: {z} {x} {y}, {-y} for TMS servers (rows from the south), \
                 {q} for a quadkey, {s} for subdomains a-c",
            );
            if ui.button("Use").clicked() || (r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))) {
                bm.apply_custom();
            }
        });
        ui.checkbox(&mut bm.custom_gcj, "GCJ-02 tiles (Chinese services)");
        if let Some(e) = &bm.custom_error {
            ui.colored_label(Color32::from_rgb(0xb0, 0x20, 0x20), e);
        }
    }
    ui.ctx().data_mut(|d| d.insert_temp(egui::Id::new("basemap_custom"), custom_open));
    if let Some(source) = bm.source() {
        let gcj = source.crs != Crs::Wgs84;
        let host = source.host();
        ui.horizontal(|ui| {
            ui.add(egui::Slider::new(&mut bm.opacity, 0.0..=1.0).text("opacity"));
            ui.checkbox(&mut bm.muted, "muted");
        });
        let mut line = format!("{} of {} tiles", loader.shown, loader.needed);
        if gcj {
            line.push_str(" · GCJ-02, shifted onto WGS84");
        }
        ui.weak(line);
        if let Some(left) = loader.throttle_left() {
            ui.colored_label(
                Color32::from_rgb(0xb0, 0x50, 0x10),
                format!("⏸ {host} asked to slow down: waiting {left:.0} s"),
            )
            .on_hover_text("HTTP 429: no tile is requested from this server until then; missing tiles follow after");
        }
        if !loader.failures.is_empty() {
            let mut retry = false;
            for (kind, f) in &loader.failures {
                ui.horizontal(|ui| {
                    ui.colored_label(Color32::from_rgb(0xb0, 0x50, 0x10), format!("⚠ {} × {kind}", f.count))
                        .on_hover_text(&f.example);
                });
            }
            if ui.small_button("Retry failed tiles").clicked() {
                retry = true;
            }
            if retry {
                loader.retry();
            }
        }
    }
    if let Some(cache) = &loader.cache {
        let dir = cache.dir().display().to_string();
        let size = loader.cache_bytes.map_or("measuring…".to_string(), |b| {
            format!("{:.1} MiB of {} MiB", b as f64 / (1 << 20) as f64, cache.limit() >> 20)
        });
        let mut clear = false;
        ui.horizontal(|ui| {
            ui.weak(format!("Tile cache: {size}")).on_hover_text(&dir);
            clear = ui.small_button("Clear").on_hover_text(format!("Delete the tiles in {dir}")).clicked();
        });
        if clear {
            loader.clear_cache();
        }
    }
}

/// The source's attribution, on the map's bottom-right corner as tile licences require.
pub fn attribution(ctx: &egui::Context, map_rect: egui::Rect, bm: &BasemapChoice) {
    let Some(source) = bm.source() else { return };
    if source.attribution.is_empty() {
        return;
    }
    egui::Area::new(egui::Id::new("basemap_attribution"))
        .pivot(egui::Align2::RIGHT_BOTTOM)
        .fixed_pos(map_rect.right_bottom() - egui::vec2(2.0, 2.0))
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(Color32::from_rgba_unmultiplied(255, 255, 255, 200))
                .inner_margin(egui::Margin::symmetric(5, 1))
                .show(ui, |ui| {
                    ui.label(egui::RichText::new(&source.attribution).size(11.0).color(Color32::from_gray(40)));
                });
        });
}
