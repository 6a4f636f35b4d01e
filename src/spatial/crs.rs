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

use super::proj::Crs;

/// A projected or geographic coordinate system: one known by its EPSG code, or one a `.prj`
/// file defines by its parameters (see `formats::wkt`).
#[derive(Debug, Clone)]
pub struct ProjectedCrs {
    epsg: Option<u32>,
    name: String,
    /// The proj string it was built from (QGIS projects carry it).
    def: String,
    proj: Proj,
    geographic: Proj,
    /// Whether its coordinates are degrees (converted to and from proj4rs's radians).
    degrees: bool,
    /// Central meridian of a transverse Mercator system, for the area check.
    central_meridian: Option<f64>,
    /// Said next to every layer read in it: a datum shift given by parameters (Xi'an 1980,
    /// Beijing 1954) is good to a few metres, not centimetres.
    note: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CrsError {
    #[error(
        "EPSG:{0} is not a coordinate system port-atlas knows (CGCS2000 and its Gauss-Krüger zones, WGS84, UTM 50N/51N, Web Mercator)"
    )]
    Unknown(u32),
    #[error("{name}: {message}")]
    Projection { name: String, message: String },
    #[error(
        "{0:?} is not a coordinate system name: use EPSG:NNNN, wgs84, cgcs2000, gcj02, bd09 or a proj string (+proj=...)"
    )]
    Unparsed(String),
    #[error("({x}, {y}) is outside the area of {name}: is the file really in that coordinate system?")]
    OutsideArea { name: String, x: f64, y: f64 },
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

/// A numeric `+key=value` of a proj string.
fn proj_param(def: &str, key: &str) -> Option<f64> {
    def.split_whitespace().find_map(|t| t.strip_prefix(&format!("+{key}="))).and_then(|v| v.parse::<f64>().ok())
}

impl ProjectedCrs {
    pub fn from_epsg(epsg: u32) -> Result<Self, CrsError> {
        let (def, name) = definition(epsg).ok_or(CrsError::Unknown(epsg))?;
        let mut crs = Self::from_proj_string(&name, &def)?;
        crs.epsg = Some(epsg);
        Ok(crs)
    }

    /// A system given by a proj string, as a `.prj` file's parameters translate to. A
    /// `+towgs84` shift gets an accuracy note: seven published parameters place a Xi'an 1980 or
    /// Beijing 1954 coordinate within a few metres, and only over the area they were fitted for.
    pub fn from_proj_string(name: &str, def: &str) -> Result<Self, CrsError> {
        let err = |e: proj4rs::errors::Error| CrsError::Projection { name: name.to_string(), message: e.to_string() };
        let proj = Proj::from_proj_string(def).map_err(err)?;
        let geographic = Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs").map_err(err)?;
        let degrees = proj.is_latlong();
        let param = |key: &str| proj_param(def, key);
        let central_meridian = if def.contains("+proj=tmerc") || def.contains("+proj=utm") {
            param("lon_0").or_else(|| param("zone").map(|z| z * 6.0 - 183.0))
        } else {
            None
        };
        let note = def.contains("+towgs84=").then(|| {
            format!(
                "{name}: converted with the datum-shift parameters given (+towgs84); expect metres, not centimetres"
            )
        });
        Ok(ProjectedCrs {
            epsg: None,
            name: name.to_string(),
            def: def.to_string(),
            proj,
            geographic,
            degrees,
            central_meridian,
            note,
        })
    }

    pub fn epsg(&self) -> Option<u32> {
        self.epsg
    }

    pub fn proj_string(&self) -> &str {
        &self.def
    }

