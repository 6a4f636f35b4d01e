//! The one place port-atlas talks HTTP: a client with our User-Agent and timeouts, and a download
//! that checks status, content type, size and truncation, so basemap tiles and remote layers
//! turn a slow, dead or lying server into the same clear errors.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Sent with every request, so server operators can see who is asking.
pub const USER_AGENT: &str = concat!("port-atlas/", env!("CARGO_PKG_VERSION"), " (desktop GIS; GeoJSON layers)");

/// What a download must be.
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    /// The `Accept` header.
    pub accept: &'static str,
    /// Whether a (lower-cased) `Content-Type` is acceptable; an absent one always is.
    pub content_type_ok: fn(&str) -> bool,
    /// What the content should have been, for the error ("an image", "GeoJSON").
    pub what: &'static str,
    pub max_bytes: u64,
}

/// Why a download failed. Every variant names the URL.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HttpError {
    #[error("{url}: request failed: {message}")]
    Request { url: String, message: String },
    #[error("{url}: server answered HTTP {status}")]
    Status { url: String, status: u16 },
    /// HTTP 429, or 503 with a `Retry-After`: the server asks clients to slow down.
    #[error("{url}: server asked to slow down (HTTP {status}){}", retry_after.map(|d| format!(", retry after {} s", d.as_secs())).unwrap_or_default())]
    Throttled { url: String, status: u16, retry_after: Option<Duration> },
    #[error("{url}: server sent {content_type:?}, not {what}")]
    ContentType { url: String, content_type: String, what: &'static str },
    #[error("{url}: response is larger than the {limit} byte limit")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: the response was cut off: {message}")]
    Truncated { url: String, message: String },
    /// A PMTiles archive needs byte ranges; this server sends the whole file instead.
    #[error("{url}: the server does not support HTTP range requests (it answered a range with the whole file)")]
    NoRanges { url: String },
}

/// Whether `s` is an http(s) URL rather than a file.
pub fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// How long a request may take. `total` bounds the whole request (a tile that takes longer is
/// not worth waiting for); `stall` bounds each wait for the server (a 200 MB layer may take
/// minutes, but a minute of silence means the server is stuck).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub total: Option<Duration>,
    pub stall: Option<Duration>,
}

impl Timeouts {
    /// The limits in words, for a timed-out request's error.
    fn describe(&self) -> String {
        let mut s = format!("{:?} to connect", self.connect);
        if let Some(t) = self.total {
            s.push_str(&format!(", {t:?} in all"));
        }
        if let Some(t) = self.stall {
            s.push_str(&format!(", {t:?} without data"));
        }
        s
    }
}

/// A client with our User-Agent and `timeouts`.
pub fn client(timeouts: Timeouts) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder().user_agent(USER_AGENT).connect_timeout(timeouts.connect);
    if let Some(t) = timeouts.total {
        b = b.timeout(t);
    }
    if let Some(t) = timeouts.stall {
        b = b.read_timeout(t);
    }
    b.build().map_err(|e| error_chain(&e))
}

/// What identifies a stored copy to its server, for a conditional request that costs a few bytes
/// (`304 Not Modified`) when the copy is still current.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// The headers of a response that say how long it may be reused (RFC 9111).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheHeaders {
    pub cache_control: Option<String>,
    pub expires: Option<String>,
    pub date: Option<String>,
    pub age: Option<String>,
    pub validators: Validators,
}

