//! CSV files and workbooks (XLSX, XLS, ODS) whose rows are places: two coordinate columns, or
//! one holding "lon,lat", read as point layers.
//!
//! Planners' tables come from Amap and Baidu exports, survey offices and colleagues' Excel
//! sheets, so little about them can be assumed. The text may be GBK or UTF-8 or Excel's UTF-16
//! "Unicode text"; a title row often sits above the header; coordinate headers come in Chinese
//! and English with units in brackets; cells hold degrees-minutes-seconds or full-width digits
//! typed with a Chinese input method; and Gauss-Krüger survey tables call the northing "X".
//! Every one of these is handled here rather than sent back to the planner to clean up.
//!
//! A table never says its coordinate system, so every layer's `crs` is `None`: [`super::open`]
//! asks for one and guesses from the extent. Coordinates stay in the file's own units.
//! A row that cannot be placed is a [`Diagnostic`] with its line (or sheet row) and the rest
//! loads; only a table where nothing can be placed is an error.

use std::io::Read;
use std::path::Path;

use calamine::{Data, Reader};
use encoding_rs::{Encoding, GB18030, UTF_8};
use geo::{Geometry, Point};
use serde_json::{Map, Value};

use super::encoding::{Detected, decode_strict, detect, display_name};
use super::{FormatError, OpenOptions, RawLayer, feature, stem};
use crate::diagnostic::{Diagnostic, Diagnostics, Position};

/// The whole file is held in memory (bytes, then text); past this a planner's machine would
/// struggle, and such a table belongs in a GeoPackage anyway.
const MAX_TABLE_BYTES: u64 = 2 << 30;

/// Title rows above the header ("太仓市重点企业名单（2023年）") are skipped when the header is
/// within this many rows of the top; further down it is more likely data than a header.
const HEADER_SEARCH_ROWS: usize = 10;

/// Rows the open dialog shows so the planner can check the columns.
const PREVIEW_ROWS: usize = 5;

/// The preview reads only this much of a CSV file: enough for the header and a few rows.
const PREVIEW_BYTES: u64 = 1 << 20;

/// Where a table's coordinates are, by 0-based column index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    /// x (longitude or easting) and y (latitude or northing).
    Pair(usize, usize),
    /// One column holding both, longitude first: "120.62,31.30" as Amap's `location` has it.
    /// `opts.columns` names it by giving the same header twice.
    Combined(usize),
}

/// What the open dialog shows before a table is read, so the planner can confirm (or pick) the
/// coordinate columns and the coordinate system.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TablePreview {
    /// A workbook's sheets, in order; empty for CSV.
    pub sheets: Vec<String>,
    /// The sheet previewed: `opts.layer`, else the first with coordinate columns, else the first.
    pub sheet: Option<String>,
    /// CSV only: the text encoding and how it was decided (from the start of the file).
    pub encoding: Option<String>,
    /// CSV only: the field separator found.
    pub delimiter: Option<char>,
    /// 1-based line (CSV) or sheet row of the header.
    pub header_row: usize,
    pub headers: Vec<String>,
    /// The coordinate columns `opts.columns` names, or those detected, with the survey
    /// convention already applied: what [`read`] would use.
    pub columns: Option<Columns>,
    /// The first data rows as text, cell by cell.
    pub rows: Vec<Vec<String>>,
    /// What reading would change, as [`RawLayer::notes`] would say it.
    pub notes: Vec<String>,
}

impl TablePreview {
    /// What the previewed rows' coordinates could be in, likeliest first. Degrees cannot tell
    /// WGS84 from GCJ-02 by their values, so a header naming the source decides (`lng_gcj02`,
    /// `高德经度`, `百度`, `wgs84`), and without one GCJ-02 comes first: a table of places with
    /// degrees is most often copied from a Chinese web map.
    pub fn guesses(&self) -> Vec<crate::spatial::crs::CrsGuess> {
        let Some(columns) = self.columns else { return Vec::new() };
        let points: Vec<(f64, f64)> = self
            .rows
            .iter()
            .filter_map(|r| match row_point(columns, |i| Cell::of_text(r.get(i).map(String::as_str))) {
                RowPoint::Point(x, y) => Some((x, y)),
                _ => None,
            })
            .collect();
        if points.is_empty() {
            return Vec::new();
        }
        let min = points.iter().fold((f64::MAX, f64::MAX), |a, p| (a.0.min(p.0), a.1.min(p.1)));
        let max = points.iter().fold((f64::MIN, f64::MIN), |a, p| (a.0.max(p.0), a.1.max(p.1)));
        let mut guesses = crate::spatial::crs::guess_crs(min, max);
        let headers = self.headers.join(" ").to_lowercase();
        let named = if ["bd09", "baidu", "百度", "bd_"].iter().any(|k| headers.contains(k)) {
            Some("bd09")
        } else if ["wgs", "gps"].iter().any(|k| headers.contains(k)) {
            Some("wgs84")
        } else {
            Some("gcj02")
        };
        if let Some(pos) = named.and_then(|n| guesses.iter().position(|g| g.crs == n)) {
            let g = guesses.remove(pos);
            guesses.insert(0, g);
        }
        guesses
    }
}

/// Reads a CSV file or a workbook's sheets as point layers, by the file's extension.
pub fn read(path: &Path, opts: &OpenOptions, diags: &mut Diagnostics) -> Result<Vec<RawLayer>, FormatError> {
    check_size(path)?;
    if is_workbook(path) { read_workbook(path, opts, diags) } else { read_csv(path, opts, diags) }
}

/// The header, the coordinate columns and the first rows, reading only the start of a CSV file
/// (a workbook's previewed sheet is loaded whole: the formats do not stream). A table whose
/// coordinate columns cannot be found is still previewed, with `columns: None`, so the dialog
/// can ask for them.
pub fn preview(path: &Path, opts: &OpenOptions) -> Result<TablePreview, FormatError> {
    if is_workbook(path) { preview_workbook(path, opts) } else { preview_csv(path, opts) }
}

/// Which columns hold coordinates, from the header alone: two columns by their usual names
/// (case, spaces and a unit in brackets aside: `经度(°)`, `X坐标（米）`, `POINT_X`), else one
/// column of "lon,lat" pairs. Longitude and latitude are paired with each other and X with Y,
/// never one with the other; where a table has both, longitude and latitude win. Names that say
/// so outright beat ones that merely contain a coordinate word (`WGS84经度`, `lng_gcj02`).
pub fn detect_columns(headers: &[String]) -> Option<Columns> {
    let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
    let best = |exact: &[&str], loose: fn(&str) -> bool, skip: Option<usize>| {
        let mut found: Option<(usize, usize)> = None; // (rank, column)
        for (col, key) in keys.iter().enumerate() {
            if Some(col) == skip || key.is_empty() {
                continue;
            }
            let rank = match exact.iter().position(|n| *n == key.replace('_', "")) {
                Some(r) => r,
                None if loose(key) => exact.len(),
                None => continue,
            };
            if found.is_none_or(|(r, _)| rank < r) {
                found = Some((rank, col));
            }
        }
        found.map(|(_, col)| col)
    };
    let families: [Family; 2] =
        [(LON_NAMES, loose_lon, LAT_NAMES, loose_lat), (X_NAMES, |_| false, Y_NAMES, |_| false)];
    for (x_names, loose_x, y_names, loose_y) in families {
        if let Some(x) = best(x_names, loose_x, None)
            && let Some(y) = best(y_names, loose_y, Some(x))
        {
            return Some(Columns::Pair(x, y));
        }
    }
    best(PAIR_NAMES, |_| false, None).map(Columns::Combined)
}

/// The exact names and the loose test of x columns, then of the y columns paired with them.
type Family = (&'static [&'static str], fn(&str) -> bool, &'static [&'static str], fn(&str) -> bool);

/// Header names of longitude columns, most telling first, as [`header_key`] leaves them.
const LON_NAMES: &[&str] = &["经度", "經度", "东经", "東經", "longitude", "lon", "lng", "long", "经度坐标"];

/// Header names of latitude columns, in the same order as [`LON_NAMES`].
const LAT_NAMES: &[&str] = &["纬度", "緯度", "北纬", "北緯", "latitude", "lat", "纬度坐标"];

/// Header names of easting (or survey X) columns.
const X_NAMES: &[&str] =
    &["x", "easting", "east", "x坐标", "x座標", "坐标x", "横坐标", "pointx", "xcoord", "xcoordinate", "东坐标"];

/// Header names of northing (or survey Y) columns, in the same order as [`X_NAMES`].
const Y_NAMES: &[&str] =
    &["y", "northing", "north", "y坐标", "y座標", "坐标y", "纵坐标", "pointy", "ycoord", "ycoordinate", "北坐标"];

/// Header names of one column holding "lon,lat".
const PAIR_NAMES: &[&str] = &[
    "经纬度",
    "經緯度",
    "经纬度坐标",
    "坐标",
    "座標",
    "location",
    "lnglat",
    "lonlat",
    "coordinates",
    "coordinate",
    "coords",
    "中心点坐标",
    "位置坐标",
];

fn loose_lon(key: &str) -> bool {
    key.contains("经度") || key.contains("經度") || words(key).any(|w| matches!(w, "lon" | "lng" | "longitude"))
}

/// "经纬度" holds "纬度" but is a pair column.
fn loose_lat(key: &str) -> bool {
    (key.contains("纬度") || key.contains("緯度")) && !key.contains("经纬") && !key.contains("經緯")
        || words(key).any(|w| matches!(w, "lat" | "latitude"))
}

