//! Geodata layers: loading GeoJSON into f64 features, validating them, and writing them back.
//!
//! Loading is forgiving and validation is strict: a file with one broken feature still yields the
//! others, and every problem comes back as a [`Diagnostic`] naming the file and the position.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use geo::{BoundingRect, Geometry, Rect};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::proj::Crs;

/// The bounding box every built-in layer must fit in: Jiangsu, Shanghai and the Yangtze estuary.
pub const REGION: [f64; 4] = [116.0, 30.5, 122.6, 35.3];

/// How well a feature's position is known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Accuracy {
    /// Surveyed or published, within this many metres.
    Metres(f64),
    /// Placed to show the idea, not the position: drawn hatched, never as if surveyed.
    Schematic,
}

impl Accuracy {
    pub fn is_schematic(self) -> bool {
        matches!(self, Accuracy::Schematic)
    }

    fn from_json(v: &Value) -> Result<Self, String> {
        match v {
            Value::Number(n) => match n.as_f64() {
                Some(m) if m.is_finite() && m >= 0.0 => Ok(Accuracy::Metres(m)),
                _ => Err(format!("accuracy must be metres >= 0, got {n}")),
            },
            Value::String(s) if s == "schematic" => Ok(Accuracy::Schematic),
            other => Err(format!("accuracy must be metres or \"schematic\", got {other}")),
        }
    }

    pub fn to_json(self) -> Value {
        match self {
            Accuracy::Metres(m) => serde_json::json!(m),
            Accuracy::Schematic => Value::String("schematic".into()),
        }
    }
}

impl fmt::Display for Accuracy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Accuracy::Metres(m) => write!(f, "±{m:.0} m"),
            Accuracy::Schematic => f.write_str("schematic"),
        }
    }
}

/// One place on the map, in WGS84 lon/lat, with the attributes every atlas feature carries.
#[derive(Debug, Clone)]
pub struct Feature {
    pub id: String,
    pub name_zh_hant: String,
    pub name_zh_hans: String,
    pub name_en: String,
    pub kind: String,
    pub accuracy: Accuracy,
    pub source: String,
    /// Every other property, kept so exports and the place panel show them unchanged.
    pub extra: Map<String, Value>,
    pub geometry: Geometry<f64>,
}

impl Feature {
    pub fn bounds(&self) -> Option<Rect<f64>> {
        self.geometry.bounding_rect()
    }

    /// The feature's properties as GeoJSON, standard keys first.
    pub fn properties(&self) -> Map<String, Value> {
        let mut m = Map::new();
        // Empty strings are what a schema-less import leaves; writing them would claim the
        // attribute exists.
        for (k, v) in [
            ("id", &self.id),
            ("name_zh_hant", &self.name_zh_hant),
            ("name_zh_hans", &self.name_zh_hans),
            ("name_en", &self.name_en),
            ("kind", &self.kind),
        ] {
            if !v.is_empty() {
                m.insert(k.into(), Value::String(v.clone()));
            }
        }
        m.insert("accuracy".into(), self.accuracy.to_json());
        if !self.source.is_empty() {
            m.insert("source".into(), Value::String(self.source.clone()));
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }

    pub fn to_geojson(&self) -> geojson::Feature {
        geojson::Feature {
            bbox: None,
            geometry: Some(geojson::Geometry::new(geojson::Value::from(&self.geometry))),
            id: Some(geojson::feature::Id::String(self.id.clone())),
            properties: Some(self.properties()),
            foreign_members: None,
        }
    }
}

/// A named set of features loaded from one file.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The file stem, e.g. `ports` for `ports.geojson`.
    pub id: String,
    pub path: PathBuf,
    pub features: Vec<Feature>,
}

impl Layer {
    pub fn bounds(&self) -> Option<Rect<f64>> {
        union_bounds(self.features.iter().filter_map(Feature::bounds))
    }

