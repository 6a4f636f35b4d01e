//! Any bytes as a GeoPackage file (SQLite, opened read-only): layers of finite vertices or a
//! clear error, never a panic. SQLite itself is fuzzed upstream; what this reaches is our reading
//! of gpkg_contents, gpkg_geometry_columns, gpkg_spatial_ref_sys and the feature tables.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use port_atlas::diagnostic::Diagnostics;
use port_atlas::formats::{OpenOptions, gpkg};

fuzz_target!(|data: &[u8]| {
    let path = common::scratch_file("fuzz.gpkg", data);
    let mut diags = Diagnostics::new();
    let result = gpkg::read(&path, &OpenOptions::default(), &mut diags);
    common::check_diags(&diags, 1);
    if let Ok(layers) = result {
        common::check_layers(&layers);
    }
});
