//! Finding every name of every place in text: one Aho-Corasick automaton over the folded names,
//! leftmost-longest, with "not a place" phrases competing in the same automaton so that a name
//! which only appears across two words (常熟 in 非常熟悉) loses to the real word.
//!
//! A name can belong to several places (新桥 is a town in a dozen counties); the matcher only
//! finds names and lists their candidates. Choosing among them is [`crate::text::resolve`]'s job.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use crate::gazetteer::Gazetteer;
use crate::text::fold::Fold;

/// How a name belongs to a place: decides how much evidence a mention of it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NameKind {
    /// The official or curated name (沙溪镇, 太倉港區, an atlas alias): always a place.
    Full,
    /// A short form (沙溪 for 沙溪镇): a place where the words around it agree.
    Short,
    /// A short form that is also an everyday word (大桥, 东方): only with evidence.
    Common,
}

/// One place a name can mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub place: u32,
    pub kind: NameKind,
}

/// A name found in text: byte range and the pattern (see [`Matcher::candidates`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawMatch {
    pub start: usize,
    pub end: usize,
    pub pattern: u32,
}

/// The compiled matcher for one gazetteer.
///
/// ```
/// use port_atlas::atlas::Atlas;
/// let atlas = Atlas::builtin();
/// let (mut buf, mut found) = (Vec::new(), Vec::new());
/// // Simplified text finds places named in traditional script; byte offsets are the text's own.
/// let text = "太仓港区位于长江口";
/// atlas.matcher.find(text, &mut buf, &mut found);
/// let place = &atlas.gazetteer.places[atlas.matcher.candidates(&found[0])[0].place as usize];
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
    /// Candidates per pattern; empty for not-a-place phrases.
    targets: Vec<Vec<Candidate>>,
    /// Whether the pattern starts / ends with an ASCII letter or digit and so needs a word boundary.
    ascii_edges: Vec<(bool, bool)>,
}

impl Matcher {
    pub fn new(g: &Gazetteer) -> Self {
        let fold = Fold::from_gazetteer(g);
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut targets: Vec<Vec<Candidate>> = Vec::new();
        let mut add = |name: &str, place: usize, kind: NameKind, curated: bool| {
            let n = fold.fold_str(name.trim());
            if n.is_empty() {
                return;
            }
            let k = *seen.entry(n.clone()).or_insert_with(|| {
                patterns.push(n);
                targets.push(Vec::new());
                patterns.len() - 1
            });
            let list = &mut targets[k];
            if list.iter().any(|c| c.place as usize == place) {
                // The same place by two forms of one name (太倉 and 太仓 fold alike): keep the stronger.
                if let Some(c) = list.iter_mut().find(|c| c.place as usize == place) {
                    c.kind = c.kind.min(kind);
                }
                return;
            }
            // The first curated place to claim a name keeps it (the loader puts the layer feature
            // before a later alias); regional places only ever add candidates beside it.
            if curated && list.iter().any(|c| g.places[c.place as usize].curated) {
                return;
            }
            list.push(Candidate { place: place as u32, kind });
        };
        for (i, p) in g.places.iter().enumerate() {
            for name in p.full_names() {
                add(name, i, NameKind::Full, p.curated);
            }
            if p.match_english() && !p.name_en.trim().is_empty() {
                add(&p.name_en, i, NameKind::Full, p.curated);
            }
            for s in &p.short_names {
                add(&s.name, i, if s.common { NameKind::Common } else { NameKind::Short }, p.curated);
            }
        }
        for phrase in &g.not_places {
            let n = fold.fold_str(phrase.trim());
            if n.is_empty() {
                continue;
            }
            match seen.get(&n) {
                // A phrase listed as not-a-place that is also a name: the not-a-place list wins.
                Some(&k) => targets[k].clear(),
                None => {
                    seen.insert(n.clone(), patterns.len());
                    patterns.push(n);
                    targets.push(Vec::new());
                }
            }
        }
        // Curated candidates first, then by strength: resolution reads the head of the list.
        for list in &mut targets {
            list.sort_by_key(|c| (!g.places[c.place as usize].curated, c.kind));
        }
        let ascii_edges = patterns
            .iter()
            .map(|p| {
                let first = p.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
                let last = p.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
                (first, last)
            })
            .collect();
        // A full DFA is one table lookup per byte: its memory (tens of MB for the regional
        // gazetteer's 30,000 names) buys the linking throughput. Past ~80,000 names (a user layer
        // of parcels, say) its build time and memory grow too large, and the NFA is the better trade.
        let kind = if patterns.len() <= 80_000 { AhoCorasickKind::DFA } else { AhoCorasickKind::ContiguousNFA };
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(kind))
            // Chinese text starts a name candidate at nearly every character: a prefilter only
            // adds work there.
            .prefilter(false)
            .build(&patterns)
            .or_else(|_| AhoCorasickBuilder::new().match_kind(MatchKind::LeftmostLongest).build(&patterns))
            .expect("gazetteer patterns are non-empty strings, which always build");
        Matcher { fold, ac, targets, ascii_edges }
    }

    pub fn fold(&self) -> &Fold {
        &self.fold
    }

    /// The places a match's name can mean: curated first, then full names before short forms.
    pub fn candidates(&self, m: &RawMatch) -> &[Candidate] {
        &self.targets[m.pattern as usize]
    }

    /// Number of distinct names (patterns) the automaton holds.
    pub fn pattern_count(&self) -> usize {
        self.targets.len()
    }

    /// Finds every name in `text`, using `buf` as scratch space for the folded copy.
    pub fn find(&self, text: &str, buf: &mut Vec<u8>, out: &mut Vec<RawMatch>) {
        self.fold.fold_into(text, buf);
        let hay = buf.as_slice();
        for m in self.ac.find_iter(hay) {
            let k = m.pattern().as_usize();
            if self.targets[k].is_empty() {
                continue;
            }
            let (need_start, need_end) = self.ascii_edges[k];
            if need_start && m.start() > 0 && hay[m.start() - 1].is_ascii_alphanumeric() {
                continue;
            }
            if need_end && m.end() < hay.len() && hay[m.end()].is_ascii_alphanumeric() {
                continue;
            }
            out.push(RawMatch { start: m.start(), end: m.end(), pattern: k as u32 });
        }
    }
}
