//! Tile thread tests against a tile server on 127.0.0.1 started by the test.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::*;
use crate::proj::Crs;

#[path = "../../tests/support/tile_server.rs"]
pub(crate) mod tile_server;
use tile_server::{BACKGROUND, CHANGED, MARKER, TileServer};

fn temp_cache(name: &str) -> TileCache {
    let dir = std::env::temp_dir().join(format!("port-atlas-basemap-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    TileCache::new(&dir, 64 << 20)
}

fn fetcher(cache: Option<TileCache>, template: &str, config: FetchConfig) -> TileFetcher {
    let mut f = TileFetcher::spawn(cache, config).unwrap();
    f.set_source(Some(TileSource::new(template, &[], Crs::Wgs84, "test").unwrap()));
    f
}

/// Collects events until `n` tiles were answered (ready or failed) or `timeout` passes.
fn answers(f: &TileFetcher, n: usize, timeout: Duration) -> Vec<TileEvent> {
    let end = std::time::Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < n {
        let left = end.saturating_duration_since(std::time::Instant::now());
        match f.recv_timeout(left) {
            Some(TileEvent::CacheSize(_)) => {}
            Some(e) => out.push(e),
            None => break,
        }
    }
    out
}

fn taicang_tiles(z: u8) -> Vec<TileId> {
    crate::tiles::covering([121.05, 31.45, 121.3, 31.7], z, 9)
}

#[test]
fn tiles_arrive_decoded_and_the_second_run_reads_the_cache_with_the_server_stopped() {
    let server = TileServer::start(None);
    let cache = temp_cache("hit");
    let tiles = taicang_tiles(11);
    let f = fetcher(Some(cache.clone()), &server.template("ok"), FetchConfig::default());
    f.want(tiles.clone());
    let got = answers(&f, tiles.len(), Duration::from_secs(20));
    assert_eq!(got.len(), tiles.len(), "{got:?}");
    for e in &got {
        let TileEvent::Ready { image, cached, generation, .. } = e else { panic!("{e:?}") };
        assert_eq!((image.width, image.height, *cached, *generation), (256, 256, false, 1));
        assert_eq!(&image.rgba[..3], &BACKGROUND);
    }
    assert!(server.stats.user_agent.lock().unwrap().starts_with("port-atlas/"), "a proper User-Agent");
    assert!(cache.size() > 0);
    drop(f);

    server.stop();
    let requests = server.stats.requests.load(Ordering::SeqCst);
    let f = fetcher(Some(cache.clone()), &server.template("ok"), FetchConfig::default());
    f.want(tiles.clone());
    let got = answers(&f, tiles.len(), Duration::from_secs(20));
    assert_eq!(got.len(), tiles.len());
    assert!(got.iter().all(|e| matches!(e, TileEvent::Ready { cached: true, .. })), "{got:?}");
    assert_eq!(server.stats.requests.load(Ordering::SeqCst), requests, "nothing asked of the server");

    // A tile that was never cached fails clearly while the server is down: a missing tile.
    let other = TileId { z: 12, x: 3, y: 5 };
    f.want(vec![other]);
    let got = answers(&f, 1, Duration::from_secs(20));
    let [TileEvent::Failed { error: TileError::Http(HttpError::Request { url, .. }), .. }] = got.as_slice() else {
        panic!("{got:?}")
    };
    assert!(url.contains("/ok/12/3/5.png"), "{url}");
    std::fs::remove_dir_all(cache.dir()).ok();
}

/// Waits until `done()` or `timeout`, for counts the server keeps.
fn wait_for(timeout: Duration, done: impl Fn() -> bool) -> bool {
    let end = std::time::Instant::now() + timeout;
    while !done() {
        if std::time::Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

#[test]
fn stale_tiles_show_from_the_cache_at_once_and_are_revalidated_behind() {
    let server = TileServer::start(None);
    let stats = server.stats.clone();
    let cache = temp_cache("revalidate");
    let template = server.template("revalidate");
    let src = TileSource::new(&template, &[], Crs::Wgs84, "test").unwrap();
    let tiles = taicang_tiles(12)[..3].to_vec();
    let n = tiles.len();
    let run = || {
        let f = fetcher(Some(cache.clone()), &template, FetchConfig::default());
        f.want(tiles.clone());
        let got = answers(&f, n, Duration::from_secs(20));
        (f, got)
    };
    let colours = |got: &[TileEvent]| -> Vec<(bool, [u8; 3])> {
        got.iter()
            .map(|e| match e {
                TileEvent::Ready { image, cached, .. } => (*cached, [image.rgba[0], image.rgba[1], image.rgba[2]]),
                e => panic!("{e:?}"),
            })
            .collect()
    };

    // First run: downloaded, stored with the server's ETag and `no-cache` (stale at once).
    let (f, got) = run();
    assert_eq!(colours(&got), vec![(false, BACKGROUND); n]);
    drop(f);
    let stored = cache.get(&src, tiles[0]).unwrap().meta;
    assert_eq!((stored.fresh_for, stored.validators.etag.as_deref()), (0, Some("\"v0\"")));

    // Stale: shown from the cache, then asked about with If-None-Match; 304 keeps the tile and
    // sends nothing more to the UI.
    let requests = stats.requests.load(Ordering::SeqCst);
    let (f, got) = run();
    assert_eq!(colours(&got), vec![(true, BACKGROUND); n]);
    assert!(wait_for(Duration::from_secs(10), || stats.not_modified.load(Ordering::SeqCst) == n), "three 304s");
    assert_eq!(answers(&f, 1, Duration::from_millis(300)), vec![], "a current tile is not sent again");
    assert_eq!(stats.requests.load(Ordering::SeqCst), requests + n, "one conditional request per tile");
    assert!(cache.get(&src, tiles[0]).unwrap().meta.fetched >= stored.fetched);
    drop(f);

    // The server's tiles changed: the old ones show first, the new ones replace them and the cache.
    stats.version.store(1, Ordering::SeqCst);
    let (f, got) = run();
    assert_eq!(colours(&got), vec![(true, BACKGROUND); n]);
    let got = answers(&f, n, Duration::from_secs(10));
    assert_eq!(colours(&got), vec![(false, CHANGED); n]);
    let stored = cache.get(&src, tiles[0]).unwrap();
    assert_eq!(stored.meta.validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(&decode(&stored.bytes, 1024).unwrap().rgba[..3], &CHANGED);
    drop(f);

    // Offline: stale tiles still show, and failing to revalidate is not a failed tile.
    server.stop();
    let (f, got) = run();
    assert_eq!(colours(&got), vec![(true, CHANGED); n]);
    assert_eq!(answers(&f, 1, Duration::from_millis(500)), vec![], "no warning for a tile on screen");
    drop(f);

    // Fresh tiles (max-age=3600) are not asked about at all.
    let fresh = TileServer::start(None);
    let f = fetcher(Some(cache.clone()), &fresh.template("fresh"), FetchConfig::default());
    f.want(tiles.clone());
    assert_eq!(answers(&f, n, Duration::from_secs(20)).len(), n);
    drop(f);
    let requests = fresh.stats.requests.load(Ordering::SeqCst);
    let f = fetcher(Some(cache.clone()), &fresh.template("fresh"), FetchConfig::default());
    f.want(tiles.clone());
    assert_eq!(colours(&answers(&f, n, Duration::from_secs(20))), vec![(true, BACKGROUND); n]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(fresh.stats.requests.load(Ordering::SeqCst), requests, "fresh tiles need no request");
    std::fs::remove_dir_all(cache.dir()).ok();
}

#[test]
fn a_tile_cached_before_freshness_was_recorded_is_revalidated_once() {
    // A cache file from an older version: the image alone, no header. The server sends no
    // caching headers, so once revalidated the tile is fresh for the default week.
    let server = TileServer::start(None);
    let cache = temp_cache("legacy");
    let src = TileSource::new(&server.template("ok"), &[], Crs::Wgs84, "test").unwrap();
    let t = taicang_tiles(12)[0];
    let f = fetcher(Some(cache.clone()), &server.template("ok"), FetchConfig::default());
    f.want(vec![t]);
    assert_eq!(answers(&f, 1, Duration::from_secs(10)).len(), 1);
    drop(f);
    let png = cache.get(&src, t).unwrap().bytes;
    std::fs::write(cache.path(&src, t), &png).unwrap();
    assert_eq!(cache.get(&src, t).unwrap().meta, TileMeta::default());

    let requests = server.stats.requests.load(Ordering::SeqCst);
    let f = fetcher(Some(cache.clone()), &server.template("ok"), FetchConfig::default());
    f.want(vec![t]);
    let got = answers(&f, 1, Duration::from_secs(10));
    assert!(matches!(got.as_slice(), [TileEvent::Ready { cached: true, .. }]), "{got:?}");
    let renewed = || cache.get(&src, t).is_some_and(|c| c.meta.fetched > 0);
    assert!(wait_for(Duration::from_secs(10), renewed), "revalidated");
    assert_eq!(server.stats.requests.load(Ordering::SeqCst), requests + 1);
    let meta = cache.get(&src, t).unwrap().meta;
    assert_eq!(meta.fresh_for, FetchConfig::default().default_freshness.as_secs(), "{meta:?}");
    assert!(meta.is_fresh(unix_now()));
    assert_eq!(answers(&f, 1, Duration::from_millis(300)), vec![], "same image: nothing to redraw");
    std::fs::remove_dir_all(cache.dir()).ok();
}

#[test]
fn a_want_list_sent_before_the_answers_were_seen_loads_nothing_twice() {
    // The UI sends its list every frame it changes, computed before it has read the answers
    // that arrived meanwhile: tiles answered since the last list are not loaded again (for a
    // `no-cache` server that would be a second request per tile).
    let server = TileServer::start(None);
    let cache = temp_cache("answered");
    let tiles = taicang_tiles(12)[..4].to_vec();
    let f = fetcher(Some(cache.clone()), &server.template("revalidate"), FetchConfig::default());
    f.want(tiles.clone());
    let stats = server.stats.clone();
    assert!(wait_for(Duration::from_secs(10), || stats.requests.load(Ordering::SeqCst) == tiles.len()));
    std::thread::sleep(Duration::from_millis(200));
    f.want(tiles.clone());
    let got = answers(&f, tiles.len() + 1, Duration::from_secs(1));
    assert_eq!(got.len(), tiles.len(), "each tile once: {got:?}");
    assert_eq!(stats.requests.load(Ordering::SeqCst), tiles.len(), "no second request");
    // A later list still gets a tile again (the UI dropped it from the GPU and needs it back).
    f.want(vec![tiles[0]]);
    let got = answers(&f, 1, Duration::from_secs(10));
    assert!(matches!(got.as_slice(), [TileEvent::Ready { cached: true, .. }]), "{got:?}");
    std::fs::remove_dir_all(cache.dir()).ok();
}

#[test]
fn a_throttling_server_is_left_alone_for_its_retry_after_then_serves_every_tile() {
    let server = TileServer::start(None);
    server.stats.throttle_left.store(1, Ordering::SeqCst);
    let tiles = taicang_tiles(12)[..3].to_vec();
    let config = FetchConfig { parallel: 1, ..FetchConfig::default() };
    let f = fetcher(None, &server.template("throttle"), config);
    f.want(tiles.clone());
    let got = answers(&f, 4, Duration::from_secs(10));
    // Word that it waits (not a failed tile), then every tile.
    assert!(matches!(got[0], TileEvent::Throttled { wait, .. } if wait == Duration::from_secs(1)), "{got:?}");
    assert_eq!(got[1..].iter().filter(|e| matches!(e, TileEvent::Ready { .. })).count(), 3, "{got:?}");
    let times = server.stats.times.lock().unwrap().clone();
    assert_eq!(times.len(), 4, "one 429, then the three tiles");
    let pause = times[1] - times[0];
    assert!(pause >= Duration::from_millis(950), "nothing asked during Retry-After: {pause:?}");
}

#[test]
fn tms_and_quadkey_templates_fetch_the_tile_that_holds_the_place() {
    // Each server draws the marker at Taicang port in the tile its own addressing names; a
    // wrongly flipped row or quadkey would fetch a tile without it.
    let port = (121.2333, 31.6167);
    let server = TileServer::start(Some(port));
    for template in [format!("{}/tms/{{z}}/{{x}}/{{-y}}.png", server.base), format!("{}/quad/{{q}}.png", server.base)] {
        for z in [9, 13] {
            let f = fetcher(None, &template, FetchConfig::default());
            f.want(vec![TileId::containing(port.0, port.1, z)]);
            let got = answers(&f, 1, Duration::from_secs(10));
            let [TileEvent::Ready { image, .. }] = got.as_slice() else { panic!("{template} z{z}: {got:?}") };
            let marker = image.rgba.chunks(4).filter(|p| p[..3] == MARKER).count();
            assert!(marker > 100, "{template} z{z}: the port's tile ({marker} marker pixels)");
        }
    }
}

#[test]
fn bad_servers_give_a_missing_tile_and_a_clear_error() {
    let server = TileServer::start(None);
    let config = FetchConfig { timeout: Duration::from_millis(700), max_bytes: 256 << 10, ..Default::default() };
    let cases = [
        ("500", "HTTP 500"),
        ("html", "not an image"),
        ("trunc", "truncated"),
        ("corrupt", "corrupt image"),
        ("huge", "too large"),
        ("slow", "timeout"),
    ];
    for (mode, kind) in cases {
        let cache = temp_cache(mode);
        let f = fetcher(Some(cache.clone()), &server.template(mode), config);
        f.want(vec![TileId { z: 10, x: 856, y: 417 }]);
        let got = answers(&f, 1, Duration::from_secs(10));
        let [TileEvent::Failed { error, .. }] = got.as_slice() else { panic!("{mode}: {got:?}") };
        assert_eq!(error.kind(), kind, "{mode}: {error}");
        assert!(error.to_string().contains(&format!("/{mode}/10/856/417.png")), "names the URL: {error}");
        assert_eq!(cache.size(), 0, "{mode}: nothing bad reaches the cache");
    }
    // A dead port.
    let f = fetcher(None, "http://127.0.0.1:9/{z}/{x}/{y}.png", config);
    f.want(vec![TileId { z: 1, x: 0, y: 0 }]);
    let got = answers(&f, 1, Duration::from_secs(10));
    assert!(
        matches!(got.as_slice(), [TileEvent::Failed { error: TileError::Http(HttpError::Request { .. }), .. }]),
        "{got:?}"
    );
}

#[test]
fn jpeg_and_webp_tiles_decode() {
    let server = TileServer::start(None);
    for mode in ["jpeg", "webp"] {
        let f = fetcher(None, &server.template(mode), FetchConfig::default());
        f.want(vec![TileId { z: 10, x: 856, y: 417 }]);
        let got = answers(&f, 1, Duration::from_secs(10));
        let [TileEvent::Ready { image, .. }] = got.as_slice() else { panic!("{mode}: {got:?}") };
        let px = &image.rgba[..3];
        assert!(px.iter().zip(BACKGROUND).all(|(a, b)| a.abs_diff(b) < 12), "{mode}: {px:?}");
    }
}

#[test]
fn tiles_leaving_the_view_are_cancelled_and_few_download_at_once() {
    let server = TileServer::start(None);
    let config = FetchConfig { parallel: 3, ..Default::default() };
    let f = fetcher(None, &server.template("slow"), config);
    f.want(taicang_tiles(12));
    // The server holds each answer for 2 s: wait for the first downloads to be under way.
    let end = std::time::Instant::now() + Duration::from_secs(1);
    while server.stats.max_open.load(Ordering::SeqCst) < 3 && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.stats.max_open.load(Ordering::SeqCst), 3, "at most `parallel` at once");
    // The view moved on: nothing of the old list may arrive, and the rest is never asked for.
    f.want(Vec::new());
    let got = answers(&f, 1, Duration::from_millis(2500));
    assert!(got.is_empty(), "{got:?}");
    assert_eq!(server.stats.requests.load(Ordering::SeqCst), 3);

    // Switching source cancels too, and late answers carry the old generation.
    let mut f = fetcher(None, &server.template("ok"), config);
    f.want(taicang_tiles(12));
    let g = f.set_source(Some(TileSource::new(&server.template("ok"), &[], Crs::Gcj02, "").unwrap()));
    assert_eq!(g, 2);
    f.want(vec![TileId { z: 12, x: 3426, y: 1669 }]);
    let got = answers(&f, 10, Duration::from_secs(3));
    assert!(got.iter().any(|e| matches!(e, TileEvent::Ready { generation: 2, .. })), "{got:?}");
    assert!(got.iter().all(|e| matches!(e, TileEvent::Ready { generation: 2, .. })), "no stale events: {got:?}");
}

#[test]
fn a_damaged_cache_file_is_replaced_from_the_server() {
    let server = TileServer::start(None);
    let cache = temp_cache("damaged");
    let src = TileSource::new(&server.template("ok"), &[], Crs::Wgs84, "").unwrap();
    let t = TileId { z: 9, x: 428, y: 208 };
    cache
        .put(
            &src,
            t,
            b"\x89PNG\r\n\x1a\n half a file",
            &TileMeta::fetched_now(Duration::from_secs(3600), Default::default()),
        )
        .unwrap();
    let f = fetcher(Some(cache.clone()), &server.template("ok"), FetchConfig::default());
    f.want(vec![t]);
    let got = answers(&f, 1, Duration::from_secs(10));
    assert!(matches!(got.as_slice(), [TileEvent::Ready { cached: false, .. }]), "{got:?}");
    assert!(decode(&cache.get(&src, t).unwrap().bytes, 1024).is_ok());
    std::fs::remove_dir_all(cache.dir()).ok();
}

#[test]
fn gcj02_tiles_put_the_marker_on_its_wgs84_place() {
    // A tile server in GCJ-02 draws a marker at the GCJ-02 coordinates of Taicang port; placed
    // with the per-vertex shift, the marker's pixel lands on the WGS84 position.
    let wgs = (121.2333, 31.6167);
    let gcj = crate::proj::wgs84_to_gcj02(wgs.0, wgs.1);
    let server = TileServer::start(Some(gcj));
    let frame = crate::proj::LocalFrame::default();
    // Zooms where the whole 24-px marker disc falls inside one tile, so its centroid is exact.
    let whole = |z: u8| {
        let n = (1u64 << z) as f64 * 256.0;
        let px = (gcj.0 + 180.0) / 360.0 * n;
        let r = gcj.1.to_radians();
        let py = (1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
        [px % 256.0, py % 256.0].iter().all(|p| (26.0..230.0).contains(p))
    };
    let zooms: Vec<u8> = (8..=17).filter(|&z| whole(z)).collect();
    assert!(zooms.len() >= 3 && zooms[0] <= 11 && *zooms.last().unwrap() >= 14, "{zooms:?}");
    for z in zooms {
        let source = TileSource::new(&server.template("ok"), &[], Crs::Gcj02, "").unwrap();
        let t = TileId::containing(gcj.0, gcj.1, z);
        let f = fetcher(None, &server.template("ok"), FetchConfig::default());
        let mut f = f;
        f.set_source(Some(source.clone()));
        f.want(vec![t]);
        let got = answers(&f, 1, Duration::from_secs(10));
        let [TileEvent::Ready { image, .. }] = got.as_slice() else { panic!("{got:?}") };
        // Centre of the marker's pixels in texture space.
        let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
        for (i, px) in image.rgba.chunks(4).enumerate() {
            if px[..3] == MARKER {
                sx += (i % 256) as f64 + 0.5;
                sy += (i / 256) as f64 + 0.5;
                n += 1.0;
            }
        }
        assert!(n > 100.0, "marker drawn");
        let (u, v) = (sx / n / 256.0, sy / n / 256.0);
        // Where the mesh puts that texture position: bilinear within the grid cell.
        let mesh = source.mesh(t, &frame);
        let cells = (mesh.positions.len() as f64).sqrt() as usize - 1;
        let (i, j) = (((u * cells as f64) as usize).min(cells - 1), ((v * cells as f64) as usize).min(cells - 1));
        let (fu, fv) = (u * cells as f64 - i as f64, v * cells as f64 - j as f64);
        let p = |a: usize, b: usize| {
            let q = mesh.positions[b * (cells + 1) + a];
            (q[0] as f64, q[1] as f64)
        };
        let lerp = |a: (f64, f64), b: (f64, f64), t: f64| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        let placed = lerp(lerp(p(i, j), p(i + 1, j), fu), lerp(p(i, j + 1), p(i + 1, j + 1), fu), fv);
        let want = frame.project(wgs.0, wgs.1);
        let raw = frame.project(gcj.0, gcj.1);
        let err = ((placed.0 - want.0).powi(2) + (placed.1 - want.1).powi(2)).sqrt();
        let unshifted = ((raw.0 - want.0).powi(2) + (raw.1 - want.1).powi(2)).sqrt();
        // Error budget: a pixel of the tile at this zoom plus f32 rounding.
        let px_m = 2.0 * std::f64::consts::PI * crate::proj::EARTH_RADIUS_M / (256.0 * (1u64 << z) as f64);
        assert!(err < px_m.max(1.0), "z{z}: marker {err:.1} m from its WGS84 place (pixel {px_m:.1} m)");
        assert!(unshifted > 500.0, "the shift matters here: {unshifted:.0} m");
    }
}

#[test]
fn an_unwritable_cache_is_reported_once_and_tiles_still_load() {
    let server = TileServer::start(None);
    // A file where the cache folder should be: every write fails.
    let blocker = std::env::temp_dir().join(format!("port-atlas-basemap-blocker-{}", std::process::id()));
    std::fs::write(&blocker, b"not a folder").unwrap();
    let f = fetcher(Some(TileCache::new(&blocker, 1 << 20)), &server.template("ok"), FetchConfig::default());
    let tiles = taicang_tiles(11);
    f.want(tiles.clone());
    let end = std::time::Instant::now() + Duration::from_secs(20);
    let (mut ready, mut problems) = (0, Vec::new());
    while ready < tiles.len() && std::time::Instant::now() < end {
        match f.recv_timeout(Duration::from_secs(5)) {
            Some(TileEvent::Ready { .. }) => ready += 1,
            Some(TileEvent::CacheProblem(m)) => problems.push(m),
            Some(_) => {}
            None => break,
        }
    }
    assert_eq!(ready, tiles.len());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("cannot store tiles") && problems[0].contains("blocker"), "{}", problems[0]);
    std::fs::remove_file(&blocker).ok();
}
