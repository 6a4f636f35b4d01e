//! GeoPackages: every feature table as a layer, in the coordinate system its
//! `gpkg_spatial_ref_sys` entry gives. Opened read-only, so a planner's file is never touched.

use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde_json::{Map, Number, Value};

use super::{FormatError, OpenOptions, RawLayer};
use crate::diagnostic::{Diagnostic, Diagnostics, Position};
use crate::spatial::crs::SourceCrs;

/// One feature table: its name, geometry column and SRS id.
struct Table {
    name: String,
    geometry: Option<String>,
    srs_id: i64,
}

/// Reads the GeoPackage's feature tables (or the one `--layer` names).
pub fn read(path: &Path, opts: &OpenOptions, diags: &mut Diagnostics) -> Result<Vec<RawLayer>, FormatError> {
    let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| FormatError::invalid(path, Position::File, format!("not an SQLite database: {e}")))?;
    let sql_err = |e: rusqlite::Error| FormatError::invalid(path, Position::File, format!("not a GeoPackage: {e}"));
    let tables = feature_tables(&db).map_err(sql_err)?;
    if tables.is_empty() {
        return Err(FormatError::invalid(
            path,
            Position::File,
            "the GeoPackage has no feature tables (gpkg_contents lists none)",
        ));
    }
    let available: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
    let chosen: Vec<&Table> = match &opts.layer {
        Some(name) => {
            let t = tables.iter().find(|t| &t.name == name).ok_or_else(|| FormatError::Layers {
                path: path.to_path_buf(),
                message: format!("no feature table named {name:?}"),
                available: available.clone(),
            })?;
            vec![t]
        }
        None => tables.iter().collect(),
    };
    let mut layers = Vec::new();
    let mut last_error = None;
    for t in chosen {
        let at = Position::At(format!("table {:?}", t.name));
        let Some(geometry) = &t.geometry else {
            let e =
                FormatError::invalid(path, at, "the table has no geometry column (gpkg_geometry_columns lists none)");
            diags.push(e.to_diagnostic());
            last_error = Some(e);
            continue;
        };
        match read_table(&db, path, t, geometry, opts, diags) {
            Ok(l) => layers.push(l),
            Err(e) => {
                diags.push(e.to_diagnostic());
                last_error = Some(e);
            }
        }
    }
    match (layers.is_empty(), last_error) {
        (true, Some(e)) => Err(e),
        _ => Ok(layers),
    }
}

fn feature_tables(db: &Connection) -> rusqlite::Result<Vec<Table>> {
    let mut st = db.prepare(
        "SELECT c.table_name, g.column_name, COALESCE(g.srs_id, c.srs_id, -1)
         FROM gpkg_contents c LEFT JOIN gpkg_geometry_columns g ON g.table_name = c.table_name
         WHERE c.data_type = 'features' ORDER BY c.table_name",
    )?;
    let rows = st.query_map([], |r| Ok(Table { name: r.get(0)?, geometry: r.get(1)?, srs_id: r.get(2)? }))?;
    rows.collect()
}

