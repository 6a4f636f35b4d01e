//! Any text as a `.prj` (WKT1 ESRI/OGC, WKT2): a coordinate system or a clear error, never a
//! panic; and a system it gives converts a point near Taicang both ways without a panic, to
//! finite numbers when it converts at all.
#![no_main]

use libfuzzer_sys::fuzz_target;
use port_atlas::formats::wkt::parse_crs;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(crs) = parse_crs(&text) else { return };
    let _ = (crs.label(), crs.spelling(), crs.note(), crs.epsg(), crs.is_wgs84());
    if let Ok((x, y)) = crs.from_wgs84(121.1, 31.5) {
        if let Ok((lon, lat)) = crs.to_wgs84(x, y) {
            assert!(lon.is_finite() && lat.is_finite(), "{x} {y} -> {lon} {lat}");
        }
    }
    if let Ok((lon, lat)) = crs.to_wgs84(500_000.0, 3_500_000.0) {
        assert!(lon.is_finite() && lat.is_finite(), "-> {lon} {lat}");
    }
});
