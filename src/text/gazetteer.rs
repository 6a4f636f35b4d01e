//! The gazetteer (every place's names and aliases) and the matcher that finds them in text.
//!
//! Matching runs on a normalised copy of the text in which traditional characters are folded to
//! simplified and ASCII to lower case. Both folds keep each character's UTF-8 length, so byte
//! offsets in the normalised copy are byte offsets in the original and no offset map is needed.
//! Names are matched leftmost-longest, and "not a place" phrases (非常熟悉 around 常熟) compete
//! in the same automaton, so a name that only appears across two words loses to the real word.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use geo::Rect;
use serde::{Deserialize, Serialize};

use crate::geodata::Layer;

/// A place the report can mention.
#[derive(Debug, Clone, Serialize)]
pub struct Place {
    pub id: String,
    pub name_zh_hant: String,
    pub name_zh_hans: String,
    pub name_en: String,
    pub aliases: Vec<String>,
    /// The layer that draws it; `None` for gazetteer-only places.
    pub layer: Option<String>,
    #[serde(skip)]
    pub bounds: Option<Rect<f64>>,
}

impl Place {
    /// Every form of the name, for matching and search.
    pub fn all_names(&self) -> impl Iterator<Item = &str> {
        [self.name_zh_hant.as_str(), self.name_zh_hans.as_str(), self.name_en.as_str()]
            .into_iter()
            .chain(self.aliases.iter().map(String::as_str))
            .filter(|s| !s.trim().is_empty())
    }
}

/// `gazetteer.json`: what a user can add without recompiling.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GazetteerFile {
    /// Extra names for places defined in the layers, keyed by place id.
    #[serde(default)]
    pub aliases: BTreeMap<String, Vec<String>>,
    /// Places that have no geometry in any layer (or that a user adds).
    #[serde(default)]
    pub places: Vec<PlaceEntry>,
    /// Phrases that contain a place name but do not mention the place.
    #[serde(default)]
    pub not_places: Vec<String>,
    /// Extra traditional-to-simplified character pairs beyond those the names already teach.
    #[serde(default)]
    pub variants: BTreeMap<String, String>,
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
    /// Optional position (WGS84 lon, lat) so the map can fly to it.
    #[serde(default)]
    pub lon_lat: Option<[f64; 2]>,
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
    #[error("{path}: aliases for {id:?}, which no layer or gazetteer place defines")]
    UnknownPlace { path: PathBuf, id: String },
    #[error("{path}: variant {key:?} -> {value:?} must map one character to one character of the same UTF-8 length")]
    BadVariant { path: PathBuf, key: String, value: String },
}

impl GazetteerFile {
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
}

/// All places and the phrases that are not places.
#[derive(Debug, Clone, Default)]
pub struct Gazetteer {
    pub places: Vec<Place>,
    pub not_places: Vec<String>,
    variants: Vec<(char, char)>,
    index: HashMap<String, usize>,
}

impl Gazetteer {
    /// Places from the layers' features, then the file's aliases and extra places. Entries that
    /// cannot be used are returned as errors and skipped; the rest is still a usable gazetteer.
    pub fn build(layers: &[Layer], file: &GazetteerFile, file_path: &Path) -> (Self, Vec<GazetteerError>) {
        let mut g = Gazetteer::default();
        let mut errors = Vec::new();
        for layer in layers {
            for f in &layer.features {
                if f.name_zh_hant.is_empty() && f.name_zh_hans.is_empty() && f.name_en.is_empty() {
                    continue;
                }
                g.push(Place {
                    id: f.id.clone(),
                    name_zh_hant: f.name_zh_hant.clone(),
                    name_zh_hans: f.name_zh_hans.clone(),
                    name_en: f.name_en.clone(),
                    aliases: Vec::new(),
                    layer: Some(layer.id.clone()),
                    bounds: f.bounds(),
                });
            }
        }
        for (index, e) in file.places.iter().enumerate() {
            if e.id.trim().is_empty() {
                errors.push(GazetteerError::NoId { path: file_path.to_path_buf(), index });
                continue;
            }
            if [&e.name_zh_hant, &e.name_zh_hans, &e.name_en].iter().all(|n| n.trim().is_empty()) {
                errors.push(GazetteerError::NoNames { path: file_path.to_path_buf(), index, id: e.id.clone() });
                continue;
            }
            let bounds = e.lon_lat.map(|[x, y]| Rect::new((x, y), (x, y)));
            g.push(Place {
                id: e.id.clone(),
                name_zh_hant: e.name_zh_hant.clone(),
                name_zh_hans: e.name_zh_hans.clone(),
                name_en: e.name_en.clone(),
                aliases: e.aliases.clone(),
                layer: None,
                bounds,
            });
        }
        for (id, aliases) in &file.aliases {
            match g.index.get(id) {
                Some(&i) => g.places[i].aliases.extend(aliases.iter().cloned()),
                None => errors.push(GazetteerError::UnknownPlace { path: file_path.to_path_buf(), id: id.clone() }),
            }
        }
        for (k, v) in &file.variants {
            let mut kc = k.chars();
            let mut vc = v.chars();
            match (kc.next(), kc.next(), vc.next(), vc.next()) {
                (Some(a), None, Some(b), None) if a.len_utf8() == b.len_utf8() => g.variants.push((a, b)),
                _ => errors.push(GazetteerError::BadVariant {
                    path: file_path.to_path_buf(),
                    key: k.clone(),
                    value: v.clone(),
                }),
            }
        }
        g.not_places = file.not_places.clone();
        (g, errors)
    }

