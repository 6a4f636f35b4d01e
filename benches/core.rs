//! Core benchmarks: passage linking throughput, GeoJSON load + validation, tessellation and
//! indexing of a large layer, pick latency, and the basemap tile thread against a local server. Run with `cargo bench --no-default-features`
//! (the core needs no Bevy); prints one line per measurement.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use port_atlas::atlas::Atlas;
use port_atlas::document::Document;
use port_atlas::gazetteer::{Gazetteer, Matcher};
use port_atlas::geodata;
use port_atlas::index::SpatialIndex;
use port_atlas::proj::LocalFrame;
use port_atlas::synth::{self, Rng};
use port_atlas::tess;

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        last = Some(r);
    }
    (best, last.expect("at least one run"))
}

/// A memory figure from /proc/self/status in MiB ("VmRSS:" now, "VmHWM:" the peak); 0 elsewhere.
fn status_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

/// At least `bytes` of planning prose: the report's passages in both scripts, and sentences written
/// from templates a regional report uses, naming the gazetteer's own towns, counties and cities
/// (full names, short forms, parents before children) among everyday words that are also names.
fn corpus(atlas: &Atlas, bytes: usize) -> String {
    let fold = atlas.matcher.fold();
    let g = &atlas.gazetteer;
    let lines: Vec<&str> = atlas.documents[0].passages.iter().map(|p| p.text.as_str()).collect();
    let simplified: Vec<String> = lines.iter().map(|l| fold.fold_str(l)).collect();
    let towns: Vec<usize> =
        (0..g.places.len()).filter(|&i| g.places[i].level == Some(port_atlas::text::region::Level::Township)).collect();
    let name = |i: usize| g.places[i].name_zh_hans.clone();
    let short = |i: usize| g.places[i].short_names.first().map_or_else(|| name(i), |s| s.name.clone());
    let parent = |i: usize| g.places[i].parent.map(name).unwrap_or_default();
    let mut rng = Rng::new(9);
    let mut out = String::with_capacity(bytes + 10_000);
    while out.len() < bytes {
        match rng.next_u64() % 4 {
            0 => lines.iter().for_each(|l| {
                out.push_str(l);
                out.push('\n');
            }),
            1 => simplified.iter().for_each(|l| {
                out.push_str(l);
                out.push('\n');
            }),
            _ => {
                for _ in 0..12 {
                    let (a, b) =
                        (towns[rng.next_u64() as usize % towns.len()], towns[rng.next_u64() as usize % towns.len()]);
                    let s = match rng.next_u64() % 4 {
                        0 => format!(
                            "推进{}{}与{}联动发展，长江大桥以东的新区建设全面提速。",
                            parent(a),
                            name(a),
                            short(b)
                        ),
                        1 => format!("{}的{}古镇保护更新稳步推进，向东方拓展滨江空间。", parent(a), short(a)),
                        2 => format!("加强与{}、{}的产业合作，江南水乡风貌得到保护。", short(a), name(b)),
                        _ => format!("市委书记在{}调研时强调，要把{}建设成为开放门户。", name(a), short(b)),
                    };
                    out.push_str(&s);
                }
                out.push('\n');
            }
        }
    }
    out
}

