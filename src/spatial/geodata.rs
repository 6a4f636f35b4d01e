//! Geodata layers: f64 features and layers with their styles, geometry validation, and atomic
//! writes. Reading GeoJSON is in [`super::geojson`] (re-exported here).
//!
//! Loading is forgiving and validation is strict: a file with one broken feature still yields the
//! others, and every problem comes back as a [`Diagnostic`] naming the file and the position.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use geo::{BoundingRect, Geometry, Rect};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use super::geojson::{LoadError, ReadOptions, load_layer, parse_layer};
pub use crate::diagnostic::{Diagnostic, Diagnostics, Position, Severity};

/// The bounding box every built-in layer must fit in: Jiangsu, Shanghai and the Yangtze estuary.
pub const REGION: [f64; 4] = [116.0, 30.5, 122.6, 35.3];

/// How well a feature's position is known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Accuracy {
    /// Surveyed or published, within this many metres.
    Metres(f64),
    /// Placed to show the idea, not the position: drawn hatched, never as if surveyed.
    Schematic,
    /// The file does not say (a planner's Shapefile): drawn as given, neither claimed as
    /// surveyed nor hatched as an idea, and written back without an accuracy.
    Unstated,
}

impl Accuracy {
    pub fn is_schematic(self) -> bool {
        matches!(self, Accuracy::Schematic)
    }

    pub(crate) fn from_json(v: &Value) -> Result<Self, String> {
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
            Accuracy::Unstated => Value::Null,
        }
    }
}

impl fmt::Display for Accuracy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Accuracy::Metres(m) => write!(f, "±{m:.0} m"),
            Accuracy::Schematic => f.write_str("schematic"),
            Accuracy::Unstated => f.write_str("not stated in the file"),
        }
    }
}

/// One place on the map, in WGS84 lon/lat, with the attributes every atlas feature carries.
#[derive(Debug, Clone, PartialEq)]
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
        if self.accuracy != Accuracy::Unstated {
            m.insert("accuracy".into(), self.accuracy.to_json());
        }
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
            id: (!self.id.is_empty()).then(|| geojson::feature::Id::String(self.id.clone())),
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
    /// How the layer is drawn and exported: from the manifest for the atlas's own layers, a
    /// colour picked from the name for a user's layer.
    pub meta: LayerMeta,
    /// Where an imported layer came from and how it was read; `None` for GeoJSON in WGS84.
    pub provenance: Option<Provenance>,
}

/// How a layer was read: shown in the place panel and carried into exports, so a position can
/// be traced back to the planner's file and the conversion it went through.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Provenance {
    pub file: PathBuf,
    /// "Shapefile", "GeoPackage table roads", "KML", "CSV", ...
    pub format: String,
    /// The source coordinate system, e.g. "EPSG:4549 CGCS2000 / 3-degree Gauss-Kruger CM 120E".
    pub crs: String,
    /// How that system was decided: ".prj", "gpkg_spatial_ref_sys", "--from-crs", ...
    pub crs_from: String,
    /// Attribute text encoding and how it was decided, e.g. "GB18030 (DBF language driver 0x4D)".
    pub encoding: Option<String>,
    /// Anything the reading changed or could not keep (Z values dropped, datum-shift accuracy).
    pub notes: Vec<String>,
}

impl Provenance {
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "file": self.file.display().to_string(), "format": self.format, "crs": self.crs,
            "crs_from": self.crs_from, "encoding": self.encoding, "notes": self.notes,
        })
    }

    /// Reads what [`Provenance::to_json`] wrote; `None` if it is not that.
    pub fn from_json(v: &Value) -> Option<Self> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        Some(Provenance {
            file: PathBuf::from(s("file")?),
            format: s("format")?,
            crs: s("crs")?,
            crs_from: s("crs_from").unwrap_or_default(),
            encoding: s("encoding"),
            notes: v
                .get("notes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|n| n.as_str().map(String::from)).collect())
                .unwrap_or_default(),
        })
    }

    /// One line for the place panel and exports.
    pub fn summary(&self) -> String {
        let mut s = format!("{} from {}, {} ({})", self.format, self.file.display(), self.crs, self.crs_from);
        if let Some(e) = &self.encoding {
            s.push_str(&format!(", text {e}"));
        }
        for n in &self.notes {
            s.push_str("; ");
            s.push_str(n);
        }
        s
    }
}

