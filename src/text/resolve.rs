//! Which place a name means: the document's own evidence decides.
//!
//! A name can be several places (新桥 is a town in many counties) or no place at all (大桥 is a
//! bridge, 东方 the east). Each match is resolved in two passes over a document: first the
//! names that need no context (curated names, official full names that only one place has) are
//! taken as *anchors*; then every other match is weighed against them: its parent named right
//! before it (吴江区同里镇), its parent or a sibling named in the same passage or the document,
//! its own full name elsewhere, and a prior for the atlas's region (Suzhou and its neighbours).
//! A far place is never linked without evidence, and a short name that is an everyday word
//! links only with evidence from its passage.
//!
//! Every resolution carries a confidence and its [`Reason`], which the document panel shows and
//! the review list lets a planner confirm or reject.

use rustc_hash::FxHashSet as HashSet;

use serde::Serialize;

use crate::gazetteer::{Candidate, Gazetteer, Matcher, NameKind, RawMatch};
use crate::text::region::Level;
use crate::text::segment::{WINDOW_CHARS, WordFit, ordinary_word, word_fit, word_frequency};

/// jieba corpus count from which a short name is one of the commonest words of the language.
const EVERYDAY: usize = 1000;
/// Words so common (jieba's corpus counts ten thousand and more: 建设, 合作, 中心, 工业) that only
/// their parent right before them makes them a place.
const VERY_COMMON: usize = 10_000;

/// Below this, a mention is shown as uncertain and listed for review.
pub const UNCERTAIN: f32 = 0.7;

/// Division codes of the atlas's region: Suzhou and its neighbours, whose towns a Suzhou report
/// names without saying where they are.
const REGION_CODES: &[&str] = &["3205", "3202", "3204", "3206", "3209", "31", "3304", "3305"];

/// Why a name was taken to mean a place. Place fields are indices into [`Gazetteer::places`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A name of an atlas feature or of the planner's gazetteer.
    Curated,
    /// The planner confirmed this name for this place.
    Confirmed,
    /// The official full name, which only this place has.
    FullName,
    /// Right after its parent's name (吴江区同里镇).
    AfterParent { parent: u32 },
    /// Its parent (or a place above it) is named in the same passage.
    ParentNearby { parent: u32 },
    /// Its parent is named elsewhere in the document.
    ParentInDocument { parent: u32 },
    /// Another place in the same county or city is named in the same passage.
    SiblingNearby { parent: u32 },
    /// Another place in the same county or city is named in the document.
    SiblingInDocument { parent: u32 },
    /// Its full name appears elsewhere in the document.
    FullFormInDocument,
    /// The usual short form of a province or prefecture-level city.
    ShortFormOfCity,
    /// A short name, and the only place of that name in the atlas's region.
    OnlyInRegion,
    /// Several places of the region share the name; this one is nearest the document's other
    /// places.
    NearestToDocument { others: u16 },
    /// A short name of a place beyond the region, close to a place named beside it in the
    /// passage (靖江 across the river from 张家港).
    NearNamedPlace { near: u32 },
    /// Several places share this full name and nothing in the text tells them apart.
    Ambiguous { others: u16 },
}

impl Reason {
    /// A sentence for the document panel's tooltip and `links --json`.
    pub fn describe(&self, g: &Gazetteer) -> String {
        let name = |i: u32| g.places.get(i as usize).map_or("?", |p| p.display_name()).to_string();
        match *self {
            Reason::Curated => "a name of an atlas or gazetteer place".into(),
            Reason::Confirmed => "confirmed by the planner".into(),
            Reason::FullName => "official full name".into(),
            Reason::AfterParent { parent } => format!("follows its parent {}", name(parent)),
            Reason::ParentNearby { parent } => format!("{} is named in the same passage", name(parent)),
            Reason::ParentInDocument { parent } => format!("{} is named in the document", name(parent)),
            Reason::SiblingNearby { parent } => {
                format!("another place in {} is named in the same passage", name(parent))
            }
            Reason::SiblingInDocument { parent } => {
                format!("other places in {} are named in the document", name(parent))
            }
            Reason::FullFormInDocument => "its full name appears in the document".into(),
            Reason::ShortFormOfCity => "usual short form of a province or city".into(),
            Reason::OnlyInRegion => "short name; the only place so called around Suzhou".into(),
            Reason::NearestToDocument { others } => {
                format!(
                    "{} places around Suzhou have this name; the one nearest the document's other places",
                    others + 1
                )
            }
            Reason::Ambiguous { others } => {
                format!("{} places have this name; nothing in the text tells which", others + 1)
            }
            Reason::NearNamedPlace { near } => {
                format!("short name; within {NEAR_NAMED_KM} km of {}, named beside it", name(near))
            }
        }
    }

    fn confidence(&self) -> f32 {
        match self {
            Reason::Curated | Reason::Confirmed => 1.0,
            Reason::AfterParent { .. } => 0.97,
            Reason::FullName | Reason::ParentNearby { .. } | Reason::FullFormInDocument => 0.9,
            Reason::ShortFormOfCity => 0.85,
            Reason::ParentInDocument { .. } | Reason::SiblingNearby { .. } => 0.8,
            Reason::SiblingInDocument { .. } | Reason::NearNamedPlace { .. } => 0.7,
            Reason::OnlyInRegion => 0.65,
            Reason::NearestToDocument { .. } => 0.45,
            Reason::Ambiguous { .. } => 0.3,
        }
    }
}