/// ASCII words of a header ("wgs84_lng" → "wgs84", "lng"), for names with a datum attached.
fn words(key: &str) -> impl Iterator<Item = &str> {
    key.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty())
}

/// A header as compared with the known names: a unit or note in brackets dropped, lower case,
/// without spaces, `-` or `.` (`经度 (°)` → `经度`). Underscores stay so [`words`] can split
/// `lng_gcj02`; [`detect_columns`] ignores them (`POINT_X` is `pointx`).
fn header_key(header: &str) -> String {
    let h = halfwidth(header.trim().trim_start_matches('\u{feff}'));
    let mut out = String::new();
    let mut depth = 0usize;
    for c in h.chars() {
        match c {
            '(' | '[' | '【' | '{' | '〔' => depth += 1,
            ')' | ']' | '】' | '}' | '〕' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            c if c.is_whitespace() || c == '-' || c == '.' || c == ':' || c == '：' => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Full-width forms typed with a Chinese input method ("１２０．６２", "－", "，") and other
/// look-alikes as their ASCII characters.
fn halfwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' | '\u{00A0}' => ' ',
            '\u{2212}' => '-',
            c => c,
        })
        .collect()
}

/// A coordinate from a cell: a plain number (spaces and full-width forms allowed), or degrees
/// with minutes and seconds (`120°37'12.5"E`, `31°18′00″N`, `东经120度37分12.5秒`, `31.3N`),
/// south and west negative. `None` for anything else, including non-finite numbers.
fn parse_coordinate(text: &str) -> Option<f64> {
    let s = halfwidth(text);
    let s = s.trim();
    // A space after a sign is a typing slip; one between digits separates degrees from
    // minutes ("120 37 12.5"), or thousands, which are not guessed at.
    let unsigned = s.trim_start_matches(['-', '+']);
    let number = format!("{}{}", &s[..s.len() - unsigned.len()], unsigned.trim_start());
    plain_number(&number).or_else(|| degrees(s))
}

fn plain_number(s: &str) -> Option<f64> {
    // Rust also parses "inf" and "NaN", which are not coordinates.
    if !s.bytes().any(|b| b.is_ascii_digit()) || !s.bytes().all(|b| b"0123456789.+-eE".contains(&b)) {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Unit {
    Degree,
    Minute,
    Second,
}

/// Degrees, minutes and seconds with their marks (or without, separated by spaces).
fn degrees(s: &str) -> Option<f64> {
    let mut body = s.trim();
    let mut negative = None;
    for (prefix, neg) in [("东经", false), ("東經", false), ("西经", true), ("西經", true)].into_iter().chain([
        ("北纬", false),
        ("北緯", false),
        ("南纬", true),
        ("南緯", true),
    ]) {
        if let Some(rest) = body.strip_prefix(prefix) {
            body = rest.trim_start();
            negative = Some(neg);
            break;
        }
    }
    let hemisphere = |c: char| match c {
        'N' | 'n' | 'E' | 'e' | '东' | '東' | '北' => Some(false),
        'S' | 's' | 'W' | 'w' | '西' | '南' => Some(true),
        _ => None,
    };
    if negative.is_none() {
        if let Some(c) = body.chars().next_back()
            && let Some(neg) = hemisphere(c)
        {
            body = body[..body.len() - c.len_utf8()].trim_end();
            negative = Some(neg);
        } else if let Some(c) = body.chars().next()
            && let Some(neg) = hemisphere(c)
        {
            body = body[c.len_utf8()..].trim_start();
            negative = Some(neg);
        }
    }
    let mut sign_negative = false;
    if let Some(rest) = body.strip_prefix('-') {
        sign_negative = true;
        body = rest;
    } else if let Some(rest) = body.strip_prefix('+') {
        body = rest;
    }
    if sign_negative && negative.is_some() {
        return None;
    }

    // Numbers, each with the unit mark after it, if any.
    let mut parts: Vec<(f64, Option<Unit>)> = Vec::new();
    let mut number = String::new();
    let mut chars = body.chars().peekable();
    let flush = |number: &mut String, unit: Option<Unit>, parts: &mut Vec<(f64, Option<Unit>)>| -> Option<()> {
        if number.is_empty() {
            // A mark without a number ("°'") is not a coordinate.
            return if unit.is_some() { None } else { Some(()) };
        }
        let v = number.parse::<f64>().ok().filter(|v| v.is_finite())?;
        parts.push((v, unit));
        number.clear();
        Some(())
    };
    while let Some(c) = chars.next() {
        match c {
            '0'..='9' | '.' => number.push(c),
            '°' | 'º' | '˚' | '度' => flush(&mut number, Some(Unit::Degree), &mut parts)?,
            '\'' if chars.peek() == Some(&'\'') => {
                chars.next();
                flush(&mut number, Some(Unit::Second), &mut parts)?;
            }
            '\'' | '′' | '’' | '‘' | '分' => flush(&mut number, Some(Unit::Minute), &mut parts)?,
            '"' | '″' | '”' | '“' | '秒' => flush(&mut number, Some(Unit::Second), &mut parts)?,
            c if c.is_whitespace() => flush(&mut number, None, &mut parts)?,
            _ => return None,
        }
    }
    flush(&mut number, None, &mut parts)?;
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    // A lone number needs a hemisphere or a mark to be read here at all ("31.3N", "31.3°").
    if parts.len() == 1 && parts[0].1.is_none() && negative.is_none() {
        return None;
    }
    let (mut d, mut m, mut sec) = (None, None, None);
    let mut last: Option<Unit> = None;
    for (v, unit) in parts {
        // An unmarked number is the unit after the last one: "120 37 12.5", "120°37 12.5".
        let next = match last {
            None => Some(Unit::Degree),
            Some(Unit::Degree) => Some(Unit::Minute),
            Some(Unit::Minute) => Some(Unit::Second),
            Some(Unit::Second) => None,
        };
        let unit = unit.or(next)?;
        if last.is_some_and(|l| unit <= l) {
            return None;
        }
        match unit {
            Unit::Degree => d = Some(v),
            Unit::Minute => m = Some(v),
            Unit::Second => sec = Some(v),
        }
        last = Some(unit);
    }
    let d = d?;
    let whole = |v: f64| v.fract() == 0.0;
    if m.is_some_and(|m| m >= 60.0) || sec.is_some_and(|s| s >= 60.0) {
        return None;
    }
    // 120.5°30' says two things at once.
    if (m.is_some() || sec.is_some()) && !whole(d) || sec.is_some() && m.is_some_and(|m| !whole(m)) {
        return None;
    }
    if d > 360.0 {
        return None;
    }
    let value = d + m.unwrap_or(0.0) / 60.0 + sec.unwrap_or(0.0) / 3600.0;
    Some(if sign_negative || negative == Some(true) { -value } else { value })
}

/// Both coordinates from one cell, longitude first: "120.62,31.30", "120.62 31.30",
/// "(120.62, 31.30)", "POINT (120.62 31.30)".
fn parse_pair(text: &str) -> Option<(f64, f64)> {
    let s = halfwidth(text);
    let mut s = s.trim();
    if let Some(rest) = s.get(5..).filter(|_| s.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("point"))) {
        s = rest.trim_start();
    }
    let s = s
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .or_else(|| s.strip_prefix('[').and_then(|r| r.strip_suffix(']')))
        .unwrap_or(s)
        .trim();
    let (a, b) = match s.find([',', ';', '、']) {
        Some(i) => {
            let sep = s[i..].chars().next()?;
            let (a, b) = (&s[..i], &s[i + sep.len_utf8()..]);
            if b.contains([',', ';', '、']) {
                return None;
            }
            (a, b)
        }
        None => {
            let mut it = s.split_whitespace();
            let (a, b) = (it.next()?, it.next()?);
            if it.next().is_some() {
                return None;
            }
            (a, b)
        }
    };
    Some((parse_coordinate(a)?, parse_coordinate(b)?))
}

/// A cell's text as an attribute: plain integers and decimals as JSON numbers, everything else
/// as the text. Codes that only look like numbers stay text: leading zeros ("0512", an area
/// code) and more digits than a double holds exactly (18-digit ID numbers).
fn text_value(text: &str) -> Option<Value> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let digits = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let plain = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && !(int.len() > 1 && int.starts_with('0'))
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
        && int.len() + frac.map_or(0, str::len) <= 15;
    if plain {
        let number = match frac {
            None => t.parse::<i64>().ok().map(serde_json::Number::from),
            Some(_) => t.parse::<f64>().ok().and_then(serde_json::Number::from_f64),
        };
        if let Some(n) = number {
            return Some(Value::Number(n));
        }
    }
    Some(Value::String(t.to_string()))
}

/// A spreadsheet cell as an attribute: numbers as numbers (whole ones as integers, since Excel
/// stores every number as a double), dates as ISO 8601 text, empty and error cells left out.
fn sheet_value(cell: &Data) -> Option<Value> {
    match cell {
        Data::Empty | Data::Error(_) => None,
        Data::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| Value::String(t.to_string()))
        }
        Data::Int(i) => Some(Value::from(*i)),
        Data::Float(f) => float_value(*f),
        Data::Bool(b) => Some(Value::Bool(*b)),
        Data::DateTime(dt) => Some(Value::String(excel_date(dt))),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(Value::String(s.clone())),
    }
}

fn float_value(f: f64) -> Option<Value> {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Some(Value::from(f as i64))
    } else {
        serde_json::Number::from_f64(f).map(Value::Number)
    }
}

