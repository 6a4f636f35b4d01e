//! Vector tile sources: what `--layer` and the toolbar's URL box may name, how each kind is
//! recognised (extension, TileJSON, PMTiles magic), and reading one tile's bytes from it. All I/O
//! is async on the tile thread's runtime; local files are read in place.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use pmtiles::{
    AsyncBackend, AsyncPmTilesReader, BackendResponse, Compression, HashMapCache, PmtError, TileCoord, TileType,
};

use super::mbtiles::{Mbtiles, MbtilesError};
use super::tilejson::{TileJson, TileJsonError, VectorLayer};
use crate::http::{self, HttpError, Timeouts};
use crate::tiles::TileId;

/// The first bytes of every PMTiles v3 archive.
pub const PMTILES_MAGIC: &[u8] = b"PMTiles";
/// Largest tile accepted as stored (compressed); real tiles are under 500 KB, tippecanoe's
/// default limit.
pub const MAX_TILE_BYTES: usize = 4 << 20;
/// Largest tile accepted once decompressed.
pub const MAX_TILE_INFLATED: usize = 32 << 20;

/// Where a vector source is, as the user named it; the kind is settled by [`open`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VectorSpec {
    /// `https://host/{z}/{x}/{y}.pbf` (or `.mvt`); `{-y}` for TMS rows.
    Xyz(String),
    /// A URL that answers TileJSON (Martin's `/{source}`) or is a PMTiles archive.
    Url(String),
    /// A local `.pmtiles` or `.mbtiles` file.
    File(PathBuf),
}

impl VectorSpec {
    /// Recognises a vector source among `--layer` arguments; `None` leaves it to the other
    /// readers (GeoJSON, Shapefile …). URLs ending in `.pbf`/`.mvt` templates, `.pmtiles`,
    /// `.json`/`tilejson` endpoints and extension-less Martin endpoints are vector sources; a
    /// `.geojson` URL is not.
    pub fn recognise(arg: &str) -> Option<VectorSpec> {
        let a = arg.trim();
        if http::is_url(a) {
            let path = a.split(['?', '#']).next().unwrap_or(a).to_ascii_lowercase();
            if a.contains("{z}") {
                return Some(VectorSpec::Xyz(a.into()));
            }
            let ext = path.rsplit('/').next().and_then(|f| f.rsplit_once('.')).map(|(_, e)| e.to_string());
            return match ext.as_deref() {
                Some("pmtiles" | "json") => Some(VectorSpec::Url(a.into())),
                // A Martin source or TileJSON endpoint has no extension.
                None if !path.ends_with('/') => Some(VectorSpec::Url(a.into())),
                _ => None,
            };
        }
        let p = Path::new(a);
        let ext = p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("pmtiles" | "mbtiles") => Some(VectorSpec::File(p.into())),
            _ if is_pmtiles_file(p) => Some(VectorSpec::File(p.into())),
            _ => None,
        }
    }

    /// The URL or path, for messages and the layer list.
    pub fn location(&self) -> String {
        match self {
            VectorSpec::Xyz(u) | VectorSpec::Url(u) => u.clone(),
            VectorSpec::File(p) => p.display().to_string(),
        }
    }
}

fn is_pmtiles_file(p: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 7];
    std::fs::File::open(p).and_then(|mut f| f.read_exact(&mut magic)).is_ok() && magic == PMTILES_MAGIC
}

/// What kind of source was opened, for the layer list and the QGIS export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Xyz,
    TileJson,
    PmtilesFile,
    PmtilesHttp,
    Mbtiles,
}

impl SourceKind {
    pub fn title(self) -> &'static str {
        match self {
            SourceKind::Xyz => "XYZ vector tiles",
            SourceKind::TileJson => "TileJSON vector tiles",
            SourceKind::PmtilesFile => "PMTiles archive",
            SourceKind::PmtilesHttp => "PMTiles over HTTP",
            SourceKind::Mbtiles => "MBTiles archive",
        }
    }
}

/// What a source says about itself once opened.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    pub kind: SourceKind,
    pub location: String,
    pub name: String,
    pub min_zoom: u8,
    pub max_zoom: u8,
    /// [west, south, east, north] in degrees, when the source says.
    pub bounds: Option<[f64; 4]>,
    pub attribution: Option<String>,
    /// Source layers and their fields; empty when the source does not list them (then the
    /// layers are learnt from the tiles).
    pub layers: Vec<VectorLayer>,
    /// For XYZ and TileJSON sources: the template tiles are fetched from (QGIS takes it as is).
    pub template: Option<String>,
}

