//! Format sniffing and dispatch, and every fixture of tests/fixtures/reports against the
//! paragraphs its generator (scripts/make-report-fixtures.py) wrote beside it.

use std::path::{Path, PathBuf};

use super::*;

pub(super) fn fixture(name: &str) -> (PathBuf, Vec<u8>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (path, bytes)
}

/// The paragraphs the generator wrote for `name`, one a line.
pub(super) fn expected(name: &str) -> Vec<String> {
    let (_, bytes) = fixture(&format!("{name}.expected.txt"));
    String::from_utf8(bytes).unwrap().lines().map(str::to_string).collect()
}

pub(super) fn texts(x: &Extracted) -> Vec<String> {
    x.paragraphs.iter().map(|p| p.text.clone()).collect()
}

#[test]
fn formats_by_extension_and_serialized_lowercase() {
    assert_eq!(Format::from_path(Path::new("a/B.TXT")), Some(Format::Txt));
    assert_eq!(Format::from_path(Path::new("notes.md")), Some(Format::Txt));
    assert_eq!(Format::from_path(Path::new("r.docx")), Some(Format::Docx));
    assert_eq!(Format::from_path(Path::new("r.Pdf")), Some(Format::Pdf));
    assert_eq!(Format::from_path(Path::new("n.htm")), Some(Format::Html));
    assert_eq!(Format::from_path(Path::new("n.xhtml")), Some(Format::Html));
    assert_eq!(Format::from_path(Path::new("t.csv")), None);
    assert_eq!(Format::from_path(Path::new("README")), None);
    assert_eq!(serde_json::to_string(&Format::Docx).unwrap(), "\"docx\"");
    for f in [Format::Txt, Format::Docx, Format::Pdf, Format::Html] {
        assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{}\"", f.as_str()));
    }
}

#[test]
fn sniffing_trusts_the_bytes_before_the_extension() {
    let p = Path::new("misnamed.txt");
    assert_eq!(sniff(p, b"%PDF-1.7\n...").unwrap(), Format::Pdf);
    assert_eq!(sniff(p, b"\xEF\xBB\xBF \n<!DOCTYPE html><p>x").unwrap(), Format::Html);
    assert_eq!(sniff(p, b"  <HTML lang=zh>").unwrap(), Format::Html);
    assert_eq!(sniff(p, "太仓港".as_bytes()).unwrap(), Format::Txt);
    let (_, docx) = fixture("report.docx");
    assert_eq!(sniff(p, &docx).unwrap(), Format::Docx);
    // UTF-16 has NULs but a byte-order mark says it is text.
    let (_, utf16) = fixture("report-utf16le.txt");
    assert_eq!(sniff(p, &utf16).unwrap(), Format::Txt);
}

#[test]
fn binary_and_unknown_files_are_errors_naming_the_file() {
    let e = sniff(Path::new("d/layer.txt"), b"abc\0def").unwrap_err();
    assert!(matches!(e, ExtractError::Binary { offset: 3, .. }), "{e:?}");
    assert_eq!(e.to_string(), "d/layer.txt: looks like binary data, not text (a NUL byte at byte offset 3)");
    let e = extract(Path::new("d/table.csv"), b"a,b\n1,2\n").unwrap_err();
    assert!(e.to_string().starts_with("d/table.csv: not a document port-atlas reads (its extension is .csv)"), "{e}");
    assert!(e.to_string().contains("Word (.docx)"), "{e}");
    let e = extract(Path::new("d/empty.txt"), b" \r\n\n\t\n").unwrap_err();
    assert_eq!(e.to_string(), "d/empty.txt: no text in it");
    let e = read(Path::new("/nonexistent/report.txt")).unwrap_err();
    assert!(e.to_string().starts_with("/nonexistent/report.txt: cannot read it: "), "{e}");
}

#[test]
fn joining_wrapped_lines() {
    let mut s = String::from("太仓港");
    join_wrapped(&mut s, "沙溪镇");
    assert_eq!(s, "太仓港沙溪镇");
    let mut s = String::from("Taicang");
    join_wrapped(&mut s, "Port");
    assert_eq!(s, "Taicang Port");
    let mut s = String::from("container ter-");
    join_wrapped(&mut s, "minals");
    assert_eq!(s, "container terminals");
    let mut s = String::from("Suzhou-");
    join_wrapped(&mut s, "Taicang");
    assert_eq!(s, "Suzhou- Taicang");
}
