//! From a decoded tile to meshes around the tile's own north-west corner, in local (Web
//! Mercator) metres, y up: the app places each tile with one translation, so f32 vertices keep
//! centimetre precision anywhere in the region. Fills are clipped to the tile, outlines drawn
//! from the clipped rings, so neighbouring tiles meet without seams or border lines.

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};

use super::clip::{clip_line, clip_ring};
use super::mvt::{TileGeometry, TileLayer, VectorTile, geometry};
use crate::tess::{LayerMeshes, Planar, tessellate_with};
use crate::tiles::TileId;

/// One tile, decoded and tessellated.
#[derive(Debug, Clone)]
pub struct BuiltTile {
    pub id: TileId,
    /// Zoom the data came from: below `id.z` when over-zoomed past the source's max zoom.
    pub data_zoom: u8,
    pub tile: VectorTile,
    /// Meshes per layer, parallel to `tile.layers`; each buffer's feature id is the feature's
    /// index in its layer.
    pub meshes: Vec<LayerMeshes>,
    /// Features whose geometry could not be read, for one aggregated message.
    pub errors: Vec<String>,
    /// Each feature's bounding box in tile units [x0, y0, x1, y1], per layer: picking and
    /// labelling skip what cannot be under the cursor or is too small, without decoding it.
    pub bboxes: Vec<Vec<[i32; 4]>>,
    /// Per layer, the median of its features' larger bounding-box side, in local metres: how big
    /// the features look at a scale (outlines of features a few pixels wide are left out).
    pub typical_m: Vec<f64>,
}

impl BuiltTile {
    pub fn vertex_count(&self) -> usize {
        self.meshes.iter().map(LayerMeshes::vertex_count).sum()
    }

    /// Bytes held, roughly: what the cache counts against its budget.
    pub fn approx_bytes(&self) -> usize {
        let m: usize = self
            .meshes
            .iter()
            .map(|m| {
                m.fill.positions.len() * 12
                    + m.fill.indices.len() * 4
                    + [&m.outlines, &m.lines, &m.points]
                        .iter()
                        .map(|e| e.positions.len() * 24 + e.indices.len() * 4)
                        .sum::<usize>()
            })
            .sum();
        let f: usize =
            self.tile.layers.iter().flat_map(|l| &l.features).map(|f| 48 + 4 * (f.tags.len() + f.commands.len())).sum();
        m + f
    }
}

/// Where a tile's unit coordinates land: local metres east and north of the tile's NW corner.
#[derive(Debug, Clone, Copy)]
pub struct TileFrame {
    /// Local metres per tile unit.
    pub scale: f64,
    /// Offset of the drawn tile inside the data tile, in data-tile units (over-zoom).
    pub offset: [f64; 2],
    /// Side of the drawn tile in data-tile units.
    pub size: f64,
}

impl TileFrame {
    /// The frame for drawing `drawn` from a layer of `extent` units in tile `data` (its ancestor
    /// or itself).
    pub fn new(drawn: TileId, data: TileId, extent: u32) -> TileFrame {
        let (_, _, side) = drawn.mercator_nw();
        let d = drawn.z.saturating_sub(data.z);
        let size = f64::from(extent) / f64::from(1u32 << d.min(24));
        let mask = (1u32 << d.min(24)) - 1;
        let offset = [f64::from(drawn.x & mask) * size, f64::from(drawn.y & mask) * size];
        TileFrame { scale: side / size, offset, size }
    }

    /// Local metres (east, north of the NW corner) of a data-tile unit position.
    pub fn to_local(&self, p: [f64; 2]) -> [f64; 2] {
        [(p[0] - self.offset[0]) * self.scale, -(p[1] - self.offset[1]) * self.scale]
    }

    /// Data-tile units of local metres from the NW corner (for picking).
    pub fn to_units(&self, local: [f64; 2]) -> [f64; 2] {
        [local[0] / self.scale + self.offset[0], -local[1] / self.scale + self.offset[1]]
    }

    fn shifted(&self, p: [i32; 2]) -> [f64; 2] {
        [f64::from(p[0]) - self.offset[0], f64::from(p[1]) - self.offset[1]]
    }

