//! Raster basemap groundwork: XYZ tile arithmetic, URL templates, GCJ-02 tile shifts and a
//! size-limited disk cache with server-independent keys and per-tile freshness. No network here:
//! fetching belongs to the tile thread in `basemap`, which builds on these pieces.

use std::path::{Path, PathBuf};

use crate::proj::{Crs, web_mercator_inverse};

/// One XYZ tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

/// Half the Web Mercator world width in metres.
const HALF_WORLD: f64 = std::f64::consts::PI * crate::proj::EARTH_RADIUS_M;

impl TileId {
    /// The tile's quadkey: one digit (0-3) per zoom level, x bit plus twice the y bit.
    pub fn quadkey(&self) -> String {
        (1..=self.z)
            .rev()
            .map(|i| {
                let bit = 1 << (i - 1);
                char::from(b'0' + (self.x & bit != 0) as u8 + 2 * (self.y & bit != 0) as u8)
            })
            .collect()
    }

    /// The tile containing a WGS84 position at zoom `z`.
    pub fn containing(lon: f64, lat: f64, z: u8) -> TileId {
        let n = (1u64 << z) as f64;
        let (mx, my) = crate::proj::web_mercator(lon, lat);
        let x = ((mx + HALF_WORLD) / (2.0 * HALF_WORLD) * n).floor().clamp(0.0, n - 1.0);
        let y = ((HALF_WORLD - my) / (2.0 * HALF_WORLD) * n).floor().clamp(0.0, n - 1.0);
        TileId { z, x: x as u32, y: y as u32 }
    }

    /// The tile's bounds as WGS84 [west, south, east, north].
    pub fn bounds(&self) -> [f64; 4] {
        let n = (1u64 << self.z) as f64;
        let size = 2.0 * HALF_WORLD / n;
        let x0 = -HALF_WORLD + self.x as f64 * size;
        let y0 = HALF_WORLD - self.y as f64 * size;
        let (w, n_) = web_mercator_inverse(x0, y0);
        let (e, s) = web_mercator_inverse(x0 + size, y0 - size);
        [w, s, e, n_]
    }
}

/// The zoom whose 256-px tiles are closest to `metres_per_px` Web Mercator metres per pixel.
pub fn zoom_for(metres_per_px: f64, max_zoom: u8) -> u8 {
    let z0 = 2.0 * HALF_WORLD / 256.0; // metres per pixel at zoom 0
    let z = (z0 / metres_per_px.max(1e-3)).log2().round();
    z.clamp(0.0, max_zoom as f64) as u8
}

/// Tiles covering WGS84 bounds at zoom `z`, nearest the centre first, at most `limit`.
pub fn covering(bounds: [f64; 4], z: u8, limit: usize) -> Vec<TileId> {
    let a = TileId::containing(bounds[0], bounds[3], z);
    let b = TileId::containing(bounds[2], bounds[1], z);
    let (cx, cy) = ((a.x + b.x) as f64 / 2.0, (a.y + b.y) as f64 / 2.0);
    let mut v: Vec<TileId> = (a.y..=b.y).flat_map(|y| (a.x..=b.x).map(move |x| TileId { z, x, y })).collect();
    v.sort_by(|p, q| {
        let d = |t: &TileId| (t.x as f64 - cx).powi(2) + (t.y as f64 - cy).powi(2);
        d(p).total_cmp(&d(q))
    });
    v.truncate(limit);
    v
}

