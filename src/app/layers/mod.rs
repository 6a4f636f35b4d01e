//! Layer rendering: off-thread tessellation into one mesh per layer style, the map shader, and the
//! hover and selection overlays.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, ShaderType};
use bevy::shader::ShaderRef;
use bevy::sprite_render::{AlphaMode2d, Material2d, Material2dPlugin};
use bevy::window::PrimaryWindow;
use geo::Geometry;

use super::{AtlasCommand, AtlasRes, LayerView, Problems, Selection};
use crate::geodata::{Feature, LayerMeta};
use crate::index::FeatureRef;
use crate::proj::LocalFrame;
use crate::tess::{self, ExtrudedBuffers, FillBuffers, LayerMeshes};

const MAP_SHADER: Handle<Shader> = uuid_handle!("6a8f3c2e-7d41-4b8a-9e55-0c1f2a3b4d5e");

/// Uniforms of [`MapMaterial`]; see `shaders/map.wgsl` for what each parameter does.
#[derive(ShaderType, Clone, Copy, Debug, Default)]
pub struct MapUniform {
    pub color: Vec4,
    pub params: Vec4,
}

/// The one material every map mesh uses, configured per layer style.
#[derive(Asset, TypePath, AsBindGroup, Clone, Debug)]
pub struct MapMaterial {
    #[uniform(0)]
    pub u: MapUniform,
}

impl MapMaterial {
    fn new(color: Color, alpha: f32, width_px: f32, schematic: bool, pulse: bool) -> Self {
        let c = color.to_linear();
        MapMaterial {
            u: MapUniform {
                color: Vec4::new(c.red, c.green, c.blue, alpha),
                params: Vec4::new(width_px, schematic as u8 as f32, pulse as u8 as f32, 1.0),
            },
        }
    }
}

impl Material2d for MapMaterial {
    fn vertex_shader() -> ShaderRef {
        ShaderRef::Handle(MAP_SHADER)
    }
    fn fragment_shader() -> ShaderRef {
        ShaderRef::Handle(MAP_SHADER)
    }
    fn alpha_mode(&self) -> AlphaMode2d {
        // Fully opaque, unhatched fills skip blending: on a CPU rasteriser (lavapipe) overdraw
        // of blended full-screen layers is what limits the frame rate.
        if self.u.color.w >= 0.999 && self.u.params.x == 0.0 && self.u.params.y == 0.0 && self.u.params.z == 0.0 {
            AlphaMode2d::Opaque
        } else {
            AlphaMode2d::Blend
        }
    }
}

/// Which part of a layer a mesh draws; each has its own material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Fill { schematic: bool },
    Outline { schematic: bool },
    Line { schematic: bool },
    PointHalo,
    Point { schematic: bool },
    PointHole,
}

impl Style {
    fn z(self) -> f32 {
        match self {
            Style::Fill { .. } => 0.0,
            Style::Outline { .. } => 1.0,
            Style::Line { .. } => 2.0,
            Style::PointHalo => 3.0,
            Style::Point { .. } => 4.0,
            Style::PointHole => 5.0,
        }
    }

    /// Colour, opacity and width of this style for a layer.
    fn material(self, meta: &LayerMeta, opacity: f32) -> MapMaterial {
        let [r, g, b] = meta.rgb();
        let [sr, sg, sb] = meta.stroke_rgb();
        let fill = Color::srgb_u8(r, g, b);
        let stroke = Color::srgb_u8(sr, sg, sb);
        let w = meta.line_width;
        match self {
            Style::Fill { schematic } => MapMaterial::new(fill, opacity, 0.0, schematic, false),
            Style::Outline { schematic } => MapMaterial::new(stroke, opacity.clamp(0.35, 1.0), w, schematic, false),
            Style::Line { schematic } => MapMaterial::new(fill, (opacity * 2.0).min(1.0), w, schematic, false),
            Style::PointHalo => MapMaterial::new(Color::WHITE, opacity.max(0.3), 16.0, false, false),
            Style::Point { .. } => MapMaterial::new(fill, (opacity * 1.5).min(1.0), 12.0, false, false),
            Style::PointHole => MapMaterial::new(Color::WHITE, (opacity * 1.5).min(1.0), 5.0, false, false),
        }
    }
}

/// Marks an entity as drawing part of layer `layer`.
#[derive(Component, Debug, Clone, Copy)]
pub struct LayerPart {
    pub layer: usize,
    pub style: Style,
}

/// The tessellated parts of one layer, split by accuracy so schematic features get hatching.
pub struct TessOutput {
    pub surveyed: LayerMeshes,
    pub schematic: LayerMeshes,
    /// For large layers: a generalised fill (small features as their bounding box, the rest
    /// simplified) drawn instead of the full meshes when zoomed out.
    pub coarse: Option<FillBuffers>,
    pub errors: Vec<String>,
}

