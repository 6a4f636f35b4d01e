//! The vector tile thread: its own tokio runtime for the I/O (HTTP, range reads, SQLite), the
//! decoding and tessellation on the blocking pool, and cancellation of every request whose tile
//! left the view before it was asked for. No Bevy here: the app says which tiles it wants and
//! polls for built tiles once a frame, so it never waits.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::{Semaphore, mpsc};
use tokio::task::{AbortHandle, JoinSet};

use super::build::{BuiltTile, build};
use super::source::{Opened, SourceInfo, VectorError, VectorSpec, open};
use crate::tiles::TileId;

/// Which source an event or request is about (the app's own numbering).
pub type SourceId = u64;

/// A tile as the thread delivers it: built, empty (`None`), or why not.
pub type TileResult = Result<Option<Arc<BuiltTile>>, VectorError>;

/// Sources being opened, each with its outcome.
type Opening = JoinSet<(SourceId, Result<(Opened, SourceInfo), VectorError>)>;

#[derive(Debug)]
pub enum VectorEvent {
    Opened {
        source: SourceId,
        info: SourceInfo,
    },
    OpenFailed {
        source: SourceId,
        error: VectorError,
    },
    /// A tile arrived: `Ok(None)` when the source has nothing there (an empty tile).
    Tile {
        source: SourceId,
        tile: TileId,
        result: TileResult,
    },
}

enum Msg {
    Open(SourceId, VectorSpec),
    Want(SourceId, Vec<TileId>),
    Close(SourceId),
}

/// Counters the tests and the benchmark read.
#[derive(Debug, Default)]
pub struct Counters {
    /// Tile reads started (HTTP requests, range reads or SQLite queries), per run.
    pub fetched: AtomicUsize,
    /// Requests aborted because their tile left the view first.
    pub cancelled: AtomicUsize,
    /// Reads the worker has seen end (done, failed or aborted): a tile's result reaches the app
    /// a moment before its read is off the worker's books, and until then wanting the tile
    /// again does not read it again.
    pub settled: AtomicUsize,
}

pub struct VectorFetcher {
    tx: mpsc::UnboundedSender<Msg>,
    rx: Mutex<std_mpsc::Receiver<VectorEvent>>,
    pub counters: Arc<Counters>,
}

/// Tiles read at once per source: enough to hide a server's latency, few enough not to flood it.
const PARALLEL_READS: usize = 8;

impl VectorFetcher {
    pub fn spawn() -> std::io::Result<VectorFetcher> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (etx, erx) = std_mpsc::channel();
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        std::thread::Builder::new().name("vector-tiles".into()).spawn(move || rt.block_on(run(rx, etx, c)))?;
        Ok(VectorFetcher { tx, rx: Mutex::new(erx), counters })
    }

    pub fn open(&self, source: SourceId, spec: VectorSpec) {
        let _ = self.tx.send(Msg::Open(source, spec));
    }

    /// The tiles the view needs now, most important first; requests for any others are dropped.
    pub fn want(&self, source: SourceId, tiles: Vec<TileId>) {
        let _ = self.tx.send(Msg::Want(source, tiles));
    }

    pub fn close(&self, source: SourceId) {
        let _ = self.tx.send(Msg::Close(source));
    }

    /// Everything that arrived since the last poll.
    pub fn poll(&self) -> Vec<VectorEvent> {
        self.rx.lock().map(|rx| rx.try_iter().collect()).unwrap_or_default()
    }

    /// Waits for one event (tests and the benchmark).
    pub fn recv_timeout(&self, t: std::time::Duration) -> Option<VectorEvent> {
        self.rx.lock().ok()?.recv_timeout(t).ok()
    }
}

struct Source {
    opened: Arc<Opened>,
    permits: Arc<Semaphore>,
}

/// The tile reads under way, and what every read shares.
struct Reads {
    inflight: HashMap<(SourceId, TileId), AbortHandle>,
    tasks: JoinSet<(SourceId, TileId)>,
    /// Decoding and tessellation at once, over all sources: every core for the first view's
    /// tiles (until they are shown the app only waits for them), then the cores but one (that
    /// one draws).
    decode: Arc<Semaphore>,
    /// Reads to finish before one core goes back to drawing: as many as the first `want`
    /// started, counted when it does; `None` before it.
    first_view: Option<usize>,
    /// A decoding permit is still to be given back to drawing.
    burst: bool,
    tx: std_mpsc::Sender<VectorEvent>,
    counters: Arc<Counters>,
}

