//! The state every plugin shares: the atlas, the app mode, the per-layer display records, the
//! selection and the problems list. This module imports no plugin, so any plugin can use it and
//! the plugins' own imports stay a tree (see ARCHITECTURE.md).

use std::path::PathBuf;
use std::str::FromStr;

use bevy::prelude::*;

use super::view::MapSet;
use crate::atlas::Atlas;
use crate::diagnostic::{Diagnostic, Diagnostics, Position, Severity};
use crate::index::{FeatureRef, SpatialIndex};
use crate::proj::LocalFrame;
use crate::text::corpus::Progress;
use crate::text::coverage::DateRange;

/// What the app is doing; systems that only make sense in one mode run under `in_state`.
///
/// Camera keys, picking and the panels tell the modes apart here, without importing the plugins
/// that drive them.
#[derive(States, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AppMode {
    /// Exploring: pan, zoom, pick, panels.
    #[default]
    Browse,
    /// A presentation: keys step through the story; no hover, no panels.
    Present,
    /// Correcting and drawing features: clicks select features and vertices, drags move vertices
    /// (see `app::edit`).
    Edit,
}

/// Which name form labels and panels use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Hant,
    Hans,
    En,
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "hant" | "zh-hant" | "traditional" => Ok(Lang::Hant),
            "hans" | "zh-hans" | "simplified" => Ok(Lang::Hans),
            "en" | "english" => Ok(Lang::En),
            _ => Err(format!("unknown label language {s:?}: use hant, hans or en")),
        }
    }
}

impl Lang {
    /// The name in this language, else the first non-empty one.
    pub fn pick<'a>(self, hant: &'a str, hans: &'a str, en: &'a str) -> &'a str {
        let first = match self {
            Lang::Hant => hant,
            Lang::Hans => hans,
            Lang::En => en,
        };
        if first.is_empty() { [hant, hans, en].into_iter().find(|s| !s.is_empty()).unwrap_or("") } else { first }
    }
}

/// The core data, shared by every plugin.
#[derive(Resource)]
pub struct AtlasRes {
    pub atlas: Atlas,
    pub frame: LocalFrame,
    pub index: SpatialIndex,
}

impl AtlasRes {
    pub fn new(atlas: Atlas) -> Self {
        let index = SpatialIndex::build(&atlas.layers);
        AtlasRes { atlas, frame: LocalFrame::default(), index }
    }

    /// Rebuilds the spatial index after layers changed.
    pub fn reindex(&mut self) {
        self.index = SpatialIndex::build(&self.atlas.layers);
    }
}

/// Whether hovering highlights (off for screenshots, where the virtual pointer is meaningless).
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoverEnabled(pub bool);

/// What the user is pointing at and has chosen.
#[derive(Resource, Default, Debug, Clone, PartialEq)]
pub struct Selection {
    pub hovered: Option<FeatureRef>,
    pub selected: Option<FeatureRef>,
    /// The document passage to scroll to: (document, passage).
    pub scroll_to: Option<(usize, usize)>,
    /// Places a presentation step emphasises (with the selection shader) over a dimmed map.
    pub emphasized: Vec<FeatureRef>,
}

/// The measuring tool: while active, clicks on the map add points (instead of selecting) and
/// the panels show the path's geodesic length and, from three points, the enclosed area.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct Measure {
    pub active: bool,
    /// Points clicked, lon/lat, in order.
    pub points: Vec<(f64, f64)>,
}

impl Measure {
    pub fn length_m(&self) -> f64 {
        crate::spatial::measure::path_length_m(&self.points)
    }

    pub fn area_m2(&self) -> f64 {
        crate::spatial::measure::polygon_area_m2(&self.points)
    }

    /// The figures as text, for the window and the clipboard.
    pub fn figures(&self) -> String {
        use crate::spatial::measure::{format_area, format_length};
        let mut s = format!("distance {} ({} points)", format_length(self.length_m()), self.points.len());
        if self.points.len() >= 3 {
            s.push_str(&format!("; area {} (closed)", format_area(self.area_m2())));
        }
        s
    }
}

/// A layer's place in `Atlas::layers` (layers are only appended, so it never changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LayerId(pub usize);

/// What the user and the renderer know about one layer, kept in one record so nothing about a
/// layer can fall out of step with the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerState {
    pub visible: bool,
    pub opacity: f32,
    /// Its meshes exist (something of it is on screen when visible).
    pub shown: bool,
}

/// Per-layer display state, one [`LayerState`] per atlas layer, plus the label options.
#[derive(Resource, Debug, Clone)]
pub struct LayerView {
    layers: Vec<LayerState>,
    pub lang: Lang,
    pub labels: bool,
}

impl LayerView {
    pub fn new(atlas: &Atlas, lang: Lang) -> Self {
        let mut v = LayerView { layers: Vec::new(), lang, labels: true };
        for l in &atlas.layers {
            v.push(&l.meta);
        }
        v
    }