    fn push(&mut self, p: Place) {
        match self.index.get(&p.id) {
            // A gazetteer entry with the id of a layer feature adds to it rather than shadowing it.
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

    /// Places whose names or aliases contain `query` in any script, best match first.
    pub fn search(&self, query: &str, fold: &Fold) -> Vec<usize> {
        let q = fold.fold_str(query.trim());
        if q.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<(u8, usize, usize)> = Vec::new();
        for (i, p) in self.places.iter().enumerate() {
            let mut best: Option<u8> = None;
            for name in p.all_names() {
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
                hits.push((rank, p.name_zh_hant.chars().count(), i));
            }
        }
        hits.sort();
        hits.into_iter().map(|(_, _, i)| i).collect()
    }
}

/// Traditional-to-simplified character pairs shipped with the atlas (see geodata/SOURCES.md).
const T2S_CHARACTERS: &str = include_str!("../../geodata/t2s-characters.txt");

/// Folds text so traditional and simplified, upper and lower case compare equal, keeping every
/// character's UTF-8 length (the property the matcher's offsets depend on).
///
/// ```
/// use port_atlas::atlas::Atlas;
/// let fold = Atlas::builtin().matcher.fold().clone();
/// assert_eq!(fold.fold_str("太倉港 Taicang"), fold.fold_str("太仓港 taicang"));
/// let text = "蘇州港";
/// assert_eq!(fold.fold_str(text).len(), text.len(), "byte offsets carry over");
/// ```
#[derive(Debug, Clone)]
pub struct Fold {
    /// Replacement for each BMP code point; 0 means unchanged.
    table: Vec<u16>,
}

impl Fold {
    /// The base traditional-to-simplified table (2,700 characters, hanziconv's CUHK map),
    /// then the pairs the gazetteer's own names teach and its `variants`.
    pub fn from_gazetteer(g: &Gazetteer) -> Self {
        let mut table = vec![0u16; 0x1_0000];
        for c in b'A'..=b'Z' {
            table[c as usize] = (c + 32) as u16;
        }
        for line in T2S_CHARACTERS.lines().filter(|l| !l.starts_with('#')) {
            let mut cs = line.chars();
            if let (Some(a), Some(' '), Some(b)) = (cs.next(), cs.next(), cs.next())
                && a.len_utf8() == b.len_utf8()
                && (a as u32) < 0x1_0000
                && (b as u32) < 0x1_0000
            {
                table[a as usize] = b as u16;
            }
        }
        let mut learn = |a: char, b: char| {
            if a != b && a.len_utf8() == b.len_utf8() && (a as u32) < 0x1_0000 && (b as u32) < 0x1_0000 {
                table[a as usize] = b as u16;
            }
        };
        for p in &g.places {
            let (t, s) = (&p.name_zh_hant, &p.name_zh_hans);
            if t.chars().count() == s.chars().count() {
                for (a, b) in t.chars().zip(s.chars()) {
                    learn(a, b);
                }
            }
        }
        for &(a, b) in &g.variants {
            learn(a, b);
        }
        Fold { table }
    }

    #[inline]
    fn map(&self, c: char) -> char {
        let cp = c as u32;
        if cp < 0x1_0000 {
            let r = self.table[cp as usize];
            if r != 0 {
                return char::from_u32(r as u32).unwrap_or(c);
            }
        }
        c
    }

    pub fn fold_str(&self, s: &str) -> String {
        s.chars().map(|c| self.map(c)).collect()
    }

    /// Folds `text` into `out` byte for byte: `out` has the same length and char boundaries.
    pub fn fold_into(&self, text: &str, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(text.as_bytes());
        let bytes = out.as_mut_slice();
        let mut i = 0;
        let n = bytes.len();
        while i < n {
            let b = bytes[i];
            if b < 0x80 {
                let r = self.table[b as usize];
                if r != 0 {
                    bytes[i] = r as u8;
                }
                i += 1;
            } else if (0xE0..0xF0).contains(&b) && i + 2 < n {
                let cp = ((b as u32 & 0x0F) << 12) | ((bytes[i + 1] as u32 & 0x3F) << 6) | (bytes[i + 2] as u32 & 0x3F);
                let r = self.table[cp as usize] as u32;
                if r >= 0x800 {
                    bytes[i] = 0xE0 | (r >> 12) as u8;
                    bytes[i + 1] = 0x80 | ((r >> 6) & 0x3F) as u8;
                    bytes[i + 2] = 0x80 | (r & 0x3F) as u8;
                }
                i += 3;
            } else if b >= 0xF0 {
                i += 4;
            } else if b >= 0xE0 {
                i += 3;
            } else {
                i += 2;
            }
        }
    }
}

/// A name found in text: byte range and the place index (into [`Gazetteer::places`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawMatch {
    pub start: usize,
    pub end: usize,
    pub place: usize,
}

/// The compiled matcher for one gazetteer: every name of every place, folded, in one
/// Aho-Corasick automaton, leftmost-longest, with not-a-place phrases taking their text away.
///
/// ```
/// use port_atlas::atlas::Atlas;
/// let atlas = Atlas::builtin();
/// let (mut buf, mut found) = (Vec::new(), Vec::new());
/// // Simplified text finds places named in traditional script; byte offsets are the text's own.
/// let text = "太仓港区位于长江口";
/// atlas.matcher.find(text, &mut buf, &mut found);
/// let place = &atlas.gazetteer.places[found[0].place];
/// assert_eq!(place.id, "taicang-port");
/// assert_eq!(&text[found[0].start..found[0].end], "太仓港区");
/// // "非常熟悉" (very familiar) is a not-a-place phrase: 常熟 inside it is no mention.
/// found.clear();
/// atlas.matcher.find("我们非常熟悉", &mut buf, &mut found);
/// assert!(found.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct Matcher {
    fold: Fold,
    ac: AhoCorasick,
    /// Place index per pattern; `None` for not-a-place phrases.
    targets: Vec<Option<usize>>,
    /// Whether the pattern starts / ends with an ASCII letter or digit and so needs a word boundary.
    ascii_edges: Vec<(bool, bool)>,
}