fn bench_linking() {
    // The first gazetteer in the process parses the shipped regional table: that is the load.
    let (load, atlas) = best_of(1, Atlas::builtin);
    let (gaz, (g, _)) = best_of(3, || {
        Gazetteer::build(&atlas.layers.iter().collect::<Vec<_>>(), &Default::default(), Path::new("bench"))
    });
    let (build, m) = best_of(3, || Matcher::new(&g));
    println!(
        "link/load         built-in atlas with the regional gazetteer {:.0} ms; gazetteer {:.1} ms ({} places) + matcher {:.1} ms ({} names)",
        load.as_secs_f64() * 1e3,
        gaz.as_secs_f64() * 1e3,
        g.places.len(),
        build.as_secs_f64() * 1e3,
        m.pattern_count()
    );
    let text = corpus(&atlas, 100 * 1024 * 1024);
    let mb = text.len() as f64 / (1024.0 * 1024.0);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let (t_match, n) = best_of(3, || {
        out.clear();
        m.find(black_box(&text), &mut buf, &mut out);
        out.len()
    });
    println!("link/match        {mb:.1} MiB: {:.0} MiB/s on one core, {n} names found", mb / t_match.as_secs_f64());
    let (t, _) = best_of(3, || {
        m.fold().fold_into(black_box(&text), &mut buf);
        buf.len()
    });
    println!(
        "link/fold-only    {:.0} MiB/s (traditional-to-simplified and case fold, part of link/match)",
        mb / t.as_secs_f64()
    );
    // Disambiguation alone: the matches per passage are found first, then resolved.
    let passages: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let found: Vec<Vec<port_atlas::gazetteer::RawMatch>> = passages
        .iter()
        .map(|l| {
            let mut v = Vec::new();
            m.find(l, &mut buf, &mut v);
            v
        })
        .collect();
    let resolver = port_atlas::text::resolve::Resolver::new(&g, &m);
    port_atlas::text::segment::warm();
    let (t_resolve, (linked, uncertain)) = best_of(3, || {
        let cx = resolver.context(passages.iter().zip(&found).map(|(l, f)| (*l, f.as_slice())));
        let (mut linked, mut uncertain) = (0usize, 0usize);
        let mut res = Vec::new();
        for (k, (l, f)) in passages.iter().zip(&found).enumerate() {
            if f.is_empty() {
                continue;
            }
            resolver.passage(k, l, f, &cx, &mut res);
            for r in res.iter().flatten() {
                linked += 1;
                uncertain += usize::from(r.confidence < port_atlas::text::resolve::UNCERTAIN);
            }
        }
        (linked, uncertain)
    });
    println!(
        "link/resolve      {:.2} s for {n} names ({:.2}x the matching): {linked} linked, {uncertain} uncertain, {} not places",
        t_resolve.as_secs_f64(),
        t_resolve.as_secs_f64() / t_match.as_secs_f64(),
        n - linked
    );
    // The same, with a fresh resolver and nothing remembered: every window segmented anew once.
    let fresh = port_atlas::text::resolve::Resolver::new(&g, &m);
    let (t_cold, ()) = best_of(1, || {
        let cx = fresh.context(passages.iter().zip(&found).map(|(l, f)| (*l, f.as_slice())));
        let mut res = Vec::new();
        for (k, (l, f)) in passages.iter().zip(&found).enumerate().filter(|(_, (_, f))| !f.is_empty()) {
            fresh.passage(k, l, f, &cx, &mut res);
        }
    });
    let (asked, run) = fresh.fit_counts();
    println!(
        "link/resolve-cold {:.2} s ({:.2}x the matching), first pass: {asked} word fits asked for, {run} segmented ({:.0}% of windows new)",
        t_cold.as_secs_f64(),
        t_cold.as_secs_f64() / t_match.as_secs_f64(),
        100.0 * run as f64 / asked.max(1) as f64
    );
    let (t, d) = best_of(1, || Document::from_text("bench", Path::new("bench.txt"), black_box(&text), &m, &g));
    let mentions: usize = d.passages.iter().map(|p| p.mentions.len()).sum();
    println!(
        "link/document     {mb:.1} MiB into {} passages with sentences, char offsets and resolution: {:.0} MiB/s, {mentions} mentions",
        d.passages.len(),
        mb / t.as_secs_f64()
    );
    let line: String = text.chars().filter(|&c| c != '\n').take(10 * 1024 * 1024 / 3).collect();
    let (t, d) = best_of(1, || Document::from_text("line", Path::new("line.txt"), black_box(&line), &m, &g));
    println!(
        "link/one-line     a {:.1} MiB document on one line: {:.0} MiB/s, {} mentions",
        line.len() as f64 / 1048576.0,
        line.len() as f64 / 1048576.0 / t.as_secs_f64(),
        d.passages[0].mentions.len()
    );
}

