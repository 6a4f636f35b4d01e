//! Raster basemap: asks the tile thread for the tiles the view needs and draws them between the
//! vector basemap and the thematic layers, in the same local frame, so a missing tile shows the
//! built-in vector basemap beneath instead of a hole.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::image::{ImageSampler, ImageSamplerDescriptor};
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, Extent3d, ShaderType, TextureDimension, TextureFormat};
use bevy::shader::ShaderRef;
use bevy::sprite_render::{AlphaMode2d, Material2d, Material2dPlugin};
use bevy_egui::egui::{self, Color32, Ui};

use super::camera::MapView;
use super::{AtlasRes, Problems};
use crate::basemap::{FetchConfig, TileEvent, TileFetcher, TileImage};
use crate::proj::Crs;
use crate::settings::Settings;
use crate::tiles::{NamedSource, TileCache, TileId, TileSource, builtin_sources, covering, zoom_for};

const TILE_SHADER: Handle<Shader> = uuid_handle!("b3d4e5f6-1a2b-4c3d-8e9f-0a1b2c3d4e5f");

/// Tiles kept on the GPU (256 KB each); beyond this the least recently shown are dropped (the
/// disk cache still has them).
const GPU_TILES: usize = 480;
/// Most tiles asked for per view (a 4K screen at 2x needs about 160).
const MAX_WANTED: usize = 192;
/// A failed tile is not asked for again for this long (seconds), doubling with each failure in a
/// row up to `RETRY_MAX_S`, unless the user retries: a server that is down gets a few requests
/// an hour per visible tile, not two a minute.
const RETRY_AFTER_S: f64 = 30.0;
const RETRY_MAX_S: f64 = 480.0;
/// Tiles turned into textures per frame (each is a 256 KB upload).
const UPLOADS_PER_FRAME: usize = 16;
/// Disk cache size limit.
pub const CACHE_LIMIT: u64 = 512 << 20;

/// See `shaders/tile.wgsl`.
#[derive(ShaderType, Clone, Copy, Debug, Default)]
pub struct TileUniform {
    /// x: opacity, y: muted 0/1, z: arrival time (shader globals clock), w: fade seconds.
    pub params: Vec4,
}

#[derive(Asset, TypePath, AsBindGroup, Clone, Debug)]
pub struct TileMaterial {
    #[uniform(0)]
    pub u: TileUniform,
    #[texture(1)]
    #[sampler(2)]
    pub image: Handle<Image>,
    /// The image has no transparent pixels.
    pub opaque_image: bool,
}

impl Material2d for TileMaterial {
    fn fragment_shader() -> ShaderRef {
        ShaderRef::Handle(TILE_SHADER)
    }
    fn alpha_mode(&self) -> AlphaMode2d {
        // A settled, fully opaque tile skips blending: on a CPU rasteriser a screenful of
        // blended tiles costs several milliseconds a frame.
        if self.opaque_image && self.u.params.x >= 0.999 && self.u.params.w == 0.0 {
            AlphaMode2d::Opaque
        } else {
            AlphaMode2d::Blend
        }
    }
}

/// Marks a tile's entity.
#[derive(Component, Debug, Clone, Copy)]
pub struct BasemapTile(pub TileId);

struct Loaded {
    entity: Entity,
    material: Handle<TileMaterial>,
    last_shown: u64,
}

/// Failures of one kind (e.g. "HTTP 500"): how many, and the first message in full.
#[derive(Debug, Clone)]
pub struct FailureKind {
    pub count: usize,
    pub example: String,
}

/// A cache size measured (or a clear done) on another thread: the size and any problem.
type SizeProbe = std::sync::Mutex<std::sync::mpsc::Receiver<(u64, Option<String>)>>;