    /// RFC 7946 FeatureCollection text, written from the f64 source data.
    pub fn to_geojson_string(&self) -> String {
        let fc = geojson::FeatureCollection {
            bbox: None,
            features: self.features.iter().map(Feature::to_geojson).collect(),
            foreign_members: None,
        };
        let mut s = fc.to_string();
        s.push('\n');
        s
    }
}

/// The smallest rectangle covering all of `rects`, or `None` for none.
pub fn union_bounds(rects: impl IntoIterator<Item = Rect<f64>>) -> Option<Rect<f64>> {
    rects.into_iter().reduce(|a, b| {
        Rect::new(
            (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
            (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
        )
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// Where in a file a problem is.
#[derive(Debug, Clone, PartialEq)]
pub enum Position {
    File,
    /// 1-based line and column of a JSON syntax error.
    LineColumn(usize, usize),
    /// 0-based index of a feature in the collection, and its id when it has one.
    Feature(usize, Option<String>),
}

/// One problem found in a file, with enough context to find and fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    pub position: Position,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{sev}: {}", self.file.display())?;
        match &self.position {
            Position::File => {}
            Position::LineColumn(l, c) => write!(f, ":{l}:{c}")?,
            Position::Feature(i, Some(id)) => write!(f, ": feature #{i} (id {id:?})")?,
            Position::Feature(i, None) => write!(f, ": feature #{i}")?,
        }
        write!(f, ": {}", self.message)
    }
}

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
        Diagnostic { severity: Severity::Error, file: path.clone(), position, message }
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
        message: e.to_string().split(" at line").next().unwrap_or_default().to_string(),
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
    let mut diags = Vec::new();
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
                for w in warnings {
                    diags.push(Diagnostic {
                        severity: if opts.strict_schema { Severity::Error } else { Severity::Warning },
                        file: path.to_path_buf(),
                        position: pos.clone(),
                        message: w,
                    });
                }
                for problem in problems {
                    diags.push(Diagnostic {
                        severity: Severity::Error,
                        file: path.to_path_buf(),
                        position: pos.clone(),
                        message: problem,
                    });
                }
                if !f.id.is_empty() && !seen.insert(f.id.clone()) {
                    diags.push(Diagnostic {
                        severity: Severity::Error,
                        file: path.to_path_buf(),
                        position: pos,
                        message: format!("duplicate id {:?}", f.id),
                    });
                    continue;
                }
                features.push(f);
            }
            Err((fid, message)) => diags.push(Diagnostic {
                severity: Severity::Error,
                file: path.to_path_buf(),
                position: Position::Feature(i, fid),
                message,
            }),
        }
    }
    Ok((Layer { id, path: path.to_path_buf(), features }, diags))
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
    let f: RawFeature = serde_json::from_str(raw.get()).map_err(|e| {
        let msg = e.to_string();
        let msg = msg.split(" at line").next().unwrap_or_default();
        (None, format!("not a GeoJSON Feature object: {msg}"))
    })?;
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
    let raw_geometry: RawGeometry = serde_json::from_str(geometry_json.get()).map_err(|e| {
        let msg = e.to_string();
        (id.clone(), format!("geometry: {}", msg.split(" at line").next().unwrap_or_default()))
    })?;
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
                warnings.push(format!("{key} is empty"));
                String::new()
            }
            Some(other) => {
                warnings.push(format!("{key} must be a string, found {}", json_kind(&other)));
                String::new()
            }
            None => {
                warnings.push(format!("missing {key}"));
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
            warnings.push("missing accuracy (metres or \"schematic\")".into());
            Accuracy::Schematic
        }
    };
    let id = match id {
        Some(id) if !id.trim().is_empty() => id,
        _ => {
            warnings.push("missing id".into());
            String::new()
        }
    };
    Ok((Feature { id, name_zh_hant, name_zh_hans, name_en, kind, accuracy, source, extra: props, geometry }, warnings))
}

