//! The gazetteer: every place a report can mention, with its names in both scripts, its short
//! forms, its administrative parent and a representative point with its accuracy and source.
//!
//! Places come from three sources, merged in this order: the atlas's and the planner's layers
//! (their named features: *curated*, drawn by a layer), the regional table shipped in the binary
//! ([`crate::text::region`]: every county of China, every township around Suzhou), and the data
//! folder's `gazetteer.json` (extra places, aliases, overrides, not-a-place phrases and the
//! planner's verdicts on uncertain mentions). A regional place that is an atlas feature (太仓市,
//! 昆山市) is merged into the feature rather than listed twice.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use geo::Rect;
use serde::{Deserialize, Serialize};

use crate::geodata::{Accuracy, Layer};
pub use crate::text::fold::Fold;
pub use crate::text::matcher::{Candidate, Matcher, NameKind, RawMatch};
use crate::text::region::{self, Level, RegionEntry, ShortName};

/// A place the report can mention.
#[derive(Debug, Clone, Serialize)]
pub struct Place {
    pub id: String,
    pub name_zh_hant: String,
    pub name_zh_hans: String,
    pub name_en: String,
    pub aliases: Vec<String>,
    /// Short forms that link only where the text around them agrees (沙溪 for 沙溪镇).
    pub short_names: Vec<ShortName>,
    /// The layer that draws it; `None` for gazetteer-only places.
    pub layer: Option<String>,
    #[serde(skip)]
    pub bounds: Option<Rect<f64>>,
    /// Administrative level, for places from (or merged with) the regional table.
    pub level: Option<Level>,
    /// Statistics-bureau division code (320585 for Taicang).
    pub admin_code: Option<String>,
    /// Index of the administrative parent in [`Gazetteer::places`].
    #[serde(skip)]
    pub parent: Option<usize>,
    /// Representative point, WGS84 [lon, lat]: a feature's interior point, a seat of government,
    /// a GeoNames town point.
    pub lon_lat: Option<[f64; 2]>,
    /// How far the representative point may be from the place, in metres; `None` when unknown
    /// or schematic.
    pub accuracy_m: Option<f64>,
    /// Where the position comes from.
    pub source: String,
    /// Anything the sources disagreed on or lacked.
    pub note: String,
    /// From the atlas's or the planner's layers or `gazetteer.json`: its names are trusted as
    /// written, and it wins a name it shares with a regional place.
    pub curated: bool,
    /// The outline a planning region is drawn with (the hull of its members), as a closed ring
    /// of [lon, lat]; empty for every other place, which is drawn from its point and accuracy.
    #[serde(skip)]
    pub extent: Vec<[f64; 2]>,
    /// A feature's `parent` attribute (a place id, a division code or a unit's name), made
    /// [`Place::parent`] once every place is known, so the atlas's and the planner's features
    /// have the administrative parents that evidence and the place panel need.
    #[serde(skip)]
    pub feature_parent: Option<String>,
}

impl Place {
    fn new(id: String) -> Self {
        Place {
            id,
            name_zh_hant: String::new(),
            name_zh_hans: String::new(),
            name_en: String::new(),
            aliases: Vec::new(),
            short_names: Vec::new(),
            layer: None,
            bounds: None,
            level: None,
            admin_code: None,
            parent: None,
            lon_lat: None,
            accuracy_m: None,
            source: String::new(),
            note: String::new(),
            curated: true,
            extent: Vec::new(),
            feature_parent: None,
        }
    }

    /// Every form of the name, for matching and search (short forms not included).
    pub fn all_names(&self) -> impl Iterator<Item = &str> {
        [self.name_zh_hant.as_str(), self.name_zh_hans.as_str(), self.name_en.as_str()]
            .into_iter()
            .chain(self.aliases.iter().map(String::as_str))
            .filter(|s| !s.trim().is_empty())
    }

    /// The Chinese names and aliases: always a mention of the place where they appear.
    pub fn full_names(&self) -> impl Iterator<Item = &str> {
        let english = self.name_en.as_str();
        self.all_names().filter(move |n| *n != english || self.match_english())
    }

    /// Whether the English name is matched in text. Curated names are; of the regional table
    /// only provinces and prefectures, whose romanised names are unambiguous words in English
    /// text (a town's pinyin, Dongshan or Xinqiao, is not).
    pub fn match_english(&self) -> bool {
        self.curated || matches!(self.level, Some(Level::Province | Level::Prefecture))
    }

