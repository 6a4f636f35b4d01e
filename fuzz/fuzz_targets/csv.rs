//! Any bytes as a CSV file of places: the open dialog's preview and the reader give a result or
//! a clear error, never a panic; detected columns exist; points are finite; the diagnostics
//! stay bounded. The header detection also gets the first line's cells directly.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use port_atlas::diagnostic::Diagnostics;
use port_atlas::formats::table::{self, Columns};
use port_atlas::formats::OpenOptions;

fn check_columns(c: Option<Columns>, headers: usize) {
    match c {
        Some(Columns::Pair(x, y)) => assert!(x < headers && y < headers && x != y, "{c:?} of {headers}"),
        Some(Columns::Combined(i)) => assert!(i < headers, "{c:?} of {headers}"),
        None => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let first = text.lines().next().unwrap_or("");
    for sep in [',', '\t'] {
        let headers: Vec<String> = first.split(sep).map(String::from).collect();
        check_columns(table::detect_columns(&headers), headers.len());
    }

    let path = common::scratch_file("fuzz.csv", data);
    let opts = OpenOptions::default();
    if let Ok(p) = table::preview(&path, &opts) {
        check_columns(p.columns, p.headers.len());
        let _ = p.guesses();
    }
    let mut diags = Diagnostics::new();
    let result = table::read(&path, &opts, &mut diags);
    common::check_diags(&diags, 1);
    if let Ok(layers) = result {
        common::check_layers(&layers);
    }
});
