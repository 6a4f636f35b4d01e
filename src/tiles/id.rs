//! XYZ tile numbers and the arithmetic on them: which zoom suits a scale, which tiles cover a
//! view, where a tile lies in lon/lat.

use crate::proj::web_mercator_inverse;

/// One XYZ tile.
///
/// ```
/// use port_atlas::tiles::{TileId, covering, zoom_for};
/// // The zoom-12 tile holding Taicang port, and its lon/lat bounds.
/// let t = TileId::containing(121.23, 31.62, 12);
/// assert_eq!((t.x, t.y), (3427, 1668));
/// let [w, s, e, n] = t.bounds();
/// assert!(w <= 121.23 && 121.23 < e && s <= 31.62 && 31.62 < n);
/// assert_eq!(t.quadkey().len(), 12);
/// // About 38 m per pixel is zoom 12; a view's tiles come nearest the centre first.
/// assert_eq!(zoom_for(38.2, 19), 12);
/// let tiles = covering([121.1, 31.5, 121.4, 31.7], 12, 100);
/// assert!(tiles.contains(&t));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl std::fmt::Display for TileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// Half the Web Mercator world width in metres.
pub(crate) const HALF_WORLD: f64 = std::f64::consts::PI * crate::proj::EARTH_RADIUS_M;

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

    /// The tile's north-west corner in Web Mercator metres, and its side: with the app's local
    /// frame (Web Mercator around an origin) a tile maps onto local metres by a shift alone.
    pub fn mercator_nw(&self) -> (f64, f64, f64) {
        let size = 2.0 * HALF_WORLD / (1u64 << self.z) as f64;
        (-HALF_WORLD + self.x as f64 * size, HALF_WORLD - self.y as f64 * size, size)
    }

    /// The tile one zoom out that contains this one.
    pub fn parent(&self) -> Option<TileId> {
        (self.z > 0).then(|| TileId { z: self.z - 1, x: self.x / 2, y: self.y / 2 })
    }

    /// The ancestor at zoom `z` (itself when `z` is its own zoom or deeper).
    pub fn ancestor(&self, z: u8) -> TileId {
        if z >= self.z {
            return *self;
        }
        let d = self.z - z;
        TileId { z, x: self.x >> d, y: self.y >> d }
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
