//! Any bytes given as a report: passages and mentions with offsets inside their text, or a clear
//! error, never a panic.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use port_atlas::atlas::Atlas;
use port_atlas::document::Document;

fuzz_target!(|data: &[u8]| {
    static ATLAS: OnceLock<Atlas> = OnceLock::new();
    let atlas = ATLAS.get_or_init(Atlas::builtin);
    if let Ok(doc) = Document::from_bytes(Path::new("fuzz.txt"), data, &atlas.matcher, &atlas.gazetteer) {
        for p in &doc.passages {
            let chars = p.text.chars().count();
            for m in &p.mentions {
                assert!(m.start < m.end && m.end <= chars, "mention {m:?} outside {chars} chars");
            }
        }
    }
});
