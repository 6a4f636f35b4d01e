//! Documents: a report's paragraphs (from a text, Word, PDF or HTML file; see
//! [`crate::text::extract`]) as passages with their sentences, linked to places, and dated.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::gazetteer::{Gazetteer, Matcher, RawMatch};
use crate::text::date::{DateSource, Dated, date_document, find_dates};
use crate::text::extract::{self, ExtractError, Extracted, Format, Paragraph};
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

/// A paragraph of the document.
#[derive(Debug, Clone, Serialize)]
pub struct Passage {
    pub id: String,
    /// 1-based: the line in a text file; in other formats the passage's number in the document,
    /// so presentation steps, which name their passage by it, work the same for every format.
    pub line: usize,
    /// 1-based page of a PDF.
    pub page: Option<u32>,
    /// 1-based paragraph: in the document for Word and HTML, in its page for a PDF.
    pub paragraph: Option<u32>,
    /// The paragraph exactly as extracted (a text file's line without its terminator).
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

    /// Where the passage is in its file, as a planner looks it up: "p. 3 ¶2", "¶5" or "L12".
    pub fn locator(&self) -> String {
        match (self.page, self.paragraph) {
            (Some(page), Some(par)) => format!("p.{page} ¶{par}"),
            (Some(page), None) => format!("p.{page}"),
            (None, Some(par)) => format!("¶{par}"),
            (None, None) => format!("L{}", self.line),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Document {
    pub id: String,
    pub path: PathBuf,
    pub format: Format,
    /// The text encoding of a text or HTML file and how it was told ("GB18030/GBK", "Big5" …).
    pub encoding: Option<String>,
    /// When it was written, and where that was found (see [`crate::text::date`]).
    pub date: Option<Dated>,
    /// What extraction could not do but read past (pages without text …).
    pub notes: Vec<String>,
    /// The publication date the file's metadata states, if any.
    pub published: Option<crate::text::date::ReportDate>,
    /// When the file was made (a PDF's creation date), if it says.
    pub created: Option<crate::text::date::ReportDate>,
    pub passages: Vec<Passage>,
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error("{path}: the document is empty (no text)")]
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

    /// Extracts (by the file's kind: text in any encoding planners use, Word, PDF, HTML), dates
    /// and links a document.
    pub fn from_bytes(
        path: &Path,
        bytes: &[u8],
        matcher: &Matcher,
        gazetteer: &Gazetteer,
    ) -> Result<Self, DocumentError> {
        let extracted = extract::extract(path, bytes)?;
        Self::from_extracted(path, extracted, matcher, gazetteer)
    }

    pub fn from_extracted(
        path: &Path,
        extracted: Extracted,
        matcher: &Matcher,
        gazetteer: &Gazetteer,
    ) -> Result<Self, DocumentError> {
        if extracted.paragraphs.is_empty() {
            return Err(DocumentError::Empty { path: path.to_path_buf() });
        }
        let id = path.file_stem().and_then(|s| s.to_str()).unwrap_or("document").to_string();
        let mut doc = Document {
            id,
            path: path.to_path_buf(),
            format: extracted.format,
            encoding: extracted.encoding,
            date: None,
            notes: extracted.notes,
            published: extracted.published.as_deref().and_then(|p| find_dates(p).into_iter().next()).map(|f| f.date),
            created: extracted.created.as_deref().and_then(|p| find_dates(p).into_iter().next()).map(|f| f.date),
            passages: extracted
                .paragraphs
                .into_iter()
                .enumerate()
                .map(|(k, p)| {
                    let line = p.line.map_or(k + 1, |l| l as usize);
                    Passage {
                        id: format!("p{line}"),
                        line,
                        page: p.page,
                        paragraph: p.paragraph,
                        text: p.text,
                        sentences: Vec::new(),
                        mentions: Vec::new(),
                    }
                })
                .collect(),
        };
        doc.date = doc.own_date();
        doc.relink(matcher, gazetteer);
        Ok(doc)
    }

    /// Splits and links UTF-8 text already in memory: each non-blank line a passage.
    pub fn from_text(id: &str, path: &Path, text: &str, matcher: &Matcher, gazetteer: &Gazetteer) -> Self {
        let paragraphs = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| Paragraph { text: l.to_string(), page: None, paragraph: None, line: Some(i as u32 + 1) })
            .collect();
        let extracted = Extracted {
            format: Format::Txt,
            encoding: None,
            paragraphs,
            notes: Vec::new(),
            published: None,
            created: None,
        };
        match Self::from_extracted(path, extracted, matcher, gazetteer) {
            Ok(mut d) => {
                d.id = id.to_string();
                d
            }
            Err(_) => Document {
                id: id.to_string(),
                path: path.to_path_buf(),
                format: Format::Txt,
                encoding: None,
                date: None,
                notes: Vec::new(),
                published: None,
                created: None,
                passages: Vec::new(),
            },
        }
    }

    /// Links the passages again (a new gazetteer, a verdict) with [`link_texts`]. Text,
    /// positions and date stay.
    pub fn relink(&mut self, matcher: &Matcher, gazetteer: &Gazetteer) {
        let texts: Vec<&str> = self.passages.iter().map(|p| p.text.as_str()).collect();
        let links = link_texts(&texts, matcher, gazetteer);
        self.set_links(links);
    }

    /// Takes what [`link_texts`] gave for this document's passages, in order (a re-link that ran
    /// on another thread from copies of the texts).
    pub fn set_links(&mut self, links: Vec<PassageLinks>) {
        for (p, l) in self.passages.iter_mut().zip(links) {
            p.sentences = l.sentences;
            p.mentions = l.mentions;
        }
    }

    /// The planner's date for the document, or back to what the document says.
    pub fn set_date(&mut self, date: Option<crate::text::date::ReportDate>) {
        self.date = match date {
            Some(date) => Some(Dated { date, source: DateSource::Edited }),
            None => self.own_date(),
        };
    }

    /// The date the document gives: what its text says first (a reader sees it), then its
    /// file's metadata, then its file name, then when the file was made.
    fn own_date(&self) -> Option<Dated> {
        let name = self.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let texts: Vec<&str> = self.passages.iter().map(|p| p.text.as_str()).collect();
        let from_text = date_document(&texts, name);
        let metadata = self.published.map(|date| Dated { date, source: DateSource::Metadata });
        let created = self.created.map(|date| Dated { date, source: DateSource::Created });
        match from_text {
            Some(d) if d.source == DateSource::FileName => metadata.or(Some(d)),
            Some(d) => Some(d),
            None => metadata.or(created),
        }
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

/// What linking gives one passage.
#[derive(Debug, Clone, Default)]
pub struct PassageLinks {
    pub sentences: Vec<Range<usize>>,
    pub mentions: Vec<Mention>,
}

/// Links one document's passages: every passage is matched, the document's anchors gathered,
/// then each passage's matches resolved against them (see [`crate::text::resolve`]). Takes the
/// texts alone so that it can run anywhere the gazetteer is shared.
pub fn link_texts(texts: &[&str], matcher: &Matcher, gazetteer: &Gazetteer) -> Vec<PassageLinks> {
    let mut buf = Vec::new();
    let raws: Vec<Vec<RawMatch>> = texts
        .iter()
        .map(|t| {
            let mut raw = Vec::new();
            matcher.find(t, &mut buf, &mut raw);
            raw
        })
        .collect();
    let resolver = Resolver::new(gazetteer, matcher);
    let cx = resolver.context(texts.iter().zip(&raws).map(|(t, r)| (*t, r.as_slice())));
    let mut resolved = Vec::new();
    texts
        .iter()
        .zip(&raws)
        .enumerate()
        .map(|(k, (text, raw))| {
            resolved.clear();
            if !raw.is_empty() {
                resolver.passage(k, text, raw, &cx, &mut resolved);
            }
            let sentences = split_sentences(text);
            let mentions = to_mentions(text, raw, &resolved, &sentences, gazetteer);
            PassageLinks { sentences, mentions }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gazetteer::{GazetteerFile, PlaceEntry};
    use crate::text::date::ReportDate;

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
    fn empty_documents_are_errors_and_gbk_text_is_read() {
        let (g, m) = setup();
        let e = Document::from_bytes(Path::new("empty.txt"), b"  \n\n", &m, &g).unwrap_err();
        assert!(e.to_string().starts_with("empty.txt: "), "{e}");
        // 昆太協同發展區 in GBK (simplified 昆太协同发展区), on line 2.
        let gbk = b"ok\n\xc0\xa5\xcc\xab\xd0\xad\xcd\xac\xb7\xa2\xd5\xb9\xc7\xf8";
        let d = Document::from_bytes(Path::new("gbk.txt"), gbk, &m, &g).unwrap();
        assert_eq!(d.passages[1].line, 2);
        assert_eq!(d.passages[1].places(), vec!["kuntai"]);
        assert!(d.encoding.as_deref().unwrap_or("").contains("GB"), "{:?}", d.encoding);
    }

    #[test]
    fn a_page_is_dated_by_its_text_then_its_metadata_then_its_name() {
        let (g, m) = setup();
        let page = |body: &str| {
            format!("<html><head><meta name=\"PubDate\" content=\"2021-03-05 10:30\"></head><body>{body}</body></html>")
        };
        let dated = |name: &str, body: &str| {
            let d = Document::from_bytes(Path::new(name), page(body).as_bytes(), &m, &g).unwrap();
            let x = d.date.unwrap();
            (x.date.iso(), x.source)
        };
        assert_eq!(
            dated("2020-01-01.html", "<p>昆太協同發展區建設。</p>"),
            ("2021-03-05".into(), DateSource::Metadata)
        );
        assert_eq!(
            dated("a.html", "<p>发布时间：2021-03-06</p><p>昆太協同發展區建設。</p>"),
            ("2021-03-06".into(), DateSource::Dateline)
        );
        let mut d = Document::from_bytes(Path::new("a.html"), page("<p>昆太</p>").as_bytes(), &m, &g).unwrap();
        d.set_date(ReportDate::parse("2019-05"));
        assert_eq!(d.date.unwrap().source, DateSource::Edited);
        d.set_date(None);
        assert_eq!(d.date.unwrap().source, DateSource::Metadata);
        // A file's creation date is the last resort, after its name.
        d.created = ReportDate::parse("2018-01-02");
        d.published = None;
        d.set_date(None);
        assert_eq!(d.date.unwrap().source, DateSource::Created);
        d.path = "2017-06-01 纪要.html".into();
        d.set_date(None);
        assert_eq!(d.date.unwrap().date.iso(), "2017-06-01");
    }

    #[test]
    fn sentences_split_on_chinese_and_latin_punctuation() {
        assert_eq!(split_sentences("甲。乙！「丙？」丁"), vec![0..2, 2..4, 4..8, 8..9]);
        assert_eq!(split_sentences("One. Two 3.5 ok"), vec![0..4, 5..15]);
    }
}