/// Why a source or a tile cannot be read. Each names the URL or file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VectorError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    TileJson(#[from] TileJsonError),
    #[error(transparent)]
    Mbtiles(#[from] MbtilesError),
    #[error("{at}: not a usable PMTiles archive: {message}")]
    Pmtiles { at: String, message: String },
    #[error("{at}: holds {what} tiles, not vector tiles")]
    NotVector { at: String, what: String },
    #[error("{at}: tile {tile}: {message}")]
    Tile { at: String, tile: String, message: String },
    #[error("{at}: {message}")]
    Io { at: String, message: String },
    /// The URL answers GeoJSON, not TileJSON: a plain layer, for the layer reader.
    #[error("{at}: is a GeoJSON layer, not a vector tile source")]
    IsGeoJson { at: String },
}

impl VectorError {
    /// A short name for the kind of failure, so many failed tiles make one message.
    pub fn kind(&self) -> String {
        match self {
            VectorError::Http(e) => crate::tiles::fetch::TileError::Http(e.clone()).kind(),
            VectorError::Tile { message, .. } => {
                message.split(':').next().unwrap_or(message).chars().take(60).collect()
            }
            other => other.to_string().chars().take(60).collect(),
        }
    }
}

/// A PMTiles archive's bytes: a local file (read with positioned reads, not memory-mapped, so a
/// file replaced while open gives an error rather than a crash) or a URL read by range requests
/// through the app's one HTTP client.
pub enum RangeBackend {
    /// An archive already in memory (the fuzz target, tests).
    Memory(Bytes),
    File {
        file: std::fs::File,
        path: PathBuf,
    },
    /// `prefix`: the archive's first bytes, already fetched to recognise it; the header, root
    /// directory and usually the metadata lie in them, so opening costs one request.
    Http {
        client: reqwest::Client,
        url: String,
        timeouts: Timeouts,
        prefix: Bytes,
    },
}

impl AsyncBackend for RangeBackend {
    async fn read(&self, offset: u64, length: usize) -> Result<BackendResponse, PmtError> {
        match self {
            RangeBackend::Memory(b) => {
                let start = (offset as usize).min(b.len());
                Ok(BackendResponse::new(b.slice(start..start.saturating_add(length).min(b.len()))))
            }
            RangeBackend::File { file, .. } => {
                use std::os::unix::fs::FileExt;
                let len = file.metadata().map_err(PmtError::Reading)?.len();
                let n = (length as u64).min(len.saturating_sub(offset)) as usize;
                let mut buf = vec![0u8; n];
                file.read_exact_at(&mut buf, offset).map_err(PmtError::Reading)?;
                Ok(BackendResponse::new(Bytes::from(buf)))
            }
            RangeBackend::Http { prefix, .. }
                if offset.checked_add(length as u64).is_some_and(|end| end <= prefix.len() as u64) =>
            {
                Ok(BackendResponse::new(prefix.slice(offset as usize..offset as usize + length)))
            }
            // The prefix is all there is: the file is shorter than it.
            RangeBackend::Http { prefix, .. } if offset == 0 && prefix.len() < 16384 => {
                Ok(BackendResponse::new(prefix.slice(..length.min(prefix.len()))))
            }
            RangeBackend::Http { client, url, timeouts, .. } => {
                let b = http::get_range(client, url, offset, length as u64, *timeouts)
                    .await
                    .map_err(|e| PmtError::Reading(std::io::Error::other(e)))?;
                Ok(BackendResponse::new(Bytes::from(b)))
            }
        }
    }
}

/// A PMTiles error in words; an HTTP failure keeps its own message (which names the URL).
fn pmtiles_error(at: &str, e: PmtError) -> VectorError {
    if let PmtError::Reading(io) = &e
        && let Some(h) = io.get_ref().and_then(|i| i.downcast_ref::<HttpError>())
    {
        return VectorError::Http(h.clone());
    }
    let message = match e {
        PmtError::InvalidMagicNumber => "wrong magic number (not a PMTiles file)".to_string(),
        PmtError::UnsupportedPmTilesVersion => "unsupported PMTiles version (only v3 is read)".into(),
        PmtError::InvalidEntry => "a directory entry points outside the archive".into(),
        PmtError::InvalidHeader => "damaged header".into(),
        PmtError::UnexpectedNumberOfBytesReturned(want, got) => {
            format!("the archive ends early ({got} of {want} bytes at the end of a read)")
        }
        other => other.to_string(),
    };
    VectorError::Pmtiles { at: at.into(), message }
}