    fn coord(&self, p: [f64; 2]) -> Coord<f64> {
        Coord { x: p[0] * self.scale, y: -p[1] * self.scale }
    }
}

/// A feature's fill and line geometry in local metres, clipped to the drawn tile.
fn feature_geometry(g: &TileGeometry, fr: &TileFrame) -> (Geometry<f64>, Geometry<f64>) {
    let empty = || Geometry::MultiPoint(MultiPoint(vec![]));
    match g {
        TileGeometry::Points(ps) => {
            let pts: Vec<Point<f64>> = ps
                .iter()
                .map(|&p| fr.shifted(p))
                .filter(|p| (0.0..fr.size).contains(&p[0]) && (0.0..fr.size).contains(&p[1]))
                .map(|p| Point::from(fr.coord(p)))
                .collect();
            (empty(), Geometry::MultiPoint(MultiPoint(pts)))
        }
        TileGeometry::Lines(ls) => {
            let parts: Vec<LineString<f64>> = ls
                .iter()
                .flat_map(|l| {
                    let pts: Vec<[f64; 2]> = l.iter().map(|&p| fr.shifted(p)).collect();
                    clip_line(&pts, fr.size)
                })
                .map(|part| LineString(part.into_iter().map(|p| fr.coord(p)).collect()))
                .collect();
            (empty(), Geometry::MultiLineString(MultiLineString(parts)))
        }
        TileGeometry::Polygons(polys) => {
            let mut fills = Vec::with_capacity(polys.len());
            let mut outlines = Vec::new();
            for rings in polys {
                let mut clipped = rings.iter().map(|r| {
                    let pts: Vec<[f64; 2]> = r.iter().map(|&p| fr.shifted(p)).collect();
                    outlines.extend(clip_line(&pts, fr.size));
                    clip_ring(&pts, fr.size)
                });
                let Some(ext) = clipped.next() else { continue };
                let holes: Vec<Vec<[f64; 2]>> = clipped.filter(|h| h.len() >= 4).collect();
                if ext.len() < 4 {
                    continue;
                }
                let ring = |r: Vec<[f64; 2]>| LineString(r.into_iter().map(|p| fr.coord(p)).collect());
                fills.push(Polygon::new(ring(ext), holes.into_iter().map(ring).collect()));
            }
            let lines = outlines.into_iter().map(|part| LineString(part.into_iter().map(|p| fr.coord(p)).collect()));
            (Geometry::MultiPolygon(MultiPolygon(fills)), Geometry::MultiLineString(MultiLineString(lines.collect())))
        }
    }
}

/// Tessellates one layer of a tile for drawing tile `drawn` (the data tile itself, or a
/// descendant when over-zooming). Fills go to `fill`, polygon outlines to `outlines`, lines to
/// `lines` and points to `points`, with each feature's index in the layer as its feature id.
pub fn build_layer(layer: &TileLayer, drawn: TileId, data: TileId, errors: &mut Vec<String>) -> LayerMeshes {
    let fr = TileFrame::new(drawn, data, layer.extent);
    let mut fills = Vec::with_capacity(layer.features.len());
    let mut outlines = Vec::new();
    let mut lines = Vec::new();
    let mut points = Vec::new();
    let empty = || Geometry::MultiPoint(MultiPoint(vec![]));
    for (i, f) in layer.features.iter().enumerate() {
        let g = match geometry(f) {
            Ok(g) => g,
            Err(m) => {
                errors.push(format!("layer {:?} feature {i}: {m}", layer.name));
                fills.push(empty());
                outlines.push(empty());
                lines.push(empty());
                points.push(empty());
                continue;
            }
        };
        let (fill, line) = feature_geometry(&g, &fr);
        match g {
            TileGeometry::Polygons(_) => {
                fills.push(fill);
                outlines.push(line);
                lines.push(empty());
                points.push(empty());
            }
            TileGeometry::Lines(_) => {
                fills.push(empty());
                outlines.push(empty());
                lines.push(line);
                points.push(empty());
            }
            TileGeometry::Points(_) => {
                fills.push(empty());
                outlines.push(empty());
                lines.push(empty());
                points.push(line);
            }
        }
    }
    // A tenth of a tile unit: far below a pixel.
    let tol = (fr.scale * 0.1).max(0.01) as f32;
    let mut report = |errs: Vec<crate::tess::TessError>| {
        errors.extend(errs.into_iter().map(|e| format!("layer {:?} {e}", layer.name)));
    };
    let (fill, e1) = tessellate_with(&fills, &Planar, tol, false);
    report(e1);
    let (outl, e2) = tessellate_with(&outlines, &Planar, tol, false);
    report(e2);
    let (line, e3) = tessellate_with(&lines, &Planar, tol, false);
    report(e3);
    let (pts, e4) = tessellate_with(&points, &Planar, tol, false);
    report(e4);
    LayerMeshes { fill: fill.fill, outlines: outl.lines, lines: line.lines, points: pts.points }
}