/// "2023-05-01", "2023-05-01T08:30:00", or "08:30:00" for a time of day alone.
fn excel_date(dt: &calamine::ExcelDateTime) -> String {
    let (y, mo, d, h, mi, s, _ms) = dt.to_ymd_hms_milli();
    if dt.is_duration() || (0.0..1.0).contains(&dt.as_f64()) {
        let seconds = (dt.as_f64() * 86_400.0).round().max(0.0) as u64;
        return format!("{:02}:{:02}:{:02}", seconds / 3600, seconds % 3600 / 60, seconds % 60);
    }
    if (h, mi, s) == (0, 0, 0) {
        format!("{y:04}-{mo:02}-{d:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
    }
}

/// A spreadsheet cell as text, for headers and the preview.
fn sheet_text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) => match float_value(*f) {
            Some(v) => v.to_string(),
            None => f.to_string(),
        },
        Data::DateTime(dt) => excel_date(dt),
        other => other.to_string(),
    }
}

/// A coordinate cell, whichever kind of file it came from.
enum Cell<'a> {
    Empty,
    Text(&'a str),
    Number(f64),
    /// A date, a boolean or an error cell: shown as this text when reported.
    Other(String),
}

impl Cell<'_> {
    fn of_text(s: Option<&str>) -> Cell<'_> {
        match s {
            Some(t) if !t.trim().is_empty() => Cell::Text(t),
            _ => Cell::Empty,
        }
    }

    fn of_sheet(cell: Option<&Data>) -> Cell<'_> {
        match cell {
            None | Some(Data::Empty) => Cell::Empty,
            Some(Data::String(s)) => Cell::of_text(Some(s)),
            Some(Data::Float(f)) => Cell::Number(*f),
            Some(Data::Int(i)) => Cell::Number(*i as f64),
            Some(other) => Cell::Other(sheet_text(other)),
        }
    }

    fn shown(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.trim().to_string(),
            Cell::Number(v) => v.to_string(),
            Cell::Other(s) => s.clone(),
        }
    }

    /// `Ok(None)` for an empty cell, `Err(())` for one that is not a coordinate.
    fn coordinate(&self) -> Result<Option<f64>, ()> {
        match self {
            Cell::Empty => Ok(None),
            Cell::Number(v) if v.is_finite() => Ok(Some(*v)),
            Cell::Text(t) => parse_coordinate(t).map(Some).ok_or(()),
            Cell::Number(_) | Cell::Other(_) => Err(()),
        }
    }

    fn pair(&self) -> Result<Option<(f64, f64)>, ()> {
        match self {
            Cell::Empty => Ok(None),
            Cell::Text(t) => parse_pair(t).map(Some).ok_or(()),
            Cell::Number(_) | Cell::Other(_) => Err(()),
        }
    }
}

/// What a row's coordinate cells gave.
enum RowPoint {
    Point(f64, f64),
    /// No coordinates at all: a blank or a subtotal row.
    Empty,
    /// The first column is filled, the second (this one) is not, or the reverse.
    Partial(usize),
    /// This column holds this, which is no coordinate.
    Bad(usize, String),
}

fn row_point<'a>(columns: Columns, cell: impl Fn(usize) -> Cell<'a>) -> RowPoint {
    match columns {
        Columns::Pair(x, y) => {
            let (cx, cy) = (cell(x), cell(y));
            match (cx.coordinate(), cy.coordinate()) {
                (Err(()), _) => RowPoint::Bad(x, cx.shown()),
                (_, Err(())) => RowPoint::Bad(y, cy.shown()),
                (Ok(Some(a)), Ok(Some(b))) => RowPoint::Point(a, b),
                (Ok(None), Ok(None)) => RowPoint::Empty,
                (Ok(Some(_)), Ok(None)) => RowPoint::Partial(y),
                (Ok(None), Ok(Some(_))) => RowPoint::Partial(x),
            }
        }
        Columns::Combined(c) => {
            let cc = cell(c);
            match cc.pair() {
                Ok(Some((a, b))) => RowPoint::Point(a, b),
                Ok(None) => RowPoint::Empty,
                Err(()) => RowPoint::Bad(c, cc.shown()),
            }
        }
    }
}

/// Gauss-Krüger survey tables in China name the northing X and the easting Y. Northings of
/// China lie between 2,000 and 6,000 km; eastings are 100–900 km from the false origin, with
/// or without a zone number (13–45) in front. All positions must agree before anything is
/// swapped, since a mixed table is better read as it says.
fn survey_convention(points: impl IntoIterator<Item = (f64, f64)>) -> bool {
    let northing = |v: f64| (2_000_000.0..=6_000_000.0).contains(&v);
    let easting = |v: f64| {
        let zone = (v / 1_000_000.0).floor();
        (100_000.0..1_000_000.0).contains(&v)
            || ((13.0..=45.0).contains(&zone) && (100_000.0..1_000_000.0).contains(&(v - zone * 1_000_000.0)))
    };
    let mut any = false;
    for (x, y) in points {
        if !(northing(x) && easting(y)) {
            return false;
        }
        any = true;
    }
    any
}

/// A pair column written latitude first ("31.30,120.62"): only where every pair says so, which
/// in China (latitudes under 54°, longitudes over 73°) every real one does.
fn latitude_first(points: impl IntoIterator<Item = (f64, f64)>) -> bool {
    let mut any = false;
    for (a, b) in points {
        if !(a.abs() <= 90.0 && b.abs() > 90.0 && b.abs() <= 180.0) {
            return false;
        }
        any = true;
    }
    any
}

/// How a table's coordinate columns were decided, for what may be done with them.
struct Layout {
    header_index: usize,
    headers: Vec<String>,
    columns: Columns,
    /// The user named the columns: they are taken as named, never swapped.
    chosen: bool,
}

/// Finds the header row among the first rows and the coordinate columns in it.
fn find_layout(rows: &[Vec<String>], opts: &OpenOptions) -> Result<Layout, String> {
    let detected =
        rows.iter().take(HEADER_SEARCH_ROWS).enumerate().find_map(|(i, r)| detect_columns(r).map(|c| (i, c)));
    let first_filled =
        || rows.iter().take(HEADER_SEARCH_ROWS).position(|r| r.iter().any(|c| !c.trim().is_empty())).unwrap_or(0);
    let Some((x, y)) = &opts.columns else {
        return match detected {
            Some((i, columns)) => Ok(Layout { header_index: i, headers: rows[i].clone(), columns, chosen: false }),
            None => Err(format!(
                "no coordinate columns found among its headers ({}); choose its x and y columns",
                list_headers(rows.get(first_filled()).map_or(&[][..], Vec::as_slice))
            )),
        };
    };
    let find = |row: &[String], name: &str| {
        let name = name.trim();
        row.iter()
            .position(|h| h.trim() == name)
            .or_else(|| row.iter().position(|h| !name.is_empty() && header_key(h) == header_key(name)))
    };
    for (i, row) in rows.iter().take(HEADER_SEARCH_ROWS).enumerate() {
        if let (Some(xi), Some(yi)) = (find(row, x), find(row, y)) {
            let columns = if xi == yi { Columns::Combined(xi) } else { Columns::Pair(xi, yi) };
            return Ok(Layout { header_index: i, headers: row.clone(), columns, chosen: true });
        }
    }
    let shown = detected.map_or_else(first_filled, |(i, _)| i);
    let row = rows.get(shown).map_or(&[][..], Vec::as_slice);
    let missing: Vec<String> =
        [x, y].into_iter().filter(|n| find(row, n).is_none()).map(|n| format!("{n:?}")).collect();
    Err(format!("no column named {} among its headers ({})", missing.join(" or "), list_headers(row)))
}

fn list_headers(row: &[String]) -> String {
    let named: Vec<&str> = row.iter().map(|h| h.trim()).filter(|h| !h.is_empty()).collect();
    if named.is_empty() {
        return "none: the first rows are empty".into();
    }
    let mut s = named.iter().take(30).copied().collect::<Vec<_>>().join(", ");
    if named.len() > 30 {
        s.push_str(&format!(", … {} in all", named.len()));
    }
    s
}

/// Attribute names: the header text, with a name made up for an empty header and a number
/// added to a repeated one, so no column is lost to another of the same name.
fn attribute_names(headers: &[String]) -> Vec<String> {
    let mut taken = std::collections::HashSet::new();
    let mut names: Vec<String> = Vec::with_capacity(headers.len());
    for (i, h) in headers.iter().enumerate() {
        let base = match h.trim().trim_start_matches('\u{feff}') {
            "" => format!("column {}", i + 1),
            t => t.to_string(),
        };
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        taken.insert(name.clone());
        names.push(name);
    }
    names
}

/// A cell's text short enough for a message: a stray paragraph in a coordinate column should
/// not become a paragraph in the problems window.
fn excerpt(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        return text.to_string();
    }
    let mut s: String = text.chars().take(MAX).collect();
    s.push('…');
    s
}

/// "A", "B", …, "Z", "AA": a spreadsheet column as the planner sees it.
fn column_letter(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(char::from(b'A' + (index % 26) as u8));
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.iter().rev().collect()
}

/// Where the rows come from, for the places and words of diagnostics.
#[derive(Clone, Copy)]
enum Source<'a> {
    Csv,
    /// The sheet's name and its first column's index in the sheet.
    Sheet(&'a str, usize),
}

