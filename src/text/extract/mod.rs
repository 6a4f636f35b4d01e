//! Paragraphs of text from the report files planners have: plain text (UTF-8, GB18030/GBK,
//! Big5, UTF-16 with a byte-order mark), Word `.docx`, HTML pages and PDFs with a text layer.
//!
//! [`sniff`] decides the format from the bytes first (`%PDF-`, a zip holding
//! `word/document.xml`, a leading `<!doctype html`/`<html`) and from the file's extension
//! second; [`extract`] then hands the bytes to one module per format:
//! [`plain`], [`docx`], [`html`], [`pdf`]. Nothing here reads the disk except [`read`].
//!
//! What "paragraph" means differs by format, and [`Paragraph`] records where each came from:
//! a non-blank line (its line number) for text, a `w:p` for Word, a block for HTML, and lines
//! joined by layout for PDF (its page and its number on that page).
//!
//! ```
//! use std::path::Path;
//! use port_atlas::text::extract::{extract, Format};
//! let x = extract(Path::new("note.txt"), "太仓港\n\n沙溪镇".as_bytes()).unwrap();
//! assert_eq!(x.format, Format::Txt);
//! assert_eq!(x.paragraphs[1].text, "沙溪镇");
//! assert_eq!(x.paragraphs[1].line, Some(3));
//! ```

pub mod docx;
pub mod html;
pub mod pdf;
pub mod plain;

use std::path::{Path, PathBuf};

use serde::Serialize;

/// The kinds of document port-atlas reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Txt,
    Docx,
    Pdf,
    Html,
}

impl Format {
    /// "txt", "docx", "pdf", "html": the same spelling as the serialized value.
    pub fn as_str(&self) -> &'static str {
        match self {
            Format::Txt => "txt",
            Format::Docx => "docx",
            Format::Pdf => "pdf",
            Format::Html => "html",
        }
    }

    /// The format a file's extension names (case-insensitive): `txt`, `text`, `md`; `docx`;
    /// `pdf`; `html`, `htm`, `xhtml`. Anything else is `None`.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "txt" | "text" | "md" => Some(Format::Txt),
            "docx" => Some(Format::Docx),
            "pdf" => Some(Format::Pdf),
            "html" | "htm" | "xhtml" => Some(Format::Html),
            _ => None,
        }
    }
}

/// One paragraph of a document and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Paragraph {
    /// The paragraph's text as extracted: never blank, no trailing newline.
    pub text: String,
    /// 1-based page, PDFs only.
    pub page: Option<u32>,
    /// 1-based paragraph number, counting only non-empty paragraphs: in the whole document for
    /// docx and HTML, within its page for PDF; `None` for plain text.
    pub paragraph: Option<u32>,
    /// 1-based line in the file, plain text only.
    pub line: Option<u32>,
}

/// Paragraphs numbered 1, 2, … in document order, as Word and HTML count them.
pub(crate) fn numbered(texts: Vec<String>) -> Vec<Paragraph> {
    texts
        .into_iter()
        .enumerate()
        .map(|(i, text)| Paragraph {
            text,
            page: None,
            paragraph: Some(u32::try_from(i + 1).unwrap_or(u32::MAX)),
            line: None,
        })
        .collect()
}

/// A document's paragraphs, with what was decided on the way.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub format: Format,
    /// For text and HTML: "UTF-8", "UTF-8 (BOM)", "UTF-16LE (BOM)", "UTF-16BE (BOM)",
    /// "GB18030/GBK", "Big5" (or another encoding an HTML page declares); `None` for docx, PDF.
    pub encoding: Option<String>,
    pub paragraphs: Vec<Paragraph>,
    /// Non-fatal findings, e.g. "pages 3, 7 have no text layer (scanned?)".
    pub notes: Vec<String>,
    /// The publication date the file's metadata states, as written there (an HTML page's
    /// `<meta name="PubDate" content="2021-03-05 10:30">`, as government sites publish).
    pub published: Option<String>,
    /// When the file itself was made, as `YYYY-MM-DD` (a PDF's `/CreationDate`): a weaker hint
    /// than a date in the text, the metadata or the file name.
    pub created: Option<String>,
}

/// Why a document gave no paragraphs. Every message starts with the file's path and, where it
/// applies, names the place in the file.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{}: cannot read it: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{}: not a document port-atlas reads ({why}); it reads plain text (.txt, .text, .md), Word (.docx), PDF (.pdf) and HTML (.html, .htm, .xhtml)",
        path.display()
    )]
    UnknownFormat { path: PathBuf, why: String },
    #[error("{}: looks like binary data, not text (a NUL byte at byte offset {offset})", path.display())]
    Binary { path: PathBuf, offset: usize },
    #[error("{}: not a readable zip archive, so not a Word .docx file ({detail})", path.display())]
    NotZip { path: PathBuf, detail: String },
    #[error("{}: a zip archive but not a Word document: it has no word/document.xml", path.display())]
    NotWord { path: PathBuf },
    #[error("{}: {part} line {line}, column {col}: malformed XML: {message}", path.display())]
    BadXml { path: PathBuf, part: String, line: u32, col: u32, message: String },
    #[error("{}: no text layer on any of its {pages} pages: a scanned PDF needs OCR first", path.display())]
    NoTextLayer { path: PathBuf, pages: u32 },
    #[error("{}: encrypted PDF: port-atlas cannot read it; save an unprotected copy", path.display())]
    Encrypted { path: PathBuf },
    #[error("{}: not a readable PDF: {message}", path.display())]
    BadPdf { path: PathBuf, message: String },
    #[error("{}: no text in it", path.display())]
    Empty { path: PathBuf },
}

