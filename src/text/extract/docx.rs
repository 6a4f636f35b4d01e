//! Word `.docx` files: the paragraphs (`w:p`) of `word/document.xml` in document order.
//!
//! - Paragraphs inside tables count like any other: each paragraph of each cell, row by row,
//!   cell by cell, is its own [`Paragraph`](super::Paragraph); so do paragraphs in text boxes (after the
//!   paragraph that anchors the box).
//! - A paragraph's text is its runs' `w:t` concatenated; `w:tab` is a tab; a non-breaking
//!   hyphen is `-`. Text deleted with tracked changes (`w:del`, `w:delText`) is left out and
//!   inserted text (`w:ins`) kept: the document as it reads now. Field codes (`w:instrText`)
//!   are left out, their results kept.
//! - A line break inside a paragraph (`w:br`, `w:cr`, Shift+Enter) does not end it: one `w:p`
//!   stays one paragraph, so paragraph numbers match what Word shows. The break is joined like
//!   a wrapped line ([`super::join_wrapped`]): nothing between CJK characters (a break in
//!   Chinese text is layout, not a word boundary), a space between Latin words.
//! - "Paragraph N" is the N-th paragraph with text, counted over the whole document: empty
//!   paragraphs (spacing, page breaks) are skipped and not counted. Text is trimmed at both
//!   ends (full-width indent spaces included).
//! - Not read: headers, footers, footnotes, endnotes, comments; the older `.doc` format.

use std::io::Read;
use std::path::Path;

use roxmltree::Node;

use super::{ExtractError, Extracted, Format, join_wrapped};

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const MC: &str = "http://schemas.openxmlformats.org/markup-compatibility/2006";
const PART: &str = "word/document.xml";
/// The most `word/document.xml` may inflate to: a report is a few MB of XML at most; this keeps
/// a zip bomb from filling memory.
const MAX_PART: u64 = 512 << 20;

/// Whether `bytes` are a zip holding `word/document.xml`.
pub(crate) fn has_document_part(bytes: &[u8]) -> bool {
    zip::ZipArchive::new(std::io::Cursor::new(bytes)).is_ok_and(|z| z.index_for_name(PART).is_some())
}

/// The paragraphs of a `.docx` file (see the module's comment for what counts).
pub fn extract(path: &Path, bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let xml = document_xml(path, bytes)?;
    let doc = roxmltree::Document::parse_with_options(
        &xml,
        roxmltree::ParsingOptions { allow_dtd: false, ..roxmltree::ParsingOptions::default() },
    )
    .map_err(|e| bad_xml(path, &xml, &e))?;
    let mut texts = Vec::new();
    collect(doc.root(), &mut texts);
    let paragraphs = super::numbered(texts);
    Ok(Extracted {
        format: Format::Docx,
        encoding: None,
        paragraphs,
        notes: Vec::new(),
        published: None,
        created: None,
    })
}

/// `word/document.xml` as text.
fn document_xml(path: &Path, bytes: &[u8]) -> Result<String, ExtractError> {
    let not_zip = |detail: String| ExtractError::NotZip { path: path.to_path_buf(), detail };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| {
        not_zip(if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            "an old .doc or a password-protected Word file: save it as .docx without a password".into()
        } else {
            e.to_string()
        })
    })?;
    let entry = match zip.by_name(PART) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => return Err(ExtractError::NotWord { path: path.to_path_buf() }),
        Err(e) => return Err(not_zip(format!("cannot open {PART}: {e}"))),
    };
    let mut raw = Vec::new();
    entry.take(MAX_PART).read_to_end(&mut raw).map_err(|e| not_zip(format!("cannot inflate {PART}: {e}")))?;
    // XML parts are UTF-8, or UTF-16 with a byte-order mark.
    let (text, _, _) = encoding_rs::UTF_8.decode(&raw);
    Ok(text.into_owned())
}

/// roxmltree's error as [`ExtractError::BadXml`], its position as line and column (at the end
/// of the text where the part ends too early).
fn bad_xml(path: &Path, text: &str, e: &roxmltree::Error) -> ExtractError {
    let pos = e.pos();
    let message = e.to_string().replace(&format!(" at {pos}"), "");
    let (line, col) = match e {
        roxmltree::Error::UnexpectedEndOfStream | roxmltree::Error::UnclosedRootNode => {
            let line = text.matches('\n').count() + 1;
            let col = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(col).unwrap_or(u32::MAX))
        }
        _ => (pos.row, pos.col),
    };
    ExtractError::BadXml { path: path.to_path_buf(), part: PART.into(), line, col, message }
}

fn is_w(node: Node, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(W)
}

/// Every paragraph under `node`, in document order. Iterative, so deeply nested XML cannot
/// overflow the stack.
fn collect(node: Node, out: &mut Vec<String>) {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if is_w(n, "p") {
            let mut nested = Vec::new();
            let text = paragraph_text(n, &mut nested);
            let text = text.trim();
            if !text.is_empty() {
                out.push(text.to_string());
            }
            // Paragraphs in text boxes anchored in this one come after it.
            stack.extend(nested.into_iter().rev());
        } else if !skipped(n) {
            stack.extend(n.children().filter(Node::is_element).collect::<Vec<_>>().into_iter().rev());
        }
    }
}

