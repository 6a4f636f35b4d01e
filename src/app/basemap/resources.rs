//! The basemap's state, in three resources that change for different reasons: what the user
//! chose ([`BasemapChoice`]), the tile thread and what it was asked ([`TileLoader`]), and the
//! tiles on the GPU ([`GpuTiles`]).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::PathBuf;

use bevy::prelude::*;

use super::TileMaterial;
use crate::app::tile_plan::TileState;
use crate::proj::Crs;
use crate::settings::Settings;
use crate::tiles::fetch::{TileEvent, TileFetcher};
use crate::tiles::{NamedSource, TileCache, TileId, TileSource, builtin_sources};

/// Disk cache size limit.
pub const CACHE_LIMIT: u64 = 512 << 20;

/// Failures of one kind (e.g. "HTTP 500"): how many, and the first message in full.
#[derive(Debug, Clone)]
pub struct FailureKind {
    pub count: usize,
    pub example: String,
}

/// A cache size measured (or a clear done) on another thread: the size and any problem.
type SizeProbe = std::sync::Mutex<std::sync::mpsc::Receiver<(u64, Option<String>)>>;

/// The basemap the user chose and how it looks: what the panel edits and the settings file
/// remembers.
#[derive(Resource)]
pub struct BasemapChoice {
    /// Offered sources: the built-in ones, then one from `--basemap` or the custom field.
    pub choices: Vec<NamedSource>,
    /// Index into `choices`; `None` is the vector basemap alone.
    pub active: Option<usize>,
    pub opacity: f32,
    /// Grey and lightened, so the thematic colours stand out.
    pub muted: bool,
    pub custom_template: String,
    pub custom_gcj: bool,
    pub custom_error: Option<String>,
    /// The source changed and the loader has not followed yet.
    pub(super) dirty: bool,
    /// Bumped whenever a source choice is applied; with opacity and muted it tells, cheaply each
    /// frame, whether anything to remember may have changed.
    pub(super) epoch: u64,
    pub(super) remember: Option<Remember>,
}

/// Where the choice is remembered (interactive runs only), what was last written there, and
/// since when the current choice differs from it.
pub(super) struct Remember {
    pub(super) path: PathBuf,
    pub(super) saved: Settings,
    pub(super) last_key: (u64, u32, bool),
    pub(super) changed_at: Option<f64>,
}

impl BasemapChoice {
    pub fn new(initial: Option<TileSource>) -> Self {
        let mut choices = builtin_sources();
        let active = initial.map(|s| match choices.iter().position(|c| c.source == s) {
            Some(i) => i,
            None => {
                choices.push(NamedSource { id: "custom", title: format!("Custom: {}", s.host()), source: s });
                choices.len() - 1
            }
        });
        BasemapChoice {
            choices,
            active,
            opacity: 1.0,
            muted: false,
            custom_template: String::new(),
            custom_gcj: false,
            custom_error: None,
            dirty: true,
            epoch: 0,
            remember: None,
        }
    }

    pub fn source(&self) -> Option<&TileSource> {
        self.active.and_then(|i| self.choices.get(i)).map(|c| &c.source)
    }

    /// The chosen source's title, or "" for none.
    pub fn title(&self) -> &str {
        self.active.and_then(|i| self.choices.get(i)).map_or("", |c| c.title.as_str())
    }

    /// Chooses a source (`None`: vector basemap only); tiles of the old one are dropped.
    pub fn select(&mut self, choice: Option<usize>) {
        if choice != self.active {
            self.active = choice;
            self.dirty = true;
        }
    }

    /// Uses the custom template field, after checking it.
    pub fn apply_custom(&mut self) {
        let crs = if self.custom_gcj { Crs::Gcj02 } else { Crs::Wgs84 };
        match TileSource::new(&self.custom_template, &[], crs, "") {
            Ok(mut s) => {
                s.attribution = s.host();
                self.custom_error = None;
                self.choices.retain(|c| c.id != "custom");
                self.choices.push(NamedSource { id: "custom", title: format!("Custom: {}", s.host()), source: s });
                self.active = Some(self.choices.len() - 1);
                self.dirty = true;
            }
            Err(e) => self.custom_error = Some(e.to_string()),
        }
    }

    /// The settings this choice would be remembered as.
    pub(super) fn as_settings(&self, base: &Settings) -> Settings {
        let mut s = base.clone();
        s.set_basemap(self.source());
        s.basemap_opacity = self.opacity;
        s.basemap_muted = self.muted;
        s
    }
}