    /// The name to show: traditional, else simplified, else English, else the id.
    pub fn display_name(&self) -> &str {
        [&self.name_zh_hant, &self.name_zh_hans, &self.name_en]
            .into_iter()
            .find(|n| !n.is_empty())
            .map_or(self.id.as_str(), String::as_str)
    }
}

/// `gazetteer.json`: what a user can add without recompiling.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GazetteerFile {
    /// Extra names for places defined in the layers or the regional table, keyed by place id.
    #[serde(default)]
    pub aliases: BTreeMap<String, Vec<String>>,
    /// Places that have no geometry in any layer, or that override a regional place by its id
    /// (`cn-320585101`).
    #[serde(default)]
    pub places: Vec<PlaceEntry>,
    /// Phrases that contain a place name but do not mention the place.
    #[serde(default)]
    pub not_places: Vec<String>,
    /// Extra traditional-to-simplified character pairs beyond those the names already teach.
    #[serde(default)]
    pub variants: BTreeMap<String, String>,
    /// The planner's verdicts from the review list: this name means this place (by id).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub confirmed: BTreeMap<String, String>,
    /// The planner's verdicts: this name never means these places.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rejected: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceEntry {
    pub id: String,
    #[serde(default)]
    pub name_zh_hant: String,
    #[serde(default)]
    pub name_zh_hans: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Position (WGS84 lon, lat) so the map can draw it and fly to it.
    #[serde(default)]
    pub lon_lat: Option<[f64; 2]>,
    /// How far `lon_lat` may be from the place, in metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<f64>,
    /// Where the position comes from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The administrative parent: a place id or a division code (`320585` for Taicang).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Short forms that, like 沙溪 for 沙溪镇, link only where the text around them agrees: the
    /// parent named nearby, or the place the nearest of those the document names (虹桥 for the
    /// Hongqiao hub, which Nantong and Minhang also have).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub short_forms: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum GazetteerError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    Parse { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}: place #{index} ({id:?}) has no names: give name_zh_hant, name_zh_hans or name_en")]
    NoNames { path: PathBuf, index: usize, id: String },
    #[error("{path}: place #{index} has no id")]
    NoId { path: PathBuf, index: usize },
    #[error("{path}: place #{index} ({id:?}) has no lon_lat: it links, but cannot be drawn on the map")]
    NoPosition { path: PathBuf, index: usize, id: String },
    #[error("{path}: place #{index} ({id:?}): lon_lat {lon}, {lat} is not a longitude and latitude; it is not drawn")]
    BadPosition { path: PathBuf, index: usize, id: String, lon: f64, lat: f64 },
    #[error("{path}: aliases for {id:?}, which no layer or gazetteer place defines")]
    UnknownPlace { path: PathBuf, id: String },
    #[error("{path}: place #{index} ({id:?}): its parent {parent:?} is no place's id or division code; it has none")]
    UnknownParent { path: PathBuf, index: usize, id: String, parent: String },
    #[error(
        "{path}: alias {alias:?} of {id:?} is already the name of {other:?}; the alias is not used (to change {other:?}, give a place with that id)"
    )]
    AliasCollision { path: PathBuf, id: String, alias: String, other: String },
    #[error("{path}: {what} for {name:?} names {id:?}, which is no place")]
    UnknownVerdict { path: PathBuf, what: &'static str, name: String, id: String },
    #[error("{path}: variant {key:?} -> {value:?} must map one character to one character of the same UTF-8 length")]
    BadVariant { path: PathBuf, key: String, value: String },
    #[error("{path}: {error}")]
    Region { path: PathBuf, error: region::RegionRowError },
}

impl GazetteerError {
    /// Problems after which everything the entry says is still used, or all but a detail.
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            GazetteerError::NoPosition { .. }
                | GazetteerError::BadPosition { .. }
                | GazetteerError::AliasCollision { .. }
                | GazetteerError::UnknownVerdict { .. }
                | GazetteerError::UnknownParent { .. }
        )
    }
}

impl GazetteerFile {
    /// Whether the file adds nothing to the gazetteer.
    pub fn is_empty(&self) -> bool {
        self.aliases.is_empty()
            && self.places.is_empty()
            && self.not_places.is_empty()
            && self.variants.is_empty()
            && self.confirmed.is_empty()
            && self.rejected.is_empty()
    }

