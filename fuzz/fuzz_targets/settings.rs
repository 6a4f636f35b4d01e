//! Any bytes as the app's `settings.json`: settings or a clear error, never a panic; the
//! remembered basemap resolves or is dropped; and what loads saves and loads back the same.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use port_atlas::settings::Settings;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch_file("settings.json", data);
    let Ok(s) = Settings::load(&path) else { return };
    let source = s.basemap_source();
    let mut remembered = s.clone();
    remembered.set_basemap(source.as_ref());
    s.save(&path).expect("cannot save the settings");
    let again = Settings::load(&path).unwrap_or_else(|e| panic!("saved settings do not load back: {e}"));
    assert_eq!(format!("{again:?}"), format!("{s:?}"));
});
