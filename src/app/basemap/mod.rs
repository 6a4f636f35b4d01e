//! Raster basemap: asks the tile thread for the tiles the view needs and draws them between the
//! vector basemap and the thematic layers, in the same local frame, so a missing tile shows the
//! built-in vector basemap beneath instead of a hole.
//!
//! Three resources keep apart what changes for different reasons: [`BasemapChoice`] (what the
//! user chose, and remembering it), [`TileLoader`] (the tile thread, the cache, what is asked
//! for and what failed) and [`GpuTiles`] (textured meshes on the GPU). `plan` decides which tiles
//! to show and ask for; `ui` draws the panel section and the attribution.

mod material;
mod resources;
mod ui;

use std::collections::HashSet;
use std::path::PathBuf;

use bevy::asset::RenderAssetUsages;
use bevy::ecs::system::SystemParam;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use bevy::sprite_render::Material2dPlugin;
use bevy::window::PrimaryWindow;

pub use self::material::TileMaterial;
use self::material::{TileUniform, tile_image};
pub use self::resources::{BasemapChoice, CACHE_LIMIT, FailureKind, GpuTiles, TileLoader, settled};
use self::resources::{FrameTiles, Loaded, Remember};
pub use self::ui::{attribution, basemap_section};
use super::state::{AtlasRes, Problems, Readiness};
use super::tile_plan::{self as plan, TilePlan, ViewTiles, retry_wait};
use super::view::{MapSet, MapView, z};
use crate::diagnostic::Diagnostic;
use crate::settings::Settings;
use crate::tiles::fetch::{FetchConfig, TileEvent, TileFetcher};
use crate::tiles::{TileId, TileSource, covering, zoom_for};

/// Tiles kept on the GPU (256 KB each); beyond this the least recently shown are dropped (the
/// disk cache still has them).
const GPU_TILES: usize = 480;
/// Most tiles asked for per view (a 4K screen at 2x needs about 160).
const MAX_WANTED: usize = 192;
/// Tiles turned into textures per frame (each is a 256 KB upload).
const UPLOADS_PER_FRAME: usize = 16;
/// Marks a tile's entity.
#[derive(Component, Debug, Clone, Copy)]
pub struct BasemapTile(pub TileId);

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
        material::register_shader(app);
        let mut initial = self.initial.clone();
        let mut remembered = None;
        if let Some(path) = &self.interactive {
            match Settings::load(path) {
                Ok(s) => remembered = Some((path.clone(), s)),
                // Reported, and never written over this session.
                Err(e) => app.world_mut().resource_mut::<Problems>().push(Diagnostic::from_error(path, &e)),
            }
        }
        if initial.is_none() {
            initial = remembered.as_ref().and_then(|(_, s)| s.basemap_source());
        }
        let mut choice = BasemapChoice::new(initial);
        if let Some((_, s)) = &remembered {
            choice.opacity = s.basemap_opacity.clamp(0.0, 1.0);
            choice.muted = s.basemap_muted;
        }
        choice.remember = remembered.map(|(path, saved)| Remember {
            path,
            saved,
            last_key: (0, 1.0f32.to_bits(), false),
            changed_at: None,
        });
        let gpu = GpuTiles { fade_s: if self.interactive.is_some() { 0.25 } else { 0.0 }, ..default() };
        app.add_plugins(Material2dPlugin::<TileMaterial>::default())
            .insert_resource(choice)
            .insert_resource(TileLoader::new(self.cache_dir.clone()))
            .insert_resource(gpu)
            .add_systems(
                Update,
                (apply_source, receive_tiles, request_tiles, sync_style, remember, report_readiness)
                    .chain()
                    .in_set(MapSet::Content),
            );
    }
}

/// Where tiles sit in depth: just above the last vector-basemap layer (or under everything).
fn tile_base_z(res: &AtlasRes) -> f32 {
    z::tiles(res.atlas.layers.iter().rposition(|l| l.meta.basemap))
}

/// Tells screenshots whether every tile the view needs has arrived or failed.
fn report_readiness(choice: Res<BasemapChoice>, loader: Res<TileLoader>, mut ready: ResMut<Readiness>) {
    let now = settled(&choice, &loader);
    if ready.tiles_settled != now {
        ready.tiles_settled = now;
    }
}