/// The basemap the user chose and everything needed to draw it.
#[derive(Resource)]
pub struct Basemap {
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
    pub cache: Option<TileCache>,
    pub cache_bytes: Option<u64>,
    /// Per failure kind for the current source.
    pub failures: BTreeMap<String, FailureKind>,
    /// Tiles the current view needs, and how many of them are on screen.
    pub needed: usize,
    pub shown: usize,
    /// Seconds a new tile takes to fade in (0 for screenshots).
    pub fade_s: f32,
    fetcher: Option<TileFetcher>,
    fetcher_failed: bool,
    /// The cache's size, measured once on a thread at startup (walking a big cache takes time).
    size_probe: Option<SizeProbe>,
    generation: u64,
    dirty: bool,
    tiles: HashMap<TileId, Loaded>,
    /// Materials still fading in, with when their fade ends (seconds of `Time`).
    fading: Vec<(Handle<TileMaterial>, f64)>,
    requested: HashSet<TileId>,
    /// Events from the tile thread not yet handled (uploads are spread over frames).
    arrived: std::collections::VecDeque<TileEvent>,
    /// Failed tiles and until when (seconds of `Time`) they are not asked for again.
    failed: HashMap<TileId, f64>,
    /// Failures in a row per tile, for the back-off; forgotten when the tile arrives.
    failures_in_row: HashMap<TileId, u32>,
    /// Until when (seconds of `Time`) the server asked us to leave it alone (HTTP 429), and the
    /// time of the last frame, to tell.
    throttled_until: Option<f64>,
    now: f64,
    wanted: Vec<TileId>,
    frame: u64,
    applied_style: (f32, bool),
    /// Where the choice is remembered (interactive runs only), what was last written there, and
    /// since when the current choice differs from it.
    remember: Option<(PathBuf, Settings)>,
    /// Bumped whenever a source choice is applied; with opacity and muted it tells, cheaply each
    /// frame, whether anything to remember may have changed, and since when.
    choice_epoch: u64,
    last_key: (u64, u32, bool),
    changed_at: Option<f64>,
}

impl Basemap {
    pub fn new(initial: Option<TileSource>, cache_dir: Option<PathBuf>) -> Self {
        let mut choices = builtin_sources();
        let active = initial.map(|s| match choices.iter().position(|c| c.source == s) {
            Some(i) => i,
            None => {
                choices.push(NamedSource { id: "custom", title: format!("Custom: {}", s.host()), source: s });
                choices.len() - 1
            }
        });
        let cache = cache_dir.or_else(TileCache::default_dir).map(|d| TileCache::new(&d, CACHE_LIMIT));
        let size_probe = cache.clone().map(|c| {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || tx.send((c.size(), None)));
            std::sync::Mutex::new(rx)
        });
        Basemap {
            size_probe,
            choices,
            active,
            opacity: 1.0,
            muted: false,
            custom_template: String::new(),
            custom_gcj: false,
            custom_error: None,
            cache,
            cache_bytes: None,
            failures: BTreeMap::new(),
            needed: 0,
            shown: 0,
            fade_s: 0.25,
            fetcher: None,
            fetcher_failed: false,
            generation: 0,
            dirty: true,
            tiles: HashMap::new(),
            fading: Vec::new(),
            requested: HashSet::new(),
            arrived: Default::default(),
            failed: HashMap::new(),
            failures_in_row: HashMap::new(),
            throttled_until: None,
            now: 0.0,
            wanted: Vec::new(),
            frame: 0,
            applied_style: (1.0, false),
            remember: None,
            choice_epoch: 0,
            last_key: (0, 1.0f32.to_bits(), false),
            changed_at: None,
        }
    }

    /// The settings this basemap would be remembered as.
    fn as_settings(&self, base: &Settings) -> Settings {
        let mut s = base.clone();
        s.set_basemap(self.source());
        s.basemap_opacity = self.opacity;
        s.basemap_muted = self.muted;
        s
    }

    pub fn source(&self) -> Option<&TileSource> {
        self.active.and_then(|i| self.choices.get(i)).map(|c| &c.source)
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

    /// Every tile the view needs has arrived or failed (screenshots wait for this).
    pub fn settled(&self) -> bool {
        self.source().is_none()
            || self.fetcher_failed
            || (!self.dirty && self.requested.is_empty())
            // A throttled server's tiles come after its Retry-After, up to minutes.
            || self.throttle_left().is_some()
    }

    /// Seconds left of a server's request to slow down, while it lasts.
    pub fn throttle_left(&self) -> Option<f64> {
        self.throttled_until.map(|u| u - self.now).filter(|left| *left > 0.0)
    }
}