impl Reads {
    /// Makes `tiles` the ones read for source `id`: reads of any others are aborted, the new
    /// ones started, those under way left alone.
    fn want(&mut self, id: SourceId, src: &Source, tiles: Vec<TileId>) {
        let wanted: HashSet<TileId> = tiles.iter().copied().collect();
        let counters = &self.counters;
        self.inflight.retain(|(s, t), h| {
            if *s == id && !wanted.contains(t) {
                h.abort();
                counters.cancelled.fetch_add(1, Ordering::Relaxed);
                false
            } else {
                true
            }
        });
        for t in tiles {
            if self.inflight.contains_key(&(id, t)) {
                continue;
            }
            let read = fetch_tile(
                id,
                t,
                src.opened.clone(),
                src.permits.clone(),
                self.decode.clone(),
                self.tx.clone(),
                self.counters.clone(),
            );
            let h = self.tasks.spawn(read);
            self.inflight.insert((id, t), h);
        }
        self.first_view = self.first_view.or(Some(self.tasks.len()).filter(|n| *n > 0));
    }

    /// One read finished (or was aborted).
    fn finished(&mut self, key: Option<(SourceId, TileId)>) {
        if let Some(key) = key {
            self.inflight.remove(&key);
        }
        self.counters.settled.fetch_add(1, Ordering::Relaxed);
        if let Some(left) = self.first_view.as_mut() {
            *left = left.saturating_sub(1);
        }
        // A permit in use (a later view's read) is given back at a later finish.
        if self.burst && self.first_view == Some(0) {
            self.burst = self.decode.forget_permits(1) == 0;
        }
    }
}

async fn run(mut rx: mpsc::UnboundedReceiver<Msg>, tx: std_mpsc::Sender<VectorEvent>, counters: Arc<Counters>) {
    let mut sources: HashMap<SourceId, Source> = HashMap::new();
    // Sources being opened, and wants that came before they were.
    let mut opening: Opening = JoinSet::new();
    let mut pending_want: HashMap<SourceId, Vec<TileId>> = HashMap::new();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut reads = Reads {
        inflight: HashMap::new(),
        tasks: JoinSet::new(),
        decode: Arc::new(Semaphore::new(cpus)),
        first_view: None,
        burst: cpus > 1,
        tx: tx.clone(),
        counters,
    };
    loop {
        tokio::select! {
            msg = rx.recv() => {
                let Some(msg) = msg else { break };
                match msg {
                    Msg::Open(id, spec) => {
                        opening.spawn(async move { (id, open(&spec).await) });
                    }
                    Msg::Close(id) => {
                        sources.remove(&id);
                        pending_want.remove(&id);
                        reads.inflight.retain(|(s, _), h| if *s == id { h.abort(); false } else { true });
                    }
                    Msg::Want(id, tiles) => {
                        match sources.get(&id) {
                            Some(src) => reads.want(id, src, tiles),
                            None => {
                                pending_want.insert(id, tiles);
                            }
                        }
                    }
                }
            }
            Some(done) = opening.join_next(), if !opening.is_empty() => {
                let Ok((id, result)) = done else { continue };
                match result {
                    Ok((opened, info)) => {
                        let src = Source { opened: Arc::new(opened), permits: Arc::new(Semaphore::new(PARALLEL_READS)) };
                        let _ = tx.send(VectorEvent::Opened { source: id, info });
                        // What the app asked for while the source was opening.
                        if let Some(w) = pending_want.remove(&id) {
                            reads.want(id, &src, w);
                        }
                        sources.insert(id, src);
                    }
                    Err(error) => {
                        pending_want.remove(&id);
                        let _ = tx.send(VectorEvent::OpenFailed { source: id, error });
                    }
                }
            }
            Some(done) = reads.tasks.join_next(), if !reads.tasks.is_empty() => {
                reads.finished(done.ok());
            }
        }
    }
}

async fn fetch_tile(
    source: SourceId,
    tile: TileId,
    opened: Arc<Opened>,
    permits: Arc<Semaphore>,
    decode: Arc<Semaphore>,
    tx: std_mpsc::Sender<VectorEvent>,
    counters: Arc<Counters>,
) -> (SourceId, TileId) {
    let result = async {
        let _permit =
            permits.acquire().await.map_err(|e| VectorError::Io { at: opened.location(), message: e.to_string() })?;
        counters.fetched.fetch_add(1, Ordering::Relaxed);
        let Some(bytes) = opened.tile(tile).await? else { return Ok(None) };
        drop(_permit);
        let _cpu =
            decode.acquire().await.map_err(|e| VectorError::Io { at: opened.location(), message: e.to_string() })?;
        let at = opened.location();
        let built = tokio::task::spawn_blocking(move || build(&bytes, tile, tile))
            .await
            .map_err(|e| VectorError::Io { at: at.clone(), message: e.to_string() })?
            .map_err(|e| VectorError::Tile { at, tile: tile.to_string(), message: e.to_string() })?;
        Ok(Some(Arc::new(built)))
    }
    .await;
    let _ = tx.send(VectorEvent::Tile { source, tile, result });
    (source, tile)
}