/// Follows a new choice: drops the old source's tiles and state, starts the tile thread on first
/// use (with no basemap chosen the app opens no connections at all).
fn apply_source(
    mut commands: Commands,
    mut choice: ResMut<BasemapChoice>,
    mut loader: ResMut<TileLoader>,
    mut gpu: ResMut<GpuTiles>,
    mut problems: ResMut<Problems>,
) {
    if !choice.dirty {
        return;
    }
    choice.dirty = false;
    choice.epoch += 1;
    for (_, t) in gpu.tiles.drain() {
        commands.entity(t.entity).despawn();
    }
    gpu.fading.clear();
    loader.reset();
    let source = choice.source().cloned();
    if loader.fetcher.is_none() && source.is_some() && !loader.fetcher_failed {
        match TileFetcher::spawn(loader.cache.clone(), FetchConfig::default()) {
            Ok(f) => loader.fetcher = Some(f),
            Err(e) => {
                loader.fetcher_failed = true;
                problems.error("basemap", format!("cannot start the tile thread: {e}"));
            }
        }
    }
    if let Some(f) = loader.fetcher.as_mut() {
        loader.generation = f.set_source(source);
    }
}

/// The assets tiles become.
#[derive(SystemParam)]
pub struct TileAssets<'w> {
    images: ResMut<'w, Assets<Image>>,
    meshes: ResMut<'w, Assets<Mesh>>,
    materials: ResMut<'w, Assets<TileMaterial>>,
}

/// Turns arrived images into textured meshes; failures become a missing tile and one visible
/// warning per kind of failure.
fn receive_tiles(
    mut commands: Commands,
    choice: Res<BasemapChoice>,
    mut loader: ResMut<TileLoader>,
    mut gpu: ResMut<GpuTiles>,
    res: Res<AtlasRes>,
    time: Res<Time>,
    mut assets: TileAssets,
    mut problems: ResMut<Problems>,
) {
    if let Some((size, problem)) = loader.size_probe.as_ref().and_then(|p| p.lock().ok()?.try_recv().ok()) {
        loader.size_probe = None;
        // The tile thread's own figure, once it has one, is newer.
        loader.cache_bytes.get_or_insert(size);
        if let Some(p) = problem {
            problems.warning(loader.cache_dir(), p);
        }
    }
    let Some(events) = loader.fetcher.as_ref().map(|f| f.poll()) else { return };
    loader.arrived.extend(events);
    let base_z = tile_base_z(&res);
    // A burst of cached tiles (a jump across the map) is uploaded over a few frames, not one.
    let mut uploads = 0;
    while uploads < UPLOADS_PER_FRAME {
        let Some(ev) = loader.arrived.pop_front() else { break };
        if matches!(ev, TileEvent::Ready { .. }) {
            uploads += 1;
        }
        match ev {
            TileEvent::CacheSize(n) => loader.cache_bytes = Some(n),
            TileEvent::Throttled { generation, wait } if generation == loader.generation => {
                if loader.throttle_left().is_none() {
                    let host = choice.source().map(TileSource::host).unwrap_or_default();
                    warn!("basemap server {host} asked to slow down (HTTP 429); waiting {} s", wait.as_secs());
                }
                let until = time.elapsed_secs_f64() + wait.as_secs_f64();
                loader.throttled_until = Some(loader.throttled_until.map_or(until, |u| u.max(until)));
            }
            TileEvent::CacheProblem(m) => problems.warning(loader.cache_dir(), format!("tile cache: {m}")),
            TileEvent::Ready { generation, tile, image, .. } if generation == loader.generation => {
                loader.requested.remove(&tile);
                loader.failures_in_row.remove(&tile);
                let Some(source) = choice.source() else { continue };
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
                let fade_s = if gpu.tiles.contains_key(&tile) { 0.0 } else { gpu.fade_s };
                let material = assets.materials.add(TileMaterial {
                    u: TileUniform {
                        params: Vec4::new(
                            choice.opacity,
                            choice.muted as u8 as f32,
                            time.elapsed_secs_wrapped(),
                            fade_s,
                        ),
                    },
                    opaque_image: image.opaque,
                    image: assets.images.add(tile_image(image)),
                });
                if fade_s > 0.0 {
                    let end = time.elapsed_secs_f64() + fade_s as f64;
                    gpu.fading.push((material.clone(), end));
                }
                let entity = commands
                    .spawn((
                        BasemapTile(tile),
                        Mesh2d(assets.meshes.add(mesh)),
                        MeshMaterial2d(material.clone()),
                        // Finer zooms above coarser ones, which show only as stand-ins.
                        Transform::from_xyz(0.0, 0.0, base_z + tile.z as f32 * 0.02),
                        Visibility::Hidden,
                    ))
                    .id();
                let frame = gpu.frame;
                if let Some(old) = gpu.tiles.insert(tile, Loaded { entity, material, last_shown: frame }) {
                    commands.entity(old.entity).despawn();
                }
            }
            TileEvent::Failed { generation, tile, error } if generation == loader.generation => {
                loader.requested.remove(&tile);
                let in_row = loader.failures_in_row.entry(tile).or_insert(0);
                *in_row += 1;
                let wait = retry_wait(*in_row);
                loader.failed.insert(tile, time.elapsed_secs_f64() + wait);
                let kind = error.kind();
                let message = format!("Basemap “{}”: {error} (the vector basemap shows there instead)", choice.title());
                match loader.failures.get_mut(&kind) {
                    Some(k) => {
                        k.count += 1;
                        debug!("{message}");
                    }
                    None => {
                        // The first of each kind is shown and logged; the rest are counted.
                        let server = choice.source().map(|s| s.template.clone()).unwrap_or_default();
                        problems.warning(server, format!("{error} (the vector basemap shows there instead)"));
                        loader.failures.insert(kind, FailureKind { count: 1, example: message });
                    }
                }
            }
            // Answers for a source the user already left.
            TileEvent::Ready { .. } | TileEvent::Failed { .. } | TileEvent::Throttled { .. } => {}
        }
    }
}

