//! Vector tile layers (XYZ/TileJSON, PMTiles, MBTiles): asks the tile thread for the tiles the
//! view needs, places each built tile with one translation at its corner, stands coarser tiles
//! in for missing ones, bakes tiles that hold still into textures (`bake`), and keeps memory
//! bounded by dropping the tiles unseen for longest.
//!
//! One [`VectorLayer`] record per source holds everything about it: what it is, its style per
//! source layer, its tiles. The decisions (which zoom, which tiles, which to drop) are plain
//! functions in `plan`; the basemap's tile planner decides which tiles show.

pub mod bake;
pub mod pick;
pub mod plan;
pub mod ui;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;

use super::build::{extruded_mesh, fill_mesh};
use super::material::MapMaterial;
use crate::app::render_ready::{FrameSeq, RenderedFrames};
use crate::app::state::{AtlasCommand, AtlasRes, Problems, Readiness};
use crate::app::tile_plan::{TilePlan, TileState, ViewTiles, plan as plan_tiles};
use crate::app::view::{MapSet, MapView, z};
use crate::tess::LayerMeshes;
use crate::tiles::TileId;
use crate::tiles::vector::style::SourceLayerStyle;
use crate::tiles::vector::{BuiltTile, SourceId, SourceInfo, VectorError, VectorEvent, VectorFetcher, VectorSpec};

/// Tile data kept (meshes on the GPU plus the decoded tile for picking), at most: the view's
/// tiles and the last few views' fit many times over, and memory stays flat however large the
/// layer is.
pub const CACHE_BYTES: usize = 160 << 20;
/// Tiles asked for per view at most (a 4K screen at 512 px per tile needs about 60).
const MAX_WANTED: usize = 96;
/// Features narrower than this on screen (their layer's median, pixels) are drawn without
/// outlines.
pub const OUTLINE_MIN_PX: f64 = 8.0;
/// Vertices turned into GPU meshes per frame: a burst of arrived tiles is spread over frames so
/// no frame stalls on uploads.
const UPLOAD_VERTICES_PER_FRAME: usize = 1_500_000;

/// Opens a vector source (from the command line, the panel or `layers.json`), with the looks
/// saved for its layers and whether it was shown.
#[derive(Message, Debug, Clone)]
pub struct OpenVector {
    pub spec: VectorSpec,
    pub visible: bool,
    pub styles: Vec<SourceLayerStyle>,
}

impl OpenVector {
    pub fn new(spec: VectorSpec) -> Self {
        OpenVector { spec, visible: true, styles: vec![] }
    }

    /// The sources saved in the data folder's `layers.json`, with their looks; one that is no
    /// vector tile source (edited by hand, or from a newer version) is reported and left out.
    pub fn saved(atlas: &crate::atlas::Atlas) -> Vec<OpenVector> {
        let mut out = Vec::new();
        for t in &atlas.tile_layers {
            match VectorSpec::recognise(&t.source) {
                Some(spec) => out.push(OpenVector { spec, visible: t.visible, styles: t.styles.clone() }),
                None => warn!("layers.json: {:?} is not a vector tile source; left out", t.source),
            }
        }
        out
    }
}

/// The look of a source layer and the materials it turns into: fill, outline, line, point; a
/// categorized style colours features through the shader's palette.
fn materials_of(style: &SourceLayerStyle) -> [MapMaterial; 4] {
    let c = |rgb: [u8; 3]| Color::srgb_u8(rgb[0], rgb[1], rgb[2]);
    let mut m = [
        MapMaterial::new(c(style.fill), style.opacity, 0.0, false, false),
        MapMaterial::new(c(style.stroke), (style.opacity * 2.5).clamp(0.5, 1.0), style.width, false, false),
        MapMaterial::new(c(style.fill), 1.0, style.width.max(1.5), false, false),
        MapMaterial::new(c(style.fill), 1.0, style.point_px, false, false),
    ];
    if !style.categories.is_empty() {
        let mut p = [Vec4::ZERO; super::material::PALETTE_SIZE];
        p[0] = Vec4::new(0.0, 0.0, 0.0, 1.0);
        for (slot, (_, rgb)) in p.iter_mut().skip(1).zip(&style.categories) {
            let l = c(*rgb).to_linear();
            *slot = Vec4::new(l.red, l.green, l.blue, 1.0);
        }
        for i in [0, 2, 3] {
            m[i].u.palette = p;
        }
    }
    m
}

/// Which of a source layer's meshes an entity draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Fill,
    Outline,
    Line,
    Point,
}

