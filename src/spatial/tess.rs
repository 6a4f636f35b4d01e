//! Tessellation of features into plain vertex and index buffers, in f32 metres of a [`LocalFrame`].
//!
//! Fills are world-space triangles. Lines, outlines and point symbols are "extruded" meshes: each
//! vertex carries its position on the centre line plus a unit offset, and the vertex shader scales
//! the offset by the on-screen pixel size, so a 2 px line stays 2 px at every zoom without
//! re-tessellating.

use geo::{CoordsIter, Geometry, LineString, Polygon};
use lyon_tessellation::geom::point;
use lyon_tessellation::path::Path as LyonPath;
use lyon_tessellation::{
    BuffersBuilder, FillOptions, FillRule, FillTessellator, FillVertex, LineCap, LineJoin, StrokeOptions,
    StrokeTessellator, StrokeVertex, VertexBuffers,
};

use crate::proj::LocalFrame;

/// Longest join offset, in half-widths.
const MITER_LIMIT: f32 = 2.5;

/// Triangles in local metres. `feature[i]` is the index of the feature vertex `i` belongs to.
#[derive(Debug, Clone, Default)]
pub struct FillBuffers {
    pub positions: Vec<[f32; 2]>,
    pub feature: Vec<u32>,
    pub indices: Vec<u32>,
}

/// Screen-width geometry: centre-line positions in local metres plus per-vertex unit offsets.
#[derive(Debug, Clone, Default)]
pub struct ExtrudedBuffers {
    pub positions: Vec<[f32; 2]>,
    pub offsets: Vec<[f32; 2]>,
    /// Distance along the line in local metres, for dashes.
    pub advance: Vec<f32>,
    pub feature: Vec<u32>,
    pub indices: Vec<u32>,
}

impl FillBuffers {
    pub fn vertex_count(&self) -> usize {
        self.positions.len()
    }

    /// Appends `other`, whose feature indices start at `feature_base`.
    pub fn append(&mut self, other: FillBuffers, feature_base: u32) {
        let base = self.positions.len() as u32;
        self.positions.extend(other.positions);
        self.feature.extend(other.feature.into_iter().map(|f| f + feature_base));
        self.indices.extend(other.indices.into_iter().map(|i| i + base));
    }
}

impl ExtrudedBuffers {
    pub fn vertex_count(&self) -> usize {
        self.positions.len()
    }

    /// Appends `other`, whose feature indices start at `feature_base`.
    pub fn append(&mut self, other: ExtrudedBuffers, feature_base: u32) {
        let base = self.positions.len() as u32;
        self.positions.extend(other.positions);
        self.offsets.extend(other.offsets);
        self.advance.extend(other.advance);
        self.feature.extend(other.feature.into_iter().map(|f| f + feature_base));
        self.indices.extend(other.indices.into_iter().map(|i| i + base));
    }
}

#[derive(Debug, thiserror::Error)]
#[error("feature #{feature}: tessellation failed: {message}")]
pub struct TessError {
    pub feature: usize,
    pub message: String,
}

/// The tessellated form of one layer.
#[derive(Debug, Clone, Default)]
pub struct LayerMeshes {
    pub fill: FillBuffers,
    /// Polygon outlines.
    pub outlines: ExtrudedBuffers,
    /// Line features.
    pub lines: ExtrudedBuffers,
    /// Point symbols: a disc of unit radius around each point.
    pub points: ExtrudedBuffers,
}

impl LayerMeshes {
    /// Appends a chunk tessellated separately, whose features start at `feature_base`.
    pub fn append(&mut self, other: LayerMeshes, feature_base: u32) {
        self.fill.append(other.fill, feature_base);
        self.outlines.append(other.outlines, feature_base);
        self.lines.append(other.lines, feature_base);
        self.points.append(other.points, feature_base);
    }

    pub fn vertex_count(&self) -> usize {
        self.fill.vertex_count() + self.outlines.vertex_count() + self.lines.vertex_count() + self.points.vertex_count()
    }
}

/// Where geometry's coordinates land in the mesh: a [`LocalFrame`] for lon/lat features, or
/// [`Planar`] for coordinates already in local metres (vector tiles, around their own origin).
pub trait Project {
    fn project(&self, x: f64, y: f64) -> (f64, f64);
}

impl Project for LocalFrame {
    fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        LocalFrame::project(self, lon, lat)
    }
}

/// Coordinates that are already local metres.
#[derive(Debug, Clone, Copy, Default)]
pub struct Planar;

impl Project for Planar {
    fn project(&self, x: f64, y: f64) -> (f64, f64) {
        (x, y)
    }
}

