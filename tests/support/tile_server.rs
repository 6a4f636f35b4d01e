//! A tile server for tests, on 127.0.0.1 with a free port, so no test touches the internet.
#![allow(dead_code)] // Each test binary uses a different part of it.
#![allow(clippy::unwrap_used)] // Test scaffolding: a failed unwrap is a failed test, with its message.
//!
//! `GET /{mode}/{z}/{x}/{y}.png` answers by `mode`: `ok` (a 256x256 PNG; `tms/{z}/{x}/{-y}` and
//! `quad/{q}.png` address the same tiles by TMS row and quadkey), `jpeg`, `webp`, `500`, `html`
//! (a web page), `trunc` (cut off mid-body), `corrupt` (PNG magic then garbage), `huge` (1 MiB,
//! no length), `slow` (answers after 2 s), `throttle` (HTTP 429 while `Stats::throttle_left`),
//! `fresh` (`max-age=3600`), `revalidate` (`no-cache`
//! with an ETag of `Stats::version`, answering `304` to a matching `If-None-Match`). Tiles are
//! `BACKGROUND` (`CHANGED` once `version` is above 0) with a `MARKER` disc where the configured
//! lon/lat (in the tiles' own CRS) falls. `GET /layers/NAME.geojson` answers a GeoJSON square
//! around that lon/lat.
//!
//! Files (vector tiles, PMTiles archives): `GET /files/PATH` serves `tests/fixtures/vector/PATH`
//! with HTTP range requests (206 and `Content-Range`, as nginx or S3 do); `/norange/PATH` ignores
//! `Range` and sends the whole file; `/tilejson/DIR` answers TileJSON for the XYZ directory
//! `DIR` (relative tile URLs, as some servers write them); `/tilejson-empty` answers TileJSON
//! without `tiles`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const BACKGROUND: [u8; 3] = [214, 80, 196];
pub const MARKER: [u8; 3] = [16, 200, 40];
/// The background of `revalidate` tiles after the server's `version` went up.
pub const CHANGED: [u8; 3] = [40, 90, 220];

#[derive(Default)]
pub struct Stats {
    pub requests: AtomicUsize,
    pub open: AtomicUsize,
    pub max_open: AtomicUsize,
    pub user_agent: Mutex<String>,
    /// The `revalidate` tiles' version: their ETag, and their colour when above 0.
    pub version: AtomicUsize,
    /// `304 Not Modified` answers sent.
    pub not_modified: AtomicUsize,
    /// Every request's path, in order, and when it came.
    pub paths: Mutex<Vec<String>>,
    /// Every `Range` header, with its path: "PATH bytes=A-B".
    pub ranges: Mutex<Vec<String>>,
    pub times: Mutex<Vec<std::time::Instant>>,
    /// `throttle` answers this many requests with HTTP 429 (`Retry-After: 1`) before serving.
    pub throttle_left: AtomicUsize,
}

pub struct TileServer {
    pub base: String,
    pub stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
}

