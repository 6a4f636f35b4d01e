//! The toolbar (zoom to all, label language, open a file, present, export, problems) and the
//! status bar (cursor position, scale bar, reading and tessellation progress, hovered place).

use bevy::prelude::*;
use bevy_egui::egui;
use egui::{Color32, RichText, Sense, Stroke, Ui};

use super::{PanelState, Requests, feature_name};
use crate::app::layers::Tessellation;
use crate::app::presenter::StartPresenting;
use crate::app::state::{AtlasCommand, AtlasRes, DocumentReading, Lang, LayerView, Problems, Selection};
use crate::app::view::{MapView, ZoomToAll};
use crate::diagnostic::Severity;

pub(super) fn toolbar(
    root: &mut Ui,
    view: &mut LayerView,
    state: &mut PanelState,
    problems: &mut Problems,
    requests: &mut Requests,
) {
    egui::Panel::top("toolbar").show(root, |ui| {
        ui.horizontal(|ui| {
            ui.strong("港口地圖 port-atlas");
            ui.separator();
            if ui.button("⟲ 全覽 Zoom to all").on_hover_text("Home or 0").clicked() {
                requests.zoom_all.write(ZoomToAll);
            }
            let tip = state.link_message.clone().unwrap_or_else(|| {
                "Copy a link to this view (centre, scale, layers, selection, basemap) for a colleague: \
                 port-atlas --open LINK, or paste it into the box on the right"
                    .into()
            });
            if ui.button("🔗").on_hover_text(tip).clicked() {
                state.copy_link = true;
            }
            if ui.button("📏").on_hover_text("Measure distance and area (geodesic)").clicked() {
                state.toggle_measure = true;
            }
            if ui
                .button("✏ 編輯")
                .on_hover_text(
                    "Edit: correct features and draw new ones over the basemap; saved with who, when and over what",
                )
                .clicked()
            {
                state.toggle_edit = true;
            }
            ui.separator();
            ui.label("Labels:");
            for (lang, text) in [(Lang::Hant, "繁體"), (Lang::Hans, "简体"), (Lang::En, "EN")] {
                if ui.selectable_label(view.lang == lang, text).clicked() {
                    view.lang = lang;
                }
            }
            ui.checkbox(&mut view.labels, "show");
            ui.separator();
            if ui
                .button("📂 Open layer…")
                .on_hover_text("Shapefile (.shp/.zip), GeoPackage, KML/KMZ, CSV/XLSX, GeoJSON")
                .clicked()
            {
                state.files.open(super::Purpose::Layer);
            }
            if ui.button("📄 Open report…").on_hover_text("Word, PDF, HTML or text (UTF-8, GBK, Big5)").clicked() {
                state.files.open(super::Purpose::Document);
            }
            if ui.button("🗀 Open folder…").on_hover_text("Every report in a folder and its subfolders").clicked() {
                state.files.open(super::Purpose::Folder);
            }
            if ui.button("覆蓋 Coverage").on_hover_text("What the reports mention, and when").clicked() {
                state.coverage.toggle();
            }
            let edit = ui.add(
                egui::TextEdit::singleline(&mut state.open_path)
                    .hint_text("or a path or URL (or drop a file on the window)")
                    .desired_width(200.0),
            );
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let open = (ui.button("Open").clicked() || enter) && !state.open_path.trim().is_empty();
            // A colleague's view link pasted here goes where it says.
            if open && state.open_path.trim().starts_with(crate::viewlink::SCHEME) {
                match crate::viewlink::ViewLink::parse(&state.open_path) {
                    Ok(link) => {
                        state.link_message = Some(format!("opened {}", link.summary()));
                        requests.cmds.write(AtlasCommand::OpenView(Box::new(link)));
                    }
                    Err(e) => state.link_message = Some(e.to_string()),
                }
            } else if open {
                let path = std::path::PathBuf::from(state.open_path.trim());
                let is_doc = crate::app::layers::is_document(&path);
                requests.cmds.write(if is_doc {
                    AtlasCommand::LoadDocument(path)
                } else {
                    AtlasCommand::LoadLayer(path)
                });
            }
            ui.separator();
            if ui.button("▶ 簡報 Present").on_hover_text("F11 full screen, ←/→ steps, Esc to leave").clicked() {
                requests.present.write(StartPresenting);
            }
            if ui.button("Edit story…").clicked() {
                state.story_open = !state.story_open;
            }
            if ui.button("匯出 Export for QGIS…").clicked() {
                state.export.open = true;
            }
            if !problems.is_empty() {
                ui.separator();
                let label = problems_button_label(problems);
                if ui.button(label).clicked() {
                    problems.open = true;
                }
            }
        });
    });
}

/// What is being read or built, for the status bar.
pub(super) struct Progress<'a> {
    pub tess: Option<&'a Tessellation>,
    pub reading: &'a DocumentReading,
}