fn ring_path(
    builder: &mut lyon_tessellation::path::path::Builder,
    ring: &LineString<f64>,
    frame: &impl Project,
) -> bool {
    let mut it = ring.0.iter();
    let Some(first) = it.next() else { return false };
    let (x, y) = frame.project(first.x, first.y);
    builder.begin(point(x as f32, y as f32));
    let mut n = 1;
    for c in it {
        let (x, y) = frame.project(c.x, c.y);
        builder.line_to(point(x as f32, y as f32));
        n += 1;
    }
    builder.end(ring.is_closed());
    n >= 2
}

fn polygons(g: &Geometry<f64>) -> Vec<&Polygon<f64>> {
    match g {
        Geometry::Polygon(p) => vec![p],
        Geometry::MultiPolygon(m) => m.0.iter().collect(),
        Geometry::Rect(_) | Geometry::Triangle(_) => vec![],
        Geometry::GeometryCollection(c) => c.0.iter().flat_map(polygons).collect(),
        _ => vec![],
    }
}

fn lines(g: &Geometry<f64>) -> Vec<&LineString<f64>> {
    match g {
        Geometry::LineString(l) => vec![l],
        Geometry::MultiLineString(m) => m.0.iter().collect(),
        Geometry::GeometryCollection(c) => c.0.iter().flat_map(lines).collect(),
        _ => vec![],
    }
}

/// Tessellates one layer's features. Features that fail are skipped and reported.
pub fn tessellate<'a>(
    geometries: impl IntoIterator<Item = &'a Geometry<f64>>,
    frame: &impl Project,
    tolerance_m: f32,
) -> (LayerMeshes, Vec<TessError>) {
    tessellate_with(geometries, frame, tolerance_m, true)
}

/// [`tessellate`], with polygon outlines left out when `outlines` is false: a vector tile's
/// polygons are filled clipped to their tile, but outlined from their clipped rings as lines,
/// so no outline runs along a tile border.
pub fn tessellate_with<'a>(
    geometries: impl IntoIterator<Item = &'a Geometry<f64>>,
    frame: &impl Project,
    tolerance_m: f32,
    outlines: bool,
) -> (LayerMeshes, Vec<TessError>) {
    let mut out = LayerMeshes::default();
    let mut errors = Vec::new();
    let mut fill_tess = FillTessellator::new();
    let mut stroke_tess = StrokeTessellator::new();
    let fill_opts = FillOptions::tolerance(tolerance_m).with_fill_rule(FillRule::EvenOdd);
    let stroke_opts = StrokeOptions::tolerance(tolerance_m)
        .with_line_width(2.0)
        .with_line_join(LineJoin::MiterClip)
        .with_miter_limit(3.0)
        .with_line_cap(LineCap::Round);

    for (fi, g) in geometries.into_iter().enumerate() {
        let fid = fi as u32;
        let polys = polygons(g);
        if !polys.is_empty() {
            let mut b = LyonPath::builder();
            for p in &polys {
                ring_path(&mut b, p.exterior(), frame);
                for hole in p.interiors() {
                    ring_path(&mut b, hole, frame);
                }
            }
            let path = b.build();
            let mut vb: VertexBuffers<[f32; 2], u32> = VertexBuffers::new();
            let base = out.fill.positions.len() as u32;
            let r = fill_tess.tessellate_path(
                &path,
                &fill_opts,
                &mut BuffersBuilder::new(&mut vb, |v: FillVertex| v.position().to_array()),
            );
            match r {
                Ok(()) => {
                    out.fill.feature.extend(std::iter::repeat_n(fid, vb.vertices.len()));
                    out.fill.positions.extend(vb.vertices);
                    out.fill.indices.extend(vb.indices.iter().map(|i| i + base));
                }
                Err(e) => errors.push(TessError { feature: fi, message: format!("{e:?}") }),
            }
            if outlines {
                stroke_into(&mut stroke_tess, &path, &stroke_opts, fid, &mut out.outlines, fi, &mut errors);
            }
        }
        let ls = lines(g);
        if !ls.is_empty() {
            let mut b = LyonPath::builder();
            for l in ls {
                ring_path(&mut b, l, frame);
            }
            stroke_into(&mut stroke_tess, &b.build(), &stroke_opts, fid, &mut out.lines, fi, &mut errors);
        }
        if matches!(g, Geometry::Point(_) | Geometry::MultiPoint(_)) {
            for c in g.coords_iter() {
                let (x, y) = frame.project(c.x, c.y);
                push_disc(&mut out.points, [x as f32, y as f32], fid);
            }
        }
    }
    (out, errors)
}

