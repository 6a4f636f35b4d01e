//! Tests across formats: files written by GDAL (`scripts/format_fixtures.sh`) from
//! `places.geojson` read back to the same WGS84 vertices within a centimetre, names intact.

use std::path::PathBuf;

use geo::CoordsIter;

use super::*;
use crate::geodata::Layer;

pub(crate) fn fixture(p: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/formats/")).join(p)
}

/// The WGS84 originals, by name.
fn originals() -> Vec<(String, Vec<(f64, f64)>)> {
    let (layer, _) = crate::atlas::read_user_layer(&fixture("places.geojson")).unwrap();
    layer.features.iter().map(|f| (f.extra["名称"].as_str().unwrap().to_string(), sorted(f))).collect()
}

fn sorted(f: &crate::geodata::Feature) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = f.geometry.coords_iter().map(|c| (c.x, c.y)).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    v
}

/// Every feature's name is one of the originals and every vertex is within 1e-7° (1 cm).
fn assert_matches_originals(layer: &Layer, expected: usize) {
    let originals = originals();
    assert_eq!(layer.features.len(), expected, "{}", layer.id);
    for f in &layer.features {
        let name = f.extra["名称"].as_str().unwrap();
        assert!(!name.contains('\u{fffd}'), "replacement character in {name:?}");
        let (_, want) = originals.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("unknown name {name:?}"));
        let got = sorted(f);
        assert_eq!(got.len(), want.len(), "{name}");
        for (g, w) in got.iter().zip(want) {
            assert!((g.0 - w.0).abs() < 1e-7 && (g.1 - w.1).abs() < 1e-7, "{name}: {g:?} vs {w:?}");
        }
    }
}

fn open_one(p: &str, opts: &OpenOptions) -> (Layer, Vec<Diagnostic>) {
    let mut o = open(&fixture(p), opts).unwrap_or_else(|e| panic!("{p}: {e}"));
    assert_eq!(o.layers.len(), 1);
    (o.layers.remove(0), o.diagnostics)
}

#[test]
fn gbk_shapefile_in_gauss_kruger_with_cpg() {
    let (layer, diags) = open_one("shp-4549-gbk/parcels.shp", &OpenOptions::default());
    assert!(diags.is_empty(), "{diags:?}");
    assert_matches_originals(&layer, 2);
    let p = layer.provenance.as_ref().unwrap();
    assert_eq!(p.crs_from, ".prj");
    assert!(p.crs.contains("CGCS2000_3_Degree_GK_CM_120E"), "{}", p.crs);
    assert_eq!(p.encoding.as_deref(), Some("GB18030/GBK (.cpg)"));
    assert_eq!(layer.features[0].extra["类型"], "公园");
}

#[test]
fn gbk_without_cpg_or_language_driver_is_detected_from_the_bytes() {
    let (layer, _) = open_one("shp-4528-gbk-nocpg/places.shp", &OpenOptions::default());
    assert_matches_originals(&layer, 2);
    assert!(layer.provenance.unwrap().encoding.unwrap().contains("not UTF-8"));
}

#[test]
fn utf8_shapefile_lines() {
    let (layer, _) = open_one("shp-4549-utf8/roads.shp", &OpenOptions::default());
    assert_matches_originals(&layer, 1);
    assert!(matches!(layer.features[0].geometry, geo::Geometry::LineString(_)));
}

#[test]
fn a_shapefile_without_prj_is_never_drawn_as_wgs84() {
    let e = open(&fixture("shp-noprj/parcels.shp"), &OpenOptions::default()).unwrap_err();
    let FormatError::NeedsCrs { guesses, .. } = &e else { panic!("{e}") };
    assert_eq!(guesses[0].crs, "EPSG:4549", "{guesses:?}");
    let text = e.to_string();
    assert!(text.contains("shp-noprj/parcels.shp") && text.contains("--from-crs EPSG:4549"), "{text}");
    let opts = OpenOptions { crs: Some(SourceCrs::parse("EPSG:4549").unwrap()), ..Default::default() };
    let (layer, _) = open_one("shp-noprj/parcels.shp", &opts);
    assert_matches_originals(&layer, 2);
    assert_eq!(layer.provenance.unwrap().crs_from, "--from-crs");
}