fn bench_geojson_and_render_prep() {
    let dir = std::env::temp_dir().join(format!("port-atlas-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("synthetic.geojson");
    let layer = synth::polygons(100_000, 20, 7);
    std::fs::write(&path, layer.to_geojson_string()).expect("write synthetic layer");
    drop(layer);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / (1024.0 * 1024.0);

    let rss0 = status_mib("VmRSS:");
    let (t, (layer, diags)) = best_of(3, || geodata::load_layer(&path).expect("load"));
    assert!(diags.is_empty(), "{:?}", &diags[..diags.len().min(3)]);
    let vertices: usize = layer.features.iter().map(|f| geo::CoordsIter::coords_count(&f.geometry)).sum();
    println!(
        "geojson/load      {size:.1} MiB, {} polygons, {vertices} vertices: {:.2} s ({:.0} MiB/s), parse + validate",
        layer.features.len(),
        t.as_secs_f64(),
        size / t.as_secs_f64()
    );

    let frame = LocalFrame::default();
    let (t_tess, meshes) = best_of(1, || tess::tessellate(layer.features.iter().map(|f| &f.geometry), &frame, 0.5).0);
    let (t_index, index) = best_of(1, || SpatialIndex::build(std::slice::from_ref(&layer)));
    println!(
        "render-prep       tessellate {:.2} s ({} vertices, {} triangles) + R-tree {:.2} s, one thread",
        t_tess.as_secs_f64(),
        meshes.vertex_count(),
        (meshes.fill.indices.len() + meshes.outlines.indices.len()) / 3,
        t_index.as_secs_f64()
    );
    println!(
        "memory            RSS {:.0} MiB after load + tessellate + index (was {rss0:.0} MiB before loading), peak {:.0} MiB",
        status_mib("VmRSS:"),
        status_mib("VmHWM:")
    );

    let layers = [layer];
    let mut rng = Rng::new(3);
    let picks: Vec<(f64, f64)> =
        (0..100_000).map(|_| (121.174 + (rng.f64() - 0.5) * 0.6, 31.564 + (rng.f64() - 0.5) * 0.5)).collect();
    let mut times: Vec<f64> = Vec::with_capacity(picks.len());
    let mut hits = 0;
    for &(lon, lat) in &picks {
        let t = Instant::now();
        if black_box(index.pick(&layers, lon, lat, 0.0005, |_| true)).is_some() {
            hits += 1;
        }
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!(
        "pick              {} random picks on 100k polygons: mean {mean:.2} µs, p99 {:.2} µs, max {:.1} µs ({hits} hits)",
        picks.len(),
        times[times.len() * 99 / 100],
        times[times.len() - 1]
    );
    drop(layers);
    drop(index);

    // GeoPackage export of the same 100,000 features, against GDAL converting the GeoJSON file.
    let atlas = Atlas::from_dir(&dir).expect("synthetic folder");
    let out = dir.join("export");
    let opts = port_atlas::export::ExportOptions {
        out: out.clone(),
        layers: vec![],
        formats: vec![port_atlas::export::Format::GeoPackage],
        force: true,
        basemap: None,
        crs: None,
        vector_tiles: vec![],
    };
    let (t, _) = best_of(3, || port_atlas::export::export(&atlas, &opts).expect("export"));
    println!(
        "export/gpkg       port-atlas: 100,000 features to GeoPackage in {:.2} s (plus passages and styles)",
        t.as_secs_f64()
    );
    let ogr_out = dir.join("ogr.gpkg");
    let (t, status) = best_of(3, || {
        let _ = std::fs::remove_file(&ogr_out);
        std::process::Command::new("ogr2ogr").args(["-f", "GPKG"]).arg(&ogr_out).arg(&path).status()
    });
    match status {
        Ok(s) if s.success() => {
            println!("export/ogr2ogr    ogr2ogr -f GPKG from the GeoJSON file: {:.2} s", t.as_secs_f64())
        }
        _ => println!("export/ogr2ogr    ogr2ogr not available (install gdal-bin)"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[path = "../tests/support/tile_server.rs"]
mod tile_server;

/// The tile thread against a tile server on 127.0.0.1: download + validate + decode + cache, then
/// the same tiles from the disk cache; tile decoding and GCJ-02 mesh building on their own.
fn bench_tiles() {
    use port_atlas::proj::Crs;
    use port_atlas::tiles::fetch::{FetchConfig, TileEvent, TileFetcher, decode};
    use port_atlas::tiles::{TileCache, TileId, TileSource, covering};
    let server = tile_server::TileServer::start(Some((121.2333, 31.6167)));
    let dir = std::env::temp_dir().join(format!("port-atlas-bench-tiles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cache = TileCache::new(&dir, 1 << 30);
    let tiles = covering([120.6, 31.2, 121.7, 31.9], 12, 256);
    let run = |label: &str| {
        let mut f = TileFetcher::spawn(Some(cache.clone()), FetchConfig::default()).expect("tile thread");
        f.set_source(Some(TileSource::new(&server.template("ok"), &[], Crs::Wgs84, "").expect("template")));
        let t = Instant::now();
        f.want(tiles.clone());
        let mut n = 0;
        while n < tiles.len() {
            match f.recv_timeout(Duration::from_secs(30)) {
                Some(TileEvent::Ready { .. }) => n += 1,
                Some(TileEvent::Failed { error, .. }) => panic!("{error}"),
                Some(_) => {}
                None => panic!("tile thread stalled"),
            }
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "tiles/{label:<9} {n} tiles of 256x256 in {s:.2} s: {:.0} tiles/s (at most 4 downloads at a time)",
            n as f64 / s
        );
    };
    run("download");
    run("cache");
    let png = cache.get(&TileSource::new(&server.template("ok"), &[], Crs::Wgs84, "").expect("t"), tiles[0]);
    let png = png.expect("cached tile").bytes;
    let (t, _) = best_of(3, || (0..200).map(|_| black_box(decode(&png, 1024).expect("decodes")).width).sum::<u32>());
    println!("tiles/decode    PNG 256x256 to RGBA: {:.0} µs per tile", t.as_secs_f64() / 200.0 * 1e6);
    let gcj = TileSource::new(&server.template("ok"), &[], Crs::Gcj02, "").expect("template");
    let frame = LocalFrame::default();
    let (t, _) = best_of(3, || {
        (0..1000)
            .map(|i| black_box(gcj.mesh(TileId { z: 14, x: 13700 + i % 30, y: 6670 }, &frame)).indices.len())
            .sum::<usize>()
    });
    println!(
        "tiles/gcj-mesh  GCJ-02 tile mesh (9x9 vertices, each shifted): {:.1} µs per tile",
        t.as_secs_f64() / 1000.0 * 1e6
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The realistic case, last so its allocations do not colour the other groups: a planner's layer
/// with a `name` and a land-use code, none of the atlas's attributes, read as a user's layer (the
/// app's path).
fn bench_planner_layer() {
    let dir = std::env::temp_dir().join(format!("port-atlas-bench-planner-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let planner_path = dir.join("planner.geojson");
    std::fs::write(&planner_path, synth::planner_geojson(&synth::planner_polygons(100_000, 20, 7)))
        .expect("write planner layer");
    let psize = std::fs::metadata(&planner_path).map(|m| m.len()).unwrap_or(0) as f64 / (1024.0 * 1024.0);
    let (t, (planner, diags)) =
        best_of(3, || port_atlas::atlas::read_user_layer(&planner_path).expect("load planner layer"));
    println!(
        "geojson/planner   {psize:.1} MiB, {} polygons with `name` only: {:.2} s ({:.0} MiB/s), {} diagnostics",
        planner.features.len(),
        t.as_secs_f64(),
        psize / t.as_secs_f64(),
        diags.len()
    );
    // Adding it to the app's atlas: what the frame pays (the layer's names copied into a job)
    // against what the job does on its own thread (gazetteer, matcher, the report linked again).
    let mut atlas = port_atlas::atlas::Atlas::builtin();
    atlas.defer_links();
    let t = Instant::now();
    atlas.add_layer(planner);
    let frame = t.elapsed();
    let job = atlas.take_link_job().expect("adding a named layer asks for a re-link");
    let t = Instant::now();
    let places = port_atlas::gazetteer::Gazetteer::layer_places(&atlas.layers.iter().collect::<Vec<_>>()).len();
    let taking = t.elapsed();
    let t = Instant::now();
    let linked = job.run();
    let worker = t.elapsed();
    let t = Instant::now();
    atlas.apply_link(linked);
    let apply = t.elapsed();
    println!(
        "relink/planner    100,000 named polygons added: on the frame {:.0} ms (naming the features, and \
         {:.0} ms of it copying {places} places for the job) + {:.0} ms applying the result; on the worker {:.0} ms \
         (gazetteer, matcher, documents)",
        frame.as_secs_f64() * 1e3,
        taking.as_secs_f64() * 1e3,
        apply.as_secs_f64() * 1e3,
        worker.as_secs_f64() * 1e3
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn main() {
    // `cargo bench` passes --bench; a filter argument picks one group.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let want = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    if want("link") {
        bench_linking();
    }
    if want("geojson") {
        bench_geojson_and_render_prep();
    }
    if want("tiles") {
        bench_tiles();
    }
    if want("planner") {
        bench_planner_layer();
    }
    if want("reports") {
        bench_reports();
    }
    if want("vector") {
        bench_vector_tiles();
    }
}

/// The vector tile path for the view the README's app benchmark opens (1600x1000 window, 10 m/px
/// at 121.10 E, 31.375 N): the tiles it needs read from a city-scale PMTiles archive
/// (`scripts/bench-vector-tiles.sh` makes them with tippecanoe; PORT_ATLAS_CITY_PMTILES names
/// another), inflated, decoded and tessellated, one tile at a time on one core.
fn bench_vector_tiles() {
    use port_atlas::tiles::vector::source::{inflate, open};
    use port_atlas::tiles::vector::{VectorSpec, build};
    let path = std::env::var_os("PORT_ATLAS_CITY_PMTILES").map(std::path::PathBuf::from).unwrap_or_else(|| {
        dirs::home_dir().unwrap_or_default().join(".cache/port-atlas/bench-tiles/city-2000000.pmtiles")
    });
    if !path.is_file() {
        println!("vector: {} missing; run scripts/bench-vector-tiles.sh first", path.display());
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (opened, info) = rt.block_on(open(&VectorSpec::File(path.clone()))).expect("archive opens");
    // The map area of a 1600x1000 window (the panels take the rest), 11.7 Web Mercator m/px.
    let frame = port_atlas::proj::LocalFrame::default();
    let (cx, cy) = frame.project(121.10, 31.375);
    let (hw, hh) = (890.0 * 11.7 / 2.0, 953.0 * 11.7 / 2.0);
    let (w, s) = frame.unproject(cx - hw, cy - hh);
    let (e, n) = frame.unproject(cx + hw, cy + hh);
    let z = (port_atlas::tiles::zoom_for(11.7 * 2.0, 24)).clamp(info.min_zoom, info.max_zoom);
    let tiles = port_atlas::tiles::covering([w, s, e, n], z, 100);
    let (mut read, mut decode, mut tess) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut bytes, mut features, mut vertices, mut held) = (0usize, 0usize, 0usize, 0usize);
    for t in &tiles {
        let t0 = Instant::now();
        let raw = rt.block_on(opened.tile(*t)).expect("tile reads").unwrap_or_default();
        let t1 = Instant::now();
        let inflated = inflate(&raw, 1 << 26).expect("inflates");
        let tile = port_atlas::tiles::vector::mvt::decode(&inflated).expect("decodes");
        let t2 = Instant::now();
        let built = build::build(&inflated, *t, *t).expect("builds");
        let t3 = Instant::now();
        read += t1 - t0;
        decode += t2 - t1;
        tess += t3 - t2;
        bytes += raw.len();
        features += tile.layers.iter().map(|l| l.features.len()).sum::<usize>();
        vertices += built.vertex_count();
        held += built.approx_bytes();
    }
    let n = tiles.len().max(1) as u32;
    println!(
        "vector: {} ({}), z{z}: {} tiles, {:.1} MB stored, {features} features, {vertices} vertices, {:.1} MB held",
        path.display(),
        info.kind.title(),
        tiles.len(),
        bytes as f64 / 1e6,
        held as f64 / 1e6,
    );
    println!(
        "vector: per tile: read {:.1} ms, inflate+decode {:.1} ms, clip+tessellate {:.1} ms; all {} tiles on one core {:.0} ms",
        (read / n).as_secs_f64() * 1e3,
        (decode / n).as_secs_f64() * 1e3,
        (tess / n).as_secs_f64() * 1e3,
        tiles.len(),
        (read + decode + tess).as_secs_f64() * 1e3,
    );
}

/// A folder of 1,000 generated reports (`port-atlas synth-reports`: UTF-8 and GBK text, HTML),
/// listed, extracted, dated and linked on every core, then its coverage; and a 200-page PDF
/// and a long Word file extracted.
fn bench_reports() {
    use port_atlas::text::corpus::Progress;
    use port_atlas::text::coverage::{Coverage, DateRange};
    let atlas = Atlas::builtin();
    let dir = std::env::temp_dir().join(format!("port-atlas-bench-reports-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let reports = port_atlas::text::sample::reports(&atlas.gazetteer, 1000, 7);
    let bytes: usize = reports.iter().map(|(_, b)| b.len()).sum();
    for (name, b) in &reports {
        std::fs::write(dir.join(name), b).expect("write report");
    }
    let (t, loaded) = best_of(3, || {
        port_atlas::atlas::read_paths(
            std::slice::from_ref(&dir),
            &atlas.matcher,
            &atlas.gazetteer,
            &Progress::default(),
        )
        .expect("folder reads")
    });
    let mentions: usize = loaded.documents.iter().flat_map(|d| &d.passages).map(|p| p.mentions.len()).sum();
    println!(
        "reports: 1,000 files ({:.1} MB), read + extracted + dated + linked on {} threads: {:.2} s ({mentions} mentions, {} problems)",
        bytes as f64 / 1e6,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        t.as_secs_f64(),
        loaded.diagnostics.len()
    );
    let mapped = |i: usize| atlas.gazetteer.places[i].layer.is_some();
    let (t, c) = best_of(5, || Coverage::of(&loaded.documents, &atlas.gazetteer, None, mapped));
    println!("reports: coverage of all 1,000: {:.1} ms ({} places)", t.as_secs_f64() * 1e3, c.places.len());
    let (t, c) = best_of(5, || Coverage::of(&loaded.documents, &atlas.gazetteer, DateRange::year(2021), mapped));
    println!(
        "reports: coverage of 2021: {:.1} ms ({} reports, {} places)",
        t.as_secs_f64() * 1e3,
        c.documents,
        c.places.len()
    );
    let _ = std::fs::remove_dir_all(&dir);

    // A 200-page PDF: the fpdf2 fixture's text pages repeated (each a subset CJK font with ToUnicode).
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports/report-fpdf.pdf");
    let pdf = std::fs::read(&fixture).expect("fixture");
    let mut doc = lopdf::Document::load_mem(&pdf).expect("fixture parses");
    let pages: Vec<lopdf::ObjectId> = doc.get_pages().values().copied().collect();
    let dicts: Vec<lopdf::Object> =
        pages.iter().map(|id| lopdf::Object::Dictionary(doc.get_dictionary(*id).expect("page").clone())).collect();
    let root = doc.catalog().and_then(|c| c.get(b"Pages")).and_then(|p| p.as_reference()).expect("pages");
    let kids: Vec<lopdf::Object> =
        (0..200).map(|i| lopdf::Object::Reference(doc.add_object(dicts[i % dicts.len()].clone()))).collect();
    let pages_dict = doc.get_dictionary_mut(root).expect("pages dict");
    pages_dict.set("Kids", lopdf::Object::Array(kids));
    pages_dict.set("Count", lopdf::Object::Integer(200));
    let mut big = Vec::new();
    doc.save_to(&mut big).expect("save");
    let (t, x) = best_of(5, || port_atlas::text::extract::extract(Path::new("big.pdf"), &big).expect("extracts"));
    println!(
        "reports: 200-page PDF ({} KB) extracted: {:.0} ms ({} paragraphs)",
        big.len() / 1024,
        t.as_secs_f64() * 1e3,
        x.paragraphs.len()
    );
}
