//! Any text as a report's paragraphs and file name: dates found lie on char boundaries inside
//! the text and are real calendar days; dating a document never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use port_atlas::text::date::{ReportDate, date_document, file_name_date, find_dates};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for f in find_dates(&text) {
        assert!(f.start < f.end && f.end <= text.len());
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        assert_eq!(ReportDate::parse(&f.date.iso()), Some(f.date));
    }
    let paragraphs: Vec<&str> = text.split('\n').collect();
    let _ = date_document(&paragraphs, &text);
    let _ = file_name_date(&text);
    let _ = ReportDate::parse(&text);
});
