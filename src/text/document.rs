//! Documents: plain UTF-8 text split into passages (non-empty lines) and sentences, linked to places.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::gazetteer::{Gazetteer, Matcher, RawMatch};
use crate::text::resolve::{Reason, Resolution, Resolver, UNCERTAIN};

/// One mention of a place inside a passage. Offsets count Unicode scalar values in `Passage::text`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mention {
    pub place: String,
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// Index into the passage's sentences.
    pub sentence: usize,
    /// How sure the linking is that this name means this place, 0..1.
    pub confidence: f32,
    /// Why (see [`Reason::describe`]).
    #[serde(skip)]
    pub reason: Reason,
}

impl Mention {
    /// Shown differently and listed for the planner's review.
    pub fn is_uncertain(&self) -> bool {
        self.confidence < UNCERTAIN
    }
}

/// A paragraph of the document: one non-empty line.
#[derive(Debug, Clone, Serialize)]
pub struct Passage {
    pub id: String,
    /// 1-based line in the file.
    pub line: usize,
    /// The line exactly as in the file (without its line terminator).
    pub text: String,
    /// Sentence ranges in chars.
    pub sentences: Vec<Range<usize>>,
    pub mentions: Vec<Mention>,
}

impl Passage {
    /// Distinct place ids this passage mentions, in order of first mention.
    pub fn places(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for m in &self.mentions {
            if !out.contains(&m.place.as_str()) {
                out.push(&m.place);
            }
        }
        out
    }

    /// The text of sentence `i`.
    pub fn sentence_text(&self, i: usize) -> String {
        let r = &self.sentences[i];
        self.text.chars().skip(r.start).take(r.end - r.start).collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub id: String,
    pub path: PathBuf,
    pub passages: Vec<Passage>,
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: not UTF-8 text (invalid byte at offset {offset}); save the document as UTF-8")]
    NotUtf8 { path: PathBuf, line: usize, offset: usize },
    #[error("{path}: the document is empty (no non-blank lines)")]
    Empty { path: PathBuf },
}

/// A place and where it is mentioned: the reverse of [`Passage::mentions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MentionRef {
    pub document: usize,
    pub passage: usize,
    pub mention: usize,
}

impl Document {
    pub fn load(path: &Path, matcher: &Matcher, gazetteer: &Gazetteer) -> Result<Self, DocumentError> {
        let bytes = std::fs::read(path).map_err(|source| DocumentError::Io { path: path.to_path_buf(), source })?;
        Self::from_bytes(path, &bytes, matcher, gazetteer)
    }

    pub fn from_bytes(
        path: &Path,
        bytes: &[u8],
        matcher: &Matcher,
        gazetteer: &Gazetteer,
    ) -> Result<Self, DocumentError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let offset = e.valid_up_to();
            let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
            DocumentError::NotUtf8 { path: path.to_path_buf(), line, offset }
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let id = path.file_stem().and_then(|s| s.to_str()).unwrap_or("document").to_string();
        let doc = Self::from_text(&id, path, text, matcher, gazetteer);
        if doc.passages.is_empty() {
            return Err(DocumentError::Empty { path: path.to_path_buf() });
        }
        Ok(doc)
    }

    /// Splits and links already-decoded text: every passage is matched, the document's anchors
    /// gathered, then each passage's matches resolved against them (see [`crate::text::resolve`]).
    pub fn from_text(id: &str, path: &Path, text: &str, matcher: &Matcher, gazetteer: &Gazetteer) -> Self {
        let mut lines: Vec<(usize, &str, Vec<RawMatch>)> = Vec::new();
        let mut buf = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let mut raw = Vec::new();
            matcher.find(line, &mut buf, &mut raw);
            lines.push((i, line, raw));
        }
        let resolver = Resolver::new(gazetteer, matcher);
        let cx = resolver.context(lines.iter().map(|(_, l, r)| (*l, r.as_slice())));
        let mut resolved = Vec::new();
        let passages = lines
            .into_iter()
            .enumerate()
            .map(|(k, (i, line, raw))| {
                resolved.clear();
                if !raw.is_empty() {
                    resolver.passage(k, line, &raw, &cx, &mut resolved);
                }
                let sentences = split_sentences(line);
                let mentions = to_mentions(line, &raw, &resolved, &sentences, gazetteer);
                Passage { id: format!("p{}", i + 1), line: i + 1, text: line.to_string(), sentences, mentions }
            })
            .collect();
        Document { id: id.to_string(), path: path.to_path_buf(), passages }
    }

    /// Every mention of the place with id `place`, in document order.
    pub fn mentions_of<'a>(&'a self, place: &'a str) -> impl Iterator<Item = (usize, usize, &'a Mention)> + 'a {
        self.passages.iter().enumerate().flat_map(move |(pi, p)| {
            p.mentions.iter().enumerate().filter(move |(_, m)| m.place == place).map(move |(mi, m)| (pi, mi, m))
        })
    }
}

