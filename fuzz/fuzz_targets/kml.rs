//! Any bytes as a KML document, whole and with one folder picked (`--layer 港区`): a layer of
//! finite vertices or a clear error, never a panic, and a bounded list of diagnostics.
#![no_main]

#[path = "common.rs"]
mod common;

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use port_atlas::diagnostic::Diagnostics;
use port_atlas::formats::{OpenOptions, kml};

fuzz_target!(|data: &[u8]| {
    for layer in [None, Some("港区".to_string())] {
        let opts = OpenOptions { layer, ..Default::default() };
        let mut diags = Diagnostics::new();
        let result = kml::read(Path::new("fuzz.kml"), data, &opts, &mut diags);
        common::check_diags(&diags, 1);
        if let Ok(layers) = result {
            assert_eq!(layers.len(), 1);
            common::check_layers(&layers);
        }
    }
});
