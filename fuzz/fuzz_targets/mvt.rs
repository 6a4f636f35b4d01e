//! Any bytes as a vector tile (gzip or not): decoding and building never panic, and every mesh
//! index points at a vertex.
#![no_main]

use libfuzzer_sys::fuzz_target;
use port_atlas::tiles::TileId;
use port_atlas::tiles::vector::{build, source};

fuzz_target!(|data: &[u8]| {
    let Ok(bytes) = source::inflate(data, 1 << 22) else { return };
    let t = TileId { z: 14, x: 13704, y: 6682 };
    // Over-zoomed too: the drawn tile two levels below the data tile.
    for drawn in [t, TileId { z: 16, x: t.x * 4 + 1, y: t.y * 4 + 2 }] {
        let Ok(b) = build::build(&bytes, drawn, t) else { return };
        for m in &b.meshes {
            let n = m.fill.positions.len() as u32;
            assert!(m.fill.indices.iter().all(|&i| i < n));
            let n = m.outlines.positions.len() as u32;
            assert!(m.outlines.indices.iter().all(|&i| i < n));
        }
        for l in &b.tile.layers {
            for f in &l.features {
                let _ = l.properties(f).count();
            }
        }
    }
});