/// A resolved match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution {
    pub place: usize,
    pub confidence: f32,
    pub reason: Reason,
}

/// What the whole document says, gathered from its anchors before the rest is resolved.
#[derive(Debug, Default)]
pub struct DocumentContext {
    /// Places named unambiguously anywhere in the document.
    named: HashSet<usize>,
    /// Those places' parents and grandparents.
    implied: HashSet<usize>,
    /// Mean position of the anchors that have one.
    centre: Option<[f64; 2]>,
    /// Every match's anchor (or `None`), passage after passage, so the second pass does not
    /// decide them again; `starts[i]` is where passage `i`'s begin.
    anchors: Vec<Option<Resolution>>,
    starts: Vec<usize>,
}

/// Resolves one document's matches against one gazetteer.
pub struct Resolver<'a> {
    g: &'a Gazetteer,
    m: &'a Matcher,
    /// Whether each place lies in the atlas's region (Suzhou and its neighbours).
    in_region: Vec<bool>,
    /// How each window of words segmented, by a hash of the window and the name's place in it: a
    /// report names its towns in the same phrases again and again (太仓市沙溪镇, 与浏河联动), and
    /// segmenting is the costly step of resolving.
    fits: std::cell::RefCell<rustc_hash::FxHashMap<u64, WordFit>>,
    /// The folded window of the name being weighed.
    scratch: std::cell::RefCell<Vec<u8>>,
    /// Word fits asked for, and how many of them were segmented anew.
    fit_counts: std::cell::Cell<(usize, usize)>,
    /// [`ordinary_word`] per folded name (a few thousand names at most).
    ordinary: std::cell::RefCell<rustc_hash::FxHashMap<Box<str>, bool>>,
}

/// Windows remembered per resolver before the memory is given back and it starts again.
const MAX_REMEMBERED_FITS: usize = 100_000;

impl<'a> Resolver<'a> {
    pub fn new(g: &'a Gazetteer, m: &'a Matcher) -> Self {
        // A place without a code of its own (a lake) is in the region when its parent is.
        let in_region = (0..g.places.len())
            .map(|i| {
                g.ancestors(i)
                    .find_map(|a| g.places[a].admin_code.as_deref())
                    .is_some_and(|code| REGION_CODES.iter().any(|r| code.starts_with(r)))
            })
            .collect();
        Resolver {
            g,
            m,
            in_region,
            fits: Default::default(),
            scratch: Default::default(),
            fit_counts: Default::default(),
            ordinary: Default::default(),
        }
    }

    /// [`ordinary_word`], remembered per name.
    fn ordinary(&self, name: &str) -> bool {
        if let Some(&o) = self.ordinary.borrow().get(name) {
            return o;
        }
        let o = ordinary_word(name);
        self.ordinary.borrow_mut().insert(name.into(), o);
        o
    }

    /// (word fits asked for, segmentations run): how much the remembered windows saved.
    pub fn fit_counts(&self) -> (usize, usize) {
        self.fit_counts.get()
    }

    /// [`word_fit`], remembered per window.
    fn fit(&self, window: &str, start: usize, end: usize) -> WordFit {
        use std::hash::{Hash, Hasher};
        // A 64-bit hash over at most 100,000 windows of a few words: a collision is rare, and
        // would cost one name's word boundary, not a wrong place.
        let mut h = rustc_hash::FxHasher::default();
        (window, start, end).hash(&mut h);
        let key = h.finish();
        let (asked, run) = self.fit_counts.get();
        if let Some(&f) = self.fits.borrow().get(&key) {
            self.fit_counts.set((asked + 1, run));
            return f;
        }
        self.fit_counts.set((asked + 1, run + 1));
        let f = word_fit(window, start, end);
        let mut fits = self.fits.borrow_mut();
        if fits.len() >= MAX_REMEMBERED_FITS {
            fits.clear();
        }
        fits.insert(key, f);
        f
    }

    /// The folded name of a match, for the planner's verdicts (none: no need to fold it).
    fn verdict_name(&self, r: &RawMatch, text: &str) -> Option<String> {
        let v = &self.g.verdicts;
        if v.confirmed.is_empty() && v.rejected.is_empty() {
            return None;
        }
        Some(self.m.fold().fold_str(text.get(r.start..r.end)?))
    }

    /// The place a match means without any context, if there is one.
    fn anchor(&self, r: &RawMatch, text: &str) -> Option<Resolution> {
        let cands = self.m.candidates(r);
        let name = self.verdict_name(r, text);
        if let Some(name) = &name
            && let Some(&p) = self.g.verdicts.confirmed.get(name)
            && cands.iter().any(|c| c.place as usize == p)
        {
            return Some(Resolution { place: p, confidence: 1.0, reason: Reason::Confirmed });
        }
        let mut live = self.live(cands, name.as_deref());
        let first = live.next()?;
        let place = &self.g.places[first.place as usize];
        if place.curated && first.kind == NameKind::Full {
            return Some(Resolution { place: first.place as usize, confidence: 1.0, reason: Reason::Curated });
        }
        if first.kind == NameKind::Full && live.next().is_none() {
            return Some(Resolution { place: first.place as usize, confidence: 0.9, reason: Reason::FullName });
        }
        None
    }