/// How far into a file the NUL check and the HTML check look.
const SNIFF_LEN: usize = 8192;

/// The format of `bytes`, read from `path`. The bytes decide first: `%PDF-` in the first
/// 1024 bytes is a PDF, a zip with `word/document.xml` is Word, a leading `<!doctype html` or
/// `<html` (after a byte-order mark, whitespace, an XML declaration or comments) is HTML. Then
/// the extension ([`Format::from_path`]). Text with a NUL byte in its first 8 KB, other than
/// UTF-16 with a byte-order mark, is [`ExtractError::Binary`].
pub fn sniff(path: &Path, bytes: &[u8]) -> Result<Format, ExtractError> {
    let head = bytes.get(..bytes.len().min(1024)).unwrap_or(bytes);
    if find(head, b"%PDF-").is_some() {
        return Ok(Format::Pdf);
    }
    let by_ext = Format::from_path(path);
    if bytes.starts_with(b"PK\x03\x04") {
        if docx::has_document_part(bytes) || by_ext == Some(Format::Docx) {
            return Ok(Format::Docx);
        }
        return Err(ExtractError::UnknownFormat {
            path: path.to_path_buf(),
            why: "a zip archive without word/document.xml".into(),
        });
    }
    if let Some(f @ (Format::Docx | Format::Pdf)) = by_ext {
        return Ok(f);
    }
    let sample = bytes.get(..bytes.len().min(SNIFF_LEN)).unwrap_or(bytes);
    let utf16 = sample.starts_with(&[0xFF, 0xFE]) || sample.starts_with(&[0xFE, 0xFF]);
    if !utf16 && let Some(offset) = sample.iter().position(|&b| b == 0) {
        return Err(ExtractError::Binary { path: path.to_path_buf(), offset });
    }
    if html::looks_like_html(sample) {
        return Ok(Format::Html);
    }
    by_ext.ok_or_else(|| {
        let why = match path.extension() {
            Some(e) => format!("its extension is .{}", e.to_string_lossy()),
            None => "it has no extension and does not start like HTML".into(),
        };
        ExtractError::UnknownFormat { path: path.to_path_buf(), why }
    })
}

/// The paragraphs of `bytes`, read from `path` (which only names the file in errors and, with
/// its extension, helps [`sniff`]). Never panics; an error explains what is wrong and where.
pub fn extract(path: &Path, bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let x = match sniff(path, bytes)? {
        Format::Txt => plain::extract(bytes),
        Format::Html => html::extract(bytes),
        Format::Docx => docx::extract(path, bytes)?,
        Format::Pdf => pdf::extract(path, bytes)?,
    };
    if x.paragraphs.is_empty() {
        return Err(ExtractError::Empty { path: path.to_path_buf() });
    }
    Ok(x)
}

/// Reads `path` and [`extract`]s it.
pub fn read(path: &Path) -> Result<Extracted, ExtractError> {
    let bytes = std::fs::read(path).map_err(|source| ExtractError::Io { path: path.to_path_buf(), source })?;
    extract(path, &bytes)
}

/// The first position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Whether `c` is a CJK character or CJK punctuation, across which a line break or a space
/// from source layout means nothing: ideographs, kana, hangul, CJK symbols, full-width forms.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF | 0x3000..=0x30FF | 0x3100..=0x312F | 0x3190..=0x31FF | 0x3200..=0x4DBF
        | 0x4E00..=0x9FFF | 0xA960..=0xA97F | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F
        | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// Appends `piece` to `out` after a line break: nothing between CJK characters, a space
/// between anything else (Latin words, digits), and nothing after a hyphen that ends a line
/// before a lowercase letter (the word was hyphenated to wrap: "develop-" + "ment").
pub(crate) fn join_wrapped(out: &mut String, piece: &str) {
    let piece = piece.trim();
    if piece.is_empty() {
        return;
    }
    let (Some(last), Some(first)) = (out.chars().next_back(), piece.chars().next()) else {
        out.push_str(piece);
        return;
    };
    if is_cjk(last) || is_cjk(first) || last.is_whitespace() {
        // No space next to CJK text: a wrap in Chinese is not a word boundary.
    } else if last == '-' && first.is_lowercase() && out.chars().rev().nth(1).is_some_and(char::is_alphabetic) {
        out.pop();
    } else {
        out.push(' ');
    }
    out.push_str(piece);
}

#[cfg(test)]
mod tests;