impl CacheHeaders {
    fn from(headers: &reqwest::header::HeaderMap) -> Self {
        use reqwest::header;
        // Header values that are not visible ASCII are ignored, never stored.
        let get = |name: header::HeaderName| {
            headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty()).map(String::from)
        };
        CacheHeaders {
            cache_control: get(header::CACHE_CONTROL),
            expires: get(header::EXPIRES),
            date: get(header::DATE),
            age: get(header::AGE),
            validators: Validators { etag: get(header::ETAG), last_modified: get(header::LAST_MODIFIED) },
        }
    }

    /// How long the response stays fresh: `max-age` less `Age`, else `Expires` less `Date`, else
    /// `heuristic` (servers that say nothing). `no-cache` and `no-store` give zero: a private,
    /// offline-capable cache still keeps the copy but asks the server before trusting it.
    pub fn lifetime(&self, heuristic: Duration) -> Duration {
        if let Some(cc) = &self.cache_control {
            let mut max_age = None;
            for d in cc.split(',').map(|d| d.trim().to_ascii_lowercase()) {
                if d == "no-cache" || d == "no-store" || d.starts_with("no-cache=") {
                    return Duration::ZERO;
                }
                if let Some(v) = d.strip_prefix("max-age=") {
                    // An unparsable max-age counts as stale (RFC 9111 4.2.1).
                    max_age = Some(v.trim_matches('"').parse::<u64>().unwrap_or(0));
                }
            }
            if let Some(s) = max_age {
                let age = self.age.as_deref().and_then(|a| a.parse::<u64>().ok()).unwrap_or(0);
                return Duration::from_secs(s.saturating_sub(age));
            }
        }
        if let Some(expires) = &self.expires {
            // An Expires that does not parse ("0", "-1") means already expired.
            let Ok(expires) = httpdate::parse_http_date(expires) else { return Duration::ZERO };
            let date = self.date.as_deref().and_then(|d| httpdate::parse_http_date(d).ok());
            let date = date.unwrap_or_else(std::time::SystemTime::now);
            return expires.duration_since(date).unwrap_or(Duration::ZERO);
        }
        heuristic
    }
}

/// A response body, or word that the stored copy is current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Modified(Vec<u8>),
    NotModified,
}

/// What [`get`] brings back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub body: Body,
    pub cache: CacheHeaders,
}

/// Downloads `url` within `expect`'s limits, counting the body's bytes in `progress` as they
/// arrive. `timeouts` (the client's) only words the error of a timed-out request.
pub async fn download(
    client: &reqwest::Client,
    url: &str,
    expect: Expect,
    timeouts: Timeouts,
    progress: Option<&AtomicU64>,
) -> Result<Vec<u8>, HttpError> {
    match get(client, url, expect, timeouts, None, progress).await?.body {
        Body::Modified(bytes) => Ok(bytes),
        // Only a conditional request may be answered 304.
        Body::NotModified => Err(HttpError::Status { url: url.into(), status: 304 }),
    }
}

/// Like [`download`], with the response's caching headers; with `validators`, a conditional
/// request that may come back [`Body::NotModified`]; with `progress`, the body's bytes are
/// counted there as they arrive.
pub async fn get(
    client: &reqwest::Client,
    url: &str,
    expect: Expect,
    timeouts: Timeouts,
    validators: Option<&Validators>,
    progress: Option<&AtomicU64>,
) -> Result<Response, HttpError> {
    let req_err = |e: reqwest::Error| request_error(url, timeouts, e);
    let mut req = client.get(url).header(reqwest::header::ACCEPT, expect.accept);
    if let Some(v) = validators {
        if let Some(etag) = &v.etag {
            req = req.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(date) = &v.last_modified {
            req = req.header(reqwest::header::IF_MODIFIED_SINCE, date);
        }
    }
    let resp = req.send().await.map_err(req_err)?;
    let status = resp.status();
    let cache = CacheHeaders::from(resp.headers());
    if status == reqwest::StatusCode::NOT_MODIFIED && validators.is_some_and(|v| !v.is_empty()) {
        return Ok(Response { body: Body::NotModified, cache });
    }
    if !status.is_success() {
        // Retry-After in seconds (the HTTP-date form is rare for throttling and read as absent).
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let status = status.as_u16();
        if status == 429 || (status == 503 && retry_after.is_some()) {
            return Err(HttpError::Throttled { url: url.into(), status, retry_after });
        }
        return Err(HttpError::Status { url: url.into(), status });
    }
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    // Some servers omit the type or send octet-stream; parsing or decoding decides for those.
    if !(content_type.is_empty()
        || content_type.starts_with("application/octet-stream")
        || (expect.content_type_ok)(&content_type))
    {
        return Err(HttpError::ContentType { url: url.into(), content_type, what: expect.what });
    }
    let body = read_body(resp, url, timeouts, expect.max_bytes, progress).await?;
    Ok(Response { body: Body::Modified(body), cache })
}

/// A request that failed before an answer, in words: a timeout with the limits, else the cause.
fn request_error(url: &str, timeouts: Timeouts, e: reqwest::Error) -> HttpError {
    let message = if e.is_timeout() {
        format!("timed out (limits: {})", timeouts.describe())
    } else {
        // The URL is already at the front of the message.
        error_chain(&e.without_url())
    };
    HttpError::Request { url: url.into(), message }
}

/// A response's body, at most `limit` bytes (a larger declared length fails before reading),
/// counted in `progress` as it arrives; shorter than its declared length is truncation.
async fn read_body(
    mut resp: reqwest::Response,
    url: &str,
    timeouts: Timeouts,
    limit: u64,
    progress: Option<&AtomicU64>,
) -> Result<Vec<u8>, HttpError> {
    let too_large = || HttpError::TooLarge { url: url.into(), limit };
    let expected = resp.content_length();
    if expected.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(expected.unwrap_or(32 << 10).min(limit).min(16 << 20) as usize);
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if let Some(p) = progress {
                    p.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
                if body.len() as u64 > limit {
                    return Err(too_large());
                }
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err(request_error(url, timeouts, e)),
            Err(e) => return Err(HttpError::Truncated { url: url.into(), message: error_chain(&e) }),
        }
    }
    if let Some(n) = expected
        && (body.len() as u64) < n
    {
        return Err(HttpError::Truncated { url: url.into(), message: format!("{} of {n} bytes", body.len()) });
    }
    Ok(body)
}