impl Part {
    const ALL: [Part; 4] = [Part::Fill, Part::Outline, Part::Line, Part::Point];

    fn index(self) -> usize {
        self as usize
    }

    /// The part's mesh, with each feature's category class (empty: one colour).
    fn of(self, m: &LayerMeshes, classes: &[u8]) -> Option<Mesh> {
        match self {
            Part::Fill => (!m.fill.indices.is_empty()).then(|| fill_mesh(&m.fill, classes)),
            Part::Outline => (!m.outlines.indices.is_empty()).then(|| extruded_mesh(&m.outlines, &[])),
            Part::Line => (!m.lines.indices.is_empty()).then(|| extruded_mesh(&m.lines, classes)),
            Part::Point => (!m.points.indices.is_empty()).then(|| extruded_mesh(&m.points, classes)),
        }
    }
}

/// Marks an entity drawing part of a vector tile.
#[derive(Component, Debug, Clone, Copy)]
pub struct VectorTilePart {
    pub source: SourceId,
    pub tile: TileId,
    pub sublayer: usize,
    pub part: Part,
}

/// A tile of one source: the data, the entities drawing it once uploaded, when it was last seen.
pub struct TileSlot {
    /// `None`: the source has nothing here.
    pub built: Option<Arc<BuiltTile>>,
    entities: Vec<(Entity, usize, Part, f64)>,
    uploaded: bool,
    /// Outlines left out at upload because the features were too small on screen: the largest
    /// typical size (metres) among them, so zooming in far enough uploads the tile again with
    /// them. Most of a tile's vertices are outline vertices.
    outlines_skipped: Option<f64>,
    last_shown: u64,
    bytes: usize,
    /// The tile drawn into a texture once its scale holds still (see `bake`).
    bake: bake::Bake,
    /// The frame its meshes were made.
    uploaded_frame: u64,
}

/// One vector source and everything about it.
pub struct VectorLayer {
    pub id: SourceId,
    pub spec: VectorSpec,
    pub info: Option<SourceInfo>,
    /// Why the source cannot be opened.
    pub error: Option<String>,
    pub visible: bool,
    /// Per source layer, by name, in the order first seen.
    pub styles: Vec<SourceLayerStyle>,
    /// Looks saved in layers.json, applied when their source layer appears.
    saved: Vec<SourceLayerStyle>,
    /// Materials per source layer and part, updated in place when the style changes.
    materials: Vec<[Handle<MapMaterial>; 4]>,
    applied: Vec<SourceLayerStyle>,
    pub tiles: HashMap<TileId, TileSlot>,
    /// Tiles that failed, with the second they may be asked for again.
    failed: HashMap<TileId, f64>,
    /// Failures by kind: how many, and the first message (one problem per kind, not per tile).
    failures: BTreeMap<String, usize>,
    wanted: Vec<TileId>,
    /// The tiles on screen this frame, for picking, labels and "features in view".
    pub shown: Vec<TileId>,
    /// Every tile the view needs is loaded, empty or failed.
    pub complete: bool,
    /// Changes with every style change: baked tiles of an older epoch are drawn anew.
    bake_epoch: u64,
}

impl VectorLayer {
    fn new(id: SourceId, spec: VectorSpec) -> Self {
        VectorLayer {
            id,
            spec,
            info: None,
            error: None,
            visible: true,
            styles: vec![],
            saved: vec![],
            materials: vec![],
            applied: vec![],
            tiles: HashMap::new(),
            failed: HashMap::new(),
            failures: BTreeMap::new(),
            wanted: vec![],
            shown: vec![],
            complete: false,
            bake_epoch: 0,
        }
    }

    /// The layer's name for lists: the source's own name once known.
    pub fn title(&self) -> String {
        self.info.as_ref().map_or_else(|| self.spec.location(), |i| i.name.clone())
    }

    /// The style of source layer `name`, added (with the next palette colour) when first seen.
    fn style_index(&mut self, name: &str, fields: impl FnOnce() -> Vec<String>) -> usize {
        if let Some(i) = self.styles.iter().position(|s| s.name == name) {
            return i;
        }
        let i = self.styles.len();
        let mut style = SourceLayerStyle::new(name, i, fields());
        // A look saved in layers.json wins over the defaults.
        if let Some(saved) = self.saved.iter().find(|s| s.name == name) {
            style = SourceLayerStyle { fields: style.fields, ..saved.clone() };
        }
        self.styles.push(style);
        i
    }

