//! Problems found in a user's files, with file, position and severity, aggregated so that a
//! layer of 100,000 features with one recurring gap yields one line, not 100,000.
//!
//! Every reader in the core reports through [`Diagnostics`]; the app's problems window shows the
//! same list. The list is bounded ([`Diagnostics::MAX_ENTRIES`]) however much input arrives.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

/// Whether the thing reported was left out (error) or used with a caveat (warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

/// Where in a file a problem is.
#[derive(Debug, Clone, PartialEq)]
pub enum Position {
    File,
    /// 1-based line and column of a syntax error.
    LineColumn(usize, usize),
    /// 0-based index of a feature in the collection, and its id when it has one.
    Feature(usize, Option<String>),
    /// Where a binary or tabular format puts it, in words: "record 12 (byte 1,204)",
    /// "sheet \"企业\" row 5", "table \"roads\"".
    At(String),
}

/// One problem found in a file, with enough context to find and fix it.
///
/// `count` is how many occurrences this entry stands for: repeats of the same message in the same
/// file are folded into the first one, whose position is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    pub position: Position,
    pub message: String,
    pub count: usize,
}

impl Diagnostic {
    pub fn new(severity: Severity, file: impl Into<PathBuf>, position: Position, message: impl Into<String>) -> Self {
        Diagnostic { severity, file: file.into(), position, message: message.into(), count: 1 }
    }

    pub fn error(file: impl Into<PathBuf>, position: Position, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, file, position, message)
    }

    pub fn warning(file: impl Into<PathBuf>, position: Position, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, file, position, message)
    }

    /// An error about `file` from an error value whose text may already start with the file's
    /// name (as `LoadError`s and `HttpError`s do): the name is not repeated.
    pub fn from_error(file: impl Into<PathBuf>, error: &dyn std::error::Error) -> Self {
        let file = file.into();
        let text = error.to_string();
        let name = file.display().to_string();
        let message = text.strip_prefix(&format!("{name}: ")).map(str::to_string).unwrap_or(text);
        Self::error(file, Position::File, message)
    }

    /// The message with its position but without severity and file, for a UI that groups by file.
    pub fn located_message(&self) -> String {
        let mut s = match &self.position {
            Position::File => String::new(),
            Position::LineColumn(l, c) => format!("line {l}, column {c}: "),
            Position::Feature(i, Some(id)) => format!("feature #{i} (id {id:?}): "),
            Position::Feature(i, None) => format!("feature #{i}: "),
            Position::At(place) => format!("{place}: "),
        };
        s.push_str(&self.message);
        if self.count > 1 {
            s.push_str(&format!(" ({} in all; the first is shown)", thousands(self.count)));
        }
        s
    }
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
            Position::At(place) => write!(f, ": {place}")?,
        }
        write!(f, ": {}", self.message)?;
        if self.count > 1 {
            write!(f, " ({} in all; the first is shown)", thousands(self.count))?;
        }
        Ok(())
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The text of a serde_json error without its " at line L column C" tail, for messages that
/// give the position separately (or where it would point into a fragment, not the file).
pub fn json_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

/// An aggregating, bounded list of diagnostics.
///
/// The same severity and message from the same file become one entry with a count. Past
/// [`Self::MAX_ENTRIES`] distinct entries, further problems are only counted, per file and
/// severity, in one summary entry each, so memory stays flat whatever the input.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    index: HashMap<(Severity, PathBuf, String), usize>,
}

/// The message of the entry that counts problems past the limit.
const OVERFLOW: &str = "further problems, not listed one by one";

