//! A tile server for tests, on 127.0.0.1 with a free port, so no test touches the internet.
#![allow(dead_code)] // Each test binary uses a different part of it.
//!
//! `GET /{mode}/{z}/{x}/{y}.png` answers by `mode`: `ok` (a 256x256 PNG), `jpeg`, `webp`, `500`, `html`
//! (a web page), `trunc` (cut off mid-body), `corrupt` (PNG magic then garbage), `huge` (1 MiB,
//! no length), `slow` (answers after 2 s). Tiles are `BACKGROUND` with a `MARKER` disc where
//! the configured lon/lat (in the tiles' own CRS) falls. `GET /layers/NAME.geojson` answers a
//! GeoJSON square around that lon/lat.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const BACKGROUND: [u8; 3] = [214, 80, 196];
pub const MARKER: [u8; 3] = [16, 200, 40];

#[derive(Default)]
pub struct Stats {
    pub requests: AtomicUsize,
    pub open: AtomicUsize,
    pub max_open: AtomicUsize,
    pub user_agent: Mutex<String>,
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
    if let Some(ua) = text.lines().find_map(|l| l.strip_prefix("user-agent: ").or(l.strip_prefix("User-Agent: "))) {
        *st.user_agent.lock().unwrap() = ua.to_string();
    }
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let num = |i: usize| parts.get(i).and_then(|p| p.trim_end_matches(".png").parse::<u32>().ok());
    let (mode, z, x, y) = (parts.first().copied().unwrap_or(""), num(1), num(2), num(3));
    let reply = |s: &mut TcpStream, status: &str, ctype: &str, body: &[u8], declared: Option<usize>| {
        let len = declared.map(|n| format!("Content-Length: {n}\r\n")).unwrap_or_default();
        let head = format!("HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n{len}Connection: close\r\n\r\n");
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(body);
    };
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
    let png = || tile_png(z, x, y, marker, image::ImageFormat::Png);
    match mode {
        "ok" => {
            let b = png();
            reply(&mut s, "200 OK", "image/png", &b, Some(b.len()))
        }
        "jpeg" => {
            let b = tile_png(z, x, y, marker, image::ImageFormat::Jpeg);
            reply(&mut s, "200 OK", "image/jpeg", &b, Some(b.len()))
        }
        "webp" => {
            let b = tile_png(z, x, y, marker, image::ImageFormat::WebP);
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
        _ => reply(&mut s, "404 Not Found", "text/plain", b"no such mode", Some(12)),
    }
    let _ = s.flush();
    st.open.fetch_sub(1, Ordering::SeqCst);
}

/// A 256x256 tile: background, with the marker disc (radius 24 px) where `marker` falls.
fn tile_png(z: u32, x: u32, y: u32, marker: Option<(f64, f64)>, format: image::ImageFormat) -> Vec<u8> {
    let mut img = image::RgbImage::from_pixel(256, 256, image::Rgb(BACKGROUND));
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
