//! The egui panels: toolbar, layers and search, place details, the linked document, status bar
//! with scale, map labels, the presenter's caption and the problems window. One system draws
//! them all, because the map viewport is what the panels leave free.
//!
//! The panels are the one plugin that imports others (the presenter's and the basemap's state,
//! the layers' loading progress), for the sections that show them; nothing imports the panels.

mod attributes;
mod coverage;
mod document;
mod export;
mod map_labels;
mod measure;
mod mentions;
mod place;
mod presenting;
mod problems;
mod questions;
mod review;
mod sidebar;
mod timeline;
mod toolbar;

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};
use egui::{Color32, Sense, Ui, UiBuilder};

use super::basemap::{self, BasemapChoice, TileLoader};
use super::layers::Tessellation;
use super::presenter::{Presenter, StartPresenting};
use super::state::{
    AppMode, AtlasCommand, AtlasRes, DocumentReading, Lang, LayerView, OpenQuestions, Problems, Selection, Timeline,
};
use super::view::{MapView, UiCapture, ZoomToAll};
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
    /// The vector tiles section's URL box.
    vector_url: String,
    /// *🔗* was clicked: copy the view link this frame.
    copy_link: bool,
    /// *📏* was clicked: start or end measuring.
    toggle_measure: bool,
    /// *✏* was clicked: enter or leave editing.
    toggle_edit: bool,
    /// What happened to the last view link (copied, opened, or why not).
    link_message: Option<String>,
    /// Vector features in view matching the search: the query and tiles they were found for.
    vector_hits: Option<(String, u64, Vec<crate::app::layers::vector::pick::PickedFeature>)>,
    story_open: bool,
    export: export::ExportState,
    open_path: String,
    doc: document::DocPanel,
    timeline: timeline::TimelineCache,
    coverage: coverage::CoverageState,
    labels: map_labels::LabelCaches,
    files: FilePicker,
    table: attributes::TableState,
    question: questions::QuestionState,
    /// The outcome of the last *Save layers.json*.
    saved: Option<String>,
    /// Bumped whenever the atlas changes, so panels that derive lists from it (search hits, the
    /// review list) recompute them then rather than every frame.
    atlas_generation: u64,
    /// (query, atlas generation, hits): the search box's results.
    search_hits: Option<(String, u64, Vec<usize>)>,
    review: review::ReviewCache,
}

/// What the open dialog was opened for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Purpose {
    Layer,
    Document,
    /// A folder of reports.
    Folder,
}

/// The open dialog's filter for reports.
const DOCUMENTS: &str = "Reports (.txt, .docx, .pdf, .html)";

/// The open dialog (drawn by egui, so it works on any desktop and under Xvfb), created on first
/// use.
#[derive(Default)]
struct FilePicker {
    dialog: Option<egui_file_dialog::FileDialog>,
    purpose: Option<Purpose>,
}

impl FilePicker {
    fn open(&mut self, purpose: Purpose) {
        let mut layer_exts: Vec<&'static str> = crate::formats::Format::EXTENSIONS.to_vec();
        // Vector tile archives open from the same dialog.
        layer_exts.extend(["pmtiles", "mbtiles"]);
        let dialog = self.dialog.get_or_insert_with(|| {
            egui_file_dialog::FileDialog::new()
                .add_file_filter_extensions(
                    "Layers (Shapefile, GeoPackage, KML, CSV, XLSX, GeoJSON, PMTiles, MBTiles)",
                    layer_exts,
                )
                .add_file_filter_extensions(DOCUMENTS, vec!["txt", "md", "docx", "pdf", "html", "htm"])
                .default_size([720.0, 460.0])
        });
        dialog.config_mut().default_file_filter = Some(
            match purpose {
                Purpose::Layer => "Layers (Shapefile, GeoPackage, KML, CSV, XLSX, GeoJSON)",
                Purpose::Document | Purpose::Folder => DOCUMENTS,
            }
            .to_string(),
        );
        if purpose == Purpose::Folder {
            dialog.pick_directory();
        } else {
            dialog.pick_file();
        }
        self.purpose = Some(purpose);
    }

