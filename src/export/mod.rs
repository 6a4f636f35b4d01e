//! Exporters for GIS tools: one GeoJSON per layer, and one GeoPackage holding every layer plus
//! the report's passages and the place-passage links. Written from the f64 source features.
//!
//! Every file is written to a temporary name beside its target and renamed into place, so an
//! interrupted export never leaves a half-written file; existing files are only replaced when
//! the caller says so.

pub mod qgis;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use geo::{BoundingRect, Geometry};
use rusqlite::{Connection, params};
use serde_json::Value;

use crate::atlas::Atlas;
use crate::geodata::{Accuracy, Layer, write_atomic};
use crate::spatial::crs::{ProjectedCrs, SourceCrs};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    GeoJson,
    GeoPackage,
    /// A QGIS project over the GeoPackage (which it implies).
    Qgs,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "geojson" | "json" => Ok(Format::GeoJson),
            "gpkg" | "geopackage" => Ok(Format::GeoPackage),
            "qgs" | "qgis" => Ok(Format::Qgs),
            other => Err(format!("unknown export format {other:?}: use geojson, gpkg or qgs")),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}: already exists; pass --force to overwrite")]
    Exists(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: GeoPackage: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    #[error("unknown layer {0:?} (layers: {1})")]
    UnknownLayer(String, String),
}

/// What to export and how.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub out: PathBuf,
    /// Layer ids; empty means all.
    pub layers: Vec<String>,
    pub formats: Vec<Format>,
    pub force: bool,
    /// The basemap to put in the QGIS project as an XYZ layer (GCJ-02 and BD-09 ones shifted).
    pub basemap: Option<crate::tiles::TileSource>,
    /// The GeoPackage's (and project's) coordinate system, e.g. EPSG:4549 for a planning office
    /// in Suzhou; WGS84 when `None`. GeoJSON stays WGS84, as RFC 7946 requires.
    pub crs: Option<ProjectedCrs>,
    /// Vector tile sources to add to the QGIS project as vector tile layers.
    pub vector_tiles: Vec<crate::qgis::VectorTileExport>,
}

/// The system `export --crs` names: a projected EPSG system, or WGS84 (`None`). GCJ-02 and
/// BD-09 are refused: no GIS reads them as coordinate systems.
pub fn export_crs(s: &str) -> Result<Option<ProjectedCrs>, String> {
    match SourceCrs::parse(s).map_err(|e| e.to_string())? {
        SourceCrs::Datum(crate::proj::Crs::Wgs84) => Ok(None),
        SourceCrs::Projected(p) if p.epsg().is_some() => Ok(Some(p)),
        SourceCrs::Projected(_) => Err(format!("{s:?}: export needs an EPSG code (e.g. EPSG:4549), not a proj string")),
        SourceCrs::Datum(d) => {
            Err(format!("{d}: exports are written in WGS84 or an EPSG system; {} is a web-map offset", d.title()))
        }
    }
}

/// The files an export wrote.
#[derive(Debug, Clone, Default)]
pub struct ExportReport {
    pub files: Vec<PathBuf>,
    /// Things the user should know about the result.
    pub notes: Vec<String>,
}

