//! ESRI Shapefiles: `.shp` geometry, `.dbf` attributes, `.prj` coordinate system, `.cpg`
//! encoding, from disk or from a zip in memory.
//!
//! Hand-written for the checks and the speed planners' files need: every record is bounds-
//! checked against the file (a truncated `.shp` loads up to the cut and says where it is), the
//! record index is rebuilt by walking the `.shp` when the `.shx` is missing or damaged, a
//! `.dbf` with a different record count is an error that still loads what matches, and records
//! decode on every core (a million polygons in a few seconds). Z and M values are dropped with
//! a note: the atlas is 2D.

use std::path::{Path, PathBuf};

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use serde_json::Map;

use super::dbf::Dbf;
use super::encoding::{self, Detected};
use super::{FormatError, OpenOptions, RawLayer};
use crate::diagnostic::{Diagnostic, Diagnostics, Position, thousands};

/// The files of one Shapefile, already read (from disk or a zip).
#[derive(Debug, Default)]
pub struct Parts {
    pub shp: Vec<u8>,
    pub shx: Option<Vec<u8>>,
    pub dbf: Option<Vec<u8>>,
    pub prj: Option<Vec<u8>>,
    pub cpg: Option<Vec<u8>>,
}

/// The sibling of `shp` with extension `ext`, in either case (`.DBF` beside `.SHP` is common).
fn sibling(shp: &Path, ext: &str) -> Option<PathBuf> {
    [ext.to_ascii_lowercase(), ext.to_ascii_uppercase()]
        .into_iter()
        .map(|e| shp.with_extension(e))
        .find(|p| p.is_file())
}

/// Reads the Shapefile `path` names (its `.shp`, or its `.dbf`/`.shx`).
pub fn read_path(path: &Path, opts: &OpenOptions, diags: &mut Diagnostics) -> Result<Vec<RawLayer>, FormatError> {
    let shp_path = sibling(path, "shp").ok_or_else(|| {
        FormatError::invalid(path, Position::File, "no .shp beside it: a Shapefile needs its .shp (geometry)")
    })?;
    let read = |p: Option<PathBuf>| -> Result<Option<Vec<u8>>, FormatError> {
        p.map(|p| std::fs::read(&p).map_err(|e| FormatError::io(&p, e))).transpose()
    };
    let parts = Parts {
        shp: std::fs::read(&shp_path).map_err(|e| FormatError::io(&shp_path, e))?,
        shx: read(sibling(&shp_path, "shx"))?,
        dbf: read(sibling(&shp_path, "dbf"))?,
        prj: read(sibling(&shp_path, "prj"))?,
        cpg: read(sibling(&shp_path, "cpg"))?,
    };
    Ok(vec![read_parts(&shp_path, &super::stem(&shp_path), parts, opts, diags)?])
}

/// One record: its shape (`None` for a null shape), whether Z/M were dropped, its attributes.
type Decoded = (Option<Result<Geometry<f64>, String>>, bool, Result<Map<String, serde_json::Value>, String>);

/// Where each record's content is: (byte offset of the content, content length).
type Index = Vec<(usize, usize)>;

/// The record index from the `.shx`, if it is whole and agrees with the `.shp`.
fn index_from_shx(shx: &[u8], shp_len: usize) -> Option<Index> {
    if shx.len() < 100 || !(shx.len() - 100).is_multiple_of(8) {
        return None;
    }
    let mut index = Vec::with_capacity((shx.len() - 100) / 8);
    for e in shx[100..].chunks_exact(8) {
        let offset = u32::from_be_bytes([e[0], e[1], e[2], e[3]]) as usize * 2 + 8;
        let len = u32::from_be_bytes([e[4], e[5], e[6], e[7]]) as usize * 2;
        if offset + len > shp_len {
            return None;
        }
        index.push((offset, len));
    }
    Some(index)
}