    pub fn loading(&self) -> bool {
        self.error.is_none() && (self.info.is_none() || !self.complete)
    }

    /// What `layers.json` keeps of this source: where it is, whether shown, its layers' looks
    /// (saved ones not seen this session kept too).
    pub fn entry(&self, data_dir: Option<&std::path::Path>) -> crate::tiles::vector::style::TileLayerEntry {
        let source = match (&self.spec, data_dir) {
            (VectorSpec::File(p), Some(d)) => p.strip_prefix(d).unwrap_or(p).display().to_string(),
            _ => self.spec.location(),
        };
        let mut styles = self.styles.clone();
        styles.extend(self.saved.iter().filter(|s| !self.styles.iter().any(|t| t.name == s.name)).cloned());
        crate::tiles::vector::style::TileLayerEntry { source, visible: self.visible, styles }
    }

    /// How often each value of `field` occurs in source layer `sublayer` of the tiles held:
    /// what categories are made from (a city's layer is never read whole for it).
    pub fn value_counts(&self, sublayer: &str, field: &str) -> Vec<(String, usize)> {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for built in self.tiles.values().filter_map(|s| s.built.as_ref()) {
            for layer in built.tile.layers.iter().filter(|l| l.name == sublayer) {
                for f in &layer.features {
                    if let Some(v) = layer.property(f, field) {
                        *counts.entry(v.to_string()).or_insert(0) += 1;
                    }
                }
            }
        }
        counts.into_iter().collect()
    }

    /// Bytes of tile data held.
    pub fn bytes(&self) -> usize {
        self.tiles.values().map(|t| t.bytes).sum()
    }
}

/// Every vector source, and the tile thread they share (started on first use, so an app without
/// vector layers opens no connection and starts no thread).
#[derive(Resource, Default)]
pub struct VectorLayers {
    pub layers: Vec<VectorLayer>,
    pub fetcher: Option<VectorFetcher>,
    next_id: SourceId,
    frame: u64,
    /// Built tiles waiting for their upload, oldest first.
    arrived: std::collections::VecDeque<(SourceId, TileId)>,
    /// Entities of dropped tiles, despawned by the next upload.
    despawn: Vec<Entity>,
    /// Sources the panel asked to open.
    pub pending: Vec<OpenVector>,
    /// Changes whenever the tiles on screen change: what search and label caches key on.
    pub generation: u64,
}

impl VectorLayers {
    /// Starts reading a source on the tile thread, which starts with the first source; a source
    /// already open is left as it is.
    pub fn open(&mut self, open: &OpenVector) -> std::io::Result<()> {
        if self.layers.iter().any(|l| l.spec == open.spec) {
            return Ok(());
        }
        let fetcher = match self.fetcher.take() {
            Some(f) => f,
            None => VectorFetcher::spawn()?,
        };
        self.next_id += 1;
        fetcher.open(self.next_id, open.spec.clone());
        self.fetcher = Some(fetcher);
        let mut layer = VectorLayer::new(self.next_id, open.spec.clone());
        layer.visible = open.visible;
        layer.saved = open.styles.clone();
        self.layers.push(layer);
        Ok(())
    }

    /// Opens sources before the app's first frame, so their headers and directories are read
    /// while Bevy starts. One that cannot start waits for the first frame, where the failure is
    /// reported like any other.
    pub fn open_early(&mut self, opens: &[OpenVector]) {
        for open in opens {
            if self.open(open).is_err() {
                self.pending.push(open.clone());
            }
        }
    }

    pub fn get(&self, id: SourceId) -> Option<&VectorLayer> {
        self.layers.iter().find(|l| l.id == id)
    }

    /// Tile reads started this run, over all sources.
    pub fn requests(&self) -> usize {
        self.fetcher.as_ref().map_or(0, |f| f.counters.fetched.load(std::sync::atomic::Ordering::Relaxed))
    }
}

pub struct VectorPlugin {
    /// Sources saved in `layers.json`: drawn under those the app was already given (see
    /// [`VectorLayers::open_early`]), as they were opened first in the session that saved them.
    pub saved: Vec<OpenVector>,
    /// Bake settled tiles into textures (see `bake`): not for a one-frame screenshot, which
    /// draws every tile once anyway and would only wait for the bakes' pipeline.
    pub bake: bool,
}