/// Generalisation size in local metres: features smaller than this are aggregated into grid
/// cells of this size.
const LOD_SIZE_M: f64 = 400.0;
/// Metres per pixel beyond which the overview mesh replaces the detailed ones (LOD_SIZE_M is
/// then under 16 px, where a 20-vertex outline is indistinguishable from its box).
pub const LOD_SWITCH_M_PER_PX: f64 = 25.0;

/// Which zoom band a mesh belongs to.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lod {
    /// Always drawn (small layers).
    All,
    /// Drawn when zoomed in past [`LOD_SWITCH_M_PER_PX`].
    Detail,
    /// Drawn when zoomed out.
    Overview,
}

impl Lod {
    pub fn shows_at(self, metres_per_px: f64) -> bool {
        match self {
            Lod::All => true,
            Lod::Detail => metres_per_px <= LOD_SWITCH_M_PER_PX,
            Lod::Overview => metres_per_px > LOD_SWITCH_M_PER_PX,
        }
    }
}

/// The overview fill. Polygons smaller than [`LOD_SIZE_M`] are aggregated into the cells of a
/// grid of that size (runs of filled cells in a row become one rectangle), so 100,000 parcels
/// cost a few thousand triangles instead of millions; larger polygons are simplified.
fn coarse_fill(features: &[Feature], frame: &LocalFrame) -> FillBuffers {
    use geo::{BoundingRect, Simplify};
    use std::collections::BTreeSet;
    let mut out = FillBuffers::default();
    let mut big = Vec::new();
    let mut cells: BTreeSet<(i64, i64)> = BTreeSet::new();
    for (i, f) in features.iter().enumerate() {
        if !matches!(f.geometry, Geometry::Polygon(_) | Geometry::MultiPolygon(_)) {
            continue;
        }
        let Some(r) = f.geometry.bounding_rect() else { continue };
        let (x0, y0) = frame.project(r.min().x, r.min().y);
        let (x1, y1) = frame.project(r.max().x, r.max().y);
        if (x1 - x0).max(y1 - y0) < LOD_SIZE_M {
            let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
            cells.insert(((cy / LOD_SIZE_M).floor() as i64, (cx / LOD_SIZE_M).floor() as i64));
        } else {
            let tol = LOD_SIZE_M / 8.0 / 111_000.0;
            let simplified = match &f.geometry {
                Geometry::Polygon(p) => Geometry::Polygon(p.simplify(tol)),
                Geometry::MultiPolygon(m) => Geometry::MultiPolygon(m.simplify(tol)),
                other => other.clone(),
            };
            big.push((i, simplified));
        }
    }
    // Cells sorted by (row, column): merge each row's consecutive cells into one rectangle.
    let mut it = cells.into_iter().peekable();
    while let Some((row, start)) = it.next() {
        let mut end = start;
        while it.peek() == Some(&(row, end + 1)) {
            end += 1;
            it.next();
        }
        let (x0, x1) = ((start as f64 * LOD_SIZE_M) as f32, ((end + 1) as f64 * LOD_SIZE_M) as f32);
        let (y0, y1) = ((row as f64 * LOD_SIZE_M) as f32, ((row + 1) as f64 * LOD_SIZE_M) as f32);
        let base = out.positions.len() as u32;
        out.positions.extend([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]);
        out.feature.extend([u32::MAX; 4]);
        out.indices.extend([base, base + 1, base + 2, base, base + 2, base + 3]);
    }
    let (m, _) = tess::tessellate(big.iter().map(|(_, g)| g), frame, 5.0);
    let mut fill = m.fill;
    for f in &mut fill.feature {
        *f = big[*f as usize].0 as u32;
    }
    out.append(fill, 0);
    out
}

struct Pending {
    layer: usize,
    /// A plain thread rather than Bevy's async pool: that pool has a single thread on a 2-core
    /// machine, which would queue the quick overview behind the slow detail.
    task: std::thread::JoinHandle<Built>,
    done: Arc<AtomicUsize>,
    total: usize,
}

/// A finished tessellation with its meshes already built (building 6 million vertices into
/// `Mesh`es takes a few hundred milliseconds, which must not happen on the main thread).
pub struct Built {
    meshes: Vec<(Style, Mesh, Lod)>,
    errors: Vec<String>,
}

impl Built {
    fn new(out: TessOutput, large: bool) -> Self {
        Built { meshes: parts(&out, large), errors: out.errors }
    }
}

/// Source vertices above which a layer gets an overview mesh and its detail meshes are built
/// after it (so the layer shows up in well under a second whatever its size).
const LARGE_LAYER_VERTICES: usize = 100_000;

fn is_large(features: &[Feature]) -> bool {
    use geo::CoordsIter;
    let mut n = 0;
    features.iter().any(|f| {
        n += f.geometry.coords_count();
        n > LARGE_LAYER_VERTICES
    })
}

/// A file being read and parsed on its own thread.
pub type LoadTask = std::thread::JoinHandle<Result<(crate::geodata::Layer, Vec<crate::geodata::Diagnostic>), String>>;