    /// Draws the dialog; what the user picked, for what.
    fn update(&mut self, ctx: &egui::Context) -> Option<(Purpose, std::path::PathBuf)> {
        let dialog = self.dialog.as_mut()?;
        dialog.update(ctx);
        let picked = dialog.take_picked()?;
        Some((self.purpose.take().unwrap_or(Purpose::Layer), picked))
    }
}

/// The shared state the panels show and change.
#[derive(SystemParam)]
pub struct Shared<'w> {
    res: Res<'w, AtlasRes>,
    view: ResMut<'w, LayerView>,
    selection: ResMut<'w, Selection>,
    map: ResMut<'w, MapView>,
    capture: ResMut<'w, UiCapture>,
    problems: ResMut<'w, Problems>,
    questions: ResMut<'w, OpenQuestions>,
    timeline: ResMut<'w, Timeline>,
}

/// What the panels ask other plugins to do.
#[derive(SystemParam)]
pub struct Requests<'w> {
    cmds: MessageWriter<'w, AtlasCommand>,
    zoom_all: MessageWriter<'w, ZoomToAll>,
    present: MessageWriter<'w, StartPresenting>,
}

/// Other plugins' state the panels have sections for (absent when that plugin is not added).
#[derive(SystemParam)]
pub struct Sections<'w> {
    mode: Res<'w, State<AppMode>>,
    tess: Option<Res<'w, Tessellation>>,
    presenter: Option<ResMut<'w, Presenter>>,
    basemap: Option<ResMut<'w, BasemapChoice>>,
    tiles: Option<ResMut<'w, TileLoader>>,
    reading: Res<'w, DocumentReading>,
    vector: Option<ResMut<'w, crate::app::layers::vector::VectorLayers>>,
    vpick: Option<ResMut<'w, crate::app::layers::vector::pick::VectorPick>>,
    measure: ResMut<'w, crate::app::state::Measure>,
    editor: Option<ResMut<'w, crate::app::edit::Editor>>,
    next_mode: ResMut<'w, NextState<AppMode>>,
}

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

