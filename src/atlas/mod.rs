//! The atlas: layers, their styles, the gazetteer and the linked documents, from the built-in
//! data (embedded in the binary, so it runs from anywhere) or from a user's folder.

pub mod audit;
mod documents;
mod edits;
mod relink;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;

pub use documents::{DATES_FILE, DateStore, Loaded, document_json, read_paths};
pub use relink::{LinkJob, Linked};

use crate::document::{Document, DocumentError};
use crate::gazetteer::{Gazetteer, GazetteerFile, Matcher};
use crate::geodata::{
    Diagnostic, Diagnostics, Feature, Layer, LayerMeta, LoadError, Position, ReadOptions, parse_layer,
};
use crate::index::FeatureRef;

/// `layers.json`: layer order, styles and which documents and gazetteer belong to the atlas.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub layers: Vec<LayerMeta>,
    #[serde(default)]
    pub documents: Vec<String>,
    #[serde(default)]
    pub gazetteer: Option<String>,
    /// The "zoom to all" view, [west, south, east, north]; all layers' bounds when absent.
    #[serde(default)]
    pub home: Option<[f64; 4]>,
    /// Vector tile sources (PostGIS/Martin, PMTiles, MBTiles) and their layers' looks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tile_layers: Vec<crate::tiles::vector::style::TileLayerEntry>,
}

/// Files shipped inside the binary: the output of `port-atlas build-atlas`, checked in under `geodata/`.
pub const BUILTIN_FILES: &[(&str, &[u8])] = &[
    ("layers.json", include_bytes!("../../geodata/layers.json")),
    ("gazetteer.json", include_bytes!("../../geodata/gazetteer.json")),
    ("suzhou-port-meeting.txt", include_bytes!("../../geodata/suzhou-port-meeting.txt")),
    ("context.geojson", include_bytes!("../../geodata/context.geojson")),
    ("water.geojson", include_bytes!("../../geodata/water.geojson")),
    ("ports.geojson", include_bytes!("../../geodata/ports.geojson")),
    ("zones.geojson", include_bytes!("../../geodata/zones.geojson")),
    ("corridors.geojson", include_bytes!("../../geodata/corridors.geojson")),
    ("sites.geojson", include_bytes!("../../geodata/sites.geojson")),
];

/// The label built-in files carry in paths and messages.
pub const BUILTIN_PREFIX: &str = "<built-in>";

#[derive(Debug, thiserror::Error)]
pub enum AtlasError {
    #[error("{0}: not a folder (give --data a folder of .geojson files)")]
    NotADir(PathBuf),
    #[error("{path}: cannot read folder: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    Manifest { path: PathBuf, line: usize, column: usize, message: String },
}

enum Source {
    Builtin,
    Dir(PathBuf),
}

impl Source {
    fn path(&self, name: &str) -> PathBuf {
        match self {
            Source::Builtin => Path::new(BUILTIN_PREFIX).join(name),
            Source::Dir(d) => d.join(name),
        }
    }
    fn read(&self, name: &str) -> std::io::Result<Vec<u8>> {
        match self {
            Source::Builtin => BUILTIN_FILES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| b.to_vec())
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "not a built-in file")),
            Source::Dir(d) => std::fs::read(d.join(name)),
        }
    }
}

