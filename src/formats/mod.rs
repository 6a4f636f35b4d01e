//! Reading the files planners have into layers in f64 WGS84: Shapefiles (also zipped),
//! GeoPackages, KML/KMZ, CSV and XLSX with coordinate columns, and GeoJSON.
//!
//! Each format's reader turns its file into [`RawLayer`]s: features with their attributes in
//! the file's own coordinates, and the coordinate system the file declares, if any. [`open`]
//! then decides the system once for every format (the user's `--from-crs` wins, then the file's
//! own, and a file with none is an error carrying guesses, never read as WGS84 silently),
//! converts every vertex, and records the layer's [`Provenance`].
//!
//! To add a format: a file here with `read(path, bytes, &OpenOptions, &mut Diagnostics) ->
//! Result<Vec<RawLayer>, FormatError>`, a line in [`Format::of`], and a fuzz target.

pub mod archive;
pub mod dbf;
pub mod encoding;
pub mod gpkg;
pub mod kml;
pub mod shp;
pub mod table;
pub mod wkb;
pub mod wkt;

use std::path::{Path, PathBuf};

use geo::Geometry;
use serde_json::{Map, Value};

use crate::diagnostic::{Diagnostic, Diagnostics, Position, thousands};
use crate::geodata::{Accuracy, Feature, Layer, LayerSource, Provenance};
use crate::spatial::crs::{CrsGuess, SourceCrs, guess_crs};

/// What the user said about a file: on the command line or in the app's open dialog.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// `--layer NAME`: one table of a GeoPackage, one sheet of a workbook.
    pub layer: Option<String>,
    /// `--from-crs`: the file's coordinate system, overriding what the file says.
    pub crs: Option<SourceCrs>,
    /// `--encoding`: the attribute text encoding, overriding `.cpg` and detection.
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// CSV/XLSX: the x (longitude, easting) and y columns, by header; detected when absent.
    pub columns: Option<(String, String)>,
}

impl OpenOptions {
    /// The options a saved layer source gives (`layers.json`).
    pub fn from_source(s: &LayerSource) -> Result<Self, String> {
        Ok(OpenOptions {
            layer: s.layer.clone(),
            crs: s.crs.as_deref().map(SourceCrs::parse).transpose().map_err(|e| e.to_string())?,
            encoding: s.encoding.as_deref().map(encoding::encoding_from_option).transpose()?,
            columns: s.columns.clone(),
        })
    }
}

/// One layer as a reader found it, before its coordinates are converted.
#[derive(Debug)]
pub struct RawLayer {
    /// The layer's id: the file stem, or the table, folder or sheet name.
    pub name: String,
    /// Features with geometry in the file's coordinates.
    pub features: Vec<Feature>,
    /// The system the file declares, and where it says so (".prj", "gpkg_spatial_ref_sys").
    pub crs: Option<(SourceCrs, String)>,
    /// "Shapefile", "GeoPackage table roads", ...
    pub format: String,
    /// The attribute text encoding and how it was decided.
    pub encoding: Option<String>,
    /// What reading changed (Z values dropped, ...), for the provenance.
    pub notes: Vec<String>,
}

impl RawLayer {
    pub fn new(name: impl Into<String>, format: impl Into<String>) -> Self {
        RawLayer {
            name: name.into(),
            features: Vec::new(),
            crs: None,
            format: format.into(),
            encoding: None,
            notes: Vec::new(),
        }
    }
}

/// A file could not be opened as layers at all. Problems with single features are
/// [`Diagnostic`]s instead, and the rest of the file still loads.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// Broken beyond reading, with where: "record 12", "byte 1,024", "line 3".
    #[error("{path}: {}{message}", at_prefix(position))]
    Invalid { path: PathBuf, position: Position, message: String },
    /// The file does not say its coordinate system: the user must (`--from-crs`, or the app's
    /// question), helped by what the coordinates could be.
    #[error("{path}: the file does not say its coordinate system; pass --from-crs ({})", guesses_text(guesses))]
    NeedsCrs { path: PathBuf, guesses: Vec<CrsGuess> },
    /// `--layer` named nothing in the file, or the file has several and none was chosen where
    /// only one can be (the command line).
    #[error("{path}: {message}; its layers: {}", available.join(", "))]
    Layers { path: PathBuf, message: String, available: Vec<String> },
    #[error("{path}: {message}")]
    Unsupported { path: PathBuf, message: String },
    #[error(transparent)]
    GeoJson(#[from] crate::spatial::geojson::LoadError),
}

fn at_prefix(position: &Position) -> String {
    match position {
        Position::File => String::new(),
        Position::LineColumn(l, c) => format!("line {l}, column {c}: "),
        Position::Feature(i, _) => format!("feature #{i}: "),
        Position::At(s) => format!("{s}: "),
    }
}

fn guesses_text(guesses: &[CrsGuess]) -> String {
    match guesses.first() {
        Some(g) => {
            let others: Vec<&str> = guesses.iter().skip(1).take(3).map(|g| g.crs.as_str()).collect();
            let mut s = format!("likely --from-crs {}: {}", g.crs, g.reason);
            if !others.is_empty() {
                s.push_str(&format!("; also possible: {}", others.join(", ")));
            }
            s
        }
        None => "the coordinates fit none of the systems port-atlas knows".into(),
    }
}