    /// The record for a layer just appended to the atlas.
    pub fn push(&mut self, meta: &crate::geodata::LayerMeta) -> LayerId {
        self.layers.push(LayerState { visible: meta.visible, opacity: meta.opacity, shown: false });
        LayerId(self.layers.len() - 1)
    }

    pub fn get(&self, id: LayerId) -> Option<&LayerState> {
        self.layers.get(id.0)
    }

    pub fn get_mut(&mut self, id: LayerId) -> Option<&mut LayerState> {
        self.layers.get_mut(id.0)
    }

    /// Whether a layer is switched on (an unknown layer is not).
    pub fn is_visible(&self, id: LayerId) -> bool {
        self.get(id).is_some_and(|l| l.visible)
    }

    pub fn len(&self) -> usize {
        self.layers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (LayerId, &LayerState)> {
        self.layers.iter().enumerate().map(|(i, l)| (LayerId(i), l))
    }

    /// Every layer has something on screen.
    pub fn all_shown(&self) -> bool {
        !self.layers.is_empty() && self.layers.iter().all(|l| l.shown)
    }
}

/// Problems to show in the problems window: [`Diagnostic`]s with file, position and severity,
/// aggregated and bounded like every diagnostic list.
#[derive(Resource, Default, Debug, Clone)]
pub struct Problems {
    pub list: Diagnostics,
    /// Whether the window is open; a new error opens it, a warning does not.
    pub open: bool,
}

impl Problems {
    /// Adds a problem; each kind is logged once (a layer with 100,000 bad rings is one log line).
    pub fn push(&mut self, d: Diagnostic) {
        let text = d.to_string();
        let severity = d.severity;
        if !self.list.push(d) {
            return;
        }
        match severity {
            Severity::Error => {
                error!("{text}");
                self.open = true;
            }
            Severity::Warning => warn!("{text}"),
        }
    }

    /// Something in `file` (a path or a URL) could not be used.
    pub fn error(&mut self, file: impl Into<PathBuf>, message: impl Into<String>) {
        self.push(Diagnostic::error(file, Position::File, message));
    }

    /// Something in `file` was used with a caveat.
    pub fn warning(&mut self, file: impl Into<PathBuf>, message: impl Into<String>) {
        self.push(Diagnostic::warning(file, Position::File, message));
    }