/// A layer being read: a file, or a URL whose download shows its progress and can be cancelled.
pub struct Reading {
    pub path: std::path::PathBuf,
    task: LoadTask,
    /// For URLs only.
    pub download: Option<Arc<crate::remote::Progress>>,
}

impl Reading {
    /// Whether the user cancelled it (then its error is no problem to report).
    pub fn cancelled(&self) -> bool {
        self.download.as_ref().is_some_and(|d| d.is_cancelled())
    }
}

/// Starts reading a layer on a new thread (the app starts these before its window opens): a
/// file, or an http(s) URL fetched with a stall timeout and a size limit.
pub fn start_read(path: std::path::PathBuf) -> Reading {
    let name = path.to_string_lossy().to_string();
    let download = crate::remote::is_url(&name).then(|| Arc::new(crate::remote::Progress::default()));
    let (p, progress) = (path.clone(), download.clone());
    let task = std::thread::spawn(move || {
        let t = std::time::Instant::now();
        let r = match progress {
            Some(progress) => crate::remote::fetch_layer_with(&name, crate::remote::Limits::default(), &progress)
                .map_err(|e| e.to_string()),
            None => crate::atlas::read_user_layer(&p).map_err(|e| e.to_string()),
        };
        if r.is_ok() {
            info!("read {} in {:.2} s", p.display(), t.elapsed().as_secs_f64());
        }
        r
    });
    Reading { path, task, download }
}

/// Layers still being read or tessellated, for the progress bar.
#[derive(Resource, Default)]
pub struct Tessellation {
    pending: Vec<Pending>,
    pub loading: Vec<Reading>,
    /// Large layers whose detail meshes have not been asked for yet.
    needs_detail: Vec<usize>,
    /// Large layers whose detail meshes exist.
    detail_done: Vec<usize>,
    /// Detail tiles near the view are still being handed to the renderer.
    pub realizing: bool,
    /// Places to focus once the files being read are in (a `--view` into a `--layer`).
    pub focus_after_load: Vec<String>,
    /// The view was given explicitly (`--view LON,LAT`): loading layers must not move it.
    pub keep_view: bool,
    /// Layers whose meshes exist.
    pub ready: Vec<bool>,
}

impl Tessellation {
    /// Every layer has something on screen (large layers may still be refining their detail).
    pub fn all_shown(&self) -> bool {
        self.loading.is_empty() && !self.ready.is_empty() && self.ready.iter().all(|&r| r)
    }

    /// Nothing left to read, tessellate or upload for the current view.
    pub fn settled(&self) -> bool {
        self.progress().is_none() && !self.realizing && self.focus_after_load.is_empty()
    }

    /// Files and URLs still being read.
    pub fn loading(&self) -> impl Iterator<Item = &Reading> {
        self.loading.iter()
    }

    /// (features done, features total) over all pending layers.
    pub fn progress(&self) -> Option<(usize, usize)> {
        if self.pending.is_empty() {
            return if self.loading.is_empty() { None } else { Some((0, 1)) };
        }
        let done = self.pending.iter().map(|p| p.done.load(Ordering::Relaxed)).sum();
        let total = self.pending.iter().map(|p| p.total).sum();
        Some((done, total))
    }
}

/// Features per chunk: small enough for a smooth progress bar, large enough to amortise setup.
const CHUNK: usize = 2000;

/// Tessellates features in chunks, counting progress in `done`.
fn tessellate_range(features: &[&Feature], frame: &LocalFrame, done: &AtomicUsize) -> TessOutput {
    let mut out = TessOutput {
        surveyed: LayerMeshes::default(),
        schematic: LayerMeshes::default(),
        coarse: None,
        errors: Vec::new(),
    };
    let tolerance = 0.5;
    let empty = Geometry::GeometryCollection(geo::GeometryCollection(vec![]));
    for (ci, chunk) in features.chunks(CHUNK).enumerate() {
        let base = (ci * CHUNK) as u32;
        for schematic in [false, true] {
            // Features of the other kind become empty placeholders so indices stay aligned.
            let geoms = chunk.iter().map(|f| if f.accuracy.is_schematic() == schematic { &f.geometry } else { &empty });
            let (m, errors) = tess::tessellate(geoms, frame, tolerance);
            out.errors.extend(errors.into_iter().map(|e| {
                let f = &chunk[e.feature];
                format!("feature {:?}: {}", f.id, e.message)
            }));
            if schematic { &mut out.schematic } else { &mut out.surveyed }.append(m, base);
        }
        done.fetch_add(chunk.len(), Ordering::Relaxed);
    }
    out
}

/// Side of the square tiles a large layer's detail is cut into, in local metres: each tile is its
/// own mesh, so the renderer culls what is off screen instead of transforming millions of
/// vertices every frame.
const TILE_M: f64 = 2500.0;