pub struct BasemapPlugin {
    /// From the command line; overrides the remembered one.
    pub initial: Option<TileSource>,
    pub cache_dir: Option<PathBuf>,
    /// Interactive runs: fade tiles in, and remember the basemap in this settings file.
    /// Screenshots and benchmarks neither fade nor read or write settings, so they are repeatable.
    pub interactive: Option<PathBuf>,
}

impl Plugin for BasemapPlugin {
    fn build(&self, app: &mut App) {
        let shader = Shader::from_wgsl(include_str!("../../shaders/tile.wgsl"), "shaders/tile.wgsl");
        if let Err(e) = app.world_mut().resource_mut::<Assets<Shader>>().insert(TILE_SHADER.id(), shader) {
            error!("cannot register the tile shader: {e}");
        }
        let mut initial = self.initial.clone();
        let mut remembered = None;
        if let Some(path) = &self.interactive {
            match Settings::load(path) {
                Ok(s) => remembered = Some((path.clone(), s)),
                // Reported, and never written over this session.
                Err(e) => app.world_mut().resource_mut::<Problems>().push(e.to_string()),
            }
        }
        if initial.is_none() {
            initial = remembered.as_ref().and_then(|(_, s)| s.basemap_source());
        }
        let mut basemap = Basemap::new(initial, self.cache_dir.clone());
        if let Some((_, s)) = &remembered {
            basemap.opacity = s.basemap_opacity.clamp(0.0, 1.0);
            basemap.muted = s.basemap_muted;
        }
        basemap.remember = remembered;
        if self.interactive.is_none() {
            basemap.fade_s = 0.0;
        }
        app.add_plugins(Material2dPlugin::<TileMaterial>::default()).insert_resource(basemap).add_systems(
            Update,
            (apply_source, receive_tiles, request_tiles, sync_style, remember)
                .chain()
                .after(super::camera::CameraPluginSet),
        );
    }
}

/// Where tiles sit in depth: just above the last vector-basemap layer (or under everything).
fn tile_base_z(res: &AtlasRes) -> f32 {
    match res.atlas.metas.iter().rposition(|m| m.basemap) {
        Some(i) => i as f32 * 10.0 + 6.0,
        None => -6.0,
    }
}

fn apply_source(mut commands: Commands, mut bm: ResMut<Basemap>, mut problems: ResMut<Problems>) {
    if !bm.dirty {
        return;
    }
    bm.dirty = false;
    bm.choice_epoch += 1;
    for (_, t) in bm.tiles.drain() {
        commands.entity(t.entity).despawn();
    }
    bm.fading.clear();
    bm.requested.clear();
    bm.arrived.clear();
    bm.failed.clear();
    bm.failures_in_row.clear();
    bm.failures.clear();
    bm.wanted.clear();
    bm.throttled_until = None;
    let source = bm.source().cloned();
    if bm.fetcher.is_none() && source.is_some() && !bm.fetcher_failed {
        // Started on first use: with no basemap chosen the app opens no connections at all.
        match TileFetcher::spawn(bm.cache.clone(), FetchConfig::default()) {
            Ok(f) => bm.fetcher = Some(f),
            Err(e) => {
                bm.fetcher_failed = true;
                problems.push(format!("Basemap: cannot start the tile thread: {e}"));
            }
        }
    }
    if let Some(f) = bm.fetcher.as_mut() {
        let g = f.set_source(source);
        bm.generation = g;
    }
}

