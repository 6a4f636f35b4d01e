//! Coordinate systems: WGS84, the GCJ-02 and BD-09 offsets of Chinese web maps, Web Mercator and a local metric frame.
//!
//! GCJ-02 is WGS84 plus a deliberately obfuscated, smoothly varying offset (about 450-550 m around
//! Suzhou). The forward formula is public; the inverse has no closed form, so it is solved by
//! fixed-point iteration, which converges to well under a millimetre in a few steps because the
//! offset changes slowly with position.

use std::fmt;
use std::str::FromStr;

/// Semi-major axis of the Krasovsky 1940 ellipsoid, which GCJ-02 is defined on.
const KRASOVSKY_A: f64 = 6_378_245.0;
/// First eccentricity squared of the Krasovsky 1940 ellipsoid.
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;
/// WGS84 semi-major axis, used for Web Mercator and local metres.
pub const EARTH_RADIUS_M: f64 = 6_378_137.0;

/// A coordinate reference system a source file can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Crs {
    /// WGS84 lon/lat (EPSG:4326); CGCS2000 (EPSG:4490) is treated as equal at map scale.
    Wgs84,
    /// The GCJ-02 offset datum used by Amap, Tencent and Google China.
    Gcj02,
    /// Baidu's BD-09, a further offset of GCJ-02.
    Bd09,
}

impl Crs {
    /// Converts one lon/lat pair from this CRS to WGS84.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 => (lon, lat),
            Crs::Gcj02 => gcj02_to_wgs84(lon, lat),
            Crs::Bd09 => {
                let (glon, glat) = bd09_to_gcj02(lon, lat);
                gcj02_to_wgs84(glon, glat)
            }
        }
    }

    /// The datum's usual written name, for people (Display gives the command-line spelling).
    pub fn title(self) -> &'static str {
        match self {
            Crs::Wgs84 => "WGS84",
            Crs::Gcj02 => "GCJ-02",
            Crs::Bd09 => "BD-09",
        }
    }

    /// Converts one WGS84 lon/lat pair into this CRS.
    pub fn from_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 => (lon, lat),
            Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
            Crs::Bd09 => {
                let (glon, glat) = wgs84_to_gcj02(lon, lat);
                gcj02_to_bd09(glon, glat)
            }
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Crs::Wgs84 => "wgs84",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
        })
    }
}

/// The name given for a CRS is not one port-atlas can convert.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown coordinate system {0:?}: expected wgs84 (EPSG:4326), cgcs2000 (EPSG:4490), gcj02 or bd09")]
pub struct UnknownCrs(pub String);

impl FromStr for Crs {
    type Err = UnknownCrs;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', '_', ' '], "");
        match norm.as_str() {
            "wgs84"
            | "epsg:4326"
            | "4326"
            | "crs84"
            | "urn:ogc:def:crs:ogc:1.3:crs84"
            | "cgcs2000"
            | "epsg:4490"
            | "4490" => Ok(Crs::Wgs84),
            "gcj02" | "gcj" | "amap" | "mars" => Ok(Crs::Gcj02),
            "bd09" | "baidu" => Ok(Crs::Bd09),
            _ => Err(UnknownCrs(s.to_string())),
        }
    }
}

/// GCJ-02 only applies inside mainland China; outside, the providers leave WGS84 untouched.
pub fn in_china(lon: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lon(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// The GCJ-02 offset (degrees) that is added to a WGS84 position.
fn gcj_delta(lon: f64, lat: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    let dlat = transform_lat(lon - 105.0, lat - 35.0);
    let dlon = transform_lon(lon - 105.0, lat - 35.0);
    let radlat = lat / 180.0 * PI;
    let magic = 1.0 - KRASOVSKY_EE * radlat.sin() * radlat.sin();
    let sqrtmagic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrtmagic) * PI);
    let dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrtmagic * radlat.cos() * PI);
    (dlon, dlat)
}