/// Exports the atlas. Checks every target first, so a refused overwrite writes nothing.
pub fn export(atlas: &Atlas, opts: &ExportOptions) -> Result<ExportReport, ExportError> {
    let layers: Vec<&Layer> = if opts.layers.is_empty() {
        atlas.layers.iter().collect()
    } else {
        opts.layers
            .iter()
            .map(|id| {
                atlas.layers.iter().find(|l| &l.id == id).ok_or_else(|| {
                    let all: Vec<&str> = atlas.layers.iter().map(|l| l.id.as_str()).collect();
                    ExportError::UnknownLayer(id.clone(), all.join(", "))
                })
            })
            .collect::<Result<_, _>>()?
    };
    let mut targets = Vec::new();
    if opts.formats.contains(&Format::GeoJson) {
        targets.extend(layers.iter().map(|l| opts.out.join(format!("{}.geojson", l.id))));
    }
    let gpkg = opts.out.join("port-atlas.gpkg");
    let qgs = opts.out.join("port-atlas.qgs");
    let want_qgs = opts.formats.contains(&Format::Qgs);
    let want_gpkg = want_qgs || opts.formats.contains(&Format::GeoPackage);
    if want_gpkg {
        targets.push(gpkg.clone());
    }
    if want_qgs {
        targets.push(qgs.clone());
    }
    if !opts.force
        && let Some(t) = targets.iter().find(|t| t.exists())
    {
        return Err(ExportError::Exists(t.clone()));
    }
    std::fs::create_dir_all(&opts.out).map_err(|source| ExportError::Io { path: opts.out.clone(), source })?;
    let mut report = ExportReport::default();
    if opts.formats.contains(&Format::GeoJson) {
        for l in &layers {
            let path = opts.out.join(format!("{}.geojson", l.id));
            write_atomic(&path, l.to_geojson_string().as_bytes())
                .map_err(|source| ExportError::Io { path: path.clone(), source })?;
            report.files.push(path);
        }
    }
    if want_gpkg {
        write_geopackage(atlas, &layers, &gpkg, opts.crs.as_ref())?;
        report.files.push(gpkg);
    }
    if want_qgs {
        let pairs: Vec<(&Layer, &crate::geodata::LayerMeta)> = layers.iter().map(|l| (*l, &l.meta)).collect();
        let project = crate::qgis::project(
            &pairs,
            "port-atlas.gpkg",
            atlas.home,
            opts.basemap.as_ref(),
            opts.crs.as_ref(),
            &opts.vector_tiles,
        );
        report.notes.extend(project.notes);
        write_atomic(&qgs, project.text.as_bytes()).map_err(|source| ExportError::Io { path: qgs.clone(), source })?;
        report.files.push(qgs);
    }
    Ok(report)
}

/// QGIS' `layer_styles` table with each layer's style as its default, so a layer dragged into
/// QGIS from the GeoPackage opens looking as in the app.
fn write_styles(db: &Connection, layers: &[&Layer]) -> rusqlite::Result<()> {
    db.execute_batch(
        "CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256),
           f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30),
           styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
           update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));
         INSERT INTO gpkg_contents (table_name, data_type, identifier, description)
           VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles');",
    )?;
    let mut stmt = db.prepare(
        "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName,
           styleQML, styleSLD, useAsDefault, description, owner, ui)
         VALUES ('', '', ?1, 'geom', ?2, ?3, '', 1, 'port-atlas style', '', '')",
    )?;
    for l in layers {
        let meta = &l.meta;
        // A mixed layer is styled for its first geometry class (areas before lines before points).
        let class = crate::qgis::classes(l).first().copied().unwrap_or(crate::qgis::GeomClass::Polygon);
        stmt.execute(params![l.id, format!("port-atlas {}", l.id), crate::qgis::qml(meta, class)])?;
    }
    Ok(())
}

