//! Any bytes as a Shapefile's parts: a layer of finite vertices or a clear error, never a panic,
//! and a bounded list of diagnostics.
//!
//! Input layout (what `fuzz/make_seeds.py` writes): one flag byte, then the `.shp` and each part
//! the flags name, in the order shx, dbf, prj, cpg, each as a little-endian u16 length and its
//! bytes (a length past the end takes what is left). Flags: 1 shx, 2 dbf, 4 prj, 8 cpg,
//! 16 `--encoding GB18030`, 32 `--from-crs wgs84` (so the .prj is not read).
#![no_main]

#[path = "common.rs"]
mod common;

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use port_atlas::diagnostic::Diagnostics;
use port_atlas::formats::shp::{Parts, read_parts};
use port_atlas::formats::{OpenOptions, wkt};
use port_atlas::spatial::crs::SourceCrs;

fn take<'a>(data: &mut &'a [u8]) -> Vec<u8> {
    let len = match data {
        [a, b, ..] => u16::from_le_bytes([*a, *b]) as usize,
        _ => 0,
    };
    let rest = data.get(2..).unwrap_or_default();
    let (part, tail) = rest.split_at(len.min(rest.len()));
    *data = tail;
    part.to_vec()
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mut data)) = data.split_first() else { return };
    let shp = take(&mut data);
    let mut optional = |bit: u8| (flags & bit != 0).then(|| take(&mut data));
    let parts = Parts { shp, shx: optional(1), dbf: optional(2), prj: optional(4), cpg: optional(8) };
    let opts = OpenOptions {
        encoding: (flags & 16 != 0).then_some(encoding_rs::GB18030),
        crs: (flags & 32 != 0).then_some(SourceCrs::WGS84),
        ..Default::default()
    };
    if let Some(prj) = &parts.prj {
        let _ = wkt::parse_crs(&String::from_utf8_lossy(prj));
    }
    let mut diags = Diagnostics::new();
    let result = read_parts(Path::new("fuzz/地块.shp"), "地块", parts, &opts, &mut diags);
    common::check_diags(&diags, 3);
    if let Ok(layer) = result {
        common::check_layers(std::slice::from_ref(&layer));
    }
});