impl Plugin for VectorPlugin {
    fn build(&self, app: &mut App) {
        bake::register_shader(app);
        app.add_plugins(bevy::sprite_render::Material2dPlugin::<bake::BakedMaterial>::default())
            .insert_resource(bake::BakeTiles {
                enabled: self.bake && std::env::var_os("PORT_ATLAS_NO_BAKE").is_none(),
                prewarm: None,
                proven: false,
            })
            .init_resource::<VectorLayers>()
            .init_resource::<pick::VectorPick>()
            .add_message::<OpenVector>()
            .add_systems(
                Update,
                (
                    pick::pick_vector,
                    open_sources,
                    receive,
                    // Before `request`, so a bake done this frame shows its square this frame.
                    // Absent only where nothing renders (tests under MinimalPlugins).
                    bake_tiles.run_if(resource_exists::<Assets<Image>>),
                    request,
                    upload,
                    pick::highlight,
                    sync_styles,
                    report_readiness,
                )
                    .chain()
                    .in_set(MapSet::Content),
            );
        let world = app.world_mut();
        let mut vl = world.remove_resource::<VectorLayers>().unwrap_or_default();
        let before = vl.layers.len();
        vl.open_early(&self.saved);
        let added = vl.layers.len() - before;
        vl.layers.rotate_right(added);
        world.insert_resource(vl);
    }
}

fn open_sources(mut opens: MessageReader<OpenVector>, mut vl: ResMut<VectorLayers>, mut problems: ResMut<Problems>) {
    let mut opens: Vec<OpenVector> = opens.read().cloned().collect();
    opens.append(&mut vl.pending);
    for open in &opens {
        if let Err(e) = vl.open(open) {
            problems.error(open.spec.location(), format!("cannot start the vector tile thread: {e}"));
            return;
        }
    }
}

/// The view as the vector plugin needs it.
#[derive(SystemParam)]
pub struct ViewParam<'w> {
    map: ResMut<'w, MapView>,
    res: Res<'w, AtlasRes>,
    time: Res<'w, Time>,
}

/// Takes what the tile thread sent: opened sources (their layers get styles), built tiles
/// (queued for upload), failures (one problem per kind of failure and source).
fn receive(
    mut vl: ResMut<VectorLayers>,
    mut problems: ResMut<Problems>,
    view: ViewParam,
    mut cmds: MessageWriter<AtlasCommand>,
) {
    let ViewParam { mut map, res, time } = view;
    let Some(events) = vl.fetcher.as_ref().map(VectorFetcher::poll) else { return };
    let now = time.elapsed_secs_f64();
    let vl = &mut *vl;
    for ev in events {
        match ev {
            VectorEvent::Opened { source, info } => {
                let Some(l) = vl.layers.iter_mut().find(|l| l.id == source) else { continue };
                for v in &info.layers {
                    l.style_index(&v.id, || v.field_names());
                }
                // A source elsewhere than the view: go and look at it.
                if let Some(b) = info.bounds
                    && plan::should_fly(map.visible_lonlat(&res.frame), b)
                {
                    map.fit_lonlat(&res.frame, geo::Rect::new((b[0], b[1]), (b[2], b[3])), 30.0);
                }
                l.info = Some(info);
            }
            VectorEvent::OpenFailed { source, error: VectorError::IsGeoJson { at } } => {
                // A GeoJSON URL without an extension: the layer reader's, after all.
                vl.layers.retain(|l| l.id != source);
                if let Some(f) = &vl.fetcher {
                    f.close(source);
                }
                // Straight to the reader (LoadLayer would recognise it as a tile source again).
                cmds.write(AtlasCommand::OpenLayer(at.into(), Default::default()));
            }
            VectorEvent::OpenFailed { source, error } => {
                let Some(l) = vl.layers.iter_mut().find(|l| l.id == source) else { continue };
                problems.error(l.spec.location(), error.to_string());
                l.error = Some(error.to_string());
            }
            VectorEvent::Tile { source, tile, result } => {
                let Some(l) = vl.layers.iter_mut().find(|l| l.id == source) else { continue };
                match result {
                    Ok(built) => {
                        if let Some(b) = &built {
                            for layer in &b.tile.layers {
                                l.style_index(&layer.name, || layer.keys.clone());
                            }
                            if let Some(first) = b.errors.first() {
                                let n = l.failures.entry("feature geometry".into()).or_insert(0);
                                if *n == 0 {
                                    problems.warning(
                                        l.spec.location(),
                                        format!(
                                            "tile {tile}: {first} ({} such in this tile; further ones are counted)",
                                            b.errors.len()
                                        ),
                                    );
                                }
                                *n += b.errors.len();
                            }
                        }
                        let bytes = built.as_ref().map_or(64, |b| b.approx_bytes());
                        let slot = TileSlot {
                            built,
                            entities: vec![],
                            uploaded: false,
                            outlines_skipped: None,
                            last_shown: vl.frame,
                            bytes,
                            bake: Default::default(),
                            uploaded_frame: 0,
                        };
                        if let Some(mut old) = l.tiles.insert(tile, slot) {
                            old.bake.reset(&mut vl.despawn);
                            vl.despawn.extend(old.entities.into_iter().map(|(e, ..)| e));
                        }
                        l.failed.remove(&tile);
                        vl.arrived.push_back((source, tile));
                    }
                    Err(e) => {
                        l.failed.insert(tile, now + 30.0);
                        let n = l.failures.entry(e.kind()).or_insert(0);
                        if *n == 0 {
                            problems.warning(
                                l.spec.location(),
                                format!("{e} (the tile is left out; further tiles failing the same way are counted)"),
                            );
                        }
                        *n += 1;
                    }
                }
            }
        }
    }
}