/// Writes the GeoPackage to a temporary file and renames it over `path`.
fn write_geopackage(
    atlas: &Atlas,
    layers: &[&Layer],
    path: &Path,
    crs: Option<&ProjectedCrs>,
) -> Result<(), ExportError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".port-atlas.gpkg.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let sql = |source| ExportError::Sqlite { path: path.to_path_buf(), source };
    let result = (|| -> Result<(), ExportError> {
        let mut db = Connection::open(&tmp).map_err(sql)?;
        let tx = db.transaction().map_err(sql)?;
        create_gpkg_tables(&tx).map_err(sql)?;
        if let Some(c) = crs {
            add_srs(&tx, c).map_err(sql)?;
        }
        for l in layers {
            write_layer(&tx, l, crs).map_err(sql)?;
        }
        write_passages(&tx, atlas).map_err(sql)?;
        write_styles(&tx, layers).map_err(sql)?;
        tx.commit().map_err(sql)?;
        db.close().map_err(|(_, e)| sql(e))?;
        std::fs::rename(&tmp, path).map_err(|source| ExportError::Io { path: path.to_path_buf(), source })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn create_gpkg_tables(db: &Connection) -> rusqlite::Result<()> {
    // GeoPackage 1.3: application id "GPKG", user version 10300.
    db.execute_batch(
        "PRAGMA application_id = 1196444487;
         PRAGMA user_version = 10300;
         CREATE TABLE gpkg_spatial_ref_sys (
           srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
           organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
         INSERT INTO gpkg_spatial_ref_sys VALUES
           ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
           ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
           ('WGS 84 geodetic', 4326, 'EPSG', 4326,
            'GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\",\"4326\"]]',
            'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
         CREATE TABLE gpkg_contents (
           table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
           description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
           min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
           srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
         CREATE TABLE gpkg_geometry_columns (
           table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
           srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
           CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
           CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
           CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));",
    )
}

/// The export system's row in `gpkg_spatial_ref_sys`.
fn add_srs(db: &Connection, crs: &ProjectedCrs) -> rusqlite::Result<()> {
    let code = crs.epsg().unwrap_or(0);
    db.execute(
        "INSERT OR REPLACE INTO gpkg_spatial_ref_sys VALUES (?1, ?2, 'EPSG', ?2, ?3, ?1)",
        params![crs.name(), code, crs.wkt1()],
    )?;
    Ok(())
}

/// A feature's geometry in the export system (WGS84 when none); positions that cannot be
/// converted are kept as they were, which only happens far outside the system's area.
fn in_crs(g: &Geometry<f64>, crs: Option<&ProjectedCrs>) -> Geometry<f64> {
    use geo::MapCoords;
    match crs {
        None => g.clone(),
        Some(c) => g.map_coords(|p| match c.from_wgs84(p.x, p.y) {
            Ok((x, y)) => geo::Coord { x, y },
            Err(_) => p,
        }),
    }
}

/// The SQLite type of an attribute column: INTEGER or REAL when every value is one, else TEXT,
/// so an analyst can sort and filter numbers in QGIS.
fn column_type(l: &Layer, key: &str) -> &'static str {
    let mut kind = "INTEGER";
    for v in l.features.iter().filter_map(|f| f.extra.get(key)) {
        match v {
            Value::Null => {}
            Value::Number(n) if n.is_i64() => {}
            Value::Number(_) => kind = "REAL",
            _ => return "TEXT",
        }
    }
    kind
}

/// Quotes an SQL identifier (a layer or column name taken from the data).
fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn geometry_type_name(l: &Layer) -> &'static str {
    let mut kinds = BTreeSet::new();
    for f in &l.features {
        kinds.insert(match f.geometry {
            Geometry::Point(_) => "POINT",
            Geometry::MultiPoint(_) => "MULTIPOINT",
            Geometry::LineString(_) | Geometry::Line(_) => "LINESTRING",
            Geometry::MultiLineString(_) => "MULTILINESTRING",
            Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "POLYGON",
            Geometry::MultiPolygon(_) => "MULTIPOLYGON",
            Geometry::GeometryCollection(_) => "GEOMETRYCOLLECTION",
        });
    }
    let has = |k: &str| kinds.contains(k);
    match kinds.len() {
        1 => kinds.into_iter().next().unwrap_or("GEOMETRY"),
        // Singles mixed with their multi form: declare the multi type and promote the singles
        // (see `promote`), so QGIS sees a typed layer.
        2 if has("POLYGON") && has("MULTIPOLYGON") => "MULTIPOLYGON",
        2 if has("LINESTRING") && has("MULTILINESTRING") => "MULTILINESTRING",
        2 if has("POINT") && has("MULTIPOINT") => "MULTIPOINT",
        _ => "GEOMETRY",
    }
}

/// A single geometry as its multi form when the layer's column is declared multi.
fn promote(g: &Geometry<f64>, column: &str) -> Geometry<f64> {
    match (g, column) {
        (Geometry::Polygon(p), "MULTIPOLYGON") => Geometry::MultiPolygon(geo::MultiPolygon(vec![p.clone()])),
        (Geometry::LineString(l), "MULTILINESTRING") => {
            Geometry::MultiLineString(geo::MultiLineString(vec![l.clone()]))
        }
        (Geometry::Point(p), "MULTIPOINT") => Geometry::MultiPoint(geo::MultiPoint(vec![*p])),
        _ => g.clone(),
    }
}

fn write_layer(db: &Connection, l: &Layer, crs: Option<&ProjectedCrs>) -> rusqlite::Result<()> {
    let extra_keys: BTreeSet<&str> = l.features.iter().flat_map(|f| f.extra.keys().map(String::as_str)).collect();
    let fixed =
        ["id", "name_zh_hant", "name_zh_hans", "name_en", "kind", "accuracy", "accuracy_m", "schematic", "source"];
    let extra: Vec<&str> =
        extra_keys.into_iter().filter(|k| !fixed.contains(k) && *k != "fid" && *k != "geom").collect();
    let mut cols = String::from(
        "fid INTEGER PRIMARY KEY AUTOINCREMENT, geom BLOB, id TEXT, name_zh_hant TEXT, name_zh_hans TEXT, \
         name_en TEXT, kind TEXT, accuracy TEXT, accuracy_m REAL, schematic INTEGER, source TEXT",
    );
    let types: Vec<&str> = extra.iter().map(|k| column_type(l, k)).collect();
    for (k, t) in extra.iter().zip(&types) {
        cols.push_str(&format!(", {} {t}", ident(k)));
    }
    let table = ident(&l.id);
    db.execute_batch(&format!("CREATE TABLE {table} ({cols});"))?;
    let placeholders = (0..10 + extra.len()).map(|i| format!("?{}", i + 1)).collect::<Vec<_>>().join(", ");
    let names: Vec<String> = [
        "geom",
        "id",
        "name_zh_hant",
        "name_zh_hans",
        "name_en",
        "kind",
        "accuracy",
        "accuracy_m",
        "schematic",
        "source",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(extra.iter().map(|k| ident(k)))
    .collect();
    let mut stmt = db.prepare(&format!("INSERT INTO {table} ({}) VALUES ({placeholders})", names.join(", ")))?;
    let geometry_type = geometry_type_name(l);
    let srs_id = crs.and_then(ProjectedCrs::epsg).map_or(4326, |c| c as i32);
    // The extent of what was written, in the export system (each geometry converted once).
    let mut bounds: Option<geo::Rect<f64>> = None;
    for f in &l.features {
        let geometry = in_crs(&promote(&f.geometry, geometry_type), crs);
        bounds = crate::geodata::union_bounds(bounds.into_iter().chain(geometry.bounding_rect()));
        let (acc_text, acc_m, schematic) = match f.accuracy {
            Accuracy::Metres(m) => (format!("{m}"), Some(m), 0),
            Accuracy::Schematic => ("schematic".to_string(), None, 1),
            Accuracy::Unstated => (String::new(), None, 0),
        };
        let mut values: Vec<rusqlite::types::Value> = vec![
            gpkg_geometry_srs(&geometry, srs_id).into(),
            f.id.clone().into(),
            f.name_zh_hant.clone().into(),
            f.name_zh_hans.clone().into(),
            f.name_en.clone().into(),
            f.kind.clone().into(),
            acc_text.into(),
            acc_m.map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Real),
            rusqlite::types::Value::Integer(schematic),
            f.source.clone().into(),
        ];
        for (k, t) in extra.iter().zip(&types) {
            values.push(match (f.extra.get(*k), *t) {
                (None | Some(Value::Null), _) => rusqlite::types::Value::Null,
                (Some(Value::Number(n)), "INTEGER") => {
                    n.as_i64().map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Integer)
                }
                (Some(Value::Number(n)), "REAL") => {
                    n.as_f64().map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Real)
                }
                (Some(Value::String(s)), _) => s.clone().into(),
                (Some(v), _) => v.to_string().into(),
            });
        }
        stmt.execute(rusqlite::params_from_iter(values))?;
    }
    let b = bounds;
    let (x0, y0, x1, y1) = b.map_or((0.0, 0.0, 0.0, 0.0), |r| (r.min().x, r.min().y, r.max().x, r.max().y));
    // Where an imported layer came from travels with it into QGIS (Layer Properties, Information).
    let description = match &l.provenance {
        Some(p) => format!("port-atlas layer {}; {}", l.id, p.summary()),
        None => format!("port-atlas layer {}", l.id),
    };
    db.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id)
         VALUES (?1, 'features', ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![l.id, description, x0, y0, x1, y1, srs_id],
    )?;
    db.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, ?3, 0, 0)",
        params![l.id, geometry_type, srs_id],
    )?;
    Ok(())
}