#[test]
fn a_zipped_shapefile_opens_in_memory() {
    let (layer, _) = open_one("parcels-4549.zip", &OpenOptions::default());
    assert_matches_originals(&layer, 2);
    assert_eq!(layer.provenance.unwrap().format, "Shapefile in a zip");
}

#[test]
fn geopackage_tables_are_layers_in_their_srs() {
    let o = open(&fixture("places-4549.gpkg"), &OpenOptions::default()).unwrap();
    let ids: Vec<&str> = o.layers.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["lines", "points", "polygons", "polygons_z"]);
    let counts = [1, 2, 2, 2];
    for (l, n) in o.layers.iter().zip(counts) {
        assert_matches_originals(l, n);
        assert_eq!(l.provenance.as_ref().unwrap().crs, "EPSG:4549 CGCS2000 / 3-degree Gauss-Kruger CM 120E");
    }
    assert_eq!(o.layers[3].provenance.as_ref().unwrap().notes, ["Z/M values dropped (the atlas is 2D)"]);
    let opts = OpenOptions { layer: Some("points".into()), ..Default::default() };
    assert_eq!(open(&fixture("places-4549.gpkg"), &opts).unwrap().layers.len(), 1);
    let opts = OpenOptions { layer: Some("roads".into()), ..Default::default() };
    let e = open(&fixture("places-4549.gpkg"), &opts).unwrap_err().to_string();
    assert!(e.contains("\"roads\"") && e.contains("lines, points, polygons, polygons_z"), "{e}");
}