impl Layer {
    /// A layer with the fallback style for its id.
    pub fn new(id: impl Into<String>, path: impl Into<PathBuf>, features: Vec<Feature>) -> Self {
        let id = id.into();
        let meta = LayerMeta::fallback(&id);
        Layer { id, path: path.into(), features, meta, provenance: None }
    }

    pub fn bounds(&self) -> Option<Rect<f64>> {
        union_bounds(self.features.iter().filter_map(Feature::bounds))
    }

    /// The attribute that most likely names the features: the first of the usual names
    /// (`name`, `NAME`, `名称`, `MC` ...) that at least half the features have as text.
    pub fn guess_name_field(&self) -> Option<String> {
        const CANDIDATES: [&str; 24] = [
            "name",
            "名称",
            "名稱",
            "mc",
            "name_zh",
            "name_cn",
            "cname",
            "title",
            "标题",
            "项目名称",
            "企业名称",
            "地块名称",
            "单位名称",
            "xmmc",
            "dkmc",
            "qymc",
            "dwmc",
            "zdmc",
            "poi_name",
            "label",
            "地名",
            "名字",
            "站点名称",
            "fullname",
        ];
        let keys = self.attribute_names();
        let half = self.features.len().div_ceil(2).max(1);
        CANDIDATES.iter().find_map(|c| {
            let key = keys.iter().find(|k| k.to_lowercase() == *c)?;
            let named = self
                .features
                .iter()
                .filter(|f| matches!(f.extra.get(key), Some(Value::String(s)) if !s.trim().is_empty()))
                .count();
            (named >= half).then(|| key.clone())
        })
    }

    /// Every attribute name of the features, in order of first appearance.
    pub fn attribute_names(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        // A layer's features share their fields; a sample finds them without a full scan.
        for f in self.features.iter().take(2000) {
            for k in f.extra.keys() {
                if seen.insert(k.clone()) {
                    out.push(k.clone());
                }
            }
        }
        out
    }

    /// Names the features from `field` (both scripts, since one string is all a planner's file
    /// has), or clears names set that way. Only for layers without the atlas's own names.
    pub fn apply_name_field(&mut self, field: Option<&str>) {
        for f in &mut self.features {
            let name = field.and_then(|k| attribute_text(f, k)).unwrap_or_default();
            f.name_zh_hant.clone_from(&name);
            f.name_zh_hans = name;
        }
        self.meta.name_field = field.map(String::from);
    }

    /// Whether the features carry the atlas's own names (then no name field applies).
    pub fn has_atlas_names(&self) -> bool {
        self.meta.name_field.is_none()
            && self
                .features
                .iter()
                .any(|f| !(f.name_zh_hant.is_empty() && f.name_zh_hans.is_empty() && f.name_en.is_empty()))
    }

    /// RFC 7946 FeatureCollection text, written from the f64 source data.
    pub fn to_geojson_string(&self) -> String {
        let fc = geojson::FeatureCollection {
            bbox: None,
            features: self.features.iter().map(Feature::to_geojson).collect(),
            // Where the data came from travels with it (read back by the GeoJSON reader).
            foreign_members: self.provenance.as_ref().map(|p| {
                let mut m = Map::new();
                m.insert("port_atlas_provenance".into(), p.to_json());
                m
            }),
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
    write_atomic_with(path, |w| w.write_all(contents))
}

/// [`write_atomic`] for a writer that produces the contents: if it fails part-way (or the
/// process dies), the temporary file is all that is lost and `path` keeps its previous contents.
/// The data is flushed to disk before the rename, so a crash cannot leave an empty file either.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = std::fs::File::create(&tmp).and_then(|mut f| {
        write(&mut f)?;
        f.sync_all()
    });
    result.and_then(|()| std::fs::rename(&tmp, path)).inspect_err(|_| {
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
    /// For a planner's layer: the attribute that names its features (`name`, `名称`, `MC`),
    /// so they label the map and join the gazetteer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_field: Option<String>,
    /// Colour by categories of an attribute instead of one colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categorized: Option<Categorized>,
    /// Where a layer that is not `ID.geojson` in the data folder is read from, and how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<LayerSource>,
}

/// A layer's file in any format `formats` reads, with the answers it needed: what `layers.json`
/// records so a saved data folder opens again without questions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LayerSource {
    /// Relative to the data folder, or absolute.
    pub file: String,
    /// The table, sheet, folder or zipped Shapefile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// `--from-crs` spelling, when the file does not say its system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crs: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// A table's x and y columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<(String, String)>,
}