fn stroke_into(
    tess: &mut StrokeTessellator,
    path: &LyonPath,
    opts: &StrokeOptions,
    fid: u32,
    out: &mut ExtrudedBuffers,
    fi: usize,
    errors: &mut Vec<TessError>,
) {
    let mut vb: VertexBuffers<([f32; 2], [f32; 2], f32), u32> = VertexBuffers::new();
    let base = out.positions.len() as u32;
    let r = tess.tessellate_path(
        path,
        opts,
        &mut BuffersBuilder::new(&mut vb, |v: StrokeVertex| {
            // The shader applies the width, so keep the centre line and the join normal. A miter
            // normal grows as 1/sin(angle/2); clamping it keeps hairpin turns from spiking.
            let n = v.normal();
            let len = n.length();
            let n = if len > MITER_LIMIT { n * (MITER_LIMIT / len) } else { n };
            (v.position_on_path().to_array(), n.to_array(), v.advancement())
        }),
    );
    match r {
        Ok(()) => {
            out.feature.extend(std::iter::repeat_n(fid, vb.vertices.len()));
            for (p, n, a) in vb.vertices {
                out.positions.push(p);
                out.offsets.push(n);
                out.advance.push(a);
            }
            out.indices.extend(vb.indices.iter().map(|i| i + base));
        }
        Err(e) => errors.push(TessError { feature: fi, message: format!("{e:?}") }),
    }
}

/// A unit disc (16-gon fan) at `c`: the offsets are the rim directions, the centre has none.
fn push_disc(out: &mut ExtrudedBuffers, c: [f32; 2], fid: u32) {
    const N: u32 = 16;
    let base = out.positions.len() as u32;
    out.positions.push(c);
    out.offsets.push([0.0, 0.0]);
    out.advance.push(0.0);
    out.feature.push(fid);
    for k in 0..N {
        let a = k as f32 / N as f32 * std::f32::consts::TAU;
        out.positions.push(c);
        out.offsets.push([a.cos(), a.sin()]);
        out.advance.push(0.0);
        out.feature.push(fid);
        out.indices.extend([base, base + 1 + k, base + 1 + (k + 1) % N]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{MultiPolygon, Point, polygon};

    fn area(b: &FillBuffers) -> f64 {
        b.indices
            .chunks(3)
            .map(|t| {
                let [a, b2, c] = [b.positions[t[0] as usize], b.positions[t[1] as usize], b.positions[t[2] as usize]];
                (((b2[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b2[1] - a[1])) as f64).abs() / 2.0
            })
            .sum()
    }

    #[test]
    fn polygon_with_hole_and_multipolygon_cover_the_right_area() {
        // A 0.02-degree square with a 0.01-degree hole, plus a second square, near Taicang.
        let frame = LocalFrame::default();
        let (x0, y0) = (121.0, 31.5);
        let with_hole = polygon!(
            exterior: [(x: x0, y: y0), (x: x0 + 0.02, y: y0), (x: x0 + 0.02, y: y0 + 0.02), (x: x0, y: y0 + 0.02)],
            interiors: [[(x: x0 + 0.005, y: y0 + 0.005), (x: x0 + 0.015, y: y0 + 0.005), (x: x0 + 0.015, y: y0 + 0.015), (x: x0 + 0.005, y: y0 + 0.015)]],
        );
        let other = polygon![(x: x0 + 0.1, y: y0), (x: x0 + 0.12, y: y0), (x: x0 + 0.12, y: y0 + 0.02), (x: x0 + 0.1, y: y0 + 0.02)];
        let g: Geometry<f64> = MultiPolygon(vec![with_hole, other]).into();
        let (m, errors) = tessellate([&g], &frame, 1.0);
        assert!(errors.is_empty());
        // Rectangle area in local metres, measured through the same projection.
        let rect = |x1: f64, y1: f64, x2: f64, y2: f64| {
            let (p, q) = (frame.project(x1, y1), frame.project(x2, y2));
            (q.0 - p.0) * (q.1 - p.1)
        };
        let full = rect(x0, y0, x0 + 0.02, y0 + 0.02);
        let hole = rect(x0 + 0.005, y0 + 0.005, x0 + 0.015, y0 + 0.015);
        let expected = 2.0 * full - hole;
        let got = area(&m.fill);
        assert!((got - expected).abs() / expected < 0.01, "{got} vs {expected}");
        assert!(!m.outlines.indices.is_empty(), "outlines are stroked");
        assert!(m.lines.indices.is_empty(), "no line features");
    }

    #[test]
    fn points_become_discs_and_lines_get_unit_offsets() {
        let frame = LocalFrame::default();
        let p: Geometry<f64> = Point::new(121.2, 31.6).into();
        let l: Geometry<f64> = LineString::from(vec![(121.0, 31.5), (121.1, 31.5)]).into();
        let (m, _) = tessellate([&p, &l], &frame, 1.0);
        assert_eq!(m.points.vertex_count(), 17);
        assert!(m.points.feature.iter().all(|&f| f == 0));
        assert!(m.lines.feature.iter().all(|&f| f == 1));
        for o in &m.lines.offsets {
            let len = (o[0] * o[0] + o[1] * o[1]).sqrt();
            assert!(len > 0.9 && len < 3.2, "offset length {len}");
        }
    }
}
