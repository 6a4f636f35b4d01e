//! Vector tiles from real encoders (GDAL, tippecanoe, PostGIS; `tests/fixtures/vector/`) against
//! the values independent decoders read from them (`expected.json`, by mapbox-vector-tile, the
//! pmtiles package and ogrinfo), and every source kind over HTTP from the test server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value as J;

use super::mvt::{self, TileGeometry, Value, ring_area2};
use super::source::{SourceKind, VectorError, VectorSpec, inflate, open};
use super::worker::{VectorEvent, VectorFetcher};
use crate::http::HttpError;
use crate::tiles::TileId;

// The test server the basemap's tests start (one copy of the module in the crate).
use crate::tiles::fetch::tests::tile_server::TileServer;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vector")
}

fn expected() -> J {
    serde_json::from_slice(&std::fs::read(fixtures().join("expected.json")).unwrap()).unwrap()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

fn value_json(v: &Value) -> J {
    v.to_json()
}

/// The stored bytes of a tile, inflated, by each fixture's own reader.
fn tile_bytes(source: &str, t: TileId) -> Option<Vec<u8>> {
    let dir = fixtures();
    match source {
        "gdal-xyz" => std::fs::read(dir.join(format!("gdal-xyz/{}/{}/{}.pbf", t.z, t.x, t.y)))
            .ok()
            .map(|b| inflate(&b, 1 << 24).unwrap()),
        "postgis" => std::fs::read(dir.join(format!("postgis/{}-{}-{}.mvt", t.z, t.x, t.y))).ok(),
        file => block_on(async {
            let (opened, _) = open(&VectorSpec::File(dir.join(file))).await.unwrap();
            opened.tile(t).await.unwrap()
        }),
    }
}

/// Checks one decoded layer against its reference entry.
fn check_layer(what: &str, l: &mvt::TileLayer, want: &J) {
    assert_eq!(l.extent as u64, want["extent"].as_u64().unwrap(), "{what}");
    assert_eq!(l.features.len() as u64, want["feature_count"].as_u64().unwrap(), "{what}");
    let mut ids: Vec<i64> = l
        .features
        .iter()
        .filter_map(|f| match l.property(f, "id")? {
            Value::Int(v) => Some(*v),
            Value::Uint(v) => Some(*v as i64),
            _ => None,
        })
        .collect();
    ids.sort();
    let want_ids: Vec<i64> = want["ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(ids, want_ids, "{what}: id properties");
    let mut fids: Vec<u64> = l.features.iter().filter_map(|f| f.id).collect();
    fids.sort();
    match want["feature_ids"].as_array() {
        None => assert!(fids.is_empty(), "{what}: the encoder wrote no feature ids"),
        Some(w) => assert_eq!(fids, w.iter().map(|v| v.as_u64().unwrap()).collect::<Vec<_>>(), "{what}"),
    }
    let chosen = &want["chosen_feature"];
    let cid = chosen["id"].as_i64().unwrap();
    let (fi, f) = l
        .features
        .iter()
        .enumerate()
        .find(|(_, f)| l.property(f, "id").map(|v| v.to_json()) == Some(J::from(cid)))
        .unwrap();
    for (k, v) in chosen["properties"].as_object().unwrap() {
        let got = l.property(f, k).map(value_json).unwrap();
        assert_eq!(
            got.as_f64().map_or(got.to_string(), |n| format!("{n:.1}")),
            v.as_f64().map_or(v.to_string(), |n| format!("{n:.1}")),
            "{what}: {k}"
        );
    }
    let first: Vec<[i32; 2]> = chosen["first_part"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| [p[0].as_i64().unwrap() as i32, p[1].as_i64().unwrap() as i32])
        .collect();
    match l.geometry(fi).unwrap() {
        TileGeometry::Polygons(p) => {
            let ring = &p[0][0];
            assert_eq!(&ring[..ring.len() - 1], &first[..], "{what}: first ring without its closing point");
            let areas: Vec<f64> = p.iter().flatten().map(|r| ring_area2(r) as f64 / 2.0).collect();
            let want_areas: Vec<f64> =
                chosen["part_signed_areas"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            assert_eq!(areas, want_areas, "{what}");
        }
        TileGeometry::Lines(ls) => assert_eq!(ls[0], first, "{what}"),
        TileGeometry::Points(ps) => assert_eq!(ps[..first.len()], first[..], "{what}"),
    }
    // The polygon with a hole and the multipolygon: rings grouped as the reference decoder did.
    if let Some(special) = want["hole_and_multipolygon_features"].as_object() {
        for (id, w) in special {
            let id: i64 = id.parse().unwrap();
            let fi =
                l.features.iter().position(|f| l.property(f, "id").map(|v| v.to_json()) == Some(J::from(id))).unwrap();
            let TileGeometry::Polygons(p) = l.geometry(fi).unwrap() else { panic!("{what}: {id} is a polygon") };
            let areas: Vec<f64> = p.iter().flatten().map(|r| ring_area2(r) as f64 / 2.0).collect();
            let want_areas: Vec<f64> =
                w["part_signed_areas"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            assert_eq!(areas, want_areas, "{what}: feature {id}");
            let holes = areas.iter().filter(|a| **a < 0.0).count();
            assert_eq!(p.len(), areas.len() - holes, "{what}: feature {id}: one polygon per exterior ring");
        }
    }
}

#[test]
fn every_encoder_decodes_to_the_independent_reference_values() {
    let e = expected();
    let mut checked = 0;
    for (source, s) in e["sources"].as_object().unwrap() {
        for t in s["tiles"].as_array().unwrap() {
            let id = TileId {
                z: t["z"].as_u64().unwrap() as u8,
                x: t["x"].as_u64().unwrap() as u32,
                y: t["y"].as_u64().unwrap() as u32,
            };
            let bytes = tile_bytes(source, id);
            assert_eq!(bytes.is_some(), t["present"].as_bool().unwrap(), "{source} {id}");
            let Some(bytes) = bytes else { continue };
            assert_eq!(bytes.len() as u64, t["decoded_bytes"].as_u64().unwrap(), "{source} {id}");
            let tile = mvt::decode(&bytes).unwrap();
            let want_layers = t["layers"].as_array().unwrap();
            assert_eq!(tile.layers.len(), want_layers.len(), "{source} {id}");
            for w in want_layers {
                let name = w["name"].as_str().unwrap();
                let l = tile.layers.iter().find(|l| l.name == name).unwrap();
                check_layer(&format!("{source} {id} {name}"), l, w);
                checked += 1;
            }
            // Everything decodable is drawable: no feature of a real encoder's tile fails.
            let built = super::build::build(&bytes, id, id).unwrap();
            assert!(built.errors.is_empty(), "{source} {id}: {:?}", built.errors);
            assert!(built.vertex_count() > 0);
        }
    }
    assert!(checked >= 20, "{checked} layers checked");
}

#[test]
fn archives_describe_themselves() {
    let e = expected();
    block_on(async {
        let (_, info) = open(&VectorSpec::File(fixtures().join("gdal.mbtiles"))).await.unwrap();
        assert_eq!((info.kind, info.min_zoom, info.max_zoom), (SourceKind::Mbtiles, 10, 14));
        assert_eq!(info.bounds, Some([121.1, 31.44, 121.14, 31.47]));
        let names: Vec<&str> = info.layers.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(names, ["parcels", "roads"]);
        for file in ["tippecanoe.pmtiles", "tippecanoe-uncompressed.pmtiles"] {
            let (_, info) = open(&VectorSpec::File(fixtures().join(file))).await.unwrap();
            let h = &e["sources"][file]["header"];
            assert_eq!(info.kind, SourceKind::PmtilesFile);
            assert_eq!(u64::from(info.min_zoom), h["min_zoom"].as_u64().unwrap(), "{file}");
            assert_eq!(u64::from(info.max_zoom), h["max_zoom"].as_u64().unwrap(), "{file}");
            assert!(info.layers.iter().any(|l| l.id == "parcels"), "{file}: {:?}", info.layers);
        }
    });
}

#[test]
fn bad_archives_are_named_errors() {
    let dir = std::env::temp_dir().join(format!("port-atlas-vt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read(fixtures().join("tippecanoe.pmtiles")).unwrap();
    let wrong_magic = dir.join("wrong.pmtiles");
    let mut b = good.clone();
    b[..7].copy_from_slice(b"GARBAGE");
    std::fs::write(&wrong_magic, &b).unwrap();
    // The root directory's length (header bytes 16..24) pointing past the end of the file.
    let past_end = dir.join("past-end.pmtiles");
    let mut b = good.clone();
    b[16..24].copy_from_slice(&(1u64 << 40).to_le_bytes());
    std::fs::write(&past_end, &b).unwrap();
    let not_sqlite = dir.join("notes.mbtiles");
    std::fs::write(&not_sqlite, "planning notes, not a database").unwrap();
    let no_meta = dir.join("empty.mbtiles");
    rusqlite::Connection::open(&no_meta).unwrap().execute_batch("CREATE TABLE tiles (x);").unwrap();
    block_on(async {
        for (path, want) in [(&wrong_magic, "wrong magic"), (&past_end, "damaged header")] {
            let Err(e) = open(&VectorSpec::File(path.clone())).await else { panic!("{} opened", path.display()) };
            let m = e.to_string();
            assert!(m.contains(&path.display().to_string()) && m.contains(want), "{m}");
        }
        for (path, want) in [(&not_sqlite, "cannot open"), (&no_meta, "no metadata")] {
            let Err(e) = open(&VectorSpec::File(path.clone())).await else { panic!("{} opened", path.display()) };
            let m = e.to_string();
            assert!(m.contains(&path.display().to_string()) && m.contains(want), "{m}");
        }
    });
    std::fs::remove_dir_all(&dir).ok();
}

/// Waits for the fetcher's events until `n` tiles came or 20 s passed.
fn tiles(f: &VectorFetcher, n: usize) -> Vec<(TileId, super::worker::TileResult)> {
    let mut out = Vec::new();
    let end = std::time::Instant::now() + Duration::from_secs(20);
    while out.len() < n && std::time::Instant::now() < end {
        if let Some(VectorEvent::Tile { tile, result, .. }) = f.recv_timeout(Duration::from_millis(200)) {
            out.push((tile, result));
        }
    }
    out
}

fn opened(f: &VectorFetcher) -> Result<super::SourceInfo, VectorError> {
    match f.recv_timeout(Duration::from_secs(20)) {
        Some(VectorEvent::Opened { info, .. }) => Ok(info),
        Some(VectorEvent::OpenFailed { error, .. }) => Err(error),
        other => panic!("{other:?}"),
    }
}

const Z14: [TileId; 3] =
    [TileId { z: 14, x: 13703, y: 6683 }, TileId { z: 14, x: 13704, y: 6682 }, TileId { z: 14, x: 13700, y: 6682 }];

#[test]
fn pmtiles_over_http_reads_by_ranges_with_directories_cached() {
    let server = TileServer::start(None);
    let f = VectorFetcher::spawn().unwrap();
    f.open(1, VectorSpec::Url(format!("{}/files/tippecanoe.pmtiles", server.base)));
    let info = opened(&f).unwrap();
    assert_eq!((info.kind, info.max_zoom), (SourceKind::PmtilesHttp, 14));
    let after_open = server.stats.ranges.lock().unwrap().len();
    f.want(1, Z14.to_vec());
    let got = tiles(&f, 3);
    assert_eq!(got.len(), 3);
    for (t, r) in &got {
        let r = r.as_ref().unwrap();
        assert_eq!(r.is_some(), t.x != 13700, "{t}: the archive has no tile west of the data");
    }
    // One request for the header and root directory; then one per tile present (the root
    // directory lists them all; an absent tile costs nothing).
    let ranges = server.stats.ranges.lock().unwrap().clone();
    assert_eq!(after_open, 1, "{ranges:?}");
    assert_eq!(ranges.len() - after_open, 2, "{ranges:?}");
    assert!(ranges.iter().all(|r| r.contains("bytes=")));
    // A server that ignores Range: an error naming the URL, not a download of the archive.
    let g = VectorFetcher::spawn().unwrap();
    let url = format!("{}/norange/tippecanoe.pmtiles", server.base);
    g.open(2, VectorSpec::Url(url.clone()));
    let Err(VectorError::Http(HttpError::NoRanges { url: u })) = opened(&g) else { panic!("ranges are needed") };
    assert_eq!(u, url);
}

#[test]
fn tilejson_and_xyz_sources_and_their_failures() {
    let server = TileServer::start(None);
    let f = VectorFetcher::spawn().unwrap();
    // A TileJSON endpoint with a relative tile URL, gzip tiles served as they are stored.
    f.open(1, VectorSpec::Url(format!("{}/tilejson/gdal-xyz", server.base)));
    let info = opened(&f).unwrap();
    assert_eq!(info.kind, SourceKind::TileJson);
    assert_eq!(
        info.template.as_deref(),
        Some(format!("{}/files/gdal-xyz/{{z}}/{{x}}/{{y}}.pbf", server.base).as_str())
    );
    assert_eq!(info.layers.len(), 2);
    f.want(1, Z14.to_vec());
    let got = tiles(&f, 3);
    let present: Vec<bool> = Z14.iter().map(|t| got.iter().any(|(g, r)| g == t && matches!(r, Ok(Some(_))))).collect();
    assert_eq!(present, [true, true, false], "404 is an empty tile, not an error");
    let requests = server.stats.paths.lock().unwrap().iter().filter(|p| p.contains("/14/")).count();
    assert_eq!(requests, 3, "each tile asked once");
    // Asking again for what is done fetches again (the app keeps what it needs); a result
    // arrives just before its read is off the worker's books, so wait for that first.
    let settled = || f.counters.settled.load(std::sync::atomic::Ordering::Relaxed);
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while settled() < 3 && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    f.want(1, Z14.to_vec());
    // Waits for the reads to start rather than a fixed time: the whole suite runs at once on two
    // cores, where 300 ms was once not enough.
    let fetched = || f.counters.fetched.load(std::sync::atomic::Ordering::Relaxed);
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while fetched() < 3 + 3 && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(fetched(), 3 + 3);

    // A TileJSON without tiles, and a "tile" that is a text file: clear errors naming the URL.
    let g = VectorFetcher::spawn().unwrap();
    let empty = format!("{}/tilejson-empty", server.base);
    g.open(2, VectorSpec::Url(empty.clone()));
    let e = opened(&g).unwrap_err().to_string();
    assert!(e.contains(&empty) && e.contains("no tile URLs"), "{e}");
    let t = format!("{}/files/README.md?z={{z}}&x={{x}}&y={{y}}", server.base);
    g.open(3, VectorSpec::Xyz(t.clone()));
    opened(&g).unwrap();
    g.want(3, vec![Z14[0]]);
    let got = tiles(&g, 1);
    let Err(e) = &got[0].1 else { panic!("a text file is not a tile") };
    assert!(e.to_string().contains("not a vector tile") && e.to_string().contains(&server.base), "{e}");
}

#[test]
fn tiles_that_leave_the_view_before_they_are_read_are_cancelled() {
    let server = TileServer::start(None);
    let f = VectorFetcher::spawn().unwrap();
    // `slow` answers after 2 s: the first view's tiles are still waiting when the view moves.
    f.open(1, VectorSpec::Xyz(format!("{}/slow/{{z}}/{{x}}/{{y}}.png", server.base)));
    opened(&f).unwrap();
    let first: Vec<TileId> = (0..12).map(|x| TileId { z: 14, x: 13000 + x, y: 6600 }).collect();
    f.want(1, first);
    std::thread::sleep(Duration::from_millis(300));
    f.want(1, vec![Z14[0]]);
    std::thread::sleep(Duration::from_millis(300));
    let c = &f.counters;
    let (fetched, cancelled) =
        (c.fetched.load(std::sync::atomic::Ordering::Relaxed), c.cancelled.load(std::sync::atomic::Ordering::Relaxed));
    // Eight were being read (the per-source limit), four never started; all twelve cancelled.
    assert_eq!(cancelled, 12, "{fetched} fetched");
    assert!(fetched <= 9, "{fetched}: the four queued tiles were never asked for");
}

#[test]
fn opened_sources_read_through_one_interface() {
    // The same tile through MBTiles and PMTiles (different encoders) holds the same parcels.
    let t = TileId { z: 14, x: 13704, y: 6682 };
    let ids = |bytes: Vec<u8>| {
        let tile = mvt::decode(&bytes).unwrap();
        let l = tile.layers.iter().find(|l| l.name == "parcels").unwrap().clone();
        let mut v: Vec<String> = l.features.iter().map(|f| l.property(f, "name").unwrap().to_string()).collect();
        v.sort();
        v
    };
    let a = ids(tile_bytes("gdal.mbtiles", t).unwrap());
    let b = ids(tile_bytes("tippecanoe.pmtiles", t).unwrap());
    assert_eq!(a, b);
    assert!(a.contains(&"娄江新城科教创新区".to_string()));
}