/// The report's passages and which places each mentions, as plain tables (no geometry), so an
/// analyst can join them to the layers by place id.
fn write_passages(db: &Connection, atlas: &Atlas) -> rusqlite::Result<()> {
    db.execute_batch(
        "CREATE TABLE passages (fid INTEGER PRIMARY KEY AUTOINCREMENT, document TEXT NOT NULL, passage TEXT NOT NULL,
                                line INTEGER NOT NULL, text TEXT NOT NULL);
         CREATE TABLE place_passages (fid INTEGER PRIMARY KEY AUTOINCREMENT, place TEXT NOT NULL, document TEXT NOT NULL,
                                      passage TEXT NOT NULL, line INTEGER NOT NULL, start INTEGER NOT NULL,
                                      \"end\" INTEGER NOT NULL, text TEXT NOT NULL, sentence INTEGER NOT NULL);
         INSERT INTO gpkg_contents (table_name, data_type, identifier, description)
           VALUES ('passages', 'attributes', 'passages', 'passages of the linked documents'),
                  ('place_passages', 'attributes', 'place_passages', 'mentions of places in passages');",
    )?;
    let mut p = db.prepare("INSERT INTO passages (document, passage, line, text) VALUES (?1, ?2, ?3, ?4)")?;
    let mut m = db.prepare(
        "INSERT INTO place_passages (place, document, passage, line, start, \"end\", text, sentence)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for d in &atlas.documents {
        for pa in &d.passages {
            p.execute(params![d.id, pa.id, pa.line as i64, pa.text])?;
            for me in &pa.mentions {
                m.execute(params![
                    me.place,
                    d.id,
                    pa.id,
                    pa.line as i64,
                    me.start as i64,
                    me.end as i64,
                    me.text,
                    me.sentence as i64
                ])?;
            }
        }
    }
    Ok(())
}

