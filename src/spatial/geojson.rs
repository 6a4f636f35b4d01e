//! Reading GeoJSON into a [`Layer`]: typed positions parsed straight into floats, features in
//! parallel for large files, every problem a [`Diagnostic`] with its feature or line and column,
//! a legacy CRS applied on the way in. A user's layer needs none of the atlas's own attributes;
//! the atlas's data is read against that schema (`ReadOptions::strict_schema`).

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use geo::Geometry;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::geodata::{Accuracy, Feature, Layer, check_geometry};
use crate::diagnostic::{Diagnostic, Diagnostics, Position, Severity, json_message};
use crate::proj::Crs;

/// A file could not be read as a layer at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 { path: PathBuf, offset: usize },
    #[error("{path}:{line}:{column}: invalid JSON: {message}")]
    Json { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}: not a GeoJSON FeatureCollection or Feature: {message}")]
    NotGeoJson { path: PathBuf, message: String },
}

impl LoadError {
    pub fn to_diagnostic(&self) -> Diagnostic {
        let (path, position) = match self {
            LoadError::Io { path, .. } | LoadError::NotUtf8 { path, .. } => (path, Position::File),
            LoadError::NotGeoJson { path, .. } => (path, Position::File),
            LoadError::Json { path, line, column, .. } => (path, Position::LineColumn(*line, *column)),
        };
        let full = self.to_string();
        let prefix_len = full.find(": ").map(|i| i + 2).unwrap_or(0);
        let message = match self {
            LoadError::Json { message, .. } => format!("invalid JSON: {message}"),
            _ => full[prefix_len..].to_string(),
        };
        Diagnostic::error(path.clone(), position, message)
    }
}

/// Options for reading a source file that may not follow the atlas schema yet.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    pub crs: Crs,
    /// Require the atlas attributes (id, three names, kind, accuracy, source).
    pub strict_schema: bool,
    /// Run the full topology check (self-intersections, ring validity). It is quadratic in the
    /// worst case, so `port-atlas check` and the tests run it while the app's loading skips it
    /// (lyon tessellates invalid rings with the even-odd rule anyway).
    pub topology: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self { crs: Crs::Wgs84, strict_schema: true, topology: true }
    }
}

/// Reads a GeoJSON file into a layer; features that cannot be used are left out and reported.
pub fn load_layer(path: &Path) -> Result<(Layer, Vec<Diagnostic>), LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io { path: path.to_path_buf(), source })?;
    parse_layer(path, &bytes, ReadOptions::default())
}

