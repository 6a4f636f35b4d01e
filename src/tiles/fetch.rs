//! The basemap tile thread: its own tokio runtime, a few downloads in parallel, cancellation when
//! tiles leave the view, only validated images reaching the disk cache, and stale cached tiles
//! shown at once and revalidated behind them. No Bevy here: the app sends the tiles it wants and
//! polls for decoded images once a frame, so it never waits.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Cursor;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};

use crate::http::{Body, Expect, HttpError};
use crate::tiles::{TileCache, TileId, TileMeta, TileSource, unix_now};

/// A decoded tile, RGBA8 (sRGB) rows top to bottom.
#[derive(Clone, PartialEq)]
pub struct TileImage {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
    /// No pixel is transparent: the renderer may draw it without blending.
    pub opaque: bool,
}

impl std::fmt::Debug for TileImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TileImage({}x{})", self.width, self.height)
    }
}

/// Why a tile is missing. Every variant names the URL, never the cache path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TileError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("{url}: not a readable image: {message}")]
    Corrupt { url: String, message: String },
}

impl TileError {
    /// A short name for the kind of failure, so the UI can report "HTTP 500" once, not per tile.
    pub fn kind(&self) -> String {
        match self {
            TileError::Http(HttpError::Request { message, .. }) if message.contains("timed out") => "timeout".into(),
            TileError::Http(HttpError::Request { .. }) => "unreachable".into(),
            TileError::Http(HttpError::Status { status, .. }) => format!("HTTP {status}"),
            TileError::Http(HttpError::Throttled { .. }) => "throttled".into(),
            TileError::Http(HttpError::ContentType { .. }) => "not an image".into(),
            TileError::Http(HttpError::TooLarge { .. }) => "too large".into(),
            TileError::Http(HttpError::Truncated { .. }) => "truncated".into(),
            TileError::Http(HttpError::NoRanges { .. }) => "no range requests".into(),
            TileError::Corrupt { .. } => "corrupt image".into(),
        }
    }
}

/// What the tile thread reports back.
#[derive(Debug, Clone, PartialEq)]
pub enum TileEvent {
    /// A tile for the source set with `generation`; `cached` when it came from disk. A tile may
    /// come twice: from the cache while stale, then again when the server has a newer one.
    Ready {
        generation: u64,
        tile: TileId,
        image: TileImage,
        cached: bool,
    },
    Failed {
        generation: u64,
        tile: TileId,
        error: TileError,
    },
    /// The server asked to slow down (HTTP 429): nothing is asked of it for `wait`; the tiles
    /// waiting are fetched after that, not failed.
    Throttled {
        generation: u64,
        wait: Duration,
    },
    /// The disk cache's size in bytes, after it changed.
    CacheSize(u64),
    /// The cache cannot be written or cleared (reported once; tiles still load).
    CacheProblem(String),
}

/// Limits for the tile thread.
#[derive(Debug, Clone, Copy)]
pub struct FetchConfig {
    /// Downloads at once, at most (a source may ask for fewer: [`TileSource::max_parallel`]).
    pub parallel: usize,
    pub timeout: Duration,
    /// Largest tile body accepted; real tiles are 5-60 KB.
    pub max_bytes: u64,
    /// Largest width or height accepted, so a lying server cannot make us allocate gigabytes.
    pub max_side: u32,
    /// How long a tile stays fresh when its server sends no caching headers. Seven days is the
    /// least OpenStreetMap's tile usage policy asks for.
    pub default_freshness: Duration,
    /// After a revalidation cannot reach the server (offline), no more are tried for this long.
    pub offline_pause: Duration,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            parallel: 4,
            timeout: Duration::from_secs(15),
            max_bytes: 4 << 20,
            max_side: 1024,
            default_freshness: Duration::from_secs(7 * 86400),
            offline_pause: Duration::from_secs(60),
        }
    }
}

impl FetchConfig {
    /// A tile has `timeout` in all, and `CONNECT_TIMEOUT` of it to connect.
    fn timeouts(&self) -> crate::http::Timeouts {
        crate::http::Timeouts { connect: CONNECT_TIMEOUT.min(self.timeout), total: Some(self.timeout), stall: None }
    }
}

/// How long to leave a server alone that asked to slow down without saying for how long, and the
/// longest pause taken from its `Retry-After`.
const THROTTLE_DEFAULT: Duration = Duration::from_secs(30);
const THROTTLE_MAX: Duration = Duration::from_secs(600);