/// Tessellates a large layer tile by tile (by each feature's bounding-box centre).
fn tessellate_tiles(features: &[Feature], frame: &LocalFrame, done: &AtomicUsize) -> Vec<TessOutput> {
    let mut tiles: std::collections::BTreeMap<(i64, i64), Vec<&Feature>> = Default::default();
    for f in features {
        let Some(b) = f.bounds() else { continue };
        let (x, y) = frame.project((b.min().x + b.max().x) / 2.0, (b.min().y + b.max().y) / 2.0);
        tiles.entry(((x / TILE_M).floor() as i64, (y / TILE_M).floor() as i64)).or_default().push(f);
    }
    let tiles: Vec<Vec<&Feature>> = tiles.into_values().collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).saturating_sub(1).clamp(1, 8);
    std::thread::scope(|scope| {
        let tiles = &tiles;
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    tiles
                        .iter()
                        .skip(t)
                        .step_by(threads)
                        .map(|tile| tessellate_range(tile, frame, done))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// Tessellates a layer's features (off the main thread), counting progress in `done`.
pub fn tessellate_features(features: &[Feature], frame: &LocalFrame, done: &AtomicUsize, large: bool) -> TessOutput {
    // Large layers are split across the cores but one, which stays with rendering so the map
    // keeps moving while the detail is built; each part is tessellated in chunks.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).saturating_sub(1).clamp(1, 8);
    let per = features.len().div_ceil(threads).max(CHUNK);
    let refs: Vec<&Feature> = features.iter().collect();
    let parts: Vec<TessOutput> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            refs.chunks(per).map(|part| scope.spawn(move || tessellate_range(part, frame, done))).collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut out = TessOutput {
        surveyed: LayerMeshes::default(),
        schematic: LayerMeshes::default(),
        coarse: None,
        errors: Vec::new(),
    };
    for (i, p) in parts.into_iter().enumerate() {
        let base = (i * per) as u32;
        out.surveyed.append(p.surveyed, base);
        out.schematic.append(p.schematic, base);
        out.errors.extend(p.errors);
    }
    // Fills are simplified to half a metre: far below a pixel at any useful zoom.
    let tolerance = 0.5;
    if !large {
        // Small layers: dissolve each fill into one multipolygon, so nested features (a
        // province, its city, the city's districts) are filled once rather than stacked.
        // Overdraw is what a CPU rasteriser pays for; picking still sees every feature.
        for schematic in [false, true] {
            let polys: Vec<&geo::Polygon<f64>> = features
                .iter()
                .filter(|f| f.accuracy.is_schematic() == schematic)
                .flat_map(|f| match &f.geometry {
                    Geometry::Polygon(p) => vec![p],
                    Geometry::MultiPolygon(m) => m.0.iter().collect(),
                    _ => vec![],
                })
                .collect();
            if polys.len() < 2 {
                continue;
            }
            let dissolved = Geometry::MultiPolygon(geo::unary_union(polys));
            let (m, errors) = tess::tessellate([&dissolved], frame, tolerance);
            if errors.is_empty() {
                if schematic { &mut out.schematic } else { &mut out.surveyed }.fill = m.fill;
            }
        }
    }
    out
}

fn fill_mesh(b: &FillBuffers) -> Mesh {
    let pos: Vec<[f32; 3]> = b.positions.iter().map(|p| [p[0], p[1], 0.0]).collect();
    let n = pos.len();
    Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::RENDER_WORLD)
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, pos)
        .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, vec![[0.0f32; 3]; n])
        .with_inserted_attribute(Mesh::ATTRIBUTE_UV_0, vec![[0.0f32; 2]; n])
        .with_inserted_indices(Indices::U32(b.indices.clone()))
}

fn extruded_mesh(b: &ExtrudedBuffers) -> Mesh {
    let pos: Vec<[f32; 3]> = b.positions.iter().map(|p| [p[0], p[1], 0.0]).collect();
    let nrm: Vec<[f32; 3]> = b.offsets.iter().map(|o| [o[0], o[1], 0.0]).collect();
    let uv: Vec<[f32; 2]> = b.advance.iter().map(|&a| [a, 0.0]).collect();
    Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::RENDER_WORLD)
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, pos)
        .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, nrm)
        .with_inserted_attribute(Mesh::ATTRIBUTE_UV_0, uv)
        .with_inserted_indices(Indices::U32(b.indices.clone()))
}

/// The meshes and styles one layer's tessellation turns into, with the zoom band each shows in.
fn parts(out: &TessOutput, large: bool) -> Vec<(Style, Mesh, Lod)> {
    let detail = if large { Lod::Detail } else { Lod::All };
    let mut v: Vec<(Style, Mesh, Lod)> = parts_of(out).into_iter().map(|(s, m)| (s, m, detail)).collect();
    if let Some(c) = &out.coarse
        && !c.indices.is_empty()
    {
        v.push((Style::Fill { schematic: false }, fill_mesh(c), Lod::Overview));
    }
    v
}

