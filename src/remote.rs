//! Remote layers: GeoJSON (a plain file or an OGC API Features `items` response) fetched over
//! HTTP(S) with a timeout, a size limit and a content-type check, so a slow, dead or lying server
//! gives a clear error instead of a hang or a crash.

use std::io::Read;
use std::time::Duration;

use crate::geodata::{Diagnostic, Layer, LoadError, ReadOptions, parse_layer};

/// Sent with every request, so server operators can see who is asking.
pub const USER_AGENT: &str = concat!("port-atlas/", env!("CARGO_PKG_VERSION"), " (desktop GIS; GeoJSON layers)");

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { timeout: Duration::from_secs(20), max_bytes: 200 * 1024 * 1024 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("{url}: not an http(s) URL")]
    NotHttp { url: String },
    #[error("{url}: request failed: {message}")]
    Request { url: String, message: String },
    #[error("{url}: server answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: server sent {content_type:?}, not GeoJSON")]
    ContentType { url: String, content_type: String },
    #[error("{url}: response is larger than the {limit} byte limit")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: the response was cut off: {message}")]
    Truncated { url: String, message: String },
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// Whether `s` names a remote layer rather than a file.
pub fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// Downloads GeoJSON bytes within the limits.
pub fn fetch(url: &str, limits: Limits) -> Result<Vec<u8>, RemoteError> {
    if !is_url(url) {
        return Err(RemoteError::NotHttp { url: url.into() });
    }
    let req_err = |e: reqwest::Error| RemoteError::Request { url: url.into(), message: e.to_string() };
    let client = reqwest::blocking::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(limits.timeout)
        .connect_timeout(limits.timeout.min(Duration::from_secs(10)))
        .build()
        .map_err(req_err)?;
    let resp = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/geo+json, application/json;q=0.9")
        .send()
        .map_err(req_err)?;
    let status = resp.status();
    if !status.is_success() {
        return Err(RemoteError::Status { url: url.into(), status: status.as_u16() });
    }
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let json_like = content_type.is_empty()
        || content_type.contains("json")
        || content_type.starts_with("text/plain")
        || content_type.starts_with("application/octet-stream");
    if !json_like {
        return Err(RemoteError::ContentType { url: url.into(), content_type });
    }
    if resp.content_length().is_some_and(|n| n > limits.max_bytes) {
        return Err(RemoteError::TooLarge { url: url.into(), limit: limits.max_bytes });
    }
    let expected = resp.content_length();
    let mut body = Vec::new();
    resp.take(limits.max_bytes + 1)
        .read_to_end(&mut body)
        .map_err(|e| RemoteError::Truncated { url: url.into(), message: e.to_string() })?;
    if body.len() as u64 > limits.max_bytes {
        return Err(RemoteError::TooLarge { url: url.into(), limit: limits.max_bytes });
    }
    if let Some(n) = expected
        && (body.len() as u64) < n
    {
        return Err(RemoteError::Truncated { url: url.into(), message: format!("{} of {n} bytes", body.len()) });
    }
    Ok(body)
}

/// Fetches and parses a remote layer; the layer is named after the URL's last path segment.
pub fn fetch_layer(url: &str, limits: Limits) -> Result<(Layer, Vec<Diagnostic>), RemoteError> {
    let body = fetch(url, limits)?;
    let name = url.split(['?', '#']).next().unwrap_or(url).trim_end_matches('/').rsplit('/').next().unwrap_or("remote");
    let name = if name.is_empty() || name == "items" {
        // An OGC API Features URL ends in /collections/{id}/items: name it after the collection.
        url.split("/items").next().and_then(|p| p.rsplit('/').next()).unwrap_or("remote").to_string()
    } else {
        name.trim_end_matches(".geojson").trim_end_matches(".json").to_string()
    };
    let (mut layer, diags) = parse_layer(
        std::path::Path::new(url),
        &body,
        ReadOptions { strict_schema: false, topology: false, ..Default::default() },
    )?;
    layer.id = name;
    if layer.features.is_empty() {
        return Err(RemoteError::Load(LoadError::NotGeoJson {
            path: url.into(),
            message: "no usable features".into(),
        }));
    }
    Ok((layer, diags))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    /// A one-shot HTTP server on 127.0.0.1 answering each request with `respond`'s bytes.
    fn serve(responses: Vec<Vec<u8>>, delay: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for r in responses {
                let Ok((mut s, _)) = listener.accept() else { return };
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                std::thread::sleep(delay);
                let _ = s.write_all(&r);
            }
        });
        format!("http://{addr}")
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
        assert!(matches!(err, RemoteError::Request { .. }), "{err}");
        assert!(matches!(fetch("ftp://x/y", limits), Err(RemoteError::NotHttp { .. })));
    }
}
