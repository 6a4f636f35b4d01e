//! Any bytes as a workbook: preview and reader give a result or a clear error, never a panic;
//! detected columns exist; points are finite; the diagnostics stay bounded.
//!
//! The reader picks the format by extension, so the scratch file is named after what the bytes
//! look like, as a real file would be: an OLE2 compound file is `.xls`, a zip whose first entry
//! is an OpenDocument mimetype is `.ods`, anything else `.xlsx`.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let name = if data.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        "fuzz.xls"
    } else if data.get(30..).is_some_and(|d| d.starts_with(b"mimetypeapplication/vnd.oasis")) {
        "fuzz.ods"
    } else {
        "fuzz.xlsx"
    };
    common::check_table(&common::scratch_file(name, data));
});
