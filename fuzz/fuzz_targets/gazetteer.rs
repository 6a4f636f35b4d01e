//! Any text as `gazetteer.json`: parsed or a clear error, never a panic. A file that parses
//! builds a gazetteer and its matcher (which report the entries they cannot use rather than
//! fail), and the matcher finds names in the file's own text at char boundaries, each resolved to
//! a candidate of its name. The same text as rows of the regional table parses or names its lines.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use port_atlas::gazetteer::{Gazetteer, GazetteerFile, Matcher};
use port_atlas::text::region;
use port_atlas::text::resolve::Resolver;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz/gazetteer.json");
    let text = String::from_utf8_lossy(data);
    let (rows, row_errors) = region::parse(&text);
    for e in &row_errors {
        assert!(e.line >= 1 && e.line <= text.lines().count(), "{e}");
    }
    let Ok(file) = GazetteerFile::parse(path, &text) else {
        // Rows that parsed build a gazetteer of their own (parents may be missing or cyclic).
        let (g, _) = Gazetteer::build_with(&[], &rows, &GazetteerFile::default(), path);
        for i in 0..g.places.len() {
            assert!(g.ancestors(i).count() <= 9, "the parent walk ends");
        }
        return;
    };
    let (g, errors) = Gazetteer::build_with(&[], &rows, &file, path);
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
            assert!(!matcher.candidates(m).is_empty(), "{m:?} has no candidate");
        }
        let resolver = Resolver::new(&g, &matcher);
        let cx = resolver.context(std::iter::once((t, found.as_slice())));
        let mut out = Vec::new();
        resolver.passage(0, t, &found, &cx, &mut out);
        for r in out.iter().flatten() {
            assert!(r.place < g.places.len() && (0.0..=1.0).contains(&r.confidence), "{r:?}");
        }
    }
    for p in &g.places {
        let _ = g.search(&p.id, matcher.fold());
    }
});
