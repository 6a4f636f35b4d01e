//! Importing a planning office's Shapefile into memory, side by side with GDAL: a million
//! parcels in EPSG:4549 (CGCS2000 Gauss-Krüger CM 120E) with GBK attributes and no `.cpg`,
//! read by `formats::open` (decode, detect the encoding, convert every vertex to WGS84) and by
//! `ogr2ogr -f GeoJSON -t_srs EPSG:4326` of the same file.
//!
//! `cargo bench --no-default-features --bench import` (PORT_ATLAS_IMPORT_N changes the size).
//! Each side runs in its own process, so each peak memory is its own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Peak resident memory of this process in MiB (Linux).
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn child(shp: &Path) {
    let t = Instant::now();
    let opened = port_atlas::formats::open(shp, &Default::default()).expect("the generated file opens");
    let secs = t.elapsed().as_secs_f64();
    let layer = &opened.layers[0];
    assert!(
        layer.features.iter().take(1000).all(|f| f
            .extra
            .get("MC")
            .and_then(|v| v.as_str())
            .is_some_and(|s| s.contains("号地块")))
    );
    println!("{secs:.3} {:.0} {}", peak_mib(), layer.features.len());
}

/// Runs `cmd` under GNU time: (seconds, peak MiB).
fn timed(cmd: &mut Command) -> Option<(f64, f64)> {
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("TIME %e %M")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().rfind(|l| l.starts_with("TIME "))?;
    let mut it = line.split_whitespace().skip(1);
    Some((it.next()?.parse().ok()?, it.next()?.parse::<f64>().ok()? / 1024.0))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::var("PORT_ATLAS_IMPORT_N").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("port-atlas-import-bench-{n}"));
    let stem = dir.join("parcels");
    let shp = stem.with_extension("shp");
    if std::env::var_os("PORT_ATLAS_IMPORT_CHILD").is_some() {
        return child(&shp);
    }
    if !shp.exists() || !stem.with_extension("dbf").exists() {
        std::fs::create_dir_all(&dir).expect("temp dir");
        let t = Instant::now();
        port_atlas::synth::planner_shapefile(n, &stem).expect("write the Shapefile");
        eprintln!("generated {} polygons in {:.1} s", n, t.elapsed().as_secs_f64());
    }
    let size = |ext: &str| std::fs::metadata(stem.with_extension(ext)).map_or(0, |m| m.len()) / (1 << 20);
    println!(
        "input: {n} polygons of 12 vertices, EPSG:4549, GBK attributes (.shp {} MiB, .dbf {} MiB)",
        size("shp"),
        size("dbf")
    );
    let exe = std::env::current_exe().expect("own path");
    let runs = 3;
    let mut ours = Vec::new();
    let mut ours_mib = 0.0f64;
    for _ in 0..runs {
        let out = Command::new(&exe).env("PORT_ATLAS_IMPORT_CHILD", "1").output().expect("run child");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut it = text.split_whitespace();
        let secs: f64 = it.next().and_then(|s| s.parse().ok()).expect("child time");
        ours_mib = ours_mib.max(it.next().and_then(|s| s.parse().ok()).unwrap_or(0.0));
        ours.push(secs);
    }
    let ours_s = median(ours);
    println!("port-atlas formats::open: {ours_s:.2} s (median of {runs}), peak {ours_mib:.0} MiB");
    let out_json: PathBuf = dir.join("gdal.geojson");
    let mut gdal = Vec::new();
    let mut gdal_mib = 0.0f64;
    for _ in 0..runs {
        let _ = std::fs::remove_file(&out_json);
        let mut cmd = Command::new("ogr2ogr");
        cmd.args(["--config", "SHAPE_ENCODING", "CP936", "-f", "GeoJSON", "-t_srs", "EPSG:4326"])
            .arg(&out_json)
            .arg(&shp);
        match timed(&mut cmd) {
            Some((s, mib)) => {
                gdal.push(s);
                gdal_mib = gdal_mib.max(mib);
            }
            None => {
                println!("ogr2ogr: not available (install gdal-bin to compare)");
                return;
            }
        }
    }
    let _ = std::fs::remove_file(&out_json);
    let gdal_s = median(gdal);
    println!("ogr2ogr -f GeoJSON -t_srs EPSG:4326: {gdal_s:.2} s (median of {runs}), peak {gdal_mib:.0} MiB");
    println!("port-atlas is {:.1}x faster", gdal_s / ours_s);
}