    pub fn load(path: &Path) -> Result<Self, GazetteerError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| GazetteerError::Io { path: path.to_path_buf(), source })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, GazetteerError> {
        serde_json::from_str(text).map_err(|e| GazetteerError::Parse {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: crate::diagnostic::json_message(&e),
        })
    }

    /// Records a verdict from the review list, replacing any earlier one on the same pair.
    pub fn record_verdict(&mut self, name: &str, place: &str, confirm: bool) {
        if let Some(ids) = self.rejected.get_mut(name) {
            ids.retain(|i| i != place);
            if ids.is_empty() {
                self.rejected.remove(name);
            }
        }
        if self.confirmed.get(name).is_some_and(|p| p == place) {
            self.confirmed.remove(name);
        }
        if confirm {
            self.confirmed.insert(name.to_string(), place.to_string());
        } else {
            self.rejected.entry(name.to_string()).or_default().push(place.to_string());
        }
    }
}

/// The shipped regional table, parsed once per process.
fn shipped_region() -> &'static (Vec<RegionEntry<'static>>, Vec<region::RegionRowError>) {
    static REGION: OnceLock<(Vec<RegionEntry<'static>>, Vec<region::RegionRowError>)> = OnceLock::new();
    REGION.get_or_init(|| region::parse(region::REGION_TSV))
}

/// A statistics-bureau division code (digits), as opposed to the table's own ids for what the
/// codes do not list: named waters (`water-…`) and towns only GeoNames has (`gn-<geonameid>`).
fn is_statistics_code(code: &str) -> bool {
    !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit())
}

/// The planner's verdicts, by folded name.
#[derive(Debug, Clone, Default)]
pub struct Verdicts {
    pub confirmed: HashMap<String, usize>,
    pub rejected: HashSet<(String, usize)>,
}

/// All places and the phrases that are not places.
#[derive(Debug, Clone, Default)]
pub struct Gazetteer {
    pub places: Vec<Place>,
    pub not_places: Vec<String>,
    pub(crate) variants: Vec<(char, char)>,
    pub verdicts: Verdicts,
    index: HashMap<String, usize>,
}

impl Gazetteer {
    /// The layers' places, the shipped regional table and the file; see [`Gazetteer::build_with`].
    pub fn build(layers: &[&Layer], file: &GazetteerFile, file_path: &Path) -> (Self, Vec<GazetteerError>) {
        Self::build_from(Self::layer_places(layers), file, file_path)
    }

    /// [`Gazetteer::build`] from places already taken from the layers ([`Gazetteer::layer_places`]):
    /// what a re-link on another thread is given, so it never borrows the layers.
    pub fn build_from(places: Vec<Place>, file: &GazetteerFile, file_path: &Path) -> (Self, Vec<GazetteerError>) {
        let (rows, row_errors) = shipped_region();
        let (g, mut errors) = Self::build_from_places(places, rows, file, file_path);
        let shipped = Path::new(crate::atlas::BUILTIN_PREFIX).join("region-gazetteer.tsv");
        errors.extend(row_errors.iter().map(|e| GazetteerError::Region { path: shipped.clone(), error: e.clone() }));
        (g, errors)
    }

    /// Places from the layers' features, then the regional rows (merged into a feature of the
    /// same name and place), then the file's places, aliases and verdicts. Entries that cannot be
    /// used are returned as errors and skipped; the rest is still a usable gazetteer.
    pub fn build_with(
        layers: &[&Layer],
        region: &[RegionEntry],
        file: &GazetteerFile,
        file_path: &Path,
    ) -> (Self, Vec<GazetteerError>) {
        Self::build_from_places(Self::layer_places(layers), region, file, file_path)
    }

