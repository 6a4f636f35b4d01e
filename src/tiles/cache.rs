//! The tile disk cache: files named from a template hash and z-x-y only, each with a small
//! freshness header, evicted least recently used first.

use std::path::{Path, PathBuf};

use super::{TileId, TileSource};

/// When a cached tile was fetched, how long the server said it stays fresh, and what to ask the
/// server with once it is stale.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TileMeta {
    /// Unix seconds; 0 for tiles cached before freshness was recorded (always stale).
    pub fetched: u64,
    /// Seconds after `fetched` during which the tile is shown without asking the server.
    pub fresh_for: u64,
    pub validators: crate::http::Validators,
}

impl TileMeta {
    /// Fetched now, fresh for `fresh_for`.
    pub fn fetched_now(fresh_for: std::time::Duration, validators: crate::http::Validators) -> Self {
        TileMeta { fetched: unix_now(), fresh_for: fresh_for.as_secs(), validators }
    }

    /// Fresh at `now` (unix seconds). A fetch time more than a minute ahead of the clock (the
    /// clock was set back) counts as stale, so a wrong clock cannot pin a tile forever.
    pub fn is_fresh(&self, now: u64) -> bool {
        self.fetched <= now + 60 && now < self.fetched.saturating_add(self.fresh_for)
    }
}

/// Seconds since 1970 by the system clock.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A tile file: the image bytes as the server sent them, and their [`TileMeta`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedTile {
    pub bytes: Vec<u8>,
    pub meta: TileMeta,
}

/// First line of a tile file with a header; files without it (older caches) are plain images.
pub(crate) const TILE_MAGIC: &[u8] = b"port-atlas tile 1\n";
/// A header is a few short lines; anything longer is damage, not a header.
pub(crate) const MAX_HEADER: usize = 4096;

impl CachedTile {
    /// `port-atlas tile 1`, then `key value` lines, a blank line, and the image bytes.
    pub(crate) fn encode(bytes: &[u8], meta: &TileMeta) -> Vec<u8> {
        let mut head = format!("fetched {}\nfresh-for {}\n", meta.fetched, meta.fresh_for);
        // Values came from HTTP headers and were visible ASCII; anything else is not written.
        let clean = |v: &String| v.len() < 1024 && v.bytes().all(|b| (0x20..0x7f).contains(&b));
        if let Some(e) = meta.validators.etag.as_ref().filter(|v| clean(v)) {
            head.push_str(&format!("etag {e}\n"));
        }
        if let Some(d) = meta.validators.last_modified.as_ref().filter(|v| clean(v)) {
            head.push_str(&format!("last-modified {d}\n"));
        }
        let mut out = Vec::with_capacity(TILE_MAGIC.len() + head.len() + 1 + bytes.len());
        out.extend_from_slice(TILE_MAGIC);
        out.extend_from_slice(head.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(bytes);
        out
    }

    /// `None` for a header that is cut off or malformed.
    pub(crate) fn decode(mut file: Vec<u8>) -> Option<CachedTile> {
        if !file.starts_with(TILE_MAGIC) {
            return Some(CachedTile { bytes: file, meta: TileMeta::default() });
        }
        let rest = &file[TILE_MAGIC.len()..];
        let end = rest.windows(2).take(MAX_HEADER).position(|w| w == b"\n\n")?;
        let head = std::str::from_utf8(&rest[..end]).ok()?;
        let mut meta = TileMeta::default();
        let (mut fetched, mut fresh_for) = (None, None);
        for line in head.lines() {
            let (key, value) = line.split_once(' ')?;
            if !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                return None;
            }
            match key {
                "fetched" => fetched = Some(value.parse().ok()?),
                "fresh-for" => fresh_for = Some(value.parse().ok()?),
                "etag" => meta.validators.etag = Some(value.to_string()),
                "last-modified" => meta.validators.last_modified = Some(value.to_string()),
                // Keys a newer version may add.
                _ => {}
            }
        }
        meta.fetched = fetched?;
        meta.fresh_for = fresh_for?;
        file.drain(..TILE_MAGIC.len() + end + 2);
        Some(CachedTile { bytes: file, meta })
    }
}