/// Everything the app and the CLI work on.
#[derive(Clone)]
pub struct Atlas {
    /// Every layer with its style, in drawing order. Layers are only ever appended, so an index
    /// into this list stays valid for the atlas's lifetime.
    pub layers: Vec<Layer>,
    /// Shared with threads that link documents while the app runs (see [`Atlas::linker`]).
    pub gazetteer: Arc<Gazetteer>,
    pub matcher: Arc<Matcher>,
    pub documents: Vec<Document>,
    /// The planner's corrections to documents' dates.
    dates: DateStore,
    /// Every problem met while loading, as shown to the user; loading goes on past them.
    pub diagnostics: Diagnostics,
    /// The home view, [west, south, east, north], from the manifest.
    pub home: Option<[f64; 4]>,
    /// The data folder it was loaded from (`--data`), where `layers.json` is saved.
    pub dir: Option<PathBuf>,
    /// Vector tile sources from `layers.json`, file paths made absolute; the app opens them.
    pub tile_layers: Vec<crate::tiles::vector::style::TileLayerEntry>,
    gazetteer_file: GazetteerFile,
    gazetteer_path: PathBuf,
    /// Where the planner's verdicts are saved, and what that file holds: the data folder's
    /// `gazetteer.json` (all of it), or for the built-in atlas an overlay of the planner's own
    /// additions (see [`Atlas::use_overlay`]). `None`: verdicts apply to this session only.
    verdicts: Option<(PathBuf, GazetteerFile)>,
    /// Where the planner's edits are saved, when not the data folder's (see [`Atlas::use_edits`]).
    edits_file: Option<PathBuf>,
    /// Re-links are handed out as jobs instead of run at once (see `relink.rs`).
    deferred_links: bool,
    pending_link: Option<relink::LinkJob>,
    /// The newest re-link asked for, and the newest applied.
    link_generation: u64,
    applied_generation: u64,
}

/// The id of the layer that draws the places documents mention but no layer has.
pub const MENTIONED_LAYER: &str = "mentioned";

impl Atlas {
    /// The atlas shipped in the binary.
    pub fn builtin() -> Self {
        Self::load(Source::Builtin, false).expect("the built-in manifest is valid (tested)")
    }

    /// The built-in atlas with full topology validation, for `port-atlas check`.
    pub fn builtin_checked() -> Self {
        Self::load(Source::Builtin, true).expect("the built-in manifest is valid (tested)")
    }

    /// A user's data folder: `layers.json` if present, otherwise every `.geojson`, `gazetteer.json`
    /// and `.txt` in it.
    pub fn from_dir(dir: &Path) -> Result<Self, AtlasError> {
        Self::from_dir_with(dir, false)
    }

    /// Like [`Atlas::from_dir`]; `topology` also checks every polygon for self-intersections.
    pub fn from_dir_with(dir: &Path, topology: bool) -> Result<Self, AtlasError> {
        if !dir.is_dir() {
            return Err(AtlasError::NotADir(dir.to_path_buf()));
        }
        Self::load(Source::Dir(dir.to_path_buf()), topology)
    }

