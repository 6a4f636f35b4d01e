//! The coordinate system a `.prj` file (or a GeoPackage's `gpkg_spatial_ref_sys`) describes in
//! WKT: ESRI's WKT1 (`PROJCS["CGCS2000_3_Degree_GK_CM_120E", ...]`), OGC WKT1 with
//! `AUTHORITY["EPSG","4549"]`, and WKT2 (`PROJCRS[... ID["EPSG",4549]]`).
//!
//! An EPSG code the atlas knows is used as is; otherwise the system is rebuilt from its
//! parameters (projection, central meridian, false easting, scale, ellipsoid, `TOWGS84`), so a
//! zone or a local variant no table lists still reads. Xi'an 1980 and Beijing 1954 differ from
//! CGCS2000 by tens of metres, and no fixed shift is right everywhere: without `TOWGS84`
//! parameters in the file (or given with `--from-crs`) they are refused with the reason.
//!
//! ```
//! use port_atlas::formats::wkt::parse_crs;
//! let prj = r#"PROJCS["CGCS2000_3_Degree_GK_CM_120E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",
//!   DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],
//!   UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],
//!   PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],
//!   PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
//! let crs = parse_crs(prj).unwrap();
//! let (lon, lat) = crs.to_wgs84(611_900.0, 3_493_600.0).unwrap();
//! assert!((lon - 121.17).abs() < 0.01 && (lat - 31.56).abs() < 0.01);
//! ```

use crate::spatial::crs::{ProjectedCrs, SourceCrs};

/// One `KEYWORD[...]` node of WKT.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Text(String),
    Number(f64),
    Node(Node),
}

#[derive(Debug, Clone, PartialEq)]
struct Node {
    keyword: String,
    args: Vec<Arg>,
}

impl Node {
    fn text(&self, i: usize) -> Option<&str> {
        match self.args.get(i) {
            Some(Arg::Text(s)) => Some(s),
            _ => None,
        }
    }

    fn number(&self, i: usize) -> Option<f64> {
        match self.args.get(i) {
            Some(Arg::Number(n)) => Some(*n),
            Some(Arg::Text(s)) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn children(&self) -> impl Iterator<Item = &Node> {
        self.args.iter().filter_map(|a| match a {
            Arg::Node(n) => Some(n),
            _ => None,
        })
    }

    fn child(&self, keywords: &[&str]) -> Option<&Node> {
        self.children().find(|n| keywords.iter().any(|k| n.keyword.eq_ignore_ascii_case(k)))
    }

    /// Depth-first search below this node.
    fn find(&self, keywords: &[&str]) -> Option<&Node> {
        self.child(keywords).or_else(|| self.children().find_map(|c| c.find(keywords)))
    }
}

/// Nesting deeper than any real WKT (a compound CRS is five deep) is refused, so hostile
/// input cannot exhaust the stack.
const MAX_DEPTH: usize = 32;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn err(&self, what: &str) -> String {
        format!("{what} at character {}", self.i + 1)
    }

    fn node(&mut self, depth: usize) -> Result<Node, String> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.skip_ws();
        let start = self.i;
        while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_') {
            self.i += 1;
        }
        if start == self.i {
            return Err(self.err("expected a keyword"));
        }
        let keyword = String::from_utf8_lossy(&self.s[start..self.i]).to_ascii_uppercase();
        self.skip_ws();
        let close = match self.s.get(self.i) {
            Some(b'[') => b']',
            Some(b'(') => b')',
            _ => return Ok(Node { keyword, args: Vec::new() }),
        };
        self.i += 1;
        let mut args = Vec::new();
        loop {
            self.skip_ws();
            match self.s.get(self.i) {
                None => return Err(self.err(&format!("{keyword}[ is not closed"))),
                Some(&c) if c == close => {
                    self.i += 1;
                    return Ok(Node { keyword, args });
                }
                Some(b',') => self.i += 1,
                Some(b'"') => {
                    self.i += 1;
                    let mut text = Vec::new();
                    loop {
                        match self.s.get(self.i) {
                            None => return Err(self.err("a quoted name is not closed")),
                            // WKT escapes a quote by doubling it.
                            Some(b'"') if self.s.get(self.i + 1) == Some(&b'"') => {
                                text.push(b'"');
                                self.i += 2;
                            }
                            Some(b'"') => {
                                self.i += 1;
                                break;
                            }
                            Some(&c) => {
                                text.push(c);
                                self.i += 1;
                            }
                        }
                    }
                    args.push(Arg::Text(String::from_utf8_lossy(&text).into_owned()));
                }
                Some(c) if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.') => {
                    let start = self.i;
                    while self.i < self.s.len()
                        && matches!(self.s[self.i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                    {
                        self.i += 1;
                    }
                    let t = String::from_utf8_lossy(&self.s[start..self.i]);
                    args.push(Arg::Number(t.parse().map_err(|_| self.err(&format!("{t:?} is not a number")))?));
                }
                Some(_) => args.push(Arg::Node(self.node(depth + 1)?)),
            }
        }
    }
}

