//! Any text as `gazetteer.json`: parsed or a clear error, never a panic. A file that parses
//! builds a gazetteer and its matcher (which report the entries they cannot use rather than
//! fail), and the matcher finds names in the file's own text at char boundaries.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use port_atlas::gazetteer::{Gazetteer, GazetteerFile, Matcher};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz/gazetteer.json");
    let text = String::from_utf8_lossy(data);
    let Ok(file) = GazetteerFile::parse(path, &text) else { return };
    let (g, errors) = Gazetteer::build(&[], &file, path);
    for e in &errors {
        let _ = e.to_string();
    }
    let matcher = Matcher::new(&g);
    let (mut buf, mut found) = (Vec::new(), Vec::new());
    for t in [text.as_ref(), "太倉港區位於長江口，太仓港与上海港相邻。Taicang Port"] {
        found.clear();
        matcher.find(t, &mut buf, &mut found);
        assert_eq!(buf.len(), t.len(), "folding keeps byte offsets");
        for m in &found {
            assert!(m.start < m.end && m.end <= t.len(), "{m:?} in {} bytes", t.len());
            assert!(t.is_char_boundary(m.start) && t.is_char_boundary(m.end), "{m:?} splits a character");
            assert!(m.place < g.places.len());
        }
    }
    for p in &g.places {
        let _ = g.search(&p.id, matcher.fold());
    }
});
