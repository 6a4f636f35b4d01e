//! Projected coordinate systems planners' files come in, by EPSG code: CGCS2000 geographic and
//! every CGCS2000 Gauss-Krüger zone (3° and 6°, with and without the zone number in front of
//! the easting), UTM 50N/51N on WGS84, and Web Mercator. Transverse Mercator is proj4rs's, not
//! hand-written; the tests compare it with pyproj (fixtures in `tests/fixtures/crs/`).
//!
//! CGCS2000 and WGS84 differ by centimetres at map scale (the frames differ, the ellipsoids by
//! 0.1 mm), so CGCS2000 coordinates are taken as WGS84 without a datum shift, as GIS tools do.
//!
//! ```
//! use port_atlas::spatial::crs::ProjectedCrs;
//! // EPSG:4549, CGCS2000 3-degree Gauss-Krüger, central meridian 120°E (Suzhou's zone).
//! let gk = ProjectedCrs::from_epsg(4549).unwrap();
//! let (e, n) = gk.from_wgs84(121.174, 31.564).unwrap();
//! let (lon, lat) = gk.to_wgs84(e, n).unwrap();
//! assert!((lon - 121.174).abs() < 1e-9 && (lat - 31.564).abs() < 1e-9);
//! assert!((611_000.0..613_000.0).contains(&e), "about 111 km east of the central meridian: {e}");
//! ```

use proj4rs::Proj;
use proj4rs::adaptors::transform_vertex_2d;

/// A coordinate system known by its EPSG code.
#[derive(Debug, Clone)]
pub struct ProjectedCrs {
    epsg: u32,
    name: String,
    proj: Proj,
    geographic: Proj,
    /// Whether its coordinates are degrees (converted to and from proj4rs's radians).
    degrees: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CrsError {
    #[error(
        "EPSG:{0} is not a coordinate system port-atlas knows (CGCS2000 and its Gauss-Krüger zones, WGS84, UTM 50N/51N, Web Mercator)"
    )]
    Unknown(u32),
    #[error("EPSG:{epsg}: {message}")]
    Projection { epsg: u32, message: String },
}

/// The proj string and name of a supported EPSG code.
fn definition(epsg: u32) -> Option<(String, String)> {
    let gk = |lon_0: u32, x_0: u64| {
        format!("+proj=tmerc +lat_0=0 +lon_0={lon_0} +k=1 +x_0={x_0} +y_0=0 +ellps=GRS80 +units=m +no_defs")
    };
    Some(match epsg {
        4326 => ("+proj=longlat +datum=WGS84 +no_defs".into(), "WGS 84".into()),
        4490 => ("+proj=longlat +ellps=GRS80 +no_defs".into(), "CGCS2000".into()),
        3857 => (
            "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +no_defs"
                .into(),
            "WGS 84 / Pseudo-Mercator".into(),
        ),
        32650 | 32651 => {
            let zone = epsg - 32600;
            (format!("+proj=utm +zone={zone} +datum=WGS84 +units=m +no_defs"), format!("WGS 84 / UTM zone {zone}N"))
        }
        // 6-degree zones 13-23, zone number in front of the easting.
        4491..=4501 => {
            let zone = epsg - 4491 + 13;
            (gk(zone * 6 - 3, zone as u64 * 1_000_000 + 500_000), format!("CGCS2000 / Gauss-Kruger zone {zone}"))
        }
        // 6-degree zones by central meridian 75°E-135°E.
        4502..=4512 => {
            let cm = 75 + (epsg - 4502) * 6;
            (gk(cm, 500_000), format!("CGCS2000 / Gauss-Kruger CM {cm}E"))
        }
        // 3-degree zones 25-45, zone number in front of the easting.
        4513..=4533 => {
            let zone = epsg - 4513 + 25;
            (gk(zone * 3, zone as u64 * 1_000_000 + 500_000), format!("CGCS2000 / 3-degree Gauss-Kruger zone {zone}"))
        }
        // 3-degree zones by central meridian 75°E-135°E.
        4534..=4554 => {
            let cm = 75 + (epsg - 4534) * 3;
            (gk(cm, 500_000), format!("CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"))
        }
        _ => return None,
    })
}