    /// OGC WKT1 with the EPSG authority, as GeoPackages and `.prj` files hold it: built from
    /// the proj string's parameters (transverse Mercator and Web Mercator, the systems port-atlas
    /// exports to).
    pub fn wkt1(&self) -> String {
        let param = |key: &str| proj_param(&self.def, key);
        let authority = self.epsg.map(|c| format!(",AUTHORITY[\"EPSG\",\"{c}\"]")).unwrap_or_default();
        let wgs84 = self.def.contains("+datum=WGS84") || self.def.contains("+proj=utm");
        let geogcs = if wgs84 {
            r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]"#
        } else {
            r#"GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]"#
        };
        if self.degrees {
            return format!("{}{authority}]", geogcs.trim_end_matches(']'));
        }
        if self.def.contains("+proj=merc") {
            return format!(
                r#"PROJCS["{}",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Mercator_1SP"],PARAMETER["central_meridian",0],PARAMETER["scale_factor",1],PARAMETER["false_easting",0],PARAMETER["false_northing",0],UNIT["metre",1],EXTENSION["PROJ4","{}"]{authority}]"#,
                self.name, self.def
            );
        }
        let (lon0, k, x0, y0) = if let Some(zone) = param("zone") {
            (zone * 6.0 - 183.0, 0.9996, 500_000.0, 0.0)
        } else {
            (
                param("lon_0").unwrap_or(0.0),
                param("k").unwrap_or(1.0),
                param("x_0").unwrap_or(0.0),
                param("y_0").unwrap_or(0.0),
            )
        };
        format!(
            r#"PROJCS["{}",{geogcs},PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",{lon0}],PARAMETER["scale_factor",{k}],PARAMETER["false_easting",{x0}],PARAMETER["false_northing",{y0}],UNIT["metre",1]{authority}]"#,
            self.name
        )
    }

    pub fn is_geographic(&self) -> bool {
        self.degrees
    }

    /// An accuracy note to show with data read in this system, if any.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Whether a converted WGS84 position lies where this system is meant to be used: within
    /// 6° of a transverse Mercator central meridian (a zone is 3° or 6° wide; GIS tools accept
    /// some overlap), and on the globe at all. A wrong zone or a swapped axis lands outside.
    pub fn covers(&self, lon: f64, lat: f64) -> bool {
        let on_globe =
            lon.is_finite() && lat.is_finite() && (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat);
        on_globe && self.central_meridian.is_none_or(|cm| (lon - cm).abs() <= 6.0 && lat.abs() <= 84.0)
    }

    /// The EPSG name, e.g. "CGCS2000 / 3-degree Gauss-Kruger CM 120E".
    pub fn name(&self) -> &str {
        &self.name
    }

    /// WGS84 lon/lat (degrees) of a position in this system.
    /// Fails for a position outside the system's area (see [`ProjectedCrs::covers`]).
    pub fn to_wgs84(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        let p = if self.degrees { (x.to_radians(), y.to_radians()) } else { (x, y) };
        // An inverse that does not converge is a position far outside the projection's area.
        let outside = || CrsError::OutsideArea { name: self.name.clone(), x, y };
        let (lon, lat) = transform_vertex_2d(&self.proj, &self.geographic, p).map_err(|_| outside())?;
        let (lon, lat) = (lon.to_degrees(), lat.to_degrees());
        if !self.covers(lon, lat) {
            return Err(outside());
        }
        Ok((lon, lat))
    }

    /// This system's coordinates of a WGS84 lon/lat (degrees).
    pub fn from_wgs84(&self, lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
        let (x, y) = transform_vertex_2d(&self.geographic, &self.proj, (lon.to_radians(), lat.to_radians()))
            .map_err(|e| CrsError::Projection { name: self.name.clone(), message: e.to_string() })?;
        Ok(if self.degrees { (x.to_degrees(), y.to_degrees()) } else { (x, y) })
    }
}

/// The coordinate system a source file is in: WGS84 or one of China's offset datums (lon/lat
/// degrees), or a projected or geographic system by EPSG code or parameters.
#[derive(Debug, Clone)]
// One per file read: the size of the projected variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum SourceCrs {
    Datum(Crs),
    Projected(ProjectedCrs),
}

impl SourceCrs {
    pub const WGS84: SourceCrs = SourceCrs::Datum(Crs::Wgs84);

    /// Parses what a planner types after `--from-crs`: `EPSG:4549` (or `4549`, or an OGC URN),
    /// `wgs84`, `cgcs2000`, `gcj02`, `bd09`, or a proj string (`+proj=tmerc ... +towgs84=...`).
    pub fn parse(s: &str) -> Result<Self, CrsError> {
        let t = s.trim();
        if let Ok(datum) = t.parse::<Crs>() {
            return Ok(SourceCrs::Datum(datum));
        }
        if t.starts_with("+proj=") {
            return Ok(SourceCrs::Projected(ProjectedCrs::from_proj_string("custom (proj string)", t)?));
        }
        let upper = t.to_ascii_uppercase();
        let digits = upper.rsplit(|c: char| !c.is_ascii_digit()).next().unwrap_or("");
        let looks_epsg = upper.starts_with("EPSG") || upper.contains(":EPSG:") || upper == digits;
        match digits.parse::<u32>() {
            Ok(code) if looks_epsg && !digits.is_empty() => Self::from_epsg(code),
            _ => Err(CrsError::Unparsed(t.to_string())),
        }
    }

    /// 4326 and 4490 are the WGS84 datum here (see the module note); everything else by table.
    pub fn from_epsg(code: u32) -> Result<Self, CrsError> {
        match code {
            4326 | 4490 => Ok(SourceCrs::WGS84),
            _ => Ok(SourceCrs::Projected(ProjectedCrs::from_epsg(code)?)),
        }
    }