/// Turns rows into points, reporting the rows it cannot place.
struct Collector<'a> {
    path: &'a Path,
    source: Source<'a>,
    layout: &'a Layout,
    names: Vec<String>,
    points: Vec<(f64, f64, Map<String, Value>)>,
    /// The first row whose coordinate cell holds no coordinate: (position, column, value).
    first_bad: Option<(Position, String, String)>,
}

impl<'a> Collector<'a> {
    fn new(path: &'a Path, source: Source<'a>, layout: &'a Layout) -> Self {
        Collector { path, source, layout, names: attribute_names(&layout.headers), points: Vec::new(), first_bad: None }
    }

    fn is_coordinate(&self, col: usize) -> bool {
        match self.layout.columns {
            Columns::Pair(x, y) => col == x || col == y,
            Columns::Combined(c) => col == c,
        }
    }

    fn position(&self, row: usize, col: usize) -> Position {
        match self.source {
            Source::Csv => Position::LineColumn(row, col + 1),
            Source::Sheet(name, _) => Position::At(format!("sheet {name:?} row {row}")),
        }
    }

    /// The column as messages name it: its header, and its letter in a sheet.
    fn column(&self, col: usize) -> String {
        let name = self.names.get(col).cloned().unwrap_or_else(|| format!("column {}", col + 1));
        match self.source {
            Source::Csv => name,
            Source::Sheet(_, first) => format!("{name} ({})", column_letter(first + col)),
        }
    }

    /// " in sheet \"企业\"" for messages that are folded together across a workbook.
    fn scope(&self) -> String {
        match self.source {
            Source::Csv => String::new(),
            Source::Sheet(name, _) => format!(" in sheet {name:?}"),
        }
    }

    fn add(&mut self, row: usize, point: RowPoint, attributes: Map<String, Value>, diags: &mut Diagnostics) {
        match point {
            RowPoint::Point(x, y) => self.points.push((x, y, attributes)),
            RowPoint::Empty => {
                let message = format!("rows without coordinates were left out{}", self.scope());
                diags.push(Diagnostic::warning(self.path, self.position(row, 0), message));
            }
            RowPoint::Partial(col) => {
                let message = format!(
                    "rows with an empty {} were left out{}: both coordinates are needed",
                    self.column(col),
                    self.scope()
                );
                diags.push(Diagnostic::error(self.path, self.position(row, col), message));
            }
            RowPoint::Bad(col, value) => {
                let value = excerpt(&value);
                let message =
                    format!("column {} holds {value:?}, not a coordinate; the row was left out", self.column(col));
                diags.push(Diagnostic::error(self.path, self.position(row, col), message));
                if self.first_bad.is_none() {
                    self.first_bad = Some((self.position(row, col), self.column(col), value));
                }
            }
        }
    }

    /// The layer, with the survey convention applied to detected columns; an error where no
    /// row could be placed.
    fn finish(self, mut layer: RawLayer) -> Result<RawLayer, FormatError> {
        if self.points.is_empty() {
            return Err(match self.first_bad {
                Some((position, column, value)) => FormatError::invalid(
                    self.path,
                    position,
                    format!("column {column} holds text, not coordinates: e.g. {value:?}"),
                ),
                None => {
                    let position = match self.source {
                        Source::Csv => Position::File,
                        Source::Sheet(name, _) => Position::At(format!("sheet {name:?}")),
                    };
                    let columns = match self.layout.columns {
                        Columns::Pair(x, y) => format!("{} and {}", self.column(x), self.column(y)),
                        Columns::Combined(c) => self.column(c),
                    };
                    FormatError::invalid(self.path, position, format!("no row has coordinates in {columns}"))
                }
            });
        }
        let swap = swap_note(self.layout, &self.names, self.points.iter().map(|(x, y, _)| (*x, *y)), &mut layer.notes);
        layer.features = self
            .points
            .into_iter()
            .map(|(a, b, attrs)| {
                let (x, y) = if swap { (b, a) } else { (a, b) };
                feature(Geometry::Point(Point::new(x, y)), attrs)
            })
            .collect();
        Ok(layer)
    }
}

/// Whether the two values read from a row are the other way round, noting why. Columns the
/// user named are taken as named; a pair column's order cannot be named, so it is always
/// checked.
fn swap_note(
    layout: &Layout,
    names: &[String],
    points: impl Iterator<Item = (f64, f64)>,
    notes: &mut Vec<String>,
) -> bool {
    let name = |c: usize| names.get(c).map_or("?", String::as_str);
    let note = match layout.columns {
        Columns::Pair(x, y) => (!layout.chosen && survey_convention(points))
            .then(|| format!("{}/{} read as northing/easting (survey convention)", name(x), name(y))),
        Columns::Combined(c) => latitude_first(points).then(|| format!("{} read as latitude,longitude", name(c))),
    };
    notes.extend(note.clone());
    note.is_some()
}

fn is_workbook(path: &Path) -> bool {
    matches!(super::Format::of(path), Some(super::Format::Spreadsheet))
}

fn check_size(path: &Path) -> Result<(), FormatError> {
    let len = std::fs::metadata(path).map_err(|e| FormatError::io(path, e))?.len();
    if len > MAX_TABLE_BYTES {
        return Err(FormatError::invalid(
            path,
            Position::File,
            format!(
                "the table is {} MiB; port-atlas reads tables up to 2 GiB: split it, or convert it to a GeoPackage",
                crate::diagnostic::thousands((len >> 20) as usize)
            ),
        ));
    }
    Ok(())
}

// --- CSV ---

/// The encoding: a byte-order mark is certain, then the user's choice, then detection.
fn choose_encoding(bytes: &[u8], forced: Option<&'static Encoding>, whole: bool) -> Detected {
    if Encoding::for_bom(bytes).is_some() {
        return detect(bytes);
    }
    if let Some(e) = forced {
        return Detected { encoding: e, why: "chosen by the user" };
    }
    if whole {
        return detect(bytes);
    }
    // The start of a file may end inside a character: that is still UTF-8.
    match std::str::from_utf8(bytes) {
        Ok(_) => Detected { encoding: UTF_8, why: "valid UTF-8" },
        Err(e) if e.error_len().is_none() => Detected { encoding: UTF_8, why: "valid UTF-8" },
        Err(_) => Detected { encoding: GB18030, why: "not UTF-8; read as GB18030/GBK" },
    }
}

/// The file's text, without a byte-order mark. Decoding is strict: text that is not valid in
/// the encoding is an error naming it, never replacement characters in the attributes.
fn decode(path: &Path, mut bytes: Vec<u8>, detected: Detected) -> Result<String, FormatError> {
    let bom = Encoding::for_bom(&bytes).map_or(0, |(_, n)| n);
    let bad = |line: Option<usize>| {
        FormatError::invalid(
            path,
            line.map_or(Position::File, |l| Position::LineColumn(l, 1)),
            format!(
                "the text is not valid {}; choose its encoding (GBK, UTF-8, Big5…)",
                display_name(detected.encoding)
            ),
        )
    };
    if detected.encoding == UTF_8 {
        bytes.drain(..bom);
        return String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            bad(Some(e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1))
        });
    }
    let text = bytes.get(bom..).and_then(|b| decode_strict(b, detected.encoding)).map(|t| t.into_owned());
    text.ok_or_else(|| bad(None))
}

/// The field separator: of `,` tab `;` `|`, the one (outside quotes) on the most of the first
/// lines, then the most often on one line; a comma when none appears. A title row has none of
/// them, and commas inside a tab-separated file's addresses are on fewer lines than the tabs.
fn sniff_delimiter(text: &str) -> u8 {
    const CANDIDATES: [u8; 4] = [b',', b'\t', b';', b'|'];
    let mut lines = [0usize; 4];
    let mut most = [0usize; 4];
    let mut counts = [0usize; 4];
    let mut quoted = false;
    let mut seen_lines = 0;
    let mut end_line = |counts: &mut [usize; 4]| {
        for i in 0..4 {
            if counts[i] > 0 {
                lines[i] += 1;
                most[i] = most[i].max(counts[i]);
            }
            counts[i] = 0;
        }
    };
    for b in text.bytes().take(1 << 16) {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                end_line(&mut counts);
                seen_lines += 1;
                if seen_lines >= HEADER_SEARCH_ROWS + PREVIEW_ROWS {
                    break;
                }
            }
            _ if !quoted => {
                if let Some(i) = CANDIDATES.iter().position(|&c| c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    end_line(&mut counts);
    let best = (0..4).max_by_key(|&i| (lines[i], most[i], std::cmp::Reverse(i))).unwrap_or(0);
    if lines[best] == 0 { b',' } else { CANDIDATES[best] }
}

fn csv_reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes())
}

fn record_line(record: &csv::StringRecord) -> usize {
    record.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX))
}

fn csv_error(path: &Path, e: &csv::Error) -> FormatError {
    let line = e.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
    FormatError::invalid(path, Position::LineColumn(line, 1), format!("cannot be read as CSV: {e}"))
}

/// The first records, where the header is looked for.
fn head_records(
    path: &Path,
    records: &mut csv::StringRecordsIter<&[u8]>,
    count: usize,
) -> Result<Vec<csv::StringRecord>, FormatError> {
    records.take(count).map(|r| r.map_err(|e| csv_error(path, &e))).collect()
}

fn record_texts(record: &csv::StringRecord) -> Vec<String> {
    record.iter().map(|f| f.trim().to_string()).collect()
}