fn parts_of(out: &TessOutput) -> Vec<(Style, Mesh)> {
    let mut v = Vec::new();
    for (schematic, m) in [(false, &out.surveyed), (true, &out.schematic)] {
        if !m.fill.indices.is_empty() {
            v.push((Style::Fill { schematic }, fill_mesh(&m.fill)));
        }
        if !m.outlines.indices.is_empty() {
            v.push((Style::Outline { schematic }, extruded_mesh(&m.outlines)));
        }
        if !m.lines.indices.is_empty() {
            v.push((Style::Line { schematic }, extruded_mesh(&m.lines)));
        }
        if !m.points.indices.is_empty() {
            let mesh = extruded_mesh(&m.points);
            v.push((Style::PointHalo, mesh.clone()));
            v.push((Style::Point { schematic }, mesh.clone()));
            if schematic {
                // Hollow markers for places whose position is not published.
                v.push((Style::PointHole, mesh));
            }
        }
    }
    v
}

#[derive(Component)]
struct Overlay;

/// A detail mesh not yet given to the renderer (see [`realize_deferred`]), with the bounds of
/// its vertices in local metres.
#[derive(Component)]
pub struct Deferred(Option<(Mesh, MapMaterial)>, bevy::math::Rect);

/// Local-metre bounds of a mesh's positions.
fn mesh_bounds(mesh: &Mesh) -> bevy::math::Rect {
    let mut r = bevy::math::Rect { min: Vec2::splat(f32::MAX), max: Vec2::splat(f32::MIN) };
    if let Some(bevy::mesh::VertexAttributeValues::Float32x3(ps)) = mesh.attribute(Mesh::ATTRIBUTE_POSITION) {
        for p in ps {
            r.min = r.min.min(Vec2::new(p[0], p[1]));
            r.max = r.max.max(Vec2::new(p[0], p[1]));
        }
    }
    r
}

/// Detail tiles handed to the renderer per frame: each is a GPU upload, and a few per frame keep
/// the frame time flat while the user zooms in.
const REALIZE_PER_FRAME: usize = 2;

/// Hands deferred detail tiles to the renderer when the view is in their band and near them,
/// nearest first and a few per frame.
fn realize_deferred(
    mut commands: Commands,
    map: Res<super::camera::MapView>,
    view: Res<LayerView>,
    mut deferred: Query<(Entity, &mut Deferred, &LayerPart, &Lod)>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<MapMaterial>>,
    mut tess: ResMut<Tessellation>,
) {
    let half = map.viewport.size() * 0.5 * map.scale as f32 * 1.5;
    let c = Vec2::new(map.center.x as f32, map.center.y as f32);
    let near = bevy::math::Rect { min: c - half, max: c + half };
    let mut wanted: Vec<(f32, Entity)> = deferred
        .iter()
        .filter(|(_, d, _, lod)| lod.shows_at(map.scale) && d.0.is_some() && !d.1.intersect(near).is_empty())
        .map(|(e, d, _, _)| (d.1.center().distance_squared(c), e))
        .collect();
    wanted.sort_by(|a, b| a.0.total_cmp(&b.0));
    tess.realizing = wanted.len() > REALIZE_PER_FRAME;
    for (_, e) in wanted.into_iter().take(REALIZE_PER_FRAME) {
        let Ok((e, mut d, part, _)) = deferred.get_mut(e) else { continue };
        let Some((mesh, material)) = d.0.take() else { continue };
        let visible = view.visible.get(part.layer).copied().unwrap_or(true);
        commands.entity(e).remove::<Deferred>().insert((
            Mesh2d(meshes.add(mesh)),
            MeshMaterial2d(materials.add(material)),
            if visible { Visibility::Inherited } else { Visibility::Hidden },
        ));
    }
}

pub struct LayersPlugin;

impl Plugin for LayersPlugin {
    fn build(&self, app: &mut App) {
        let shader = Shader::from_wgsl(include_str!("../../shaders/map.wgsl"), "shaders/map.wgsl");
        if let Err(e) = app.world_mut().resource_mut::<Assets<Shader>>().insert(MAP_SHADER.id(), shader) {
            error!("cannot register the map shader: {e}");
        }
        app.add_plugins(Material2dPlugin::<MapMaterial>::default())
            .init_resource::<Tessellation>()
            .add_systems(Startup, (start_all, spawn_veil))
            .add_systems(
                Update,
                (
                    handle_commands,
                    dropped_files,
                    finish_loads,
                    request_detail,
                    poll_tasks,
                    realize_deferred,
                    sync_styles,
                    update_overlays,
                    sync_veil,
                    pixel_ratio,
                )
                    .chain(),
            );
    }
}