/// Turns arrived images into textured meshes; failures become a missing tile and one visible
/// warning per kind of failure.
#[allow(clippy::too_many_arguments)]
fn receive_tiles(
    mut commands: Commands,
    mut bm: ResMut<Basemap>,
    res: Res<AtlasRes>,
    time: Res<Time>,
    mut images: ResMut<Assets<Image>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<TileMaterial>>,
    mut problems: ResMut<Problems>,
) {
    if let Some((size, problem)) = bm.size_probe.as_ref().and_then(|p| p.lock().ok()?.try_recv().ok()) {
        bm.size_probe = None;
        // The tile thread's own figure, once it has one, is newer.
        bm.cache_bytes.get_or_insert(size);
        if let Some(p) = problem {
            problems.push(p);
        }
    }
    let Some(events) = bm.fetcher.as_ref().map(|f| f.poll()) else { return };
    bm.arrived.extend(events);
    let base_z = tile_base_z(&res);
    // A burst of cached tiles (a jump across the map) is uploaded over a few frames, not one.
    let mut uploads = 0;
    while uploads < UPLOADS_PER_FRAME {
        let Some(ev) = bm.arrived.pop_front() else { break };
        if matches!(ev, TileEvent::Ready { .. }) {
            uploads += 1;
        }
        match ev {
            TileEvent::CacheSize(n) => bm.cache_bytes = Some(n),
            TileEvent::Throttled { generation, wait } if generation == bm.generation => {
                if bm.throttle_left().is_none() {
                    let host = bm.source().map(TileSource::host).unwrap_or_default();
                    warn!("basemap server {host} asked to slow down (HTTP 429); waiting {} s", wait.as_secs());
                }
                let until = time.elapsed_secs_f64() + wait.as_secs_f64();
                bm.throttled_until = Some(bm.throttled_until.map_or(until, |u| u.max(until)));
            }
            TileEvent::CacheProblem(m) => problems.push(format!("Basemap tile cache: {m}")),
            TileEvent::Ready { generation, tile, image, .. } if generation == bm.generation => {
                bm.requested.remove(&tile);
                bm.failures_in_row.remove(&tile);
                let Some(source) = bm.source() else { continue };
                let m = source.mesh(tile, &res.frame);
                let mut mesh = Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::RENDER_WORLD);
                mesh.insert_attribute(
                    Mesh::ATTRIBUTE_POSITION,
                    m.positions.iter().map(|p| [p[0], p[1], 0.0]).collect::<Vec<[f32; 3]>>(),
                );
                mesh.insert_attribute(Mesh::ATTRIBUTE_UV_0, m.uvs);
                mesh.insert_indices(Indices::U32(m.indices));
                // A newer copy of a tile on screen (revalidated) swaps in without a fade, which
                // would flash the vector basemap through it.
                let fade_s = if bm.tiles.contains_key(&tile) { 0.0 } else { bm.fade_s };
                let material = materials.add(TileMaterial {
                    u: TileUniform {
                        params: Vec4::new(bm.opacity, bm.muted as u8 as f32, time.elapsed_secs_wrapped(), fade_s),
                    },
                    opaque_image: image.opaque,
                    image: images.add(tile_image(image)),
                });
                if fade_s > 0.0 {
                    let end = time.elapsed_secs_f64() + fade_s as f64;
                    bm.fading.push((material.clone(), end));
                }
                let entity = commands
                    .spawn((
                        BasemapTile(tile),
                        Mesh2d(meshes.add(mesh)),
                        MeshMaterial2d(material.clone()),
                        // Finer zooms above coarser ones, which show only as stand-ins.
                        Transform::from_xyz(0.0, 0.0, base_z + tile.z as f32 * 0.02),
                        Visibility::Hidden,
                    ))
                    .id();
                let frame = bm.frame;
                if let Some(old) = bm.tiles.insert(tile, Loaded { entity, material, last_shown: frame }) {
                    commands.entity(old.entity).despawn();
                }
            }
            TileEvent::Failed { generation, tile, error } if generation == bm.generation => {
                bm.requested.remove(&tile);
                let in_row = bm.failures_in_row.entry(tile).or_insert(0);
                *in_row += 1;
                let wait = retry_wait(*in_row);
                bm.failed.insert(tile, time.elapsed_secs_f64() + wait);
                let kind = error.kind();
                let title = bm.active.and_then(|i| bm.choices.get(i)).map_or("", |c| c.title.as_str());
                let message = format!("Basemap “{title}”: {error} (the vector basemap shows there instead)");
                match bm.failures.get_mut(&kind) {
                    Some(k) => {
                        k.count += 1;
                        debug!("{message}");
                    }
                    None => {
                        // The first of each kind is shown and logged; the rest are counted.
                        problems.push(message.clone());
                        bm.failures.insert(kind, FailureKind { count: 1, example: message });
                    }
                }
            }
            // Answers for a source the user already left.
            TileEvent::Ready { .. } | TileEvent::Failed { .. } | TileEvent::Throttled { .. } => {}
        }
    }
}