    /// A place for every named feature: names, layer, bounds, a point's own position, accuracy
    /// and source. Cheap next to the rest of a build (no geometry is copied), so it is the part
    /// done where the layers live.
    pub fn layer_places(layers: &[&Layer]) -> Vec<Place> {
        let mut places = Vec::new();
        for layer in layers {
            for f in &layer.features {
                if f.name_zh_hant.is_empty() && f.name_zh_hans.is_empty() && f.name_en.is_empty() {
                    continue;
                }
                let mut p = Place::new(f.id.clone());
                p.name_zh_hant = f.name_zh_hant.clone();
                p.name_zh_hans = f.name_zh_hans.clone();
                p.name_en = f.name_en.clone();
                p.layer = Some(layer.id.clone());
                p.bounds = f.bounds();
                // A point is its own representative; an area's is worked out when asked for
                // (`Atlas::representative_point`): an interior point of a river or province
                // outline costs milliseconds, and loading must not pay it for every feature.
                p.lon_lat = match &f.geometry {
                    geo::Geometry::Point(pt) => Some([pt.x(), pt.y()]),
                    _ => None,
                };
                p.accuracy_m = match f.accuracy {
                    Accuracy::Metres(m) => Some(m),
                    Accuracy::Schematic | Accuracy::Unstated => None,
                };
                p.source = f.source.clone();
                p.feature_parent = match f.extra.get("parent") {
                    Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
                    Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                places.push(p);
            }
        }
        places
    }

    fn build_from_places(
        places: Vec<Place>,
        region: &[RegionEntry],
        file: &GazetteerFile,
        file_path: &Path,
    ) -> (Self, Vec<GazetteerError>) {
        let mut g = Gazetteer::default();
        let mut errors = Vec::new();
        let err_path = || file_path.to_path_buf();
        for p in places {
            g.push(p);
        }
        // Names are compared folded; the gazetteer's own fold is built from it afterwards.
        let fold = Fold::base();
        g.merge_region(region, file, &fold);
        for (index, e) in file.places.iter().enumerate() {
            if e.id.trim().is_empty() {
                errors.push(GazetteerError::NoId { path: err_path(), index });
                continue;
            }
            let overrides = g.index.contains_key(&e.id);
            if !overrides && [&e.name_zh_hant, &e.name_zh_hans, &e.name_en].iter().all(|n| n.trim().is_empty()) {
                errors.push(GazetteerError::NoNames { path: err_path(), index, id: e.id.clone() });
                continue;
            }
            let lon_lat = match e.lon_lat {
                Some([x, y]) if (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y) => Some([x, y]),
                Some([lon, lat]) => {
                    errors.push(GazetteerError::BadPosition { path: err_path(), index, id: e.id.clone(), lon, lat });
                    None
                }
                None => {
                    if !overrides {
                        errors.push(GazetteerError::NoPosition { path: err_path(), index, id: e.id.clone() });
                    }
                    None
                }
            };
            g.apply_entry(e, lon_lat);
        }
        for (index, e) in file.places.iter().enumerate() {
            if let Some(parent) = &e.parent
                && let Some(i) = g.position(&e.id)
            {
                g.places[i].parent = g.find_parent(parent).filter(|&p| p != i);
                if g.places[i].parent.is_none() {
                    errors.push(GazetteerError::UnknownParent {
                        path: err_path(),
                        index,
                        id: e.id.clone(),
                        parent: parent.clone(),
                    });
                }
            }
        }
        g.resolve_feature_parents();
        g.add_aliases(file, file_path, &fold, &mut errors);
        for (k, v) in &file.variants {
            let mut kc = k.chars();
            let mut vc = v.chars();
            match (kc.next(), kc.next(), vc.next(), vc.next()) {
                (Some(a), None, Some(b), None) if a.len_utf8() == b.len_utf8() => g.variants.push((a, b)),
                _ => errors.push(GazetteerError::BadVariant { path: err_path(), key: k.clone(), value: v.clone() }),
            }
        }
        g.not_places = file.not_places.clone();
        g.read_verdicts(file, file_path, &fold, &mut errors);
        (g, errors)
    }

    /// Adds the regional rows: into an existing place when it has the same official name and the
    /// row's point lies within 5 km of it (the atlas's 太倉市 is the table's 320585), otherwise
    /// as a new place `cn-CODE`; then links every row to its parent.
    fn merge_region(&mut self, region: &[RegionEntry], file: &GazetteerFile, fold: &Fold) {
        if region.is_empty() {
            return;
        }
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in self.places.iter().enumerate() {
            for n in p.all_names() {
                by_name.entry(fold.fold_str(n.trim())).or_default().push(i);
            }
        }
        let overridden: HashSet<&str> = file.places.iter().map(|e| e.id.as_str()).collect();
        let mut by_code: HashMap<&str, usize> = HashMap::with_capacity(region.len());
        for r in region {
            let near = |p: &Place| match p.bounds {
                Some(b) => {
                    let pad = 0.05;
                    let [x, y] = r.lon_lat;
                    x >= b.min().x - pad && x <= b.max().x + pad && y >= b.min().y - pad && y <= b.max().y + pad
                }
                None => false,
            };
            let key = fold.fold_str(r.name_zh_hans);
            let same = by_name.get(&key).and_then(|is| {
                is.iter().copied().find(|&i| self.places[i].admin_code.is_none() && near(&self.places[i]))
            });
            let i = match same {
                Some(i) => i,
                None => {
                    let mut p = Place::new(if is_statistics_code(r.code) {
                        format!("cn-{}", r.code)
                    } else {
                        r.code.to_string()
                    });
                    p.curated = overridden.contains(p.id.as_str());
                    p.name_zh_hans = r.name_zh_hans.to_string();
                    p.name_zh_hant = r.name_zh_hant.to_string();
                    p.name_en = r.name_en.to_string();
                    p.aliases = r.aliases.iter().map(|a| a.to_string()).collect();
                    p.lon_lat = Some(r.lon_lat);
                    p.bounds = Some(Rect::new((r.lon_lat[0], r.lon_lat[1]), (r.lon_lat[0], r.lon_lat[1])));
                    p.source = r.source.to_string();
                    p.note = r.note.to_string();
                    p.extent = r.extent.clone();
                    self.push(p);
                    self.places.len() - 1
                }
            };
            let p = &mut self.places[i];
            p.level = Some(r.level);
            p.admin_code = is_statistics_code(r.code).then(|| r.code.to_string());
            p.accuracy_m = p.accuracy_m.or(Some(r.accuracy_m));
            if p.lon_lat.is_none() {
                p.lon_lat = Some(r.lon_lat);
            }
            if p.layer.is_some() {
                // A feature keeps its own names; the table adds its official forms as aliases.
                for n in [r.name_zh_hans, r.name_zh_hant].into_iter().chain(r.aliases.iter().copied()) {
                    if !n.is_empty() && !p.all_names().any(|x| x == n) {
                        p.aliases.push(n.to_string());
                    }
                }
                if p.name_en.is_empty() {
                    p.name_en = r.name_en.to_string();
                }
            }
            for s in &r.short_names {
                if !p.all_names().any(|x| x == s.name) && !p.short_names.contains(s) {
                    p.short_names.push(s.clone());
                }
            }
            by_code.insert(r.code, i);
        }
        for r in region {
            if let (Some(&i), Some(&parent)) = (by_code.get(r.code), by_code.get(r.parent)) {
                self.places[i].parent = Some(parent);
            }
        }
    }

    /// A `gazetteer.json` place: new, or overriding what it names by id (its non-empty fields win).
    fn apply_entry(&mut self, e: &PlaceEntry, lon_lat: Option<[f64; 2]>) {
        let i = match self.index.get(&e.id) {
            Some(&i) => i,
            None => {
                self.push(Place::new(e.id.clone()));
                self.places.len() - 1
            }
        };
        let p = &mut self.places[i];
        let is_feature = p.layer.is_some();
        for (field, value) in [
            (&mut p.name_zh_hant, &e.name_zh_hant),
            (&mut p.name_zh_hans, &e.name_zh_hans),
            (&mut p.name_en, &e.name_en),
        ] {
            // A layer's own names stay (the entry adds aliases to them); a regional place's give way.
            if !value.trim().is_empty() && (!is_feature || field.is_empty()) {
                *field = value.clone();
            }
        }
        p.aliases.extend(e.aliases.iter().cloned());
        for name in e.short_forms.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            let short = ShortName { name: name.to_string(), common: false };
            if !p.all_names().any(|x| x == name) && !p.short_names.contains(&short) {
                p.short_names.push(short);
            }
        }
        if let Some(ll) = lon_lat {
            if !is_feature {
                p.lon_lat = Some(ll);
                p.bounds = Some(Rect::new((ll[0], ll[1]), (ll[0], ll[1])));
                p.accuracy_m = e.accuracy_m;
            } else if p.bounds.is_none() {
                p.bounds = Some(Rect::new((ll[0], ll[1]), (ll[0], ll[1])));
            }
        }
        if !e.source.is_empty() {
            p.source = e.source.clone();
        }
        p.curated = true;
    }

