//! Any bytes as a cached tile file: the freshness header is read or the file is dropped, and the
//! image decodes to RGBA within the size limit or is a clear error; never a panic.
#![no_main]

#[path = "common.rs"]
mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use port_atlas::proj::Crs;
use port_atlas::tiles::fetch::decode;
use port_atlas::tiles::{TileCache, TileId, TileSource};

/// Tiles are 256 or 512 px; the fetcher's limit is 1024. Small here so that a forged size is
/// refused before it costs the fuzzer time.
const MAX_SIDE: u32 = 512;

fuzz_target!(|data: &[u8]| {
    static SOURCE: OnceLock<TileSource> = OnceLock::new();
    let source = SOURCE.get_or_init(|| {
        TileSource::new("https://tile.example/{z}/{x}/{y}.png", &[], Crs::Wgs84, "fuzz").expect("a valid template")
    });
    let cache = TileCache::new(&common::scratch_dir().join("tiles"), 1 << 30);
    let t = TileId { z: 12, x: 3426, y: 1656 };
    let p = cache.path(source, t);
    std::fs::create_dir_all(p.parent().expect("a folder")).expect("cannot create the cache folder");
    std::fs::write(&p, data).expect("cannot write the tile");
    let Some(tile) = cache.get(source, t) else {
        assert!(!p.exists(), "a damaged tile file is removed");
        return;
    };
    assert!(data.ends_with(&tile.bytes), "the image is the file's tail");
    let _ = tile.meta.is_fresh(port_atlas::tiles::unix_now());
    if let Ok(img) = decode(&tile.bytes, MAX_SIDE) {
        assert!(img.width <= MAX_SIDE && img.height <= MAX_SIDE);
        assert_eq!(img.rgba.len(), img.width as usize * img.height as usize * 4);
    }
});