    fn load(src: Source, topology: bool) -> Result<Self, AtlasError> {
        let manifest = match src.read("layers.json") {
            Ok(bytes) => serde_json::from_slice::<Manifest>(&bytes).map_err(|e| AtlasError::Manifest {
                path: src.path("layers.json"),
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            })?,
            Err(_) => match &src {
                Source::Dir(d) => scan_dir(d)?,
                Source::Builtin => Manifest::default(),
            },
        };
        let mut diagnostics = Diagnostics::new();
        let mut layers = Vec::new();
        for meta in manifest.layers {
            if let (Some(source), Source::Dir(dir)) = (meta.source.clone(), &src) {
                diagnostics.extend(load_source(dir, &source, meta, &mut layers));
                continue;
            }
            let name = format!("{}.geojson", meta.id);
            let path = src.path(&name);
            let loaded = src
                .read(&name)
                .map_err(|source| LoadError::Io { path: path.clone(), source })
                .and_then(|bytes| parse_layer(&path, &bytes, ReadOptions { topology, ..Default::default() }));
            match loaded {
                Ok((layer, diags)) => {
                    diagnostics.extend(diags);
                    layers.push(Layer { meta, ..layer });
                }
                Err(e) => {
                    diagnostics.push(e.to_diagnostic());
                }
            }
        }
        let (gazetteer_file, gazetteer_path) = match &manifest.gazetteer {
            Some(name) => {
                let path = src.path(name);
                let parsed = src
                    .read(name)
                    .map_err(|e| format!("cannot read: {e}"))
                    .and_then(|b| String::from_utf8(b).map_err(|e| format!("not UTF-8: {e}")))
                    .and_then(|t| GazetteerFile::parse(&path, &t).map_err(|e| e.to_string()));
                match parsed {
                    Ok(f) => (f, path),
                    Err(message) => {
                        diagnostics.push(Diagnostic::error(path.clone(), Position::File, message));
                        (GazetteerFile::default(), path)
                    }
                }
            }
            // A folder whose layers.json predates its gazetteer.json (the review list writes one).
            None => match &src {
                Source::Dir(d) if d.join("gazetteer.json").is_file() => {
                    let path = d.join("gazetteer.json");
                    match GazetteerFile::load(&path) {
                        Ok(f) => (f, path),
                        Err(e) => {
                            diagnostics.push(Diagnostic::error(path.clone(), Position::File, e.to_string()));
                            (GazetteerFile::default(), path)
                        }
                    }
                }
                _ => (GazetteerFile::default(), PathBuf::new()),
            },
        };
        let verdicts = match &src {
            Source::Dir(d) => {
                let path = if gazetteer_path.starts_with(d) && !gazetteer_path.as_os_str().is_empty() {
                    gazetteer_path.clone()
                } else {
                    d.join("gazetteer.json")
                };
                let saved = if path == gazetteer_path { gazetteer_file.clone() } else { GazetteerFile::default() };
                Some((path, saved))
            }
            Source::Builtin => None,
        };
        let mut atlas = Atlas {
            layers,
            gazetteer: Arc::new(Gazetteer::default()),
            matcher: Arc::new(Matcher::new(&Gazetteer::default())),
            documents: Vec::new(),
            dates: DateStore::default(),
            diagnostics,
            home: manifest.home,
            tile_layers: manifest
                .tile_layers
                .iter()
                .map(|t| match &src {
                    Source::Dir(d) if !crate::http::is_url(&t.source) => crate::tiles::vector::style::TileLayerEntry {
                        source: d.join(&t.source).display().to_string(),
                        ..t.clone()
                    },
                    _ => t.clone(),
                })
                .collect(),
            dir: match &src {
                Source::Dir(d) => Some(d.clone()),
                Source::Builtin => None,
            },
            gazetteer_file,
            gazetteer_path,
            verdicts,
            edits_file: None,
            deferred_links: false,
            pending_link: None,
            link_generation: 0,
            applied_generation: 0,
        };
        atlas.relink();
        if let Source::Dir(d) = &src {
            atlas.use_edits(&d.join(crate::edit::store::EDITS_FILE));
        }
        if let Source::Dir(d) = &src {
            let (store, problem) = DateStore::open(&d.join(DATES_FILE));
            atlas.diagnostics.extend(problem);
            atlas.dates = store;
        }
        let mut docs = Vec::new();
        for name in &manifest.documents {
            let path = src.path(name);
            let read = src.read(name).map_err(|source| DocumentError::Io { path: path.clone(), source });
            match read.and_then(|bytes| Document::from_bytes(&path, &bytes, &atlas.matcher, &atlas.gazetteer)) {
                Ok(d) => docs.push(d),
                Err(e) => {
                    atlas.diagnostics.push(Diagnostic::from_error(&path, &e));
                }
            }
        }
        let linked_with = Arc::clone(&atlas.gazetteer);
        atlas.add_documents(docs, &linked_with);
        atlas.refresh_mentioned();
        Ok(atlas)
    }