/// The record index by walking the `.shp` (what a missing `.shx` is rebuilt from). Stops at a
/// record that runs past the end, returning where.
/// The cut, if any, is (1-based record number, byte offset).
fn index_by_walking(shp: &[u8]) -> (Index, Option<(usize, usize)>) {
    let mut index = Vec::new();
    let mut at = 100;
    while at + 8 <= shp.len() {
        let len = u32::from_be_bytes([shp[at + 4], shp[at + 5], shp[at + 6], shp[at + 7]]) as usize * 2;
        if at + 8 + len > shp.len() {
            let record = index.len() + 1;
            return (index, Some((record, at)));
        }
        index.push((at + 8, len));
        at += 8 + len;
    }
    let cut = (at < shp.len()).then(|| (index.len() + 1, at));
    (index, cut)
}

/// Reads one Shapefile's parts into a layer named `name`; `path` names it in problems.
pub fn read_parts(
    path: &Path,
    name: &str,
    parts: Parts,
    opts: &OpenOptions,
    diags: &mut Diagnostics,
) -> Result<RawLayer, FormatError> {
    let shp = &parts.shp;
    if shp.len() < 100 || u32::from_be_bytes([shp[0], shp[1], shp[2], shp[3]]) != 9994 {
        return Err(FormatError::invalid(
            path,
            Position::File,
            "not a Shapefile (.shp): the header is missing or wrong",
        ));
    }
    let declared_len = u32::from_be_bytes([shp[24], shp[25], shp[26], shp[27]]) as usize * 2;
    let (walked, cut) = index_by_walking(shp);
    let index = match parts.shx.as_deref().and_then(|x| index_from_shx(x, shp.len())) {
        Some(ix) if ix.len() >= walked.len() => ix,
        _ => {
            if parts.shx.is_some() {
                diags.push(Diagnostic::warning(
                    path,
                    Position::File,
                    "the .shx index is damaged; rebuilt from the .shp",
                ));
            }
            walked
        }
    };
    if let Some((record, byte)) = cut {
        diags.push(Diagnostic::error(
            path,
            Position::At(format!("record {record} (byte {})", thousands(byte))),
            format!(
                "the .shp ends inside this record (the header says {} bytes, the file has {}): truncated; the records before it are loaded",
                thousands(declared_len),
                thousands(shp.len())
            ),
        ));
    }

    let mut layer = RawLayer::new(name, "Shapefile");
    if opts.crs.is_none()
        && let Some(prj) = &parts.prj
    {
        let text = String::from_utf8_lossy(prj);
        let crs = super::wkt::parse_crs(&text).map_err(|message| {
            FormatError::invalid(&path.with_extension("prj"), Position::File, format!("{message}; or pass --from-crs"))
        })?;
        layer.crs = Some((crs, ".prj".into()));
    }

    // Attributes: the table, and its text encoding decided once.
    let dbf_path = path.with_extension("dbf");
    // The header is read twice: once to decide the encoding, then with it, for the field names.
    let (dbf, detected) = match parts.dbf.as_deref() {
        Some(bytes) => {
            let bad = |m| FormatError::invalid(&dbf_path, Position::File, m);
            let first = Dbf::parse(bytes, encoding_rs::UTF_8).map_err(bad)?;
            let detected = decide_encoding(&first, parts.cpg.as_deref(), opts);
            (Some(Dbf::parse(bytes, detected.encoding).map_err(bad)?), Some(detected))
        }
        None => {
            diags.push(Diagnostic::warning(
                path,
                Position::File,
                "no .dbf beside the .shp: the features have no attributes",
            ));
            (None, None)
        }
    };
    if let (Some(d), Some(enc)) = (&dbf, detected) {
        layer.encoding = Some(enc.describe());
        if d.count != index.len() {
            diags.push(Diagnostic::error(
                &dbf_path,
                Position::File,
                format!(
                    "the .dbf has {} records, the .shp {}: they do not belong together, or one was cut short; \
                     features past the shorter one are {}",
                    thousands(d.count),
                    thousands(index.len()),
                    if d.count < index.len() { "loaded without attributes" } else { "missing" }
                ),
            ));
        }
    }

    let decode = |i: usize| -> Decoded {
        let (offset, len) = index[i];
        let (geometry, zm) = match shape(&shp[offset..offset + len]) {
            Ok((g, zm)) => (g.map(Ok), zm),
            Err(e) => (Some(Err(e)), false),
        };
        let attributes = match (&dbf, detected) {
            (Some(d), Some(enc)) if i < d.count => d.attributes(i, enc.encoding),
            _ => Ok(Map::new()),
        };
        (geometry, zm, attributes)
    };
    let deleted = |i: usize| dbf.as_ref().is_some_and(|d| d.deleted(i));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let n = index.len();
    let results: Vec<_> = if n < 10_000 || threads < 2 {
        (0..n).map(decode).collect()
    } else {
        let per = n.div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let decode = &decode;
                    scope.spawn(move || (t * per..((t + 1) * per).min(n)).map(decode).collect::<Vec<_>>())
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
        })
    };
    let mut dropped_zm = false;
    layer.features.reserve(n);
    for (i, (geometry, zm, attributes)) in results.into_iter().enumerate() {
        dropped_zm |= zm;
        if deleted(i) {
            continue;
        }
        let at = || Position::At(format!("record {}", i + 1));
        let attributes = attributes.unwrap_or_else(|e| {
            diags.push(Diagnostic::error(
                &dbf_path,
                at(),
                format!("{e}; the record's attributes are left out (try --encoding)"),
            ));
            Map::new()
        });
        match geometry {
            Some(Ok(g)) => layer.features.push(super::feature(g, attributes)),
            Some(Err(e)) => {
                diags.push(Diagnostic::error(path, at(), format!("{e}; the feature is left out")));
            }
            None => {
                diags.push(Diagnostic::warning(path, at(), "null shape (no geometry); the feature is left out"));
            }
        }
    }
    if dropped_zm {
        layer.notes.push("Z/M values dropped (the atlas is 2D)".into());
    }
    Ok(layer)
}