fn read_csv(path: &Path, opts: &OpenOptions, diags: &mut Diagnostics) -> Result<Vec<RawLayer>, FormatError> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    let detected = choose_encoding(&bytes, opts.encoding, true);
    let text = decode(path, bytes, detected)?;
    let mut reader = csv_reader(&text, sniff_delimiter(&text));
    let mut records = reader.records();
    let head = head_records(path, &mut records, HEADER_SEARCH_ROWS)?;
    let rows: Vec<Vec<String>> = head.iter().map(record_texts).collect();
    let layout = find_layout(&rows, opts).map_err(|m| FormatError::invalid(path, Position::LineColumn(1, 1), m))?;

    let mut collector = Collector::new(path, Source::Csv, &layout);
    let width = layout.headers.len();
    let rest = head.into_iter().skip(layout.header_index + 1).map(Ok).chain(records);
    for record in rest {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let line = record_line(&record);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() < width {
            let message = "rows with fewer fields than the header; the missing ones are read as empty";
            diags.push(Diagnostic::warning(path, Position::LineColumn(line, record.len() + 1), message));
        } else if record.len() > width && record.iter().skip(width).any(|f| !f.trim().is_empty()) {
            let message = "rows with more fields than the header; the extra ones were left out";
            diags.push(Diagnostic::warning(path, Position::LineColumn(line, width + 1), message));
        }
        let point = row_point(layout.columns, |c| Cell::of_text(record.get(c)));
        let mut attributes = Map::new();
        for (c, field) in record.iter().enumerate().take(width) {
            if !collector.is_coordinate(c)
                && let Some(v) = text_value(field)
            {
                attributes.insert(collector.names[c].clone(), v);
            }
        }
        collector.add(line, point, attributes, diags);
    }
    let mut layer = RawLayer::new(stem(path), "CSV");
    layer.encoding = Some(detected.describe());
    Ok(vec![collector.finish(layer)?])
}

fn preview_csv(path: &Path, opts: &OpenOptions) -> Result<TablePreview, FormatError> {
    let file = std::fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(PREVIEW_BYTES).read_to_end(&mut bytes).map_err(|e| FormatError::io(path, e))?;
    let whole = (bytes.len() as u64) < PREVIEW_BYTES;
    let detected = choose_encoding(&bytes, opts.encoding, whole);
    let (encoding, bom) = Encoding::for_bom(&bytes).unwrap_or((detected.encoding, 0));
    // Lenient here: the dialog shows what it can; reading decides strictly.
    let (text, _) = encoding.decode_without_bom_handling(bytes.get(bom..).unwrap_or_default());
    let text = if whole { &text[..] } else { text.rfind('\n').map_or(&text[..], |i| &text[..i]) };
    let delimiter = sniff_delimiter(text);
    let mut reader = csv_reader(text, delimiter);
    let mut records = reader.records();
    let head = head_records(path, &mut records, HEADER_SEARCH_ROWS + PREVIEW_ROWS)?;
    let texts: Vec<Vec<String>> = head.iter().map(record_texts).collect();
    let mut preview =
        preview_rows(&texts, opts).map_err(|m| FormatError::invalid(path, Position::LineColumn(1, 1), m))?;
    preview.header_row = head.get(preview.header_row).map_or(1, record_line);
    preview.encoding = Some(detected.describe());
    preview.delimiter = Some(char::from(delimiter));
    Ok(preview)
}

/// The preview of rows already in memory, `header_row` left as an index into `rows`. No
/// coordinate columns is no error here (the dialog asks for them); a named one missing is.
fn preview_rows(rows: &[Vec<String>], opts: &OpenOptions) -> Result<TablePreview, String> {
    let mut preview = TablePreview::default();
    match find_layout(rows, opts) {
        Ok(layout) => {
            let names = attribute_names(&layout.headers);
            let points: Vec<(f64, f64)> = rows
                .iter()
                .skip(layout.header_index + 1)
                .filter(|r| r.iter().any(|c| !c.trim().is_empty()))
                .take(PREVIEW_ROWS)
                .filter_map(|r| match row_point(layout.columns, |c| Cell::of_text(r.get(c).map(String::as_str))) {
                    RowPoint::Point(a, b) => Some((a, b)),
                    _ => None,
                })
                .collect();
            let mut columns = layout.columns;
            if swap_note(&layout, &names, points.iter().copied(), &mut preview.notes)
                && let Columns::Pair(x, y) = columns
            {
                columns = Columns::Pair(y, x);
            }
            preview.header_row = layout.header_index;
            preview.headers = layout.headers;
            preview.columns = Some(columns);
        }
        Err(m) if opts.columns.is_some() => return Err(m),
        Err(_) => {
            let i = rows.iter().position(|r| r.iter().any(|c| !c.trim().is_empty())).unwrap_or(0);
            preview.header_row = i;
            preview.headers = rows.get(i).cloned().unwrap_or_default();
        }
    }
    preview.rows = rows
        .iter()
        .skip(preview.header_row + 1)
        .filter(|r| r.iter().any(|c| !c.trim().is_empty()))
        .take(PREVIEW_ROWS)
        .cloned()
        .collect();
    Ok(preview)
}

// --- Workbooks ---

fn open_workbook(path: &Path) -> Result<calamine::Sheets<std::io::BufReader<std::fs::File>>, FormatError> {
    calamine::open_workbook_auto(path).map_err(|e| match e {
        calamine::Error::Io(io) => FormatError::io(path, io),
        e => FormatError::invalid(path, Position::File, format!("cannot be read as a workbook: {e}")),
    })
}

fn range_texts(range: &calamine::Range<Data>, count: usize) -> Vec<Vec<String>> {
    range.rows().take(count).map(|r| r.iter().map(sheet_text).collect()).collect()
}

/// The sheet `--layer` names, or every sheet; an unknown name lists the sheets.
fn chosen_sheets(path: &Path, sheets: &[String], opts: &OpenOptions) -> Result<Vec<String>, FormatError> {
    match &opts.layer {
        Some(name) if sheets.contains(name) => Ok(vec![name.clone()]),
        Some(name) => Err(FormatError::Layers {
            path: path.to_path_buf(),
            message: format!("no sheet named {name:?}"),
            available: sheets.to_vec(),
        }),
        None => Ok(sheets.to_vec()),
    }
}

fn read_workbook(path: &Path, opts: &OpenOptions, diags: &mut Diagnostics) -> Result<Vec<RawLayer>, FormatError> {
    let mut workbook = open_workbook(path)?;
    let sheets = workbook.sheet_names();
    let chosen = chosen_sheets(path, &sheets, opts)?;
    let picked = opts.layer.is_some();
    let mut layers = Vec::new();
    let mut first_error = None;
    for name in &chosen {
        let range = match workbook.worksheet_range(name) {
            Ok(r) => r,
            Err(e) if picked => {
                return Err(FormatError::invalid(path, Position::At(format!("sheet {name:?}")), e.to_string()));
            }
            Err(e) => {
                let message = format!("sheet {name:?} cannot be read ({e}); skipped");
                diags.push(Diagnostic::warning(path, Position::File, message));
                continue;
            }
        };
        let (top, left) = range.start().map_or((0, 0), |(r, c)| (r as usize, c as usize));
        let head = range_texts(&range, HEADER_SEARCH_ROWS);
        let layout = match find_layout(&head, opts) {
            Ok(l) => l,
            Err(m) if picked => {
                return Err(FormatError::invalid(path, Position::At(format!("sheet {name:?} row {}", top + 1)), m));
            }
            Err(_) => {
                let message = format!("sheet {name:?} has no coordinate columns; skipped");
                diags.push(Diagnostic::warning(path, Position::File, message));
                continue;
            }
        };
        let mut collector = Collector::new(path, Source::Sheet(name, left), &layout);
        for (i, row) in range.rows().enumerate().skip(layout.header_index + 1) {
            if row.iter().all(|c| matches!(c, Data::Empty)) {
                continue;
            }
            let point = row_point(layout.columns, |c| Cell::of_sheet(row.get(c)));
            let mut attributes = Map::new();
            for (c, cell) in row.iter().enumerate().take(collector.names.len()) {
                if !collector.is_coordinate(c)
                    && let Some(v) = sheet_value(cell)
                {
                    attributes.insert(collector.names[c].clone(), v);
                }
            }
            collector.add(top + i + 1, point, attributes, diags);
        }
        let layer_name = if sheets.len() == 1 { stem(path) } else { name.clone() };
        match collector.finish(RawLayer::new(layer_name, format!("spreadsheet sheet {name}"))) {
            Ok(layer) => layers.push(layer),
            Err(e) if picked => return Err(e),
            Err(e) => {
                diags.push(e.to_diagnostic());
                first_error.get_or_insert(e);
            }
        }
    }
    if layers.is_empty() {
        return Err(first_error.unwrap_or_else(|| {
            FormatError::invalid(
                path,
                Position::File,
                format!(
                    "none of its sheets ({}) has coordinate columns; choose a sheet and its x and y columns",
                    sheets.join(", ")
                ),
            )
        }));
    }
    Ok(layers)
}