    /// Features' own `parent` attributes, where nothing else gave the place a parent: by id,
    /// division code, or the official name of exactly one place. One that names nothing is left
    /// out quietly, as `check` reports it for the atlas's own layers.
    fn resolve_feature_parents(&mut self) {
        let pending: Vec<(usize, String)> = self
            .places
            .iter_mut()
            .enumerate()
            .filter_map(|(i, p)| p.feature_parent.take().filter(|_| p.parent.is_none()).map(|r| (i, r)))
            .collect();
        for (i, r) in pending {
            let by_name = || {
                let mut named =
                    self.places.iter().enumerate().filter(|(_, q)| q.name_zh_hans == r || q.name_zh_hant == r);
                match (named.next(), named.next()) {
                    (Some((j, _)), None) => Some(j),
                    _ => None,
                }
            };
            let parent = self.find_parent(&r).or_else(by_name);
            if parent != Some(i) {
                self.places[i].parent = parent;
            }
        }
    }

    /// The place a `parent` reference names: an id, or a division code, which may be a regional
    /// row's (`cn-320585`) or that of an atlas feature the row merged into (Taicang's `taicang`).
    fn find_parent(&self, r: &str) -> Option<usize> {
        self.position(r)
            .or_else(|| self.position(&format!("cn-{r}")))
            .or_else(|| self.places.iter().position(|p| p.admin_code.as_deref() == Some(r)))
    }