/// A source's tiles as the basemap's planner sees them.
struct SlotState<'a> {
    layer: &'a VectorLayer,
    now: f64,
}

impl TileState for SlotState<'_> {
    fn loaded(&self, t: &TileId) -> bool {
        self.layer.tiles.get(t).is_some_and(|s| s.uploaded || s.built.is_none())
    }
    fn failed(&self, t: &TileId) -> bool {
        self.layer.failed.get(t).is_some_and(|until| self.now < *until)
    }
    fn arrived(&self, t: &TileId) -> bool {
        self.layer.tiles.get(t).is_some_and(|s| !s.uploaded && s.built.is_some())
    }
}

/// What draws a tile: its meshes, or its baked square.
type TileDrawn = Or<(With<VectorTilePart>, With<bake::BakedQuad>)>;

/// Asks for the tiles each source's view needs (cancelling the rest), shows loaded ones with
/// coarser stand-ins for missing ones, and drops the tiles unseen for longest beyond the budget.
fn request(
    mut vl: ResMut<VectorLayers>,
    map: Res<MapView>,
    res: Res<AtlasRes>,
    time: Res<Time>,
    mut vis: Query<&mut Visibility, TileDrawn>,
) {
    vl.frame += 1;
    if !map.viewport_known {
        return;
    }
    let now = time.elapsed_secs_f64();
    let view = map.visible_lonlat(&res.frame);
    let vl = &mut *vl;
    let frame = vl.frame;
    let budget = CACHE_BYTES / vl.layers.len().max(1);
    for l in &mut vl.layers {
        let Some(info) = &l.info else { continue };
        let needed = if l.visible {
            let z = plan::data_zoom(map.scale, info.min_zoom, info.max_zoom);
            plan::tiles_for(view, info.bounds, z, MAX_WANTED)
        } else {
            vec![]
        };
        let TilePlan { show, want } =
            plan_tiles(&ViewTiles { needed: needed.clone(), ..default() }, &SlotState { layer: l, now });
        l.complete = needed.iter().all(|t| {
            let s = SlotState { layer: l, now };
            s.loaded(t) || s.failed(t)
        });
        if want != l.wanted {
            if let Some(f) = &vl.fetcher {
                f.want(l.id, want.clone());
            }
            l.wanted = want;
        }
        let mut shown: Vec<TileId> = show.iter().copied().collect();
        shown.sort();
        for (t, slot) in l.tiles.iter_mut() {
            let on = show.contains(t);
            if on {
                slot.last_shown = frame;
                // Zoomed in far enough for the outlines it was uploaded without.
                if slot.outlines_skipped.is_some_and(|m| m / map.scale >= OUTLINE_MIN_PX) {
                    slot.bake.reset(&mut vl.despawn);
                    vl.despawn.extend(slot.entities.drain(..).map(|(e, ..)| e));
                    slot.uploaded = false;
                    slot.outlines_skipped = None;
                    vl.arrived.push_back((l.id, *t));
                }
            }
            // A tile baked at this scale shows as its square; its meshes rest.
            let baked = slot.bake.covers(map.scale, l.bake_epoch);
            if let Some(q) = slot.bake.quad() {
                let want_v = if on && baked { Visibility::Inherited } else { Visibility::Hidden };
                if let Ok(mut v) = vis.get_mut(q)
                    && *v != want_v
                {
                    *v = want_v;
                }
            }
            // A tile baked ahead, off screen, is drawn for its camera (the view's own culls it).
            let drawn = on || slot.bake.in_progress();
            for &(e, sub, part, typical_m) in &slot.entities {
                // Outlines of features a few pixels wide would be a mesh of lines, costly on a
                // CPU rasteriser and unreadable: drawn once the features are big enough.
                let sub_on = drawn
                    && !baked
                    && l.styles.get(sub).is_some_and(|s| s.visible)
                    && (part != Part::Outline || typical_m / map.scale >= OUTLINE_MIN_PX);
                let want_v = if sub_on { Visibility::Inherited } else { Visibility::Hidden };
                if let Ok(mut v) = vis.get_mut(e)
                    && *v != want_v
                {
                    *v = want_v;
                }
            }
        }
        if l.shown != shown {
            l.shown = shown;
            vl.generation += 1;
        }
        for t in plan::evict(l.tiles.iter().map(|(t, s)| (*t, s.last_shown, s.bytes)), budget, frame) {
            if let Some(mut slot) = l.tiles.remove(&t) {
                slot.bake.reset(&mut vl.despawn);
                vl.despawn.extend(slot.entities.into_iter().map(|(e, ..)| e));
            }
        }
    }
}