/// An opened source, ready to give tiles.
pub enum Opened {
    Xyz { templates: Vec<String>, tms: bool, client: reqwest::Client, timeouts: Timeouts },
    Pmtiles { reader: Box<AsyncPmTilesReader<RangeBackend, HashMapCache>>, at: String },
    Mbtiles(Arc<Mbtiles>),
}

/// How long one tile request may take, all in.
pub const TILE_TIMEOUT: Duration = Duration::from_secs(20);

fn timeouts() -> Timeouts {
    Timeouts { connect: Duration::from_secs(5), total: Some(TILE_TIMEOUT), stall: None }
}

fn client() -> Result<reqwest::Client, VectorError> {
    http::client(timeouts()).map_err(|message| VectorError::Io { at: "HTTP client".into(), message })
}

/// Opens a source: fetches its TileJSON or PMTiles header and root directory, or reads the
/// MBTiles metadata. A URL that is neither TileJSON nor PMTiles is an error naming it.
pub async fn open(spec: &VectorSpec) -> Result<(Opened, SourceInfo), VectorError> {
    match spec {
        VectorSpec::Xyz(t) => {
            let t = t.trim().to_string();
            let info = SourceInfo {
                kind: SourceKind::Xyz,
                location: t.clone(),
                name: host_name(&t),
                min_zoom: 0,
                max_zoom: 14,
                bounds: None,
                attribution: None,
                layers: vec![],
                template: Some(t.replace("{-y}", "{y}")),
            };
            let tms = t.contains("{-y}");
            let templates = vec![t.replace("{-y}", "{y}")];
            Ok((Opened::Xyz { templates, tms, client: client()?, timeouts: timeouts() }, info))
        }
        VectorSpec::Url(u) => {
            let client = client()?;
            // A download that is TileJSON is small; a PMTiles archive answering without ranges
            // is cut off here rather than downloaded whole.
            // One small range request tells PMTiles from TileJSON without downloading either.
            let named_pmtiles = last_extension(u).as_deref() == Some("pmtiles");
            let head = match http::get_range(&client, u, 0, 16384, timeouts()).await {
                Ok(b) => b,
                // A TileJSON endpoint that ignores Range answered, just not with a part; an
                // archive must be read by ranges or not at all.
                Err(HttpError::NoRanges { .. }) if !named_pmtiles => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            if head.starts_with(PMTILES_MAGIC) {
                let backend =
                    RangeBackend::Http { client, url: u.clone(), timeouts: timeouts(), prefix: Bytes::from(head) };
                return open_pmtiles(backend, u, SourceKind::PmtilesHttp).await;
            }
            let expect = http::Expect {
                accept: "application/json",
                content_type_ok: |c| c.contains("json") || c.starts_with("text/plain"),
                what: "TileJSON",
                max_bytes: 4 << 20,
            };
            let body = http::download(&client, u, expect, timeouts(), None).await?;
            if body.starts_with(PMTILES_MAGIC) {
                return Err(HttpError::NoRanges { url: u.clone() }.into());
            }
            let tj = match TileJson::parse(&body, u) {
                Ok(tj) => tj,
                Err(_) if looks_like_geojson(&body) => return Err(VectorError::IsGeoJson { at: u.clone() }),
                Err(e) => return Err(e.into()),
            };
            let tms = tj.is_tms();
            let info = SourceInfo {
                kind: SourceKind::TileJson,
                location: u.clone(),
                name: tj.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| last_segment(u)),
                min_zoom: tj.minzoom.unwrap_or(0),
                max_zoom: tj.maxzoom.unwrap_or(14).min(24),
                bounds: tj.bounds,
                attribution: tj.attribution.clone(),
                layers: tj.vector_layers.clone(),
                template: tj.tiles.first().cloned(),
            };
            Ok((Opened::Xyz { templates: tj.tiles, tms, client, timeouts: timeouts() }, info))
        }
        VectorSpec::File(p) => {
            let at = p.display().to_string();
            let is_pm = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("pmtiles")) || is_pmtiles_file(p);
            if is_pm {
                let file =
                    std::fs::File::open(p).map_err(|e| VectorError::Io { at: at.clone(), message: e.to_string() })?;
                let backend = RangeBackend::File { file, path: p.clone() };
                return open_pmtiles(backend, &at, SourceKind::PmtilesFile).await;
            }
            let m = Mbtiles::open(p)?;
            let info = SourceInfo {
                kind: SourceKind::Mbtiles,
                location: at,
                name: m.meta.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| file_stem(p)),
                min_zoom: m.meta.minzoom.unwrap_or(0),
                max_zoom: m.meta.maxzoom.unwrap_or(14).min(24),
                bounds: m.meta.bounds,
                attribution: m.meta.attribution.clone(),
                layers: m.meta.vector_layers.clone(),
                template: None,
            };
            Ok((Opened::Mbtiles(Arc::new(m)), info))
        }
    }
}