    /// `$XDG_CONFIG_HOME/port-atlas/gazetteer.json`: the built-in atlas's overlay.
    pub fn overlay_path() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("port-atlas").join("gazetteer.json"))
    }

    /// For the built-in atlas: the planner's own gazetteer additions and verdicts, kept in
    /// `path` (in the config folder) since the built-in data cannot be written. A missing file
    /// is an empty overlay; an unreadable one is reported and left untouched.
    pub fn use_overlay(&mut self, path: &Path) {
        let overlay = if path.is_file() {
            match GazetteerFile::load(path) {
                Ok(f) => f,
                Err(e) => {
                    self.diagnostics.push(Diagnostic::error(path, Position::File, e.to_string()));
                    return;
                }
            }
        } else {
            GazetteerFile::default()
        };
        // A file that adds nothing (most users have none) leaves the links as they are: linking
        // again would cost the start-up a second matcher build and pass over every document.
        let adds = !overlay.is_empty();
        let f = &mut self.gazetteer_file;
        for (k, v) in &overlay.aliases {
            f.aliases.entry(k.clone()).or_default().extend(v.iter().cloned());
        }
        f.places.extend(overlay.places.iter().cloned());
        f.not_places.extend(overlay.not_places.iter().cloned());
        f.variants.extend(overlay.variants.clone());
        f.confirmed.extend(overlay.confirmed.clone());
        for (k, v) in &overlay.rejected {
            f.rejected.entry(k.clone()).or_default().extend(v.iter().cloned());
        }
        self.verdicts = Some((path.to_path_buf(), overlay));
        if adds {
            self.relink();
            self.refresh_mentioned();
        }
    }

    /// The planner's verdict on a name from the review list: `name` means `place` (confirm) or
    /// never means it (reject). Saved at once (the previous file kept as `.bak`) so the next
    /// run knows, then every document is re-linked. Returns the file written, if any.
    pub fn record_verdict(&mut self, name: &str, place: &str, confirm: bool) -> std::io::Result<Option<PathBuf>> {
        self.gazetteer_file.record_verdict(name, place, confirm);
        let written = match &mut self.verdicts {
            Some((path, saved)) => {
                saved.record_verdict(name, place, confirm);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                if path.exists() {
                    std::fs::copy(&*path, path.with_extension("json.bak"))?;
                }
                let text = serde_json::to_string_pretty(saved).map_err(std::io::Error::other)?;
                crate::geodata::write_atomic(path, text.as_bytes())?;
                if self.gazetteer_path.as_os_str().is_empty() {
                    self.gazetteer_path = path.clone();
                }
                Some(path.clone())
            }
            None => None,
        };
        self.relink();
        self.refresh_mentioned();
        Ok(written)
    }

    /// Draws every mentioned place that no layer draws: a disc as wide as its position's
    /// accuracy, in the [`MENTIONED_LAYER`] layer (made the first time there is one, then
    /// updated in place so layer indices stay valid). Returns that layer's index when it changed.
    pub fn refresh_mentioned(&mut self) -> Option<usize> {
        let mut mentioned: Vec<usize> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for d in &self.documents {
            for p in &d.passages {
                for m in &p.mentions {
                    if let Some(i) = self.gazetteer.position(&m.place)
                        && seen.insert(i)
                    {
                        mentioned.push(i);
                    }
                }
            }
        }
        let features: Vec<Feature> = mentioned
            .into_iter()
            .filter_map(|i| {
                let p = &self.gazetteer.places[i];
                if p.layer.as_deref().is_some_and(|l| l != MENTIONED_LAYER) {
                    return None;
                }
                let [lon, lat] = p.lon_lat?;
                Some(mentioned_feature(p, lon, lat, self.gazetteer.parent_name(i)))
            })
            .collect();
        let existing = self.layers.iter().position(|l| l.id == MENTIONED_LAYER);
        if features.is_empty() && existing.is_none() {
            return None;
        }
        for f in &features {
            if let Some(i) = self.gazetteer.position(&f.id) {
                let g = Arc::make_mut(&mut self.gazetteer);
                g.places[i].layer = Some(MENTIONED_LAYER.to_string());
                g.places[i].bounds = f.bounds();
            }
        }
        match existing {
            Some(i) => {
                let same = self.layers[i].features.iter().map(|f| &f.id).eq(features.iter().map(|f| &f.id));
                if same {
                    return None;
                }
                self.layers[i].features = features;
                Some(i)
            }
            None => {
                let mut meta = LayerMeta::fallback(MENTIONED_LAYER);
                meta.title_zh_hant = "文中地點".into();
                meta.title_zh_hans = "文中地点".into();
                meta.title_en = "Mentioned places".into();
                meta.color = "#e8590c".into();
                meta.opacity = 0.3;
                meta.label_rank = 3;
                self.layers.push(Layer {
                    id: MENTIONED_LAYER.to_string(),
                    path: Path::new(BUILTIN_PREFIX).join("mentioned places"),
                    features,
                    meta,
                    provenance: None,
                });
                Some(self.layers.len() - 1)
            }
        }
    }

    /// Adds a GeoJSON file as a new layer; its named features join the gazetteer. On error
    /// nothing changes. Returns the layer index and the file's non-fatal problems.
    pub fn add_layer_file(&mut self, path: &Path) -> Result<(usize, Vec<Diagnostic>), LoadError> {
        let (layer, diags) = read_user_layer(path)?;
        Ok((self.add_layer(layer), diags))
    }

    /// Adds an already-read layer (see [`read_user_layer`], which can run on another thread).
    pub fn add_layer(&mut self, mut layer: Layer) -> usize {
        let mut id = layer.id.clone();
        let mut n = 2;
        while self.layers.iter().any(|l| l.id == id) {
            id = format!("{}-{n}", layer.id);
            n += 1;
        }
        let source = layer.meta.source.take().or_else(|| {
            // A GeoJSON file read as it is: its path is all it takes to open it again.
            layer
                .path
                .is_file()
                .then(|| crate::geodata::LayerSource { file: layer.path.display().to_string(), ..Default::default() })
        });
        let named = layer.meta.name_field.take();
        layer.meta = LayerMeta::fallback(&id);
        layer.meta.source = source;
        layer.meta.name_field = named;
        name_features(&mut layer);
        layer.id = id;
        give_ids(&mut layer);
        self.layers.push(layer);
        let index = self.layers.len() - 1;
        self.relink();
        // May append the mentioned-places layer after this one: `index` stays this layer's.
        self.refresh_mentioned();
        index
    }

    /// Names layer `layer`'s features from another attribute (or none) and re-links.
    pub fn set_name_field(&mut self, layer: usize, field: Option<&str>) {
        if let Some(l) = self.layers.get_mut(layer) {
            l.apply_name_field(field);
            self.relink();
            self.refresh_mentioned();
        }
    }

    /// Saves the layers (order, styles, name fields, files and the answers they needed), the
    /// documents and the home view as `layers.json` in the data folder, keeping the previous one
    /// as `layers.json.bak`: what a planner set up opens the same way next time.
    pub fn save_manifest(&self, dir: &Path) -> std::io::Result<PathBuf> {
        self.save_manifest_with(dir, &self.tile_layers)
    }

    /// [`Atlas::save_manifest`] with the vector tile sources as the app has them now.
    pub fn save_manifest_with(
        &self,
        dir: &Path,
        tile_layers: &[crate::tiles::vector::style::TileLayerEntry],
    ) -> std::io::Result<PathBuf> {
        let relative =
            |p: &Path| p.strip_prefix(dir).map(|r| r.display().to_string()).unwrap_or_else(|_| p.display().to_string());
        let layers = self
            .layers
            .iter()
            // Derived from documents, and from the edits file: neither is a layer file of its own.
            .filter(|l| l.id != MENTIONED_LAYER && l.id != crate::edit::store::USER_LAYER)
            .map(|l| {
                let mut meta = l.meta.clone();
                meta.id = l.id.clone();
                let in_folder_geojson = l.path.parent() == Some(dir)
                    && l.path.file_name().is_some_and(|n| *n == *format!("{}.geojson", l.id));
                meta.source = match meta.source.take() {
                    _ if in_folder_geojson => None,
                    Some(mut s) => {
                        s.file = relative(Path::new(&s.file));
                        Some(s)
                    }
                    None => Some(crate::geodata::LayerSource { file: relative(&l.path), ..Default::default() }),
                };
                meta
            })
            .collect();
        let manifest = Manifest {
            layers,
            documents: self.documents.iter().map(|d| relative(&d.path)).collect(),
            gazetteer: (!self.gazetteer_path.as_os_str().is_empty()).then(|| relative(&self.gazetteer_path)),
            home: self.home,
            tile_layers: tile_layers
                .iter()
                .map(|t| crate::tiles::vector::style::TileLayerEntry {
                    source: if crate::http::is_url(&t.source) {
                        t.source.clone()
                    } else {
                        relative(Path::new(&t.source))
                    },
                    ..t.clone()
                })
                .collect(),
        };
        let path = dir.join("layers.json");
        if path.exists() {
            std::fs::copy(&path, dir.join("layers.json.bak"))?;
        }
        let text = serde_json::to_string_pretty(&manifest).map_err(std::io::Error::other)?;
        crate::geodata::write_atomic(&path, text.as_bytes())?;
        Ok(path)
    }

    pub fn feature(&self, r: FeatureRef) -> Option<&Feature> {
        self.layers.get(r.layer as usize)?.features.get(r.feature as usize)
    }

    /// The feature drawing place `id`, if any layer has it.
    pub fn feature_of(&self, id: &str) -> Option<FeatureRef> {
        self.layers.iter().enumerate().find_map(|(li, l)| {
            l.features.iter().position(|f| f.id == id).map(|fi| FeatureRef { layer: li as u32, feature: fi as u32 })
        })
    }

    /// A place's representative point: its own (a seat of government, a GeoNames town, a
    /// point feature), else an interior point of the feature that draws it.
    pub fn representative_point(&self, p: &crate::gazetteer::Place) -> Option<[f64; 2]> {
        use geo::InteriorPoint;
        p.lon_lat.or_else(|| {
            let f = self.feature(self.feature_of(&p.id)?)?;
            f.geometry.interior_point().map(|pt| [pt.x(), pt.y()])
        })
    }
}

