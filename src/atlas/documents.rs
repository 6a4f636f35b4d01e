//! The atlas's documents: adding files and folders of reports, the planner's corrections to
//! their dates (kept in `document-dates.json`), mentions across the corpus, and `links --json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};

use super::Atlas;
use crate::diagnostic::{Diagnostic, Position};
use crate::document::{Document, DocumentError, MentionRef};
use crate::gazetteer::{Gazetteer, Matcher};
use crate::text::corpus::{self, Progress};
use crate::text::date::ReportDate;

/// The planner's dates for documents, by path: what they set in the document panel, applied
/// whenever the document is opened again.
#[derive(Debug, Clone, Default)]
pub struct DateStore {
    /// Where they are saved; `None`: this session only.
    pub path: Option<PathBuf>,
    dates: BTreeMap<String, String>,
}

/// The file a data folder keeps its document dates in.
pub const DATES_FILE: &str = "document-dates.json";

impl DateStore {
    /// Reads `path` (missing: empty). An unreadable file is reported and never overwritten.
    pub fn open(path: &Path) -> (Self, Option<Diagnostic>) {
        if !path.is_file() {
            return (DateStore { path: Some(path.to_path_buf()), dates: BTreeMap::new() }, None);
        }
        let parsed = std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<BTreeMap<String, String>>(&b).map_err(|e| e.to_string()));
        match parsed {
            Ok(dates) => {
                // A date no one can read is reported (naming the document) and left in the file.
                let bad: Vec<String> = dates
                    .iter()
                    .filter(|(_, v)| ReportDate::parse(v).is_none())
                    .map(|(k, v)| format!("{k}: {v:?}"))
                    .collect();
                let problem = (!bad.is_empty()).then(|| {
                    Diagnostic::warning(
                        path,
                        Position::File,
                        format!("dates that are not dates (write 2021-03-05 or 2021-03), ignored: {}", bad.join("; ")),
                    )
                });
                (DateStore { path: Some(path.to_path_buf()), dates }, problem)
            }
            Err(e) => {
                let d = Diagnostic::error(path, Position::File, format!("cannot read the document dates: {e}"));
                (DateStore { path: None, dates: BTreeMap::new() }, Some(d))
            }
        }
    }

    /// The key a document is stored under: its path relative to the store's folder when inside
    /// it (a data folder can move), else absolute.
    fn key(&self, doc: &Path) -> String {
        let abs = std::fs::canonicalize(doc).unwrap_or_else(|_| doc.to_path_buf());
        let base = self.path.as_deref().and_then(Path::parent).and_then(|b| std::fs::canonicalize(b).ok());
        match base.as_deref().and_then(|b| abs.strip_prefix(b).ok()) {
            Some(rel) => rel.display().to_string(),
            None => abs.display().to_string(),
        }
    }

    fn get(&self, doc: &Path) -> Option<ReportDate> {
        // Most sessions set no date: a folder of a thousand reports then asks the disk nothing.
        if self.dates.is_empty() {
            return None;
        }
        self.dates.get(&self.key(doc)).and_then(|s| ReportDate::parse(s))
    }

    /// Records (or with `None` forgets) a date and saves at once; returns the file written.
    fn set(&mut self, doc: &Path, date: Option<ReportDate>) -> std::io::Result<Option<PathBuf>> {
        let key = self.key(doc);
        match date {
            Some(d) => self.dates.insert(key, d.iso()),
            None => self.dates.remove(&key),
        };
        let Some(path) = &self.path else { return Ok(None) };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let text = serde_json::to_string_pretty(&self.dates).map_err(std::io::Error::other)?;
        crate::geodata::write_atomic(path, text.as_bytes())?;
        Ok(Some(path.clone()))
    }
}

