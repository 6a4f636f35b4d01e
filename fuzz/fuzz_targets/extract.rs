//! Any bytes as a report of any kind: paragraphs that are never blank, numbered from 1, or a
//! clear error naming the file, never a panic. The first byte picks the file's extension, so
//! sniffing by content and by name are both exercised.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use port_atlas::text::extract::{Format, extract};

const NAMES: [&str; 8] =
    ["fuzz.txt", "fuzz.docx", "fuzz.pdf", "fuzz.html", "fuzz.md", "fuzz.htm", "fuzz", "fuzz.csv"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let name = NAMES[usize::from(pick) % NAMES.len()];
    match extract(Path::new(name), bytes) {
        Ok(x) => {
            assert!(!x.paragraphs.is_empty());
            for p in &x.paragraphs {
                assert!(!p.text.trim().is_empty(), "blank paragraph {p:?}");
                assert!(!p.text.ends_with('\n'), "trailing newline {p:?}");
                assert!(p.paragraph.is_none_or(|n| n >= 1) && p.line.is_none_or(|n| n >= 1));
                assert_eq!(p.page.is_some(), x.format == Format::Pdf);
            }
        }
        Err(e) => assert!(e.to_string().starts_with(name), "{e}"),
    }
});