pub(super) fn status_bar(
    root: &mut Ui,
    res: &AtlasRes,
    view: &LayerView,
    map: &MapView,
    progress: Progress,
    selection: &Selection,
    cursor: Option<Vec2>,
) {
    let tess = progress.tess;
    egui::Panel::bottom("status").show(root, |ui| {
        ui.horizontal(|ui| {
            // A fixed width, so what follows (a Cancel button) does not jump when the pointer
            // leaves the map for the status bar.
            let text = match cursor.filter(|c| map.viewport.contains(*c)) {
                Some(c) => {
                    let w = map.screen_to_world(c);
                    let (lon, lat) = res.frame.unproject(w.x, w.y);
                    format!("{lat:9.5}°N {lon:10.5}°E")
                }
                None => "—".to_string(),
            };
            let width = ui.fonts_mut(|f| {
                f.layout_no_wrap(
                    "-00.00000°N -000.00000°E".into(),
                    egui::TextStyle::Monospace.resolve(ui.style()),
                    Color32::WHITE,
                )
                .size()
                .x
            });
            ui.add_sized(
                [width, ui.spacing().interact_size.y],
                egui::Label::new(egui::RichText::new(text).monospace()),
            );
            ui.separator();
            scale_bar(ui, map, res);
            ui.separator();
            for job in &progress.reading.jobs {
                let (done, total) = job.progress.get();
                let name =
                    job.path.file_name().map_or_else(|| job.path.display().to_string(), |n| n.to_string_lossy().into());
                if job.progress.cancelled() {
                    ui.spinner();
                    ui.label(format!("cancelling {name}"));
                    continue;
                }
                ui.add(
                    egui::ProgressBar::new(if total == 0 { 0.0 } else { done as f32 / total as f32 })
                        .desired_width(120.0)
                        .text(format!("{done} / {total}")),
                );
                ui.label(format!("reading and linking {name}"));
                if ui.small_button("Cancel").on_hover_text("Stop reading; the reports read so far are kept").clicked() {
                    job.progress.cancel();
                }
            }
            for reading in tess.iter().flat_map(|t| t.loading()) {
                ui.spinner();
                match &reading.download {
                    Some(d) if !d.is_cancelled() => {
                        let pages = match d.pages() {
                            0 => String::new(),
                            n => format!(", {n} pages"),
                        };
                        let size = byte_size(d.bytes());
                        ui.label(format!("downloading {} ({size}{pages})", reading.path.display()));
                        if ui.small_button("Cancel").on_hover_text("Stop this download; nothing is added").clicked() {
                            d.cancel();
                        }
                    }
                    Some(_) => {
                        ui.label(format!("cancelling {}", reading.path.display()));
                    }
                    None => {
                        ui.label(format!("reading {}", reading.path.display()));
                    }
                }
            }
            if let Some((done, total)) = tess.filter(|t| t.loading.is_empty()).and_then(Tessellation::progress) {
                ui.add(
                    egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                        .desired_width(160.0)
                        .text(format!("tessellating {done}/{total}")),
                );
                ui.separator();
            }
            if let Some(h) = selection.hovered {
                ui.label(feature_name(res, view.lang, h));
            }
        });
    });
}

/// Bytes as a person reads them: 812 B, 37 KiB, 4.2 MiB.
fn byte_size(b: u64) -> String {
    match b {
        0..1024 => format!("{b} B"),
        1024..1_048_576 => format!("{} KiB", b / 1024),
        _ => format!("{:.1} MiB", b as f64 / 1_048_576.0),
    }
}

/// A scale bar of a round ground length about 120 px long.
fn scale_bar(ui: &mut Ui, map: &MapView, res: &AtlasRes) {
    let lat = {
        let (_, lat) = res.frame.unproject(map.center.x, map.center.y);
        lat
    };
    let ground_per_px = map.scale * crate::proj::LocalFrame::scale_at(lat);
    let target = ground_per_px * 120.0;
    let pow = 10f64.powf(target.log10().floor());
    let nice = [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * pow).rfind(|&v| v <= target).unwrap_or(pow);
    let px = (nice / ground_per_px) as f32;
    let (rect, _) = ui.allocate_exact_size(egui::vec2(px + 4.0, 14.0), Sense::hover());
    let p = ui.painter();
    let y = rect.bottom() - 3.0;
    let stroke = Stroke::new(2.0, ui.visuals().text_color());
    p.line_segment([egui::pos2(rect.left() + 2.0, y), egui::pos2(rect.left() + 2.0 + px, y)], stroke);
    for x in [rect.left() + 2.0, rect.left() + 2.0 + px] {
        p.line_segment([egui::pos2(x, y - 7.0), egui::pos2(x, y)], stroke);
    }
    let text = if nice >= 1000.0 { format!("{} km", nice / 1000.0) } else { format!("{nice} m") };
    ui.label(text);
}

/// "⚠ 2 errors, 1 warning": errors in red, warnings alone in amber.
fn problems_button_label(problems: &Problems) -> RichText {
    let (e, w) = (problems.list.total(Severity::Error), problems.list.total(Severity::Warning));
    let plural = |n: usize, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
    let text = match (e, w) {
        (0, w) => format!("⚠ {}", plural(w, "warning")),
        (e, 0) => format!("⚠ {}", plural(e, "error")),
        (e, w) => format!("⚠ {}, {}", plural(e, "error"), plural(w, "warning")),
    };
    let color = if e > 0 { Color32::from_rgb(180, 40, 30) } else { Color32::from_rgb(170, 110, 0) };
    RichText::new(text).color(color)
}