/// Subtrees whose text is not the document's: deleted text, field codes, paragraph and run
/// properties (their `w:tab` are tab stops), and the fallback copy of alternate content.
fn skipped(n: Node) -> bool {
    (n.is_element() && n.tag_name().namespace() == Some(MC) && n.tag_name().name() == "Fallback")
        || ["del", "delText", "instrText", "pPr", "rPr", "moveFrom"].iter().any(|name| is_w(n, name))
}

/// The text of paragraph `p` without the paragraphs nested in it, which go to `nested`.
fn paragraph_text<'a, 'i>(p: Node<'a, 'i>, nested: &mut Vec<Node<'a, 'i>>) -> String {
    let mut text = String::new();
    let mut line = String::new();
    let mut stack: Vec<Node> = p.children().filter(Node::is_element).collect::<Vec<_>>();
    stack.reverse();
    while let Some(n) = stack.pop() {
        if skipped(n) {
            continue;
        }
        if is_w(n, "p") {
            nested.push(n);
            continue;
        }
        if is_w(n, "t") {
            line.push_str(n.text().unwrap_or_default());
        } else if is_w(n, "tab") {
            line.push('\t');
        } else if is_w(n, "noBreakHyphen") {
            line.push('-');
        } else if is_w(n, "br") || is_w(n, "cr") {
            join_wrapped(&mut text, &line);
            line.clear();
        } else {
            stack.extend(n.children().filter(Node::is_element).collect::<Vec<_>>().into_iter().rev());
        }
    }
    if text.is_empty() {
        return line;
    }
    join_wrapped(&mut text, &line);
    text
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::Path;

    use super::super::tests::{expected, fixture, texts};
    use super::super::{ExtractError, Format, extract};

    /// A zip with the given parts, written by the zip crate.
    fn zip_of(parts: &[(&str, &str)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in parts {
            w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            w.write_all(body.as_bytes()).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn python_docx_report_with_table_tracked_changes_and_breaks() {
        let (path, bytes) = fixture("report.docx");
        let x = extract(&path, &bytes).unwrap();
        assert_eq!(x.format, Format::Docx);
        assert_eq!(x.encoding, None);
        assert_eq!(texts(&x), expected("report.docx"));
        let numbers: Vec<u32> = x.paragraphs.iter().map(|p| p.paragraph.unwrap()).collect();
        assert_eq!(numbers, (1..=numbers.len() as u32).collect::<Vec<_>>());
        assert!(x.paragraphs.iter().all(|p| p.page.is_none() && p.line.is_none()));
        // The empty paragraph after the third is not counted: the tab line is paragraph 4.
        assert_eq!(x.paragraphs[3].text, "表1\t港区功能分区");
    }

    #[test]
    fn errors_name_the_file_and_the_place() {
        let p = Path::new("reports/plan.docx");
        let e = extract(p, b"not a zip at all").unwrap_err();
        assert!(matches!(e, ExtractError::NotZip { .. }), "{e:?}");
        assert!(e.to_string().starts_with("reports/plan.docx: not a readable zip archive"), "{e}");
        let e = extract(p, &zip_of(&[("xl/workbook.xml", "<workbook/>")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "reports/plan.docx: a zip archive but not a Word document: it has no word/document.xml"
        );
        let broken = "<?xml version=\"1.0\"?>\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\n<w:body><w:p><w:r><w:t>太仓</w:r></w:p>";
        let e = extract(p, &zip_of(&[("word/document.xml", broken)])).unwrap_err();
        assert!(matches!(e, ExtractError::BadXml { line: 3, .. }), "{e:?}");
        assert!(e.to_string().starts_with("reports/plan.docx: word/document.xml line 3, column "), "{e}");
        let empty = "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p/></w:body></w:document>";
        let e = extract(p, &zip_of(&[("word/document.xml", empty)])).unwrap_err();
        assert_eq!(e.to_string(), "reports/plan.docx: no text in it");
    }

    #[test]
    fn text_boxes_fallbacks_and_tab_stops() {
        let xml = r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><w:body>
<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t xml:space="preserve">　　浏河镇 </w:t></w:r>
<w:r><mc:AlternateContent><mc:Choice><w:txbxContent><w:p><w:r><w:t>图1 太仓港区位</w:t></w:r></w:p></w:txbxContent></mc:Choice>
<mc:Fallback><w:txbxContent><w:p><w:r><w:t>图1 太仓港区位</w:t></w:r></w:p></w:txbxContent></mc:Fallback></mc:AlternateContent></w:r></w:p>
<w:p><w:r><w:fldChar w:fldCharType="begin"/><w:instrText> PAGE </w:instrText><w:fldChar w:fldCharType="separate"/><w:t>3</w:t></w:r></w:p>
</w:body></w:document>"#;
        let x = extract(Path::new("a.docx"), &zip_of(&[("word/document.xml", xml)])).unwrap();
        assert_eq!(texts(&x), ["浏河镇", "图1 太仓港区位", "3"]);
    }
}