/// A basemap source: URL template with `{z}`, `{x}` and `{y}` (or `{-y}` for TMS servers, whose
/// rows count from the south), or `{q}` (a Bing-style quadkey), and optionally `{s}`: the same
/// placeholders as QGIS's XYZ layers, so a template works in both.
#[derive(Debug, Clone, PartialEq)]
pub struct TileSource {
    pub template: String,
    pub subdomains: Vec<String>,
    /// The CRS the tiles are drawn in; GCJ-02 tiles must be shifted to meet WGS84 layers.
    pub crs: Crs,
    pub attribution: String,
    pub max_zoom: u8,
    /// Downloads at once this server is asked to bear (its usage policy's figure, if any).
    pub max_parallel: usize,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TemplateError {
    #[error("tile URL template {0:?} lacks {{z}}, {{x}} or {{y}} (or {{-y}}, or a {{q}} quadkey)")]
    MissingPlaceholder(String),
    #[error("tile URL template {0:?} is not http(s)")]
    NotHttp(String),
    #[error("tile URL template {0:?} uses {{s}} but no subdomains are given")]
    NoSubdomains(String),
}

impl TileSource {
    pub fn new(template: &str, subdomains: &[&str], crs: Crs, attribution: &str) -> Result<Self, TemplateError> {
        let t = template.trim();
        if !(t.starts_with("http://") || t.starts_with("https://")) {
            return Err(TemplateError::NotHttp(t.into()));
        }
        let xyz = t.contains("{z}") && t.contains("{x}") && (t.contains("{y}") || t.contains("{-y}"));
        if !(xyz || t.contains("{q}")) {
            return Err(TemplateError::MissingPlaceholder(t.into()));
        }
        let subdomains: Vec<String> = if t.contains("{s}") && subdomains.is_empty() {
            // The common convention for templates like https://{s}.tile.example/…
            vec!["a".into(), "b".into(), "c".into()]
        } else {
            subdomains.iter().map(|s| s.to_string()).collect()
        };
        if t.contains("{s}") && subdomains.is_empty() {
            return Err(TemplateError::NoSubdomains(t.into()));
        }
        Ok(TileSource {
            template: t.into(),
            subdomains,
            crs,
            attribution: attribution.into(),
            max_zoom: 19,
            max_parallel: 4,
        })
    }

    /// The URL of a tile; subdomains rotate by tile so requests spread across hosts.
    pub fn url(&self, t: TileId) -> String {
        let tms_y = (1u32 << t.z).saturating_sub(1).saturating_sub(t.y);
        let mut u = self
            .template
            .replace("{z}", &t.z.to_string())
            .replace("{x}", &t.x.to_string())
            .replace("{y}", &t.y.to_string())
            .replace("{-y}", &tms_y.to_string());
        if u.contains("{q}") {
            u = u.replace("{q}", &t.quadkey());
        }
        if !self.subdomains.is_empty() {
            let s = &self.subdomains[((t.x + t.y) as usize) % self.subdomains.len()];
            u = u.replace("{s}", s);
        }
        u
    }

    /// Where a tile's image should be drawn, as WGS84 bounds: for GCJ-02 sources the tile's
    /// corners are moved back by the GCJ-02 offset so the imagery lines up with WGS84 layers.
    pub fn placed_bounds(&self, t: TileId) -> [f64; 4] {
        let [w, s, e, n] = t.bounds();
        match self.crs {
            Crs::Wgs84 => [w, s, e, n],
            crs => {
                // The offset varies by well under a metre across one tile at useful zooms, so one
                // shift per tile (measured at its centre) suffices.
                let (cx, cy) = ((w + e) / 2.0, (s + n) / 2.0);
                let (wx, wy) = crs.to_wgs84(cx, cy);
                let (dx, dy) = (wx - cx, wy - cy);
                [w + dx, s + dy, e + dx, n + dy]
            }
        }
    }
}

/// A tile as a grid of `n`x`n` quads in the local frame: positions (local metres, f32 for the
/// GPU), texture coordinates, triangle indices.
#[derive(Debug, Clone, PartialEq)]
pub struct TileMesh {
    pub positions: Vec<[f32; 2]>,
    pub uvs: Vec<[f32; 2]>,
    pub indices: Vec<u32>,
}

impl TileSource {
    /// The tile's mesh. The local frame is Web Mercator, so a WGS84 tile is one exact quad; a
    /// GCJ-02 tile is a grid whose every vertex is moved by the GCJ-02 offset at that vertex, so
    /// the imagery meets WGS84 layers at low zooms too, where one offset per tile would not do.
    pub fn mesh(&self, t: TileId, frame: &crate::proj::LocalFrame) -> TileMesh {
        let n: u32 = if self.crs == Crs::Wgs84 { 1 } else { 8 };
        let count = 1u64 << t.z;
        let size = 2.0 * HALF_WORLD / count as f64;
        let (x0, y0) = (-HALF_WORLD + t.x as f64 * size, HALF_WORLD - t.y as f64 * size);
        let mut m = TileMesh { positions: Vec::new(), uvs: Vec::new(), indices: Vec::new() };
        for j in 0..=n {
            for i in 0..=n {
                let (u, v) = (i as f64 / n as f64, j as f64 / n as f64);
                let (lon, lat) = web_mercator_inverse(x0 + u * size, y0 - v * size);
                let (lon, lat) = self.crs.to_wgs84(lon, lat);
                let (x, y) = frame.project(lon, lat);
                m.positions.push([x as f32, y as f32]);
                m.uvs.push([u as f32, v as f32]);
            }
        }
        let row = n + 1;
        for j in 0..n {
            for i in 0..n {
                let a = j * row + i;
                m.indices.extend_from_slice(&[a, a + row, a + 1, a + 1, a + row, a + row + 1]);
            }
        }
        m
    }