/// Bytes `offset..offset + len` of `url` by an HTTP range request: one request for a PMTiles
/// header or directory, one per tile. A server that ignores `Range` (HTTP 200) is an error, not
/// a download of the whole archive; a range past the end comes back shorter.
pub async fn get_range(
    client: &reqwest::Client,
    url: &str,
    offset: u64,
    len: u64,
    timeouts: Timeouts,
) -> Result<Vec<u8>, HttpError> {
    let last = offset.saturating_add(len.max(1) - 1);
    let resp = client
        .get(url)
        .header(reqwest::header::RANGE, format!("bytes={offset}-{last}"))
        .send()
        .await
        .map_err(|e| request_error(url, timeouts, e))?;
    let status = resp.status().as_u16();
    match status {
        206 => {}
        // Asked past the end of the file.
        416 => return Ok(Vec::new()),
        200 => return Err(HttpError::NoRanges { url: url.into() }),
        429 => return Err(HttpError::Throttled { url: url.into(), status, retry_after: None }),
        _ => return Err(HttpError::Status { url: url.into(), status }),
    }
    read_body(resp, url, timeouts, len, None).await
}

/// reqwest's top-level message is terse ("error sending request"); the cause is further down.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_follows_the_servers_caching_headers() {
        let week = Duration::from_secs(7 * 86400);
        let h = |cc: Option<&str>, expires: Option<&str>, date: Option<&str>, age: Option<&str>| CacheHeaders {
            cache_control: cc.map(String::from),
            expires: expires.map(String::from),
            date: date.map(String::from),
            age: age.map(String::from),
            validators: Validators::default(),
        };
        let date = "Wed, 25 Nov 2026 12:00:00 GMT";
        // OpenStreetMap's tile servers send max-age plus Expires; max-age wins.
        let osm = h(
            Some("max-age=86400, stale-while-revalidate=604800"),
            Some("Fri, 27 Nov 2026 12:00:00 GMT"),
            Some(date),
            None,
        );
        assert_eq!(osm.lifetime(week), Duration::from_secs(86400));
        assert_eq!(h(Some("public, max-age=600"), None, None, Some("100")).lifetime(week), Duration::from_secs(500));
        assert_eq!(h(Some("max-age=60"), None, None, Some("900")).lifetime(week), Duration::ZERO);
        assert_eq!(h(Some("no-cache"), None, None, None).lifetime(week), Duration::ZERO);
        assert_eq!(h(Some("No-Store, max-age=600"), None, None, None).lifetime(week), Duration::ZERO);
        assert_eq!(h(Some("max-age=soon"), None, None, None).lifetime(week), Duration::ZERO);
        // Expires counts from the server's Date, not our clock.
        assert_eq!(
            h(None, Some("Wed, 25 Nov 2026 13:00:00 GMT"), Some(date), None).lifetime(week),
            Duration::from_secs(3600)
        );
        assert_eq!(h(None, Some("Wed, 25 Nov 2026 11:00:00 GMT"), Some(date), None).lifetime(week), Duration::ZERO);
        assert_eq!(h(None, Some("0"), Some(date), None).lifetime(week), Duration::ZERO, "invalid Expires: expired");
        // A directive we do not act on leaves the rest to Expires or the heuristic.
        assert_eq!(h(Some("public"), None, None, None).lifetime(week), week);
        assert_eq!(h(None, None, Some(date), None).lifetime(week), week);
    }
}