/// Meshes of one (filtered) source layer of tile `t`, each with whether it is a fill: for the
/// selection's outline.
pub fn build_slot_meshes(layer: &crate::tiles::vector::mvt::TileLayer, t: TileId) -> Vec<(Mesh, bool)> {
    let mut errors = Vec::new();
    let m = crate::tiles::vector::build::build_layer(layer, t, t, &mut errors);
    Part::ALL.into_iter().filter_map(|p| p.of(&m, &[]).map(|mesh| (mesh, p == Part::Fill))).collect()
}

/// Depth of a source's part: above the raster basemap's tiles, below the thematic layers; finer
/// tiles above the coarser ones standing in.
fn depth(base: f32, source_index: usize, sublayer: usize, part: Part, zoom: u8) -> f32 {
    base + 1.0
        + source_index as f32 * 0.6
        + sublayer.min(5) as f32 * 0.1
        + part.index() as f32 * 0.02
        + zoom as f32 * 0.0008
}

/// GPU-side assets the upload creates.
#[derive(SystemParam)]
pub struct VectorAssets<'w> {
    meshes: ResMut<'w, Assets<Mesh>>,
    materials: ResMut<'w, Assets<MapMaterial>>,
}

/// Turns arrived tiles into entities, within a vertex budget per frame; despawns dropped ones.
fn upload(
    mut commands: Commands,
    mut vl: ResMut<VectorLayers>,
    res: Res<AtlasRes>,
    map: Res<MapView>,
    mut assets: VectorAssets,
) {
    for e in vl.despawn.drain(..) {
        commands.entity(e).despawn();
    }
    let base = z::tiles(res.atlas.layers.iter().rposition(|l| l.meta.basemap));
    let mut budget = UPLOAD_VERTICES_PER_FRAME;
    let vl = &mut *vl;
    while budget > 0 {
        let Some((source, tile)) = vl.arrived.pop_front() else { break };
        let Some(li) = vl.layers.iter().position(|l| l.id == source) else { continue };
        let l = &mut vl.layers[li];
        ensure_materials(l, &mut assets.materials);
        let Some(slot) = l.tiles.get_mut(&tile) else { continue };
        if slot.uploaded {
            continue;
        }
        slot.uploaded = true;
        slot.uploaded_frame = vl.frame;
        slot.outlines_skipped = None;
        let Some(built) = slot.built.clone() else { continue };
        budget = budget.saturating_sub(built.vertex_count().max(1));
        let (mx, my, _) = tile.mercator_nw();
        let (x, y) = res.frame.from_mercator(mx, my);
        for (tli, (layer, meshes)) in built.tile.layers.iter().zip(&built.meshes).enumerate() {
            let Some(sub) = l.styles.iter().position(|s| s.name == layer.name) else { continue };
            let typical_m = built.typical_m.get(tli).copied().unwrap_or(f64::INFINITY);
            let classes = classes(&l.styles[sub], layer);
            for part in Part::ALL {
                if part == Part::Outline && typical_m / map.scale < OUTLINE_MIN_PX {
                    slot.outlines_skipped = Some(slot.outlines_skipped.map_or(typical_m, |m| m.max(typical_m)));
                    continue;
                }
                let Some(mesh) = part.of(meshes, &classes) else { continue };
                let e = commands
                    .spawn((
                        VectorTilePart { source, tile, sublayer: sub, part },
                        Mesh2d(assets.meshes.add(mesh)),
                        MeshMaterial2d(l.materials[sub][part.index()].clone()),
                        Transform::from_xyz(x as f32, y as f32, depth(base, li, sub, part, tile.z)),
                        Visibility::Hidden,
                    ))
                    .id();
                slot.entities.push((e, sub, part, typical_m));
            }
        }
    }
}