    /// WGS84 lon/lat of a position in this system.
    pub fn to_wgs84(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        match self {
            SourceCrs::Datum(d) => {
                if !(x.is_finite() && y.is_finite() && (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y)) {
                    return Err(CrsError::OutsideArea { name: d.title().to_string(), x, y });
                }
                Ok(d.to_wgs84(x, y))
            }
            SourceCrs::Projected(p) => p.to_wgs84(x, y),
        }
    }

    /// A position in this system from WGS84 lon/lat.
    pub fn from_wgs84(&self, lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
        match self {
            SourceCrs::Datum(d) => Ok(d.from_wgs84(lon, lat)),
            SourceCrs::Projected(p) => p.from_wgs84(lon, lat),
        }
    }

    pub fn is_wgs84(&self) -> bool {
        matches!(self, SourceCrs::Datum(Crs::Wgs84))
    }

    /// The EPSG code, where there is one (GCJ-02 and BD-09 have none).
    pub fn epsg(&self) -> Option<u32> {
        match self {
            SourceCrs::Datum(Crs::Wgs84) => Some(4326),
            SourceCrs::Datum(_) => None,
            SourceCrs::Projected(p) => p.epsg(),
        }
    }

    /// For people: "EPSG:4549 CGCS2000 / 3-degree Gauss-Kruger CM 120E", "GCJ-02".
    pub fn label(&self) -> String {
        match self {
            SourceCrs::Datum(Crs::Wgs84) => "EPSG:4326 WGS 84".into(),
            SourceCrs::Datum(d) => d.title().into(),
            SourceCrs::Projected(p) => match p.epsg() {
                Some(code) => format!("EPSG:{code} {}", p.name()),
                None => p.name().to_string(),
            },
        }
    }

    /// What `--from-crs` takes to name this system again.
    pub fn spelling(&self) -> String {
        match (self, self.epsg()) {
            (SourceCrs::Datum(d), _) => d.to_string(),
            (_, Some(code)) => format!("EPSG:{code}"),
            (SourceCrs::Projected(p), None) => p.name().to_string(),
        }
    }

    pub fn note(&self) -> Option<&str> {
        match self {
            SourceCrs::Projected(p) => p.note(),
            SourceCrs::Datum(_) => None,
        }
    }
}

/// One reading of coordinates whose system the file does not say, with why it is plausible.
#[derive(Debug, Clone)]
pub struct CrsGuess {
    /// `--from-crs` spelling.
    pub crs: String,
    pub reason: String,
    /// How far the data's centre would be from the atlas's region, kilometres (the ranking).
    pub distance_km: f64,
}