fn ui_system(
    mut contexts: EguiContexts,
    window: Single<&Window, With<PrimaryWindow>>,
    shared: Shared,
    mut requests: Requests,
    sections: Sections,
    mut state: Local<PanelState>,
) -> Result {
    let Shared { res, mut view, mut selection, mut map, mut capture, mut problems, mut questions, mut timeline } =
        shared;
    let Sections {
        mode,
        tess,
        mut presenter,
        mut basemap,
        mut tiles,
        reading,
        mut vector,
        mut vpick,
        mut measure,
        mut editor,
        mut next_mode,
    } = sections;
    let editing = *mode.get() == AppMode::Edit;
    // What is not yet saved: asked once a frame, for the edit window, the map and the close question.
    let unsaved = match editor.as_deref() {
        Some(ed) if editing || ed.confirm_close.is_some() => ed.session.unsaved(&res.atlas.layers),
        _ => Vec::new(),
    };
    let ctx = contexts.ctx_mut()?.clone();
    if res.is_changed() {
        state.atlas_generation += 1;
    }
    let mut root = Ui::new(
        ctx.clone(),
        "port-atlas-root".into(),
        UiBuilder::new().layer_id(egui::LayerId::background()).max_rect(ctx.content_rect()),
    );

    let presenting = *mode.get() == AppMode::Present;
    if presenting {
        if let Some(p) = presenter.as_deref() {
            presenting::caption_panel(&mut root, &res, &view, p);
        }
        sidebar::legend(&ctx, &res, &view);
    } else {
        toolbar::toolbar(&mut root, &mut view, &mut state, &mut problems, &mut requests);
        if std::mem::take(&mut state.toggle_measure) {
            measure.active = !measure.active;
        }
        measure::measure_window(&ctx, &mut measure);
        if std::mem::take(&mut state.toggle_edit) && editor.is_some() {
            next_mode.set(if editing { AppMode::Browse } else { AppMode::Edit });
        }
        if let (true, Some(ed)) = (editing, editor.as_deref_mut()) {
            let mut out = Vec::new();
            if !crate::app::edit::ui::edit_window(&ctx, ed, &res, &selection, unsaved.len(), &mut out) {
                next_mode.set(AppMode::Browse);
            }
            ed.pending.extend(out);
        }
        if std::mem::take(&mut state.copy_link) {
            let basemap = basemap.as_deref().and_then(|b| {
                let s = b.source()?;
                let builtin = crate::tiles::builtin_sources().into_iter().find(|n| &n.source == s);
                Some(builtin.map_or_else(|| s.template.clone(), |n| n.id.to_string()))
            });
            let tiles =
                vector.as_deref().map_or_else(Vec::new, |vl| vl.layers.iter().map(|l| l.spec.location()).collect());
            let frame = res.frame;
            let link = crate::app::link::current(&res.atlas, &frame, &map, &view, &selection, basemap, tiles);
            ctx.copy_text(link.to_link());
            state.link_message = Some(format!("copied: {}", link.summary()));
        }
        export::export_window(
            &ctx,
            &res,
            &mut state.export,
            basemap.as_deref().and_then(BasemapChoice::source),
            vector.as_deref(),
        );
        if let Some(p) = presenter.as_deref_mut() {
            presenting::story_window(&ctx, &res, &map, p, &mut state.story_open);
        }
        let progress = toolbar::Progress { tess: tess.as_deref(), reading: &reading };
        toolbar::status_bar(&mut root, &res, &view, &map, progress, &selection, window.cursor_position());
        egui::Panel::left("layers").default_size(290.0).show(&mut root, |ui| {
            sidebar::search_panel(ui, &res, &view, &mut state, &mut requests.cmds);
            if let (Some(vl), Some(vp)) = (vector.as_deref(), vpick.as_deref_mut()) {
                sidebar::search_in_view(ui, &res, vl, vp, &mut map, &mut state);
            }
            ui.separator();
            egui::ScrollArea::vertical().show(ui, |ui| {
                sidebar::layers_panel(ui, &res, &mut view, &mut state, &mut requests.cmds, vector.as_deref());
                if let Some(vl) = vector.as_deref_mut() {
                    ui.separator();
                    crate::app::layers::vector::ui::vector_section(ui, vl, &mut state.vector_url);
                }
                if let (Some(bm), Some(tiles)) = (basemap.as_deref_mut(), tiles.as_deref_mut()) {
                    ui.separator();
                    basemap::basemap_section(ui, bm, tiles);
                }
            });
        });
        egui::Panel::right("place_and_document").default_size(420.0).show(&mut root, |ui| {
            place::place_panel(ui, &res, &view, &mut selection);
            ui.separator();
            document::document_panel(ui, &res, &view, &mut selection, &mut state, &mut timeline, &mut requests.cmds);
        });
    }
    let central = root.available_rect_before_wrap();
    let frame = res.frame;
    map.set_viewport(&frame, bevy::math::Rect::new(central.min.x, central.min.y, central.max.x, central.max.y));

    if let Some(bm) = basemap.as_deref() {
        basemap::attribution(&ctx, central, bm);
    }
    let generation = state.atlas_generation;
    if !presenting {
        coverage::coverage_window(
            &ctx,
            &res,
            view.lang,
            &timeline,
            &mut state.coverage,
            generation,
            &mut requests.cmds,
        );
    }
    coverage::draw_symbols(&ctx, central, &map, &state.coverage);
    measure::draw_measure(&ctx, central, &map, &frame, &measure);
    if let (true, Some(ed)) = (editing, editor.as_deref()) {
        crate::app::edit::ui::draw_overlay(&ctx, central, &map, &res, &selection, ed, &unsaved);
    }
    if let Some(ed) = editor.as_deref_mut() {
        crate::app::edit::ui::close_dialog(&ctx, ed, unsaved.len());
    }
    if view.labels {
        let extra = match (vector.as_deref(), vpick.as_deref()) {
            (Some(vl), Some(vp)) => crate::app::layers::vector::pick::labels(vl, vp, &res.frame, &map, 4000),
            _ => Vec::new(),
        };
        map_labels::draw_labels(&ctx, central, &res, &view, &map, &selection, &mut state.labels, &extra);
    }
    if let Some(vp) = vpick.as_deref_mut()
        && !presenting
    {
        crate::app::layers::vector::ui::feature_window(&ctx, vp);
        crate::app::layers::vector::ui::hover_tip(&ctx, vp, window.cursor_position());
    }
    if !presenting {
        if let Some((purpose, path)) = state.files.update(&ctx) {
            requests.cmds.write(match purpose {
                Purpose::Document | Purpose::Folder => AtlasCommand::LoadDocument(path),
                Purpose::Layer => AtlasCommand::LoadLayer(path),
            });
        }
        questions::questions_window(&ctx, &mut questions, &mut state.question, &mut requests.cmds);
        if let Some(li) = state.table.layer {
            let title = res.atlas.layers.get(li).map(|l| sidebar::view_title(view.lang, &l.meta)).unwrap_or_default();
            attributes::attribute_window(&ctx, &res, &title, &mut selection, &mut map, &mut state.table);
        }
        problems::problems_window(&ctx, &mut problems);
        problems::hover_tooltip(&ctx, &res, &view, &selection);
    }
    if presenting && presenter.as_ref().is_some_and(|p| p.blackout) {
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
    // Only a text field keeps the keys: a button clicked a moment ago keeps egui's focus too, and
    // would otherwise swallow the map's keys (arrows, Delete, Ctrl+Z) until clicked away.
    capture.keyboard = ctx.egui_wants_keyboard_input()
        && ctx.memory(|m| m.focused()).is_some_and(|id| egui::TextEdit::load_state(&ctx, id).is_some());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy_egui::{EguiContext, EguiUserTextures, PrimaryEguiContext};

    /// The panels alone: an egui context driven by hand (no renderer), a window entity, and the
    /// shared state; no presenter, basemap or layers plugin.
    fn app() -> (App, egui::Context) {
        let mut app = crate::app::state::minimal_app();
        app.init_resource::<MapView>()
            .init_resource::<UiCapture>()
            .init_resource::<EguiUserTextures>()
            .add_message::<ZoomToAll>()
            .add_message::<StartPresenting>()
            .add_plugins(PanelsPlugin);
        app.world_mut().spawn((Window::default(), PrimaryWindow));
        let e = app.world_mut().spawn((EguiContext::default(), PrimaryEguiContext)).id();
        let ctx = app.world_mut().get_mut::<EguiContext>(e).unwrap().get_mut().clone();
        (app, ctx)
    }

    /// One frame of 1440x900 logical pixels.
    fn frame(app: &mut App, ctx: &egui::Context) {
        let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1440.0, 900.0));
        ctx.begin_pass(egui::RawInput { screen_rect: Some(screen), ..Default::default() });
        app.world_mut().run_schedule(EguiPrimaryContextPass);
        let _ = ctx.end_pass();
        app.update();
    }

    #[test]
    fn the_panels_leave_the_map_its_viewport_and_step_aside_for_a_presentation() {
        let (mut app, ctx) = app();
        for _ in 0..3 {
            frame(&mut app, &ctx);
        }
        let browse = app.world().resource::<MapView>().viewport;
        assert!(app.world().resource::<MapView>().viewport_known);
        // The layer list on the left and the place and document panels on the right.
        assert!(browse.min.x > 200.0 && browse.max.x < 1200.0 && browse.min.y > 10.0, "{browse:?}");
        // An error opens the problems window over the map.
        app.world_mut().resource_mut::<Problems>().error("parcels.shp", "cannot read");
        frame(&mut app, &ctx);
        assert!(app.world().resource::<Problems>().open);
        // Presenting (no presenter plugin here: no caption) hides the side panels.
        app.world_mut().resource_mut::<NextState<AppMode>>().set(AppMode::Present);
        app.update();
        for _ in 0..3 {
            frame(&mut app, &ctx);
        }
        let present = app.world().resource::<MapView>().viewport;
        assert!(present.width() > browse.width() + 300.0, "{present:?} vs {browse:?}");
    }
}
