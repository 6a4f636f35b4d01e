//! The egui panels: toolbar, layers and search, place details, the linked document, status bar
//! with scale, map labels and the problems window.

use bevy::math::DVec2;
use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};
use egui::{Align, Align2, Color32, FontId, RichText, Sense, Stroke, Ui, UiBuilder};

use super::camera::{MapView, UiCapture, ZoomToAll};
use super::labels::{self, Candidate};
use super::layers::Tessellation;
use super::{AtlasCommand, AtlasRes, Lang, LayerView, Problems, Selection};
use crate::geodata::LayerMeta;
use crate::index::FeatureRef;

pub struct PanelsPlugin;

impl Plugin for PanelsPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(EguiPrimaryContextPass, ui_system);
    }
}

/// Panel state that lives across frames but is nobody else's business.
#[derive(Default)]
pub struct PanelState {
    search: String,
    story_open: bool,
    export: ExportState,
    open_path: String,
    document: usize,
    labels: Vec<LabelCache>,
}

/// The export window: where to, whether to overwrite, the running job and its outcome.
#[derive(Default)]
struct ExportState {
    open: bool,
    dir: String,
    force: bool,
    job: Option<std::thread::JoinHandle<Result<crate::export::ExportReport, String>>>,
    message: Option<(bool, String)>,
}

/// Per-layer label data, computed once: each feature's largest side (local metres, 0 for
/// points) and, lazily, its anchor. Anchors of 100,000 parcels are never computed while the
/// parcels are too small to carry a name.
struct LabelCache {
    extent: Vec<f64>,
    anchor: Vec<Option<Option<DVec2>>>,
}

impl LabelCache {
    fn new(layer: &crate::geodata::Layer, frame: &crate::proj::LocalFrame) -> Self {
        let extent = layer
            .features
            .iter()
            .map(|f| match (&f.geometry, f.bounds()) {
                (geo::Geometry::Point(_), _) | (_, None) => 0.0,
                (_, Some(b)) => {
                    let (x0, y0) = frame.project(b.min().x, b.min().y);
                    let (x1, y1) = frame.project(b.max().x, b.max().y);
                    (x1 - x0).max(y1 - y0)
                }
            })
            .collect();
        LabelCache { extent, anchor: vec![None; layer.features.len()] }
    }
}

/// Most labels considered per frame: placement is greedy, and more than this never fit anyway.
const MAX_LABEL_CANDIDATES: usize = 1500;

fn color32(meta: &LayerMeta) -> Color32 {
    let [r, g, b] = meta.rgb();
    Color32::from_rgb(r, g, b)
}

/// A gazetteer place's name in the chosen language (empty for an unknown id).
fn place_name(res: &AtlasRes, lang: Lang, id: &str) -> String {
    res.atlas
        .gazetteer
        .get(id)
        .map(|pl| lang.pick(&pl.name_zh_hant, &pl.name_zh_hans, &pl.name_en).to_string())
        .unwrap_or_default()
}