/// The widest disc the mentioned layer draws. A town the sources place only at its county's seat
/// has its county's extent as accuracy (Wuzhong's streets ±69 km, because the district takes in
/// Taihu): drawn at full size, five of them tint a whole map of Suzhou and one click anywhere picks
/// them. A 30 km disc still says "somewhere in this county"; the feature keeps the true accuracy,
/// and `drawn_radius_m` says it was drawn smaller.
pub const MAX_DRAWN_RADIUS_M: f64 = 30_000.0;

/// Positions less precise than this are drawn as a ring with a dot at the point instead of a
/// filled disc: a dozen zones placed at their county's seat (±18-30 km) drew filled discs that
/// covered the whole map of Suzhou in one tint, hid the precise places under them and took every
/// click. A ring still says "somewhere in here"; the dot says where the point is.
pub const RING_FROM_M: f64 = 5_000.0;
/// The ring's width, as a share of its radius (a 30 km ring is 1.2 km wide).
const RING_WIDTH: f64 = 0.04;
/// The dot at an imprecise place's point: the size of the smallest disc.
const DOT_RADIUS_M: f64 = 300.0;

/// A closed 48-sided ring of radius `r_m` metres around a point (lon/lat).
fn circle(lon: f64, lat: f64, r_m: f64) -> geo::LineString<f64> {
    let (dx, dy) = (r_m / (111_320.0 * lat.to_radians().cos().max(0.01)), r_m / 110_540.0);
    (0..=48)
        .map(|k| {
            let a = (k % 48) as f64 / 48.0 * std::f64::consts::TAU;
            (lon + dx * a.cos(), lat + dy * a.sin())
        })
        .collect()
}