async fn open_pmtiles(backend: RangeBackend, at: &str, kind: SourceKind) -> Result<(Opened, SourceInfo), VectorError> {
    let reader = AsyncPmTilesReader::try_from_cached_source(backend, HashMapCache::default())
        .await
        .map_err(|e| pmtiles_error(at, e))?;
    let h = reader.get_header();
    if h.tile_type != TileType::Mvt {
        return Err(VectorError::NotVector { at: at.into(), what: format!("{:?}", h.tile_type) });
    }
    if !matches!(h.tile_compression, Compression::None | Compression::Gzip | Compression::Unknown) {
        return Err(VectorError::Pmtiles {
            at: at.into(),
            message: format!("tiles are {:?}-compressed; only gzip or none is read", h.tile_compression),
        });
    }
    let bounds = [h.min_longitude, h.min_latitude, h.max_longitude, h.max_latitude];
    let bounds =
        (bounds.iter().all(|v| v.is_finite()) && bounds[0] < bounds[2] && bounds[1] < bounds[3]).then_some(bounds);
    let (min_zoom, max_zoom) = (h.min_zoom, h.max_zoom.max(h.min_zoom));
    #[derive(serde::Deserialize, Default)]
    struct Meta {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        attribution: Option<String>,
        #[serde(default)]
        vector_layers: Vec<VectorLayer>,
    }
    // Metadata is optional; a bad one costs the layer list, not the archive.
    let meta: Meta = reader.get_metadata().await.ok().and_then(|m| serde_json::from_str(&m).ok()).unwrap_or_default();
    let name = meta.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| last_segment(at));
    let info = SourceInfo {
        kind,
        location: at.into(),
        name,
        min_zoom,
        max_zoom,
        bounds,
        attribution: meta.attribution,
        layers: meta.vector_layers,
        template: None,
    };
    Ok((Opened::Pmtiles { reader: Box::new(reader), at: at.into() }, info))
}

/// The extension of a URL's last path segment, lower-cased.
fn last_extension(u: &str) -> Option<String> {
    let p = u.split(['?', '#']).next().unwrap_or(u);
    let seg = p.rsplit('/').next()?;
    seg.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())
}

/// A GeoJSON document rather than TileJSON: its top-level type is a feature or collection.
fn looks_like_geojson(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(rename = "type")]
        kind: Option<String>,
    }
    serde_json::from_slice::<T>(body)
        .ok()
        .and_then(|t| t.kind)
        .is_some_and(|k| matches!(k.as_str(), "FeatureCollection" | "Feature"))
}

/// Opens a source on a runtime of its own and says what it is: for the command line (export).
pub fn describe_blocking(spec: &VectorSpec) -> Result<SourceInfo, VectorError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| VectorError::Io { at: spec.location(), message: e.to_string() })?;
    rt.block_on(async { open(spec).await.map(|(_, info)| info) })
}

/// Opens an archive held in memory and reads `tiles` from it, on a runtime of its own: what the
/// PMTiles fuzz target drives (header, directories, leaf directories, tile entries).
pub fn read_pmtiles_in_memory(bytes: Vec<u8>, tiles: &[TileId]) -> Result<Vec<Option<Vec<u8>>>, VectorError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| VectorError::Io { at: "memory".into(), message: e.to_string() })?;
    rt.block_on(async {
        let (opened, _) =
            open_pmtiles(RangeBackend::Memory(Bytes::from(bytes)), "memory", SourceKind::PmtilesFile).await?;
        let mut out = Vec::new();
        for &t in tiles {
            out.push(opened.tile(t).await?);
        }
        Ok(out)
    })
}

fn last_segment(u: &str) -> String {
    let p = u.split(['?', '#']).next().unwrap_or(u).trim_end_matches('/');
    let seg = p.rsplit(['/', '\\']).next().unwrap_or(p);
    seg.rsplit_once('.').map_or(seg, |(s, _)| s).to_string()
}