/// The tile thread and what it has been asked: the disk cache, requests in flight, failures and
/// their back-off, a server's request to slow down.
#[derive(Resource)]
pub struct TileLoader {
    pub cache: Option<TileCache>,
    pub cache_bytes: Option<u64>,
    /// Per failure kind for the current source.
    pub failures: BTreeMap<String, FailureKind>,
    /// Tiles the current view needs, and how many of them are on screen.
    pub needed: usize,
    pub shown: usize,
    pub(super) fetcher: Option<TileFetcher>,
    pub(super) fetcher_failed: bool,
    /// The cache's size, measured once on a thread at startup (walking a big cache takes time).
    pub(super) size_probe: Option<SizeProbe>,
    pub(super) generation: u64,
    pub(super) requested: HashSet<TileId>,
    /// Events from the tile thread not yet handled (uploads are spread over frames).
    pub(super) arrived: VecDeque<TileEvent>,
    /// Failed tiles and until when (seconds of `Time`) they are not asked for again.
    pub(super) failed: HashMap<TileId, f64>,
    /// Failures in a row per tile, for the back-off; forgotten when the tile arrives.
    pub(super) failures_in_row: HashMap<TileId, u32>,
    /// Until when (seconds of `Time`) the server asked us to leave it alone (HTTP 429).
    pub(super) throttled_until: Option<f64>,
    /// The time of the last frame, to tell.
    pub(super) now: f64,
    pub(super) wanted: Vec<TileId>,
}

impl TileLoader {
    pub fn new(cache_dir: Option<PathBuf>) -> Self {
        let cache = cache_dir.or_else(TileCache::default_dir).map(|d| TileCache::new(&d, CACHE_LIMIT));
        let size_probe = cache.clone().map(|c| {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || tx.send((c.size(), None)));
            std::sync::Mutex::new(rx)
        });
        TileLoader {
            cache,
            cache_bytes: None,
            failures: BTreeMap::new(),
            needed: 0,
            shown: 0,
            fetcher: None,
            fetcher_failed: false,
            size_probe,
            generation: 0,
            requested: HashSet::new(),
            arrived: VecDeque::new(),
            failed: HashMap::new(),
            failures_in_row: HashMap::new(),
            throttled_until: None,
            now: 0.0,
            wanted: Vec::new(),
        }
    }

    /// Forgets failures so the next frame asks for those tiles again.
    pub fn retry(&mut self) {
        self.failed.clear();
        self.failures_in_row.clear();
        self.failures.clear();
    }

    pub fn clear_cache(&mut self) {
        if let Some(f) = &self.fetcher {
            f.clear_cache();
        } else if let Some(c) = self.cache.clone() {
            // No tile thread yet (no basemap chosen this session): clear on a thread of its own,
            // since a full cache is thousands of files, and report the new size like the probe.
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let problem =
                    c.clear().err().map(|e| format!("{}: cannot clear the tile cache: {e}", c.dir().display()));
                let _ = tx.send((c.size(), problem));
            });
            self.cache_bytes = None;
            self.size_probe = Some(std::sync::Mutex::new(rx));
        }
    }

    /// Seconds left of a server's request to slow down, while it lasts.
    pub fn throttle_left(&self) -> Option<f64> {
        self.throttled_until.map(|u| u - self.now).filter(|left| *left > 0.0)
    }

    /// Forgets everything about the previous source.
    pub(super) fn reset(&mut self) {
        self.requested.clear();
        self.arrived.clear();
        self.failed.clear();
        self.failures_in_row.clear();
        self.failures.clear();
        self.wanted.clear();
        self.throttled_until = None;
    }

    pub(super) fn cache_dir(&self) -> PathBuf {
        self.cache.as_ref().map(|c| c.dir().to_path_buf()).unwrap_or_default()
    }
}

/// Every tile the view needs has arrived or failed (screenshots wait for this).
pub fn settled(choice: &BasemapChoice, loader: &TileLoader) -> bool {
    choice.source().is_none()
        || loader.fetcher_failed
        || (!choice.dirty && loader.requested.is_empty())
        // A throttled server's tiles come after its Retry-After, up to minutes.
        || loader.throttle_left().is_some()
}

pub(super) struct Loaded {
    pub(super) entity: Entity,
    pub(super) material: Handle<TileMaterial>,
    pub(super) last_shown: u64,
}

/// Tiles on the GPU as textured meshes, and their look.
#[derive(Resource)]
pub struct GpuTiles {
    pub(super) tiles: HashMap<TileId, Loaded>,
    /// Materials still fading in, with when their fade ends (seconds of `Time`).
    pub(super) fading: Vec<(Handle<TileMaterial>, f64)>,
    pub(super) frame: u64,
    pub(super) applied_style: (f32, bool),
    /// Seconds a new tile takes to fade in (0 for screenshots).
    pub fade_s: f32,
}

impl Default for GpuTiles {
    fn default() -> Self {
        GpuTiles { tiles: HashMap::new(), fading: Vec::new(), frame: 0, applied_style: (1.0, false), fade_s: 0.25 }
    }
}

/// What the planner sees of this frame's tiles.
pub(super) struct FrameTiles<'a> {
    pub(super) gpu: &'a GpuTiles,
    pub(super) loader: &'a TileLoader,
    pub(super) arrived: HashSet<TileId>,
}

impl TileState for FrameTiles<'_> {
    fn loaded(&self, t: &TileId) -> bool {
        self.gpu.tiles.contains_key(t)
    }
    fn failed(&self, t: &TileId) -> bool {
        self.loader.failed.contains_key(t)
    }
    fn arrived(&self, t: &TileId) -> bool {
        self.arrived.contains(t)
    }
}
