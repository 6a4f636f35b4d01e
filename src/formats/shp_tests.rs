//! Damaged and unusual Shapefiles: each is a clear error naming the file and the place, and
//! the rest of the file loads.

use std::path::{Path, PathBuf};

use super::*;
use crate::spatial::synth::{PRJ_4549, ShapefileOut};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("port-atlas-shp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Three square parcels near Taicang in EPSG:4549, GBK names, no .cpg.
fn parcels(dir: &Path, records: usize) -> PathBuf {
    let stem = dir.join("地块");
    let recs: Vec<_> = (0..records)
        .map(|i| {
            let (e, n) = (611_000.0 + i as f64 * 500.0, 3_493_000.0);
            let ring = vec![(e, n), (e, n + 100.0), (e + 100.0, n + 100.0), (e + 100.0, n), (e, n)];
            (vec![ring], vec![format!("浏河镇{i}号地块"), "M1".to_string()])
        })
        .collect();
    ShapefileOut {
        fields: &[("MC", 40), ("YDXZ", 4)],
        encoding: encoding_rs::GB18030,
        ldid: 0,
        prj: Some(PRJ_4549),
        cpg: None,
    }
    .write(&stem, &recs)
    .unwrap();
    stem.with_extension("shp")
}

fn read(p: &Path) -> (Vec<RawLayer>, Vec<crate::diagnostic::Diagnostic>) {
    let mut d = Diagnostics::new();
    let r = read_path(p, &OpenOptions::default(), &mut d).unwrap();
    (r, d.into_vec())
}

#[test]
fn the_writer_and_reader_agree_and_a_missing_shx_is_rebuilt() {
    let dir = scratch("shx");
    let p = parcels(&dir, 3);
    std::fs::remove_file(p.with_extension("shx")).unwrap();
    let (layers, diags) = read(&p);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(layers[0].features.len(), 3);
    assert_eq!(layers[0].features[2].extra["MC"], "浏河镇2号地块");
    assert_eq!(layers[0].name, "地块");
}

#[test]
fn a_truncated_shp_loads_up_to_the_cut_and_says_where() {
    let dir = scratch("cut");
    let p = parcels(&dir, 3);
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() - 30]).unwrap();
    std::fs::remove_file(p.with_extension("shx")).unwrap();
    let (layers, diags) = read(&p);
    assert_eq!(layers[0].features.len(), 2);
    let d = diags.iter().find(|d| d.message.contains("truncated")).expect("truncation reported");
    assert_eq!(d.position, Position::At(format!("record 3 (byte {})", thousands(100 + 2 * (8 + 44 + 4 + 80)))));
    assert!(d.to_string().contains("地块.shp"), "{d}");
}

#[test]
fn a_dbf_with_another_record_count_is_an_error_that_still_loads() {
    let dir = scratch("count");
    let p = parcels(&dir, 3);
    let other = scratch("count-other");
    let q = parcels(&other, 2);
    std::fs::copy(q.with_extension("dbf"), p.with_extension("dbf")).unwrap();
    let (layers, diags) = read(&p);
    assert_eq!(layers[0].features.len(), 3);
    assert!(layers[0].features[2].extra.is_empty());
    let d = diags.iter().find(|d| d.message.contains("2 records, the .shp 3")).expect("{diags:?}");
    assert!(d.file.ends_with("地块.dbf"), "{d}");
}

#[test]
fn a_prj_no_library_understands_names_the_prj() {
    let dir = scratch("prj");
    let p = parcels(&dir, 1);
    std::fs::write(p.with_extension("prj"), "LOCAL_CS[\"engineering grid\"]").unwrap();
    let e = read_path(&p, &OpenOptions::default(), &mut Diagnostics::new()).unwrap_err().to_string();
    assert!(e.contains("地块.prj") && e.contains("--from-crs"), "{e}");
}

#[test]
fn positions_outside_the_zone_are_left_out_and_reported() {
    let dir = scratch("area");
    let stem = dir.join("mixed");
    let square = |e: f64| vec![vec![(e, 3_493_000.0), (e, 3_493_100.0), (e + 100.0, 3_493_100.0), (e, 3_493_000.0)]];
    // The second parcel's easting carries the zone number, which EPSG:4549 does not.
    let recs = vec![(square(611_000.0), vec!["a".into()]), (square(40_611_000.0), vec!["b".into()])];
    ShapefileOut { fields: &[("MC", 10)], encoding: encoding_rs::UTF_8, ldid: 0, prj: Some(PRJ_4549), cpg: None }
        .write(&stem, &recs)
        .unwrap();
    let o = crate::formats::open(&stem.with_extension("shp"), &OpenOptions::default()).unwrap();
    assert_eq!(o.layers[0].features.len(), 1);
    assert!(
        o.diagnostics
            .iter()
            .any(|d| d.message.contains("outside the area") && d.position == Position::Feature(1, None))
    );
}

#[test]
fn forced_encoding_and_wrong_guesses_never_make_mojibake() {
    let dir = scratch("enc");
    let p = parcels(&dir, 2);
    let opts = OpenOptions { encoding: Some(encoding_rs::UTF_8), ..Default::default() };
    let mut d = Diagnostics::new();
    let layers = read_path(&p, &opts, &mut d).unwrap();
    assert_eq!(layers[0].features.len(), 2, "geometry still loads");
    assert!(layers[0].features.iter().all(|f| !f.extra.contains_key("MC")));
    let d = d.into_vec();
    assert_eq!(d.len(), 1, "aggregated: {d:?}");
    assert!(d[0].message.contains("--encoding") && d[0].count == 2, "{:?}", d[0]);
    // A .cpg wins over detection.
    std::fs::write(p.with_extension("cpg"), "936").unwrap();
    let (layers, _) = read(&p);
    assert_eq!(layers[0].encoding.as_deref(), Some("GB18030/GBK (.cpg)"));
}

#[test]
fn not_a_shapefile_and_missing_parts() {
    let dir = scratch("junk");
    let p = dir.join("junk.shp");
    std::fs::write(&p, b"PK\x03\x04 not a shapefile").unwrap();
    let e = read_path(&p, &OpenOptions::default(), &mut Diagnostics::new()).unwrap_err().to_string();
    assert!(e.contains("junk.shp") && e.contains("not a Shapefile"), "{e}");
    let e = read_path(&dir.join("none.dbf"), &OpenOptions::default(), &mut Diagnostics::new()).unwrap_err().to_string();
    assert!(e.contains("no .shp"), "{e}");
}