impl FormatError {
    pub fn invalid(path: &Path, position: Position, message: impl Into<String>) -> Self {
        FormatError::Invalid { path: path.to_path_buf(), position, message: message.into() }
    }

    pub fn io(path: &Path, source: std::io::Error) -> Self {
        FormatError::Io { path: path.to_path_buf(), source }
    }

    /// The error as a problem the app lists, with its file and position.
    pub fn to_diagnostic(&self) -> Diagnostic {
        match self {
            FormatError::GeoJson(e) => e.to_diagnostic(),
            FormatError::Invalid { path, position, message } => {
                Diagnostic::error(path, position.clone(), message.clone())
            }
            FormatError::Io { path, .. }
            | FormatError::NeedsCrs { path, .. }
            | FormatError::Layers { path, .. }
            | FormatError::Unsupported { path, .. } => {
                let full = self.to_string();
                let prefix = format!("{}: ", path.display());
                Diagnostic::error(path, Position::File, full.strip_prefix(&prefix).unwrap_or(&full))
            }
        }
    }
}

/// The formats [`open`] reads, by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    GeoJson,
    Shapefile,
    /// A `.zip` holding a Shapefile (or a KML).
    Zip,
    GeoPackage,
    Kml,
    Kmz,
    Csv,
    Spreadsheet,
}

impl Format {
    /// By extension, case-insensitively; `None` for anything else.
    pub fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "geojson" | "json" => Format::GeoJson,
            "shp" | "dbf" | "shx" => Format::Shapefile,
            "zip" => Format::Zip,
            "gpkg" => Format::GeoPackage,
            "kml" => Format::Kml,
            "kmz" => Format::Kmz,
            "csv" | "tsv" | "txt" => Format::Csv,
            "xlsx" | "xls" | "xlsm" | "ods" => Format::Spreadsheet,
            _ => return None,
        })
    }

    /// Extensions for the open dialog's filter.
    pub const EXTENSIONS: &[&str] =
        &["geojson", "json", "shp", "zip", "gpkg", "kml", "kmz", "csv", "tsv", "txt", "xlsx", "xls", "ods"];
}

