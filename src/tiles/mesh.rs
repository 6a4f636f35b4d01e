//! A tile's mesh in the local frame: one quad for WGS84 tiles, a grid moved vertex by vertex for
//! GCJ-02 and BD-09 tiles.

use super::id::HALF_WORLD;
use super::{TileId, TileSource};
use crate::proj::{Crs, web_mercator_inverse};

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