fn spawn_task(tess: &mut Tessellation, res: &AtlasRes, layer: usize) {
    let features = Arc::new(res.atlas.layers[layer].features.clone());
    let frame = res.frame;
    let large = is_large(&features);
    if large {
        // The overview first: a few thousand triangles, on screen in a moment.
        let f = features.clone();
        let task = std::thread::spawn(move || {
            let empty = LayerMeshes::default();
            let out = TessOutput {
                surveyed: empty.clone(),
                schematic: empty,
                coarse: Some(coarse_fill(&f, &frame)),
                errors: Vec::new(),
            };
            Built::new(out, true)
        });
        tess.pending.push(Pending { layer, task, done: Arc::new(AtomicUsize::new(0)), total: 0 });
        if tess.ready.len() <= layer {
            tess.ready.resize(layer + 1, false);
        }
        // The detail is built when the view first zooms into its band (see `request_detail`), so
        // panning the overview never competes with a background build.
        tess.needs_detail.push(layer);
        return;
    }
    spawn_detail(tess, layer, features, frame, false);
}

fn spawn_detail(tess: &mut Tessellation, layer: usize, features: Arc<Vec<Feature>>, frame: LocalFrame, large: bool) {
    let done = Arc::new(AtomicUsize::new(0));
    let d2 = done.clone();
    let total = features.len();
    let task = std::thread::spawn(move || {
        let t = std::time::Instant::now();
        let built = if large {
            let tiles = tessellate_tiles(&features, &frame, &d2);
            let mut built = Built { meshes: Vec::new(), errors: Vec::new() };
            for tile in tiles {
                let b = Built::new(tile, true);
                built.meshes.extend(b.meshes);
                built.errors.extend(b.errors);
            }
            built
        } else {
            Built::new(tessellate_features(&features, &frame, &d2, false), false)
        };
        debug!("tessellated {} features in {:.2} s", features.len(), t.elapsed().as_secs_f64());
        built
    });
    if tess.ready.len() <= layer {
        tess.ready.resize(layer + 1, false);
    }
    tess.pending.push(Pending { layer, task, done, total });
}

/// Starts building the detail meshes of large layers once the view zooms into the detail band.
fn request_detail(mut tess: ResMut<Tessellation>, res: Res<AtlasRes>, map: Res<super::camera::MapView>) {
    if tess.needs_detail.is_empty() || !Lod::Detail.shows_at(map.target_scale.min(map.scale)) {
        return;
    }
    for layer in std::mem::take(&mut tess.needs_detail) {
        if let Some(l) = res.atlas.layers.get(layer) {
            spawn_detail(&mut tess, layer, Arc::new(l.features.clone()), res.frame, true);
        }
    }
}

fn start_all(mut tess: ResMut<Tessellation>, res: Res<AtlasRes>) {
    for i in 0..res.atlas.layers.len() {
        spawn_task(&mut tess, &res, i);
    }
}

/// Loads files asked for by the CLI, the UI or drag-and-drop; failures go to the problems panel
/// and leave the atlas as it was.
pub fn handle_commands(
    mut cmds: MessageReader<AtlasCommand>,
    mut res: ResMut<AtlasRes>,
    mut tess: ResMut<Tessellation>,
    mut problems: ResMut<Problems>,
    mut selection: ResMut<Selection>,
    mut map: ResMut<super::camera::MapView>,
) {
    for cmd in cmds.read() {
        match cmd {
            AtlasCommand::LoadLayer(path) => {
                tess.loading.push(start_read(path.clone()));
            }
            AtlasCommand::LoadDocument(path) => match res.atlas.add_document(path) {
                Ok(i) => {
                    let passages = res.atlas.documents[i].passages.len();
                    info!("linked document {} ({passages} passages)", path.display());
                    selection.scroll_to = Some((i, 0));
                }
                Err(e) => problems.push(e.to_string()),
            },
            AtlasCommand::FocusPlace(id) => match res.atlas.feature_of(id) {
                Some(r) => {
                    selection.selected = Some(r);
                    if let Some(b) = res.atlas.feature(r).and_then(Feature::bounds) {
                        let frame = res.frame;
                        map.fit_lonlat(&frame, b, 60.0);
                    }
                }
                None => match res.atlas.gazetteer.get(id).and_then(|p| p.bounds) {
                    Some(b) => {
                        let frame = res.frame;
                        map.fit_lonlat(&frame, b, 60.0);
                    }
                    // The place may be in a file still being read.
                    None if !tess.loading.is_empty() => tess.focus_after_load.push(id.clone()),
                    None => problems.push(format!("{id:?}: no place with that id (see `port-atlas links`)")),
                },
            },
        }
    }
}