fn feature_name(res: &AtlasRes, lang: Lang, r: FeatureRef) -> String {
    res.atlas
        .feature(r)
        .map(|f| lang.pick(&f.name_zh_hant, &f.name_zh_hans, &f.name_en).to_string())
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn ui_system(
    mut contexts: EguiContexts,
    window: Single<&Window, With<PrimaryWindow>>,
    res: Res<AtlasRes>,
    mut view: ResMut<LayerView>,
    mut selection: ResMut<Selection>,
    mut map: ResMut<MapView>,
    mut capture: ResMut<UiCapture>,
    mut problems: ResMut<Problems>,
    tess: Res<Tessellation>,
    mut cmds: MessageWriter<AtlasCommand>,
    mut zoom_all: MessageWriter<ZoomToAll>,
    mut state: Local<PanelState>,
    mut presenter: Option<ResMut<super::presenter::Presenter>>,
    mut present: MessageWriter<super::presenter::StartPresenting>,
    mut basemap: ResMut<super::basemap::Basemap>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let mut root = Ui::new(
        ctx.clone(),
        "port-atlas-root".into(),
        UiBuilder::new().layer_id(egui::LayerId::background()).max_rect(ctx.content_rect()),
    );

    let presenting = presenter.as_ref().is_some_and(|p| p.active);
    if let Some(p) = presenter.as_deref().filter(|p| p.active) {
        caption_panel(&mut root, &res, &view, p);
        legend(&ctx, &res, &view);
    } else {
        toolbar(&mut root, &mut view, &mut state, &mut problems, &mut cmds, &mut zoom_all, &mut present);
        export_window(&ctx, &res, &mut state.export, basemap.source());
        if let Some(p) = presenter.as_deref_mut() {
            story_window(&ctx, &res, &map, p, &mut state.story_open);
        }
        status_bar(&mut root, &res, &view, &map, &tess, &selection, window.cursor_position());
        egui::Panel::left("layers").default_size(290.0).show(&mut root, |ui| {
            search_panel(ui, &res, &view, &mut state, &mut cmds);
            ui.separator();
            egui::ScrollArea::vertical().show(ui, |ui| {
                layers_panel(ui, &res, &mut view, &tess);
                ui.separator();
                super::basemap::basemap_section(ui, &mut basemap);
            });
        });
        egui::Panel::right("place_and_document").default_size(420.0).show(&mut root, |ui| {
            place_panel(ui, &res, &view, &mut selection);
            ui.separator();
            document_panel(ui, &res, &view, &mut selection, &mut state, &mut cmds);
        });
    }
    let central = root.available_rect_before_wrap();
    let frame = res.frame;
    map.set_viewport(&frame, bevy::math::Rect::new(central.min.x, central.min.y, central.max.x, central.max.y));

    super::basemap::attribution(&ctx, central, &basemap);
    if view.labels {
        draw_labels(&ctx, central, &res, &view, &map, &selection, &mut state);
    }
    if !presenting {
        problems_window(&ctx, &mut problems);
        hover_tooltip(&ctx, &res, &view, &selection);
    }
    if presenter.as_ref().is_some_and(|p| p.active && p.blackout) {
        // B: a black screen, as presentation software does, until B again.
        egui::Area::new(egui::Id::new("blackout")).order(egui::Order::Foreground).fixed_pos(egui::pos2(0.0, 0.0)).show(
            &ctx,
            |ui| {
                let r = ctx.content_rect();
                ui.painter().rect_filled(r, 0.0, Color32::BLACK);
                ui.allocate_rect(r, Sense::hover());
            },
        );
    }

    let pointer = ctx.input(|i| i.pointer.hover_pos());
    let over_window = pointer.is_some_and(|p| ctx.layer_id_at(p).is_some_and(|l| l.order != egui::Order::Background));
    capture.pointer = ctx.egui_is_using_pointer() || over_window || pointer.is_some_and(|p| !central.contains(p));
    capture.keyboard = ctx.egui_wants_keyboard_input();
    Ok(())
}

fn toolbar(
    root: &mut Ui,
    view: &mut LayerView,
    state: &mut PanelState,
    problems: &mut Problems,
    cmds: &mut MessageWriter<AtlasCommand>,
    zoom_all: &mut MessageWriter<ZoomToAll>,
    present: &mut MessageWriter<super::presenter::StartPresenting>,
) {
    egui::Panel::top("toolbar").show(root, |ui| {
        ui.horizontal(|ui| {
            ui.strong("港口地圖 port-atlas");
            ui.separator();
            if ui.button("⟲ 全覽 Zoom to all").on_hover_text("Home or 0").clicked() {
                zoom_all.write(ZoomToAll);
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
            ui.label("Open file:");
            let edit = ui.add(
                egui::TextEdit::singleline(&mut state.open_path)
                    .hint_text("path to .geojson or .txt (or drop a file on the window)")
                    .desired_width(300.0),
            );
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Open").clicked() || enter) && !state.open_path.trim().is_empty() {
                let path = std::path::PathBuf::from(state.open_path.trim());
                let is_doc = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("txt"));
                cmds.write(if is_doc { AtlasCommand::LoadDocument(path) } else { AtlasCommand::LoadLayer(path) });
            }
            ui.separator();
            if ui.button("▶ 簡報 Present").on_hover_text("F11 full screen, ←/→ steps, Esc to leave").clicked() {
                present.write(super::presenter::StartPresenting);
            }
            if ui.button("Edit story…").clicked() {
                state.story_open = !state.story_open;
            }
            if ui.button("匯出 Export for QGIS…").clicked() {
                state.export.open = true;
            }
            if !problems.items.is_empty() {
                ui.separator();
                let label =
                    RichText::new(format!("⚠ {} problems", problems.items.len())).color(Color32::from_rgb(180, 40, 30));
                if ui.button(label).clicked() {
                    problems.open = true;
                }
            }
        });
    });
}

