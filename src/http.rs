//! The one place port-atlas talks HTTP: a client with our User-Agent and timeouts, and a download
//! that checks status, content type, size and truncation, so basemap tiles and remote layers
//! turn a slow, dead or lying server into the same clear errors.

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
    #[error("{url}: server sent {content_type:?}, not {what}")]
    ContentType { url: String, content_type: String, what: &'static str },
    #[error("{url}: response is larger than the {limit} byte limit")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: the response was cut off: {message}")]
    Truncated { url: String, message: String },
}

/// Whether `s` is an http(s) URL rather than a file.
pub fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// A client with our User-Agent; `connect` bounds the connection, `timeout` the whole request.
pub fn client(timeout: Duration, connect: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(timeout)
        .connect_timeout(connect.min(timeout))
        .build()
        .map_err(|e| error_chain(&e))
}

/// Downloads `url` within `expect`'s limits. `timeouts` only words the error of a timed-out
/// request (the client enforces them).
pub async fn download(
    client: &reqwest::Client,
    url: &str,
    expect: Expect,
    timeouts: (Duration, Duration),
) -> Result<Vec<u8>, HttpError> {
    let req_err = |e: reqwest::Error| {
        let message = if e.is_timeout() {
            let (timeout, connect) = timeouts;
            format!("timed out (limits: {:?} to connect, {timeout:?} in all)", connect.min(timeout))
        } else {
            // The URL is already at the front of the message.
            error_chain(&e.without_url())
        };
        HttpError::Request { url: url.into(), message }
    };
    let mut resp = client.get(url).header(reqwest::header::ACCEPT, expect.accept).send().await.map_err(req_err)?;
    let status = resp.status();
    if !status.is_success() {
        return Err(HttpError::Status { url: url.into(), status: status.as_u16() });
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
    let too_large = || HttpError::TooLarge { url: url.into(), limit: expect.max_bytes };
    let expected = resp.content_length();
    if expected.is_some_and(|n| n > expect.max_bytes) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(expected.unwrap_or(32 << 10).min(expect.max_bytes) as usize);
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() as u64 > expect.max_bytes {
                    return Err(too_large());
                }
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err(req_err(e)),
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