/// What the view looks like: the atlas's frame, the map view and the window's pixel density.
#[derive(SystemParam)]
pub struct ViewInfo<'w, 's> {
    res: Res<'w, AtlasRes>,
    map: Res<'w, MapView>,
    windows: Query<'w, 's, &'static Window, With<PrimaryWindow>>,
}

/// Asks for the tiles the view needs (cancelling the rest), shows loaded ones, stands coarser
/// tiles in for missing ones, and drops tiles unseen for longest when over the GPU budget.
fn request_tiles(
    mut commands: Commands,
    choice: Res<BasemapChoice>,
    mut loader: ResMut<TileLoader>,
    mut gpu: ResMut<GpuTiles>,
    view: ViewInfo,
    time: Res<Time>,
    mut vis: Query<&mut Visibility, With<BasemapTile>>,
) {
    let ViewInfo { res, map, windows } = view;
    gpu.frame += 1;
    loader.now = time.elapsed_secs_f64();
    let Some(source) = choice.source() else {
        loader.needed = 0;
        loader.shown = 0;
        return;
    };
    // Before the first layout the viewport is a guess; tiles for it would be thrown away.
    if loader.fetcher.is_none() || !map.viewport_known {
        return;
    }
    let now = loader.now;
    loader.failed.retain(|_, until| now < *until);
    // Tiles at physical pixels, as map sites do on high-density screens ("retina" tiles): on a
    // 2x screen or a 2x slide, one zoom level finer, so tile text stays sharp.
    let density = windows.single().map_or(1.0, |w| w.scale_factor()).max(1.0) as f64;
    let tiles_for = |center: bevy::math::DVec2, scale: f64| {
        // The view's bounds in the tiles' own CRS (a GCJ-02 source's tiles sit ~500 m east).
        let half = bevy::math::DVec2::new(map.viewport.width() as f64, map.viewport.height() as f64) * scale / 2.0;
        let (w, s) = res.frame.unproject(center.x - half.x, center.y - half.y);
        let (e, n) = res.frame.unproject(center.x + half.x, center.y + half.y);
        let (w, s) = source.crs.from_wgs84(w, s);
        let (e, n) = source.crs.from_wgs84(e, n);
        covering([w, s, e, n], zoom_for(scale / density, source.max_zoom), MAX_WANTED)
    };
    let needed = tiles_for(map.center, map.scale);
    // During a flight (presenter steps, search, zoom to all) the destination's tiles are asked
    // for too, after the current view's, so the map is complete when the camera lands. With the
    // view complete and a presenter's next step known, that step's tiles are fetched ahead.
    let easing =
        (map.target_center - map.center).length() > map.scale || (map.target_scale / map.scale - 1.0).abs() > 0.01;
    let complete = needed.iter().all(|t| gpu.tiles.contains_key(t) || loader.failed.contains_key(t));
    let ahead =
        plan::ahead(map.heading, easing.then_some((map.target_center, map.target_scale)), map.upcoming, complete);
    let view = ViewTiles {
        destination: ahead.map_or_else(Vec::new, |(c, s)| tiles_for(c, s)),
        // The views a presenter flight passes through are seen for a moment: tiles two zoom
        // levels coarser (a sixteenth as many, shown as stand-ins) do for them.
        passing: map.heading.map(|_| tiles_for(map.center, map.scale * 4.0)),
        needed,
    };
    // Tiles that arrived but wait for their upload (a burst is spread over frames) are not asked
    // for again.
    let arrived: HashSet<TileId> = loader
        .arrived
        .iter()
        .filter_map(|e| match e {
            TileEvent::Ready { tile, generation, .. } if *generation == loader.generation => Some(*tile),
            _ => None,
        })
        .collect();
    let TilePlan { show, want } = plan::plan(&view, &FrameTiles { gpu: &gpu, loader: &loader, arrived });
    loader.needed = view.needed.len();
    loader.shown = view.needed.iter().filter(|t| gpu.tiles.contains_key(t)).count();
    if want != loader.wanted {
        loader.requested = want.iter().copied().collect();
        if let Some(f) = &loader.fetcher {
            f.want(want.clone());
        }
        loader.wanted = want;
    }
    let frame = gpu.frame;
    for (t, l) in gpu.tiles.iter_mut() {
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
    if gpu.tiles.len() > GPU_TILES {
        let mut by_age: Vec<(u64, TileId)> = gpu.tiles.iter().map(|(t, l)| (l.last_shown, *t)).collect();
        by_age.sort();
        let excess = gpu.tiles.len() - GPU_TILES;
        for (seen, t) in by_age.into_iter().take(excess) {
            if seen == frame {
                break;
            }
            if let Some(l) = gpu.tiles.remove(&t) {
                commands.entity(l.entity).despawn();
            }
        }
    }
}

/// Applies opacity and the muted look to every tile when the user changes them, and ends fades
/// (a settled opaque tile can then be drawn without blending).
fn sync_style(
    choice: Res<BasemapChoice>,
    mut gpu: ResMut<GpuTiles>,
    time: Res<Time>,
    mut materials: ResMut<Assets<TileMaterial>>,
) {
    let now = time.elapsed_secs_f64();
    if gpu.fading.iter().any(|(_, end)| *end <= now) {
        for (h, _) in gpu.fading.extract_if(.., |(_, end)| *end <= now) {
            if let Some(mut m) = materials.get_mut(&h) {
                m.u.params.w = 0.0;
            }
        }
    }
    let style = (choice.opacity, choice.muted);
    if style == gpu.applied_style {
        return;
    }
    gpu.applied_style = style;
    for l in gpu.tiles.values() {
        if let Some(mut m) = materials.get_mut(&l.material) {
            m.u.params.x = style.0;
            m.u.params.y = style.1 as u8 as f32;
            // No fade on a style change.
            m.u.params.w = 0.0;
        }
    }
}

/// Saves the basemap choice once it has been stable for half a second (a slider drag is one save).
fn remember(mut choice: ResMut<BasemapChoice>, time: Res<Time>, mut problems: ResMut<Problems>) {
    let now = time.elapsed_secs_f64();
    let key = (choice.epoch, choice.opacity.to_bits(), choice.muted);
    let Some(r) = choice.remember.as_mut() else { return };
    if key != r.last_key {
        r.last_key = key;
        r.changed_at = Some(now);
        return;
    }
    if r.changed_at.is_none_or(|since| now - since < 0.5) {
        return;
    }
    r.changed_at = None;
    let (path, saved) = (r.path.clone(), r.saved.clone());
    let settings = choice.as_settings(&saved);
    if settings == saved {
        return;
    }
    match settings.save(&path) {
        Ok(()) => {
            if let Some(r) = choice.remember.as_mut() {
                r.saved = settings;
            }
        }
        Err(e) => {
            problems.push(Diagnostic::from_error(&path, &e));
            choice.remember = None;
        }
    }
}

#[cfg(test)]
mod tests;
