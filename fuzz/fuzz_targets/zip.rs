//! Any bytes as a zipped Shapefile (or KML) and as a KMZ: layers of finite vertices or a clear
//! error, never a panic, and a bounded list of diagnostics.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use port_atlas::diagnostic::Diagnostics;
use port_atlas::formats::{OpenOptions, archive};

fuzz_target!(|data: &[u8]| {
    let path = common::scratch_file("fuzz.zip", data);
    let opts = OpenOptions::default();
    type Reader = fn(&std::path::Path, &OpenOptions, &mut Diagnostics) -> Result<Vec<port_atlas::formats::RawLayer>, port_atlas::formats::FormatError>;
    for read in [archive::read_zip as Reader, archive::read_kmz] {
        let mut diags = Diagnostics::new();
        let result = read(&path, &opts, &mut diags);
        // The zip, and the Shapefile's .shp, .dbf and .prj inside it.
        common::check_diags(&diags, 4);
        if let Ok(layers) = result {
            common::check_layers(&layers);
        }
    }
});