/// WGS84 to GCJ-02 (the published forward formula).
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    let (dlon, dlat) = gcj_delta(lon, lat);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 to WGS84 by fixed-point iteration on the forward formula.
///
/// Each step corrects the guess by the residual of the forward transform; the offset's gradient
/// is tiny (~1e-5 per degree), so the error shrinks by orders of magnitude per step.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    let (mut wlon, mut wlat) = (lon, lat);
    for _ in 0..30 {
        let (glon, glat) = wgs84_to_gcj02(wlon, wlat);
        let (elon, elat) = (glon - lon, glat - lat);
        wlon -= elon;
        wlat -= elat;
        if elon.abs() < 1e-12 && elat.abs() < 1e-12 {
            break;
        }
    }
    (wlon, wlat)
}

const BD_X_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;

/// GCJ-02 to Baidu BD-09.
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * BD_X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * BD_X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// Baidu BD-09 to GCJ-02.
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let x = lon - 0.0065;
    let y = lat - 0.006;
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * BD_X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * BD_X_PI).cos();
    (z * theta.cos(), z * theta.sin())
}

/// Web Mercator (EPSG:3857) metres from WGS84 lon/lat.
pub fn web_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-85.051_128_78, 85.051_128_78);
    let x = EARTH_RADIUS_M * lon.to_radians();
    let y = EARTH_RADIUS_M * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0).tan().ln();
    (x, y)
}

/// WGS84 lon/lat from Web Mercator metres.
pub fn web_mercator_inverse(x: f64, y: f64) -> (f64, f64) {
    let lon = (x / EARTH_RADIUS_M).to_degrees();
    let lat = (2.0 * (y / EARTH_RADIUS_M).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees();
    (lon, lat)
}

/// Great-circle distance in metres (haversine on the WGS84 mean radius).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lat2) = (a.1.to_radians(), b.1.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.0 - a.0).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

/// A local map frame: Web Mercator metres relative to an origin, so that the renderer's f32
/// coordinates keep centimetre precision across the whole region instead of losing it to the
/// 13-million-metre magnitudes of raw Mercator.
///
/// Distances in this frame are Mercator metres (stretched by 1/cos(lat), about 1.17 at Taicang);
/// [`LocalFrame::scale_at`] gives the factor to turn them into ground metres.
///
/// ```
/// use port_atlas::proj::LocalFrame;
/// let frame = LocalFrame::default(); // origin at Taicang
/// assert_eq!(frame.project(121.174, 31.564), (0.0, 0.0));
/// // Shanghai's Hongqiao station, some 70 km to the south-east, in f32-friendly metres.
/// let (x, y) = frame.project(121.3161, 31.1963);
/// assert!((15_000.0..20_000.0).contains(&x) && (-50_000.0..-45_000.0).contains(&y));
/// let (lon, lat) = frame.unproject(x, y);
/// assert!((lon - 121.3161).abs() < 1e-9 && (lat - 31.1963).abs() < 1e-9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalFrame {
    origin: (f64, f64),
    origin_merc: (f64, f64),
}

impl LocalFrame {
    /// The default origin: Taicang's county marker, the centre of the report's geography.
    pub const TAICANG: (f64, f64) = (121.174, 31.564);

    pub fn new(lon: f64, lat: f64) -> Self {
        Self { origin: (lon, lat), origin_merc: web_mercator(lon, lat) }
    }

    pub fn origin(&self) -> (f64, f64) {
        self.origin
    }

    /// Local metres (east, north) of a WGS84 position.
    pub fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (x, y) = web_mercator(lon, lat);
        (x - self.origin_merc.0, y - self.origin_merc.1)
    }

    /// Local metres of a Web Mercator position (a vector tile's corner, say).
    pub fn from_mercator(&self, x: f64, y: f64) -> (f64, f64) {
        (x - self.origin_merc.0, y - self.origin_merc.1)
    }

    /// WGS84 lon/lat of a local position.
    pub fn unproject(&self, x: f64, y: f64) -> (f64, f64) {
        web_mercator_inverse(x + self.origin_merc.0, y + self.origin_merc.1)
    }

    /// Ground metres per local (Mercator) metre at a latitude.
    pub fn scale_at(lat: f64) -> f64 {
        lat.to_radians().cos()
    }
}