fn file_stem(p: &Path) -> String {
    p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

fn host_name(u: &str) -> String {
    u.split("://").nth(1).and_then(|r| r.split('/').next()).unwrap_or(u).to_string()
}

impl Opened {
    /// A tile's bytes, decompressed; `None` where the source has no tile (an empty tile, not an
    /// error: sources leave out tiles with nothing in them).
    pub async fn tile(&self, t: TileId) -> Result<Option<Vec<u8>>, VectorError> {
        let raw = match self {
            Opened::Xyz { templates, tms, client, timeouts } => {
                let template = &templates[((t.x + t.y) as usize) % templates.len().max(1)];
                let y = if *tms { (1u32 << t.z).saturating_sub(1).saturating_sub(t.y) } else { t.y };
                let url = template
                    .replace("{z}", &t.z.to_string())
                    .replace("{x}", &t.x.to_string())
                    .replace("{y}", &y.to_string());
                let expect = http::Expect {
                    accept: "application/vnd.mapbox-vector-tile, application/x-protobuf, */*",
                    content_type_ok: |c| !c.starts_with("text/html"),
                    what: "a vector tile",
                    max_bytes: MAX_TILE_BYTES as u64,
                };
                match http::download(client, &url, expect, *timeouts, None).await {
                    Ok(b) => Some(b),
                    // Martin and most servers answer 204 or 404 for an empty tile.
                    Err(HttpError::Status { status: 404 | 204, .. }) => None,
                    Err(e) => return Err(e.into()),
                }
            }
            Opened::Pmtiles { reader, at } => {
                let c = TileCoord::new(t.z, t.x, t.y).map_err(|e| pmtiles_error(at, e))?;
                reader.get_tile(c).await.map_err(|e| pmtiles_error(at, e))?.map(|b| b.to_vec())
            }
            Opened::Mbtiles(m) => m.tile(t.z, t.x, t.y)?,
        };
        let Some(raw) = raw else { return Ok(None) };
        if raw.is_empty() {
            return Ok(None);
        }
        let at = self.location();
        if raw.len() > MAX_TILE_BYTES {
            return Err(VectorError::Tile {
                at,
                tile: t.to_string(),
                message: format!("{} bytes is over the {} byte limit", raw.len(), MAX_TILE_BYTES),
            });
        }
        inflate(&raw, MAX_TILE_INFLATED).map(Some).map_err(|message| VectorError::Tile {
            at,
            tile: t.to_string(),
            message,
        })
    }

    pub fn location(&self) -> String {
        match self {
            Opened::Xyz { templates, .. } => templates.first().cloned().unwrap_or_default(),
            Opened::Pmtiles { at, .. } => at.clone(),
            Opened::Mbtiles(m) => m.path.display().to_string(),
        }
    }
}

/// Gzip-compressed bytes inflated within `limit`; anything else returned as it is (the gzip magic
/// cannot start a vector tile, whose first byte is a field key).
pub fn inflate(bytes: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    use std::io::Read;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::with_capacity(bytes.len() * 4);
    let mut d = flate2::read::MultiGzDecoder::new(bytes).take(limit as u64 + 1);
    d.read_to_end(&mut out).map_err(|e| format!("damaged gzip data: {e}"))?;
    if out.len() > limit {
        return Err(format!("over the {limit} byte limit once decompressed"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_recognised_by_their_names() {
        let r = VectorSpec::recognise;
        assert_eq!(r("http://h/t/{z}/{x}/{y}.pbf"), Some(VectorSpec::Xyz("http://h/t/{z}/{x}/{y}.pbf".into())));
        assert_eq!(r("http://127.0.0.1:3000/parcels"), Some(VectorSpec::Url("http://127.0.0.1:3000/parcels".into())));
        assert_eq!(r("https://h/a.pmtiles?x=1"), Some(VectorSpec::Url("https://h/a.pmtiles?x=1".into())));
        assert_eq!(r("https://h/layers/ports.geojson"), None);
        assert_eq!(r("/data/city.mbtiles"), Some(VectorSpec::File("/data/city.mbtiles".into())));
        assert_eq!(r("/data/ports.geojson"), None);
    }

    #[test]
    fn gzip_is_inflated_within_its_limit() {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&[7u8; 10_000]).unwrap();
        let gz = e.finish().unwrap();
        assert_eq!(inflate(&gz, 10_000).unwrap().len(), 10_000);
        assert!(inflate(&gz, 9_999).unwrap_err().contains("limit"));
        assert!(inflate(&gz[..gz.len() / 2], 10_000).unwrap_err().contains("damaged"));
        assert_eq!(inflate(b"\x1a\x00", 10).unwrap(), b"\x1a\x00");
    }
}