impl ProjectedCrs {
    pub fn from_epsg(epsg: u32) -> Result<Self, CrsError> {
        let (def, name) = definition(epsg).ok_or(CrsError::Unknown(epsg))?;
        let err = |e: proj4rs::errors::Error| CrsError::Projection { epsg, message: e.to_string() };
        let proj = Proj::from_proj_string(&def).map_err(err)?;
        let geographic = Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs").map_err(err)?;
        let degrees = proj.is_latlong();
        Ok(ProjectedCrs { epsg, name, proj, geographic, degrees })
    }

    pub fn epsg(&self) -> u32 {
        self.epsg
    }

    /// The EPSG name, e.g. "CGCS2000 / 3-degree Gauss-Kruger CM 120E".
    pub fn name(&self) -> &str {
        &self.name
    }

    /// WGS84 lon/lat (degrees) of a position in this system.
    pub fn to_wgs84(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        let p = if self.degrees { (x.to_radians(), y.to_radians()) } else { (x, y) };
        let (lon, lat) = transform_vertex_2d(&self.proj, &self.geographic, p)
            .map_err(|e| CrsError::Projection { epsg: self.epsg, message: e.to_string() })?;
        Ok((lon.to_degrees(), lat.to_degrees()))
    }

    /// This system's coordinates of a WGS84 lon/lat (degrees).
    pub fn from_wgs84(&self, lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
        let (x, y) = transform_vertex_2d(&self.geographic, &self.proj, (lon.to_radians(), lat.to_radians()))
            .map_err(|e| CrsError::Projection { epsg: self.epsg, message: e.to_string() })?;
        Ok(if self.degrees { (x.to_degrees(), y.to_degrees()) } else { (x, y) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from pyproj (`scripts/crs_fixtures.py`), committed so the test needs no
    /// Python: for each EPSG code, WGS84 lon/lat and the projected x/y.
    const FIXTURES: &str = include_str!("../../tests/fixtures/crs/pyproj.json");

    #[test]
    fn every_zone_matches_pyproj_to_a_centimetre_both_ways() {
        let cases: Vec<serde_json::Value> = serde_json::from_str(FIXTURES).unwrap();
        assert!(cases.len() >= 40, "{} cases", cases.len());
        for c in &cases {
            let epsg = c["epsg"].as_u64().unwrap() as u32;
            let crs = ProjectedCrs::from_epsg(epsg).unwrap();
            let (lon, lat) = (c["lon"].as_f64().unwrap(), c["lat"].as_f64().unwrap());
            let (x, y) = (c["x"].as_f64().unwrap(), c["y"].as_f64().unwrap());
            let (px, py) = crs.from_wgs84(lon, lat).unwrap();
            let tol = if crs.degrees { 1e-7 } else { 0.01 };
            assert!((px - x).abs() < tol && (py - y).abs() < tol, "EPSG:{epsg} forward: ({px}, {py}) vs ({x}, {y})");
            let (plon, plat) = crs.to_wgs84(x, y).unwrap();
            // 1e-7 degrees is about a centimetre.
            assert!((plon - lon).abs() < 1e-7 && (plat - lat).abs() < 1e-7, "EPSG:{epsg} inverse: ({plon}, {plat})");
        }
    }

    #[test]
    fn unknown_codes_are_a_clear_error() {
        let e = ProjectedCrs::from_epsg(2436).unwrap_err();
        assert_eq!(e, CrsError::Unknown(2436));
        assert!(e.to_string().contains("EPSG:2436"), "{e}");
        assert_eq!(ProjectedCrs::from_epsg(4528).unwrap().name(), "CGCS2000 / 3-degree Gauss-Kruger zone 40");
        assert_eq!(ProjectedCrs::from_epsg(4549).unwrap().name(), "CGCS2000 / 3-degree Gauss-Kruger CM 120E");
    }
}