/// What reading `--document` paths gave: the documents, and problems with files in folders
/// (a single file that fails is an error instead).
#[derive(Debug, Default)]
pub struct Loaded {
    pub documents: Vec<Document>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads files and folders of reports with the given linker; `progress` counts files across all
/// of them and can cancel. A file named directly that fails is an error; in a folder, failures
/// are collected (and grouped) so the rest loads.
pub fn read_paths(
    paths: &[PathBuf],
    matcher: &Matcher,
    gazetteer: &Gazetteer,
    progress: &Progress,
) -> Result<Loaded, DocumentError> {
    let mut files = Vec::new();
    let mut out = Loaded::default();
    let mut named = Vec::new();
    for p in paths {
        if p.is_dir() {
            let listing = corpus::list(p)?;
            out.diagnostics.extend(listing.skipped_note(p));
            files.extend(listing.documents);
        } else {
            named.push(files.len());
            files.push(p.clone());
        }
    }
    let mut errors = Vec::new();
    for (i, r) in corpus::read(&files, matcher, gazetteer, progress).into_iter().enumerate() {
        match r {
            Ok(d) => out.documents.push(d),
            Err(e) if named.contains(&i) => return Err(e),
            Err(e) => errors.push((files[i].clone(), e)),
        }
    }
    out.diagnostics.extend(corpus::diagnostics(&errors));
    Ok(out)
}

impl Atlas {
    /// The matcher and gazetteer documents are linked with, to link on another thread.
    pub fn linker(&self) -> (Arc<Matcher>, Arc<Gazetteer>) {
        (Arc::clone(&self.matcher), Arc::clone(&self.gazetteer))
    }

    /// Where the planner's document dates are kept (see [`DateStore`]); dates already stored
    /// apply to the open documents at once.
    pub fn use_date_store(&mut self, path: &Path) {
        let (store, problem) = DateStore::open(path);
        self.diagnostics.extend(problem);
        self.dates = store;
        for d in &mut self.documents {
            if let Some(date) = self.dates.get(&d.path) {
                d.set_date(Some(date));
            }
        }
    }