/// Stale tiles waiting to be revalidated, at most; more are dropped (they are queued again the
/// next time they are loaded from the cache).
const MAX_REVALIDATE_QUEUE: usize = 512;

/// A server that does not even accept the connection this fast is treated as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

enum Msg {
    Source(Option<TileSource>, u64),
    Want(Vec<TileId>),
    ClearCache,
}

/// Handle to the tile thread. Dropping it closes the channel; the thread then cancels what is in
/// flight and exits on its own (the UI never joins it).
pub struct TileFetcher {
    tx: mpsc::UnboundedSender<Msg>,
    rx: Mutex<std_mpsc::Receiver<TileEvent>>,
    generation: u64,
}

impl TileFetcher {
    /// Starts the thread and its single-threaded runtime. `cache: None` keeps tiles in memory only.
    pub fn spawn(cache: Option<TileCache>, config: FetchConfig) -> std::io::Result<TileFetcher> {
        let (tx, msgs) = mpsc::unbounded_channel();
        let (events_tx, rx) = std_mpsc::channel();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        std::thread::Builder::new().name("port-atlas tiles".into()).spawn(move || {
            runtime.block_on(run(msgs, events_tx, cache.map(Arc::new), config));
        })?;
        Ok(TileFetcher { tx, rx: Mutex::new(rx), generation: 0 })
    }