impl Default for LocalFrame {
    fn default() -> Self {
        Self::new(Self::TAICANG.0, Self::TAICANG.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcj02_forward_matches_published_reference_points() {
        // Reference pairs from the widely used eviltransform / coordtransform test suites.
        let (lon, lat) = wgs84_to_gcj02(116.404, 39.915);
        assert!((lon - 116.410_244_499_169_38).abs() < 1e-9, "{lon}");
        assert!((lat - 39.916_404_281_501_64).abs() < 1e-9, "{lat}");
    }

    #[test]
    fn gcj02_offset_around_taicang_is_several_hundred_metres() {
        // Taicang port centre (WGS84) from SOURCES.md.
        let wgs = (121.2333, 31.6167);
        let gcj = wgs84_to_gcj02(wgs.0, wgs.1);
        let d = distance_m(wgs, gcj);
        assert!((400.0..600.0).contains(&d), "offset {d} m");
        // About 0.0045 degrees of longitude, as the measured cnmaps offset in SOURCES.md says.
        let dlon = (gcj.0 - wgs.0).abs();
        assert!((0.0035..0.0055).contains(&dlon), "dlon {dlon}");
    }

    #[test]
    fn gcj02_round_trip_is_sub_millimetre_on_real_places() {
        let places = [
            (121.2333, 31.6167),     // Taicang port area
            (120.40, 31.967),        // Zhangjiagang port area
            (120.859222, 31.799391), // Port of Suzhou
            (121.308, 31.1958),      // Hongqiao station
            (120.6917, 31.3136),     // Jinji Lake
        ];
        for (lon, lat) in places {
            let (glon, glat) = wgs84_to_gcj02(lon, lat);
            let (blon, blat) = gcj02_to_wgs84(glon, glat);
            let err = distance_m((lon, lat), (blon, blat));
            assert!(err < 1e-3, "{lon},{lat}: round trip error {err} m");
        }
    }

    #[test]
    fn bd09_round_trip() {
        let (lon, lat) = (121.174, 31.564);
        let (b0, b1) = Crs::Bd09.from_wgs84(lon, lat);
        assert!(distance_m((lon, lat), (b0, b1)) > 800.0, "BD-09 should be ~1 km off");
        let (w0, w1) = Crs::Bd09.to_wgs84(b0, b1);
        assert!(distance_m((lon, lat), (w0, w1)) < 0.5);
    }

    #[test]
    fn outside_china_is_untouched() {
        assert_eq!(wgs84_to_gcj02(2.35, 48.85), (2.35, 48.85));
        assert_eq!(gcj02_to_wgs84(2.35, 48.85), (2.35, 48.85));
    }

    #[test]
    fn crs_names_parse_and_unknown_is_an_error() {
        assert_eq!("GCJ-02".parse::<Crs>(), Ok(Crs::Gcj02));
        assert_eq!("EPSG:4490".parse::<Crs>(), Ok(Crs::Wgs84));
        assert_eq!("bd09".parse::<Crs>(), Ok(Crs::Bd09));
        let err = "EPSG:2385".parse::<Crs>().unwrap_err();
        assert!(err.to_string().contains("EPSG:2385"));
    }

    #[test]
    fn local_frame_round_trips_and_scales() {
        let f = LocalFrame::default();
        assert_eq!(f.project(121.174, 31.564), (0.0, 0.0));
        let (x, y) = f.project(121.2333, 31.6167);
        let (lon, lat) = f.unproject(x, y);
        assert!((lon - 121.2333).abs() < 1e-9 && (lat - 31.6167).abs() < 1e-9);
        let ground = (x * x + y * y).sqrt() * LocalFrame::scale_at(31.59);
        let d = distance_m((121.174, 31.564), (121.2333, 31.6167));
        assert!((ground - d).abs() / d < 0.01, "{ground} vs {d}");
    }
}
