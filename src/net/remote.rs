//! Remote layers: GeoJSON (a plain file or an OGC API Features `items` response) fetched over
//! HTTP(S) with a stall timeout, a size limit and a content-type check, so a slow, dead or lying
//! server gives a clear error instead of a hang or a crash; progress is shared with the UI, which
//! can cancel.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crate::geodata::{Diagnostic, Layer, LoadError, ReadOptions, parse_layer};
pub use crate::http::is_url;
use crate::http::{Expect, HttpError, Timeouts};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest wait for the server: to connect, for its answer, or between two pieces of the
    /// body. A large layer on a slow line may take minutes in all; the user can cancel it.
    pub timeout: Duration,
    /// The largest layer, over all its pages.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { timeout: Duration::from_secs(20), max_bytes: 200 * 1024 * 1024 }
    }
}

/// A server that does not accept the connection this fast is treated as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("{url}: not an http(s) URL")]
    NotHttp { url: String },
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{url}: download cancelled")]
    Cancelled { url: String },
}

/// How far a download has got, shared with the UI, which may also cancel it.
#[derive(Debug, Default)]
pub struct Progress {
    bytes: AtomicU64,
    pages: AtomicUsize,
    cancelled: AtomicBool,
}

impl Progress {
    /// Body bytes received so far, over all pages.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Pages received in full.
    pub fn pages(&self) -> usize {
        self.pages.load(Ordering::Relaxed)
    }

    /// Stops the download within a few milliseconds, mid-body if need be.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

/// One runtime and client for all pages of a layer. Called from a reader thread: it blocks that
/// thread on the shared async download, never the UI.
struct Session {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    timeouts: Timeouts,
}

impl Session {
    fn new(url: &str, limits: Limits) -> Result<Session, RemoteError> {
        if !is_url(url) {
            return Err(RemoteError::NotHttp { url: url.into() });
        }
        let request_failed = |message: String| HttpError::Request { url: url.into(), message };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| request_failed(e.to_string()))?;
        let timeouts =
            Timeouts { connect: CONNECT_TIMEOUT.min(limits.timeout), total: None, stall: Some(limits.timeout) };
        let client = crate::http::client(timeouts).map_err(request_failed)?;
        Ok(Session { runtime, client, timeouts })
    }