fn parse_tree(wkt: &str) -> Result<Node, String> {
    let mut p = Parser { s: wkt.trim_start_matches('\u{feff}').as_bytes(), i: 0 };
    let n = p.node(0)?;
    Ok(n)
}

fn normal(s: &str) -> String {
    s.to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

/// Which datum a name is, as far as the conversion cares.
#[derive(Debug, PartialEq)]
enum Datum {
    /// WGS84, CGCS2000, ITRF: the same within centimetres at map scale.
    Modern,
    /// Xi'an 1980, Beijing 1954 and other local datums: need a shift.
    Local(String),
}

fn datum_of(tree: &Node) -> Datum {
    let name = tree.find(&["DATUM", "GEODETICDATUM", "TRF"]).and_then(|d| d.text(0)).unwrap_or("");
    let n = normal(name);
    let modern = [
        "wgs84",
        "wgs1984",
        "worldgeodeticsystem1984",
        "china2000",
        "cgcs2000",
        "chinageodeticcoordinatesystem2000",
        "itrf",
    ];
    if name.is_empty() || modern.iter().any(|m| n.contains(m)) {
        Datum::Modern
    } else {
        let pretty = if n.contains("xian") {
            "Xi'an 1980".to_string()
        } else if n.contains("beijing") {
            "Beijing 1954".to_string()
        } else {
            name.to_string()
        };
        Datum::Local(pretty)
    }
}

/// The EPSG code a node's `AUTHORITY["EPSG","4549"]` or `ID["EPSG",4549]` gives.
fn epsg_of(node: &Node) -> Option<u32> {
    let id = node.child(&["AUTHORITY", "ID"])?;
    if !id.text(0)?.eq_ignore_ascii_case("EPSG") {
        return None;
    }
    id.number(1).map(|n| n as u32)
}

/// A `PARAMETER["name", value]` by any of its spellings (ESRI, OGC, WKT2).
fn parameter(node: &Node, names: &[&str]) -> Option<f64> {
    node.children()
        .filter(|c| c.keyword == "PARAMETER")
        .find(|c| c.text(0).is_some_and(|n| names.iter().any(|m| normal(n) == normal(m))))
        .and_then(|c| c.number(1))
}

/// The coordinate system a WKT string describes.
pub fn parse_crs(wkt: &str) -> Result<SourceCrs, String> {
    let tree = parse_tree(wkt)?;
    let projected = matches!(tree.keyword.as_str(), "PROJCS" | "PROJCRS" | "PROJECTEDCRS");
    let geographic =
        matches!(tree.keyword.as_str(), "GEOGCS" | "GEOGCRS" | "GEODCRS" | "GEOGRAPHICCRS" | "GEODETICCRS");
    if !projected && !geographic {
        return Err(format!("{} is not a projected or geographic coordinate system", tree.keyword));
    }
    let name = tree.text(0).unwrap_or("unnamed").to_string();
    if let Some(code) = epsg_of(&tree)
        && let Ok(crs) = SourceCrs::from_epsg(code)
    {
        return Ok(crs);
    }
    let towgs84: Option<Vec<f64>> = tree
        .find(&["TOWGS84"])
        .map(|t| t.args.iter().filter_map(|a| if let Arg::Number(n) = a { Some(*n) } else { None }).collect());
    let datum = datum_of(&tree);
    if let (Datum::Local(d), None) = (&datum, &towgs84) {
        return Err(format!(
            "{name} is on the {d} datum, which differs from WGS84/CGCS2000 by tens of metres with no single \
             shift right everywhere; the .prj gives no TOWGS84 parameters. Pass the local transformation with \
             --from-crs \"+proj=tmerc ... +towgs84=dx,dy,dz,rx,ry,rz,s\" (from the survey office), or \
             re-project the file to CGCS2000"
        ));
    }
    let spheroid = tree.find(&["SPHEROID", "ELLIPSOID"]);
    // No ellipsoid given: CGCS2000's (GRS80 to 0.1 mm).
    let (a, invf) = spheroid.and_then(|s| Some((s.number(1)?, s.number(2)?))).unwrap_or((6_378_137.0, 298.257_222_101));
    if !(6_000_000.0..7_000_000.0).contains(&a) || !(invf == 0.0 || (250.0..350.0).contains(&invf)) {
        return Err(format!("{name}: the ellipsoid ({a}, {invf}) is not an Earth ellipsoid"));
    }
    let ellps = if invf == 0.0 { format!("+a={a} +b={a}") } else { format!("+a={a} +rf={invf}") };
    let shift = towgs84
        .filter(|t| t.len() == 3 || t.len() == 7)
        .filter(|t| t.iter().any(|v| *v != 0.0))
        .map(|t| format!(" +towgs84={}", t.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",")))
        .unwrap_or_default();
    if geographic {
        if matches!(datum, Datum::Modern) {
            return Ok(SourceCrs::WGS84);
        }
        let def = format!("+proj=longlat {ellps}{shift} +no_defs");
        return ProjectedCrs::from_proj_string(&name, &def).map(SourceCrs::Projected).map_err(|e| e.to_string());
    }
    let method = tree.find(&["PROJECTION", "METHOD"]).and_then(|m| m.text(0)).unwrap_or("");
    let m = normal(method);
    let unit = tree
        .children()
        .filter(|c| matches!(c.keyword.as_str(), "UNIT" | "LENGTHUNIT"))
        .last()
        .and_then(|u| u.number(1))
        .unwrap_or(1.0);
    let conversion = tree.child(&["CONVERSION"]).unwrap_or(&tree);
    let p = |names: &[&str], default: f64| parameter(conversion, names).unwrap_or(default);
    let x0 = p(&["False_Easting", "false easting"], 0.0) * unit;
    let y0 = p(&["False_Northing", "false northing"], 0.0) * unit;
    let lon0 = p(&["Central_Meridian", "longitude of natural origin", "Longitude_Of_Center"], 0.0);
    let lat0 = p(&["Latitude_Of_Origin", "latitude of natural origin"], 0.0);
    let k = p(&["Scale_Factor", "scale factor at natural origin"], 1.0);
    let def = if m.contains("transversemercator") || m.contains("gausskruger") || m.contains("gaussian") {
        format!("+proj=tmerc +lat_0={lat0} +lon_0={lon0} +k={k} +x_0={x0} +y_0={y0} {ellps}{shift} +units=m +no_defs")
    } else if m.contains("mercatorauxiliarysphere")
        || m.contains("pseudomercator")
        || (m.contains("mercator") && ["webmercator", "pseudomercator"].iter().any(|w| normal(&name).contains(w)))
    {
        "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +no_defs"
            .into()
    } else if m.contains("mercator") {
        format!("+proj=merc +lon_0={lon0} +k={k} +x_0={x0} +y_0={y0} {ellps}{shift} +units=m +no_defs")
    } else if m.contains("lambertconformalconic") || m.contains("albers") {
        let lat1 = p(&["Standard_Parallel_1", "latitude of 1st standard parallel"], lat0);
        let lat2 = p(&["Standard_Parallel_2", "latitude of 2nd standard parallel"], lat1);
        let proj = if m.contains("albers") { "aea" } else { "lcc" };
        format!(
            "+proj={proj} +lat_1={lat1} +lat_2={lat2} +lat_0={lat0} +lon_0={lon0} +x_0={x0} +y_0={y0} {ellps}{shift} +units=m +no_defs"
        )
    } else {
        return Err(format!(
            "{name}: the projection {method:?} is not one port-atlas reads (transverse Mercator / Gauss-Krüger, Mercator, Lambert, Albers)"
        ));
    };
    ProjectedCrs::from_proj_string(&name, &def).map(SourceCrs::Projected).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `.prj` texts as ArcGIS and QGIS write them (ESRI WKT1), plus OGC WKT1 and WKT2.
    const ESRI_ZONE_40: &str = r#"PROJCS["CGCS2000_3_Degree_GK_Zone_40",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",40500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

    fn close(crs: &SourceCrs, x: f64, y: f64, want: &SourceCrs) {
        let a = crs.to_wgs84(x, y).unwrap();
        let (wx, wy) = want.from_wgs84(a.0, a.1).unwrap();
        assert!((wx - x).abs() < 0.01 && (wy - y).abs() < 0.01, "{} vs {}", crs.label(), want.label());
    }

    #[test]
    fn esri_gauss_kruger_reads_from_its_parameters_to_the_centimetre() {
        let crs = parse_crs(ESRI_ZONE_40).unwrap();
        close(&crs, 40_611_900.0, 3_493_600.0, &SourceCrs::from_epsg(4528).unwrap());
        assert!(crs.label().contains("CGCS2000_3_Degree_GK_Zone_40"), "{}", crs.label());
    }

    #[test]
    fn an_epsg_authority_is_used_directly() {
        // As GDAL writes EPSG:4549 (OGC WKT1).
        let ogc = r#"PROJCS["CGCS2000 / 3-degree Gauss-Kruger CM 120E",GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101,AUTHORITY["EPSG","1024"]],AUTHORITY["EPSG","1043"]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4490"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",120],PARAMETER["scale_factor",1],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1],AUTHORITY["EPSG","4549"]]"#;
        assert_eq!(parse_crs(ogc).unwrap().epsg(), Some(4549));
        let wkt2 = r#"PROJCRS["WGS 84 / UTM zone 51N",BASEGEOGCRS["WGS 84",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,298.257223563]]],CONVERSION["UTM zone 51N",METHOD["Transverse Mercator"],PARAMETER["Longitude of natural origin",123],PARAMETER["Scale factor at natural origin",0.9996],PARAMETER["False easting",500000]],CS[Cartesian,2],ID["EPSG",32651]]"#;
        assert_eq!(parse_crs(wkt2).unwrap().epsg(), Some(32651));
    }

    #[test]
    fn wkt2_without_a_known_code_reads_from_its_conversion() {
        let wkt2 = r#"PROJCRS["local",BASEGEOGCRS["CGCS2000",DATUM["China 2000",ELLIPSOID["CGCS2000",6378137,298.257222101]]],CONVERSION["GK",METHOD["Transverse Mercator"],PARAMETER["Latitude of natural origin",0],PARAMETER["Longitude of natural origin",120],PARAMETER["Scale factor at natural origin",1],PARAMETER["False easting",500000],PARAMETER["False northing",0]],CS[Cartesian,2],LENGTHUNIT["metre",1]]"#;
        close(&parse_crs(wkt2).unwrap(), 611_900.0, 3_493_600.0, &SourceCrs::from_epsg(4549).unwrap());
    }

    #[test]
    fn geographic_and_web_mercator() {
        let cgcs = r#"GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
        assert!(parse_crs(cgcs).unwrap().is_wgs84());
        let merc = r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]"#;
        let (x, y) = crate::proj::web_mercator(121.17, 31.56);
        let (lon, lat) = parse_crs(merc).unwrap().to_wgs84(x, y).unwrap();
        assert!((lon - 121.17).abs() < 1e-7 && (lat - 31.56).abs() < 1e-7);
    }

    #[test]
    fn xian_1980_without_parameters_is_refused_with_the_reason() {
        let xian = r#"PROJCS["Xian_1980_3_Degree_GK_CM_120E",GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",SPHEROID["Xian_1980",6378140.0,298.257]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
        let e = parse_crs(xian).unwrap_err();
        assert!(e.contains("Xi'an 1980") && e.contains("TOWGS84") && e.contains("--from-crs"), "{e}");
        // With parameters in the file, it reads, with the accuracy note.
        let with = xian.replace(
            r#"SPHEROID["Xian_1980",6378140.0,298.257]]"#,
            r#"SPHEROID["Xian_1980",6378140.0,298.257],TOWGS84[24,-123,-94,0.02,-0.25,-0.13,1.1]]"#,
        );
        let crs = parse_crs(&with).unwrap();
        assert!(crs.note().is_some());
        let (lon, lat) = crs.to_wgs84(611_900.0, 3_493_600.0).unwrap();
        assert!((lon - 121.17).abs() < 0.01 && (lat - 31.56).abs() < 0.01, "{lon} {lat}");
    }

    #[test]
    fn broken_wkt_says_where() {
        assert!(parse_crs("PROJCS[\"x\",GEOGCS[").unwrap_err().contains("not closed"));
        assert!(parse_crs("hello").unwrap_err().contains("HELLO"));
        assert!(parse_crs("").unwrap_err().contains("character 1"));
        let deep = "PROJCS[".repeat(100);
        assert!(parse_crs(&deep).unwrap_err().contains("deeply"));
        assert!(parse_crs(r#"PROJCS["x",PROJECTION["Robinson"]]"#).unwrap_err().contains("Robinson"));
    }

    #[test]
    fn what_the_exporter_writes_reads_back_by_code_and_by_parameters() {
        for code in [4549, 4528, 4499, 32651, 3857] {
            let crs = ProjectedCrs::from_epsg(code).unwrap();
            let wkt = crs.wkt1();
            assert_eq!(parse_crs(&wkt).unwrap().epsg(), Some(code), "{wkt}");
            let anonymous = wkt.replace(&format!(",AUTHORITY[\"EPSG\",\"{code}\"]"), "");
            let by_parameters = parse_crs(&anonymous).unwrap();
            let (x, y) = crs.from_wgs84(121.17, 31.56).unwrap();
            close(&by_parameters, x, y, &SourceCrs::from_epsg(code).unwrap());
        }
    }
}