/// The encoding of the table's text: `--encoding`, the `.cpg`, the language driver, strict
/// UTF-8 over all the text, GB18030.
fn decide_encoding(dbf: &Dbf, cpg: Option<&[u8]>, opts: &OpenOptions) -> Detected {
    if let Some(e) = opts.encoding {
        return Detected { encoding: e, why: "--encoding" };
    }
    if let Some(e) = cpg.and_then(|c| encoding::from_label(&String::from_utf8_lossy(c))) {
        return Detected { encoding: e, why: ".cpg" };
    }
    if let Some(e) = encoding::from_ldid(dbf.ldid) {
        return Detected { encoding: e, why: "DBF language driver" };
    }
    encoding::detect(dbf.text_bytes())
}

fn f64_at(b: &[u8], at: usize) -> Result<f64, String> {
    b.get(at..at + 8)
        .map(|s| f64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]))
        .ok_or_else(|| "the record is shorter than its shape needs".to_string())
}

fn i32_at(b: &[u8], at: usize) -> Result<i32, String> {
    b.get(at..at + 4)
        .map(|s| i32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| "the record is shorter than its shape needs".to_string())
}

fn coords(b: &[u8], at: usize, n: usize) -> Result<Vec<Coord<f64>>, String> {
    if b.len() < at + n * 16 {
        return Err(format!("the record holds fewer than its {n} points"));
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (x, y) = (f64_at(b, at + i * 16)?, f64_at(b, at + i * 16 + 8)?);
        if !x.is_finite() || !y.is_finite() {
            return Err(format!("point {} is not a number", i + 1));
        }
        out.push(Coord { x, y });
    }
    Ok(out)
}

