//! Any bytes as TileJSON fetched from a URL: parsing never panics, and what parses has tile
//! templates with every placeholder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use port_atlas::tiles::vector::tilejson::{TileJson, resolve_url};

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = TileJson::parse(data, "http://127.0.0.1:3000/a/parcels.json") {
        assert!(!t.tiles.is_empty());
        assert!(t.tiles.iter().all(|u| u.contains("{z}") && u.contains("{x}") && u.contains("{y}")));
    }
    let s = String::from_utf8_lossy(data);
    let _ = resolve_url("http://h:1/a/b/c.json?k=1", &s);
    let _ = resolve_url(&s, "../t/{z}/{x}/{y}");
});
