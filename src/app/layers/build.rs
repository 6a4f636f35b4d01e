//! From features to meshes, off the main thread: tessellation in chunks (with progress), large
//! layers cut into tiles with a generalised overview, and the Bevy meshes built on the worker so
//! the frame never pays for them.

use std::sync::atomic::{AtomicUsize, Ordering};

use bevy::asset::RenderAssetUsages;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use geo::Geometry;

use super::material::Style;
use crate::geodata::{Categorized, Feature};
use crate::proj::LocalFrame;
use crate::tess::{self, ExtrudedBuffers, FillBuffers, LayerMeshes};

/// The tessellated parts of one layer, split by accuracy so schematic features get hatching.
pub struct TessOutput {
    pub surveyed: LayerMeshes,
    pub schematic: LayerMeshes,
    /// For large layers: a generalised fill (small features as their bounding box, the rest
    /// simplified) drawn instead of the full meshes when zoomed out.
    pub coarse: Option<FillBuffers>,
    pub errors: Vec<String>,
    /// Each feature's class in a categorized style (indexed like the buffers' feature ids; 0:
    /// the layer's own colour), empty when the layer has one colour.
    pub classes: Vec<u8>,
}

impl TessOutput {
    pub(super) fn empty() -> Self {
        TessOutput {
            surveyed: LayerMeshes::default(),
            schematic: LayerMeshes::default(),
            coarse: None,
            errors: Vec::new(),
            classes: Vec::new(),
        }
    }
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
pub fn coarse_fill(features: &[Feature], frame: &LocalFrame) -> FillBuffers {
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

/// A finished tessellation with its meshes already built (building 6 million vertices into
/// `Mesh`es takes a few hundred milliseconds, which must not happen on the main thread).
pub struct Built {
    pub meshes: Vec<(Style, Mesh, Lod)>,
    pub errors: Vec<String>,
}

impl Built {
    pub fn new(out: TessOutput, large: bool) -> Self {
        Built { meshes: parts(&out, large), errors: out.errors }
    }
}

/// Source vertices above which a layer gets an overview mesh and its detail meshes are built
/// after it (so the layer shows up in well under a second whatever its size).
const LARGE_LAYER_VERTICES: usize = 100_000;

pub fn is_large(features: &[Feature]) -> bool {
    use geo::CoordsIter;
    let mut n = 0;
    features.iter().any(|f| {
        n += f.geometry.coords_count();
        n > LARGE_LAYER_VERTICES
    })
}

/// Features per chunk: small enough for a smooth progress bar, large enough to amortise setup.
const CHUNK: usize = 2000;

/// Tessellates features in chunks, counting progress in `done`; `style` gives each its class.
fn tessellate_range(
    features: &[&Feature],
    frame: &LocalFrame,
    done: &AtomicUsize,
    style: Option<&Categorized>,
) -> TessOutput {
    let mut out = TessOutput::empty();
    if let Some(c) = style {
        out.classes = features.iter().map(|f| c.class_of(f)).collect();
    }
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
pub fn tessellate_tiles(
    features: &[Feature],
    frame: &LocalFrame,
    done: &AtomicUsize,
    style: Option<&Categorized>,
) -> Vec<TessOutput> {
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
                        .map(|tile| tessellate_range(tile, frame, done, style))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// Tessellates a layer's features (off the main thread), counting progress in `done`.
pub fn tessellate_features(
    features: &[Feature],
    frame: &LocalFrame,
    done: &AtomicUsize,
    large: bool,
    style: Option<&Categorized>,
) -> TessOutput {
    // Large layers are split across the cores but one, which stays with rendering so the map
    // keeps moving while the detail is built; each part is tessellated in chunks.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).saturating_sub(1).clamp(1, 8);
    let per = features.len().div_ceil(threads).max(CHUNK);
    let refs: Vec<&Feature> = features.iter().collect();
    let parts: Vec<TessOutput> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            refs.chunks(per).map(|part| scope.spawn(move || tessellate_range(part, frame, done, style))).collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut out = TessOutput::empty();
    for (i, p) in parts.into_iter().enumerate() {
        let base = (i * per) as u32;
        out.surveyed.append(p.surveyed, base);
        out.schematic.append(p.schematic, base);
        out.errors.extend(p.errors);
        out.classes.extend(p.classes);
    }
    // Fills are simplified to half a metre: far below a pixel at any useful zoom.
    let tolerance = 0.5;
    // A categorized layer keeps its features apart: a dissolved fill has one colour.
    if !large && style.is_none() {
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

/// A vertex's class for the shader's palette: the second texture coordinate carries it, so a
/// categorized layer needs no extra vertex attribute or pipeline.
fn class_of(classes: &[u8], feature: u32) -> f32 {
    classes.get(feature as usize).copied().unwrap_or(0) as f32
}

pub fn fill_mesh(b: &FillBuffers, classes: &[u8]) -> Mesh {
    let pos: Vec<[f32; 3]> = b.positions.iter().map(|p| [p[0], p[1], 0.0]).collect();
    let n = pos.len();
    let uv: Vec<[f32; 2]> = if classes.is_empty() {
        vec![[0.0f32; 2]; n]
    } else {
        b.feature.iter().map(|&f| [0.0, class_of(classes, f)]).collect()
    };
    Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::RENDER_WORLD)
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, pos)
        .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, vec![[0.0f32; 3]; n])
        .with_inserted_attribute(Mesh::ATTRIBUTE_UV_0, uv)
        .with_inserted_indices(Indices::U32(b.indices.clone()))
}

pub fn extruded_mesh(b: &ExtrudedBuffers, classes: &[u8]) -> Mesh {
    let pos: Vec<[f32; 3]> = b.positions.iter().map(|p| [p[0], p[1], 0.0]).collect();
    let nrm: Vec<[f32; 3]> = b.offsets.iter().map(|o| [o[0], o[1], 0.0]).collect();
    let uv: Vec<[f32; 2]> = b
        .advance
        .iter()
        .zip(&b.feature)
        .map(|(&a, &f)| [a, if classes.is_empty() { 0.0 } else { class_of(classes, f) }])
        .collect();
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
        v.push((Style::Fill { schematic: false }, fill_mesh(c, &[]), Lod::Overview));
    }
    v
}

fn parts_of(out: &TessOutput) -> Vec<(Style, Mesh)> {
    let mut v = Vec::new();
    for (schematic, m) in [(false, &out.surveyed), (true, &out.schematic)] {
        if !m.fill.indices.is_empty() {
            v.push((Style::Fill { schematic }, fill_mesh(&m.fill, &out.classes)));
        }
        if !m.outlines.indices.is_empty() {
            v.push((Style::Outline { schematic }, extruded_mesh(&m.outlines, &out.classes)));
        }
        if !m.lines.indices.is_empty() {
            v.push((Style::Line { schematic }, extruded_mesh(&m.lines, &out.classes)));
        }
        if !m.points.indices.is_empty() {
            let mesh = extruded_mesh(&m.points, &out.classes);
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

/// Local-metre bounds of a mesh's positions.
pub fn mesh_bounds(mesh: &Mesh) -> bevy::math::Rect {
    let mut r = bevy::math::Rect { min: Vec2::splat(f32::MAX), max: Vec2::splat(f32::MIN) };
    if let Some(bevy::mesh::VertexAttributeValues::Float32x3(ps)) = mesh.attribute(Mesh::ATTRIBUTE_POSITION) {
        for p in ps {
            r.min = r.min.min(Vec2::new(p[0], p[1]));
            r.max = r.max.max(Vec2::new(p[0], p[1]));
        }
    }
    r
}