/// Layers read from one file, converted to WGS84, with the file's non-fatal problems.
#[derive(Debug, Default)]
pub struct Opened {
    pub layers: Vec<Layer>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads every layer of a file (or the one `--layer` names), in WGS84.
pub fn open(path: &Path, opts: &OpenOptions) -> Result<Opened, FormatError> {
    let format = Format::of(path).ok_or_else(|| FormatError::Unsupported {
        path: path.to_path_buf(),
        message: format!(
            "not a format port-atlas reads (it reads {})",
            Format::EXTENSIONS.iter().map(|e| format!(".{e}")).collect::<Vec<_>>().join(" ")
        ),
    })?;
    let mut diags = Diagnostics::new();
    let raw = match format {
        Format::GeoJson => return open_geojson(path, opts),
        Format::Shapefile => shp::read_path(path, opts, &mut diags)?,
        Format::Zip => archive::read_zip(path, opts, &mut diags)?,
        Format::GeoPackage => gpkg::read(path, opts, &mut diags)?,
        Format::Kml => {
            let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
            kml::read(path, &bytes, opts, &mut diags)?
        }
        Format::Kmz => archive::read_kmz(path, opts, &mut diags)?,
        Format::Csv | Format::Spreadsheet => table::read(path, opts, &mut diags)?,
    };
    finish(path, raw, opts, diags)
}

/// GeoJSON keeps its own reader (and its legacy `crs` member); `--from-crs` still applies.
fn open_geojson(path: &Path, opts: &OpenOptions) -> Result<Opened, FormatError> {
    let (mut layer, diagnostics) = crate::atlas::read_user_layer(path)?;
    // RFC 7946 GeoJSON is WGS84, but projected numbers saved as GeoJSON without a `crs`
    // member are common: they are asked about, not drawn off the globe.
    if opts.crs.is_none() {
        let degrees = layer.bounds().is_none_or(|b| {
            (-180.0..=180.0).contains(&b.min().x)
                && (-180.0..=180.0).contains(&b.max().x)
                && (-90.0..=90.0).contains(&b.min().y)
                && (-90.0..=90.0).contains(&b.max().y)
        });
        if !degrees {
            return Err(FormatError::NeedsCrs { path: path.to_path_buf(), guesses: guess_for(&layer.features) });
        }
    }
    if let Some(crs) = opts.crs.as_ref().filter(|c| !c.is_wgs84()) {
        let mut diags = Diagnostics::new();
        let features = std::mem::take(&mut layer.features);
        layer.features = convert(path, features, crs, &mut diags);
        layer.provenance = Some(Provenance {
            file: path.to_path_buf(),
            format: "GeoJSON".into(),
            crs: crs.label(),
            crs_from: "--from-crs".into(),
            ..Default::default()
        });
        let mut all = diagnostics;
        all.extend(diags.into_vec());
        return Ok(Opened { layers: vec![layer], diagnostics: all });
    }
    Ok(Opened { layers: vec![layer], diagnostics })
}

/// Decides each layer's coordinate system, converts it, and records where it came from.
fn finish(path: &Path, raw: Vec<RawLayer>, opts: &OpenOptions, mut diags: Diagnostics) -> Result<Opened, FormatError> {
    let mut layers = Vec::with_capacity(raw.len());
    let several = raw.len() > 1;
    for r in raw {
        let source = LayerSource {
            file: path.display().to_string(),
            layer: opts.layer.clone().or_else(|| several.then(|| r.name.clone())),
            crs: opts.crs.as_ref().map(SourceCrs::spelling),
            encoding: opts.encoding.map(|e| e.name().to_string()),
            columns: opts.columns.clone(),
        };
        let (crs, crs_from) = match (&opts.crs, r.crs) {
            (Some(c), _) => (c.clone(), "--from-crs".to_string()),
            (None, Some((c, from))) => (c, from),
            (None, None) => {
                return Err(FormatError::NeedsCrs { path: path.to_path_buf(), guesses: guess_for(&r.features) });
            }
        };
        let mut notes = r.notes;
        if let Some(n) = crs.note() {
            notes.push(n.to_string());
        }
        let count = r.features.len();
        let features = convert(path, r.features, &crs, &mut diags);
        if features.is_empty() && count > 0 {
            return Err(FormatError::invalid(
                path,
                Position::File,
                format!("none of its {} features could be placed in {}", thousands(count), crs.label()),
            ));
        }
        let mut layer = Layer::new(r.name, path, features);
        layer.meta.source = Some(source);
        layer.provenance = Some(Provenance {
            file: path.to_path_buf(),
            format: r.format,
            crs: crs.label(),
            crs_from,
            encoding: r.encoding,
            notes,
        });
        layers.push(layer);
    }
    Ok(Opened { layers, diagnostics: diags.into_vec() })
}

/// What unlabelled coordinates could be, from their extent.
fn guess_for(features: &[Feature]) -> Vec<CrsGuess> {
    crate::geodata::union_bounds(features.iter().filter_map(Feature::bounds))
        .map_or_else(Vec::new, |b| guess_crs((b.min().x, b.min().y), (b.max().x, b.max().y)))
}

/// Converts features to WGS84 on every core; a feature with a position outside the system's
/// area is left out and reported (one entry for all of them, with the first's place).
pub fn convert(path: &Path, features: Vec<Feature>, crs: &SourceCrs, diags: &mut Diagnostics) -> Vec<Feature> {
    if crs.is_wgs84() {
        return features;
    }
    // The feature and, if it could not be placed, why.
    let convert_one = |mut f: Feature| -> (Feature, Option<String>) {
        use geo::MapCoordsInPlace;
        let failed = std::cell::Cell::new(None);
        f.geometry.map_coords_in_place(|c| match crs.to_wgs84(c.x, c.y) {
            Ok((x, y)) => geo::Coord { x, y },
            Err(_) => {
                if failed.get().is_none() {
                    failed.set(Some((c.x, c.y)));
                }
                c
            }
        });
        let why =
            failed.take().map(|(x, y)| format!("position ({x}, {y}) is outside the area of {}; left out", crs.label()));
        (f, why)
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let results: Vec<(Feature, Option<String>)> = if features.len() < 5_000 || threads < 2 {
        features.into_iter().map(convert_one).collect()
    } else {
        let per = features.len().div_ceil(threads);
        let mut chunks: Vec<Vec<Feature>> = Vec::new();
        let mut it = features.into_iter().peekable();
        while it.peek().is_some() {
            chunks.push(it.by_ref().take(per).collect());
        }
        std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|c| scope.spawn(move || c.into_iter().map(convert_one).collect::<Vec<_>>()))
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
        })
    };
    let mut out = Vec::with_capacity(results.len());
    for (i, (f, why)) in results.into_iter().enumerate() {
        match why {
            None => out.push(f),
            Some(message) => {
                let id = (!f.id.is_empty()).then(|| f.id.clone());
                diags.push(Diagnostic::error(path, Position::Feature(i, id), message));
            }
        }
    }
    out
}

/// A feature from a planner's attributes: the atlas's own fields stay empty (its `name` is
/// found by the layer's name field), every attribute is kept as it was.
pub fn feature(geometry: Geometry<f64>, attributes: Map<String, Value>) -> Feature {
    Feature {
        id: String::new(),
        name_zh_hant: String::new(),
        name_zh_hans: String::new(),
        name_en: String::new(),
        kind: String::new(),
        accuracy: Accuracy::Unstated,
        source: String::new(),
        extra: attributes,
        geometry,
    }
}

/// The layer id a file gives: its stem.
pub fn stem(path: &Path) -> String {
    path.file_stem().and_then(|s| s.to_str()).unwrap_or("layer").to_string()
}

#[cfg(test)]
mod tests;