impl TileServer {
    pub fn start(marker: Option<(f64, f64)>) -> TileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        listener.set_nonblocking(true).expect("nonblocking listener");
        let stats = Arc::new(Stats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (stats.clone(), stop.clone());
        std::thread::spawn(move || {
            while !sp.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let st = st.clone();
                        std::thread::spawn(move || handle(s, &st, marker));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TileServer { base, stats, stop }
    }

    /// A URL template for one mode, e.g. `http://127.0.0.1:PORT/ok/{z}/{x}/{y}.png`.
    pub fn template(&self, mode: &str) -> String {
        format!("{}/{mode}/{{z}}/{{x}}/{{y}}.png", self.base)
    }

    /// Stops accepting connections (the port then refuses, like a dead server).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(30));
    }
}

impl Drop for TileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn handle(mut s: TcpStream, st: &Stats, marker: Option<(f64, f64)>) {
    let _ = s.set_nonblocking(false);
    let open = st.open.fetch_add(1, Ordering::SeqCst) + 1;
    st.max_open.fetch_max(open, Ordering::SeqCst);
    st.requests.fetch_add(1, Ordering::SeqCst);
    let mut req = Vec::new();
    let mut buf = [0u8; 2048];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&req).to_string();
    let header = |name: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    if let Some(ua) = header("user-agent") {
        *st.user_agent.lock().unwrap() = ua;
    }
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    st.paths.lock().unwrap().push(path.clone());
    st.times.lock().unwrap().push(std::time::Instant::now());
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let num = |i: usize| parts.get(i).and_then(|p| p.trim_end_matches(".png").parse::<u32>().ok());
    let (mode, mut z, x, mut y) = (parts.first().copied().unwrap_or(""), num(1), num(2), num(3));
    // `tms/{z}/{x}/{-y}`: rows counted from the south.
    if let ("tms", Some(z), Some(row)) = (mode, z, y) {
        y = Some((1u32 << z) - 1 - row);
    }
    // `quad/{q}.png`: a quadkey, one digit per zoom level.
    let mut x = x;
    if let ("quad", Some(key)) = (mode, parts.get(1).map(|p| p.trim_end_matches(".png"))) {
        let (mut qx, mut qy) = (0u32, 0u32);
        let digits: Option<Vec<u32>> = key.chars().map(|c| c.to_digit(4)).collect();
        for d in digits.unwrap_or_default() {
            qx = qx * 2 + (d & 1);
            qy = qy * 2 + (d >> 1);
        }
        (z, x, y) = (Some(key.len() as u32), Some(qx), Some(qy));
    }
    let reply_with =
        |s: &mut TcpStream, status: &str, ctype: &str, body: &[u8], declared: Option<usize>, extra: &str| {
            let len = declared.map(|n| format!("Content-Length: {n}\r\n")).unwrap_or_default();
            let head = format!("HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n{len}{extra}Connection: close\r\n\r\n");
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(body);
        };
    let reply = |s: &mut TcpStream, status: &str, ctype: &str, body: &[u8], declared: Option<usize>| {
        reply_with(s, status, ctype, body, declared, "")
    };
    if let Some(rel) = path.strip_prefix("/files/").or(path.strip_prefix("/norange/")) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vector");
        let rel = rel.split('?').next().unwrap_or(rel);
        let file = (!rel.contains("..")).then(|| std::fs::read(root.join(rel)).ok()).flatten();
        match (file, header("range").filter(|_| path.starts_with("/files/"))) {
            (None, _) => reply(&mut s, "404 Not Found", "text/plain", b"no such file", Some(12)),
            (Some(b), None) => reply(&mut s, "200 OK", "application/octet-stream", &b, Some(b.len())),
            (Some(b), Some(r)) => {
                st.ranges.lock().unwrap().push(format!("{path} {r}"));
                let (a, e) = r.trim_start_matches("bytes=").split_once('-').unwrap_or(("0", ""));
                let a: usize = a.parse().unwrap_or(0);
                let e: usize = e.parse().unwrap_or(usize::MAX).min(b.len().saturating_sub(1));
                if a >= b.len() {
                    reply(&mut s, "416 Range Not Satisfiable", "text/plain", b"", Some(0));
                } else {
                    let part = &b[a..=e];
                    let extra = format!("Content-Range: bytes {a}-{e}/{}\r\nAccept-Ranges: bytes\r\n", b.len());
                    reply_with(
                        &mut s,
                        "206 Partial Content",
                        "application/octet-stream",
                        part,
                        Some(part.len()),
                        &extra,
                    );
                }
            }
        }
        st.open.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    if let Some(dir) = path.strip_prefix("/tilejson/") {
        let body = format!(
            r#"{{"tilejson":"3.0.0","name":"{dir}","tiles":["../files/{dir}/{{z}}/{{x}}/{{y}}.pbf"],"minzoom":10,"maxzoom":14,
               "bounds":[121.1,31.44,121.14,31.47],"vector_layers":[{{"id":"parcels","fields":{{"id":"Number","name":"String","landuse":"String"}}}},{{"id":"roads","fields":{{"name":"String"}}}}]}}"#
        );
        reply(&mut s, "200 OK", "application/json", body.as_bytes(), Some(body.len()));
        st.open.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    if path == "/tilejson-empty" {
        let body = br#"{"tilejson":"3.0.0","name":"nothing"}"#;
        reply(&mut s, "200 OK", "application/json", body, Some(body.len()));
        st.open.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    if path.starts_with("/layers/") {
        // A GeoJSON layer: a square of ±0.003° around the marker.
        let (lon, lat) = marker.unwrap_or((121.2, 31.6));
        let d = 0.003;
        let ring = format!(
            "[[{},{}],[{},{}],[{},{}],[{},{}],[{},{}]]",
            lon - d,
            lat - d,
            lon + d,
            lat - d,
            lon + d,
            lat + d,
            lon - d,
            lat + d,
            lon - d,
            lat - d
        );
        let body = format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"id":"probe-square","accuracy":10}},"geometry":{{"type":"Polygon","coordinates":[{ring}]}}}}]}}"#
        );
        reply(&mut s, "200 OK", "application/geo+json", body.as_bytes(), Some(body.len()));
        st.open.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    let (Some(z), Some(x), Some(y)) = (z, x, y) else {
        reply(&mut s, "404 Not Found", "text/plain", b"no such tile", Some(12));
        st.open.fetch_sub(1, Ordering::SeqCst);
        return;
    };
    let png = || tile_png(z, x, y, marker, image::ImageFormat::Png, BACKGROUND);
    match mode {
        "throttle" if st.throttle_left.load(Ordering::SeqCst) > 0 => {
            st.throttle_left.fetch_sub(1, Ordering::SeqCst);
            reply_with(&mut s, "429 Too Many Requests", "text/plain", b"slow down", Some(9), "Retry-After: 1\r\n")
        }
        "ok" | "tms" | "quad" | "throttle" => {
            let b = png();
            reply(&mut s, "200 OK", "image/png", &b, Some(b.len()))
        }
        "jpeg" => {
            let b = tile_png(z, x, y, marker, image::ImageFormat::Jpeg, BACKGROUND);
            reply(&mut s, "200 OK", "image/jpeg", &b, Some(b.len()))
        }
        "webp" => {
            let b = tile_png(z, x, y, marker, image::ImageFormat::WebP, BACKGROUND);
            reply(&mut s, "200 OK", "image/webp", &b, Some(b.len()))
        }
        "slow" => {
            std::thread::sleep(Duration::from_secs(2));
            let b = png();
            reply(&mut s, "200 OK", "image/png", &b, Some(b.len()))
        }
        "500" => reply(&mut s, "500 Internal Server Error", "text/plain", b"overloaded", Some(10)),
        "html" => reply(&mut s, "200 OK", "text/html; charset=utf-8", b"<html>rate limited</html>", Some(25)),
        "trunc" => {
            let b = png();
            reply(&mut s, "200 OK", "image/png", &b[..b.len() / 2], Some(b.len()))
        }
        "corrupt" => {
            let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
            b.extend(std::iter::repeat_n(0x5a, 3000));
            reply(&mut s, "200 OK", "image/png", &b, Some(b.len()))
        }
        "huge" => reply(&mut s, "200 OK", "image/png", &vec![0u8; 1 << 20], None),
        "fresh" => {
            let b = png();
            reply_with(&mut s, "200 OK", "image/png", &b, Some(b.len()), "Cache-Control: max-age=3600\r\n")
        }
        "revalidate" => {
            let version = st.version.load(Ordering::SeqCst);
            let etag = format!("\"v{version}\"");
            let extra = format!("Cache-Control: no-cache\r\nETag: {etag}\r\n");
            if header("if-none-match").as_deref() == Some(etag.as_str()) {
                st.not_modified.fetch_add(1, Ordering::SeqCst);
                reply_with(&mut s, "304 Not Modified", "image/png", b"", None, &extra)
            } else {
                let colour = if version > 0 { CHANGED } else { BACKGROUND };
                let b = tile_png(z, x, y, marker, image::ImageFormat::Png, colour);
                reply_with(&mut s, "200 OK", "image/png", &b, Some(b.len()), &extra)
            }
        }
        _ => reply(&mut s, "404 Not Found", "text/plain", b"no such mode", Some(12)),
    }
    let _ = s.flush();
    st.open.fetch_sub(1, Ordering::SeqCst);
}

/// A 256x256 tile: `background`, with the marker disc (radius 24 px) where `marker` falls.
fn tile_png(
    z: u32,
    x: u32,
    y: u32,
    marker: Option<(f64, f64)>,
    format: image::ImageFormat,
    background: [u8; 3],
) -> Vec<u8> {
    let mut img = image::RgbImage::from_pixel(256, 256, image::Rgb(background));
    if let Some((lon, lat)) = marker {
        // Slippy-map pixel of the marker in this tile.
        let n = (1u64 << z) as f64 * 256.0;
        let px = (lon + 180.0) / 360.0 * n - x as f64 * 256.0;
        let r = lat.to_radians();
        let py = (1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n - y as f64 * 256.0;
        for (i, j, p) in img.enumerate_pixels_mut() {
            if (i as f64 + 0.5 - px).powi(2) + (j as f64 + 0.5 - py).powi(2) <= 576.0 {
                *p = image::Rgb(MARKER);
            }
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode tile");
    out.into_inner()
}