impl Matcher {
    pub fn new(g: &Gazetteer) -> Self {
        let fold = Fold::from_gazetteer(g);
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut targets = Vec::new();
        for (i, p) in g.places.iter().enumerate() {
            for name in p.all_names() {
                let n = fold.fold_str(name.trim());
                if n.is_empty() || seen.contains_key(&n) {
                    // The first place to claim a name keeps it; the loader order makes that the
                    // layer feature rather than a later alias.
                    continue;
                }
                seen.insert(n.clone(), patterns.len());
                patterns.push(n);
                targets.push(Some(i));
            }
        }
        for phrase in &g.not_places {
            let n = fold.fold_str(phrase.trim());
            if n.is_empty() {
                continue;
            }
            match seen.get(&n) {
                // A phrase listed as not-a-place that is also a name: the not-a-place list wins.
                Some(&k) => targets[k] = None,
                None => {
                    seen.insert(n.clone(), patterns.len());
                    patterns.push(n);
                    targets.push(None);
                }
            }
        }
        let ascii_edges = patterns
            .iter()
            .map(|p| {
                let first = p.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
                let last = p.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
                (first, last)
            })
            .collect();
        // A full DFA is one table lookup per byte: its memory (a few MB for 10,000 names) buys
        // the linking throughput. Past ~50,000 names (a user layer of parcels, say) its build time
        // and memory grow too large, and the contiguous NFA is the better trade.
        let kind = if patterns.len() <= 50_000 { AhoCorasickKind::DFA } else { AhoCorasickKind::ContiguousNFA };
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(kind))
            .build(&patterns)
            .expect("gazetteer patterns are non-empty strings, which always build");
        Matcher { fold, ac, targets, ascii_edges }
    }

    pub fn fold(&self) -> &Fold {
        &self.fold
    }

    /// Finds every place mention in `text`, using `buf` as scratch space for the folded copy.
    pub fn find(&self, text: &str, buf: &mut Vec<u8>, out: &mut Vec<RawMatch>) {
        self.fold.fold_into(text, buf);
        let hay = buf.as_slice();
        for m in self.ac.find_iter(hay) {
            let k = m.pattern().as_usize();
            let Some(place) = self.targets[k] else { continue };
            let (need_start, need_end) = self.ascii_edges[k];
            if need_start && m.start() > 0 && hay[m.start() - 1].is_ascii_alphanumeric() {
                continue;
            }
            if need_end && m.end() < hay.len() && hay[m.end()].is_ascii_alphanumeric() {
                continue;
            }
            out.push(RawMatch { start: m.start(), end: m.end(), place });
        }
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
            lon_lat: None,
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
        let (g, errors) = Gazetteer::build(&[], &file, Path::new("g.json"));
        assert!(errors.is_empty(), "{errors:?}");
        g
    }

    fn find(text: &str) -> Vec<(String, String)> {
        let g = gaz();
        let m = Matcher::new(&g);
        let mut out = Vec::new();
        m.find(text, &mut Vec::new(), &mut out);
        out.iter().map(|r| (g.places[r.place].id.clone(), text[r.start..r.end].to_string())).collect()
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
        let (g, errors) = Gazetteer::build(&[], &file, Path::new("gaz.json"));
        assert_eq!(g.places.len(), 1);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("gaz.json: place #0 (\"empty\") has no names"), "{}", errors[0]);
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