fn status_bar(
    root: &mut Ui,
    res: &AtlasRes,
    view: &LayerView,
    map: &MapView,
    tess: &Tessellation,
    selection: &Selection,
    cursor: Option<Vec2>,
) {
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
            for reading in tess.loading() {
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
            if let Some((done, total)) = tess.progress().filter(|_| tess.loading().next().is_none()) {
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

fn search_panel(
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

fn layers_panel(ui: &mut Ui, res: &AtlasRes, view: &mut LayerView, tess: &Tessellation) {
    ui.heading("圖層 Layers");
    for (i, (layer, meta)) in res.atlas.layers.iter().zip(&res.atlas.metas).enumerate() {
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
            if let Some(v) = view.visible.get_mut(i) {
                let title = view_title(view.lang, meta);
                ui.checkbox(v, title);
            }
            let ready = tess.ready.get(i).copied().unwrap_or(false);
            ui.weak(if ready { format!("{}", layer.features.len()) } else { "…".into() });
        });
        if let Some(o) = view.opacity.get_mut(i) {
            ui.add(egui::Slider::new(o, 0.0..=1.0).text("opacity"));
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

fn view_title(lang: Lang, meta: &LayerMeta) -> String {
    lang.pick(&meta.title_zh_hant, &meta.title_zh_hans, &meta.title_en).to_string()
}

/// A light background for a mention in its layer's colour.
fn mention_bg(res: &AtlasRes, place: &str, strong: bool) -> Color32 {
    let c = res
        .atlas
        .gazetteer
        .get(place)
        .and_then(|p| p.layer.as_deref())
        .and_then(|l| res.atlas.layers.iter().position(|x| x.id == l))
        .map(|i| color32(&res.atlas.metas[i]))
        .unwrap_or(Color32::GRAY);
    let a = if strong { 200 } else { 90 };
    Color32::from_rgba_unmultiplied(c.r(), c.g(), c.b(), a)
}

fn place_panel(ui: &mut Ui, res: &AtlasRes, view: &LayerView, selection: &mut Selection) {
    ui.heading("地點 Place");
    let Some(r) = selection.selected else {
        ui.weak("Click a place on the map, a highlighted name in the document, or search.");
        return;
    };
    let Some(f) = res.atlas.feature(r) else { return };
    let meta = &res.atlas.metas[r.layer as usize];
    ui.label(RichText::new(&f.name_zh_hant).size(20.0).strong());
    ui.label(format!("{}  ·  {}", f.name_zh_hans, f.name_en));
    egui::Grid::new("place_attrs").num_columns(2).striped(true).show(ui, |ui| {
        ui.weak("layer");
        ui.label(view_title(view.lang, meta));
        ui.end_row();
        ui.weak("kind");
        ui.label(&f.kind);
        ui.end_row();
        ui.weak("accuracy");
        let acc = f.accuracy.to_string();
        ui.label(if f.accuracy.is_schematic() {
            RichText::new(acc).italics().color(Color32::from_rgb(170, 90, 0))
        } else {
            RichText::new(acc)
        });
        ui.end_row();
        ui.weak("id");
        ui.monospace(&f.id);
        ui.end_row();
        for (k, v) in &f.extra {
            ui.weak(k);
            ui.label(match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            ui.end_row();
        }
    });
    ui.collapsing("source", |ui| ui.label(&f.source));
    let mentions = res.atlas.mentions_of(&f.id);
    ui.label(RichText::new(format!("Mentioned {} times in the documents", mentions.len())).strong());
    egui::ScrollArea::vertical().id_salt("place_passages").max_height(180.0).show(ui, |ui| {
        let mut last = None;
        for m in mentions {
            if last == Some((m.document, m.passage)) {
                continue;
            }
            last = Some((m.document, m.passage));
            let d = &res.atlas.documents[m.document];
            let p = &d.passages[m.passage];
            let mention = &p.mentions[m.mention];
            let sentence = p.sentence_text(mention.sentence);
            let r = ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing.x = 0.0;
                ui.weak(format!("{} L{}  ", d.id, p.line));
                // Highlight the mention inside its sentence.
                let s_start = p.sentences[mention.sentence].start;
                let rel = mention.start.saturating_sub(s_start);
                let chars: Vec<char> = sentence.chars().collect();
                let end = (rel + mention.end - mention.start).min(chars.len());
                let before: String = chars[..rel.min(chars.len())].iter().collect();
                let hit: String = chars[rel.min(chars.len())..end].iter().collect();
                let after: String = chars[end..].iter().collect();
                ui.label(before);
                ui.label(RichText::new(hit).background_color(mention_bg(res, &mention.place, true)).strong());
                ui.label(after);
            });
            if r.response.interact(Sense::click()).on_hover_text("show in the document").clicked() {
                selection.scroll_to = Some((m.document, m.passage));
            }
        }
    });
}

fn document_panel(
    ui: &mut Ui,
    res: &AtlasRes,
    view: &LayerView,
    selection: &mut Selection,
    state: &mut PanelState,
    cmds: &mut MessageWriter<AtlasCommand>,
) {
    ui.heading("文件 Document");
    if res.atlas.documents.is_empty() {
        ui.weak("No document. Open a .txt file from the toolbar or drop one on the window.");
        return;
    }
    if let Some((d, _)) = selection.scroll_to {
        state.document = d;
    }
    state.document = state.document.min(res.atlas.documents.len() - 1);
    egui::ComboBox::from_id_salt("document").selected_text(res.atlas.documents[state.document].id.clone()).show_ui(
        ui,
        |ui| {
            for (i, d) in res.atlas.documents.iter().enumerate() {
                ui.selectable_value(&mut state.document, i, &d.id);
            }
        },
    );
    let doc = &res.atlas.documents[state.document];
    let selected_id = selection.selected.and_then(|r| res.atlas.feature(r)).map(|f| f.id.clone());
    let scroll_target = selection.scroll_to.filter(|(d, _)| *d == state.document).map(|(_, p)| p);
    let mut clicked_place = None;
    egui::ScrollArea::vertical().id_salt("document_text").auto_shrink([false, false]).show(ui, |ui| {
        for (pi, p) in doc.passages.iter().enumerate() {
            let r = ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing.x = 0.0;
                ui.weak(format!("{:>3} ", p.line));
                let chars: Vec<char> = p.text.chars().collect();
                let mut pos = 0;
                for m in &p.mentions {
                    if m.start > pos {
                        ui.label(chars[pos..m.start].iter().collect::<String>());
                    }
                    let strong = selected_id.as_deref() == Some(m.place.as_str());
                    let mut text = RichText::new(&m.text).background_color(mention_bg(res, &m.place, strong));
                    if strong {
                        text = text.strong().underline();
                    }
                    let name = place_name(res, view.lang, &m.place);
                    if ui.add(egui::Label::new(text).sense(Sense::click())).on_hover_text(name).clicked() {
                        clicked_place = Some(m.place.clone());
                    }
                    pos = m.end;
                }
                if pos < chars.len() {
                    ui.label(chars[pos..].iter().collect::<String>());
                }
            });
            if scroll_target == Some(pi) {
                r.response.scroll_to_me(Some(Align::TOP));
            }
            ui.add_space(6.0);
        }
    });
    if scroll_target.is_some() {
        selection.scroll_to = None;
    }
    if let Some(id) = clicked_place {
        cmds.write(AtlasCommand::FocusPlace(id));
    }
}

fn draw_labels(
    ctx: &egui::Context,
    central: egui::Rect,
    res: &AtlasRes,
    view: &LayerView,
    map: &MapView,
    selection: &Selection,
    state: &mut PanelState,
) {
    while state.labels.len() < res.atlas.layers.len() {
        let layer = &res.atlas.layers[state.labels.len()];
        state.labels.push(LabelCache::new(layer, &res.frame));
    }
    let painter = ctx.layer_painter(egui::LayerId::background()).with_clip_rect(central);
    let mut cands = Vec::new();
    let mut galleys = Vec::new();
    for (li, layer) in res.atlas.layers.iter().enumerate() {
        if !view.visible.get(li).copied().unwrap_or(false) || !res.atlas.metas[li].labels {
            continue;
        }
        let cache = &mut state.labels[li];
        for (fi, f) in layer.features.iter().enumerate() {
            let r = FeatureRef { layer: li as u32, feature: fi as u32 };
            let chosen = selection.selected == Some(r) || selection.hovered == Some(r);
            let is_point = matches!(f.geometry, geo::Geometry::Point(_));
            // Areas and lines too small on screen to carry a name get none, unless chosen.
            let big_enough = is_point || cache.extent[fi] / map.scale > 40.0;
            if (!big_enough || cands.len() >= MAX_LABEL_CANDIDATES) && !chosen {
                continue;
            }
            let a = *cache.anchor[fi].get_or_insert_with(|| labels::anchor(&f.geometry, &res.frame));
            let Some(a) = a else { continue };
            let s = map.world_to_screen(a);
            if !central.contains(egui::pos2(s.x, s.y)) {
                continue;
            }
            let name = view.lang.pick(&f.name_zh_hant, &f.name_zh_hans, &f.name_en);
            let size = if is_point { 13.0 } else { 14.0 };
            let galley = painter.layout_no_wrap(name.to_string(), FontId::proportional(size), Color32::from_gray(30));
            let gs = galley.size();
            let pos = if is_point {
                egui::pos2(s.x + 9.0, s.y - gs.y / 2.0)
            } else {
                egui::pos2(s.x - gs.x / 2.0, s.y - gs.y / 2.0)
            };
            let rect = bevy::math::Rect::new(pos.x, pos.y, pos.x + gs.x, pos.y + gs.y);
            let rank = if selection.selected == Some(r) {
                0
            } else if selection.hovered == Some(r) {
                1
            } else {
                2 + res.atlas.metas[li].label_rank
            };
            // Within a layer, smaller features first: they have fewer places to put a name.
            let area = f.bounds().map(|b| (b.width() * b.height() * 1e6) as i64).unwrap_or(0);
            cands.push(Candidate { rect, priority: (rank, area) });
            galleys.push((pos, galley));
        }
    }
    let bounds = bevy::math::Rect::new(central.min.x, central.min.y, central.max.x, central.max.y);
    for i in labels::place(&cands, bounds, 3.0) {
        let (pos, galley) = &galleys[i];
        // A white halo keeps names readable over fills and hatching.
        for d in [egui::vec2(-1.0, 0.0), egui::vec2(1.0, 0.0), egui::vec2(0.0, -1.0), egui::vec2(0.0, 1.0)] {
            painter.galley_with_override_text_color(*pos + d, galley.clone(), Color32::from_white_alpha(230));
        }
        painter.galley(*pos, galley.clone(), Color32::from_gray(30));
    }
}

/// The presenter's caption: the step's text in large type with its places in their layer
/// colours, and where the presentation is.
fn caption_panel(root: &mut Ui, res: &AtlasRes, view: &LayerView, p: &super::presenter::Presenter) {
    let Some(step) = p.current() else { return };
    let doc = res.atlas.documents.first();
    let passage = doc.and_then(|d| d.passages.iter().find(|pa| pa.line == step.line));
    egui::Panel::bottom("caption")
        .frame(egui::Frame::new().fill(Color32::from_rgb(250, 249, 245)).inner_margin(16.0))
        .show(root, |ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new(format!("{} / {}", p.index + 1, p.len())).size(18.0).strong());
                if !p.digits.is_empty() {
                    ui.label(RichText::new(format!("→ {}", p.digits)).size(18.0).color(Color32::from_rgb(180, 90, 0)));
                }
                if let Some(status) = &p.status {
                    ui.weak(status);
                }
                let source = doc.map_or(String::new(), |d| d.id.clone());
                ui.weak(format!(
                    "Source: {source}, line {} · ←/→ step · number + Enter jump · B black · L labels · R back to the step · S speaker view · P save slide · Esc",
                    step.line
                ));
            });
            let size = 26.0;
            ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing.x = 0.0;
                if let Some(caption) = &step.caption {
                    ui.label(RichText::new(caption).size(size));
                    return;
                }
                let Some(pa) = passage else { return };
                let chars: Vec<char> = pa.text.chars().collect();
                let (from, to) = (
                    pa.sentences.get(step.sentences.start).map_or(0, |r| r.start),
                    pa.sentences.get(step.sentences.end.saturating_sub(1)).map_or(chars.len(), |r| r.end),
                );
                let mut pos = from;
                for m in pa.mentions.iter().filter(|m| m.start >= from && m.end <= to) {
                    if m.start > pos {
                        ui.label(RichText::new(chars[pos..m.start].iter().collect::<String>()).size(size));
                    }
                    let name = place_name(res, view.lang, &m.place);
                    ui.label(
                        RichText::new(&m.text).size(size).strong().background_color(mention_bg(res, &m.place, true)),
                    )
                    .on_hover_text(name);
                    pos = m.end;
                }
                if pos < to {
                    ui.label(RichText::new(chars[pos..to].iter().collect::<String>()).size(size));
                }
            });
        });
}

