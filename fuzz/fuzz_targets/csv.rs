//! Any bytes as a CSV file of places: the open dialog's preview and the reader give a result or
//! a clear error, never a panic; detected columns exist; points are finite; the diagnostics
//! stay bounded. The header detection also gets the first line's cells directly.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use port_atlas::formats::table;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let first = text.lines().next().unwrap_or("");
    for sep in [',', '\t'] {
        let headers: Vec<String> = first.split(sep).map(String::from).collect();
        common::check_columns(table::detect_columns(&headers), headers.len());
    }

    common::check_table(&common::scratch_file("fuzz.csv", data));
});