impl Diagnostics {
    /// Distinct entries kept; the window and the CLI stay readable, and memory bounded.
    pub const MAX_ENTRIES: usize = 200;

    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a diagnostic; returns whether it became an entry of its own (rather than a count on
    /// an earlier one), so callers can log each kind of problem once.
    pub fn push(&mut self, d: Diagnostic) -> bool {
        let key = (d.severity, d.file.clone(), d.message.clone());
        if let Some(&i) = self.index.get(&key) {
            self.items[i].count += d.count;
            return false;
        }
        if self.items.len() >= Self::MAX_ENTRIES {
            let key = (d.severity, d.file.clone(), OVERFLOW.to_string());
            match self.index.get(&key) {
                Some(&i) => self.items[i].count += d.count,
                None => {
                    self.index.insert(key, self.items.len());
                    self.items.push(Diagnostic { position: Position::File, message: OVERFLOW.into(), ..d });
                }
            }
            return false;
        }
        self.index.insert(key, self.items.len());
        self.items.push(d);
        true
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    /// Distinct entries (not occurrences).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Occurrences of the given severity, counting folded repeats.
    pub fn total(&self, severity: Severity) -> usize {
        self.items.iter().filter(|d| d.severity == severity).map(|d| d.count).sum()
    }

    pub fn clear(&mut self) {
        self.items.clear();
        self.index.clear();
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

impl Extend<Diagnostic> for Diagnostics {
    fn extend<T: IntoIterator<Item = Diagnostic>>(&mut self, iter: T) {
        for d in iter {
            self.push(d);
        }
    }
}

impl FromIterator<Diagnostic> for Diagnostics {
    fn from_iter<T: IntoIterator<Item = Diagnostic>>(iter: T) -> Self {
        let mut out = Diagnostics::new();
        out.extend(iter);
        out
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_fold_into_the_first_with_a_count() {
        let mut d = Diagnostics::new();
        let new: usize = (0..100_000)
            .filter(|&i| d.push(Diagnostic::warning("parcels.geojson", Position::Feature(i, None), "name is a number")))
            .count();
        assert_eq!(new, 1, "one new entry, the rest counted");
        d.push(Diagnostic::error("parcels.geojson", Position::Feature(7, None), "feature has no geometry"));
        assert_eq!(d.len(), 2);
        assert_eq!(d.total(Severity::Warning), 100_000);
        let first = d.iter().next().unwrap();
        assert_eq!(first.position, Position::Feature(0, None));
        assert_eq!(
            first.to_string(),
            "warning: parcels.geojson: feature #0: name is a number (100,000 in all; the first is shown)"
        );
    }

    #[test]
    fn distinct_messages_past_the_limit_are_counted_not_kept() {
        let mut d = Diagnostics::new();
        for i in 0..50_000 {
            d.push(Diagnostic::error("a.geojson", Position::Feature(i, None), format!("duplicate id \"{i}\"")));
        }
        assert_eq!(d.len(), Diagnostics::MAX_ENTRIES + 1);
        assert_eq!(d.total(Severity::Error), 50_000);
        let last = d.iter().last().unwrap();
        assert_eq!(last.message, OVERFLOW);
        assert_eq!(last.count, 50_000 - Diagnostics::MAX_ENTRIES);
    }

    #[test]
    fn files_and_severities_stay_apart() {
        let d: Diagnostics = [
            Diagnostic::warning("a", Position::File, "m"),
            Diagnostic::error("a", Position::File, "m"),
            Diagnostic::warning("b", Position::File, "m"),
        ]
        .into_iter()
        .collect();
        assert_eq!(d.len(), 3);
        assert_eq!(d.iter().map(|x| x.file.to_str().unwrap()).collect::<Vec<_>>(), ["a", "a", "b"]);
    }

    #[test]
    fn an_error_naming_its_file_is_not_named_twice() {
        let e = std::io::Error::other("a.geojson: cannot read: gone");
        assert_eq!(Diagnostic::from_error("a.geojson", &e).to_string(), "error: a.geojson: cannot read: gone");
        let e = std::io::Error::other("HTTP 500");
        assert_eq!(Diagnostic::from_error("http://h/x", &e).to_string(), "error: http://h/x: HTTP 500");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn json_message_drops_the_position_tail() {
        let e = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        assert_eq!(json_message(&e), "EOF while parsing an object");
    }
}