/// A GeoPackage geometry blob: the "GP" header (version 0, little-endian, xy envelope,
/// SRS 4326) followed by the geometry as little-endian WKB.
pub fn gpkg_geometry(g: &Geometry<f64>) -> Vec<u8> {
    gpkg_geometry_srs(g, 4326)
}

/// A GeoPackage geometry blob in SRS `srs_id`.
pub fn gpkg_geometry_srs(g: &Geometry<f64>, srs_id: i32) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"GP");
    out.push(0); // version
    let env = g.bounding_rect();
    // flags: bit 0 little-endian; bits 1-3 envelope type (1 = xy); bit 4 empty geometry.
    let flags: u8 = 0b0000_0001 | if env.is_some() { 0b0000_0010 } else { 0b0001_0000 };
    out.push(flags);
    out.extend_from_slice(&srs_id.to_le_bytes());
    if let Some(r) = env {
        for v in [r.min().x, r.max().x, r.min().y, r.max().y] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    wkb(g, &mut out);
    out
}

fn wkb_coords(cs: &[geo::Coord<f64>], out: &mut Vec<u8>) {
    out.extend_from_slice(&(cs.len() as u32).to_le_bytes());
    for c in cs {
        out.extend_from_slice(&c.x.to_le_bytes());
        out.extend_from_slice(&c.y.to_le_bytes());
    }
}

fn wkb_header(kind: u32, out: &mut Vec<u8>) {
    out.push(1); // little endian
    out.extend_from_slice(&kind.to_le_bytes());
}

fn wkb_polygon(p: &geo::Polygon<f64>, out: &mut Vec<u8>) {
    wkb_header(3, out);
    let rings: Vec<&geo::LineString<f64>> =
        std::iter::once(p.exterior()).chain(p.interiors()).filter(|r| !r.0.is_empty()).collect();
    out.extend_from_slice(&(rings.len() as u32).to_le_bytes());
    for r in rings {
        wkb_coords(&r.0, out);
    }
}