/// Parses GeoJSON bytes as if read from `path` (the path only names the layer and the errors).
pub fn parse_layer(path: &Path, bytes: &[u8], opts: ReadOptions) -> Result<(Layer, Vec<Diagnostic>), LoadError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| LoadError::NotUtf8 { path: path.to_path_buf(), offset: e.valid_up_to() })?;
    let json_err = |e: serde_json::Error| LoadError::Json {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: json_message(&e),
    };
    // Features stay raw JSON slices until each is parsed on its own: no document-wide value tree
    // (a tenth of the memory), and a broken feature costs only itself.
    match text.trim_start().chars().next() {
        Some('{') => {}
        Some(c) => {
            let kind = match c {
                '[' => "array",
                '"' => "string",
                't' | 'f' => "boolean",
                'n' => "null",
                _ => "number",
            };
            // Still report syntax errors with their position first.
            serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(json_err)?;
            return Err(LoadError::NotGeoJson {
                path: path.to_path_buf(),
                message: format!("top level is a JSON {kind}, not an object"),
            });
        }
        None => {
            return Err(LoadError::NotGeoJson { path: path.to_path_buf(), message: "the file is empty".into() });
        }
    }
    #[derive(Deserialize)]
    struct Top<'a> {
        #[serde(rename = "type")]
        ty: Option<String>,
        #[serde(borrow)]
        features: Option<Vec<&'a RawValue>>,
    }
    let top: Top = serde_json::from_str(text).map_err(json_err)?;
    let features_json: Vec<&RawValue> = match top.ty.as_deref() {
        Some("FeatureCollection") => match top.features {
            Some(f) => f,
            None => {
                return Err(LoadError::NotGeoJson {
                    path: path.to_path_buf(),
                    message: "FeatureCollection has no \"features\" array".into(),
                });
            }
        },
        Some("Feature") => vec![serde_json::from_str::<&RawValue>(text).map_err(json_err)?],
        Some(t) => {
            return Err(LoadError::NotGeoJson {
                path: path.to_path_buf(),
                message: format!("top-level type is {t:?}; expected FeatureCollection or Feature"),
            });
        }
        None => {
            return Err(LoadError::NotGeoJson {
                path: path.to_path_buf(),
                message: "top-level object has no \"type\"".into(),
            });
        }
    };
    let id = path.file_stem().and_then(|s| s.to_str()).unwrap_or("layer").to_string();
    let mut diags = Diagnostics::new();
    let mut features = Vec::with_capacity(features_json.len());
    let mut seen = HashSet::new();
    // Features parse independently, so large files use every core; merging stays in order.
    let parse_all = |part: &[&RawValue]| -> Vec<(FeatureResult, Vec<String>)> {
        part.iter()
            .map(|fv| {
                let r = feature_from_json(fv, opts);
                let problems = r.as_ref().map(|(f, _)| check_geometry(&f.geometry, opts.topology)).unwrap_or_default();
                (r, problems)
            })
            .collect()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let results: Vec<(FeatureResult, Vec<String>)> = if features_json.len() < 20_000 || threads < 2 {
        parse_all(&features_json)
    } else {
        let per = features_json.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = features_json.chunks(per).map(|part| scope.spawn(move || parse_all(part))).collect();
            handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
        })
    };
    for (i, (result, problems)) in results.into_iter().enumerate() {
        match result {
            Ok((f, warnings)) => {
                let pos = Position::Feature(i, Some(f.id.clone()));
                let severity = if opts.strict_schema { Severity::Error } else { Severity::Warning };
                for w in warnings {
                    diags.push(Diagnostic::new(severity, path, pos.clone(), w));
                }
                for problem in problems {
                    diags.push(Diagnostic::error(path, pos.clone(), problem));
                }
                if !f.id.is_empty() && !seen.insert(f.id.clone()) {
                    diags.push(Diagnostic::error(path, pos, format!("duplicate id {:?}", f.id)));
                    continue;
                }
                features.push(f);
            }
            Err((fid, message)) => {
                diags.push(Diagnostic::error(path, Position::Feature(i, fid), message));
            }
        }
    }
    Ok((Layer::new(id, path, features), diags.into_vec()))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

type FeatureResult = Result<(Feature, Vec<String>), (Option<String>, String)>;

/// A GeoJSON position: two numbers (a third, elevation, is read and dropped).
struct Pos(f64, f64);

impl<'de> Deserialize<'de> for Pos {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Pos;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a position [longitude, latitude]")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Pos, A::Error> {
                let x: f64 = seq.next_element()?.ok_or_else(|| serde::de::Error::invalid_length(0, &self))?;
                let y: f64 = seq.next_element()?.ok_or_else(|| serde::de::Error::invalid_length(1, &self))?;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Pos(x, y))
            }
        }
        d.deserialize_seq(V)
    }
}

/// GeoJSON geometries, typed: positions parse straight into floats.
#[derive(Deserialize)]
#[serde(tag = "type")]
enum RawGeometry {
    Point { coordinates: Pos },
    MultiPoint { coordinates: Vec<Pos> },
    LineString { coordinates: Vec<Pos> },
    MultiLineString { coordinates: Vec<Vec<Pos>> },
    Polygon { coordinates: Vec<Vec<Pos>> },
    MultiPolygon { coordinates: Vec<Vec<Vec<Pos>>> },
    GeometryCollection { geometries: Vec<RawGeometry> },
}

fn line(v: Vec<Pos>) -> geo::LineString<f64> {
    geo::LineString(v.into_iter().map(|Pos(x, y)| geo::Coord { x, y }).collect())
}

fn polygon(mut rings: Vec<Vec<Pos>>) -> geo::Polygon<f64> {
    if rings.is_empty() {
        return geo::Polygon::new(geo::LineString(vec![]), vec![]);
    }
    let exterior = line(rings.remove(0));
    geo::Polygon::new(exterior, rings.into_iter().map(line).collect())
}