fn preview_workbook(path: &Path, opts: &OpenOptions) -> Result<TablePreview, FormatError> {
    let mut workbook = open_workbook(path)?;
    let sheets = workbook.sheet_names();
    let candidates = chosen_sheets(path, &sheets, opts)?;
    let mut fallback = None;
    for name in &candidates {
        let Ok(range) = workbook.worksheet_range(name) else { continue };
        let top = range.start().map_or(0, |(r, _)| r as usize);
        let rows = range_texts(&range, HEADER_SEARCH_ROWS + PREVIEW_ROWS);
        let at = |row: usize| Position::At(format!("sheet {name:?} row {row}"));
        let mut preview = preview_rows(&rows, opts).map_err(|m| FormatError::invalid(path, at(top + 1), m))?;
        preview.header_row += top + 1;
        preview.sheets = sheets.clone();
        preview.sheet = Some(name.clone());
        if preview.columns.is_some() || opts.layer.is_some() {
            return Ok(preview);
        }
        fallback.get_or_insert(preview);
    }
    fallback.ok_or_else(|| match &opts.layer {
        Some(name) => FormatError::invalid(path, Position::At(format!("sheet {name:?}")), "the sheet cannot be read"),
        None => FormatError::invalid(path, Position::File, "the workbook has no sheet that can be read"),
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::diagnostic::Severity;
    use crate::spatial::crs::SourceCrs;

    /// A fresh directory per test, so tests running in parallel never share files.
    fn scratch(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("port-atlas-table-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write(test: &str, name: &str, bytes: &[u8]) -> PathBuf {
        let path = scratch(test).join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn read_with(path: &Path, opts: &OpenOptions) -> (Vec<RawLayer>, Vec<Diagnostic>) {
        let mut diags = Diagnostics::new();
        let layers = read(path, opts, &mut diags).unwrap();
        (layers, diags.into_vec())
    }

    fn read_one(path: &Path) -> (RawLayer, Vec<Diagnostic>) {
        let (mut layers, diags) = read_with(path, &OpenOptions::default());
        assert_eq!(layers.len(), 1);
        (layers.remove(0), diags)
    }

    fn xy(layer: &RawLayer, i: usize) -> (f64, f64) {
        match &layer.features[i].geometry {
            Geometry::Point(p) => (p.x(), p.y()),
            other => panic!("not a point: {other:?}"),
        }
    }

    fn attr<'a>(layer: &'a RawLayer, i: usize, key: &str) -> Option<&'a Value> {
        layer.features[i].extra.get(key)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn opts_columns(x: &str, y: &str) -> OpenOptions {
        OpenOptions { columns: Some((x.into(), y.into())), ..Default::default() }
    }

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats/table/enterprises.xlsx")
    }

    #[test]
    fn amap_export_in_gbk_with_a_title_row() {
        let text = "太仓市重点企业名单（2023年）,,,,,\r\n\
                    企业名称,地址,经度,纬度,员工数,区号\r\n\
                    舍弗勒（太仓）有限公司,太仓市经济开发区宁波东路,121.1389,31.4672,2650,0512\r\n\
                    太仓港集装箱码头,\"太仓港港口开发区,北环路\",121.2321,31.6317,830,0512\r\n";
        let (gbk, _, unmappable) = GB18030.encode(text);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&gbk).is_err(), "the fixture must really be GBK");
        let path = write("gbk", "重点企业.csv", &gbk);
        let (layer, diags) = read_one(&path);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(layer.name, "重点企业");
        assert_eq!(layer.format, "CSV");
        assert!(layer.crs.is_none());
        assert_eq!(layer.encoding.as_deref(), Some("GB18030/GBK (not UTF-8)"));
        assert_eq!(layer.features.len(), 2);
        assert_eq!(xy(&layer, 0), (121.1389, 31.4672));
        assert_eq!(attr(&layer, 0, "企业名称"), Some(&Value::from("舍弗勒（太仓）有限公司")));
        assert_eq!(attr(&layer, 1, "地址"), Some(&Value::from("太仓港港口开发区,北环路")));
        assert_eq!(attr(&layer, 0, "员工数"), Some(&Value::from(2650)));
        assert_eq!(attr(&layer, 0, "区号"), Some(&Value::from("0512")), "a leading zero keeps a code text");
        assert_eq!(attr(&layer, 0, "经度"), None, "coordinate columns are the geometry, not attributes");
        assert!(layer.notes.is_empty());
    }

    #[test]
    fn forced_encoding_and_a_wrong_one() {
        let (gbk, _, _) = GB18030.encode("名称,经度,纬度\n太仓港,121.23,31.63\n");
        let path = write("forced", "港口.csv", &gbk);
        let opts = OpenOptions { encoding: Some(GB18030), ..Default::default() };
        let (layers, _) = read_with(&path, &opts);
        assert_eq!(layers[0].encoding.as_deref(), Some("GB18030/GBK (chosen by the user)"));
        let opts = OpenOptions { encoding: Some(UTF_8), ..Default::default() };
        let err = read(&path, &opts, &mut Diagnostics::new()).unwrap_err();
        assert!(err.to_string().contains("not valid UTF-8; choose its encoding"), "{err}");
    }

    #[test]
    fn utf8_with_a_byte_order_mark() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("name,lon,lat\n太仓港集装箱码头,121.2321,31.6317\n".as_bytes());
        let path = write("bom", "ports.csv", &bytes);
        let (layer, _) = read_one(&path);
        assert_eq!(layer.encoding.as_deref(), Some("UTF-8 (byte-order mark)"));
        assert_eq!(attr(&layer, 0, "name"), Some(&Value::from("太仓港集装箱码头")), "no BOM in the first header");
        assert_eq!(xy(&layer, 0), (121.2321, 31.6317));
    }

    #[test]
    fn excel_unicode_text_is_tab_separated_utf16le() {
        let text = "名称\t地址\t经度\t纬度\r\n太仓港集装箱码头\t太仓港区, 北环路\t121.2321\t31.6317\r\n\
                    舍弗勒（太仓）有限公司\t宁波东路, 经济开发区\t121.1389\t31.4672\r\n";
        let mut bytes = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let path = write("utf16", "企业.txt", &bytes);
        let (layer, diags) = read_one(&path);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(layer.encoding.as_deref(), Some("UTF-16LE (byte-order mark)"));
        assert_eq!(layer.features.len(), 2);
        assert_eq!(attr(&layer, 0, "地址"), Some(&Value::from("太仓港区, 北环路")));
        assert_eq!(xy(&layer, 1), (121.1389, 31.4672));
    }

    #[test]
    fn survey_tables_call_the_northing_x() {
        let text = "点号,X坐标（米）,Y坐标（米）,高程\n\
                    J01,3491234.567,40612345.678,3.2\n\
                    J02,3492001.250,40613010.004,3.5\n";
        let path = write("survey", "控制点.csv", text.as_bytes());
        let (layer, _) = read_one(&path);
        assert_eq!(xy(&layer, 0), (40612345.678, 3491234.567));
        assert_eq!(layer.notes, ["X坐标（米）/Y坐标（米） read as northing/easting (survey convention)"]);
        assert_eq!(attr(&layer, 0, "高程"), Some(&Value::from(3.2)));

        // Without the zone number in front of the easting too.
        let path = write("survey2", "控制点.csv", b"X,Y\n3491234.5,612345.6\n");
        let (layer, _) = read_one(&path);
        assert_eq!(xy(&layer, 0), (612345.6, 3491234.5));
        assert_eq!(layer.notes, ["X/Y read as northing/easting (survey convention)"]);

        // Columns the user named are taken as named.
        let (layers, _) = read_with(&path, &opts_columns("X", "Y"));
        assert_eq!(xy(&layers[0], 0), (3491234.5, 612345.6));
        assert!(layers[0].notes.is_empty());

        // Eastings in X, as a projected export writes them: left alone.
        let path = write("survey3", "点.csv", b"X,Y\n612345.6,3491234.5\n");
        let (layer, _) = read_one(&path);
        assert_eq!(xy(&layer, 0), (612345.6, 3491234.5));
        assert!(layer.notes.is_empty());
    }

    #[test]
    fn one_column_of_longitude_latitude_pairs() {
        let text = "名称,经纬度,类型\n太仓港集装箱码头,\"121.2321,31.6317\",码头\n舍弗勒,121.1389，31.4672,企业\n";
        let path = write("pair", "poi.csv", text.as_bytes());
        let (layer, diags) = read_one(&path);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(xy(&layer, 0), (121.2321, 31.6317));
        assert_eq!(xy(&layer, 1), (121.1389, 31.4672), "a full-width comma separates too");
        assert_eq!(attr(&layer, 0, "类型"), Some(&Value::from("码头")));
        assert_eq!(attr(&layer, 0, "经纬度"), None);

        // Latitude first is recognised from the values.
        let path = write("pair2", "poi.csv", "name,location\nport,\"31.6317, 121.2321\"\n".as_bytes());
        let (layer, _) = read_one(&path);
        assert_eq!(xy(&layer, 0), (121.2321, 31.6317));
        assert_eq!(layer.notes, ["location read as latitude,longitude"]);
    }

    #[test]
    fn degrees_minutes_seconds_and_full_width_digits() {
        let text = "名称,经度,纬度\n\
                    克恩-里伯斯,121°07′33.6″E,31°28′30″N\n\
                    浏河,东经121度15分,北纬31度30分36秒\n\
                    全角,１２１．１３８９,３１．４６７２\n\
                    空格, 121.5 ,- 31.25\n";
        let path = write("dms", "企业.csv", text.as_bytes());
        let (layer, diags) = read_one(&path);
        assert!(diags.is_empty(), "{diags:?}");
        let (x, y) = xy(&layer, 0);
        assert!(close(x, 121.0 + 7.0 / 60.0 + 33.6 / 3600.0) && close(y, 31.475), "{x} {y}");
        let (x, y) = xy(&layer, 1);
        assert!(close(x, 121.25) && close(y, 31.51), "{x} {y}");
        assert_eq!(xy(&layer, 2), (121.1389, 31.4672));
        assert_eq!(xy(&layer, 3), (121.5, -31.25));
    }

    #[test]
    fn coordinate_cells() {
        let ok = [
            ("121.1389", 121.1389),
            ("  -31.25 ", -31.25),
            ("3.49E+06", 3_490_000.0),
            ("－１２０．５", -120.5),
            ("120°37'12.5\"E", 120.0 + 37.0 / 60.0 + 12.5 / 3600.0),
            ("120°37'12.5''W", -(120.0 + 37.0 / 60.0 + 12.5 / 3600.0)),
            ("S 31° 18.5'", -(31.0 + 18.5 / 60.0)),
            ("31°18′00″N", 31.3),
            ("120度37分12.5秒", 120.0 + 37.0 / 60.0 + 12.5 / 3600.0),
            ("西经120度30分", -120.5),
            ("31.3N", 31.3),
            ("121.5°", 121.5),
            ("120 30 36", 120.51),
        ];
        for (text, want) in ok {
            let got = parse_coordinate(text);
            assert!(got.is_some_and(|v| close(v, want)), "{text:?}: {got:?}, want {want}");
        }
        let bad = [
            "",
            "太仓市",
            "inf",
            "NaN",
            "120°75'",
            "120°30'75\"",
            "120.5°30'",
            "3 491 234.5",
            "3,491,234.5",
            "-31N",
            "120°30°",
            "12\"13\"",
            "°'",
            "N",
            "1.2.3",
            "120 30 36 5",
        ];
        for text in bad {
            assert_eq!(parse_coordinate(text), None, "{text:?}");
        }
        assert_eq!(parse_pair("POINT (121.2 31.6)"), Some((121.2, 31.6)));
        assert_eq!(parse_pair("(121.2, 31.6)"), Some((121.2, 31.6)));
        assert_eq!(parse_pair("121.2 31.6"), Some((121.2, 31.6)));
        assert_eq!(parse_pair("121.2,31.6,3.0"), None);
        assert_eq!(parse_pair("太仓港"), None);
        assert_eq!(parse_pair("点位ab"), None, "multi-byte text never slices mid-character");
    }

    #[test]
    fn a_row_of_text_is_reported_and_the_rest_loads() {
        let text = "企业名称,经度,纬度\n舍弗勒,121.1389,31.4672\n待定企业,太仓市,31.5\n太仓港,121.2321,31.6317\n\
                    新建厂区,,\n半填,121.3,\n";
        let path = write("badrow", "企业.csv", text.as_bytes());
        let (layer, diags) = read_one(&path);
        assert_eq!(layer.features.len(), 2);
        let bad = diags.iter().find(|d| d.message.contains("太仓市")).unwrap();
        assert_eq!(bad.severity, Severity::Error);
        assert_eq!(bad.position, Position::LineColumn(3, 2));
        assert_eq!(bad.message, "column 经度 holds \"太仓市\", not a coordinate; the row was left out");
        let empty = diags.iter().find(|d| d.message.starts_with("rows without coordinates")).unwrap();
        assert_eq!((empty.severity, empty.position.clone()), (Severity::Warning, Position::LineColumn(5, 1)));
        let partial = diags.iter().find(|d| d.message.contains("empty 纬度")).unwrap();
        assert_eq!(partial.position, Position::LineColumn(6, 3));
    }

    #[test]
    fn a_column_of_place_names_is_an_error() {
        let text = "名称,经度,纬度\n仓库,太仓市,城厢镇\n码头,太仓港,浏河镇\n";
        let path = write("alltext", "地名.csv", text.as_bytes());
        let err = read(&path, &OpenOptions::default(), &mut Diagnostics::new()).unwrap_err();
        match &err {
            FormatError::Invalid { position, message, .. } => {
                assert_eq!(position, &Position::LineColumn(2, 2));
                assert_eq!(message, "column 经度 holds text, not coordinates: e.g. \"太仓市\"");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn columns_the_user_names() {
        let text = "编号,E坐标,N坐标,lon,lat\nA1,512345.6,3491234.5,121.1,31.4\n";
        let path = write("override", "点.csv", text.as_bytes());
        let (layers, _) = read_with(&path, &opts_columns("E坐标", "N坐标"));
        assert_eq!(xy(&layers[0], 0), (512345.6, 3491234.5));
        assert_eq!(attr(&layers[0], 0, "lon"), Some(&Value::from(121.1)), "unchosen coordinates stay attributes");
        // Detected without a choice: longitude and latitude.
        let (layer, _) = read_one(&path);
        assert_eq!(xy(&layer, 0), (121.1, 31.4));
        // A pair column named twice.
        let path2 = write("override2", "点.csv", "名称,位置\n港,\"121.2,31.6\"\n".as_bytes());
        let (layers, _) = read_with(&path2, &opts_columns("位置", "位置"));
        assert_eq!(xy(&layers[0], 0), (121.2, 31.6));

        let err = read(&path, &opts_columns("东", "N坐标"), &mut Diagnostics::new()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, FormatError::Invalid { .. }));
        assert!(text.contains("no column named \"东\"") && text.contains("编号, E坐标, N坐标, lon, lat"), "{text}");
    }

    #[test]
    fn no_coordinate_columns_asks_for_them() {
        let path = write("nocoords", "名单.csv", "企业名称,地址,电话\n舍弗勒,宁波东路,0512-53570000\n".as_bytes());
        let err = read(&path, &OpenOptions::default(), &mut Diagnostics::new()).unwrap_err();
        match err {
            FormatError::Invalid { position, message, .. } => {
                assert_eq!(position, Position::LineColumn(1, 1));
                assert!(message.contains("企业名称, 地址, 电话") && message.contains("choose its x and y columns"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ragged_rows_and_other_delimiters() {
        let text = "名称;经度;纬度;备注\n港;121.2;31.6\n厂;121.1;31.4;甲;多余\n";
        let path = write("ragged", "点.csv", text.as_bytes());
        let (layer, diags) = read_one(&path);
        assert_eq!(layer.features.len(), 2);
        assert!(diags.iter().any(|d| d.message.starts_with("rows with fewer fields")
            && d.severity == Severity::Warning
            && d.position == Position::LineColumn(2, 4)));
        assert!(diags.iter().any(|d| d.message.starts_with("rows with more fields")));
        assert_eq!(attr(&layer, 1, "备注"), Some(&Value::from("甲")));

        assert_eq!(sniff_delimiter("a|b|c\n1|2|3\n"), b'|');
        assert_eq!(sniff_delimiter("标题\nname\taddr\tx\ny\t\"a, b\"\t1\n"), b'\t');
        assert_eq!(sniff_delimiter("标题（2023）\n名称,经度,纬度\n"), b',');
        assert_eq!(sniff_delimiter("name;x;y\na;1,5;2,5\n"), b';');
        assert_eq!(sniff_delimiter(""), b',');
    }

    #[test]
    fn header_spellings() {
        let h = |names: &[&str]| detect_columns(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        use Columns::{Combined, Pair};
        for (x, y) in [
            ("lon", "lat"),
            ("Lng", "Lat"),
            ("LONGITUDE", "LATITUDE"),
            (" long ", "lat"),
            ("经度(°)", "纬度(°)"),
            ("经度（GCJ02）", "纬度（GCJ02）"),
            ("東經", "北緯"),
            ("东经", "北纬"),
            ("X", "Y"),
            ("x", "y"),
            ("Easting", "Northing"),
            ("X坐标（米）", "Y坐标（米）"),
            ("横坐标", "纵坐标"),
            ("坐标X", "坐标Y"),
            ("POINT_X", "POINT_Y"),
            ("WGS84经度", "WGS84纬度"),
            ("lng_gcj02", "lat_gcj02"),
            ("\u{feff}经度", "纬度"),
            ("ｌｏｎ", "ｌａｔ"),
        ] {
            assert_eq!(h(&["名称", x, y]), Some(Pair(1, 2)), "{x:?} {y:?}");
            assert_eq!(h(&[y, "名称", x]), Some(Pair(2, 0)), "{x:?} {y:?} reversed");
        }
        for pair in ["经纬度", "坐标", "location", "Coordinates", "经纬度(WGS84)", "lnglat"] {
            assert_eq!(h(&["名称", pair]), Some(Combined(1)), "{pair:?}");
        }
        // Longitude and latitude win over X and Y, and never mix with them.
        assert_eq!(h(&["X", "Y", "经度", "纬度"]), Some(Pair(2, 3)));
        assert_eq!(h(&["经度", "Y坐标", "X坐标"]), Some(Pair(2, 1)));
        // Exact names win over loose ones.
        assert_eq!(h(&["原始经度", "经度", "纬度"]), Some(Pair(1, 2)));
        assert_eq!(h(&["名称", "经纬度", "经度"]), Some(Combined(1)), "经纬度 is no latitude");
        for none in [&["名称", "地址"][..], &["经度"], &["x"], &[], &["", ""], &["longitude_note_only", "备注"]]
        {
            assert_eq!(h(none), None, "{none:?}");
        }
    }

    #[test]
    fn attribute_values() {
        assert_eq!(text_value("2650"), Some(Value::from(2650)));
        assert_eq!(text_value(" -12.5 "), Some(Value::from(-12.5)));
        assert_eq!(text_value("0"), Some(Value::from(0)));
        assert_eq!(text_value("0.25"), Some(Value::from(0.25)));
        for text in
            ["0512", "320585199001011234", "91320585774665043X", "1e5", "+5", ".5", "5.", "1,200", "0512-53570000"]
        {
            assert_eq!(text_value(text), Some(Value::from(text)), "{text:?}");
        }
        assert_eq!(text_value("  "), None);
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(702), "AAA");
        assert_eq!(attribute_names(&["名称".into(), "".into(), "名称".into()]), ["名称", "column 2", "名称_2"]);
    }

    #[test]
    fn workbook_sheets() {
        let path = fixture();
        let (layers, diags) = read_with(&path, &OpenOptions::default());
        assert_eq!(layers.len(), 1, "说明 has no coordinates");
        let layer = &layers[0];
        assert_eq!(layer.name, "企业");
        assert_eq!(layer.format, "spreadsheet sheet 企业");
        assert!(layer.crs.is_none() && layer.encoding.is_none());
        assert_eq!(layer.features.len(), 3);
        assert_eq!(xy(layer, 0), (121.1389, 31.4672));
        let (x, y) = xy(layer, 2);
        assert!(close(x, 121.0 + 7.0 / 60.0 + 33.6 / 3600.0) && close(y, 31.475), "DMS text cells: {x} {y}");
        assert_eq!(attr(layer, 0, "企业名称"), Some(&Value::from("舍弗勒（太仓）有限公司")));
        assert_eq!(attr(layer, 0, "员工数"), Some(&Value::from(2650)), "numeric cells are numbers");
        assert_eq!(attr(layer, 0, "成立日期"), Some(&Value::from("2005-06-01")));
        assert_eq!(attr(layer, 1, "统一社会信用代码"), Some(&Value::from("913205857205638601")));
        assert_eq!(attr(layer, 0, "经度(°)"), None);
        assert!(diags.iter().any(|d| d.message == "sheet \"说明\" has no coordinate columns; skipped"), "{diags:?}");
        let empty = diags.iter().find(|d| d.message.starts_with("rows without coordinates")).unwrap();
        assert_eq!(empty.position, Position::At("sheet \"企业\" row 6".into()));
        assert_eq!(empty.message, "rows without coordinates were left out in sheet \"企业\"");

        let pick = |name: &str| OpenOptions { layer: Some(name.into()), ..Default::default() };
        let (layers, _) = read_with(&path, &pick("企业"));
        assert_eq!(layers.len(), 1);
        let err = read(&path, &pick("说明"), &mut Diagnostics::new()).unwrap_err();
        assert!(err.to_string().contains("no coordinate columns"), "{err}");
        match read(&path, &pick("道路"), &mut Diagnostics::new()).unwrap_err() {
            FormatError::Layers { available, .. } => assert_eq!(available, ["企业", "说明"]),
            other => panic!("{other:?}"),
        }
        // The user's column names apply to every sheet.
        let (layers, _) = read_with(&path, &opts_columns("纬度(°)", "经度(°)"));
        assert_eq!(xy(&layers[0], 0), (31.4672, 121.1389));
    }

    #[test]
    fn previews() {
        let text = "太仓市控制点成果表\n点号,X坐标,Y坐标\nJ01,3491234.567,40612345.678\nJ02,3492001.25,40613010.004\n";
        let path = write("preview", "控制点.csv", text.as_bytes());
        let p = preview(&path, &OpenOptions::default()).unwrap();
        assert_eq!(p.header_row, 2);
        assert_eq!(p.headers, ["点号", "X坐标", "Y坐标"]);
        assert_eq!(p.columns, Some(Columns::Pair(2, 1)), "already in the survey convention");
        assert_eq!(p.notes, ["X坐标/Y坐标 read as northing/easting (survey convention)"]);
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[0], ["J01", "3491234.567", "40612345.678"]);
        assert_eq!(p.delimiter, Some(','));
        assert_eq!(p.encoding.as_deref(), Some("UTF-8 (valid UTF-8)"));
        assert!(p.sheets.is_empty() && p.sheet.is_none());

        let path = write("preview2", "名单.csv", "名称,地址\n舍弗勒,宁波东路\n".as_bytes());
        let p = preview(&path, &OpenOptions::default()).unwrap();
        assert_eq!((p.columns, p.header_row, p.headers.len()), (None, 1, 2), "the dialog asks instead");
        assert!(preview(&path, &opts_columns("经度", "纬度")).is_err());

        let p = preview(&fixture(), &OpenOptions::default()).unwrap();
        assert_eq!(p.sheets, ["企业", "说明"]);
        assert_eq!(p.sheet.as_deref(), Some("企业"));
        assert_eq!(p.header_row, 2);
        assert_eq!(p.columns, Some(Columns::Pair(2, 3)));
        assert_eq!(p.rows.len(), 4);
        assert_eq!(p.rows[0][4], "2650");
        assert_eq!(p.rows[0][5], "2005-06-01");
        let p = preview(&fixture(), &OpenOptions { layer: Some("说明".into()), ..Default::default() }).unwrap();
        assert_eq!((p.sheet.as_deref(), p.columns), (Some("说明"), None));
    }

    #[test]
    fn a_preview_reads_only_the_start() {
        // A megabyte and more of rows, GBK past the first megabyte only.
        let mut text = String::from("名称,经度,纬度\n");
        while text.len() < (PREVIEW_BYTES as usize) + 1000 {
            text.push_str("point,121.1,31.4\n");
        }
        text.push_str("太仓,121.2,31.5\n");
        let (bytes, _, _) = GB18030.encode(&text);
        let path = write("bigpreview", "big.csv", &bytes);
        let p = preview(&path, &OpenOptions::default()).unwrap();
        assert_eq!(p.rows.len(), PREVIEW_ROWS);
        assert_eq!(p.columns, Some(Columns::Pair(1, 2)));
        let (layer, _) = read_one(&path);
        assert_eq!(layer.encoding.as_deref(), Some("GB18030/GBK (not UTF-8)"));
        assert_eq!(attr(&layer, layer.features.len() - 1, "名称"), Some(&Value::from("太仓")));
    }

    #[test]
    fn tables_over_two_gigabytes_are_refused() {
        let path = scratch("huge").join("huge.csv");
        let file = std::fs::File::create(&path).unwrap();
        // Sparse: no disk is used.
        file.set_len(MAX_TABLE_BYTES + 1).unwrap();
        let err = read(&path, &OpenOptions::default(), &mut Diagnostics::new()).unwrap_err();
        assert!(err.to_string().contains("up to 2 GiB"), "{err}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn opened_tables_ask_for_their_system() {
        let text = "点号,X坐标,Y坐标\nJ01,3491234.567,40612345.678\nJ02,3492001.25,40613010.004\n";
        let path = write("open", "控制点.csv", text.as_bytes());
        match super::super::open(&path, &OpenOptions::default()).unwrap_err() {
            FormatError::NeedsCrs { guesses, .. } => {
                assert!(guesses.iter().any(|g| g.crs.contains("4528")), "zone 40 with its prefix: {guesses:?}");
            }
            other => panic!("{other:?}"),
        }
        let opts = OpenOptions { crs: Some(SourceCrs::parse("EPSG:4528").unwrap()), ..Default::default() };
        let opened = super::super::open(&path, &opts).unwrap();
        let layer = &opened.layers[0];
        let provenance = layer.provenance.as_ref().unwrap();
        assert!(provenance.notes.iter().any(|n| n.contains("survey convention")), "{provenance:?}");
        let b = layer.features[0].bounds().unwrap();
        // Near Taicang (121.1°E, 31.5°N), not in the sea off Somalia.
        assert!((120.9..121.4).contains(&b.min().x) && (31.3..31.7).contains(&b.min().y), "{b:?}");
    }

    #[test]
    fn broken_input_is_an_error_never_a_panic() {
        let cases: &[&[u8]] = &[
            b"",
            b"\xEF\xBB\xBF",
            b"\xFF\xFE",
            b"lon,lat\n",
            b"lon,lat",
            b"\"unclosed,lon,lat\n1,2,3",
            b"\x00\x01\x02\xFF\xFE\xFD",
            b"lon,lat\n\"1,2\n",
            "经度,纬度\n１２１°,３１°\n".as_bytes(),
        ];
        for (i, bytes) in cases.iter().enumerate() {
            let path = write("broken", &format!("case{i}.csv"), bytes);
            let _ = read(&path, &OpenOptions::default(), &mut Diagnostics::new());
            let _ = preview(&path, &OpenOptions::default());
        }
        // Random tables from the characters that matter to the parser.
        let alphabet: Vec<char> = "经度纬度lonlatXY,;\t|\"'°′″分秒度NSEW-+．０１9.e \r\n坐标（）()".chars().collect();
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let dir = scratch("random");
        for i in 0..300 {
            let mut text = String::from(["lon,lat\n", "经度,纬度\n", "经纬度\n", "X,Y\n"][i % 4]);
            for _ in 0..(i % 60) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            let path = dir.join(format!("r{i}.csv"));
            std::fs::write(&path, text.as_bytes()).unwrap();
            let mut diags = Diagnostics::new();
            if let Ok(layers) = read(&path, &OpenOptions::default(), &mut diags) {
                assert!(layers.iter().all(|l| !l.features.is_empty()));
            }
            let _ = preview(&path, &OpenOptions::default());
        }
        let not_a_workbook = write("broken", "fake.xlsx", b"PK\x03\x04 not really");
        assert!(read(&not_a_workbook, &OpenOptions::default(), &mut Diagnostics::new()).is_err());
        assert!(preview(&not_a_workbook, &OpenOptions::default()).is_err());
    }
}