/// Bakes settled tiles, those on screen nearest the view's centre first, then those of the ring
/// around the view, within a budget of pixels a frame; judges finished bakes (see `bake`).
fn bake_tiles(
    mut commands: Commands,
    mut vl: ResMut<VectorLayers>,
    view: BakeView,
    mut assets: BakeParams,
    mut baking: ResMut<bake::BakeTiles>,
) {
    let BakeView { map, res, ready, frames, seq } = view;
    if !baking.enabled {
        return;
    }
    let VectorLayers { layers, despawn, frame, .. } = &mut *vl;
    // Once the first frame is whole: asked for earlier, the squares' pipeline would compete
    // with the view's own and delay that frame.
    if baking.prewarm.is_none() && !baking.proven && !layers.is_empty() && ready.pipelines_ready {
        let BakeParams { images, meshes, materials } = &mut assets;
        baking.prewarm = Some(bake::prewarm(&mut commands, bake::BakeAssets { images, meshes, materials }));
    }
    for l in layers.iter_mut() {
        for slot in l.tiles.values_mut() {
            if slot.bake.in_progress() {
                let meshes: Vec<Entity> = slot.entities.iter().map(|&(e, ..)| e).collect();
                slot.bake.advance(&mut commands, &meshes);
            }
            let judged = slot.bake.judge(|s| frames.complete(s).or(frames.forgotten(s).then_some(true)), despawn);
            baking.proven |= judged == Some(true);
        }
    }
    if baking.proven
        && let Some(e) = baking.prewarm.take()
    {
        commands.entity(e).despawn();
    }
    let zooming = !bake::same_scale(map.scale, map.target_scale);
    let budget = bake::budget(ready.pipelines_ready, map.viewport_known, zooming);
    if budget == 0 {
        return;
    }
    // Tiles just arrived in the view first (hidden until baked), then those on screen as meshes,
    // then held tiles of the ring around the view; nearest first.
    let mut todo: Vec<(bake::Urgency, f64, usize, TileId, u64)> = Vec::new();
    let half = (map.viewport.size().as_dvec2() / 2.0) * map.scale;
    for (li, l) in layers.iter().enumerate() {
        let zoom = l.info.as_ref().map(|i| plan::data_zoom(map.scale, i.min_zoom, i.max_zoom));
        for (t, slot) in &l.tiles {
            // Uploaded in an earlier frame (this system runs before `upload`): the meshes are
            // on the GPU, so the camera draws them at once.
            let uploaded = slot.uploaded && !slot.entities.is_empty();
            if !uploaded || slot.bake.in_progress() || slot.bake.covers(map.scale, l.bake_epoch) {
                continue;
            }
            let tf = bake::TileFrame::of(*t, &res.frame);
            let Some(px) = bake::bake_px(tf.extent_m, map.scale) else { continue };
            let (centre, extent) = (tf.center.as_dvec2(), tf.extent_m);
            let urgency = if slot.last_shown < slot.uploaded_frame
                && l.visible
                && bake::in_view(centre, extent, map.center, half)
            {
                bake::Urgency::Arrived
            } else if slot.last_shown == *frame {
                bake::Urgency::OnScreen
            } else if l.visible && zoom == Some(t.z) && bake::in_margin(centre, extent, map.center, half) {
                bake::Urgency::Ahead
            } else {
                continue;
            };
            let d = (centre - map.center).length_squared();
            todo.push((urgency, d, li, *t, u64::from(px) * u64::from(px)));
        }
    }
    todo.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let base = z::tiles(res.atlas.layers.iter().rposition(|l| l.meta.basemap));
    let mut spent = 0;
    for (urgency, _, li, t, px) in todo {
        // At least one tile a frame, however large.
        if spent > 0 && spent + px > budget {
            break;
        }
        let l = &mut layers[li];
        let epoch = l.bake_epoch;
        let Some(slot) = l.tiles.get_mut(&t) else { continue };
        let meshes: Vec<Entity> = slot.entities.iter().map(|&(e, ..)| e).collect();
        let BakeParams { images, meshes: mesh_assets, materials } = &mut assets;
        if slot.bake.start(
            &mut commands,
            bake::BakeAssets { images, meshes: mesh_assets, materials },
            bake::BakeJob {
                tile: bake::TileFrame::of(t, &res.frame),
                scale: map.scale,
                epoch,
                z: depth(base, li, 0, Part::Fill, t.z),
                seq: seq.0,
                on_screen_meanwhile: urgency == bake::Urgency::OnScreen,
            },
            &meshes,
            despawn,
        ) {
            spent += px;
        }
    }
}