    /// The file's `aliases`; one that is already another place's own name (an atlas feature's or
    /// the regional table's) is refused with a warning, since it would silently take that name
    /// away.
    fn add_aliases(&mut self, file: &GazetteerFile, file_path: &Path, fold: &Fold, errors: &mut Vec<GazetteerError>) {
        if file.aliases.is_empty() {
            return;
        }
        let mut owners: HashMap<String, usize> = HashMap::new();
        for (i, p) in self.places.iter().enumerate() {
            for n in [&p.name_zh_hant, &p.name_zh_hans, &p.name_en] {
                if !n.trim().is_empty() {
                    owners.entry(fold.fold_str(n.trim())).or_insert(i);
                }
            }
        }
        for (id, aliases) in &file.aliases {
            let Some(&i) = self.index.get(id) else {
                errors.push(GazetteerError::UnknownPlace { path: file_path.to_path_buf(), id: id.clone() });
                continue;
            };
            for alias in aliases {
                match owners.get(&fold.fold_str(alias.trim())) {
                    Some(&o) if o != i => errors.push(GazetteerError::AliasCollision {
                        path: file_path.to_path_buf(),
                        id: id.clone(),
                        alias: alias.clone(),
                        other: self.places[o].id.clone(),
                    }),
                    _ => self.places[i].aliases.push(alias.clone()),
                }
            }
        }
    }

    fn read_verdicts(&mut self, file: &GazetteerFile, file_path: &Path, fold: &Fold, errors: &mut Vec<GazetteerError>) {
        for (name, id) in &file.confirmed {
            match self.position(id) {
                Some(i) => {
                    self.verdicts.confirmed.insert(fold.fold_str(name), i);
                }
                None => errors.push(GazetteerError::UnknownVerdict {
                    path: file_path.to_path_buf(),
                    what: "confirmed",
                    name: name.clone(),
                    id: id.clone(),
                }),
            }
        }
        for (name, ids) in &file.rejected {
            for id in ids {
                match self.position(id) {
                    Some(i) => {
                        self.verdicts.rejected.insert((fold.fold_str(name), i));
                    }
                    None => errors.push(GazetteerError::UnknownVerdict {
                        path: file_path.to_path_buf(),
                        what: "rejected",
                        name: name.clone(),
                        id: id.clone(),
                    }),
                }
            }
        }
    }

    fn push(&mut self, p: Place) {
        match self.index.get(&p.id) {
            // A second feature with the id of an earlier one adds to it rather than shadowing it.
            Some(&i) => {
                let existing = &mut self.places[i];
                existing.aliases.extend(p.aliases);
                if existing.bounds.is_none() {
                    existing.bounds = p.bounds;
                }
            }
            None => {
                self.index.insert(p.id.clone(), self.places.len());
                self.places.push(p);
            }
        }
    }

    pub fn get(&self, id: &str) -> Option<&Place> {
        self.index.get(id).map(|&i| &self.places[i])
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// `place` and its parents up to the province, nearest first.
    pub fn ancestors(&self, place: usize) -> impl Iterator<Item = usize> + '_ {
        let mut next = Some(place);
        let mut steps = 0;
        std::iter::from_fn(move || {
            let here = next?;
            steps += 1;
            // A parent cycle (a user's gazetteer can write one) ends the walk.
            next = if steps > 8 { None } else { self.places[here].parent };
            Some(here)
        })
    }