/// Seconds before a tile that failed `in_row` times in a row is asked for again.
fn retry_wait(in_row: u32) -> f64 {
    (RETRY_AFTER_S * 2f64.powi(in_row.saturating_sub(1).min(16) as i32)).min(RETRY_MAX_S)
}

fn tile_image(t: TileImage) -> Image {
    let mut img = Image::new(
        Extent3d { width: t.width, height: t.height, depth_or_array_layers: 1 },
        TextureDimension::D2,
        t.rgba,
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::RENDER_WORLD,
    );
    // Linear filtering: tiles are drawn between 0.7x and 1.4x their size between zoom levels.
    img.sampler = ImageSampler::Descriptor(ImageSamplerDescriptor::linear());
    img
}

/// Asks for the tiles the view needs (cancelling the rest), shows loaded ones, stands coarser
/// tiles in for missing ones, and drops tiles unseen for longest when over the GPU budget.
fn request_tiles(
    mut commands: Commands,
    mut bm: ResMut<Basemap>,
    res: Res<AtlasRes>,
    map: Res<MapView>,
    time: Res<Time>,
    windows: Query<&Window, With<bevy::window::PrimaryWindow>>,
    mut vis: Query<&mut Visibility, With<BasemapTile>>,
) {
    bm.frame += 1;
    bm.now = time.elapsed_secs_f64();
    let Some(source) = bm.source().cloned() else {
        bm.needed = 0;
        bm.shown = 0;
        return;
    };
    // Before the first layout the viewport is a guess; tiles for it would be thrown away.
    if bm.fetcher.is_none() || !map.viewport_known {
        return;
    }
    let now = time.elapsed_secs_f64();
    bm.failed.retain(|_, until| now < *until);
    // Tiles at physical pixels, as map sites do on high-density screens ("retina" tiles): on a
    // 2x screen or a 2x slide, one zoom level finer, so tile text stays sharp.
    let density = windows.single().map_or(1.0, |w| w.scale_factor()).max(1.0) as f64;
    let tiles_for = |center: bevy::math::DVec2, scale: f64, limit: usize| {
        // The view's bounds in the tiles' own CRS (a GCJ-02 source's tiles sit ~500 m east).
        let half = bevy::math::DVec2::new(map.viewport.width() as f64, map.viewport.height() as f64) * scale / 2.0;
        let (w, s) = res.frame.unproject(center.x - half.x, center.y - half.y);
        let (e, n) = res.frame.unproject(center.x + half.x, center.y + half.y);
        let (w, s) = source.crs.from_wgs84(w, s);
        let (e, n) = source.crs.from_wgs84(e, n);
        covering([w, s, e, n], zoom_for(scale / density, source.max_zoom), limit)
    };
    let needed = tiles_for(map.center, map.scale, MAX_WANTED);
    // During a flight (presenter steps, search, zoom to all) the destination's tiles are asked
    // for too, after the current view's, so the map is complete when the camera lands. With the
    // view complete and a presenter's next step known, that step's tiles are fetched ahead.
    let easing =
        (map.target_center - map.center).length() > map.scale || (map.target_scale / map.scale - 1.0).abs() > 0.01;
    let complete = needed.iter().all(|t| bm.tiles.contains_key(t) || bm.failed.contains_key(t));
    let ahead = match (map.heading, easing, map.upcoming) {
        (Some(to), ..) => Some(to),
        (None, true, _) => Some((map.target_center, map.target_scale)),
        (None, false, Some(next)) if complete => Some(next),
        _ => None,
    };
    let destination = ahead.map_or_else(Vec::new, |(c, s)| tiles_for(c, s, MAX_WANTED));
    // The views a presenter flight passes through are seen for a moment: tiles two zoom levels
    // coarser (a sixteenth as many, shown as stand-ins) do for them, and leave the downloads to
    // the destination instead of queueing it behind tiles that scroll away.
    let passing = map.heading.map(|_| tiles_for(map.center, map.scale * 4.0, MAX_WANTED));
    let frame = bm.frame;
    // Tiles that arrived but wait for their upload (a burst is spread over frames) are not asked
    // for again.
    let arrived: HashSet<TileId> = bm
        .arrived
        .iter()
        .filter_map(|e| match e {
            TileEvent::Ready { tile, generation, .. } if *generation == bm.generation => Some(*tile),
            _ => None,
        })
        .collect();
    let mut show: HashSet<TileId> = HashSet::new();
    let mut want: Vec<TileId> = Vec::new();
    let mut stand_ins: Vec<TileId> = Vec::new();
    for &t in &needed {
        if bm.tiles.contains_key(&t) {
            show.insert(t);
            continue;
        }
        if !bm.failed.contains_key(&t) && !arrived.contains(&t) && passing.is_none() {
            want.push(t);
        }
        // A coarser tile we have, or failing that one to ask for (the cache often has it when
        // the network is down), stands in until this one arrives.
        let mut p = t;
        for _ in 0..4 {
            if p.z == 0 {
                break;
            }
            p = TileId { z: p.z - 1, x: p.x / 2, y: p.y / 2 };
            if bm.tiles.contains_key(&p) {
                show.insert(p);
                break;
            }
            if bm.failed.contains_key(&t) && !bm.failed.contains_key(&p) {
                if !stand_ins.contains(&p) {
                    stand_ins.push(p);
                }
                break;
            }
        }
    }
    want.extend(stand_ins);
    let have = |t: &TileId| bm.tiles.contains_key(t) || bm.failed.contains_key(t) || arrived.contains(t);
    for t in passing.into_iter().flatten() {
        if !have(&t) && !want.contains(&t) {
            want.push(t);
        }
    }
    for t in destination {
        if !have(&t) && !want.contains(&t) {
            want.push(t);
        }
    }
    bm.needed = needed.len();
    bm.shown = needed.iter().filter(|t| bm.tiles.contains_key(t)).count();
    if want != bm.wanted {
        bm.requested = want.iter().copied().collect();
        if let Some(f) = &bm.fetcher {
            f.want(want.clone());
        }
        bm.wanted = want;
    }
    for (t, l) in bm.tiles.iter_mut() {
        let on = show.contains(t);
        if on {
            l.last_shown = frame;
        }
        if let Ok(mut v) = vis.get_mut(l.entity) {
            let want_v = if on { Visibility::Inherited } else { Visibility::Hidden };
            if *v != want_v {
                *v = want_v;
            }
        }
    }
    if bm.tiles.len() > GPU_TILES {
        let mut by_age: Vec<(u64, TileId)> = bm.tiles.iter().map(|(t, l)| (l.last_shown, *t)).collect();
        by_age.sort();
        let excess = bm.tiles.len() - GPU_TILES;
        for (seen, t) in by_age.into_iter().take(excess) {
            if seen == frame {
                break;
            }
            if let Some(l) = bm.tiles.remove(&t) {
                commands.entity(l.entity).despawn();
            }
        }
    }
}