/// The coordinate system of an SRS id: by EPSG code when the atlas knows it, else from the
/// WKT definition; `None` for the "undefined" systems (-1, 0), which the user must name.
fn srs(db: &Connection, path: &Path, srs_id: i64) -> Result<Option<SourceCrs>, FormatError> {
    if srs_id <= 0 {
        return Ok(None);
    }
    let row: Option<(String, i64, String)> = db
        .query_row(
            "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
            [srs_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .ok();
    let Some((org, code, definition)) = row else {
        return Err(FormatError::invalid(
            path,
            Position::File,
            format!("SRS {srs_id} is used but not defined in gpkg_spatial_ref_sys"),
        ));
    };
    if org.eq_ignore_ascii_case("EPSG")
        && let Ok(crs) = SourceCrs::from_epsg(code as u32)
    {
        return Ok(Some(crs));
    }
    super::wkt::parse_crs(&definition)
        .map(Some)
        .map_err(|m| FormatError::invalid(path, Position::File, format!("SRS {srs_id} ({org}:{code}): {m}")))
}

fn read_table(
    db: &Connection,
    path: &Path,
    t: &Table,
    geometry: &str,
    opts: &OpenOptions,
    diags: &mut Diagnostics,
) -> Result<RawLayer, FormatError> {
    let at = || Position::At(format!("table {:?}", t.name));
    let sql_err = |e: rusqlite::Error| FormatError::invalid(path, at(), e.to_string());
    let mut layer = RawLayer::new(&t.name, format!("GeoPackage table {}", t.name));
    if opts.crs.is_none() {
        layer.crs = srs(db, path, t.srs_id)?.map(|c| (c, "gpkg_spatial_ref_sys".to_string()));
    }
    let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    // Column names come from pragma_table_info as bytes: rusqlite's column_names() panics on a
    // name that is not UTF-8 (a GBK name written by an old tool), found by the `gpkg` fuzz target.
    let columns: Vec<String> = {
        let mut info = db.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid").map_err(sql_err)?;
        let names = info
            .query_map([&t.name], |r| {
                Ok(r.get_ref(0)?.as_bytes().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default())
            })
            .map_err(sql_err)?;
        names.collect::<Result<_, _>>().map_err(sql_err)?
    };
    let list = columns.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", ");
    let mut st = db.prepare(&format!("SELECT {list} FROM {}", quoted(&t.name))).map_err(sql_err)?;
    let geom_index = columns.iter().position(|c| c.eq_ignore_ascii_case(geometry)).ok_or_else(|| {
        FormatError::invalid(path, at(), format!("the geometry column {geometry:?} is not in the table"))
    })?;
    let mut rows = st.query([]).map_err(sql_err)?;
    let mut dropped_zm = false;
    let mut i = 0usize;
    while let Some(row) = rows.next().map_err(sql_err)? {
        i += 1;
        let pos = || Position::At(format!("table {:?} row {i}", t.name));
        let mut attributes = Map::new();
        let mut geometry = None;
        for (c, name) in columns.iter().enumerate() {
            let Ok(v) = row.get_ref(c) else { continue };
            if c == geom_index {
                geometry = match v {
                    ValueRef::Blob(b) => Some(gpkg_geometry(b)),
                    ValueRef::Null => None,
                    _ => Some(Err("the geometry is not a blob".to_string())),
                };
                continue;
            }
            let value = match v {
                ValueRef::Integer(n) => Value::Number(n.into()),
                ValueRef::Real(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
                ValueRef::Text(s) => Value::String(String::from_utf8_lossy(s).into_owned()),
                ValueRef::Blob(_) | ValueRef::Null => Value::Null,
            };
            if !value.is_null() {
                attributes.insert(name.clone(), value);
            }
        }
        match geometry {
            Some(Ok(p)) => {
                dropped_zm |= p.dropped_zm;
                match p.geometry {
                    Some(g) => layer.features.push(super::feature(g, attributes)),
                    None => {
                        diags.push(Diagnostic::warning(path, pos(), "empty geometry; the feature is left out"));
                    }
                }
            }
            Some(Err(e)) => {
                diags.push(Diagnostic::error(path, pos(), format!("{e}; the feature is left out")));
            }
            None => {
                diags.push(Diagnostic::warning(path, pos(), "no geometry; the feature is left out"));
            }
        }
    }
    if dropped_zm {
        layer.notes.push("Z/M values dropped (the atlas is 2D)".into());
    }
    Ok(layer)
}

/// A GeoPackage geometry blob: the `GP` header (version, flags, SRS id, optional envelope)
/// then WKB.
pub fn gpkg_geometry(b: &[u8]) -> Result<super::wkb::Parsed, String> {
    if b.len() < 8 || &b[..2] != b"GP" {
        return Err("not a GeoPackage geometry (no GP header)".into());
    }
    let flags = b[3];
    if flags & 0b1_0000 != 0 {
        return Ok(super::wkb::Parsed { geometry: None, dropped_zm: false });
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        e => return Err(format!("envelope code {e} is invalid")),
    };
    let wkb = b.get(8 + envelope..).ok_or("the geometry ends inside its header")?;
    super::wkb::parse(wkb)
}