    /// The display name of a place's parent, for "沙溪镇 (太倉市)".
    pub fn parent_name(&self, place: usize) -> Option<&str> {
        self.places.get(place)?.parent.map(|p| self.places[p].display_name())
    }

    /// Whether `a` lies within `b` (or is `b`).
    pub fn is_within(&self, a: usize, b: usize) -> bool {
        self.ancestors(a).any(|x| x == b)
    }

    /// Places whose names or aliases contain `query` in any script, best match first.
    pub fn search(&self, query: &str, fold: &Fold) -> Vec<usize> {
        let q = fold.fold_str(query.trim());
        if q.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<(u8, bool, usize, usize)> = Vec::new();
        for (i, p) in self.places.iter().enumerate() {
            let mut best: Option<u8> = None;
            for name in p.all_names().chain(p.short_names.iter().map(|s| s.name.as_str())) {
                let n = fold.fold_str(name);
                let rank = if n == q {
                    0
                } else if n.starts_with(&q) {
                    1
                } else if n.contains(&q) {
                    2
                } else {
                    continue;
                };
                best = Some(best.map_or(rank, |b: u8| b.min(rank)));
            }
            if q == p.id.to_ascii_lowercase() {
                best = Some(0);
            }
            if let Some(rank) = best {
                hits.push((rank, !p.curated, p.name_zh_hant.chars().count(), i));
            }
        }
        hits.sort();
        hits.into_iter().map(|(_, _, _, i)| i).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(id: &str, t: &str, s: &str, en: &str, aliases: &[&str]) -> PlaceEntry {
        PlaceEntry {
            id: id.into(),
            name_zh_hant: t.into(),
            name_zh_hans: s.into(),
            name_en: en.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            ..Default::default()
        }
    }

    fn gaz() -> Gazetteer {
        let file = GazetteerFile {
            places: vec![
                place("taicang", "太倉市", "太仓市", "Taicang", &["太倉"]),
                place("taicang-port", "太倉港區", "太仓港区", "Taicang Port Area", &["太倉港"]),
                place("changshu", "常熟市", "常熟市", "Changshu", &["常熟"]),
                place("shanghai", "上海市", "上海市", "Shanghai", &["上海"]),
            ],
            not_places: vec!["非常熟".into(), "常熟悉".into()],
            ..Default::default()
        };
        let (g, errors) = Gazetteer::build_with(&[], &[], &file, Path::new("g.json"));
        assert!(errors.iter().all(GazetteerError::is_warning), "{errors:?}");
        g
    }

    fn find(text: &str) -> Vec<(String, String)> {
        let g = gaz();
        let m = Matcher::new(&g);
        let mut out = Vec::new();
        m.find(text, &mut Vec::new(), &mut out);
        out.iter()
            .map(|r| (g.places[m.candidates(r)[0].place as usize].id.clone(), text[r.start..r.end].to_string()))
            .collect()
    }

    #[test]
    fn longest_name_wins_in_both_scripts() {
        assert_eq!(find("推動太倉港區發展"), vec![("taicang-port".into(), "太倉港區".into())]);
        assert_eq!(find("推动太仓港区发展"), vec![("taicang-port".into(), "太仓港区".into())]);
        // Mixed scripts still match, because both names taught the fold.
        assert_eq!(find("太仓港區"), vec![("taicang-port".into(), "太仓港區".into())]);
        assert_eq!(find("在太倉投資"), vec![("taicang".into(), "太倉".into())]);
    }

    #[test]
    fn names_across_word_boundaries_are_not_linked() {
        assert!(find("我們對這裡非常熟悉").is_empty());
        assert!(find("大家都常熟悉這個").is_empty());
        assert_eq!(find("深化與常熟合作"), vec![("changshu".into(), "常熟".into())]);
    }

    #[test]
    fn english_is_case_insensitive_on_word_boundaries() {
        assert_eq!(
            find("links to SHANGHAI and taicang port area."),
            vec![("shanghai".into(), "SHANGHAI".into()), ("taicang-port".into(), "taicang port area".into())]
        );
        assert!(find("Shanghaied").is_empty());
    }

    #[test]
    fn entry_without_names_is_an_error_and_the_rest_loads() {
        let file = GazetteerFile {
            places: vec![place("empty", "", "", "", &[]), place("ok", "南通", "南通", "Nantong", &[])],
            ..Default::default()
        };
        let (g, errors) = Gazetteer::build_with(&[], &[], &file, Path::new("gaz.json"));
        assert_eq!(g.places.len(), 1);
        let errors: Vec<_> = errors.into_iter().filter(|e| !e.is_warning()).collect();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("gaz.json: place #0 (\"empty\") has no names"), "{}", errors[0]);
    }

