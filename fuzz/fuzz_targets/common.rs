//! What every format target checks, and the scratch files for readers that take a path.
//! Included by the targets with `#[path = "common.rs"] mod common;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use geo::{CoordsIter, Geometry};
use port_atlas::diagnostic::Diagnostics;
use port_atlas::formats::table::{self, Columns};
use port_atlas::formats::{OpenOptions, RawLayer};

/// Every vertex a reader returns is a real number: the conversion to WGS84, the bounds and the
/// tessellator all assume it.
pub fn assert_finite(g: &Geometry<f64>) {
    for c in g.coords_iter() {
        assert!(c.x.is_finite() && c.y.is_finite(), "non-finite vertex {c:?} in {g:?}");
    }
}

pub fn check_layers(layers: &[RawLayer]) {
    for l in layers {
        for f in &l.features {
            assert_finite(&f.geometry);
        }
    }
}

/// The list stays bounded however many problems the input has: [`Diagnostics::MAX_ENTRIES`]
/// entries plus one overflow entry per file and severity. `files` is how many paths the reader
/// may name (a Shapefile names its .shp, .dbf and .prj).
pub fn check_diags(d: &Diagnostics, files: usize) {
    assert!(d.len() <= Diagnostics::MAX_ENTRIES + 2 * files, "{} diagnostics", d.len());
}

/// A folder of this process's own (libFuzzer's -fork/-jobs run several processes at once).
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("port-atlas-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("cannot create the scratch folder");
        d
    })
}

/// Writes `data` to `name` in the scratch folder and returns its path.
pub fn scratch_file(name: &str, data: &[u8]) -> PathBuf {
    let p = scratch_dir().join(name);
    std::fs::write(&p, data).expect("cannot write the scratch file");
    p
}

/// Detected coordinate columns name distinct headers that exist.
pub fn check_columns(c: Option<Columns>, headers: usize) {
    match c {
        Some(Columns::Pair(x, y)) => assert!(x < headers && y < headers && x != y, "{c:?} of {headers}"),
        Some(Columns::Combined(i)) => assert!(i < headers, "{c:?} of {headers}"),
        None => {}
    }
}

/// A table of places (CSV or workbook) through the open dialog's preview and the reader: a
/// result or a clear error; columns that exist, finite points, bounded diagnostics (one path,
/// though a workbook's sheets each report under it).
pub fn check_table(path: &Path) {
    let opts = OpenOptions::default();
    if let Ok(p) = table::preview(path, &opts) {
        check_columns(p.columns, p.headers.len());
        let _ = p.guesses();
    }
    let mut diags = Diagnostics::new();
    let result = table::read(path, &opts, &mut diags);
    check_diags(&diags, 1);
    if let Ok(layers) = result {
        check_layers(&layers);
    }
}