/// Adds layers whose files finished reading; errors go to the problems panel.
pub fn finish_loads(
    mut cmds: MessageWriter<AtlasCommand>,
    mut res: ResMut<AtlasRes>,
    mut view: ResMut<LayerView>,
    mut tess: ResMut<Tessellation>,
    mut problems: ResMut<Problems>,
    mut map: ResMut<super::camera::MapView>,
) {
    let mut done = Vec::new();
    let mut i = 0;
    while i < tess.loading.len() {
        if tess.loading[i].task.is_finished() {
            let reading = tess.loading.remove(i);
            let (path, cancelled) = (reading.path.clone(), reading.cancelled());
            let r =
                reading.task.join().unwrap_or_else(|_| Err(format!("{}: the reader thread failed", path.display())));
            if cancelled {
                // The user's own choice, not a problem to report.
                info!("cancelled reading {}", path.display());
                continue;
            }
            done.push((path, r));
        } else {
            i += 1;
        }
    }
    for (path, r) in done {
        match r {
            Ok((layer, diags)) => {
                problems.extend_diagnostics(&diags);
                let t = std::time::Instant::now();
                let i = res.atlas.add_layer(layer);
                info!("added {} to the gazetteer and re-linked in {:.2} s", path.display(), t.elapsed().as_secs_f64());
                let meta = &res.atlas.metas[i];
                view.visible.push(meta.visible);
                view.opacity.push(meta.opacity);
                res.reindex();
                spawn_task(&mut tess, &res, i);
                if let Some(b) = res.atlas.layers[i].bounds().filter(|_| !tess.keep_view) {
                    let frame = res.frame;
                    map.fit_lonlat(&frame, b, 40.0);
                }
                info!("loaded layer {} ({} features)", path.display(), res.atlas.layers[i].features.len());
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    if tess.loading.is_empty() && !tess.focus_after_load.is_empty() {
        for id in std::mem::take(&mut tess.focus_after_load) {
            cmds.write(AtlasCommand::FocusPlace(id));
        }
    }
}

fn dropped_files(mut drops: MessageReader<bevy::window::FileDragAndDrop>, mut cmds: MessageWriter<AtlasCommand>) {
    for d in drops.read() {
        if let bevy::window::FileDragAndDrop::DroppedFile { path_buf, .. } = d {
            let ext = path_buf.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            if ext == "txt" || ext == "md" {
                cmds.write(AtlasCommand::LoadDocument(path_buf.clone()));
            } else {
                cmds.write(AtlasCommand::LoadLayer(path_buf.clone()));
            }
        }
    }
}

#[allow(clippy::too_many_arguments)] // a Bevy system: each argument is a resource it touches
pub fn poll_tasks(
    mut commands: Commands,
    mut tess: ResMut<Tessellation>,
    res: Res<AtlasRes>,
    view: Res<LayerView>,
    map: Res<super::camera::MapView>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<MapMaterial>>,
    mut problems: ResMut<Problems>,
) {
    let mut finished = Vec::new();
    let mut i = 0;
    while i < tess.pending.len() {
        if tess.pending[i].task.is_finished() {
            let p = tess.pending.remove(i);
            match p.task.join() {
                Ok(out) => {
                    if out.meshes.iter().any(|m| m.2 == Lod::Detail) {
                        tess.detail_done.push(p.layer);
                    }
                    finished.push((p.layer, out))
                }
                Err(_) => problems.push(format!("{}: tessellation failed", res.atlas.layers[p.layer].path.display())),
            }
        } else {
            i += 1;
        }
    }
    for (layer, out) in finished {
        let meta = &res.atlas.metas[layer];
        for e in &out.errors {
            problems.push(format!("{}: {e}", res.atlas.layers[layer].path.display()));
        }
        let visible = view.visible.get(layer).copied().unwrap_or(true);
        let opacity = view.opacity.get(layer).copied().unwrap_or(meta.opacity);
        for (style, mesh, lod) in out.meshes {
            let shown = visible && lod.shows_at(map.scale);
            if lod == Lod::Detail {
                // Millions of vertices nobody sees yet: each tile goes to the GPU when the view
                // comes near it (`realize_deferred`).
                let bounds = mesh_bounds(&mesh);
                commands.spawn((
                    Deferred(Some((mesh, style.material(meta, opacity))), bounds),
                    Transform::from_xyz(0.0, 0.0, layer as f32 * 10.0 + style.z()),
                    Visibility::Hidden,
                    LayerPart { layer, style },
                    lod,
                ));
                continue;
            }
            commands.spawn((
                Mesh2d(meshes.add(mesh)),
                MeshMaterial2d(materials.add(style.material(meta, opacity))),
                Transform::from_xyz(0.0, 0.0, layer as f32 * 10.0 + style.z()),
                if shown { Visibility::Inherited } else { Visibility::Hidden },
                LayerPart { layer, style },
                lod,
            ));
        }
        if tess.ready.len() <= layer {
            tess.ready.resize(layer + 1, false);
        }
        tess.ready[layer] = true;
    }
}

/// Applies visibility and opacity changes from the layer panel.
fn sync_styles(
    view: Res<LayerView>,
    res: Res<AtlasRes>,
    map: Res<super::camera::MapView>,
    mut parts: Query<(&LayerPart, &Lod, &mut Visibility, &MeshMaterial2d<MapMaterial>)>,
    mut materials: ResMut<Assets<MapMaterial>>,
    tess: Res<Tessellation>,
    mut last: Local<Option<(bool, usize)>>,
) {
    let band = Lod::Overview.shows_at(map.scale);
    let state = (band, tess.detail_done.len());
    if !view.is_changed() && *last == Some(state) {
        return;
    }
    *last = Some(state);
    for (part, lod, mut vis, mat) in &mut parts {
        // The overview stays up until a large layer's detail exists: zooming in never blanks it.
        let in_band = lod.shows_at(map.scale) || (*lod == Lod::Overview && !tess.detail_done.contains(&part.layer));
        let visible = view.visible.get(part.layer).copied().unwrap_or(true) && in_band;
        let target = if visible { Visibility::Inherited } else { Visibility::Hidden };
        if *vis != target {
            *vis = target;
        }
        let (Some(meta), Some(&opacity)) = (res.atlas.metas.get(part.layer), view.opacity.get(part.layer)) else {
            continue;
        };
        if !view.is_changed() {
            continue;
        }
        let wanted = part.style.material(meta, opacity);
        if let Some(mut m) = materials.get_mut(&mat.0)
            && m.u.color != wanted.u.color
        {
            m.u.color = wanted.u.color;
        }
    }
}

/// Keeps stroke widths in logical pixels on HiDPI screens.
fn pixel_ratio(
    window: Single<&Window, With<PrimaryWindow>>,
    mut materials: ResMut<Assets<MapMaterial>>,
    mut last: Local<f32>,
) {
    let sf = window.scale_factor();
    if (sf - *last).abs() < 1e-3 {
        return;
    }
    *last = sf;
    for (_, m) in materials.iter_mut() {
        m.u.params.w = sf;
    }
}

/// Rebuilds the hover and selection overlays when they change: a single feature is cheap to
/// tessellate on the spot.
fn update_overlays(
    mut commands: Commands,
    selection: Res<Selection>,
    res: Res<AtlasRes>,
    old: Query<Entity, With<Overlay>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<MapMaterial>>,
    mut last: Local<(Option<FeatureRef>, Option<FeatureRef>, Vec<FeatureRef>)>,
) {
    let now = (selection.hovered, selection.selected, selection.emphasized.clone());
    if *last == now {
        return;
    }
    *last = now.clone();
    for e in &old {
        commands.entity(e).despawn();
    }
    let highlight = Color::srgb(1.0, 0.8, 0.1);
    let mut spawn = |r: FeatureRef, selected: bool| {
        let Some(f) = res.atlas.feature(r) else { return };
        let (m, _) = tess::tessellate([&f.geometry], &res.frame, 0.5);
        let z = if selected { 900.0 } else { 890.0 };
        let mut add = |mesh: Mesh, mat: MapMaterial, dz: f32| {
            commands.spawn((
                Mesh2d(meshes.add(mesh)),
                MeshMaterial2d(materials.add(mat)),
                Transform::from_xyz(0.0, 0.0, z + dz),
                Overlay,
            ));
        };
        if selected && !m.fill.indices.is_empty() {
            add(fill_mesh(&m.fill), MapMaterial::new(highlight, 0.35, 0.0, false, true), 0.0);
        }
        let width = if selected { 4.0 } else { 3.0 };
        let color = if selected { highlight } else { Color::srgb(0.1, 0.1, 0.1) };
        for b in [&m.outlines, &m.lines] {
            if !b.indices.is_empty() {
                add(extruded_mesh(b), MapMaterial::new(color, 0.95, width, false, selected), 1.0);
            }
        }
        if !m.points.indices.is_empty() {
            add(extruded_mesh(&m.points), MapMaterial::new(color, 0.5, 24.0, false, selected), 0.5);
        }
    };
    if let Some(h) = now.0
        && Some(h) != now.1
    {
        spawn(h, false);
    }
    if let Some(s) = now.1 {
        spawn(s, true);
    }
    for &e in &now.2 {
        if Some(e) != now.1 {
            spawn(e, true);
        }
    }
}

/// A translucent veil over every layer (under the overlays) that dims the map around the places
/// a presentation step emphasises.
#[derive(Component)]
pub struct DimVeil;

fn spawn_veil(mut commands: Commands, mut meshes: ResMut<Assets<Mesh>>, mut materials: ResMut<Assets<MapMaterial>>) {
    let r = 1.0e7_f32;
    let fill = FillBuffers {
        positions: vec![[-r, -r], [r, -r], [r, r], [-r, r]],
        feature: vec![0; 4],
        indices: vec![0, 1, 2, 0, 2, 3],
    };
    commands.spawn((
        Mesh2d(meshes.add(fill_mesh(&fill))),
        MeshMaterial2d(materials.add(MapMaterial::new(Color::srgb(0.97, 0.97, 0.96), 0.55, 0.0, false, false))),
        Transform::from_xyz(0.0, 0.0, 880.0),
        Visibility::Hidden,
        DimVeil,
    ));
}

fn sync_veil(selection: Res<Selection>, mut veil: Query<&mut Visibility, With<DimVeil>>) {
    let want = if selection.emphasized.is_empty() { Visibility::Hidden } else { Visibility::Inherited };
    for mut v in &mut veil {
        if *v != want {
            *v = want;
        }
    }
}
