//! The basemap tile thread: its own tokio runtime, a few downloads in parallel, cancellation when
//! tiles leave the view, and only validated images reaching the disk cache. No Bevy here: the app
//! sends the tiles it wants and polls for decoded images once a frame, so it never waits.

use std::collections::{HashMap, VecDeque};
use std::io::Cursor;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};

use crate::http::{Expect, HttpError};
use crate::tiles::{TileCache, TileId, TileSource};

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
            TileError::Http(HttpError::ContentType { .. }) => "not an image".into(),
            TileError::Http(HttpError::TooLarge { .. }) => "too large".into(),
            TileError::Http(HttpError::Truncated { .. }) => "truncated".into(),
            TileError::Corrupt { .. } => "corrupt image".into(),
        }
    }
}

/// What the tile thread reports back.
#[derive(Debug, Clone, PartialEq)]
pub enum TileEvent {
    /// A tile for the source set with `generation`; `cached` when it came from disk.
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
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig { parallel: 4, timeout: Duration::from_secs(15), max_bytes: 4 << 20, max_side: 1024 }
    }
}

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
    image: TileImage,
    cached: bool,
    cache_error: Option<String>,
}

type TaskResult = (u64, TileId, Result<Fetched, TileError>);

async fn run(
    mut msgs: mpsc::UnboundedReceiver<Msg>,
    events: std_mpsc::Sender<TileEvent>,
    cache: Option<Arc<TileCache>>,
    config: FetchConfig,
) {
    // The client is cheap to clone (an Arc); an Err here (no TLS backend) fails each tile visibly.
    let client = crate::http::client(config.timeout, CONNECT_TIMEOUT);
    let mut source: Option<Arc<TileSource>> = None;
    let mut generation = 0;
    let mut queue: VecDeque<TileId> = VecDeque::new();
    let mut in_flight: HashMap<TileId, AbortHandle> = HashMap::new();
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
        if let Some(src) = &source {
            while in_flight.len() < config.parallel.min(src.max_parallel).max(1) {
                let Some(t) = queue.pop_front() else { break };
                let job = load_tile(client.clone(), src.clone(), cache.clone(), config, t);
                let g = generation;
                let handle = tasks.spawn(async move { (g, t, job.await) });
                in_flight.insert(t, handle);
            }
        }
        tokio::select! {
            msg = msgs.recv() => match msg {
                None => break,
                Some(Msg::Source(s, g)) => {
                    tasks.abort_all();
                    in_flight.clear();
                    queue.clear();
                    source = s.map(Arc::new);
                    generation = g;
                }
                Some(Msg::Want(list)) => {
                    in_flight.retain(|t, h| {
                        let keep = list.contains(t);
                        if !keep { h.abort(); }
                        keep
                    });
                    queue = list.into_iter().filter(|t| !in_flight.contains_key(t)).collect();
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
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                // Cancelled tasks end in a JoinError and were already forgotten.
                let Ok((g, t, result)) = done else { continue };
                if g != generation {
                    continue;
                }
                in_flight.remove(&t);
                let event = match result {
                    Ok(Fetched { image, cached, cache_error }) => {
                        if let Some(e) = cache_error {
                            cache_problem(e);
                        }
                        if !cached && let Some(c) = cache.clone() {
                            // Walk the folder only when over the limit; otherwise count the tile in.
                            cache_bytes += image_len_on_disk(&c, source.as_deref(), t);
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
                        TileEvent::Ready { generation: g, tile: t, image, cached }
                    }
                    Err(error) => TileEvent::Failed { generation: g, tile: t, error },
                };
                if events.send(event).is_err() {
                    break;
                }
            }
        }
    }
    tasks.abort_all();
}

fn image_len_on_disk(cache: &TileCache, source: Option<&TileSource>, t: TileId) -> u64 {
    source.and_then(|s| std::fs::metadata(cache.path(s, t)).ok()).map_or(0, |m| m.len())
}

/// One tile: from the cache if it decodes, otherwise from the server, validated, then cached.
async fn load_tile(
    client: Result<reqwest::Client, String>,
    source: Arc<TileSource>,
    cache: Option<Arc<TileCache>>,
    config: FetchConfig,
    t: TileId,
) -> Result<Fetched, TileError> {
    let url = source.url(t);
    if let Some(c) = cache.clone() {
        let src = source.clone();
        let hit = tokio::task::spawn_blocking(move || {
            let bytes = c.get(&src, t)?;
            match decode(&bytes, config.max_side) {
                Ok(img) => Some(img),
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
        if let Some(image) = hit {
            return Ok(Fetched { image, cached: true, cache_error: None });
        }
    }
    let client = client.map_err(|message| HttpError::Request { url: url.clone(), message })?;
    let expect = Expect {
        accept: "image/*",
        content_type_ok: |t| t.starts_with("image/"),
        what: "an image",
        max_bytes: config.max_bytes,
    };
    let bytes = crate::http::download(&client, &url, expect, (config.timeout, CONNECT_TIMEOUT)).await?;
    let (img, bytes) = tokio::task::spawn_blocking(move || (decode(&bytes, config.max_side), bytes))
        .await
        .map_err(|e| TileError::Corrupt { url: url.clone(), message: e.to_string() })?;
    let image = img.map_err(|message| TileError::Corrupt { url: url.clone(), message })?;
    let mut cache_error = None;
    if let Some(c) = cache {
        // A cache that cannot be written (read-only disk, disk full) costs speed, not the tile.
        let dir = c.dir().display().to_string();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || c.put(&source, t, &bytes)).await {
            cache_error = Some(format!("{dir}: cannot store tiles: {e}"));
        }
    }
    Ok(Fetched { image, cached: false, cache_error })
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
#[path = "basemap_tests.rs"]
mod tests;