impl RawGeometry {
    fn into_geo(self) -> Geometry<f64> {
        match self {
            RawGeometry::Point { coordinates: Pos(x, y) } => Geometry::Point(geo::Point::new(x, y)),
            RawGeometry::MultiPoint { coordinates } => Geometry::MultiPoint(geo::MultiPoint(
                coordinates.into_iter().map(|Pos(x, y)| geo::Point::new(x, y)).collect(),
            )),
            RawGeometry::LineString { coordinates } => Geometry::LineString(line(coordinates)),
            RawGeometry::MultiLineString { coordinates } => {
                Geometry::MultiLineString(geo::MultiLineString(coordinates.into_iter().map(line).collect()))
            }
            RawGeometry::Polygon { coordinates } => Geometry::Polygon(polygon(coordinates)),
            RawGeometry::MultiPolygon { coordinates } => {
                Geometry::MultiPolygon(geo::MultiPolygon(coordinates.into_iter().map(polygon).collect()))
            }
            RawGeometry::GeometryCollection { geometries } => Geometry::GeometryCollection(geo::GeometryCollection(
                geometries.into_iter().map(Self::into_geo).collect(),
            )),
        }
    }
}

/// Builds a feature from one GeoJSON feature (raw JSON); schema gaps come back as warnings.
fn feature_from_json(raw: &RawValue, opts: ReadOptions) -> FeatureResult {
    #[derive(Deserialize)]
    struct RawFeature<'a> {
        #[serde(rename = "type")]
        ty: Option<String>,
        id: Option<Value>,
        properties: Option<Value>,
        #[serde(borrow)]
        geometry: Option<&'a RawValue>,
    }
    let f: RawFeature = serde_json::from_str(raw.get())
        .map_err(|e| (None, format!("not a GeoJSON Feature object: {}", json_message(&e))))?;
    let mut props = match f.properties {
        Some(Value::Object(p)) => p,
        Some(Value::Null) | None => Map::new(),
        Some(other) => return Err((None, format!("\"properties\" must be an object, found {}", json_kind(&other)))),
    };
    let as_id = |v: Option<Value>| match v {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let id = as_id(props.remove("id")).or(as_id(f.id));
    if f.ty.as_deref() != Some("Feature") {
        return Err((id, "object is not a GeoJSON Feature (\"type\" must be \"Feature\")".into()));
    }
    let geometry_json = match f.geometry {
        Some(g) if g.get() != "null" => g,
        _ => return Err((id, "feature has no geometry".into())),
    };
    let raw_geometry: RawGeometry = serde_json::from_str(geometry_json.get())
        .map_err(|e| (id.clone(), format!("geometry: {}", json_message(&e))))?;
    let mut geometry = raw_geometry.into_geo();
    if opts.crs != Crs::Wgs84 {
        use geo::MapCoordsInPlace;
        geometry.map_coords_in_place(|c| {
            let (x, y) = opts.crs.to_wgs84(c.x, c.y);
            geo::Coord { x, y }
        });
    }
    let mut warnings = Vec::new();
    let mut take_str = |key: &str, warnings: &mut Vec<String>| -> String {
        match props.remove(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => s,
            Some(Value::String(_)) => {
                if opts.strict_schema {
                    warnings.push(format!("{key} is empty"));
                }
                String::new()
            }
            Some(other) => {
                warnings.push(format!("{key} must be a string, found {}", json_kind(&other)));
                String::new()
            }
            // A planner's layer rarely has the atlas's own attributes; their absence is only a
            // problem where the atlas schema is required (the built-in data, `check`).
            None => {
                if opts.strict_schema {
                    warnings.push(format!("missing {key}"));
                }
                String::new()
            }
        }
    };
    let name_zh_hant = take_str("name_zh_hant", &mut warnings);
    let name_zh_hans = take_str("name_zh_hans", &mut warnings);
    let name_en = take_str("name_en", &mut warnings);
    let kind = take_str("kind", &mut warnings);
    let source = take_str("source", &mut warnings);
    let accuracy = match props.remove("accuracy") {
        Some(v) => Accuracy::from_json(&v).unwrap_or_else(|e| {
            warnings.push(e);
            Accuracy::Schematic
        }),
        None => {
            if opts.strict_schema {
                warnings.push("missing accuracy (metres or \"schematic\")".into());
            }
            Accuracy::Schematic
        }
    };
    let id = match id {
        Some(id) if !id.trim().is_empty() => id,
        _ => {
            if opts.strict_schema {
                warnings.push("missing id".into());
            }
            String::new()
        }
    };
    Ok((Feature { id, name_zh_hant, name_zh_hans, name_en, kind, accuracy, source, extra: props, geometry }, warnings))
}
