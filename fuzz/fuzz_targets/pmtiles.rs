//! Any bytes as a PMTiles archive: the header, root and leaf directories and tile entries are
//! read without panicking, however their offsets and lengths lie.
#![no_main]

use libfuzzer_sys::fuzz_target;
use port_atlas::tiles::TileId;
use port_atlas::tiles::vector::source::read_pmtiles_in_memory;

fuzz_target!(|data: &[u8]| {
    let tiles = [
        TileId { z: 0, x: 0, y: 0 },
        TileId { z: 10, x: 856, y: 417 },
        TileId { z: 14, x: 13704, y: 6682 },
        TileId { z: 14, x: 13700, y: 6682 },
    ];
    let _ = read_pmtiles_in_memory(data.to_vec(), &tiles);
});