    /// Downloads GeoJSON bytes, at most `max_bytes`, counting them in `progress` and stopping
    /// when it is cancelled.
    fn fetch(&self, url: &str, max_bytes: u64, progress: &Progress) -> Result<Vec<u8>, RemoteError> {
        let expect = Expect {
            accept: "application/geo+json, application/json;q=0.9",
            content_type_ok: |t| t.contains("json") || t.starts_with("text/plain"),
            what: "GeoJSON",
            max_bytes,
        };
        let download = crate::http::download(&self.client, url, expect, self.timeouts, Some(&progress.bytes));
        let cancelled = async {
            while !progress.is_cancelled() {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        };
        self.runtime.block_on(async {
            tokio::select! {
                r = download => Ok(r?),
                () = cancelled => Err(RemoteError::Cancelled { url: url.into() }),
            }
        })
    }
}

/// Downloads GeoJSON bytes within the limits.
pub fn fetch(url: &str, limits: Limits) -> Result<Vec<u8>, RemoteError> {
    Session::new(url, limits)?.fetch(url, limits.max_bytes, &Progress::default())
}

/// Most pages followed for one OGC API Features layer (servers page 10-1,000 features at a time).
pub const MAX_PAGES: usize = 500;

/// Fetches and parses a remote layer, named after the URL's last path segment (or, for an OGC API
/// Features `items` URL, its collection). OGC API responses come in pages: `next` links are
/// followed until the last page, [`MAX_PAGES`], or the size limit across all pages.
pub fn fetch_layer(url: &str, limits: Limits) -> Result<(Layer, Vec<Diagnostic>), RemoteError> {
    fetch_layer_with(url, limits, &Progress::default())
}

/// [`fetch_layer`], reporting to and cancellable through `progress`.
pub fn fetch_layer_with(
    url: &str,
    limits: Limits,
    progress: &Progress,
) -> Result<(Layer, Vec<Diagnostic>), RemoteError> {
    let name = layer_name(url);
    let session = Session::new(url, limits)?;
    let mut page_url = url.to_string();
    let mut layer: Option<Layer> = None;
    let mut diags = Vec::new();
    let mut left = limits.max_bytes;
    for page in 1.. {
        let body = session.fetch(&page_url, left, progress).map_err(|e| match e {
            // The limit is for the whole layer, so say so.
            RemoteError::Http(HttpError::TooLarge { .. }) => {
                HttpError::TooLarge { url: url.into(), limit: limits.max_bytes }.into()
            }
            RemoteError::Cancelled { .. } => RemoteError::Cancelled { url: url.into() },
            e => e,
        })?;
        progress.pages.fetch_add(1, Ordering::Relaxed);
        left = left.saturating_sub(body.len() as u64);
        let (part, d) = parse_layer(
            std::path::Path::new(&page_url),
            &body,
            ReadOptions { strict_schema: false, topology: false, ..Default::default() },
        )?;
        if progress.is_cancelled() {
            return Err(RemoteError::Cancelled { url: url.into() });
        }
        diags.extend(d);
        let got = part.features.len();
        match layer.as_mut() {
            None => layer = Some(part),
            Some(l) => l.features.extend(part.features),
        }
        let Some(next) = next_link(&body, &page_url) else { break };
        if got == 0 || next == page_url {
            break;
        }
        if page == MAX_PAGES {
            diags.push(Diagnostic::warning(
                url,
                crate::geodata::Position::File,
                format!("stopped after {MAX_PAGES} pages; the server has more features"),
            ));
            break;
        }
        page_url = next;
    }
    let mut layer = layer.ok_or_else(|| HttpError::Request { url: url.into(), message: "no response".into() })?;
    layer.id = name;
    if layer.features.is_empty() {
        return Err(RemoteError::Load(LoadError::NotGeoJson {
            path: url.into(),
            message: "no usable features".into(),
        }));
    }
    Ok((layer, diags))
}

fn layer_name(url: &str) -> String {
    let name = url.split(['?', '#']).next().unwrap_or(url).trim_end_matches('/').rsplit('/').next().unwrap_or("remote");
    if name.is_empty() || name == "items" {
        // An OGC API Features URL ends in /collections/{id}/items: name it after the collection.
        url.split("/items").next().and_then(|p| p.rsplit('/').next()).unwrap_or("remote").to_string()
    } else {
        name.trim_end_matches(".geojson").trim_end_matches(".json").to_string()
    }
}

/// The absolute URL of an OGC API `next` link in a page, if any (relative links resolve against
/// the page's own URL).
fn next_link(body: &[u8], page_url: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Page {
        #[serde(default)]
        links: Vec<Link>,
    }
    #[derive(serde::Deserialize)]
    struct Link {
        href: String,
        #[serde(default)]
        rel: String,
        #[serde(default, rename = "type")]
        media_type: Option<String>,
    }
    let page: Page = serde_json::from_slice(body).ok()?;
    let link = page
        .links
        .into_iter()
        .filter(|l| l.rel == "next")
        .find(|l| l.media_type.as_deref().is_none_or(|t| t.contains("json")))?;
    let base = reqwest::Url::parse(page_url).ok()?;
    let next = base.join(&link.href).ok()?;
    matches!(next.scheme(), "http" | "https").then(|| next.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// An HTTP server on 127.0.0.1 answering one request per response, in order; `build` gets the
    /// server's base URL so responses can link back to it.
    fn serve_with(build: impl FnOnce(&str) -> Vec<Vec<u8>>, delay: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let responses = build(&base);
        std::thread::spawn(move || {
            for r in responses {
                let Ok((mut s, _)) = listener.accept() else { return };
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                std::thread::sleep(delay);
                let _ = s.write_all(&r);
            }
        });
        base
    }

    fn serve(responses: Vec<Vec<u8>>, delay: Duration) -> String {
        serve_with(|_| responses, delay)
    }

    fn http(status: &str, ctype: &str, body: &[u8], declared: Option<usize>) -> Vec<u8> {
        let mut r = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            declared.unwrap_or(body.len())
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    }

    const FC: &str = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"w","name_en":"Wharf"},"geometry":{"type":"Point","coordinates":[121.2,31.6]}}]}"#;

    #[test]
    fn a_good_server_gives_a_layer_named_after_the_collection() {
        let base = serve(vec![http("200 OK", "application/geo+json", FC.as_bytes(), None)], Duration::ZERO);
        let (layer, _) = fetch_layer(&format!("{base}/collections/wharves/items?limit=10"), Limits::default()).unwrap();
        assert_eq!(layer.id, "wharves");
        assert_eq!(layer.features[0].name_en, "Wharf");
    }

    #[test]
    fn ogc_api_pages_are_followed_to_the_last() {
        let page = |i: usize, next: Option<&str>| {
            let link = next.map_or(String::new(), |n| {
                format!(r#","links":[{{"rel":"self","href":"x"}},{{"rel":"next","type":"application/geo+json","href":"{n}"}}]"#)
            });
            let body = format!(
                r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"id":"w{i}","name_en":"Wharf {i}"}},"geometry":{{"type":"Point","coordinates":[121.2,31.{i}]}}}}]{link}}}"#
            );
            http("200 OK", "application/geo+json", body.as_bytes(), None)
        };
        // Page 1 links absolutely, page 2 relatively, page 3 is the last.
        let base = serve_with(
            |base| {
                let first = format!("{base}/collections/wharves/items?offset=1");
                vec![page(1, Some(&first)), page(2, Some("items?offset=2")), page(3, None)]
            },
            Duration::ZERO,
        );
        let (layer, _) = fetch_layer(&format!("{base}/collections/wharves/items"), Limits::default()).unwrap();
        assert_eq!(layer.id, "wharves");
        let names: Vec<&str> = layer.features.iter().map(|f| f.name_en.as_str()).collect();
        assert_eq!(names, ["Wharf 1", "Wharf 2", "Wharf 3"]);
    }

    /// A server that sends `head` and the first of `pieces`, then each other piece after `gap`, on
    /// one connection.
    fn drip(head: String, pieces: Vec<Vec<u8>>, gap: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let Ok((mut s, _)) = listener.accept() else { return };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(head.as_bytes());
            for (i, p) in pieces.into_iter().enumerate() {
                if i > 0 {
                    std::thread::sleep(gap);
                }
                if s.write_all(&p).and_then(|()| s.flush()).is_err() {
                    return;
                }
            }
        });
        base
    }

    fn head(len: usize) -> String {
        format!("HTTP/1.1 200 OK\r\nContent-Type: application/geo+json\r\nContent-Length: {len}\r\n\r\n")
    }

    #[test]
    fn a_slow_steady_download_is_not_cut_off_but_a_stalled_one_is() {
        let limits = Limits { timeout: Duration::from_millis(600), ..Limits::default() };
        // Over a second in all, never 600 ms without data: a total timeout would have failed it.
        let pieces: Vec<Vec<u8>> = FC.as_bytes().chunks(FC.len() / 6 + 1).map(<[u8]>::to_vec).collect();
        let base = drip(head(FC.len()), pieces, Duration::from_millis(150));
        let (layer, _) = fetch_layer(&format!("{base}/steady.geojson"), limits).unwrap();
        assert_eq!(layer.features.len(), 1);
        // Half the body, then silence.
        let (a, b) = FC.as_bytes().split_at(FC.len() / 2);
        let base = drip(head(FC.len()), vec![a.to_vec(), vec![], b.to_vec()], Duration::from_millis(1500));
        let err = fetch_layer(&format!("{base}/stalled.geojson"), limits).unwrap_err().to_string();
        assert!(err.contains("timed out") && err.contains("without data") && err.contains("stalled.geojson"), "{err}");
    }

    #[test]
    fn a_download_reports_progress_and_stops_when_cancelled() {
        let first = br#"{"type":"FeatureCollection","features":["#.to_vec();
        let mut pieces = vec![first.clone(), vec![b' '; 4000]];
        pieces.extend(std::iter::repeat_n(vec![b' '; 10], 60));
        let base = drip(head(1 << 20), pieces, Duration::from_millis(500));
        let url = format!("{base}/big.geojson");
        let progress = std::sync::Arc::new(Progress::default());
        let (p, u) = (progress.clone(), url.clone());
        let reader = std::thread::spawn(move || fetch_layer_with(&u, Limits::default(), &p));
        let start = std::time::Instant::now();
        while progress.bytes() < 4000 && start.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(progress.bytes() >= first.len() as u64 + 4000, "bytes counted as they arrive: {}", progress.bytes());
        assert_eq!(progress.pages(), 0);
        progress.cancel();
        let cancelled_at = std::time::Instant::now();
        let r = reader.join().unwrap();
        // The server would dribble on for 30 s; the reader stops long before.
        assert!(cancelled_at.elapsed() < Duration::from_secs(5), "{:?}", cancelled_at.elapsed());
        match r {
            Err(RemoteError::Cancelled { url: u }) => assert_eq!(u, url),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_servers_give_clear_errors() {
        let limits = Limits { timeout: Duration::from_millis(500), max_bytes: 1000 };
        let cases: Vec<(Vec<u8>, Duration, &str)> = vec![
            (http("500 Internal Server Error", "text/html", b"oops", None), Duration::ZERO, "HTTP 500"),
            (http("200 OK", "text/html", b"<html>", None), Duration::ZERO, "not GeoJSON"),
            (http("200 OK", "application/json", &vec![b' '; 5000], None), Duration::ZERO, "byte limit"),
            (http("200 OK", "application/json", &FC.as_bytes()[..40], Some(FC.len())), Duration::ZERO, "cut off"),
            (http("200 OK", "application/json", b"{\"type\": \"Featu", None), Duration::ZERO, "invalid JSON"),
            (http("200 OK", "application/json", FC.as_bytes(), None), Duration::from_millis(1500), "request failed"),
        ];
        for (resp, delay, want) in cases {
            let base = serve(vec![resp], delay);
            let err = fetch_layer(&format!("{base}/layer.geojson"), limits).unwrap_err().to_string();
            assert!(err.contains(want), "{want:?} not in {err:?}");
            assert!(err.contains("127.0.0.1"), "the URL is named: {err}");
        }
        let err = fetch("http://127.0.0.1:9/x.geojson", limits).unwrap_err();
        assert!(matches!(err, RemoteError::Http(HttpError::Request { .. })), "{err}");
        assert!(matches!(fetch("ftp://x/y", limits), Err(RemoteError::NotHttp { .. })));
    }
}