    /// Candidates the planner has not rejected for this name.
    fn live<'c>(&'c self, cands: &'c [Candidate], name: Option<&'c str>) -> impl Iterator<Item = &'c Candidate> + 'c {
        cands.iter().filter(move |c| {
            name.is_none_or(|n| !self.g.verdicts.rejected.contains(&(n.to_string(), c.place as usize)))
        })
    }

    /// Gathers the anchors of a document, given each passage's text and matches.
    pub fn context<'t>(&self, passages: impl Iterator<Item = (&'t str, &'t [RawMatch])>) -> DocumentContext {
        let mut cx = DocumentContext::default();
        let (mut sum, mut n) = ([0.0f64; 2], 0usize);
        for (text, matches) in passages {
            cx.starts.push(cx.anchors.len());
            let mut prev: Option<(usize, usize)> = None;
            for r in matches {
                let anchor = self.anchor(r, text).filter(|a| !self.misplaced(r, text, prev, a.place));
                prev = anchor.map(|a| (r.end, a.place));
                cx.anchors.push(anchor);
                if let Some(a) = anchor
                    && cx.named.insert(a.place)
                {
                    cx.implied.extend(self.g.ancestors(a.place).skip(1));
                    if let Some([x, y]) = self.g.places[a.place].lon_lat {
                        sum[0] += x;
                        sum[1] += y;
                        n += 1;
                    }
                }
            }
        }
        if n > 0 {
            cx.centre = Some([sum[0] / n as f64, sum[1] / n as f64]);
        }
        cx
    }

    /// Resolves the matches of passage `index` (its place in what [`Resolver::context`] was
    /// given), in order. `None` entries are names that are no place here.
    pub fn passage(
        &self,
        index: usize,
        text: &str,
        matches: &[RawMatch],
        cx: &DocumentContext,
        out: &mut Vec<Option<Resolution>>,
    ) {
        out.clear();
        // Anchors first: they are the passage's own evidence for the others.
        let given = cx.starts.get(index).and_then(|&s| cx.anchors.get(s..s + matches.len()));
        let decided: Vec<Option<Resolution>>;
        let anchors = match given {
            Some(a) => a,
            None => {
                decided = matches.iter().map(|r| self.anchor(r, text)).collect();
                &decided
            }
        };
        let mut here: HashSet<usize> = anchors.iter().flatten().map(|a| a.place).collect();
        let mut here_implied: HashSet<usize> = here.iter().flat_map(|&p| self.g.ancestors(p).skip(1)).collect();
        let mut prev: Option<(usize, usize)> = None;
        // Each match's place so far (anchors, then what is resolved): a far place's short name
        // looks at its neighbours in the passage, not at every place a long passage names.
        let mut placed: Vec<Option<usize>> = anchors.iter().map(|a| a.map(|a| a.place)).collect();
        for (i, (r, anchor)) in matches.iter().zip(anchors).enumerate() {
            let around = &placed[i.saturating_sub(NEIGHBOURS)..(i + NEIGHBOURS + 1).min(placed.len())];
            let res = anchor
                .or_else(|| self.weigh(r, text, prev, &here, &here_implied, around, cx))
                .filter(|x| !self.misplaced(r, text, prev, x.place));
            placed[i] = res.map(|x| x.place);
            if let Some(x) = res {
                prev = Some((r.end, x.place));
                if here.insert(x.place) {
                    here_implied.extend(self.g.ancestors(x.place).skip(1));
                }
            } else {
                prev = None;
            }
            out.push(res);
        }
        self.listed_before_a_sibling(text, matches, out);
        self.water_listed_among_towns(text, matches, out);
    }

    /// A water that shares its name with a town (淀山湖 and 淀山湖镇, 阳澄湖 and 阳澄湖镇), listed
    /// among towns of that town's county (锦溪、周庄、淀山湖、金泽), is the town.
    fn water_listed_among_towns(&self, text: &str, matches: &[RawMatch], out: &mut [Option<Resolution>]) {
        let g = self.g;
        for i in 0..matches.len() {
            let Some(x) = out[i] else { continue };
            let w = &g.places[x.place];
            if !(w.level == Some(Level::Water) || w.level.is_none() && w.layer.as_deref() == Some("water")) {
                continue;
            }
            let neighbours = [i.checked_sub(1), (i + 1 < matches.len()).then_some(i + 1)];
            if let Some(town) =
                neighbours.into_iter().flatten().find_map(|j| self.listed_town(text, matches, out, i, j))
            {
                out[i] = Some(town);
            }
        }
    }

    /// A town's short form that is also a word, listed right before a town of the same county
    /// (浮桥、璜泾两镇), is a town too. The forward pass judged it before its neighbour was known
    /// and took it only after one; this pass walks back from each linked town.
    fn listed_before_a_sibling(&self, text: &str, matches: &[RawMatch], out: &mut [Option<Resolution>]) {
        for i in (0..matches.len().saturating_sub(1)).rev() {
            if out[i].is_some() {
                continue;
            }
            let Some(town) = self.listed_town(text, matches, out, i, i + 1) else { continue };
            let r = &matches[i];
            let mut buf = self.scratch.borrow_mut();
            let (window, start, end) = self.window(text, r, &mut buf);
            let fits = !after_title(window, start)
                && word_frequency(window.get(start..end).unwrap_or_default()) < VERY_COMMON
                && self.fit(window, start, end) >= WordFit::Bounded;
            drop(buf);
            if fits && !self.misplaced(r, text, None, town.place) {
                out[i] = Some(town);
            }
        }
    }

    /// Match `i` as a town of the county whose town match `j`, its neighbour in a list, was
    /// linked to: only across the enumeration comma (after "，" a word may start a new clause:
    /// 社会太平，元和…), and only if `i` names a town of that county.
    fn listed_town(
        &self,
        text: &str,
        matches: &[RawMatch],
        out: &[Option<Resolution>],
        i: usize,
        j: usize,
    ) -> Option<Resolution> {
        let g = self.g;
        let (a, b) = if j < i { (&matches[j], &matches[i]) } else { (&matches[i], &matches[j]) };
        if text.get(a.end..b.start) != Some("、") {
            return None;
        }
        let q = &g.places[out[j]?.place];
        let parent = q.parent.filter(|_| q.level == Some(Level::Township))?;
        let r = &matches[i];
        let name = self.verdict_name(r, text);
        let c = self.live(self.m.candidates(r), name.as_deref()).find(|c| {
            let p = &g.places[c.place as usize];
            p.level == Some(Level::Township) && p.parent == Some(parent)
        })?;
        let reason = Reason::SiblingNearby { parent: parent as u32 };
        Some(Resolution { place: c.place as usize, confidence: reason.confidence(), reason })
    }

    /// Whether what the words around a match say rules out `place`: the name is a road's
    /// (北京东路, 上海路), or a township named right after a city or county that it does not lie
    /// in (中山市沙溪镇 is Zhongshan's, not Taicang's 沙溪镇; the atlas has no towns of
    /// Guangdong). `prev` is the previous match's end and place.
    fn misplaced(&self, r: &RawMatch, text: &str, prev: Option<(usize, usize)>, place: usize) -> bool {
        let after = text.get(r.end..).unwrap_or_default();
        if names_a_road(after) || self.names_a_person_here(r, text) {
            return true;
        }
        let name = text.get(r.start..r.end).unwrap_or_default();
        if inside_a_compound(text.get(..r.start).unwrap_or_default(), name, after)
            && word_frequency(&self.m.fold().fold_str(name)) <= 1
        {
            return true;
        }
        let g = self.g;
        // A village's 村 that starts a word (永联村民, 新桥村庄, 建设村级) is that word's, not the
        // name's end.
        if g.places[place].level == Some(Level::Village) && after.starts_with(VILLAGE_TAILS) {
            return true;
        }
        let Some((_, before)) = prev.filter(|&(end, _)| end == r.start) else { return false };
        if !matches!(g.places[place].level, Some(Level::Township | Level::Zone))
            || !matches!(g.places[before].level, Some(Level::Province | Level::Prefecture | Level::County))
        {
            return false;
        }
        // The city the name before it belongs to (itself when it is a city or province): a town
        // of that city still fits (崑山周莊, though the outlines hang 周莊 from Suzhou).
        let city = g
            .ancestors(before)
            .find(|&a| matches!(g.places[a].level, Some(Level::Province | Level::Prefecture)))
            .unwrap_or(before);
        !g.is_within(place, city)
    }

    /// Whether a name without an administrative suffix is a person's here (李昆山同志, 王张家港主持):
    /// the atlas's own short names for cities (昆山, 张家港) are given names too, and link without
    /// other evidence. Only the character before and three after are folded, as most matches
    /// are such names.
    fn names_a_person_here(&self, r: &RawMatch, text: &str) -> bool {
        if text.get(r.start..r.end).is_none_or(ends_with_admin_suffix) {
            return false;
        }
        // What follows a person's name starts, at its first or second character, a form of address
        // or a verb: anything else is ruled out without folding a window.
        let fold = self.m.fold();
        if !text[r.end..].chars().take(2).any(|c| PERSON_CUES.contains(fold.map(c))) {
            return false;
        }
        let before = text[..r.start].char_indices().next_back().map_or(r.start, |(i, _)| i);
        let after = text[r.end..].char_indices().nth(3).map_or(text.len(), |(i, _)| r.end + i);
        let mut buf = self.scratch.borrow_mut();
        fold.fold_into(&text[before..after], &mut buf);
        let Ok(window) = std::str::from_utf8(&buf) else { return false };
        // Folding keeps every byte offset.
        let (start, end) = (r.start - before, r.end - before);
        window.is_char_boundary(start)
            && window.is_char_boundary(end)
            && (before_address(&window[end..]) || names_a_person(window, start, end))
    }

    /// The few words around a match, folded (simplified script, as jieba's dictionary is), and
    /// the match's byte range in them: all that word boundaries and titles need, without folding
    /// the whole passage again.
    fn window<'b>(&self, text: &str, r: &RawMatch, buf: &'b mut Vec<u8>) -> (&'b str, usize, usize) {
        let before = text[..r.start].char_indices().rev().take(WINDOW_CHARS).last().map_or(r.start, |(i, _)| i);
        let after = text[r.end..].char_indices().nth(WINDOW_CHARS).map_or(text.len(), |(i, _)| r.end + i);
        self.m.fold().fold_into(&text[before..after], buf);
        (std::str::from_utf8(buf).unwrap_or_default(), r.start - before, r.end - before)
    }

    fn weigh(
        &self,
        r: &RawMatch,
        text: &str,
        prev: Option<(usize, usize)>,
        here: &HashSet<usize>,
        here_implied: &HashSet<usize>,
        around: &[Option<usize>],
        cx: &DocumentContext,
    ) -> Option<Resolution> {
        let g = self.g;
        let name = self.verdict_name(r, text);
        let cands: std::borrow::Cow<[Candidate]> = match name {
            None => self.m.candidates(r).into(),
            Some(n) => self.live(self.m.candidates(r), Some(&n)).copied().collect::<Vec<_>>().into(),
        };
        if cands.is_empty() {
            return None;
        }
        let short = cands.iter().all(|c| c.kind != NameKind::Full);
        let mut scratch = self.scratch.borrow_mut();
        let (window, start, end) = if short { self.window(text, r, &mut scratch) } else { ("", 0, 0) };
        // A person's name after a title (书记曹路宝) is no place; one before a form of address
        // or a verb (张浦同志, 曹路宝主持) is refused for every name by `misplaced`.
        if short && after_title(window, start) {
            return None;
        }
        // How a short name fits the words around it: segmenting is the costly step, so it is
        // done only for a name about to be linked, and a short name inside a longer word
        // (大桥 in 长江大桥) never is. Without other evidence it must be a word of its own.
        let fit = std::cell::OnceCell::new();
        let pick = |place: usize, reason: Reason, need: WordFit| {
            let fits = !short || *fit.get_or_init(|| self.fit(window, start, end)) >= need;
            fits.then_some(Resolution { place, confidence: reason.confidence(), reason })
        };
        // Right after its parent: 吴江区同里镇, 崑山市千燈鎮.
        if let Some((end, parent)) = prev
            && end == r.start
            && let Some(c) = cands
                .iter()
                .filter(|c| c.place as usize != parent && g.is_within(c.place as usize, parent))
                .reduce(|a, b| {
                    // The first, unless a county and its own town share the name (湖州市南浔古镇).
                    match self.county_before_its_town(a.place as usize, b.place as usize, text, r) {
                        std::cmp::Ordering::Less => b,
                        _ => a,
                    }
                })
        {
            return pick(c.place as usize, Reason::AfterParent { parent: parent as u32 }, WordFit::Bounded);
        }
        // The strongest evidence for each candidate, then the strongest candidate.
        let evidence = |c: &Candidate| -> Option<Reason> {
            let p = c.place as usize;
            // Its parent and grandparent, but a province is too wide to place a town or an
            // everyday word (上海 near 建设 says nothing about Chongming's 建设镇).
            let township = matches!(g.places[p].level, Some(Level::Township | Level::Zone));
            let depth = if c.kind == NameKind::Common { 1 } else { 2 };
            let up = move || {
                g.ancestors(p)
                    .skip(1)
                    .take(depth)
                    .filter(move |&a| !(township && g.places[a].level == Some(Level::Province)))
            };
            if let Some(a) = up().find(|a| here.contains(a)) {
                return Some(Reason::ParentNearby { parent: a as u32 });
            }
            if cx.named.contains(&p) || here.contains(&p) {
                return Some(Reason::FullFormInDocument);
            }
            if let Some(a) = up().find(|a| cx.named.contains(a)) {
                return Some(Reason::ParentInDocument { parent: a as u32 });
            }
            let parent = g.places[p].parent?;
            if g.places[parent].level.is_some_and(|l| l >= Level::Prefecture)
                || g.places[p].level == Some(Level::Township)
            {
                if here_implied.contains(&parent) {
                    return Some(Reason::SiblingNearby { parent: parent as u32 });
                }
                if cx.implied.contains(&parent) {
                    return Some(Reason::SiblingInDocument { parent: parent as u32 });
                }
            }
            None
        };
        let best = cands.iter().filter_map(|c| evidence(c).map(|e| (c, e))).max_by(|a, b| {
            // Equal evidence: the atlas's or the planner's own place (虹桥 for the Hongqiao hub,
            // with 上海 and 南通 both named), then a county before its town of the same name.
            let curated = |c: &Candidate| g.places[c.place as usize].curated;
            a.1.confidence()
                .total_cmp(&b.1.confidence())
                .then(b.0.kind.cmp(&a.0.kind))
                .then(curated(a.0).cmp(&curated(b.0)))
                .then_with(|| self.county_before_its_town(a.0.place as usize, b.0.place as usize, text, r))
        });
        if let Some((c, reason)) = best {
            // A name that is also a word needs its county in the passage (松江 … 新桥); one of
            // the commonest words (合作, 建设: a thousand and more in jieba's corpus) needs its
            // own full name in the document (大桥镇 … 大桥), or its parent right before it, taken
            // above (江都区大桥).
            // Its full name vouches for it only in the same passage (大桥镇 … 大桥), and not at all
            // for the very commonest words (建设, 合作, 中心: a report says 体系建设 pages after
            // naming Chongming's 建设镇).
            let frequency = || word_frequency(window.get(start..end).unwrap_or_default());
            // Listed right after a town of the same county (周庄、华士、新桥三镇) it is a town too.
            let listed = prev.is_some_and(|(end, q)| {
                let gap = text.get(end..r.start).unwrap_or_default();
                let (pq, pc) = (&g.places[q], &g.places[c.place as usize]);
                LIST_GAPS.contains(&gap)
                    && pq.level == Some(Level::Township)
                    && pq.parent.is_some()
                    && pq.parent == pc.parent
            });
            let close = match reason {
                Reason::FullFormInDocument => here.contains(&(c.place as usize)) && frequency() < VERY_COMMON,
                // Its county in the passage and a town of it just before: a common word too (元和、
                // 太平、北桥: Xiangcheng's 太平街道), short of the very commonest.
                Reason::ParentNearby { .. } => frequency() < EVERYDAY || listed && frequency() < VERY_COMMON,
                _ => listed && frequency() < EVERYDAY,
            };
            if c.kind == NameKind::Common && !close {
                return None;
            }
            return pick(c.place as usize, reason, WordFit::Bounded);
        }
        // No evidence: full names link, short names by the region prior, everyday words never.
        let in_region = |c: &&Candidate| self.in_region[c.place as usize];
        let usable: Vec<&Candidate> = cands.iter().filter(|c| c.kind != NameKind::Common).collect();
        // Without evidence, a town's short form that the dictionary has as an ordinary word
        // (万里长江, 种植大麻, 利在千秋) is that word.
        let ordinary = std::cell::OnceCell::new();
        let word_not_town = |c: &&Candidate| {
            c.kind == NameKind::Short
                && matches!(g.places[c.place as usize].level, Some(Level::Township | Level::Zone | Level::Village))
                && *ordinary.get_or_init(|| self.ordinary(window.get(start..end).unwrap_or_default()))
        };
        let local: Vec<&Candidate> = usable.iter().copied().filter(in_region).filter(|c| !word_not_town(c)).collect();
        let others = (cands.len() - 1).min(u16::MAX as usize) as u16;
        if let [only] = usable.as_slice()
            && only.kind == NameKind::Full
        {
            return pick(only.place as usize, Reason::FullName, WordFit::Whole);
        }
        // One place's full name is another's short form (金鸡湖 the lake, 金鸡湖 for 金鸡湖街道):
        // the full name wins when it is a place of the region, unless the other is a place the
        // planner or the atlas gave (a layer's feature, an alias in gazetteer.json).
        let mut fulls = usable.iter().filter(|c| c.kind == NameKind::Full);
        if let (Some(full), None) = (fulls.next(), fulls.next())
            && in_region(full)
            && !usable.iter().any(|c| c.place != full.place && g.places[c.place as usize].curated)
        {
            return pick(full.place as usize, Reason::FullName, WordFit::Whole);
        }
        if let Some(c) = usable.iter().find(|c| {
            c.kind == NameKind::Short
                && matches!(g.places[c.place as usize].level, Some(Level::Province | Level::Prefecture))
        }) && usable
            .iter()
            .filter(|c| matches!(g.places[c.place as usize].level, Some(Level::Province | Level::Prefecture)))
            .count()
            == 1
        {
            // Without other evidence, a far city's short name starting an island's (长沙岛 in Taihu,
            // not Changsha) is no mention of the city.
            if text.get(r.end..).is_some_and(|after| after.starts_with(['岛', '島'])) {
                return None;
            }
            return pick(c.place as usize, Reason::ShortFormOfCity, WordFit::Whole);
        }
        match local.as_slice() {
            [only] => return pick(only.place as usize, Reason::OnlyInRegion, WordFit::Whole),
            [_, _, ..] => {
                let nearest = self.nearest(&local, cx.centre);
                return pick(nearest, Reason::NearestToDocument { others }, WordFit::Whole);
            }
            [] => {}
        }
        // A far place's short name, close to a place named beside it (靖江港 after 张家港港): the
        // document as a whole is no such evidence, as one that names Zhongshan somewhere does
        // not make 江海联运 its neighbour 江海区.
        if let Some((c, near)) = usable
            .iter()
            .filter(|c| c.kind == NameKind::Short && !in_region(c))
            .filter_map(|c| self.nearest_named(c.place as usize, around).map(|n| (c, n)))
            .min_by(|a, b| a.1.1.total_cmp(&b.1.1))
        {
            return pick(c.place as usize, Reason::NearNamedPlace { near: near.0 as u32 }, WordFit::Whole);
        }
        // Several far places share a full name: linked, but marked for the planner to settle;
        // unless the name is also an everyday word or inside one (主城区 is no district 城区).
        let full: Vec<&Candidate> = usable.iter().copied().filter(|c| c.kind == NameKind::Full).collect();
        if !full.is_empty() {
            let mut buf = Vec::new();
            let (w, s, e) = self.window(text, r, &mut buf);
            if word_frequency(w.get(s..e).unwrap_or_default()) >= EVERYDAY || self.fit(w, s, e) < WordFit::Bounded {
                return None;
            }
            return pick(self.nearest(&full, cx.centre), Reason::Ambiguous { others }, WordFit::Whole);
        }
        None
    }

    /// The candidate nearest `centre` (Suzhou when the document has no anchors with a position).
    fn nearest(&self, cands: &[&Candidate], centre: Option<[f64; 2]>) -> usize {
        let d = |c: &&Candidate| self.distance2(c.place as usize, centre);
        cands.iter().min_by(|a, b| d(a).total_cmp(&d(b))).map_or(0, |c| c.place as usize)
    }

    /// The place of `named` nearest `place`, if one lies within [`NEAR_NAMED_KM`], and how far,
    /// in km.
    fn nearest_named(&self, place: usize, named: &[Option<usize>]) -> Option<(usize, f64)> {
        let [x, y] = self.g.places[place].lon_lat?;
        named
            .iter()
            .flatten()
            .filter(|&&p| p != place)
            .filter_map(|&p| Some((p, self.compact_position(p)?)))
            .map(|(p, [px, py])| {
                let dx = (px - x) * y.to_radians().cos();
                (p, (dx * dx + (py - y) * (py - y)).sqrt() * 111.32)
            })
            .filter(|&(_, km)| km <= NEAR_NAMED_KM as f64)
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Between a county and its own town of the same short name (东台市 and 东台镇, 南浔区 and
    /// 南浔镇), the county, unless the words after it say town (南浔古镇): how `a` compares with
    /// `b`, greater being preferred.
    fn county_before_its_town(&self, a: usize, b: usize, text: &str, r: &RawMatch) -> std::cmp::Ordering {
        use std::cmp::Ordering::{Equal, Greater, Less};
        // A county's town is its child: one step, where every tie between candidates passes.
        let order = if self.g.places[b].parent == Some(a) {
            Greater
        } else if self.g.places[a].parent == Some(b) {
            Less
        } else {
            return Equal;
        };
        let town =
            text.get(r.end..).is_some_and(|after| ["镇", "鎮", "古镇", "古鎮"].iter().any(|t| after.starts_with(t)));
        if town { order.reverse() } else { order }
    }

    /// A place's point, or the centre of a feature no wider than a county (a port area along
    /// 45 km of shore, not the Yangtze, whose centre says nothing about what lies near it).
    fn compact_position(&self, place: usize) -> Option<[f64; 2]> {
        let p = &self.g.places[place];
        p.lon_lat.or_else(|| {
            let b = p.bounds?;
            (b.width().max(b.height()) < 0.6).then(|| b.center().into())
        })
    }

    /// Squared distance in degrees of latitude (longitude scaled) from a place to `centre`
    /// (Suzhou when unknown); infinite for a place without a point.
    fn distance2(&self, place: usize, centre: Option<[f64; 2]>) -> f64 {
        let [cx, cy] = centre.unwrap_or(SUZHOU);
        self.g.places[place].lon_lat.map_or(f64::INFINITY, |[x, y]| {
            let dx = (x - cx) * (cy.to_radians().cos());
            dx * dx + (y - cy) * (y - cy)
        })
    }
}

/// Characters that make a word with the 村 before them (村庄, 村落, 村民, 村镇, 村级, 村容), in
/// both scripts.
const VILLAGE_TAILS: [char; 9] = ['庄', '莊', '落', '民', '镇', '鎮', '级', '級', '容'];

/// What separates the items of a list of places (周庄、华士、新桥).
const LIST_GAPS: &[&str] = &["、", "和", "与", "及", "，"];

/// Titles that a person's name follows in official prose: 书记曹路宝, 市长吴庆文.
const TITLES: &[&str] = &[
    "书记",
    "市长",
    "区长",
    "县长",
    "镇长",
    "乡长",
    "省长",
    "主任",
    "局长",
    "部长",
    "主席",
    "委员",
    "同志",
    "先生",
    "女士",
    "董事长",
    "总经理",
    "院长",
    "校长",
    "厅长",
    "处长",
    "秘书长",
    "副市长",
    "总裁",
];

/// Forms of address that follow a person's name (张浦同志, 马陆先生, 王梅李等同志) and never a
/// place's (梅李等地 is places).
const ADDRESSES: &[&str] = &["同志", "先生", "女士", "老师", "师傅", "等同志"];

/// Whether `after`, the text right after a name, addresses a person by it.
fn before_address(after: &str) -> bool {
    ADDRESSES.iter().any(|a| after.starts_with(a))
}

/// Common surnames, less those that are also prepositions (于, 向): a name that starts with one,
/// or follows one, may be a person's.
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤";

/// What a person does in a report's sentences, right after their name.
const PERSON_VERBS: &[&str] = &[
    "主持",
    "指出",
    "强调",
    "表示",
    "要求",
    "出席",
    "参加",
    "讲话",
    "介绍",
    "会见",
    "调研",
    "一行",
    "说",
    "率队",
    "带队",
    "陪同",
    "发言",
    "作报告",
    "做报告",
];

/// The first characters of [`ADDRESSES`] and [`PERSON_VERBS`].
const PERSON_CUES: &str = "同先女老师主指强表要出参讲介会调一说等率带陪发作做";

/// Whether a name in `window[start..end]` is part of a person's name by what follows it: one more
/// character and a verb (曹路宝主持: a surname-led name and its last character), what only a
/// person does right after a surname-led name (陆渡带队), or a surname right before it and a verb
/// right after (王沙溪说).
///
/// ```
/// use port_atlas::text::resolve::names_a_person;
/// let w = "苏州港发展 曹路宝主持会议";
/// let s = w.find("曹路").unwrap();
/// assert!(names_a_person(w, s, s + "曹路".len()));
/// let w = "以沙溪为中心";
/// let s = w.find("沙溪").unwrap();
/// assert!(!names_a_person(w, s, s + "沙溪".len()));
/// ```
pub fn names_a_person(window: &str, start: usize, end: usize) -> bool {
    let (Some(before), Some(name), Some(after)) = (window.get(..start), window.get(start..end), window.get(end..))
    else {
        return false;
    };
    let verb = |s: &str| PERSON_VERBS.iter().any(|v| s.starts_with(v));
    let surname = |c: Option<char>| c.is_some_and(|c| SURNAMES.contains(c));
    let mut rest = after.chars();
    let one_more = rest.next().is_some_and(|c| !c.is_ascii() && !c.is_whitespace());
    // What only a person does: a town is not said to preside, lead a team or accompany anyone,
    // though it may introduce or stress (张浦介绍经验 is the town's).
    let leads = |s: &str| ["主持", "带队", "率队", "陪同"].iter().any(|v| s.starts_with(v));
    (surname(name.chars().next()) && (leads(after) || (one_more && verb(rest.as_str()))))
        || (surname(before.chars().next_back()) && verb(after))
}

/// Whether a name ends as an administrative unit's does (昆山市, 同里鎮, 金港街道), which no
/// person's name does.
fn ends_with_admin_suffix(name: &str) -> bool {
    ["省", "市", "区", "區", "县", "縣", "镇", "鎮", "乡", "鄉", "街道", "旗"].iter().any(|s| name.ends_with(s))
}

/// One-character forms of the region's cities and provinces, from which reports coin names for
/// what joins them (昆太 for Kunshan-Taicang, 苏锡常, 沪苏通), in both scripts.
const CITY_CHARACTERS: &str = "沪滬苏蘇浙皖锡錫常通嘉湖甬杭宁寧扬揚泰盐鹽昆崑太张張";

/// Whether a name coined from one-character city forms (昆太) is only part of a longer such name
/// here (苏昆太高速: the Suzhou-Kunshan-Taicang expressway, not the Kun-Tai zone). The caller
/// leaves alone a name that is also a dictionary word (太湖).
///
/// ```
/// use port_atlas::text::resolve::inside_a_compound;
/// assert!(inside_a_compound("依托苏", "昆太", "高速公路"));
/// assert!(!inside_a_compound("推进", "昆太", "协同发展"));
/// assert!(!inside_a_compound("江苏", "昆山", "花桥"), "昆山 is no coined name");
/// ```
pub fn inside_a_compound(before: &str, name: &str, after: &str) -> bool {
    let coined = |c: char| CITY_CHARACTERS.contains(c);
    // Every match passes here: the first character turns nearly all of them away.
    name.chars().next().is_some_and(coined)
        && (6..=9).contains(&name.len())
        && name.chars().all(coined)
        && (before.chars().next_back().is_some_and(coined) || after.chars().next().is_some_and(coined))
}

/// Whether the text just before `start` is a title, so what follows is a person.
fn after_title(folded: &str, start: usize) -> bool {
    folded.get(..start).is_some_and(|before| TITLES.iter().any(|t| before.ends_with(t)))
}

/// Whether `after`, the text right after a name, makes the name a street's: 北京东路, 人民大道,
/// 上海路 and 苏州街 are streets, while 太仓路网 (Taicang's roads), 苏州街头 (Suzhou's streets) and
/// 去上海路上 (on the way to Shanghai) still name the place.
///
/// ```
/// use port_atlas::text::resolve::names_a_road;
/// assert!(names_a_road("东路步行街"));
/// assert!(names_a_road("路123号"));
/// assert!(names_a_road("大道"));
/// assert!(!names_a_road("路网建设"));
/// assert!(!names_a_road("街道办事处"));
/// assert!(!names_a_road("港区"));
/// ```
pub fn names_a_road(after: &str) -> bool {
    const WAYS: &[&str] = &["东路", "東路", "西路", "南路", "北路", "中路", "大道", "大街"];
    if WAYS.iter().any(|w| after.starts_with(w)) {
        return true;
    }
    let mut chars = after.chars();
    let (Some(first), next) = (chars.next(), chars.next()) else { return false };
    // What follows 路 or 街 when the words are about the place, not a street named after it.
    let not_a_road = match first {
        '路' => "段网網线線径徑况況面口演过過上基灯燈边邊桥橋政费費程途",
        '街' => "道区區头頭景巷坊",
        _ => return false,
    };
    next.is_none_or(|c| !not_a_road.contains(c))
}

/// Matches either side of a name whose places count as its neighbours in the passage.
const NEIGHBOURS: usize = 8;

/// How close a far place must be to one the document names for its short name to link: about
/// the distance between neighbouring county seats.
const NEAR_NAMED_KM: u32 = 50;

/// Suzhou's centre: the prior for a document that names no place with a position.
const SUZHOU: [f64; 2] = [120.62, 31.32];

#[cfg(test)]
mod tests {
    #[test]
    fn person_cues_start_every_address_and_verb() {
        for w in super::ADDRESSES.iter().chain(super::PERSON_VERBS) {
            assert!(w.chars().next().is_some_and(|c| super::PERSON_CUES.contains(c)), "{w}");
        }
    }
}