    /// Switches source (or to none), cancelling everything in flight. Returns the generation that
    /// tags this source's events, so late answers for the old source can be told apart.
    pub fn set_source(&mut self, source: Option<TileSource>) -> u64 {
        self.generation += 1;
        let _ = self.tx.send(Msg::Source(source, self.generation));
        self.generation
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The tiles wanted now, most important first. Replaces the previous list: downloads of tiles
    /// not in it are cancelled.
    pub fn want(&self, tiles: Vec<TileId>) {
        let _ = self.tx.send(Msg::Want(tiles));
    }

    pub fn clear_cache(&self) {
        let _ = self.tx.send(Msg::ClearCache);
    }

    /// Events that arrived since the last call; never blocks.
    pub fn poll(&self) -> Vec<TileEvent> {
        match self.rx.lock() {
            Ok(rx) => rx.try_iter().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Waits up to `timeout` for the next event (tests and command-line tools).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<TileEvent> {
        self.rx.lock().ok()?.recv_timeout(timeout).ok()
    }
}

/// A tile that loaded; `cache_error` when it could not be stored (the tile still shows).
struct Fetched {
    /// `None` from a revalidation that found the cached tile current.
    image: Option<TileImage>,
    cached: bool,
    /// Came from the cache past its freshness: to be revalidated.
    stale: bool,
    /// How much the cache file grew (or shrank) in bytes.
    disk_delta: i64,
    cache_error: Option<String>,
}

/// Why a tile is loaded: to show it (cache first), or to ask the server whether the cached copy
/// is still current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    Show,
    Revalidate,
}

type TaskResult = (u64, TileId, Job, Result<Fetched, TileError>);

async fn run(
    mut msgs: mpsc::UnboundedReceiver<Msg>,
    events: std_mpsc::Sender<TileEvent>,
    cache: Option<Arc<TileCache>>,
    config: FetchConfig,
) {
    // The client is cheap to clone (an Arc); an Err here (no TLS backend) fails each tile visibly.
    let client = crate::http::client(config.timeouts());
    let mut source: Option<Arc<TileSource>> = None;
    let mut generation = 0;
    let mut queue: VecDeque<TileId> = VecDeque::new();
    let mut in_flight: HashMap<TileId, AbortHandle> = HashMap::new();
    // Tiles answered since the last `want`: a list the UI sent before it saw those answers still
    // names them, and loading them again would decode (or revalidate) each twice.
    let mut answered: HashSet<TileId> = HashSet::new();
    // Revalidations run one at a time and only while no wanted tile waits, so they never slow
    // the view; they are not cancelled by `want` (their tile is already on screen).
    let mut revalidate: VecDeque<TileId> = VecDeque::new();
    let mut revalidating: HashSet<TileId> = HashSet::new();
    let mut offline_until: Option<Instant> = None;
    // Set by a server's HTTP 429: no request at all goes to it before then.
    let mut throttled_until: Option<Instant> = None;
    let mut tasks: JoinSet<TaskResult> = JoinSet::new();
    // The starting size is measured beside the downloads, not before them.
    let mut cache_bytes = 0u64;
    let mut sizing = cache.clone().map(|c| tokio::task::spawn_blocking(move || c.size()));
    let mut cache_warned = false;
    let mut cache_problem = |message: String| {
        if !std::mem::replace(&mut cache_warned, true) {
            let _ = events.send(TileEvent::CacheProblem(message));
        }
    };
    loop {
        let throttled = throttled_until.is_some_and(|until| Instant::now() < until);
        if let Some(src) = source.as_ref().filter(|_| !throttled) {
            let parallel = config.parallel.min(src.max_parallel).max(1);
            while in_flight.len() + revalidating.len() < parallel {
                let Some(t) = queue.pop_front() else { break };
                let load = load_tile(client.clone(), src.clone(), cache.clone(), config, t, Job::Show);
                let g = generation;
                let handle = tasks.spawn(async move { (g, t, Job::Show, load.await) });
                in_flight.insert(t, handle);
            }
            let online = offline_until.is_none_or(|until| Instant::now() >= until);
            if queue.is_empty()
                && revalidating.is_empty()
                && in_flight.len() < parallel
                && online
                && let Some(t) = revalidate.pop_front()
            {
                offline_until = None;
                let load = load_tile(client.clone(), src.clone(), cache.clone(), config, t, Job::Revalidate);
                let g = generation;
                tasks.spawn(async move { (g, t, Job::Revalidate, load.await) });
                revalidating.insert(t);
            }
        }
        // Wakes the loop when a pause ends with work waiting: the end of a server's throttling
        // with tiles queued, or of an offline pause with revalidations queued.
        let throttle_end = throttled_until.filter(|_| throttled && !(queue.is_empty() && revalidate.is_empty()));
        let pause_end = match (throttle_end, offline_until.filter(|_| !revalidate.is_empty())) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let pause = async move {
            match pause_end {
                Some(until) => tokio::time::sleep_until(until.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = msgs.recv() => match msg {
                None => break,
                Some(Msg::Source(s, g)) => {
                    tasks.abort_all();
                    in_flight.clear();
                    queue.clear();
                    revalidate.clear();
                    revalidating.clear();
                    answered.clear();
                    offline_until = None;
                    throttled_until = None;
                    source = s.map(Arc::new);
                    generation = g;
                }
                Some(Msg::Want(list)) => {
                    in_flight.retain(|t, h| {
                        let keep = list.contains(t);
                        if !keep { h.abort(); }
                        keep
                    });
                    queue = list.into_iter().filter(|t| !in_flight.contains_key(t) && !answered.contains(t)).collect();
                    answered.clear();
                }
                Some(Msg::ClearCache) => {
                    if let Some(c) = cache.clone() {
                        let (cleared, size) = tokio::task::spawn_blocking(move || (c.clear(), c.size()))
                            .await
                            .unwrap_or((Ok(()), cache_bytes));
                        if let Err(e) = cleared {
                            let _ = events.send(TileEvent::CacheProblem(format!("cannot clear the tile cache: {e}")));
                        }
                        cache_bytes = size;
                        let _ = events.send(TileEvent::CacheSize(cache_bytes));
                    }
                }
            },
            measured = async { sizing.as_mut().expect("guarded by the precondition").await }, if sizing.is_some() => {
                sizing = None;
                cache_bytes += measured.unwrap_or(0);
                let _ = events.send(TileEvent::CacheSize(cache_bytes));
            }
            () = pause => {}
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                // Cancelled tasks end in a JoinError and were already forgotten.
                let Ok((g, t, job, result)) = done else { continue };
                if g != generation {
                    continue;
                }
                match job {
                    Job::Show => {
                        in_flight.remove(&t);
                    }
                    Job::Revalidate => {
                        revalidating.remove(&t);
                    }
                }
                let event = match result {
                    Ok(Fetched { image, cached, stale, disk_delta, cache_error }) => {
                        if let Some(e) = cache_error {
                            cache_problem(e);
                        }
                        if stale
                            && cache.is_some()
                            && revalidate.len() < MAX_REVALIDATE_QUEUE
                            && !revalidating.contains(&t)
                            && !revalidate.contains(&t)
                        {
                            revalidate.push_back(t);
                        }
                        if disk_delta != 0 && let Some(c) = cache.clone() {
                            // Walk the folder only when over the limit; otherwise count the tile in.
                            cache_bytes = cache_bytes.saturating_add_signed(disk_delta);
                            if cache_bytes > c.limit() && sizing.is_none() {
                                let (evicted, size) = tokio::task::spawn_blocking(move || (c.evict(), c.size()))
                                    .await
                                    .unwrap_or((Ok(0), cache_bytes));
                                if let Err(e) = evicted {
                                    cache_problem(format!("cannot evict old tiles from the cache: {e}"));
                                }
                                cache_bytes = size;
                            }
                            let _ = events.send(TileEvent::CacheSize(cache_bytes));
                        }
                        // A revalidation that found the tile current has nothing to show.
                        let Some(image) = image else { continue };
                        TileEvent::Ready { generation: g, tile: t, image, cached }
                    }
                    Err(TileError::Http(HttpError::Throttled { retry_after, .. })) => {
                        // Not a failed tile: it waits, with the rest, until the server is ready.
                        let wait = retry_after.unwrap_or(THROTTLE_DEFAULT).clamp(Duration::from_secs(1), THROTTLE_MAX);
                        let until = Instant::now() + wait;
                        throttled_until = Some(throttled_until.map_or(until, |u| u.max(until)));
                        match job {
                            Job::Show if !queue.contains(&t) => queue.push_front(t),
                            Job::Revalidate if !revalidate.contains(&t) => revalidate.push_front(t),
                            _ => {}
                        }
                        TileEvent::Throttled { generation: g, wait }
                    }
                    Err(error) if job == Job::Revalidate => {
                        // The cached tile stays on screen; a server that cannot be reached at
                        // all (offline) is left alone for a while rather than asked per tile.
                        if matches!(error, TileError::Http(HttpError::Request { .. })) {
                            offline_until = Some(Instant::now() + config.offline_pause);
                        }
                        continue;
                    }
                    Err(error) => TileEvent::Failed { generation: g, tile: t, error },
                };
                if job == Job::Show && matches!(event, TileEvent::Ready { .. } | TileEvent::Failed { .. }) {
                    answered.insert(t);
                }
                if events.send(event).is_err() {
                    break;
                }
            }
        }
    }
    tasks.abort_all();
}

fn file_len(cache: &TileCache, source: &TileSource, t: TileId) -> i64 {
    std::fs::metadata(cache.path(source, t)).map_or(0, |m| m.len() as i64)
}

/// One tile. To show it: from the cache if it decodes (marked stale past its freshness),
/// otherwise from the server, validated, then cached. To revalidate it: a conditional request
/// with the cached copy's validators; a changed tile replaces the cached one.
async fn load_tile(
    client: Result<reqwest::Client, String>,
    source: Arc<TileSource>,
    cache: Option<Arc<TileCache>>,
    config: FetchConfig,
    t: TileId,
    job: Job,
) -> Result<Fetched, TileError> {
    let url = source.url(t);
    let mut old = None;
    if let Some(c) = cache.clone() {
        let src = source.clone();
        old = tokio::task::spawn_blocking(move || {
            let tile = c.get(&src, t)?;
            if job == Job::Revalidate {
                return Some((tile, None));
            }
            match decode(&tile.bytes, config.max_side) {
                Ok(img) => Some((tile, Some(img))),
                Err(_) => {
                    // A damaged cache file (disk full, killed mid-write by another tool): drop it.
                    let _ = std::fs::remove_file(c.path(&src, t));
                    None
                }
            }
        })
        .await
        .ok()
        .flatten();
        if let Some((tile, Some(image))) = &old {
            let stale = !tile.meta.is_fresh(unix_now());
            let image = Some(image.clone());
            return Ok(Fetched { image, cached: true, stale, disk_delta: 0, cache_error: None });
        }
    }
    // Revalidating a tile whose file has since gone (cleared, evicted): nothing to refresh.
    if job == Job::Revalidate && old.is_none() {
        return Ok(Fetched { image: None, cached: true, stale: false, disk_delta: 0, cache_error: None });
    }
    let old = old.map(|(tile, _)| tile);
    let client = client.map_err(|message| HttpError::Request { url: url.clone(), message })?;
    let expect = Expect {
        accept: "image/*",
        content_type_ok: |t| t.starts_with("image/"),
        what: "an image",
        max_bytes: config.max_bytes,
    };
    let validators = old.as_ref().map(|o| &o.meta.validators);
    let response = crate::http::get(&client, &url, expect, config.timeouts(), validators, None).await?;
    let (Some(c), Some(old)) = (&cache, &old) else {
        let Body::Modified(bytes) = response.body else {
            return Err(HttpError::Status { url, status: 304 }.into());
        };
        let meta = TileMeta::fetched_now(response.cache.lifetime(config.default_freshness), response.cache.validators);
        return store_new(bytes, meta, source, cache, config, t, url).await;
    };
    // The server's answer for a tile we hold: current (304, or the same bytes), or new.
    let silent = response.cache.cache_control.is_none() && response.cache.expires.is_none();
    let lifetime = match response.body {
        // A 304 need not repeat the caching headers; the stored lifetime still holds.
        Body::NotModified if silent => Duration::from_secs(old.meta.fresh_for),
        _ => response.cache.lifetime(config.default_freshness),
    };
    let new_validators = |v: crate::http::Validators| if v.is_empty() { old.meta.validators.clone() } else { v };
    let bytes = match response.body {
        Body::Modified(bytes) if bytes != old.bytes => bytes,
        _ => {
            let meta = TileMeta::fetched_now(lifetime, new_validators(response.cache.validators));
            let (store, src, bytes) = (c.clone(), source.clone(), old.bytes.clone());
            let stored = tokio::task::spawn_blocking(move || store.put(&src, t, &bytes, &meta)).await;
            let cache_error = match stored {
                Ok(Err(e)) => Some(store_error(c, e)),
                _ => None,
            };
            return Ok(Fetched { image: None, cached: true, stale: false, disk_delta: 0, cache_error });
        }
    };
    let meta = TileMeta::fetched_now(lifetime, new_validators(response.cache.validators));
    store_new(bytes, meta, source, cache, config, t, url).await
}

/// The problem report for a tile the cache could not store.
fn store_error(cache: &TileCache, e: std::io::Error) -> String {
    format!("{}: cannot store tiles: {e}", cache.dir().display())
}

/// Decodes a downloaded tile and, only if it is a readable image, stores it.
async fn store_new(
    bytes: Vec<u8>,
    meta: TileMeta,
    source: Arc<TileSource>,
    cache: Option<Arc<TileCache>>,
    config: FetchConfig,
    t: TileId,
    url: String,
) -> Result<Fetched, TileError> {
    let (img, bytes) = tokio::task::spawn_blocking(move || (decode(&bytes, config.max_side), bytes))
        .await
        .map_err(|e| TileError::Corrupt { url: url.clone(), message: e.to_string() })?;
    let image = img.map_err(|message| TileError::Corrupt { url: url.clone(), message })?;
    let (mut cache_error, mut disk_delta) = (None, 0);
    if let Some(c) = cache.clone() {
        // A cache that cannot be written (read-only disk, disk full) costs speed, not the tile.
        let stored = tokio::task::spawn_blocking(move || {
            let before = file_len(&c, &source, t);
            c.put(&source, t, &bytes, &meta).map(|()| file_len(&c, &source, t) - before)
        })
        .await;
        match stored {
            Ok(Ok(delta)) => disk_delta = delta,
            Ok(Err(e)) => cache_error = cache.as_deref().map(|c| store_error(c, e)),
            Err(_) => {}
        }
    }
    Ok(Fetched { image: Some(image), cached: false, stale: false, disk_delta, cache_error })
}

/// Decodes PNG, JPEG or WebP bytes into RGBA, refusing images over `max_side` before allocating.
pub fn decode(bytes: &[u8], max_side: u32) -> Result<TileImage, String> {
    let mut reader = image::ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| e.to_string())?;
    if reader.format().is_none() {
        return Err("unknown image format (PNG, JPEG and WebP tiles are supported)".into());
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(max_side);
    limits.max_image_height = Some(max_side);
    limits.max_alloc = Some(64 << 20);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| e.to_string())?.to_rgba8();
    let opaque = img.pixels().all(|p| p.0[3] == 255);
    Ok(TileImage { width: img.width(), height: img.height(), rgba: img.into_raw(), opaque })
}

#[cfg(test)]
#[path = "fetch_tests.rs"]
pub(crate) mod tests;
