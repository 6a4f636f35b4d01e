//! A folder of reports, read as a planner keeps them: every document in it and its subfolders
//! (text in any encoding, Word, PDF, HTML), read and linked on every core, with progress a UI
//! can show and a cancel it can press. One bad file never stops the rest; many files failing
//! the same way make one message, not hundreds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::diagnostic::{Diagnostic, Position, Severity};
use crate::gazetteer::{Gazetteer, Matcher};
use crate::text::document::{Document, DocumentError};
use crate::text::extract::Format;

/// How far a reading has got, shared between the reading threads and whoever shows it.
#[derive(Debug, Default)]
pub struct Progress {
    pub total: AtomicUsize,
    pub done: AtomicUsize,
    pub cancel: AtomicBool,
}

impl Progress {
    /// (done, total).
    pub fn get(&self) -> (usize, usize) {
        (self.done.load(Ordering::Relaxed), self.total.load(Ordering::Relaxed))
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// The documents a folder holds and what else it holds.
#[derive(Debug, Default)]
pub struct Listing {
    /// Files of a kind port-atlas reads, sorted by path.
    pub documents: Vec<PathBuf>,
    /// Everything else, by extension ("" for none), for one note about what was left out.
    pub skipped: BTreeMap<String, usize>,
}

/// Lists `dir` and its subfolders (hidden files and folders, such as `.git`, left out).
pub fn list(dir: &Path) -> Result<Listing, DocumentError> {
    let mut out = Listing::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| DocumentError::Io { path: d.clone(), source })?;
        for e in entries.flatten() {
            let path = e.path();
            let hidden = e.file_name().to_str().is_some_and(|n| n.starts_with('.'));
            let Ok(kind) = e.file_type() else { continue };
            if hidden {
                continue;
            }
            if kind.is_dir() {
                stack.push(path);
            } else if Format::from_path(&path).is_some() {
                out.documents.push(path);
            } else {
                let ext = path.extension().and_then(|x| x.to_str()).unwrap_or("").to_ascii_lowercase();
                *out.skipped.entry(ext).or_default() += 1;
            }
        }
    }
    out.documents.sort();
    Ok(out)
}

impl Listing {
    /// One note for every file left out, naming the kinds: "left out 14 files that are not
    /// documents port-atlas reads: 9 .jpg, 3 .doc (save as .docx), 2 .zip".
    pub fn skipped_note(&self, dir: &Path) -> Option<Diagnostic> {
        let n: usize = self.skipped.values().sum();
        if n == 0 {
            return None;
        }
        let mut kinds: Vec<(&String, &usize)> = self.skipped.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let list: Vec<String> = kinds
            .iter()
            .map(|(ext, k)| match ext.as_str() {
                "" => format!("{k} without extension"),
                "doc" => format!("{k} .doc (old Word: save as .docx)"),
                "wps" => format!("{k} .wps (WPS: save as .docx)"),
                e => format!("{k} .{e}"),
            })
            .collect();
        let files = if n == 1 { "file that is not a document" } else { "files that are not documents" };
        Some(Diagnostic::new(
            Severity::Warning,
            dir,
            Position::File,
            format!("left out {n} {files} port-atlas reads (.txt, .docx, .pdf, .html): {}", list.join(", ")),
        ))
    }
}

/// Reads and links `files` on every core, in order; a file that cannot be read gives its error
/// in its place. Stops early when `progress` is cancelled: files not read are left out.
pub fn read(
    files: &[PathBuf],
    matcher: &Matcher,
    gazetteer: &Gazetteer,
    progress: &Progress,
) -> Vec<Result<Document, DocumentError>> {
    progress.total.store(files.len(), Ordering::Relaxed);
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<Document, DocumentError>>>> = files.iter().map(|_| Mutex::new(None)).collect();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    if progress.cancelled() {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    let doc = Document::load(path, matcher, gazetteer);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(doc);
                    }
                    progress.done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    slots.into_iter().filter_map(|m| m.into_inner().ok().flatten()).collect()
}

/// Errors as the problems list shows them: a handful one by one; more failing the same way
/// (a folder of scanned PDFs) as one message naming the first file and counting the rest.
pub fn diagnostics(errors: &[(PathBuf, DocumentError)]) -> Vec<Diagnostic> {
    const ONE_BY_ONE: usize = 3;
    let mut groups: Vec<(String, Vec<&(PathBuf, DocumentError)>)> = Vec::new();
    for e in errors {
        let k = kind(&e.1);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, v)) => v.push(e),
            None => groups.push((k, vec![e])),
        }
    }
    let mut out = Vec::new();
    for (_, group) in groups {
        if group.len() <= ONE_BY_ONE {
            out.extend(group.iter().map(|(p, e)| Diagnostic::from_error(p, e)));
            continue;
        }
        let (first, e) = group[0];
        let mut d = Diagnostic::from_error(first, e);
        let others: Vec<String> = group[1..]
            .iter()
            .take(5)
            .map(|(p, _)| p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into()))
            .collect();
        let more = group.len() - 1 - others.len();
        d.message.push_str(&format!(
            "; the same for {}{}",
            others.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        ));
        d.count = group.len();
        out.push(d);
    }
    out
}

/// What kind of failure an error is, for grouping: the variant, and the extractor's variant.
fn kind(e: &DocumentError) -> String {
    match e {
        DocumentError::Extract(x) => format!("extract {:?}", std::mem::discriminant(x)),
        other => format!("{:?}", std::mem::discriminant(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn a_folder_lists_its_documents_and_counts_the_rest() {
        let dir = std::env::temp_dir().join(format!("port-atlas-corpus-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("2021/sub")).unwrap();
        fs::create_dir_all(dir.join(".git")).unwrap();
        for f in ["a.txt", "2021/b.PDF", "2021/sub/c.docx", "d.html", "x.jpg", "y.jpg", "z.doc", ".git/HEAD", "README"]
        {
            fs::write(dir.join(f), b"x").unwrap();
        }
        let l = list(&dir).unwrap();
        let names: Vec<String> =
            l.documents.iter().map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["2021/b.PDF", "2021/sub/c.docx", "a.txt", "d.html"]);
        let note = l.skipped_note(&dir).unwrap().message;
        assert_eq!(
            note,
            "left out 4 files that are not documents port-atlas reads (.txt, .docx, .pdf, .html): \
             2 .jpg, 1 without extension, 1 .doc (old Word: save as .docx)"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn many_files_failing_alike_make_one_message() {
        let io = |n: &str| {
            let p = PathBuf::from(n);
            let e = DocumentError::Io { path: p.clone(), source: std::io::Error::other("denied") };
            (p, e)
        };
        let empty = |n: &str| (PathBuf::from(n), DocumentError::Empty { path: PathBuf::from(n) });
        let mut errors: Vec<_> = (0..10).map(|i| io(&format!("r{i}.txt"))).collect();
        errors.push(empty("blank.txt"));
        let d = diagnostics(&errors);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].count, 10);
        assert!(
            d[0].message.ends_with("; the same for r1.txt, r2.txt, r3.txt, r4.txt, r5.txt and 4 more"),
            "{}",
            d[0].message
        );
        assert_eq!(d[1].file, PathBuf::from("blank.txt"));
    }
}