/// What the bakes go by: the view, whether the renderer draws whole frames, and which.
#[derive(SystemParam)]
pub struct BakeView<'w> {
    map: Res<'w, MapView>,
    res: Res<'w, AtlasRes>,
    ready: Res<'w, Readiness>,
    frames: Res<'w, RenderedFrames>,
    seq: Res<'w, FrameSeq>,
}

/// The assets a bake creates.
#[derive(SystemParam)]
pub struct BakeParams<'w> {
    images: ResMut<'w, Assets<Image>>,
    meshes: ResMut<'w, Assets<Mesh>>,
    materials: ResMut<'w, Assets<bake::BakedMaterial>>,
}

/// Each feature's category class under a style (empty when it has no categories).
fn classes(style: &SourceLayerStyle, layer: &crate::tiles::vector::mvt::TileLayer) -> Vec<u8> {
    let Some(field) = style.category_field.as_deref().filter(|_| !style.categories.is_empty()) else { return vec![] };
    layer.features.iter().map(|f| style.class_of(layer.property(f, field).map(|v| v.to_string()).as_deref())).collect()
}

/// Materials for every source layer, created when a layer is first seen.
fn ensure_materials(l: &mut VectorLayer, materials: &mut Assets<MapMaterial>) {
    while l.materials.len() < l.styles.len() {
        let style = &l.styles[l.materials.len()];
        let m = materials_of(style).map(|m| materials.add(m));
        l.applied.push(style.clone());
        l.materials.push(m);
    }
}

/// Applies style edits to the materials in place (no tile is rebuilt for a colour or width).
fn sync_styles(mut vl: ResMut<VectorLayers>, mut materials: ResMut<Assets<MapMaterial>>) {
    let vl = &mut *vl;
    for l in &mut vl.layers {
        ensure_materials(l, &mut materials);
        for i in 0..l.styles.len() {
            if l.styles[i] == l.applied[i] {
                continue;
            }
            // New categories change each feature's class, which the meshes carry: the tiles
            // are uploaded again (from the data they hold, nothing is fetched).
            let (a, b) = (&l.styles[i], &l.applied[i]);
            l.bake_epoch += 1;
            if a.category_field != b.category_field || a.categories != b.categories {
                for (t, slot) in l.tiles.iter_mut() {
                    if slot.built.is_some() && slot.uploaded {
                        slot.bake.reset(&mut vl.despawn);
                        vl.despawn.extend(slot.entities.drain(..).map(|(e, ..)| e));
                        slot.uploaded = false;
                        vl.arrived.push_back((l.id, *t));
                    }
                }
            }
            let new = materials_of(&l.styles[i]);
            for (h, m) in l.materials[i].iter().zip(new) {
                if let Some(mut slot) = materials.get_mut(h) {
                    *slot = m;
                }
            }
            l.applied[i] = l.styles[i].clone();
        }
    }
}

/// Screenshots and the benchmark wait until every source's view is complete and uploaded.
fn report_readiness(
    vl: Res<VectorLayers>,
    map: Res<MapView>,
    baking: Option<Res<bake::BakeTiles>>,
    mut ready: ResMut<Readiness>,
) {
    let settled =
        vl.arrived.is_empty() && vl.layers.iter().all(|l| l.error.is_some() || (l.info.is_some() && l.complete));
    if ready.vector_settled != settled {
        ready.vector_settled = settled;
    }
    // Every tile on screen that bakes at this scale is baked: the view draws as cheaply as it will.
    let baked = !baking.is_some_and(|b| b.enabled)
        || vl.layers.iter().all(|l| {
            l.shown.iter().filter_map(|t| Some((t, l.tiles.get(t)?))).all(|(t, slot)| {
                slot.entities.is_empty()
                    || slot.bake.covers(map.scale, l.bake_epoch)
                    || bake::bake_px(t.mercator_nw().2, map.scale).is_none()
            })
        });
    if ready.vector_baked != baked {
        ready.vector_baked = baked;
    }
    let reads = vl.requests();
    if ready.vector_reads != reads {
        ready.vector_reads = reads;
    }
}

#[cfg(test)]
mod tests;