/// A categorized style: a colour per value of one field, the rest in one "other" colour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Categorized {
    pub field: String,
    /// (value, `#rrggbb`), most frequent first; at most [`Categorized::MAX_CLASSES`].
    pub classes: Vec<(String, String)>,
    /// Colour of every value not listed (and of features without the field).
    pub other: String,
}

impl Categorized {
    /// Classes a style shows; more would not be told apart on a map anyway.
    pub const MAX_CLASSES: usize = 14;

    /// Categories of `field` over `features`: the most frequent values first (ties by value),
    /// coloured from a qualitative palette (ColorBrewer Set3/Paired-like, readable on a light
    /// basemap).
    pub fn of(field: &str, features: &[Feature]) -> Self {
        const PALETTE: [&str; 14] = [
            "#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a6761d", "#f781bf", "#1b9e77", "#d95f02",
            "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#17becf",
        ];
        let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for f in features {
            if let Some(v) = attribute_text(f, field) {
                *counts.entry(v).or_default() += 1;
            }
        }
        let mut values: Vec<(String, usize)> = counts.into_iter().collect();
        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let classes =
            values.into_iter().take(Self::MAX_CLASSES).zip(PALETTE).map(|((v, _), c)| (v, c.to_string())).collect();
        Categorized { field: field.to_string(), classes, other: "#9e9e9e".into() }
    }

    /// 1-based class of a feature (`classes.len() + 1` for "other"): what the renderer's palette
    /// is indexed by, with 0 left for "the layer's own colour".
    pub fn class_of(&self, f: &Feature) -> u8 {
        let v = attribute_text(f, &self.field);
        let i = v.and_then(|v| self.classes.iter().position(|(c, _)| *c == v)).unwrap_or(self.classes.len());
        (i + 1) as u8
    }
}

/// An attribute as text for grouping and display: strings as they are, numbers and booleans
/// written out; `None` when absent or null.
pub fn attribute_text(f: &Feature, field: &str) -> Option<String> {
    match f.extra.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
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
            name_field: None,
            categorized: None,
            source: None,
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

    /// A planner's layer: 100,000 features with a `name` and none of the atlas's attributes.
    fn planners_layer(n: usize) -> String {
        let features: Vec<String> = (0..n)
            .map(|i| {
                let (x, y) = (120.5 + (i % 400) as f64 * 0.002, 31.2 + (i / 400) as f64 * 0.002);
                format!(
                    r#"{{"type":"Feature","properties":{{"name":"地块{i}","code":{i}}},"geometry":{{"type":"Polygon","coordinates":[[[{x},{y}],[{},{y}],[{},{}],[{x},{y}]]]}}}}"#,
                    x + 0.001,
                    x + 0.001,
                    y + 0.001
                )
            })
            .collect();
        format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))
    }

    #[test]
    fn a_planners_layer_without_atlas_attributes_is_no_problem_and_repeats_stay_one_line() {
        let text = planners_layer(100_000);
        let user = ReadOptions { strict_schema: false, topology: false, ..Default::default() };
        let (layer, diags) = parse_layer(Path::new("parcels.geojson"), text.as_bytes(), user).unwrap();
        assert_eq!(layer.features.len(), 100_000);
        assert!(diags.is_empty(), "{:?}", &diags[..diags.len().min(3)]);
        // Checked against the atlas schema, every missing attribute is an error, once per kind.
        let (_, diags) = parse_layer(Path::new("parcels.geojson"), text.as_bytes(), ReadOptions::default()).unwrap();
        assert!(diags.len() <= 8, "one line per missing attribute: {diags:#?}");
        let names = diags.iter().find(|d| d.message == "missing name_zh_hant").unwrap();
        assert_eq!(names.count, 100_000);
        assert!(names.to_string().contains("(100,000 in all; the first is shown)"), "{names}");
        // Distinct problems are bounded too.
        let dup = text.replace(r#""properties":{"name""#, r#""id":"same","properties":{"name""#);
        let (_, diags) = parse_layer(Path::new("dup.geojson"), dup.as_bytes(), user).unwrap();
        assert!(diags.len() <= crate::diagnostic::Diagnostics::MAX_ENTRIES + 1);
        assert_eq!(diags.iter().map(|d| d.count).sum::<usize>(), 99_999, "every duplicate counted");
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