#[test]
fn a_legacy_crs_geojson_and_unknown_extensions() {
    let e = open(&PathBuf::from("plan.dwg"), &OpenOptions::default()).unwrap_err().to_string();
    assert!(e.contains("plan.dwg") && e.contains(".shp"), "{e}");
    let (layer, _) = open_one("places.geojson", &OpenOptions::default());
    assert_matches_originals(&layer, 5);
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("port-atlas-formats-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A zip of `entries` (name, bytes), deflated.
fn zip_of(path: &std::path::Path, entries: &[(&str, Vec<u8>)]) {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap();
}

fn parcel_parts(dir: &str) -> Vec<(String, Vec<u8>)> {
    ["shp", "shx", "dbf", "prj", "cpg"]
        .iter()
        .map(|e| (format!("{dir}parcels.{e}"), std::fs::read(fixture(&format!("shp-4549-gbk/parcels.{e}"))).unwrap()))
        .collect()
}

#[test]
fn a_zip_with_two_shapefiles_asks_which_and_layer_picks_one() {
    let d = scratch("two");
    let mut entries = parcel_parts("a/");
    entries.extend(parcel_parts("b/").into_iter().map(|(n, b)| (n.replace("parcels", "地块"), b)));
    let refs: Vec<(&str, Vec<u8>)> = entries.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    zip_of(&d.join("两个.zip"), &refs);
    let e = open(&d.join("两个.zip"), &OpenOptions::default()).unwrap_err();
    let FormatError::Layers { available, .. } = &e else { panic!("{e}") };
    assert_eq!(available, &["parcels", "地块"]);
    assert!(e.to_string().contains("--layer"), "{e}");
    let opts = OpenOptions { layer: Some("地块".into()), ..Default::default() };
    let o = open(&d.join("两个.zip"), &opts).unwrap();
    assert_matches_originals(&o.layers[0], 2);
}

#[test]
fn a_zip_naming_paths_outside_itself_extracts_nothing_and_reads_the_rest() {
    let d = scratch("slip");
    let mut entries = parcel_parts("");
    entries.push(("../../evil.shp".into(), b"not read".to_vec()));
    let refs: Vec<(&str, Vec<u8>)> = entries.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    zip_of(&d.join("slip.zip"), &refs);
    let o = open(&d.join("slip.zip"), &OpenOptions::default()).unwrap();
    assert_matches_originals(&o.layers[0], 2);
    assert!(o.diagnostics.iter().any(|x| x.message.contains("outside the archive")), "{:?}", o.diagnostics);
    assert!(!d.join("../../evil.shp").exists() && !d.join("parcels.shp").exists(), "nothing is written to disk");
}

#[test]
fn a_zip_that_expands_past_the_limit_is_refused_before_decompressing() {
    let d = scratch("bomb");
    // 8 MiB of zeros deflate to a few KiB; with a 1 MiB limit the sizes alone refuse it.
    zip_of(&d.join("bomb.zip"), &[("parcels.shp", vec![0u8; 8 << 20]), ("parcels.dbf", vec![0u8; 16])]);
    assert!(std::fs::metadata(d.join("bomb.zip")).unwrap().len() < 100_000);
    let e = archive::read_zip_within(&d.join("bomb.zip"), &OpenOptions::default(), &mut Diagnostics::new(), 1 << 20)
        .unwrap_err()
        .to_string();
    assert!(e.contains("bomb.zip") && e.contains("expands to more than 1,048,576 bytes"), "{e}");
}

#[test]
fn a_geopackage_table_without_a_geometry_column_is_named() {
    let d = scratch("nogeom");
    let p = d.join("规划.gpkg");
    std::fs::copy(fixture("places-4549.gpkg"), &p).unwrap();
    {
        let db = rusqlite::Connection::open(&p).unwrap();
        db.execute_batch(
            "CREATE TABLE 项目 (fid INTEGER PRIMARY KEY, 名称 TEXT);
             INSERT INTO 项目 VALUES (1, '沿江码头扩建');
             INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('项目', 'features', '项目', 4549);",
        )
        .unwrap();
    }
    let opts = OpenOptions { layer: Some("项目".into()), ..Default::default() };
    let e = open(&p, &opts).unwrap_err().to_string();
    assert!(e.contains("规划.gpkg") && e.contains("table \"项目\"") && e.contains("no geometry column"), "{e}");
    // Opening the whole file loads the other tables and reports this one.
    let o = open(&p, &OpenOptions::default()).unwrap();
    assert_eq!(o.layers.len(), 4);
    assert!(o.diagnostics.iter().any(|x| x.message.contains("no geometry column")));
    // Not a GeoPackage at all.
    std::fs::write(d.join("x.gpkg"), b"SQLite format 3\0 but not really").unwrap();
    assert!(open(&d.join("x.gpkg"), &OpenOptions::default()).unwrap_err().to_string().contains("x.gpkg"));
}

#[test]
fn fuzz_regressions_for_geopackages_read_without_panic_or_nan() {
    // Found by the `gpkg` fuzz target: a column name that is not UTF-8, a point with a NaN.
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/regressions/gpkg"));
    let Ok(entries) = std::fs::read_dir(&dir) else { panic!("{} is committed", dir.display()) };
    let d = scratch("gpkg-regressions");
    let mut n = 0;
    for e in entries.flatten().filter(|e| e.file_name().to_string_lossy().starts_with("crash-")) {
        let p = d.join("fuzz.gpkg");
        std::fs::copy(e.path(), &p).unwrap();
        if let Ok(o) = open(&p, &OpenOptions { crs: Some(SourceCrs::WGS84), ..Default::default() }) {
            for l in &o.layers {
                assert!(
                    l.features.iter().all(|f| f.geometry.coords_iter().all(|c| c.x.is_finite() && c.y.is_finite()))
                );
            }
        }
        n += 1;
    }
    assert!(n >= 2, "{n} regression inputs");
}

#[test]
fn a_kmz_reads_as_its_kml() {
    let d = scratch("kmz");
    let kml = std::fs::read(fixture("kml/gdal-places.kml")).unwrap();
    zip_of(&d.join("places.kmz"), &[("doc.kml", kml), ("files/icon.png", vec![0u8; 16])]);
    let kmz = open(&d.join("places.kmz"), &OpenOptions::default()).unwrap();
    let plain = open(&fixture("kml/gdal-places.kml"), &OpenOptions::default()).unwrap();
    assert_eq!(kmz.layers[0].features.len(), plain.layers[0].features.len());
    for (a, b) in kmz.layers[0].features.iter().zip(&plain.layers[0].features) {
        assert_eq!(a.geometry, b.geometry);
        assert_eq!(a.extra, b.extra);
    }
    assert_eq!(kmz.layers[0].provenance.as_ref().unwrap().format, "KMZ");
    assert!(kmz.layers[0].provenance.as_ref().unwrap().crs.contains("4326"));
}