/// One record's shape: `None` for a null shape; the flag says Z or M values were present.
fn shape(b: &[u8]) -> Result<(Option<Geometry<f64>>, bool), String> {
    let ty = i32_at(b, 0)?;
    let zm = matches!(ty, 11 | 13 | 15 | 18 | 21 | 23 | 25 | 28);
    let g = match ty {
        0 => return Ok((None, false)),
        1 | 11 | 21 => {
            let c = coords(b, 4, 1)?;
            Geometry::Point(Point(c[0]))
        }
        8 | 18 | 28 => {
            let n = count(i32_at(b, 36)?, b.len() / 16)?;
            Geometry::MultiPoint(MultiPoint(coords(b, 40, n)?.into_iter().map(Point).collect()))
        }
        3 | 13 | 23 | 5 | 15 | 25 => {
            let parts = count(i32_at(b, 36)?, b.len() / 4)?;
            let points = count(i32_at(b, 40)?, b.len() / 16)?;
            let mut starts = Vec::with_capacity(parts);
            for p in 0..parts {
                starts.push(count(i32_at(b, 44 + p * 4)?, points)?);
            }
            if starts.first().is_some_and(|&s| s != 0) || starts.windows(2).any(|w| w[0] > w[1]) {
                return Err("its part offsets are out of order".into());
            }
            let all = coords(b, 44 + parts * 4, points)?;
            let rings: Vec<Vec<Coord<f64>>> = (0..parts)
                .map(|p| all[starts[p]..starts.get(p + 1).copied().unwrap_or(points)].to_vec())
                .filter(|r| !r.is_empty())
                .collect();
            if rings.is_empty() {
                return Ok((None, zm));
            }
            if matches!(ty, 3 | 13 | 23) {
                let mut lines: Vec<LineString<f64>> = rings.into_iter().map(LineString).collect();
                if lines.len() == 1 {
                    Geometry::LineString(lines.remove(0))
                } else {
                    Geometry::MultiLineString(MultiLineString(lines))
                }
            } else {
                polygons(rings)?
            }
        }
        31 => return Err("MultiPatch (3D surfaces) is not a shape port-atlas draws".into()),
        other => return Err(format!("unknown shape type {other}")),
    };
    Ok((Some(g), zm))
}

fn count(n: i32, most: usize) -> Result<usize, String> {
    usize::try_from(n)
        .ok()
        .filter(|&n| n <= most)
        .ok_or_else(|| format!("it declares {n} parts or points, more than it holds"))
}

/// Twice the signed area: negative for clockwise rings (a Shapefile's outer rings).
fn signed_area2(r: &[Coord<f64>]) -> f64 {
    let (x0, y0) = (r[0].x, r[0].y);
    r.windows(2).map(|w| (w[0].x - x0) * (w[1].y - y0) - (w[1].x - x0) * (w[0].y - y0)).sum()
}

/// Shapefile polygons are rings: clockwise outers, counter-clockwise holes, each hole inside
/// the outer before it. Holes go to the outer that contains them; a file with no clockwise ring
/// (written by a tool that ignored the rule) gets every ring as an outer.
fn polygons(rings: Vec<Vec<Coord<f64>>>) -> Result<Geometry<f64>, String> {
    let mut outers: Vec<Polygon<f64>> = Vec::new();
    let mut holes = Vec::new();
    for mut r in rings {
        if r.len() < 3 {
            continue;
        }
        if r.first() != r.last() {
            r.push(r[0]);
        }
        if signed_area2(&r) <= 0.0 {
            outers.push(Polygon::new(LineString(r), Vec::new()));
        } else {
            holes.push(LineString(r));
        }
    }
    if outers.is_empty() {
        outers = holes.drain(..).map(|h| Polygon::new(h, Vec::new())).collect();
    }
    for h in holes {
        let probe = Point(h.0[0]);
        match outers.iter().position(|o| inside(&o.exterior().0, probe.0)) {
            Some(i) => outers[i].interiors_push(h),
            // A hole outside every outer: a separate polygon, as GDAL reads it.
            None => outers.push(Polygon::new(h, Vec::new())),
        }
    }
    if outers.is_empty() {
        return Err("no ring has three or more points".into());
    }
    Ok(if outers.len() == 1 {
        Geometry::Polygon(outers.remove(0))
    } else {
        Geometry::MultiPolygon(MultiPolygon(outers))
    })
}

/// Even-odd ray casting: whether `p` is inside the closed ring `r`.
fn inside(r: &[Coord<f64>], p: Coord<f64>) -> bool {
    let mut inside = false;
    for w in r.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
#[path = "shp_tests.rs"]
mod tests;