/// Decodes and tessellates a tile's bytes (already inflated) for drawing `drawn`.
pub fn build(bytes: &[u8], drawn: TileId, data: TileId) -> Result<BuiltTile, super::mvt::MvtError> {
    let tile = super::mvt::decode(bytes)?;
    let mut errors = Vec::new();
    let meshes = tile.layers.iter().map(|l| build_layer(l, drawn, data, &mut errors)).collect();
    let bboxes: Vec<Vec<[i32; 4]>> = tile.layers.iter().map(feature_bboxes).collect();
    let typical_m = tile
        .layers
        .iter()
        .zip(&bboxes)
        .map(|(l, b)| {
            let mut sides: Vec<i32> = b.iter().map(|b| (b[2] - b[0]).max(b[3] - b[1])).collect();
            if sides.is_empty() {
                return 0.0;
            }
            let mid = sides.len() / 2;
            let (_, m, _) = sides.select_nth_unstable(mid);
            f64::from(*m) * TileFrame::new(drawn, data, l.extent).scale
        })
        .collect();
    Ok(BuiltTile { id: drawn, data_zoom: data.z, tile, meshes, errors, bboxes, typical_m })
}

/// Each feature's bounding box in tile units, from its commands alone (no geometry is built); an
/// unreadable feature gets an empty box that nothing hits.
pub fn feature_bboxes(layer: &TileLayer) -> Vec<[i32; 4]> {
    layer
        .features
        .iter()
        .map(|f| {
            let mut b = [i32::MAX, i32::MAX, i32::MIN, i32::MIN];
            let (mut x, mut y) = (0i32, 0i32);
            let mut it = f.commands.iter().copied();
            while let Some(c) = it.next() {
                let (id, count) = (c & 7, c >> 3);
                if id == 7 {
                    continue;
                }
                for _ in 0..count {
                    let (Some(dx), Some(dy)) = (it.next(), it.next()) else { break };
                    x = x.wrapping_add(((dx >> 1) as i32) ^ -((dx & 1) as i32));
                    y = y.wrapping_add(((dy >> 1) as i32) ^ -((dy & 1) as i32));
                    b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
                }
            }
            if b[0] > b[2] { [0, 0, -1, -1] } else { b }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_zoomed_frames_pick_the_right_quarter() {
        let data = TileId { z: 14, x: 13_700, y: 6_680 };
        let own = TileFrame::new(data, data, 4096);
        assert_eq!((own.offset, own.size), ([0.0, 0.0], 4096.0));
        let (_, _, side) = data.mercator_nw();
        assert!((own.scale * 4096.0 - side).abs() < 1e-6);
        // The south-east grandchild at z16 shows units 3072..4096 of the data tile.
        let drawn = TileId { z: 16, x: 13_700 * 4 + 3, y: 6_680 * 4 + 3 };
        let f = TileFrame::new(drawn, data, 4096);
        assert_eq!((f.offset, f.size), ([3072.0, 3072.0], 1024.0));
        assert_eq!(f.to_local([3072.0, 3072.0]), [0.0, 0.0]);
        let back = f.to_units(f.to_local([3500.0, 3900.0]));
        assert!((back[0] - 3500.0).abs() < 1e-9 && (back[1] - 3900.0).abs() < 1e-9);
    }
}
