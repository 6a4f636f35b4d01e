//! Any bytes given as a GeoJSON layer: a result or a clear error, never a panic or a hang, and a
//! bounded list of diagnostics.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use port_atlas::geodata::{ReadOptions, parse_layer};

fuzz_target!(|data: &[u8]| {
    for strict in [false, true] {
        let opts = ReadOptions { strict_schema: strict, topology: strict, ..Default::default() };
        if let Ok((layer, diags)) = parse_layer(Path::new("fuzz.geojson"), data, opts) {
            assert!(diags.len() <= port_atlas::diagnostic::Diagnostics::MAX_ENTRIES + 2);
            let _ = layer.bounds();
        }
    }
});