/// Applies opacity and the muted look to every tile when the user changes them, and ends fades
/// (a settled opaque tile can then be drawn without blending).
fn sync_style(mut bm: ResMut<Basemap>, time: Res<Time>, mut materials: ResMut<Assets<TileMaterial>>) {
    let now = time.elapsed_secs_f64();
    if bm.fading.iter().any(|(_, end)| *end <= now) {
        for (h, _) in bm.fading.extract_if(.., |(_, end)| *end <= now) {
            if let Some(mut m) = materials.get_mut(&h) {
                m.u.params.w = 0.0;
            }
        }
    }
    let style = (bm.opacity, bm.muted);
    if style == bm.applied_style {
        return;
    }
    bm.applied_style = style;
    for l in bm.tiles.values() {
        if let Some(mut m) = materials.get_mut(&l.material) {
            m.u.params.x = style.0;
            m.u.params.y = style.1 as u8 as f32;
            // No fade on a style change.
            m.u.params.w = 0.0;
        }
    }
}

/// Saves the basemap choice once it has been stable for half a second (a slider drag is one save).
fn remember(mut bm: ResMut<Basemap>, time: Res<Time>, mut problems: ResMut<Problems>) {
    if bm.remember.is_none() {
        return;
    }
    let now = time.elapsed_secs_f64();
    let key = (bm.choice_epoch, bm.opacity.to_bits(), bm.muted);
    if key != bm.last_key {
        bm.last_key = key;
        bm.changed_at = Some(now);
        return;
    }
    if bm.changed_at.is_none_or(|since| now - since < 0.5) {
        return;
    }
    bm.changed_at = None;
    let Some((path, saved)) = bm.remember.clone() else { return };
    let settings = bm.as_settings(&saved);
    if settings == saved {
        return;
    }
    match settings.save(&path) {
        Ok(()) => bm.remember = Some((path, settings)),
        Err(e) => {
            problems.push(e.to_string());
            bm.remember = None;
        }
    }
}