/// A compact legend for presentations and slides: every visible layer's swatch and title.
fn legend(ctx: &egui::Context, res: &AtlasRes, view: &LayerView) {
    egui::Area::new(egui::Id::new("presenter_legend"))
        .anchor(Align2::RIGHT_TOP, [-12.0, 12.0])
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                for (i, (layer, meta)) in res.atlas.layers.iter().zip(&res.atlas.metas).enumerate() {
                    if !view.visible.get(i).copied().unwrap_or(false) {
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

/// The story editor: reorder, skip, caption and custom views per step, saved beside the
/// document (or, for the built-in report, in the working folder) and loaded next time.
fn story_window(
    ctx: &egui::Context,
    res: &AtlasRes,
    map: &MapView,
    p: &mut super::presenter::Presenter,
    open: &mut bool,
) {
    if !*open {
        return;
    }
    let mut still_open = *open;
    egui::Window::new("Story").open(&mut still_open).default_width(560.0).default_height(520.0).show(ctx, |ui| {
        let path = super::presenter::story_file(res);
        ui.horizontal(|ui| {
            if ui.button("Save").clicked() {
                match p.story.save(&path) {
                    Ok(()) => p.status = Some(format!("saved {}", path.display())),
                    Err(e) => p.status = Some(format!("{}: cannot save: {e}", path.display())),
                }
            }
            if ui.button("Regenerate").on_hover_text("discard edits, steps from the document again").clicked() {
                p.story = crate::story::generate(&res.atlas, 0);
                p.status = Some("regenerated (not saved yet)".into());
            }
            if let Some(s) = &p.status {
                ui.weak(s);
            }
        });
        ui.separator();
        let n = p.story.steps.len();
        let mut swap: Option<(usize, usize)> = None;
        let visible = map.visible_lonlat(&res.frame);
        egui::ScrollArea::vertical().show(ui, |ui| {
            for i in 0..n {
                let step = &mut p.story.steps[i];
                ui.horizontal(|ui| {
                    ui.monospace(format!("{:>2} L{:<3}", i + 1, step.line));
                    if ui.small_button("▲").clicked() && i > 0 {
                        swap = Some((i - 1, i));
                    }
                    if ui.small_button("▼").clicked() && i + 1 < n {
                        swap = Some((i, i + 1));
                    }
                    let mut shown = !step.skip;
                    if ui.checkbox(&mut shown, "").on_hover_text("show this step").changed() {
                        step.skip = !shown;
                    }
                    if ui.small_button("use this view").clicked() {
                        step.custom_view = Some([visible.min().x, visible.min().y, visible.max().x, visible.max().y]);
                    }
                    if step.custom_view.is_some() && ui.small_button("auto view").clicked() {
                        step.custom_view = None;
                    }
                    ui.weak(step.places.join(" "));
                });
                let mut caption = step.caption.clone().unwrap_or_default();
                let edit = ui.add(
                    egui::TextEdit::singleline(&mut caption)
                        .hint_text("caption (empty: the passage)")
                        .desired_width(f32::INFINITY),
                );
                if edit.changed() {
                    step.caption = if caption.trim().is_empty() { None } else { Some(caption) };
                }
            }
        });
        if let Some((a, b)) = swap {
            p.story.steps.swap(a, b);
        }
    });
    *open = still_open;
}

/// Export to a folder (GeoJSON, GeoPackage, QGIS project) on a worker thread, with a spinner
/// while it runs and the outcome when it ends. Existing files are replaced only when asked.
fn export_window(
    ctx: &egui::Context,
    res: &AtlasRes,
    st: &mut ExportState,
    basemap: Option<&crate::tiles::TileSource>,
) {
    if st.job.as_ref().is_some_and(|j| j.is_finished())
        && let Some(job) = st.job.take()
    {
        st.message = Some(match job.join() {
            Ok(Ok(report)) => {
                let mut m = format!("Wrote {} files to {}", report.files.len(), st.dir);
                for n in &report.notes {
                    m.push_str(&format!("\nNote: {n}"));
                }
                (true, m)
            }
            Ok(Err(e)) => (false, e),
            Err(_) => (false, "the export stopped unexpectedly".into()),
        });
    }
    if !st.open {
        return;
    }
    if st.dir.is_empty() {
        st.dir = std::env::current_dir()
            .map(|d| d.join("port-atlas-export").display().to_string())
            .unwrap_or_else(|_| "port-atlas-export".into());
    }
    let mut open = st.open;
    egui::Window::new("Export for QGIS").open(&mut open).default_width(460.0).show(ctx, |ui| {
        ui.label("GeoJSON per layer, one GeoPackage with styles, passages and links, and a QGIS project.");
        if let Some(b) = basemap {
            let how = if b.crs == crate::proj::Crs::Wgs84 {
                String::new()
            } else {
                format!(", moved from {} by one offset where that fits", b.crs.title())
            };
            ui.weak(format!("The project includes the basemap ({}) as an XYZ layer{how}.", b.host()));
        }
        ui.horizontal(|ui| {
            ui.label("Folder:");
            ui.add(egui::TextEdit::singleline(&mut st.dir).desired_width(320.0));
        });
        ui.checkbox(&mut st.force, "replace files that already exist");
        let running = st.job.is_some();
        ui.horizontal(|ui| {
            if ui.add_enabled(!running, egui::Button::new("Export")).clicked() {
                let atlas = res.atlas.clone();
                let opts = crate::export::ExportOptions {
                    out: std::path::PathBuf::from(st.dir.trim()),
                    layers: Vec::new(),
                    formats: vec![crate::export::Format::GeoJson, crate::export::Format::Qgs],
                    force: st.force,
                    basemap: basemap.cloned(),
                };
                st.message = None;
                st.job = Some(std::thread::spawn(move || {
                    crate::export::export(&atlas, &opts).map_err(|e| match e {
                        crate::export::ExportError::Exists(p) => {
                            format!(
                                "{} already exists: tick \"replace files that already exist\" to overwrite",
                                p.display()
                            )
                        }
                        other => other.to_string(),
                    })
                }));
            }
            if running {
                ui.spinner();
                ui.label("exporting…");
            }
        });
        if let Some((ok, msg)) = &st.message {
            let color = if *ok { Color32::from_rgb(20, 110, 40) } else { Color32::from_rgb(170, 30, 20) };
            ui.label(RichText::new(msg).color(color));
        }
    });
    st.open = open;
}

/// A tooltip beside the pointer naming the hovered place, its kind and how often the documents
/// mention it.
fn hover_tooltip(ctx: &egui::Context, res: &AtlasRes, view: &LayerView, selection: &Selection) {
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

fn problems_window(ctx: &egui::Context, problems: &mut Problems) {
    if problems.items.is_empty() || !problems.open {
        return;
    }
    let mut open = problems.open;
    let mut clear = false;
    egui::Window::new("⚠ Problems").open(&mut open).default_width(520.0).anchor(Align2::CENTER_TOP, [0.0, 60.0]).show(
        ctx,
        |ui| {
            ui.label(
                "These files or entries could not be used. Everything else is loaded; nothing on disk was changed.",
            );
            egui::ScrollArea::vertical().max_height(260.0).show(ui, |ui| {
                for p in &problems.items {
                    ui.label(RichText::new(p).monospace().color(Color32::from_rgb(150, 30, 20)));
                }
            });
            if ui.button("Clear").clicked() {
                clear = true;
            }
        },
    );
    problems.open = open && !clear;
    if clear {
        problems.items.clear();
    }
}