/// A mentioned place's shape: the line around a planning region's extent; a disc of its
/// accuracy's radius (at least 300 m, so a precise point stays visible and clickable); above
/// [`RING_FROM_M`], a ring of that radius (at most [`MAX_DRAWN_RADIUS_M`]) around a dot.
fn mentioned_geometry(p: &crate::gazetteer::Place, lon: f64, lat: f64) -> (geo::Geometry<f64>, f64) {
    let accuracy = p.accuracy_m.unwrap_or(5_000.0);
    let r = accuracy.clamp(DOT_RADIUS_M, MAX_DRAWN_RADIUS_M);
    // A planning region is drawn as the line around its extent: a disc around the mean of 41
    // cities would show 长三角 as a spot near Liyang, and a filled hull would tint every map of
    // the region.
    if p.extent.len() >= 4 {
        let line: geo::LineString<f64> = p.extent.iter().map(|&[x, y]| (x, y)).collect();
        return (geo::Geometry::LineString(line), r);
    }
    if accuracy <= RING_FROM_M {
        return (geo::Geometry::Polygon(geo::Polygon::new(circle(lon, lat, r), vec![])), r);
    }
    // The ring's hole is wound the other way round, as GeoJSON wants.
    let mut hole = circle(lon, lat, r * (1.0 - RING_WIDTH));
    hole.0.reverse();
    let ring = geo::Polygon::new(circle(lon, lat, r), vec![hole]);
    let dot = geo::Polygon::new(circle(lon, lat, DOT_RADIUS_M), vec![]);
    (geo::Geometry::MultiPolygon(geo::MultiPolygon(vec![ring, dot])), r)
}

