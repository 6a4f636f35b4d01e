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

use super::crs::ProjectedCrs;
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

/// The EPSG code a legacy GeoJSON `crs` member names (`{"type":"name","properties":{"name":
/// "urn:ogc:def:crs:EPSG::4549"}}`, or `EPSG:4549`), 4326 for CRS84, or the name when it is
/// neither; `None` when there is no name at all.
fn declared_epsg(crs: &Value) -> Option<Result<u32, String>> {
    let name = crs.pointer("/properties/name").or_else(|| crs.pointer("/properties/code"))?;
    let name = match name {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let upper = name.to_ascii_uppercase();
    if upper.ends_with("CRS84") || upper.ends_with("CRS:84") {
        return Some(Ok(4326));
    }
    let code = upper
        .contains("EPSG")
        .then(|| upper.rsplit(|c: char| !c.is_ascii_digit()).next().and_then(|d| d.parse::<u32>().ok()))
        .flatten()
        .or_else(|| upper.parse::<u32>().ok());
    Some(code.ok_or(name))
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
        /// The legacy (2008) member QGIS and GDAL still write for projected data.
        crs: Option<Value>,
        /// Where `port-atlas import` read the data from.
        port_atlas_provenance: Option<Value>,
    }
    let top: Top = serde_json::from_str(text).map_err(json_err)?;
    let projected = match top.crs.as_ref().and_then(declared_epsg) {
        Some(Ok(code)) if code != 4326 => Some(ProjectedCrs::from_epsg(code).map_err(|e| LoadError::NotGeoJson {
            path: path.to_path_buf(),
            message: format!("its \"crs\" member names a coordinate system that cannot be read: {e}"),
        })?),
        Some(Err(name)) => {
            return Err(LoadError::NotGeoJson {
                path: path.to_path_buf(),
                message: format!("its \"crs\" member {name:?} is not an EPSG code or CRS84"),
            });
        }
        _ => None,
    };
    let projected = projected.as_ref();
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
                let r = feature_from_json(fv, opts, projected);
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
    let mut layer = Layer::new(id, path, features);
    layer.provenance = top.port_atlas_provenance.as_ref().and_then(crate::geodata::Provenance::from_json);
    Ok((layer, diags.into_vec()))
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
fn feature_from_json(raw: &RawValue, opts: ReadOptions, projected: Option<&ProjectedCrs>) -> FeatureResult {
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
    if let Some(crs) = projected {
        use geo::MapCoordsInPlace;
        // geo's fallible variant recurses without bound on geometry collections; the first
        // failure is kept instead.
        let failed = std::cell::Cell::new(None);
        geometry.map_coords_in_place(|c| match crs.to_wgs84(c.x, c.y) {
            Ok((x, y)) => geo::Coord { x, y },
            Err(e) => {
                failed.set(Some(e));
                c
            }
        });
        if let Some(e) = failed.take() {
            return Err((id, format!("coordinates cannot be converted from {}: {e}", crs.name())));
        }
    }
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
                Accuracy::Schematic
            } else {
                Accuracy::Unstated
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A layer as QGIS writes projected GeoJSON: a legacy `crs` member and metres.
    fn projected(crs: &str, x: f64, y: f64) -> String {
        format!(
            r#"{{"type":"FeatureCollection","crs":{crs},"features":[
              {{"type":"Feature","properties":{{"name":"太仓"}},"geometry":{{"type":"Point","coordinates":[{x},{y}]}}}},
              {{"type":"Feature","properties":{{"name":"地块"}},"geometry":{{"type":"Polygon","coordinates":[[[{x},{y}],[{},{y}],[{},{}],[{x},{y}]]]}}}}]}}"#,
            x + 100.0,
            x + 100.0,
            y + 100.0
        )
    }

    fn user() -> ReadOptions {
        ReadOptions { strict_schema: false, topology: true, ..Default::default() }
    }

    #[test]
    fn a_legacy_crs_member_is_read_in_that_crs() {
        // pyproj: EPSG:4549 (CGCS2000 3-degree GK CM 120E) of 121.174 E, 31.564 N.
        let (x, y) = (611460.2362619863, 3494105.234597599);
        for crs in [
            r#"{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4549"}}"#,
            r#"{"type":"name","properties":{"name":"EPSG:4549"}}"#,
        ] {
            let (layer, diags) = parse_layer(Path::new("gk.geojson"), projected(crs, x, y).as_bytes(), user()).unwrap();
            assert!(diags.is_empty(), "{diags:?}");
            let Geometry::Point(p) = layer.features[0].geometry else { panic!("a point") };
            assert!((p.x() - 121.174).abs() < 1e-7 && (p.y() - 31.564).abs() < 1e-7, "{p:?}");
        }
        // With the zone number in front of the easting (EPSG:4528, zone 40).
        let (layer, _) = parse_layer(
            Path::new("gk40.geojson"),
            projected(r#"{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4528"}}"#, x + 40_000_000.0, y)
                .as_bytes(),
            user(),
        )
        .unwrap();
        let Geometry::Point(p) = layer.features[0].geometry else { panic!("a point") };
        assert!((p.x() - 121.174).abs() < 1e-7 && (p.y() - 31.564).abs() < 1e-7, "{p:?}");
        // CRS84 is plain lon/lat.
        let crs84 = r#"{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}}"#;
        let (layer, _) =
            parse_layer(Path::new("ll.geojson"), projected(crs84, 121.0, 31.0).as_bytes(), user()).unwrap();
        let Geometry::Point(p) = layer.features[0].geometry else { panic!("a point") };
        assert_eq!((p.x(), p.y()), (121.0, 31.0));
    }

    #[test]
    fn an_unknown_or_unreadable_crs_member_is_a_clear_error_naming_the_file() {
        let e = parse_layer(
            Path::new("xian80.geojson"),
            projected(r#"{"type":"name","properties":{"name":"EPSG:2383"}}"#, 1.0, 2.0).as_bytes(),
            user(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("xian80.geojson: ") && e.contains("EPSG:2383"), "{e}");
        let e = parse_layer(
            Path::new("odd.geojson"),
            projected(r#"{"type":"name","properties":{"name":"my local grid"}}"#, 1.0, 2.0).as_bytes(),
            user(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("\"my local grid\" is not an EPSG code"), "{e}");
    }
}