    #[test]
    fn features_take_their_parent_attribute_and_entries_add_short_forms() {
        let feature = |id: &str, name: &str, parent: &str| {
            let mut p = Place::new(id.into());
            p.name_zh_hans = name.into();
            p.feature_parent = Some(parent.into());
            p
        };
        let places = vec![
            feature("hub", "虹桥国际开放枢纽", "shanghai"),
            feature("park", "金仓湖公园", "太仓市"),
            feature("lost", "某地", "nowhere"),
        ];
        let mut file = GazetteerFile {
            places: vec![
                place("taicang", "太倉市", "太仓市", "Taicang", &[]),
                place("shanghai", "上海市", "上海市", "Shanghai", &[]),
            ],
            ..Default::default()
        };
        file.places.push(PlaceEntry { id: "hub".into(), short_forms: vec!["虹桥".into()], ..Default::default() });
        let (g, _) = Gazetteer::build_from_places(places, &[], &file, Path::new("g.json"));
        let parent = |id: &str| g.parent_name(g.position(id).expect(id)).map(str::to_string);
        assert_eq!(parent("hub").as_deref(), Some("上海市"), "by id");
        assert_eq!(parent("park").as_deref(), Some("太倉市"), "by name");
        assert_eq!(parent("lost"), None, "a parent that names nothing is left out");
        let hub = &g.places[g.position("hub").expect("hub")];
        assert_eq!(hub.short_names, [ShortName { name: "虹桥".into(), common: false }]);
        assert!(hub.aliases.is_empty(), "a short form is no alias: it links only with evidence");
    }

    #[test]
    fn a_parent_by_division_code_finds_the_feature_its_row_merged_into() {
        // The atlas's 太倉市 carries the regional row's code 320585 under its own id.
        let mut taicang = Place::new("taicang".into());
        taicang.name_zh_hans = "太仓市".into();
        taicang.admin_code = Some("320585".into());
        let mut loudong = place("loudong", "婁東街道", "娄东街道", "", &[]);
        loudong.lon_lat = Some([121.13, 31.45]);
        loudong.parent = Some("320585".into());
        let mut lost = place("lost", "某地", "某地", "", &[]);
        lost.lon_lat = Some([121.0, 31.0]);
        lost.parent = Some("999999".into());
        let file = GazetteerFile { places: vec![loudong, lost], ..Default::default() };
        let (g, errors) = Gazetteer::build_from_places(vec![taicang], &[], &file, Path::new("g.json"));
        assert_eq!(g.parent_name(g.position("loudong").unwrap()), Some("太仓市"));
        let e: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            e,
            ["g.json: place #1 (\"lost\"): its parent \"999999\" is no place's id or division code; it has none"]
        );
        assert!(errors[0].is_warning(), "the place still loads");
    }

    #[test]
    fn malformed_gazetteer_file_names_line() {
        let err = GazetteerFile::parse(Path::new("g.json"), "{\n \"places\": 3}").unwrap_err();
        assert!(err.to_string().starts_with("g.json:2:"), "{err}");
    }

    #[test]
    fn search_finds_every_form() {
        let g = gaz();
        let fold = Fold::from_gazetteer(&g);
        for q in ["太倉港", "太仓港", "taicang port", "TAICANG PORT AREA"] {
            let hits = g.search(q, &fold);
            assert_eq!(g.places[hits[0]].id, "taicang-port", "{q}");
        }
        assert_eq!(g.places[g.search("taicang", &fold)[0]].id, "taicang");
    }

    #[test]
    fn fold_keeps_byte_length_and_boundaries() {
        let g = gaz();
        let f = Fold::from_gazetteer(&g);
        let text = "Taicang 太倉港區 ✓ 𠀀 é";
        let mut out = Vec::new();
        f.fold_into(text, &mut out);
        assert_eq!(out.len(), text.len());
        assert_eq!(std::str::from_utf8(&out).unwrap(), "taicang 太仓港区 ✓ 𠀀 é");
    }
}