/// A mentioned place as a feature (see [`mentioned_geometry`]), carrying its names, level, code,
/// source and its accuracy as the table gives it.
fn mentioned_feature(p: &crate::gazetteer::Place, lon: f64, lat: f64, parent: Option<&str>) -> Feature {
    let accuracy = p.accuracy_m.unwrap_or(5_000.0);
    let (geometry, r) = mentioned_geometry(p, lon, lat);
    let mut extra = serde_json::Map::new();
    if let Some(code) = &p.admin_code {
        extra.insert("admin_code".into(), json!(code));
    }
    if let Some(level) = p.level {
        extra.insert("level".into(), json!(level.label()));
    }
    if let Some(parent) = parent {
        extra.insert("parent".into(), json!(parent));
    }
    extra.insert("lon_lat".into(), json!([lon, lat]));
    if r != accuracy && p.extent.is_empty() {
        extra.insert("drawn_radius_m".into(), json!(r));
    }
    if !p.note.is_empty() {
        extra.insert("note".into(), json!(p.note));
    }
    Feature {
        id: p.id.clone(),
        name_zh_hant: p.name_zh_hant.clone(),
        name_zh_hans: p.name_zh_hans.clone(),
        name_en: p.name_en.clone(),
        kind: p.level.map_or("place", |l| l.label()).to_string(),
        accuracy: crate::geodata::Accuracy::Metres(accuracy),
        source: p.source.clone(),
        extra,
        geometry,
    }
}

/// Reads a user's GeoJSON file for [`Atlas::add_layer`]. Schema gaps (a missing `name_en`, say)
/// are warnings here: a planner's own layer need not follow the atlas schema to be drawn.
pub fn read_user_layer(path: &Path) -> Result<(Layer, Vec<Diagnostic>), LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io { path: path.to_path_buf(), source })?;
    let opts = ReadOptions { strict_schema: false, topology: false, ..Default::default() };
    let (layer, diags) = parse_layer(path, &bytes, opts)?;
    if layer.features.is_empty() {
        let why = diags.first().map_or("the file has no features".to_string(), |d| d.to_string());
        return Err(LoadError::NotGeoJson { path: path.to_path_buf(), message: format!("no usable features ({why})") });
    }
    Ok((layer, diags))
}