/// Plausible systems for coordinates spanning `min`..`max` (x, y), nearest to the atlas's
/// region first: degrees (WGS84, and GCJ-02, which Chinese web maps give and ranges cannot tell
/// apart), Gauss-Krüger with the zone number in front of the easting (40,5xx,xxx is 3° zone 40),
/// Gauss-Krüger without it (the central meridian is not in the numbers: every 3° zone over
/// China is tried), UTM 50N/51N, and Web Mercator. Empty when nothing fits.
pub fn guess_crs(min: (f64, f64), max: (f64, f64)) -> Vec<CrsGuess> {
    // Suzhou: where the atlas is, so the most likely place for a planner's file.
    const REGION: (f64, f64) = (120.6, 31.3);
    let centre = ((min.0 + max.0) / 2.0, (min.1 + max.1) / 2.0);
    let mut out = Vec::new();
    let mut consider = |crs: SourceCrs, reason: String| {
        // A reading that does not round-trip (a wrapped longitude) does not fit.
        let ok = [min, max, centre].iter().all(|&(x, y)| {
            let back = crs.to_wgs84(x, y).and_then(|(lon, lat)| crs.from_wgs84(lon, lat));
            back.is_ok_and(|(bx, by)| (bx - x).abs() <= 1.0 + x.abs() * 1e-9 && (by - y).abs() <= 1.0 + y.abs() * 1e-9)
        });
        if let (true, Ok(c)) = (ok, crs.to_wgs84(centre.0, centre.1)) {
            let distance_km = crate::proj::distance_m(c, REGION) / 1000.0;
            out.push(CrsGuess { crs: crs.spelling(), reason, distance_km });
        }
    };
    let degrees = (-180.0..=180.0).contains(&min.0)
        && (-180.0..=180.0).contains(&max.0)
        && (-90.0..=90.0).contains(&min.1)
        && (-90.0..=90.0).contains(&max.1);
    if degrees {
        consider(SourceCrs::WGS84, "longitude and latitude in degrees".into());
        consider(SourceCrs::Datum(Crs::Gcj02), "degrees copied from a Chinese web map (Amap, Tencent)".into());
        consider(SourceCrs::Datum(Crs::Bd09), "degrees copied from Baidu Maps".into());
    } else {
        let zone = (min.0 / 1e6).floor();
        if zone == (max.0 / 1e6).floor() {
            let zone = zone as u32;
            let code = match zone {
                13..=23 => Some(4491 + zone - 13),
                25..=45 => Some(4513 + zone - 25),
                _ => None,
            };
            if let Some(code) = code.and_then(|c| SourceCrs::from_epsg(c).ok()) {
                consider(code, format!("the easting starts with a zone number ({zone})"));
            }
        }
        for code in (4534..=4554).chain([32650, 32651, 3857]) {
            if let Ok(crs) = SourceCrs::from_epsg(code) {
                let reason = match code {
                    3857 => "Web Mercator metres".to_string(),
                    32650 | 32651 => "UTM metres".to_string(),
                    _ => "Gauss-Krüger metres without a zone number: the central meridian is a guess".to_string(),
                };
                consider(crs, reason);
            }
        }
    }
    out.sort_by(|a, b| a.distance_km.total_cmp(&b.distance_km));
    out
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

    #[test]
    fn source_crs_names_parse_and_bad_ones_say_what_is_accepted() {
        for (s, epsg) in [("EPSG:4549", Some(4549)), ("4528", Some(4528)), ("urn:ogc:def:crs:EPSG::32651", Some(32651))]
        {
            assert_eq!(SourceCrs::parse(s).unwrap().epsg(), epsg, "{s}");
        }
        assert!(SourceCrs::parse("cgcs2000").unwrap().is_wgs84());
        assert!(SourceCrs::parse("EPSG:4490").unwrap().is_wgs84());
        assert_eq!(SourceCrs::parse("gcj02").unwrap().label(), "GCJ-02");
        assert_eq!(SourceCrs::parse("bd09").unwrap().epsg(), None);
        let e = SourceCrs::parse("Beijing").unwrap_err();
        assert!(e.to_string().contains("EPSG:NNNN"), "{e}");
        assert_eq!(SourceCrs::parse("EPSG:2436").unwrap_err(), CrsError::Unknown(2436));
    }

    #[test]
    fn xian_1980_needs_and_takes_datum_parameters() {
        // Xi'an 1980 3-degree GK CM 120E with a seven-parameter shift (a typical local set).
        let def = "+proj=tmerc +lat_0=0 +lon_0=120 +k=1 +x_0=500000 +y_0=0 +a=6378140 +b=6356755.288157528 \
                   +towgs84=24,-123,-94,0.02,-0.25,-0.13,1.1 +units=m +no_defs";
        let crs = SourceCrs::parse(def).unwrap();
        let (lon, lat) = crs.to_wgs84(612_000.0, 3_494_000.0).unwrap();
        assert!((lon - 121.18).abs() < 0.01 && (lat - 31.57).abs() < 0.01, "{lon} {lat}");
        assert!(crs.note().unwrap().contains("metres, not centimetres"));
    }

    #[test]
    fn positions_outside_a_zone_are_refused_not_misplaced() {
        let gk = SourceCrs::from_epsg(4549).unwrap();
        // An easting with the zone prefix read in the zone without one: thousands of km away.
        let e = gk.to_wgs84(40_612_000.0, 3_494_000.0).unwrap_err();
        assert!(matches!(e, CrsError::OutsideArea { .. }), "{e:?}");
        assert!(SourceCrs::WGS84.to_wgs84(3_494_000.0, 40.0).is_err());
    }

    #[test]
    fn guesses_rank_the_readings_of_unlabelled_coordinates() {
        // Suzhou in 3-degree GK zone 40 with the prefix.
        let g = guess_crs((40_580_000.0, 3_460_000.0), (40_640_000.0, 3_510_000.0));
        assert_eq!(g[0].crs, "EPSG:4528", "{g:?}");
        // Without the prefix: the zone is a guess, Suzhou's (CM 120E) first.
        let g = guess_crs((580_000.0, 3_460_000.0), (640_000.0, 3_510_000.0));
        assert_eq!(g[0].crs, "EPSG:4549", "{g:?}");
        assert!(g.iter().any(|c| c.crs == "EPSG:32651"), "{g:?}");
        // Degrees: WGS84 or GCJ-02, which the numbers cannot tell apart.
        let g = guess_crs((120.9, 31.4), (121.3, 31.7));
        assert_eq!(g.len(), 3);
        assert!(g.iter().any(|c| c.crs == "gcj02"));
        // Web Mercator over Suzhou.
        let (x, y) = crate::proj::web_mercator(120.6, 31.3);
        let g = guess_crs((x - 1000.0, y - 1000.0), (x + 1000.0, y + 1000.0));
        assert_eq!(g[0].crs, "EPSG:3857", "{g:?}");
        assert!(guess_crs((1e12, 1e12), (2e12, 2e12)).is_empty());
    }
}