/// The basemap section of the layers panel: source, look, progress, failures and the cache.
pub fn basemap_section(ui: &mut Ui, bm: &mut Basemap) {
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
        let mut line = format!("{} of {} tiles", bm.shown, bm.needed);
        if gcj {
            line.push_str(" · GCJ-02, shifted onto WGS84");
        }
        ui.weak(line);
        if let Some(left) = bm.throttle_left() {
            ui.colored_label(
                Color32::from_rgb(0xb0, 0x50, 0x10),
                format!("⏸ {host} asked to slow down: waiting {left:.0} s"),
            )
            .on_hover_text("HTTP 429: no tile is requested from this server until then; missing tiles follow after");
        }
        if !bm.failures.is_empty() {
            let mut retry = false;
            for (kind, f) in &bm.failures {
                ui.horizontal(|ui| {
                    ui.colored_label(Color32::from_rgb(0xb0, 0x50, 0x10), format!("⚠ {} × {kind}", f.count))
                        .on_hover_text(&f.example);
                });
            }
            if ui.small_button("Retry failed tiles").clicked() {
                retry = true;
            }
            if retry {
                bm.retry();
            }
        }
    }
    if let Some(cache) = &bm.cache {
        let dir = cache.dir().display().to_string();
        let size = bm.cache_bytes.map_or("measuring…".to_string(), |b| {
            format!("{:.1} MiB of {} MiB", b as f64 / (1 << 20) as f64, cache.limit() >> 20)
        });
        let mut clear = false;
        ui.horizontal(|ui| {
            ui.weak(format!("Tile cache: {size}")).on_hover_text(&dir);
            clear = ui.small_button("Clear").on_hover_text(format!("Delete the tiles in {dir}")).clicked();
        });
        if clear {
            bm.clear_cache();
        }
    }
}

/// The source's attribution, on the map's bottom-right corner as tile licences require.
pub fn attribution(ctx: &egui::Context, map_rect: egui::Rect, bm: &Basemap) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_tiles_back_off_to_a_few_requests_an_hour() {
        let waits: Vec<f64> = (1..=7).map(retry_wait).collect();
        assert_eq!(waits, vec![30.0, 60.0, 120.0, 240.0, 480.0, 480.0, 480.0]);
        assert_eq!(retry_wait(u32::MAX), RETRY_MAX_S);
        // An hour of a dead server costs each visible tile 11 requests, not 120.
        let (mut t, mut n) = (0.0, 0);
        while t < 3600.0 {
            n += 1;
            t += retry_wait(n);
        }
        assert_eq!(n, 11);
    }
}