    /// The server's host (and port), for attribution when none is given.
    /// The server's host name for people (`{s}` shown as the first subdomain).
    pub fn host(&self) -> String {
        let host = self.template.split("://").nth(1).and_then(|r| r.split('/').next()).unwrap_or(&self.template);
        match self.subdomains.first() {
            Some(s) => host.replace("{s}", s),
            None => host.to_string(),
        }
    }

    pub fn with_max_zoom(mut self, z: u8) -> Self {
        self.max_zoom = z;
        self
    }
}

/// A basemap the UI offers by name.
#[derive(Debug, Clone)]
pub struct NamedSource {
    /// Short name for `--basemap`.
    pub id: &'static str,
    pub title: String,
    pub source: TileSource,
}

/// The basemaps offered in the UI. Each is a public service whose terms allow light interactive
/// use with attribution; heavy or offline-bulk use needs the operator's permission.
pub fn builtin_sources() -> Vec<NamedSource> {
    let mk = |id, title: &str, template, subs: &[&str], crs, attribution, max_zoom| NamedSource {
        id,
        title: title.to_string(),
        source: TileSource::new(template, subs, crs, attribution)
            .expect("built-in templates are valid")
            .with_max_zoom(max_zoom),
    };
    let osm = mk(
        "osm",
        "OpenStreetMap",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        &[],
        Crs::Wgs84,
        "© OpenStreetMap contributors",
        19,
    );
    vec![
        NamedSource {
            // The OSM Foundation's tile usage policy asks for few parallel downloads.
            source: TileSource { max_parallel: 2, ..osm.source },
            ..osm
        },
        mk(
            "carto-light",
            "CARTO Positron (light)",
            "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}.png",
            &["a", "b", "c", "d"],
            Crs::Wgs84,
            "© OpenStreetMap contributors © CARTO",
            20,
        ),
        mk(
            "esri-imagery",
            "Esri World Imagery (aerial)",
            "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}",
            &[],
            Crs::Wgs84,
            "Imagery © Esri, Maxar, Earthstar Geographics",
            19,
        ),
        mk(
            "gaode",
            "高德地圖 AutoNavi (GCJ-02)",
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            &["1", "2", "3", "4"],
            Crs::Gcj02,
            "© 高德地图 AutoNavi",
            18,
        ),
    ]
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SourceError {
    #[error("{0:?} is neither a built-in basemap ({1}) nor an http(s) URL template")]
    Unknown(String, String),
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// A basemap from the command line: `none`, a built-in name, or a URL template (WGS84 unless
/// `crs` says otherwise). A CRS or attribution given with a built-in name overrides its own.
pub fn resolve_source(
    spec: &str,
    crs: Option<Crs>,
    attribution: Option<&str>,
) -> Result<Option<TileSource>, SourceError> {
    let spec = spec.trim();
    if spec.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let builtins = builtin_sources();
    let mut source = match builtins.iter().find(|b| b.id.eq_ignore_ascii_case(spec)) {
        Some(b) => b.source.clone(),
        None if spec.contains("://") => TileSource::new(spec, &[], Crs::Wgs84, "")?,
        None => {
            let names: Vec<&str> = builtins.iter().map(|b| b.id).collect();
            return Err(SourceError::Unknown(spec.into(), names.join(", ")));
        }
    };
    if let Some(c) = crs {
        source.crs = c;
    }
    if let Some(a) = attribution {
        source.attribution = a.to_string();
    } else if source.attribution.is_empty() {
        // Say at least whose tiles these are.
        source.attribution = source.host();
    }
    Ok(Some(source))
}

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
const TILE_MAGIC: &[u8] = b"port-atlas tile 1\n";
/// A header is a few short lines; anything longer is damage, not a header.
const MAX_HEADER: usize = 4096;

impl CachedTile {
    /// `port-atlas tile 1`, then `key value` lines, a blank line, and the image bytes.
    fn encode(bytes: &[u8], meta: &TileMeta) -> Vec<u8> {
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
    fn decode(mut file: Vec<u8>) -> Option<CachedTile> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_of_taicang_port_and_its_bounds() {
        let t = TileId::containing(121.2333, 31.6167, 12);
        // Slippy-map formula by hand: x = (lon+180)/360*2^z, y from the Mercator latitude.
        let n = 4096.0f64;
        let x = ((121.2333 + 180.0) / 360.0 * n).floor() as u32;
        let lat = 31.6167f64.to_radians();
        let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32;
        assert_eq!((t.x, t.y), (x, y));
        let [w, s, e, nn] = t.bounds();
        assert!(w <= 121.2333 && 121.2333 <= e && s <= 31.6167 && 31.6167 <= nn);
    }

    #[test]
    fn zoom_and_covering_are_sane() {
        assert_eq!(zoom_for(156_543.03, 19), 0);
        assert_eq!(zoom_for(38.2, 19), 12);
        assert_eq!(zoom_for(0.01, 17), 17);
        let tiles = covering([120.9, 31.3, 121.4, 31.8], 11, 100);
        assert!(tiles.len() >= 4 && tiles.len() <= 16, "{}", tiles.len());
        let centre = TileId::containing(121.15, 31.55, 11);
        assert!(tiles[..4].contains(&centre), "nearest first");
        assert_eq!(covering([120.0, 30.0, 122.0, 33.0], 14, 10).len(), 10, "capped");
    }

    #[test]
    fn templates_validate_and_rotate_subdomains() {
        let s = TileSource::new("https://{s}.tile.example.org/{z}/{x}/{y}.png", &[], Crs::Wgs84, "© OSM").unwrap();
        let a = s.url(TileId { z: 3, x: 1, y: 2 });
        let b = s.url(TileId { z: 3, x: 2, y: 2 });
        assert_eq!(a, "https://a.tile.example.org/3/1/2.png");
        assert_eq!(b, "https://b.tile.example.org/3/2/2.png");
        assert!(matches!(TileSource::new("ftp://x/{z}/{x}/{y}", &[], Crs::Wgs84, ""), Err(TemplateError::NotHttp(_))));
        assert!(matches!(
            TileSource::new("https://x/{z}/{x}.png", &[], Crs::Wgs84, ""),
            Err(TemplateError::MissingPlaceholder(_))
        ));
        // TMS rows count from the south; a quadkey spells the tile's path down the quadtree.
        let tms = TileSource::new("https://x/{z}/{x}/{-y}.png", &[], Crs::Wgs84, "").unwrap();
        assert_eq!(tms.url(TileId { z: 3, x: 1, y: 2 }), "https://x/3/1/5.png");
        assert_eq!(tms.url(TileId { z: 0, x: 0, y: 0 }), "https://x/0/0/0.png");
        let q = TileSource::new("https://x/tiles/a{q}.jpeg?g=1", &[], Crs::Wgs84, "").unwrap();
        // Bing Maps' documented example: tile (3, 5) at level 3 is quadkey 213.
        assert_eq!(q.url(TileId { z: 3, x: 3, y: 5 }), "https://x/tiles/a213.jpeg?g=1");
    }

    #[test]
    fn command_line_sources_resolve() {
        assert_eq!(resolve_source("none", None, None), Ok(None));
        let osm = resolve_source("OSM", None, None).unwrap().unwrap();
        assert!(osm.template.contains("openstreetmap") && osm.attribution.contains("OpenStreetMap"));
        assert_eq!(osm.max_parallel, 2, "the OSM tile policy");
        let gaode = resolve_source("gaode", None, None).unwrap().unwrap();
        assert_eq!((gaode.crs, gaode.subdomains.len()), (Crs::Gcj02, 4));
        let t = resolve_source("http://127.0.0.1:8000/{z}/{x}/{y}.png", Some(Crs::Gcj02), None).unwrap().unwrap();
        assert_eq!((t.crs, t.attribution.as_str()), (Crs::Gcj02, "127.0.0.1:8000"));
        assert!(matches!(resolve_source("satellite", None, None), Err(SourceError::Unknown(..))));
        assert!(matches!(resolve_source("http://x/{z}.png", None, None), Err(SourceError::Template(_))));
    }

    #[test]
    fn gcj02_tiles_move_back_by_the_offset() {
        let s = TileSource::new("https://gcj.example/{z}/{x}/{y}.png", &[], Crs::Gcj02, "").unwrap();
        let t = TileId::containing(121.2333, 31.6167, 16);
        let raw = t.bounds();
        let placed = s.placed_bounds(t);
        let d = crate::proj::distance_m((raw[0], raw[1]), (placed[0], placed[1]));
        assert!((400.0..600.0).contains(&d), "GCJ-02 shift {d} m");
        // Westward: GCJ-02 is east of WGS84 here.
        assert!(placed[0] < raw[0]);
    }

    #[test]
    fn cache_keys_ignore_server_text_and_eviction_keeps_the_limit() {
        let dir = std::env::temp_dir().join(format!("port-atlas-tiles-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache = TileCache::new(&dir, 2500);
        let src = TileSource::new("https://x.example/{z}/{x}/{y}.png?key=../../etc", &[], Crs::Wgs84, "").unwrap();
        let p = cache.path(&src, TileId { z: 1, x: 0, y: 1 });
        assert!(p.starts_with(&dir) && !p.to_string_lossy().contains(".."), "{}", p.display());
        let meta = TileMeta::default();
        let file_len = CachedTile::encode(&[0; 1000], &meta).len() as u64;
        for x in 0..5 {
            cache.put(&src, TileId { z: 5, x, y: 0 }, &[x as u8; 1000], &meta).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(cache.size(), 5 * file_len);
        assert_eq!(cache.evict().unwrap(), 2 * file_len, "down to 90% of the limit");
        assert!(cache.size() <= 2500, "{}", cache.size());
        assert_eq!(cache.get(&src, TileId { z: 5, x: 4, y: 0 }).unwrap().bytes, vec![4u8; 1000]);
        assert!(cache.get(&src, TileId { z: 5, x: 0, y: 0 }).is_none(), "oldest evicted");
        cache.clear().unwrap();
        assert_eq!(cache.size(), 0);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn tile_files_keep_freshness_and_validators_and_refuse_damaged_headers() {
        use crate::http::Validators;
        let validators =
            Validators { etag: Some("\"v1 a\"".into()), last_modified: Some("Wed, 21 Oct 2026 07:28:00 GMT".into()) };
        let meta = TileMeta { fetched: 1_790_000_000, fresh_for: 3600, validators };
        let png = b"\x89PNG\r\n\x1a\n\n\nbody with blank lines";
        let file = CachedTile::encode(png, &meta);
        assert_eq!(CachedTile::decode(file.clone()), Some(CachedTile { bytes: png.to_vec(), meta: meta.clone() }));
        assert!(meta.is_fresh(1_790_000_000 + 3599) && !meta.is_fresh(1_790_000_000 + 3600));
        assert!(!meta.is_fresh(1_789_000_000), "fetched in the future: the clock went back");
        // A file from before headers: the image as it was, stale, nothing to revalidate with.
        let old = CachedTile::decode(png.to_vec()).unwrap();
        assert_eq!((old.bytes.as_slice(), old.meta.fetched, old.meta.validators.is_empty()), (&png[..], 0, true));
        assert!(!old.meta.is_fresh(unix_now()));
        // Cut off in the header, a bad number, a control character: damaged.
        assert_eq!(CachedTile::decode(file[..TILE_MAGIC.len() + 8].to_vec()), None);
        let bad = String::from_utf8_lossy(&file).replace("fresh-for 3600", "fresh-for soon");
        assert_eq!(CachedTile::decode(bad.into_bytes()), None);
        let mut ctl = TILE_MAGIC.to_vec();
        ctl.extend_from_slice(b"fetched 1\nfresh-for 1\netag a\x07b\n\nX");
        assert_eq!(CachedTile::decode(ctl), None);
        // A value that could not have come from an HTTP header is not written.
        let evil = TileMeta {
            validators: Validators { etag: Some("a\nfresh-for 999999999".into()), last_modified: None },
            ..meta
        };
        let back = CachedTile::decode(CachedTile::encode(b"x", &evil)).unwrap();
        assert_eq!((back.meta.fresh_for, back.meta.validators.etag), (3600, None));
    }
}