/// Geometry problems a planner would want to know about before trusting a layer.
pub fn check_geometry(g: &Geometry<f64>, topology: bool) -> Vec<String> {
    use geo::CoordsIter;
    let mut problems = Vec::new();
    if g.coords_count() == 0 {
        problems.push("empty geometry".to_string());
        return problems;
    }
    let mut bad_coord = None;
    for c in g.coords_iter() {
        if !c.x.is_finite() || !c.y.is_finite() || !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y) {
            bad_coord = Some(c);
            break;
        }
    }
    if let Some(c) = bad_coord {
        problems.push(format!(
            "coordinate ({}, {}) is outside lon/lat range (is the file projected, or lat/lon swapped?)",
            c.x, c.y
        ));
        return problems;
    }
    match g {
        Geometry::Polygon(_) | Geometry::MultiPolygon(_) if topology => {
            use geo::Validation;
            if let Err(e) = g.check_validation() {
                problems.push(format!("invalid geometry: {e}"));
            }
        }
        Geometry::LineString(ls) if ls.0.len() < 2 => problems.push("line with fewer than 2 points".into()),
        _ => {}
    }
    problems
}

/// Region check for the built-in atlas: true if `r` lies inside [`REGION`].
pub fn in_region(r: &Rect<f64>) -> bool {
    r.min().x >= REGION[0] && r.min().y >= REGION[1] && r.max().x <= REGION[2] && r.max().y <= REGION[3]
}

/// Writes `contents` to `path` by writing a sibling temp file and renaming it over, so a crash
/// mid-write never leaves a half-written file where the user's data was.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Per-layer display metadata from `layers.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayerMeta {
    pub id: String,
    pub title_zh_hant: String,
    pub title_zh_hans: String,
    pub title_en: String,
    /// Fill or line colour, `#rrggbb`.
    pub color: String,
    /// Outline colour for polygons, `#rrggbb`.
    #[serde(default)]
    pub stroke: Option<String>,
    /// 0..1 fill opacity.
    #[serde(default = "default_opacity")]
    pub opacity: f32,
    /// Line width in screen pixels.
    #[serde(default = "default_width")]
    pub line_width: f32,
    #[serde(default = "default_true")]
    pub visible: bool,
    /// Whether features of this layer are names a report can mention (context polygons are).
    #[serde(default = "default_true")]
    pub labels: bool,
    /// Label priority: lower ranks claim screen space first.
    #[serde(default = "default_rank")]
    pub label_rank: u8,
    /// Part of the vector basemap (land, water): a raster basemap is drawn over it, so it shows
    /// only where tiles are missing (offline, failed), and under the thematic layers.
    #[serde(default)]
    pub basemap: bool,
}

fn default_rank() -> u8 {
    5
}

fn default_opacity() -> f32 {
    0.6
}
fn default_width() -> f32 {
    2.0
}
fn default_true() -> bool {
    true
}

impl LayerMeta {
    /// Styling for a user's layer that came without metadata: a colour picked from the name so
    /// the same file always gets the same colour.
    pub fn fallback(id: &str) -> Self {
        const PALETTE: [&str; 6] = ["#8e44ad", "#16a085", "#d35400", "#2c3e50", "#c0392b", "#7f8c8d"];
        let h = id.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
        LayerMeta {
            id: id.to_string(),
            title_zh_hant: id.to_string(),
            title_zh_hans: id.to_string(),
            title_en: id.to_string(),
            color: PALETTE[h as usize % PALETTE.len()].to_string(),
            stroke: None,
            opacity: default_opacity(),
            line_width: default_width(),
            visible: true,
            labels: true,
            label_rank: 1,
            basemap: false,
        }
    }

    /// The layer colour as linear-free sRGB bytes.
    pub fn rgb(&self) -> [u8; 3] {
        parse_hex_color(&self.color).unwrap_or([128, 128, 128])
    }

    pub fn stroke_rgb(&self) -> [u8; 3] {
        self.stroke.as_deref().and_then(parse_hex_color).unwrap_or_else(|| {
            let [r, g, b] = self.rgb();
            [r / 2 + 20, g / 2 + 20, b / 2 + 20]
        })
    }
}