/// Well-known binary, little endian, 2D.
pub fn wkb(g: &Geometry<f64>, out: &mut Vec<u8>) {
    match g {
        Geometry::Point(p) => {
            wkb_header(1, out);
            out.extend_from_slice(&p.x().to_le_bytes());
            out.extend_from_slice(&p.y().to_le_bytes());
        }
        Geometry::LineString(l) => {
            wkb_header(2, out);
            wkb_coords(&l.0, out);
        }
        Geometry::Line(l) => {
            wkb_header(2, out);
            wkb_coords(&[l.start, l.end], out);
        }
        Geometry::Polygon(p) => wkb_polygon(p, out),
        Geometry::Rect(r) => wkb_polygon(&r.to_polygon(), out),
        Geometry::Triangle(t) => wkb_polygon(&t.to_polygon(), out),
        Geometry::MultiPoint(m) => {
            wkb_header(4, out);
            out.extend_from_slice(&(m.0.len() as u32).to_le_bytes());
            for p in &m.0 {
                wkb(&Geometry::Point(*p), out);
            }
        }
        Geometry::MultiLineString(m) => {
            wkb_header(5, out);
            out.extend_from_slice(&(m.0.len() as u32).to_le_bytes());
            for l in &m.0 {
                wkb_header(2, out);
                wkb_coords(&l.0, out);
            }
        }
        Geometry::MultiPolygon(m) => {
            wkb_header(6, out);
            out.extend_from_slice(&(m.0.len() as u32).to_le_bytes());
            for p in &m.0 {
                wkb_polygon(p, out);
            }
        }
        Geometry::GeometryCollection(c) => {
            wkb_header(7, out);
            out.extend_from_slice(&(c.0.len() as u32).to_le_bytes());
            for g in &c.0 {
                wkb(g, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("port-atlas-export-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn wkb_of_a_point_is_standard() {
        let mut out = Vec::new();
        wkb(&Geometry::Point(geo::Point::new(1.0, 2.0)), &mut out);
        let mut want = vec![1u8, 1, 0, 0, 0];
        want.extend_from_slice(&1.0f64.to_le_bytes());
        want.extend_from_slice(&2.0f64.to_le_bytes());
        assert_eq!(out, want);
        let blob = gpkg_geometry(&Geometry::Point(geo::Point::new(1.0, 2.0)));
        assert_eq!(&blob[..4], b"GP\x00\x03");
        assert_eq!(i32::from_le_bytes(blob[4..8].try_into().unwrap()), 4326);
    }

    #[test]
    fn exports_every_layer_with_passages_and_refuses_to_overwrite() {
        let atlas = Atlas::builtin();
        let out = temp("all");
        let opts = ExportOptions {
            vector_tiles: Vec::new(),
            out: out.clone(),
            layers: vec![],
            formats: vec![Format::GeoJson, Format::GeoPackage],
            force: false,
            basemap: None,
            crs: None,
        };
        let report = export(&atlas, &opts).unwrap();
        // The six layers and the report's mentioned places as GeoJSON, and one GeoPackage.
        assert_eq!(report.files.len(), 8);
        let styles: i64 = Connection::open(out.join("port-atlas.gpkg"))
            .unwrap()
            .query_row("SELECT count(*) FROM layer_styles WHERE useAsDefault = 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(styles, 7);
        let db = Connection::open(out.join("port-atlas.gpkg")).unwrap();
        let n: i64 = db.query_row("SELECT count(*) FROM ports", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 5);
        let name: String =
            db.query_row("SELECT name_zh_hant FROM sites WHERE id = 'port-city-square'", [], |r| r.get(0)).unwrap();
        assert_eq!(name, "港城廣場");
        let links: i64 = db
            .query_row("SELECT count(DISTINCT line) FROM place_passages WHERE place = 'taicang-port'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(links, 5);
        // A second export into the same folder is refused and touches nothing.
        let before = std::fs::metadata(out.join("ports.geojson")).unwrap().modified().unwrap();
        let err = export(&atlas, &opts).unwrap_err();
        assert!(matches!(err, ExportError::Exists(_)), "{err}");
        assert_eq!(std::fs::metadata(out.join("ports.geojson")).unwrap().modified().unwrap(), before);
        export(&atlas, &ExportOptions { force: true, ..opts }).unwrap();
        std::fs::remove_dir_all(&out).unwrap();
    }

    #[test]
    fn names_with_quotes_markup_and_newlines_survive() {
        let dir = temp("escape");
        std::fs::create_dir_all(&dir).unwrap();
        let layer = dir.join("odd \"layer\".geojson");
        std::fs::write(
            &layer,
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"x","name_zh_hant":"<\"&'>","name_zh_hans":"a\nb","name_en":"O'Brien; DROP TABLE x;--","kind":"k","accuracy":1,"source":"s"},"geometry":{"type":"Point","coordinates":[121,31]}}]}"#,
        )
        .unwrap();
        let mut atlas = Atlas::builtin();
        atlas.add_layer_file(&layer).unwrap();
        let out = dir.join("out");
        let opts = ExportOptions {
            vector_tiles: Vec::new(),
            out: out.clone(),
            layers: vec!["odd \"layer\"".into()],
            formats: vec![Format::GeoJson, Format::GeoPackage],
            force: false,
            basemap: None,
            crs: None,
        };
        export(&atlas, &opts).unwrap();
        let db = Connection::open(out.join("port-atlas.gpkg")).unwrap();
        let (a, b, c): (String, String, String) = db
            .query_row("SELECT name_zh_hant, name_zh_hans, name_en FROM \"odd \"\"layer\"\"\"", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!((a.as_str(), b.as_str(), c.as_str()), ("<\"&'>", "a\nb", "O'Brien; DROP TABLE x;--"));
        let (back, _) = crate::geodata::load_layer(&out.join("odd \"layer\".geojson")).unwrap();
        assert_eq!(back.features[0].name_zh_hant, "<\"&'>");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_imported_layer_exports_in_the_planners_projected_crs_with_typed_attributes() {
        let shp = std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/formats/shp-4549-gbk/parcels.shp"
        ));
        let mut opened = crate::formats::open(&shp, &Default::default()).unwrap();
        let mut atlas = Atlas::builtin();
        let original = opened.layers[0].features[0].geometry.clone();
        atlas.add_layer(opened.layers.remove(0));
        let out = temp("crs");
        let opts = ExportOptions {
            vector_tiles: Vec::new(),
            out: out.clone(),
            layers: vec!["parcels".into()],
            formats: vec![Format::Qgs],
            force: false,
            basemap: None,
            crs: export_crs("EPSG:4549").unwrap(),
        };
        export(&atlas, &opts).unwrap();
        // Read back with the GeoPackage reader: in EPSG:4549, and the same place to a centimetre.
        let gpkg = out.join("port-atlas.gpkg");
        let back = crate::formats::open(
            &gpkg,
            &crate::formats::OpenOptions { layer: Some("parcels".into()), ..Default::default() },
        )
        .unwrap();
        let p = back.layers[0].provenance.as_ref().unwrap();
        assert!(p.crs.starts_with("EPSG:4549"), "{}", p.crs);
        use geo::CoordsIter;
        for (a, b) in back.layers[0].features[0].geometry.coords_iter().zip(original.coords_iter()) {
            assert!((a.x - b.x).abs() < 1e-7 && (a.y - b.y).abs() < 1e-7, "{a:?} vs {b:?}");
        }
        let db = Connection::open(&gpkg).unwrap();
        let (kind, description): (String, String) = db
            .query_row(
                "SELECT (SELECT type FROM pragma_table_info('parcels') WHERE name = '编码'), description FROM gpkg_contents WHERE table_name = 'parcels'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(kind, "TEXT", "codes with leading digits stay text");
        assert!(description.contains("GB18030/GBK (.cpg)"), "{description}");
        let qgs = std::fs::read_to_string(out.join("port-atlas.qgs")).unwrap();
        assert!(qgs.contains("<authid>EPSG:4549</authid>") && qgs.contains("<units>meters</units>"));
        assert!(export_crs("gcj02").unwrap_err().contains("web-map offset"));
        assert!(export_crs("wgs84").unwrap().is_none());
    }
}
