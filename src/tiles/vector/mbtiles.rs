//! MBTiles 1.3 (SQLite): the `metadata` table and `tiles` rows in TMS order. Opened read-only, so a
//! planner's archive is never touched.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::tilejson::VectorLayer;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MbtilesError {
    #[error("{path}: cannot open as MBTiles: {message}")]
    Open { path: PathBuf, message: String },
    #[error("{path}: MBTiles has no metadata table (not an MBTiles file?)")]
    NoMetadata { path: PathBuf },
    #[error("{path}: MBTiles holds {format:?} tiles, not vector tiles (pbf)")]
    NotVector { path: PathBuf, format: String },
    #[error("{path}: reading tile {z}/{x}/{y}: {message}")]
    Tile { path: PathBuf, z: u8, x: u32, y: u32, message: String },
}

/// What the `metadata` table says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MbtilesMeta {
    pub name: Option<String>,
    pub format: String,
    pub minzoom: Option<u8>,
    pub maxzoom: Option<u8>,
    pub bounds: Option<[f64; 4]>,
    pub attribution: Option<String>,
    pub vector_layers: Vec<VectorLayer>,
}

pub struct Mbtiles {
    pub path: PathBuf,
    pub meta: MbtilesMeta,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Mbtiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mbtiles").field("path", &self.path).field("meta", &self.meta).finish()
    }
}

impl Mbtiles {
    pub fn open(path: &Path) -> Result<Mbtiles, MbtilesError> {
        let open_err = |e: rusqlite::Error| MbtilesError::Open { path: path.into(), message: e.to_string() };
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(open_err)?;
        let has_meta: bool = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'metadata'", [], |r| r.get::<_, i64>(0))
            .map_err(open_err)?
            > 0;
        if !has_meta {
            return Err(MbtilesError::NoMetadata { path: path.into() });
        }
        let mut meta = MbtilesMeta::default();
        let mut stmt = conn.prepare("SELECT name, value FROM metadata").map_err(open_err)?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(open_err)?;
        for row in rows {
            let (k, v) = row.map_err(open_err)?;
            match k.as_str() {
                "name" => meta.name = Some(v),
                "format" => meta.format = v,
                "minzoom" => meta.minzoom = v.trim().parse().ok(),
                "maxzoom" => meta.maxzoom = v.trim().parse().ok(),
                "attribution" => meta.attribution = Some(v),
                "bounds" => {
                    let b: Vec<f64> = v.split(',').filter_map(|s| s.trim().parse().ok()).collect();
                    if let [w, s, e, n] = b[..]
                        && w < e
                        && s < n
                    {
                        meta.bounds = Some([w, s, e, n]);
                    }
                }
                // The spec's vector_layers live in a JSON string.
                "json" => {
                    #[derive(serde::Deserialize)]
                    struct J {
                        #[serde(default)]
                        vector_layers: Vec<VectorLayer>,
                    }
                    if let Ok(j) = serde_json::from_str::<J>(&v) {
                        meta.vector_layers = j.vector_layers;
                    }
                }
                _ => {}
            }
        }
        drop(stmt);
        // Older writers leave the format out; a vector archive then still says so in `json`.
        if meta.format.is_empty() && !meta.vector_layers.is_empty() {
            meta.format = "pbf".into();
        }
        if !matches!(meta.format.to_ascii_lowercase().as_str(), "pbf" | "mvt") {
            return Err(MbtilesError::NotVector { path: path.into(), format: meta.format });
        }
        Ok(Mbtiles { path: path.into(), meta, conn: Mutex::new(conn) })
    }

    /// A tile's stored bytes (often gzip), by XYZ row; `None` when the archive has no such tile.
    pub fn tile(&self, z: u8, x: u32, y: u32) -> Result<Option<Vec<u8>>, MbtilesError> {
        let tms_y = (1u32 << z).saturating_sub(1).saturating_sub(y);
        let err = |message: String| MbtilesError::Tile { path: self.path.clone(), z, x, y, message };
        let conn = self.conn.lock().map_err(|_| err("reader poisoned".into()))?;
        conn.query_row(
            "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
            (z, x, tms_y),
            |r| r.get::<_, Vec<u8>>(0),
        )
        .optional()
        .map_err(|e| err(e.to_string()))
    }
}
