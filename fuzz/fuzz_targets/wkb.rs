//! Any bytes as WKB and as a GeoPackage geometry blob: a geometry of finite vertices, nothing
//! (empty), or a clear error; never a panic.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use port_atlas::formats::{gpkg, wkb};

fuzz_target!(|data: &[u8]| {
    for parsed in [wkb::parse(data), gpkg::gpkg_geometry(data)] {
        if let Ok(p) = parsed
            && let Some(g) = &p.geometry
        {
            common::assert_finite(g);
        }
    }
});