/// Names a planner's features from the attribute that most likely holds their names, unless they
/// carry the atlas's own names or a name field was already applied. A pass over every feature
/// (100,000 parcels: a tenth of a second), so the app runs it on the thread that read the file,
/// and [`Atlas::add_layer`] finds it done.
pub fn name_features(layer: &mut Layer) {
    if layer.meta.name_field.is_none() && !layer.has_atlas_names() {
        let field = layer.guess_name_field();
        layer.apply_name_field(field.as_deref());
    }
}

/// A planner's features have no ids: they get `LAYER#N`, so they can be selected, linked to
/// passages and exported.
fn give_ids(layer: &mut Layer) {
    let id = layer.id.clone();
    for (n, f) in layer.features.iter_mut().enumerate() {
        if f.id.is_empty() {
            f.id = format!("{id}#{}", n + 1);
        }
    }
}

/// Reads a `layers.json` entry whose file is in another format (or elsewhere), with the answers
/// saved for it; problems are returned, the layer (if any) pushed.
fn load_source(
    dir: &Path,
    source: &crate::geodata::LayerSource,
    meta: LayerMeta,
    layers: &mut Vec<Layer>,
) -> Vec<Diagnostic> {
    let path = dir.join(&source.file);
    let opened = crate::formats::OpenOptions::from_source(source)
        .map_err(|m| Diagnostic::error(dir.join("layers.json"), Position::File, format!("layer {:?}: {m}", meta.id)))
        .and_then(|opts| crate::formats::open(&path, &opts).map_err(|e| e.to_diagnostic()));
    match opened {
        Ok(mut o) => {
            let Some(mut layer) = (!o.layers.is_empty()).then(|| o.layers.remove(0)) else { return o.diagnostics };
            let name_field = meta.name_field.clone();
            layer.id = meta.id.clone();
            layer.meta = LayerMeta { source: Some(source.clone()), ..meta };
            if !layer.has_atlas_names() || name_field.is_some() {
                let field = name_field.or_else(|| layer.guess_name_field());
                layer.apply_name_field(field.as_deref());
            }
            give_ids(&mut layer);
            layers.push(layer);
            o.diagnostics
        }
        Err(d) => vec![d],
    }
}

/// Whether a data folder's file is a layer in a format other than GeoJSON.
fn other_format(name: &str) -> bool {
    use crate::formats::Format;
    let p = Path::new(name);
    matches!(
        Format::of(p),
        Some(Format::Shapefile | Format::Zip | Format::GeoPackage | Format::Kml | Format::Kmz | Format::Spreadsheet)
    ) && !name.ends_with(".dbf")
        && !name.ends_with(".shx")
        || name.ends_with(".csv")
}

fn scan_dir(dir: &Path) -> Result<Manifest, AtlasError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|source| AtlasError::Io { path: dir.to_path_buf(), source })?
        .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
        .collect();
    names.sort();
    let mut layers: Vec<LayerMeta> = names
        .iter()
        .filter(|n| *n != crate::edit::store::EDITS_FILE)
        .filter_map(|n| n.strip_suffix(".geojson"))
        .map(LayerMeta::fallback)
        .collect();
    // A planner's folder: Shapefiles, GeoPackages, KML and tables beside the GeoJSON.
    for n in names.iter().filter(|n| other_format(n)) {
        let stem = Path::new(n).file_stem().and_then(|s| s.to_str()).unwrap_or(n);
        let mut meta = LayerMeta::fallback(stem);
        meta.source = Some(crate::geodata::LayerSource { file: n.clone(), ..Default::default() });
        layers.push(meta);
    }
    let documents =
        names.iter().filter(|n| crate::text::extract::Format::from_path(Path::new(n)).is_some()).cloned().collect();
    let gazetteer = names.iter().find(|n| *n == "gazetteer.json").cloned();
    Ok(Manifest { layers, documents, gazetteer, home: None, tile_layers: Vec::new() })
}