/// A disk cache of tile images. Keys are derived from the template and tile numbers only, so no
/// path is ever built from text a server sent.
#[derive(Debug, Clone)]
pub struct TileCache {
    dir: PathBuf,
    limit_bytes: u64,
}

impl TileCache {
    pub fn new(dir: &Path, limit_bytes: u64) -> Self {
        TileCache { dir: dir.to_path_buf(), limit_bytes }
    }

    /// The file for a tile: a hash of the template (FNV-1a, hex) as the folder, then z-x-y.
    pub fn path(&self, source: &TileSource, t: TileId) -> PathBuf {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in source.template.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.dir.join(format!("{h:016x}")).join(format!("{}-{}-{}.tile", t.z, t.x, t.y))
    }

    /// A stored tile, or `None` when there is none or its header is damaged (the file is then
    /// removed, so the tile is fetched again).
    pub fn get(&self, source: &TileSource, t: TileId) -> Option<CachedTile> {
        let p = self.path(source, t);
        let file = std::fs::read(&p).ok()?;
        let Some(tile) = CachedTile::decode(file) else {
            let _ = std::fs::remove_file(&p);
            return None;
        };
        // Touch it so eviction keeps recently used tiles (the modified time is the LRU clock;
        // when it was fetched is in the file's header).
        let _ =
            std::fs::File::options().append(true).open(&p).and_then(|f| f.set_modified(std::time::SystemTime::now()));
        Some(tile)
    }

    /// Stores a tile atomically with its freshness. Eviction is separate ([`TileCache::evict`])
    /// because it walks the folder: the tile thread keeps a running total and evicts only when it
    /// passes the limit.
    pub fn put(&self, source: &TileSource, t: TileId, bytes: &[u8], meta: &TileMeta) -> std::io::Result<()> {
        let p = self.path(source, t);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        crate::geodata::write_atomic(&p, &CachedTile::encode(bytes, meta))
    }

    pub fn limit(&self) -> u64 {
        self.limit_bytes
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The platform's cache folder for tiles: `$XDG_CACHE_HOME/port-atlas/tiles` (or
    /// `~/.cache/…`) on Linux, `~/Library/Caches/…` on macOS, `%LOCALAPPDATA%\…` on Windows.
    pub fn default_dir() -> Option<PathBuf> {
        dirs::cache_dir().map(|d| d.join("port-atlas").join("tiles"))
    }

    fn files(&self) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
        let mut out = Vec::new();
        let Ok(dirs) = std::fs::read_dir(&self.dir) else { return out };
        for d in dirs.flatten() {
            let Ok(files) = std::fs::read_dir(d.path()) else { continue };
            for f in files.flatten() {
                if let Ok(m) = f.metadata()
                    && m.is_file()
                {
                    out.push((f.path(), m.len(), m.modified().unwrap_or(std::time::UNIX_EPOCH)));
                }
            }
        }
        out
    }

    /// Total size of the cache in bytes (for the UI's cache line).
    pub fn size(&self) -> u64 {
        self.files().iter().map(|f| f.1).sum()
    }

    /// When over the limit, removes the least recently used tiles down to 90% of it (so the next
    /// few puts do not walk the folder again). Returns the size left.
    pub fn evict(&self) -> std::io::Result<u64> {
        let mut files = self.files();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        if total <= self.limit_bytes {
            return Ok(total);
        }
        let target = self.limit_bytes / 10 * 9;
        files.sort_by_key(|f| f.2);
        for (p, len, _) in files {
            if total <= target {
                break;
            }
            std::fs::remove_file(&p)?;
            total -= len;
        }
        Ok(total)
    }

    /// Empties the cache (the UI's clear button).
    pub fn clear(&self) -> std::io::Result<()> {
        for (p, ..) in self.files() {
            std::fs::remove_file(p)?;
        }
        Ok(())
    }
}