    pub fn extend(&mut self, d: impl IntoIterator<Item = Diagnostic>) {
        for x in d {
            self.push(x);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// Requests from UI and input to change data; handled in one place so that every path (CLI,
/// drag-and-drop, the open dialog) behaves the same.
#[derive(Message, Debug, Clone)]
pub enum AtlasCommand {
    LoadLayer(PathBuf),
    /// Read a file with what the user answered about it: coordinate system, table or sheet,
    /// coordinate columns, encoding.
    OpenLayer(PathBuf, Box<crate::formats::OpenOptions>),
    LoadDocument(PathBuf),
    /// Select a place by id and fly to it.
    FocusPlace(String),
    /// Name a layer's features from this attribute (none: no names).
    NameField(LayerId, Option<String>),
    /// Colour a layer by the categories of this attribute (none: its one colour).
    StyleBy(LayerId, Option<String>),
    /// The planner's verdict from the review list: `name` means place `place` (or never does).
    Verdict {
        name: String,
        place: String,
        confirm: bool,
    },
    /// Features of a layer were edited: re-index, re-tessellate, and re-link when `names` changed.
    /// A layer the edit made (the planner's own) gets its record here.
    FeaturesChanged {
        layer: LayerId,
        names: bool,
    },
    /// A view link pasted into the toolbar: go where it says.
    OpenView(Box<crate::viewlink::ViewLink>),
    /// The planner's date for document `.0` (`None`: what the document says).
    DocumentDate(usize, Option<crate::text::date::ReportDate>),
}

/// Documents being read and linked on a worker thread: a file or a whole folder each. The
/// status bar shows their progress and offers to cancel (see [`Progress::cancel`]).
#[derive(Resource, Default)]
pub struct DocumentReading {
    pub jobs: Vec<DocumentJob>,
}

/// One reading: what it reads, how far it is, and where the worker leaves what it read.
pub struct DocumentJob {
    pub path: PathBuf,
    pub progress: std::sync::Arc<Progress>,
    /// The gazetteer the worker links with: if a verdict replaces it meanwhile, the documents
    /// are linked again when they arrive.
    pub linked_with: std::sync::Arc<crate::gazetteer::Gazetteer>,
    pub result: std::sync::Arc<std::sync::Mutex<Option<DocumentsRead>>>,
}

/// What a worker read: the documents, or the error of a file named directly.
pub type DocumentsRead = Result<crate::atlas::Loaded, crate::document::DocumentError>;

/// The reports' date range the map and the coverage view show (None: every report). Set by the
/// timeline in the document panel.
#[derive(Resource, Default, Debug, Clone, Copy, PartialEq)]
pub struct Timeline {
    pub range: Option<DateRange>,
}

/// A file being opened needs an answer from the user before it can be read: the open dialog
/// shows it (panels) and the answer comes back as [`AtlasCommand::OpenLayer`].
#[derive(Debug, Clone)]
pub struct OpenQuestion {
    pub path: PathBuf,
    /// What was already said about the file.
    pub options: crate::formats::OpenOptions,
    pub ask: Ask,
}

#[derive(Debug, Clone)]
pub enum Ask {
    /// The file does not say its coordinate system (a table never does): these are what the
    /// coordinates could be, the likeliest first; a table also shows its columns to confirm.
    Crs { guesses: Vec<crate::spatial::crs::CrsGuess>, table: Option<Box<crate::formats::table::TablePreview>> },
    /// The file holds several layers and one must be chosen (a zip of Shapefiles).
    Layer { available: Vec<String>, message: String },
}

/// Questions waiting for the user, oldest first.
#[derive(Resource, Debug, Default)]
pub struct OpenQuestions(pub Vec<OpenQuestion>);

/// What is still on its way to the screen, written by the layers and basemap plugins each frame
/// and read by those that wait for a finished picture (screenshots, the pan benchmark).
#[derive(Resource, Debug, Clone, Copy, Default, PartialEq)]
pub struct Readiness {
    /// Every layer has something on screen and no file is being read.
    pub layers_shown: bool,
    /// Nothing left to read, tessellate or upload for the current view.
    pub layers_settled: bool,
    /// No tessellation (overview or detail) is under way.
    pub tessellation_idle: bool,
    /// Every basemap tile the view needs has arrived or failed (true without a basemap).
    pub tiles_settled: bool,
    /// Every vector tile source has the view's tiles on screen, or failed (true without any).
    pub vector_settled: bool,
    /// Every vector tile on screen is drawn from its baked image where it can be (true without
    /// any): the view draws as cheaply as it will.
    pub vector_baked: bool,
    /// Vector tile reads started so far (HTTP requests, range reads, SQLite queries).
    pub vector_reads: usize,
    /// The renderer had every pipeline it was asked for when it drew the last frame
    /// (`render_ready`); false without a renderer.
    pub pipelines_ready: bool,
}

impl Readiness {
    /// Everything the view needs is loaded, tessellated and arrived (pipelines aside).
    pub fn data_settled(&self) -> bool {
        self.layers_settled && self.tiles_settled && self.vector_settled
    }
}

/// Inserts the state every plugin shares; tests use it with `MinimalPlugins` (which lacks the
/// state machinery, so it is added here when missing).
pub fn insert_core_state(app: &mut App, atlas: Atlas, lang: Lang) {
    if !app.is_plugin_added::<bevy::state::app::StatesPlugin>() {
        app.add_plugins(bevy::state::app::StatesPlugin);
    }
    let mut problems = Problems::default();
    problems.extend(atlas.diagnostics.iter().cloned());
    let view = LayerView::new(&atlas, lang);
    app.insert_resource(AtlasRes::new(atlas))
        .insert_resource(Selection::default())
        .insert_resource(HoverEnabled(true))
        .insert_resource(view)
        .insert_resource(problems)
        .init_resource::<OpenQuestions>()
        .init_resource::<DocumentReading>()
        .init_resource::<Timeline>()
        .init_resource::<Measure>()
        .insert_resource(Readiness { tiles_settled: true, vector_settled: true, vector_baked: true, ..default() })
        .init_state::<AppMode>()
        .add_message::<AtlasCommand>()
        .configure_sets(Update, (MapSet::Input, MapSet::Present, MapSet::Pick, MapSet::Content).chain());
}

/// An app with `MinimalPlugins` and the built-in atlas's shared state: what every plugin's test
/// starts from before adding the one plugin it tests.
#[cfg(test)]
pub fn minimal_app() -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins);
    insert_core_state(&mut app, Atlas::builtin(), Lang::Hant);
    app
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_record_per_layer_follows_the_atlas() {
        let mut atlas = Atlas::builtin();
        let mut view = LayerView::new(&atlas, Lang::Hant);
        assert_eq!(view.len(), atlas.layers.len());
        let layer = crate::synth::polygons(3, 5, 1);
        let i = atlas.add_layer(layer);
        assert_eq!(view.push(&atlas.layers[i].meta), LayerId(i));
        assert!(view.is_visible(LayerId(i)) && !view.all_shown());
        assert!(!view.is_visible(LayerId(99)));
    }

    #[test]
    fn warnings_do_not_open_the_problems_window_errors_do() {
        let mut p = Problems::default();
        p.warning("a.geojson", "stopped after 500 pages");
        assert!(!p.open && !p.is_empty());
        p.error("b.geojson", "cannot read");
        assert!(p.open);
    }

    #[test]
    fn labels_fall_back_to_any_name() {
        assert_eq!(Lang::En.pick("太倉", "太仓", ""), "太倉");
        assert_eq!(Lang::Hans.pick("太倉", "太仓", "Taicang"), "太仓");
    }
}