/// Parses `#rrggbb`.
pub fn parse_hex_color(s: &str) -> Option<[u8; 3]> {
    let h = s.strip_prefix('#')?;
    if h.len() != 6 {
        return None;
    }
    let v = u32::from_str_radix(h, 16).ok()?;
    Some([(v >> 16) as u8, (v >> 8) as u8, v as u8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<(Layer, Vec<Diagnostic>), LoadError> {
        parse_layer(Path::new("test.geojson"), s.as_bytes(), ReadOptions::default())
    }

    const GOOD: &str = r#"{"type":"Feature","id":"x","properties":{"name_zh_hant":"太倉","name_zh_hans":"太仓","name_en":"Taicang","kind":"county","accuracy":100,"source":"t"},"geometry":{"type":"Point","coordinates":[121.1,31.5]}}"#;

    #[test]
    fn broken_json_names_line_and_column() {
        let err = parse("{\"type\":\"FeatureCollection\",\n \"features\": [}").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("test.geojson:2:"), "{msg}");
        assert!(matches!(err, LoadError::Json { line: 2, .. }));
    }

    #[test]
    fn not_utf8_is_reported_with_offset() {
        let err = parse_layer(Path::new("x.geojson"), b"{\"a\":\"\xff\"}", ReadOptions::default()).unwrap_err();
        assert!(matches!(err, LoadError::NotUtf8 { offset: 6, .. }), "{err}");
    }

    #[test]
    fn one_bad_feature_does_not_lose_the_others() {
        let text = format!(
            r#"{{"type":"FeatureCollection","features":[{GOOD},{{"type":"Feature","properties":{{}},"geometry":{{"type":"Polygon","coordinates":[1,2]}}}},{{"type":"Feature","geometry":null}}]}}"#
        );
        let (layer, diags) = parse(&text).unwrap();
        assert_eq!(layer.features.len(), 1);
        assert_eq!(diags.len(), 2, "{diags:#?}");
        assert!(diags.iter().any(|d| d.position == Position::Feature(1, None) && d.message.contains("geometry")));
        assert!(diags.iter().any(|d| d.to_string().contains("feature #2") && d.message.contains("no geometry")));
    }

    #[test]
    fn wrong_top_level_type_is_a_clear_error() {
        let err = parse(r#"{"type":"Point","coordinates":[1,2]}"#).unwrap_err();
        assert!(err.to_string().contains("expected FeatureCollection"), "{err}");
        let err = parse("[1,2]").unwrap_err();
        assert!(err.to_string().contains("JSON array"), "{err}");
    }

    #[test]
    fn schema_problems_out_of_range_and_duplicates_are_reported() {
        let bad_range = GOOD.replace("[121.1,31.5]", "[3512345.0,31.5]");
        let no_names = GOOD.replace(r#""name_en":"Taicang","#, "");
        let text = format!(r#"{{"type":"FeatureCollection","features":[{GOOD},{GOOD},{bad_range},{no_names}]}}"#);
        let (_, diags) = parse(&text).unwrap();
        let all: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        assert!(all.iter().any(|d| d.contains("duplicate id")), "{all:#?}");
        assert!(all.iter().any(|d| d.contains("outside lon/lat range")), "{all:#?}");
        assert!(all.iter().any(|d| d.contains("missing name_en")), "{all:#?}");
    }

    #[test]
    fn self_intersecting_polygon_is_invalid() {
        let bowtie = r#"{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}"#;
        let gj: geojson::Geometry = bowtie.parse().unwrap();
        let g: Geometry<f64> = gj.try_into().unwrap();
        assert!(check_geometry(&g, true).iter().any(|p| p.contains("invalid")));
        assert!(check_geometry(&g, false).is_empty());
    }

    #[test]
    fn round_trip_keeps_attributes() {
        let (layer, diags) = parse(GOOD).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        let s = layer.to_geojson_string();
        let (again, _) = parse(&s).unwrap();
        assert_eq!(again.features[0].name_zh_hant, "太倉");
        assert_eq!(again.features[0].accuracy, Accuracy::Metres(100.0));
    }

    #[test]
    fn write_atomic_replaces_whole_file() {
        let dir = std::env::temp_dir().join(format!("pa-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temp file left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