/// Converts resolved byte-range matches into char-offset mentions in one forward pass (a 10 MB
/// single-line document stays linear).
fn to_mentions(
    line: &str,
    raw: &[RawMatch],
    resolved: &[Option<Resolution>],
    sentences: &[Range<usize>],
    g: &Gazetteer,
) -> Vec<Mention> {
    let mut out = Vec::with_capacity(raw.len());
    let mut byte_pos = 0;
    let mut char_pos = 0;
    let mut sentence = 0;
    for (r, res) in raw.iter().zip(resolved) {
        let Some(res) = res else { continue };
        char_pos += line[byte_pos..r.start].chars().count();
        let start = char_pos;
        let text = &line[r.start..r.end];
        let end = start + text.chars().count();
        char_pos = end;
        byte_pos = r.end;
        while sentence + 1 < sentences.len() && sentences[sentence].end <= start {
            sentence += 1;
        }
        out.push(Mention {
            place: g.places[res.place].id.clone(),
            start,
            end,
            text: text.to_string(),
            sentence,
            confidence: res.confidence,
            reason: res.reason,
        });
    }
    out
}

/// Sentence ranges (in chars) of a passage: a sentence ends after 。！？；!? (and any closing
/// quotes or brackets right after), or at ". " in Latin text.
pub fn split_sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        i += 1;
        let end_here = matches!(c, '。' | '！' | '？' | '；' | '!' | '?')
            || (c == '.' && it.peek().is_none_or(|n| n.is_whitespace()));
        if end_here {
            while it.peek().is_some_and(|&n| matches!(n, '」' | '』' | '”' | '’' | '）' | ')' | '"')) {
                it.next();
                i += 1;
            }
            out.push(start..i);
            while it.peek().is_some_and(|n| n.is_whitespace()) {
                it.next();
                i += 1;
            }
            start = i;
        }
    }
    if start < i {
        out.push(start..i);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gazetteer::{GazetteerFile, PlaceEntry};

    fn setup() -> (Gazetteer, Matcher) {
        let file = GazetteerFile {
            places: vec![PlaceEntry {
                id: "kuntai".into(),
                name_zh_hant: "昆太協同發展區".into(),
                name_zh_hans: "昆太协同发展区".into(),
                name_en: "Kun-Tai Zone".into(),
                aliases: vec!["昆太".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        let (g, _) = Gazetteer::build_with(&[], &[], &file, Path::new("g"));
        let m = Matcher::new(&g);
        (g, m)
    }

    #[test]
    fn passages_are_lines_with_char_offsets() {
        let (g, m) = setup();
        let text = "標題\n\n第一句。昆太協同發展區現已集聚企業,推進昆太聯動。\n";
        let d = Document::from_bytes(Path::new("d.txt"), text.as_bytes(), &m, &g).unwrap();
        assert_eq!(d.passages.len(), 2);
        let p = &d.passages[1];
        assert_eq!(p.line, 3);
        assert_eq!(p.sentences, vec![0..4, 4..25]);
        assert_eq!(p.mentions.len(), 2);
        assert_eq!((p.mentions[0].start, p.mentions[0].end, p.mentions[0].sentence), (4, 11, 1));
        assert_eq!(p.mentions[1].text, "昆太");
        let chars: Vec<char> = p.text.chars().collect();
        let sliced: String = chars[p.mentions[1].start..p.mentions[1].end].iter().collect();
        assert_eq!(sliced, "昆太");
        assert_eq!(p.places(), vec!["kuntai"]);
        assert_eq!(d.mentions_of("kuntai").count(), 2);
    }

    #[test]
    fn empty_and_non_utf8_documents_are_errors() {
        let (g, m) = setup();
        let e = Document::from_bytes(Path::new("empty.txt"), b"  \n\n", &m, &g).unwrap_err();
        assert_eq!(e.to_string(), "empty.txt: the document is empty (no non-blank lines)");
        let e = Document::from_bytes(Path::new("gbk.txt"), b"ok\n\xcc\xab\xb2\xd6", &m, &g).unwrap_err();
        assert!(e.to_string().starts_with("gbk.txt:2: not UTF-8"), "{e}");
    }

    #[test]
    fn sentences_split_on_chinese_and_latin_punctuation() {
        assert_eq!(split_sentences("甲。乙！「丙？」丁"), vec![0..2, 2..4, 4..8, 8..9]);
        assert_eq!(split_sentences("One. Two 3.5 ok"), vec![0..4, 5..15]);
    }
}