    /// `$XDG_CONFIG_HOME/port-atlas/document-dates.json`: the built-in atlas's document dates.
    pub fn config_date_store() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("port-atlas").join(DATES_FILE))
    }

    /// Adds documents read elsewhere (a folder read on a worker thread). Documents linked with
    /// an older gazetteer (a verdict given while they were read) are linked again. Returns the
    /// index of the first one added.
    pub fn add_documents(&mut self, docs: Vec<Document>, linked_with: &Arc<Gazetteer>) -> usize {
        let first = self.documents.len();
        let stale = !Arc::ptr_eq(linked_with, &self.gazetteer);
        for mut d in docs {
            if stale {
                d.relink(&self.matcher, &self.gazetteer);
            }
            if let Some(date) = self.dates.get(&d.path) {
                d.set_date(Some(date));
            }
            self.documents.push(d);
        }
        self.refresh_mentioned();
        first
    }

    /// Loads and links one document; on error nothing changes.
    pub fn add_document(&mut self, path: &Path) -> Result<usize, DocumentError> {
        let d = Document::load(path, &self.matcher, &self.gazetteer)?;
        let linked_with = Arc::clone(&self.gazetteer);
        Ok(self.add_documents(vec![d], &linked_with))
    }

    /// Replaces the documents with those at `paths`, files or folders (the `--document` option).
    /// Problems with files inside folders join the diagnostics; a file named directly that
    /// cannot be read is an error and leaves the documents as they were.
    pub fn replace_documents(&mut self, paths: &[PathBuf]) -> Result<(), DocumentError> {
        let loaded = read_paths(paths, &self.matcher, &self.gazetteer, &Progress::default())?;
        self.documents.clear();
        let linked_with = Arc::clone(&self.gazetteer);
        self.add_documents(loaded.documents, &linked_with);
        self.diagnostics.extend(loaded.diagnostics);
        Ok(())
    }

    /// The planner's date for document `i` (`None`: back to what the document says), saved at
    /// once. Returns the file written, if any.
    pub fn set_document_date(&mut self, i: usize, date: Option<ReportDate>) -> std::io::Result<Option<PathBuf>> {
        let Some(d) = self.documents.get_mut(i) else { return Ok(None) };
        d.set_date(date);
        self.dates.set(&d.path, date)
    }

    /// Every mention of a place across all documents, in document order.
    pub fn mentions_of(&self, place: &str) -> Vec<MentionRef> {
        let mut out = Vec::new();
        for (di, d) in self.documents.iter().enumerate() {
            for (pi, mi, _) in d.mentions_of(place) {
                out.push(MentionRef { document: di, passage: pi, mention: mi });
            }
        }
        out
    }

    /// Every mention of a place, newest document first (undated documents last, then in the
    /// order they were opened): what the place panel lists.
    pub fn mentions_newest_first(&self, place: &str) -> Vec<MentionRef> {
        let mut out = self.mentions_of(place);
        let date = |m: &MentionRef| self.documents[m.document].date.map(|d| d.date);
        // Stable: passages of one document stay in reading order.
        out.sort_by_key(|m| std::cmp::Reverse(date(m)));
        out
    }

    /// The `links --json` document: every place the documents mention and every curated place
    /// (the regional table's other thousands are left out), with its representative point,
    /// accuracy and source; every document with its format and date; every mention with its
    /// confidence and reason.
    pub fn links_json(&self) -> Value {
        let g = &self.gazetteer;
        let mut passages_of: Vec<Vec<String>> = vec![Vec::new(); g.places.len()];
        for d in &self.documents {
            for p in &d.passages {
                for m in &p.mentions {
                    if let Some(i) = g.position(&m.place) {
                        let key = format!("{}#{}", d.id, p.id);
                        if passages_of[i].last() != Some(&key) && !passages_of[i].contains(&key) {
                            passages_of[i].push(key);
                        }
                    }
                }
            }
        }
        let places: Vec<Value> = g
            .places
            .iter()
            .zip(&passages_of)
            .filter(|(p, passages)| p.curated || !passages.is_empty())
            .map(|(p, passages)| {
                json!({
                    "id": p.id, "name_zh_hant": p.name_zh_hant, "name_zh_hans": p.name_zh_hans,
                    "name_en": p.name_en, "aliases": p.aliases, "layer": p.layer,
                    "passages": passages,
                    "lon_lat": self.representative_point(p), "accuracy_m": p.accuracy_m, "source": p.source,
                    "admin_code": p.admin_code, "level": p.level,
                    "parent": p.parent.map(|i| g.places[i].id.as_str()),
                })
            })
            .collect();
        let documents: Vec<Value> = self.documents.iter().map(|d| document_json(d, g)).collect();
        json!({ "places": places, "documents": documents })
    }
}

/// One document in `links --json`: its format, encoding and date, then its passages with
/// their place in the file (line, page, paragraph) and mentions.
pub fn document_json(d: &Document, g: &Gazetteer) -> Value {
    json!({
        "id": d.id,
        "path": d.path.display().to_string(),
        "format": d.format.as_str(),
        "encoding": d.encoding,
        "date": d.date.map(|x| x.date.iso()),
        "date_source": d.date.map(|x| x.source.describe()),
        "passages": d.passages.iter().map(|p| {
            let mut v = json!({
                "id": p.id, "line": p.line, "text": p.text,
                "sentences": p.sentences.iter().map(|r| [r.start, r.end]).collect::<Vec<_>>(),
                "mentions": p.mentions.iter().map(|m| json!({
                    "place": m.place, "start": m.start, "end": m.end, "text": m.text, "sentence": m.sentence,
                    "confidence": (m.confidence * 100.0).round() / 100.0,
                    "reason": m.reason.describe(g),
                })).collect::<Vec<_>>(),
            });
            if let Some(page) = p.page {
                v["page"] = json!(page);
            }
            if let Some(par) = p.paragraph {
                v["paragraph"] = json!(par);
            }
            v
        }).collect::<Vec<_>>(),
    })
}
