//! KML as Google Earth, 奥维互动地图 (Ovital), 两步路 (2bulu) and GDAL write it; `archive`
//! unzips a KMZ and hands its KML to [`read`].
//!
//! Planners' KML is a set of marked places, roads and areas, so what is kept is what can be
//! drawn and looked up: every Placemark's geometry (Point, LineString, LinearRing, Polygon with
//! holes, MultiGeometry, gx:Track and gx:MultiTrack, a Model's location) in WGS84 longitude and
//! latitude, and its `name`, `description` (HTML kept as written, for the place panel),
//! `TimeStamp`, ExtendedData (`Data` and `SchemaData`, as strings) and the path of Folders it
//! sits in. Folders become that `folder` attribute rather than layers of their own, because
//! exporters nest them freely and one file is one thing to the user; `--layer` still picks one.
//!
//! Left out, each for a reason: altitudes (the map is flat; a note on the layer says so),
//! styles and icons (the atlas styles layers itself), and overlays and NetworkLinks (images and
//! other files, reported as warnings so nobody wonders where they went).
//!
//! Files come from anywhere, so reading is total: no input makes it panic, nesting is capped at
//! [`MAX_DEPTH`], and one broken placemark is reported and left out while the rest loads.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::Path;

use encoding_rs::{Encoding, UTF_8};
use geo::{Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use roxmltree::{Document, Node};
use serde_json::{Map, Value};

use super::encoding::{decode_strict, display_name, from_label};
use super::{FormatError, OpenOptions, RawLayer, feature, stem};
use crate::diagnostic::{Diagnostic, Diagnostics, Position, Severity};
use crate::spatial::crs::SourceCrs;

/// How deep Folders and MultiGeometries may nest. Real files stay below ten; deeper is a
/// hostile or generated file, and the cap keeps the geometry recursion off the stack's limit.
pub const MAX_DEPTH: usize = 64;

/// The note on a layer whose coordinates had a third value.
const ALTITUDE_NOTE: &str = "altitudes dropped (3D coordinates)";

/// Why one placemark was left out. Static text, so that [`Diagnostics`] folds a thousand
/// placemarks with the same fault into one entry that points at the first.
type Fault = &'static str;

/// Reads a KML document's placemarks into one layer named after the file (or after the
/// folder `--layer` picks).
pub fn read(
    path: &Path,
    bytes: &[u8],
    opts: &OpenOptions,
    diags: &mut Diagnostics,
) -> Result<Vec<RawLayer>, FormatError> {
    let (text, encoding) = decode(path, bytes, opts)?;
    let doc = Document::parse(&text).map_err(|e| xml_error(path, &text, &e))?;
    let want = opts.layer.as_deref();

    let mut features = Vec::new();
    let mut altitudes = false;
    let mut lines = LineCounter::new(&text);
    // Open folders, innermost last, with where each ends: the document order of `descendants`
    // plus these ends give every placemark its folder path without walking its ancestors.
    let mut open: Vec<(usize, String)> = Vec::new();
    let mut folder_names: Vec<String> = Vec::new();
    let mut seen_names: HashSet<String> = HashSet::new();
    let (mut total, mut picked) = (0usize, 0usize);
    let (mut links, mut overlays) = (0usize, 0usize);
    let mut first_fault: Option<String> = None;

    for node in doc.root().descendants().filter(Node::is_element) {
        let range = node.range();
        while open.last().is_some_and(|(end, _)| *end <= range.start) {
            open.pop();
        }
        match node.tag_name().name() {
            "Folder" => {
                let name = child_text(node, "name").map_or_else(|| "(unnamed folder)".to_string(), |n| n.trim().into());
                if open.len() < MAX_DEPTH && seen_names.insert(name.clone()) {
                    folder_names.push(name.clone());
                }
                open.push((range.end, name));
            }
            "NetworkLink" => links += 1,
            "GroundOverlay" | "ScreenOverlay" | "PhotoOverlay" => overlays += 1,
            "Placemark" => {
                total += 1;
                if want.is_some_and(|w| !open.iter().take(MAX_DEPTH).any(|(_, n)| n == w)) {
                    continue;
                }
                picked += 1;
                let folders: Vec<&str> = open.iter().take(MAX_DEPTH).map(|(_, n)| n.as_str()).collect();
                let attributes = attributes(node, &doc, &folders);
                // Only placemarks that load count towards the layer's altitude note.
                let mut had_altitudes = false;
                let result = if open.len() > MAX_DEPTH {
                    Err("inside Folders nested more than 64 deep; left out")
                } else {
                    placemark_geometry(node, &mut had_altitudes)
                };
                let (severity, message) = match result {
                    Ok(Some(geometry)) => {
                        altitudes |= had_altitudes;
                        features.push(feature(geometry, attributes));
                        continue;
                    }
                    Ok(None) => (Severity::Warning, "no geometry; left out"),
                    Err(fault) => (Severity::Error, fault),
                };
                let line = lines.line_at(range.start);
                let place = match attributes.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) {
                    Some(name) => format!("Placemark #{total} {name:?} (line {line})"),
                    None => format!("Placemark #{total} (line {line})"),
                };
                first_fault.get_or_insert_with(|| format!("{place}: {message}"));
                diags.push(Diagnostic::new(severity, path, Position::At(place), message));
            }
            _ => {}
        }
    }

    if total == 0 {
        let root = doc.root_element().tag_name().name();
        let hint = if root == "kml" { String::new() } else { format!(" (its root element is <{root}>, not <kml>)") };
        return Err(FormatError::invalid(path, Position::File, format!("no placemarks{hint}")));
    }
    if let Some(w) = want {
        if !seen_names.contains(w) {
            return Err(FormatError::Layers {
                path: path.to_path_buf(),
                message: format!("no folder named {w:?}"),
                available: folder_names,
            });
        }
        if picked == 0 {
            return Err(FormatError::invalid(path, Position::File, format!("folder {w:?} has no placemarks")));
        }
    }
    if features.is_empty() {
        let first = first_fault.unwrap_or_default();
        return Err(FormatError::invalid(
            path,
            Position::File,
            format!("none of its {picked} placemarks has a usable geometry; the first: {first}"),
        ));
    }
    if links > 0 {
        diags.push(Diagnostic::warning(
            path,
            Position::File,
            format!("{links} NetworkLink(s) not followed: only the placemarks in the file itself are read"),
        ));
    }
    if overlays > 0 {
        diags.push(Diagnostic::warning(
            path,
            Position::File,
            format!("{overlays} image overlay(s) (GroundOverlay, ScreenOverlay, PhotoOverlay) not shown"),
        ));
    }

    let mut layer = match want {
        Some(w) => RawLayer::new(w, format!("KML folder {w}")),
        None => RawLayer::new(stem(path), "KML"),
    };
    layer.features = features;
    layer.crs = Some((SourceCrs::WGS84, "KML (always WGS84)".into()));
    layer.encoding = Some(encoding);
    if altitudes {
        layer.notes.push(ALTITUDE_NOTE.into());
    }
    Ok(vec![layer])
}

/// The document as text, and how its encoding was decided (for the provenance). A byte-order
/// mark wins, then `--encoding`, then the XML declaration, then UTF-8 as XML defaults to;
/// roxmltree itself reads only UTF-8 and ignores the declaration.
fn decode<'b>(path: &Path, bytes: &'b [u8], opts: &OpenOptions) -> Result<(Cow<'b, str>, String), FormatError> {
    let (encoding, why, body) = if let Some((e, bom)) = Encoding::for_bom(bytes) {
        (e, "byte-order mark", bytes.get(bom..).unwrap_or_default())
    } else if let Some(e) = opts.encoding {
        (e, "--encoding", bytes)
    } else if let Some(label) = declared_encoding(bytes) {
        match from_label(label) {
            // A UTF-16 label read through ASCII bytes cannot be true; the bytes are what count.
            Some(e) if !e.is_ascii_compatible() => (UTF_8, "UTF-8, the XML default", bytes),
            Some(e) => (e, "XML declaration", bytes),
            None => {
                return Err(FormatError::invalid(
                    path,
                    Position::LineColumn(1, 1),
                    format!(
                        "the XML declaration names the encoding {label:?}, which port-atlas does not know; pass --encoding"
                    ),
                ));
            }
        }
    } else {
        (UTF_8, "UTF-8, the XML default", bytes)
    };
    let text = decode_strict(body, encoding).ok_or_else(|| not_text(path, body, encoding, why))?;
    Ok((text, format!("{} ({why})", display_name(encoding))))
}

/// The error for bytes that are not the encoding they were taken to be; for UTF-8, with where
/// the first bad byte is, since that is usually a GBK name in an otherwise ASCII file.
fn not_text(path: &Path, body: &[u8], encoding: &'static Encoding, why: &str) -> FormatError {
    if encoding == UTF_8
        && let Err(e) = std::str::from_utf8(body)
    {
        let good = std::str::from_utf8(body.get(..e.valid_up_to()).unwrap_or_default()).unwrap_or_default();
        let (line, column) = line_column(good);
        return FormatError::invalid(
            path,
            Position::LineColumn(line, column),
            "not UTF-8 text, and the XML declaration names no other encoding; if it is GBK, pass --encoding GBK",
        );
    }
    FormatError::invalid(path, Position::File, format!("not {} text, as the {why} says it is", display_name(encoding)))
}

/// The `encoding` of an `<?xml ... ?>` declaration at the start of the bytes. Read from bytes,
/// before decoding, because it says how to decode; every label is ASCII.
fn declared_encoding(bytes: &[u8]) -> Option<&str> {
    let head = bytes.get(..bytes.len().min(1024))?;
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = head.get(start..)?;
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let declaration = head.get(..head.windows(2).position(|w| w == b"?>")?)?;
    let at = declaration.windows(8).position(|w| w == b"encoding")?;
    let rest = declaration.get(at + 8..)?.trim_ascii_start().strip_prefix(b"=")?.trim_ascii_start();
    let quote = *rest.first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let value = rest.get(1..)?;
    let value = value.get(..value.iter().position(|&b| b == quote)?)?;
    std::str::from_utf8(value).ok()
}

/// roxmltree's error, with its position moved into [`Position::LineColumn`] so the message
/// does not say it twice. A file that ends too early (an interrupted download) is reported at
/// its end, where roxmltree would say 1:1.
fn xml_error(path: &Path, text: &str, e: &roxmltree::Error) -> FormatError {
    let pos = e.pos();
    let message = e.to_string().replace(&format!(" at {pos}"), "");
    let (line, column) = match e {
        roxmltree::Error::UnexpectedEndOfStream | roxmltree::Error::UnclosedRootNode => line_column(text),
        _ => (pos.row as usize, pos.col as usize),
    };
    FormatError::invalid(path, Position::LineColumn(line, column), format!("not well-formed XML: {message}"))
}

/// The 1-based line and column just past the end of `text`.
fn line_column(text: &str) -> (usize, usize) {
    let line = text.matches('\n').count() + 1;
    let column = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Line numbers of byte offsets met in increasing order, counted once over the text rather
/// than from the start for every placemark (`text_pos_at` does that), so a file of 100,000
/// broken placemarks stays linear.
struct LineCounter<'t> {
    text: &'t [u8],
    offset: usize,
    line: usize,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        LineCounter { text: text.as_bytes(), offset: 0, line: 1 }
    }

    fn line_at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        if offset < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        let span = self.text.get(self.offset..offset).unwrap_or_default();
        self.line += span.iter().filter(|&&b| b == b'\n').count();
        self.offset = offset;
        self.line
    }
}

/// The first child element with this local name: namespace-agnostic, because files use the
/// 2.2 namespace, Google's older `earth.google.com/kml/2.x` ones, or `gx:` for extensions.
fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    children(node, name).next()
}

fn children<'a, 'i>(node: Node<'a, 'i>, name: &str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// All of an element's own text, CDATA included (a comment can split it into several nodes).
fn text(node: Node) -> String {
    node.children().filter(Node::is_text).filter_map(|c| c.text()).collect()
}

fn child_text(node: Node, name: &str) -> Option<String> {
    child(node, name).map(text)
}

/// A placemark's attributes. The placemark's own elements win over ExtendedData fields of the
/// same name; a field that differs is kept beside them rather than lost.
fn attributes(placemark: Node, doc: &Document, folders: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(name) = child_text(placemark, "name") {
        out.insert("name".into(), Value::String(name.trim().into()));
    }
    if let Some(d) = child(placemark, "description") {
        out.insert("description".into(), Value::String(description(d, doc)));
    }
    if !folders.is_empty() {
        out.insert("folder".into(), Value::String(folders.join(" / ")));
    }
    if let Some(when) = child(placemark, "TimeStamp").and_then(|t| child_text(t, "when")) {
        out.insert("timestamp".into(), Value::String(when.trim().into()));
    }
    let mut data = Vec::new();
    for extended in children(placemark, "ExtendedData") {
        for field in extended.children().filter(Node::is_element) {
            match field.tag_name().name() {
                "Data" => {
                    if let Some(key) = field.attribute("name") {
                        data.push((key.to_string(), child_text(field, "value").unwrap_or_default()));
                    }
                }
                "SchemaData" => {
                    for simple in children(field, "SimpleData") {
                        if let Some(key) = simple.attribute("name") {
                            data.push((key.to_string(), text(simple)));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    for (key, value) in data {
        let value = value.trim().to_string();
        match out.get(&key) {
            None => {
                out.insert(key, Value::String(value));
            }
            Some(existing) if existing.as_str() == Some(value.as_str()) => {}
            Some(_) => {
                out.insert(format!("{key} (ExtendedData)"), Value::String(value));
            }
        }
    }
    out
}

/// The description as written. Most exporters escape the HTML or wrap it in CDATA, so it is
/// text; some write the tags straight into the XML, and then the source between the
/// description's tags is the HTML they meant.
fn description(node: Node, doc: &Document) -> String {
    if node.children().any(|c| c.is_element())
        && let Some(raw) = inner_source(node, doc)
    {
        return raw.trim().to_string();
    }
    text(node).trim().to_string()
}

/// The source text between an element's start and end tags. Child ranges cannot give it:
/// roxmltree merges text around entities and CDATA into one node with the first piece's range.
fn inner_source<'i>(node: Node<'_, 'i>, doc: &Document<'i>) -> Option<&'i str> {
    let input = doc.input_text();
    let range = node.range();
    // The start tag ends at the first `>` after its last attribute (a value may hold a `>`).
    let after = node.attributes().next_back().map_or(range.start, |a| a.range().end);
    let open_end = after + input.get(after..range.end)?.find('>')? + 1;
    let close_start = input.get(..range.end)?.rfind("</")?;
    input.get(open_end..close_start)
}

/// Whether an element is one of the geometries a placemark can hold.
fn is_geometry(node: &Node) -> bool {
    node.is_element()
        && matches!(
            node.tag_name().name(),
            "Point" | "LineString" | "LinearRing" | "Polygon" | "MultiGeometry" | "Track" | "MultiTrack" | "Model"
        )
}

/// The placemark's geometry; `None` for a placemark without one (or with an empty
/// MultiGeometry), which some exporters write for notes.
fn placemark_geometry(placemark: Node, altitudes: &mut bool) -> Result<Option<Geometry<f64>>, Fault> {
    let Some(g) = placemark.children().find(is_geometry) else {
        return Ok(None);
    };
    match g.tag_name().name() {
        "MultiGeometry" | "MultiTrack" => {
            let mut parts = Vec::new();
            collect(g, 0, &mut parts, altitudes)?;
            Ok(combine(parts))
        }
        _ => single(g, altitudes).map(Some),
    }
}

/// The leaves of a MultiGeometry, nested ones flattened: the map draws them the same, and
/// homogeneous leaves can then become one Multi* geometry.
fn collect(node: Node, depth: usize, out: &mut Vec<Geometry<f64>>, altitudes: &mut bool) -> Result<(), Fault> {
    if depth >= MAX_DEPTH {
        return Err("MultiGeometry nested more than 64 deep; left out");
    }
    for c in node.children().filter(is_geometry) {
        match c.tag_name().name() {
            "MultiGeometry" | "MultiTrack" => collect(c, depth + 1, out, altitudes)?,
            _ => out.push(single(c, altitudes)?),
        }
    }
    Ok(())
}

/// One kind of leaf → its Multi* geometry; mixed kinds → a GeometryCollection.
fn combine(parts: Vec<Geometry<f64>>) -> Option<Geometry<f64>> {
    if parts.is_empty() {
        return None;
    }
    let all = |f: fn(&Geometry<f64>) -> bool| parts.iter().all(f);
    Some(if all(|g| matches!(g, Geometry::Point(_))) {
        MultiPoint(parts.into_iter().filter_map(|g| Point::try_from(g).ok()).collect()).into()
    } else if all(|g| matches!(g, Geometry::LineString(_))) {
        MultiLineString(parts.into_iter().filter_map(|g| LineString::try_from(g).ok()).collect()).into()
    } else if all(|g| matches!(g, Geometry::Polygon(_))) {
        MultiPolygon(parts.into_iter().filter_map(|g| Polygon::try_from(g).ok()).collect()).into()
    } else {
        Geometry::GeometryCollection(GeometryCollection(parts))
    })
}

/// A geometry that is not a collection.
fn single(node: Node, altitudes: &mut bool) -> Result<Geometry<f64>, Fault> {
    let coordinates = |n: Node, altitudes: &mut bool| -> Result<Vec<Coord<f64>>, Fault> {
        match child(n, "coordinates") {
            Some(c) => parse_coordinates(&text(c), altitudes),
            None => Ok(Vec::new()),
        }
    };
    Ok(match node.tag_name().name() {
        "Point" => match coordinates(node, altitudes)?.as_slice() {
            [c] => Point(*c).into(),
            [] => return Err("Point without coordinates; left out"),
            _ => return Err("Point with several positions; left out"),
        },
        "LineString" => line(coordinates(node, altitudes)?)?.into(),
        // A LinearRing on its own is an outline, not an area, so it is drawn as a line.
        "LinearRing" => ring(coordinates(node, altitudes)?)?.into(),
        "Polygon" => {
            let outer = child(node, "outerBoundaryIs")
                .and_then(|b| child(b, "LinearRing"))
                .ok_or("Polygon without outerBoundaryIs; left out")?;
            let exterior = ring(coordinates(outer, altitudes)?)?;
            let mut holes = Vec::new();
            // Google Earth writes one innerBoundaryIs per hole, others several rings in one.
            for inner in children(node, "innerBoundaryIs") {
                for r in children(inner, "LinearRing") {
                    holes.push(ring(coordinates(r, altitudes)?)?);
                }
            }
            Polygon::new(exterior, holes).into()
        }
        "Track" => {
            let mut positions = Vec::new();
            for c in children(node, "coord") {
                let t = text(c);
                let values: Vec<&str> = t.split_whitespace().collect();
                let (lon, lat) = match values.as_slice() {
                    [lon, lat] => (lon, lat),
                    [lon, lat, _] => {
                        *altitudes = true;
                        (lon, lat)
                    }
                    _ => return Err("gx:coord is not \"longitude latitude altitude\"; left out"),
                };
                positions.push(position(number(lon)?, number(lat)?)?);
            }
            line(positions)?.into()
        }
        "Model" => {
            let location = child(node, "Location").ok_or("Model without Location; left out")?;
            let value =
                |name| child_text(location, name).ok_or("Model Location without longitude or latitude; left out");
            let (lon, lat) = (value("longitude")?, value("latitude")?);
            Point(position(number(&lon)?, number(&lat)?)?).into()
        }
        _ => return Err("unknown geometry; left out"),
    })
}

fn line(positions: Vec<Coord<f64>>) -> Result<LineString<f64>, Fault> {
    if positions.len() < 2 {
        return Err("line with fewer than 2 positions; left out");
    }
    Ok(LineString(positions))
}

/// A ring, closed if the file left it open (KML says rings repeat their first position; not
/// every exporter does).
fn ring(mut positions: Vec<Coord<f64>>) -> Result<LineString<f64>, Fault> {
    if let (Some(&first), Some(&last)) = (positions.first(), positions.last())
        && first != last
    {
        positions.push(first);
    }
    if positions.len() < 4 {
        return Err("polygon ring with fewer than 4 positions; left out");
    }
    Ok(LineString(positions))
}

/// The positions of a `coordinates` element: tuples `lon,lat[,alt]` separated by whitespace.
///
/// Hand-edited and older files also put spaces after commas (`120.1, 31.2`) or end tuples with
/// a comma (`120.1,31.2, 120.2,31.3`), and both are meant as written. A token after a comma
/// therefore continues the tuple while that tuple still lacks its latitude, and takes the place
/// of its altitude only when it is one bare number on the same line; a token with a comma of
/// its own, or one on a new line, after a complete position starts the next tuple.
fn parse_coordinates(text: &str, altitudes: &mut bool) -> Result<Vec<Coord<f64>>, Fault> {
    let mut tuples: Vec<Vec<&str>> = Vec::new();
    let mut open = false;
    for (token, new_line) in tokens(text) {
        let pieces: Vec<&str> = token.split(',').collect();
        let continues = match tuples.last() {
            Some(_) if token.starts_with(',') => true,
            Some(current) if open => {
                let have = current.iter().filter(|p| !p.is_empty()).count();
                let own = pieces.iter().filter(|p| !p.is_empty()).count();
                have < 2 || (have < 3 && own <= 1 && !new_line)
            }
            _ => false,
        };
        match tuples.last_mut() {
            Some(current) if continues => current.extend(pieces),
            _ => tuples.push(pieces),
        }
        open = token.ends_with(',');
    }
    let mut out = Vec::with_capacity(tuples.len());
    for mut tuple in tuples {
        tuple.retain(|p| !p.is_empty());
        let (lon, lat) = match tuple.as_slice() {
            [lon, lat] => (lon, lat),
            [lon, lat, _] => {
                *altitudes = true;
                (lon, lat)
            }
            // Stray commas between tuples.
            [] => continue,
            [_] => return Err("a position with only one value; left out"),
            _ => return Err("a position with more than three values; left out"),
        };
        out.push(position(number(lon)?, number(lat)?)?);
    }
    Ok(out)
}

/// Whitespace-separated tokens, each with whether a line break came before it.
fn tokens(text: &str) -> impl Iterator<Item = (&str, bool)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find(|c: char| !c.is_whitespace())?;
        let (gap, after) = rest.split_at(start);
        let (token, tail) = after.split_at(after.find(char::is_whitespace).unwrap_or(after.len()));
        rest = tail;
        Some((token, gap.contains(['\n', '\r'])))
    })
}

/// A coordinate value. Rust's parsing is correctly rounded, so vertices are exactly the
/// nearest f64 to what the file wrote, as every other reader of the same file gets.
fn number(s: &str) -> Result<f64, Fault> {
    s.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or("a coordinate is not a number; left out")
}

fn position(lon: f64, lat: f64) -> Result<Coord<f64>, Fault> {
    if !(-180.0..=180.0).contains(&lon) {
        return Err("longitude outside ±180°; left out");
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err("latitude outside ±90° (latitude and longitude swapped?); left out");
    }
    Ok(Coord { x: lon, y: lat })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodata::Feature;

    /// A planning sketch as Google Earth Pro 7 saves it: styles, LookAts, `gx:` extensions,
    /// nested folders, CDATA descriptions and `,0` altitudes on every position.
    const GOOGLE_EARTH: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2" xmlns:kml="http://www.opengis.net/kml/2.2" xmlns:atom="http://www.w3.org/2005/Atom">
<Document>
	<name>太仓港规划.kml</name>
	<Style id="s_ylw-pushpin">
		<IconStyle><scale>1.1</scale><Icon><href>http://maps.google.com/mapfiles/kml/pushpin/ylw-pushpin.png</href></Icon></IconStyle>
	</Style>
	<StyleMap id="m_ylw-pushpin">
		<Pair><key>normal</key><styleUrl>#s_ylw-pushpin</styleUrl></Pair>
	</StyleMap>
	<Folder>
		<name>太仓港区</name>
		<open>1</open>
		<Placemark>
			<name>太仓港集装箱码头</name>
			<description><![CDATA[<b>四期</b> 自动化码头<br/>泊位 4 个]]></description>
			<LookAt>
				<longitude>121.2318</longitude><latitude>31.6297</latitude><altitude>0</altitude>
				<heading>0</heading><tilt>0</tilt><range>2500</range>
				<gx:altitudeMode>relativeToSeaFloor</gx:altitudeMode>
			</LookAt>
			<styleUrl>#m_ylw-pushpin</styleUrl>
			<Point>
				<gx:drawOrder>1</gx:drawOrder>
				<coordinates>121.2318,31.6297,0</coordinates>
			</Point>
		</Placemark>
		<Folder>
			<name>生态</name>
			<Placemark>
				<name>金仓湖公园</name>
				<styleUrl>#m_ylw-pushpin</styleUrl>
				<Polygon>
					<tessellate>1</tessellate>
					<outerBoundaryIs>
						<LinearRing>
							<coordinates>
								121.1302,31.5321,0 121.1418,31.5316,0 121.1425,31.5402,0 121.1309,31.5411,0 121.1302,31.5321,0 
							</coordinates>
						</LinearRing>
					</outerBoundaryIs>
					<innerBoundaryIs>
						<LinearRing>
							<coordinates>
								121.1351,31.5358,0 121.1367,31.5357,0 121.1366,31.5369,0 121.1351,31.5358,0 
							</coordinates>
						</LinearRing>
					</innerBoundaryIs>
				</Polygon>
			</Placemark>
		</Folder>
	</Folder>
	<Folder>
		<name>交通</name>
		<Placemark>
			<name>沿江高速</name>
			<LineString>
				<tessellate>1</tessellate>
				<coordinates>
					120.9871,31.5512,0 121.0534,31.5789,0 121.1233,31.6012,0 
				</coordinates>
			</LineString>
		</Placemark>
		<Placemark>
			<name>太仓港疏港铁路</name>
			<MultiGeometry>
				<LineString><coordinates>121.1012,31.5623,0 121.1598,31.6087,0</coordinates></LineString>
				<LineString><coordinates>121.1598,31.6087,0 121.2104,31.6255,0</coordinates></LineString>
			</MultiGeometry>
		</Placemark>
		<Placemark>
			<name>浮桥作业区</name>
			<MultiGeometry>
				<Point><coordinates>121.2546,31.6089,0</coordinates></Point>
				<MultiGeometry>
					<Polygon><outerBoundaryIs><LinearRing><coordinates>121.2501,31.6052,0 121.2598,31.6049,0 121.2602,31.6121,0 121.2501,31.6052,0</coordinates></LinearRing></outerBoundaryIs></Polygon>
				</MultiGeometry>
			</MultiGeometry>
		</Placemark>
	</Folder>
	<Placemark>
		<name>苏州港</name>
		<TimeStamp><when>2023-12-31</when></TimeStamp>
		<ExtendedData>
			<Data name="吞吐量（万吨）"><value>59000</value></Data>
			<Data name="集装箱（万标箱）"><displayName>集装箱</displayName><value>1000.5</value></Data>
		</ExtendedData>
		<Point><coordinates>120.6195,31.3137</coordinates></Point>
	</Placemark>
</Document>
</kml>
"##;

    fn run(file: &str, bytes: &[u8], opts: &OpenOptions) -> (Result<Vec<RawLayer>, FormatError>, Vec<Diagnostic>) {
        let mut diags = Diagnostics::new();
        let result = read(Path::new(file), bytes, opts, &mut diags);
        (result, diags.into_vec())
    }

    fn layer(file: &str, bytes: &[u8], opts: &OpenOptions) -> (RawLayer, Vec<Diagnostic>) {
        let (result, diags) = run(file, bytes, opts);
        let mut layers = result.unwrap();
        assert_eq!(layers.len(), 1);
        (layers.remove(0), diags)
    }

    fn named<'l>(layer: &'l RawLayer, name: &str) -> &'l Feature {
        layer
            .features
            .iter()
            .find(|f| f.extra.get("name").and_then(Value::as_str) == Some(name))
            .unwrap_or_else(|| panic!("no feature {name:?}"))
    }

    fn attr<'f>(f: &'f Feature, key: &str) -> Option<&'f str> {
        f.extra.get(key).and_then(Value::as_str)
    }

    fn coords(points: &[(f64, f64)]) -> LineString<f64> {
        LineString(points.iter().map(|&(x, y)| Coord { x, y }).collect())
    }

    #[test]
    fn google_earth_document_with_folders_and_every_geometry() {
        let (layer, diags) = layer("规划/太仓港规划.kml", GOOGLE_EARTH.as_bytes(), &OpenOptions::default());
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(layer.name, "太仓港规划");
        assert_eq!(layer.format, "KML");
        let (crs, from) = layer.crs.as_ref().unwrap();
        assert!(crs.is_wgs84());
        assert_eq!(from, "KML (always WGS84)");
        assert_eq!(layer.encoding.as_deref(), Some("UTF-8 (XML declaration)"));
        assert_eq!(layer.notes, vec![ALTITUDE_NOTE.to_string()]);
        assert_eq!(layer.features.len(), 6);

        let terminal = named(&layer, "太仓港集装箱码头");
        assert_eq!(terminal.geometry, Geometry::Point(Point::new(121.2318, 31.6297)));
        assert_eq!(attr(terminal, "description"), Some("<b>四期</b> 自动化码头<br/>泊位 4 个"));
        assert_eq!(attr(terminal, "folder"), Some("太仓港区"));

        let park = named(&layer, "金仓湖公园");
        assert_eq!(attr(park, "folder"), Some("太仓港区 / 生态"));
        let Geometry::Polygon(p) = &park.geometry else { panic!("{:?}", park.geometry) };
        assert_eq!(
            p.exterior(),
            &coords(&[
                (121.1302, 31.5321),
                (121.1418, 31.5316),
                (121.1425, 31.5402),
                (121.1309, 31.5411),
                (121.1302, 31.5321)
            ])
        );
        assert_eq!(
            p.interiors(),
            &[coords(&[(121.1351, 31.5358), (121.1367, 31.5357), (121.1366, 31.5369), (121.1351, 31.5358)])]
        );

        let road = named(&layer, "沿江高速");
        assert_eq!(attr(road, "folder"), Some("交通"));
        assert_eq!(
            road.geometry,
            Geometry::LineString(coords(&[(120.9871, 31.5512), (121.0534, 31.5789), (121.1233, 31.6012)]))
        );

        let railway = named(&layer, "太仓港疏港铁路");
        assert_eq!(
            railway.geometry,
            Geometry::MultiLineString(MultiLineString(vec![
                coords(&[(121.1012, 31.5623), (121.1598, 31.6087)]),
                coords(&[(121.1598, 31.6087), (121.2104, 31.6255)]),
            ]))
        );

        let Geometry::GeometryCollection(mixed) = &named(&layer, "浮桥作业区").geometry else { panic!() };
        assert_eq!(mixed.0.len(), 2);
        assert_eq!(mixed.0[0], Geometry::Point(Point::new(121.2546, 31.6089)));
        assert!(matches!(mixed.0[1], Geometry::Polygon(_)));

        let port = named(&layer, "苏州港");
        assert_eq!(attr(port, "folder"), None);
        assert_eq!(attr(port, "timestamp"), Some("2023-12-31"));
        assert_eq!(attr(port, "吞吐量（万吨）"), Some("59000"));
        assert_eq!(attr(port, "集装箱（万标箱）"), Some("1000.5"));
        assert_eq!(port.geometry, Geometry::Point(Point::new(120.6195, 31.3137)));
    }

    #[test]
    fn layer_option_picks_a_folder_with_its_subfolders() {
        let opts = |name: &str| OpenOptions { layer: Some(name.into()), ..Default::default() };
        let (port, _) = layer("太仓港规划.kml", GOOGLE_EARTH.as_bytes(), &opts("太仓港区"));
        assert_eq!(port.name, "太仓港区");
        let mut names: Vec<&str> = port.features.iter().filter_map(|f| attr(f, "name")).collect();
        names.sort_unstable();
        assert_eq!(names, ["太仓港集装箱码头", "金仓湖公园"]);

        let (nested, _) = layer("太仓港规划.kml", GOOGLE_EARTH.as_bytes(), &opts("生态"));
        assert_eq!(nested.features.len(), 1);
        assert_eq!(attr(&nested.features[0], "folder"), Some("太仓港区 / 生态"));

        let (transport, _) = layer("太仓港规划.kml", GOOGLE_EARTH.as_bytes(), &opts("交通"));
        assert_eq!(transport.features.len(), 3);

        let (result, _) = run("太仓港规划.kml", GOOGLE_EARTH.as_bytes(), &opts("港口"));
        match result {
            Err(FormatError::Layers { message, available, .. }) => {
                assert_eq!(message, "no folder named \"港口\"");
                assert_eq!(available, ["太仓港区", "生态", "交通"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn old_google_namespace_and_no_folders() {
        // Google Earth 4 and many Chinese web tools still write the 2.1 namespace.
        let kml = r#"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://earth.google.com/kml/2.1">
<Document>
  <name>苏州工业园区</name>
  <Placemark>
    <name>金鸡湖</name>
    <Polygon><outerBoundaryIs><LinearRing>
      <coordinates>120.6712,31.3098 120.7103,31.3045 120.7198,31.3301 120.6835,31.3402</coordinates>
    </LinearRing></outerBoundaryIs></Polygon>
  </Placemark>
  <Placemark>
    <name>星港街</name>
    <LineString><coordinates>120.6801,31.3184 120.6803,31.3356</coordinates></LineString>
  </Placemark>
</Document>
</kml>"#;
        let (layer, diags) = layer("园区.kml", kml.as_bytes(), &OpenOptions::default());
        assert!(diags.is_empty(), "{diags:?}");
        assert!(layer.notes.is_empty());
        let lake = named(&layer, "金鸡湖");
        assert_eq!(attr(lake, "folder"), None);
        let Geometry::Polygon(p) = &lake.geometry else { panic!() };
        // The open ring is closed on its first position.
        assert_eq!(
            p.exterior(),
            &coords(&[
                (120.6712, 31.3098),
                (120.7103, 31.3045),
                (120.7198, 31.3301),
                (120.6835, 31.3402),
                (120.6712, 31.3098)
            ])
        );
        assert_eq!(
            named(&layer, "星港街").geometry,
            Geometry::LineString(coords(&[(120.6801, 31.3184), (120.6803, 31.3356)]))
        );
    }

    #[test]
    fn gbk_declared_file_and_byte_order_mark() {
        let kml = r#"<?xml version="1.0" encoding="GBK"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>浏河港</name>
<Placemark><name>浏河口</name><description>长江入海口附近</description><Point><coordinates>121.2934,31.5092</coordinates></Point></Placemark>
</Folder></Document></kml>"#;
        let (gbk, _, unmappable) = encoding_rs::GB18030.encode(kml);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&gbk).is_err());
        let (gbk_layer, _) = layer("浏河.kml", &gbk, &OpenOptions::default());
        assert_eq!(gbk_layer.encoding.as_deref(), Some("GB18030/GBK (XML declaration)"));
        let f = named(&gbk_layer, "浏河口");
        assert_eq!(attr(f, "description"), Some("长江入海口附近"));
        assert_eq!(attr(f, "folder"), Some("浏河港"));
        assert_eq!(f.geometry, Geometry::Point(Point::new(121.2934, 31.5092)));

        // The same bytes claimed as UTF-8 are an error, not mojibake.
        let claimed_utf8 = kml.replace("GBK", "UTF-8");
        let (gbk_undeclared, _, _) = encoding_rs::GB18030.encode(&claimed_utf8);
        let (result, _) = run("浏河.kml", &gbk_undeclared, &OpenOptions::default());
        assert!(matches!(result, Err(FormatError::Invalid { .. })), "{result:?}");

        // Notepad's "Unicode": UTF-16LE with a byte-order mark.
        let utf16: Vec<u8> =
            format!("\u{feff}{kml}").replace("GBK", "UTF-16").encode_utf16().flat_map(u16::to_le_bytes).collect();
        let (utf16_layer, _) = layer("浏河.kml", &utf16, &OpenOptions::default());
        assert_eq!(utf16_layer.encoding.as_deref(), Some("UTF-16LE (byte-order mark)"));
        assert_eq!(attr(&utf16_layer.features[0], "name"), Some("浏河口"));

        let with_bom = format!("\u{feff}{GOOGLE_EARTH}");
        let (layer, _) = layer("太仓港规划.kml", with_bom.as_bytes(), &OpenOptions::default());
        assert_eq!(layer.encoding.as_deref(), Some("UTF-8 (byte-order mark)"));
        assert_eq!(layer.features.len(), 6);
    }

    #[test]
    fn not_utf8_without_declaration_names_the_line() {
        let mut bytes = b"<kml>\n<Placemark><name>".to_vec();
        // 港 is B8 DB in GBK; B8 cannot start a UTF-8 sequence.
        bytes.extend(encoding_rs::GB18030.encode("港区").0.iter());
        bytes.extend(b"</name><Point><coordinates>121.1,31.5</coordinates></Point></Placemark></kml>");
        let (result, _) = run("x.kml", &bytes, &OpenOptions::default());
        match result {
            Err(FormatError::Invalid { position: Position::LineColumn(2, 18), message, .. }) => {
                assert!(message.contains("--encoding GBK"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        // And --encoding reads it.
        let opts = OpenOptions { encoding: Some(encoding_rs::GB18030), ..Default::default() };
        let (layer, _) = layer("x.kml", &bytes, &opts);
        assert_eq!(attr(&layer.features[0], "name"), Some("港区"));
        assert_eq!(layer.encoding.as_deref(), Some("GB18030/GBK (--encoding)"));
    }

    #[test]
    fn coordinates_with_spaces_trailing_commas_and_altitudes() {
        // Hand-edited and 奥维互动地图 files: spaces after commas, tabs and CRLF between
        // tuples, trailing commas, altitudes on some positions only.
        let kml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<kml xmlns=\"http://www.opengis.net/kml/2.2\"><Document>\r\n\
            <Placemark><name>七浦塘</name><LineString><coordinates>\r\n\
            \t121.0012, 31.4923, 3.5\t121.0456 ,31.5011\r\n 121.0897,31.5134, 121.1201,31.5287,\r\n\
            121.1503, 31.5399\r\n</coordinates></LineString></Placemark>\r\n\
            <Placemark><name>测量点</name><Point><coordinates> 121.1, 31.2 </coordinates></Point></Placemark>\r\n\
            </Document></kml>";
        let (layer, diags) = layer("七浦塘.kml", kml.as_bytes(), &OpenOptions::default());
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            named(&layer, "七浦塘").geometry,
            Geometry::LineString(coords(&[
                (121.0012, 31.4923),
                (121.0456, 31.5011),
                (121.0897, 31.5134),
                (121.1201, 31.5287),
                (121.1503, 31.5399)
            ]))
        );
        assert_eq!(named(&layer, "测量点").geometry, Geometry::Point(Point::new(121.1, 31.2)));
        assert_eq!(layer.notes, vec![ALTITUDE_NOTE.to_string()]);
    }

    #[test]
    fn coordinate_tuples() {
        let mut alt = false;
        let parse = |s: &str, alt: &mut bool| parse_coordinates(s, alt);
        let c = |x, y| Coord { x, y };
        assert_eq!(parse("120.1,31.2,10 120.2,31.3,10", &mut alt), Ok(vec![c(120.1, 31.2), c(120.2, 31.3)]));
        assert!(alt);
        alt = false;
        assert_eq!(parse("120.1, 31.2, 10, 120.2, 31.3, 10", &mut alt).map(|v| v.len()), Ok(2));
        assert_eq!(parse("120.1,31.2, 120.2,31.3,", &mut alt), Ok(vec![c(120.1, 31.2), c(120.2, 31.3)]));
        assert_eq!(parse("120.1 ,31.2 , 5", &mut alt), Ok(vec![c(120.1, 31.2)]));
        // A trailing comma at a line's end closes the tuple; the next line is a new one.
        assert_eq!(parse("120.1,31.2,\n120.2, 31.3", &mut alt), Ok(vec![c(120.1, 31.2), c(120.2, 31.3)]));
        // Until the latitude comes, a line break does not end a tuple.
        assert_eq!(parse("120.1,\n31.2", &mut alt), Ok(vec![c(120.1, 31.2)]));
        assert_eq!(parse(" , 120.1,31.2", &mut alt), Ok(vec![c(120.1, 31.2)]));
        assert_eq!(parse("", &mut alt), Ok(vec![]));
        assert_eq!(parse("120.1", &mut alt), Err("a position with only one value; left out"));
        assert_eq!(parse("1,2,3,4", &mut alt), Err("a position with more than three values; left out"));
        assert_eq!(parse("120.1,abc", &mut alt), Err("a coordinate is not a number; left out"));
        assert_eq!(parse("120.1,NaN", &mut alt), Err("a coordinate is not a number; left out"));
        assert_eq!(parse("120.1,inf", &mut alt), Err("a coordinate is not a number; left out"));
        assert!(parse("181,31", &mut alt).is_err());
        assert!(parse("31.6,121.2", &mut alt).is_err());
    }

    #[test]
    fn two_step_road_tracks() {
        // 两步路 and Google Earth's GPS import write tracks as gx:Track with "lon lat alt".
        let kml = r#"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Document><name>2023-10-03 太仓沿江骑行</name>
<Placemark><name>骑行轨迹</name>
<gx:Track>
  <altitudeMode>absolute</altitudeMode>
  <when>2023-10-03T01:02:03Z</when><when>2023-10-03T01:02:13Z</when><when>2023-10-03T01:02:23Z</when>
  <gx:coord>121.1752 31.6154 4.2</gx:coord>
  <gx:coord>121.1761 31.6159 4.6</gx:coord>
  <gx:coord>121.1770 31.6163 5.1</gx:coord>
</gx:Track>
</Placemark>
<Placemark><name>分段</name>
<gx:MultiTrack><gx:interpolate>0</gx:interpolate>
  <gx:Track><gx:coord>121.1 31.6 0</gx:coord><gx:coord>121.2 31.7 0</gx:coord></gx:Track>
  <gx:Track><gx:coord>121.3 31.6 0</gx:coord><gx:coord>121.4 31.7 0</gx:coord></gx:Track>
</gx:MultiTrack>
</Placemark>
</Document></kml>"#;
        let (layer, diags) = layer("骑行.kml", kml.as_bytes(), &OpenOptions::default());
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            named(&layer, "骑行轨迹").geometry,
            Geometry::LineString(coords(&[(121.1752, 31.6154), (121.1761, 31.6159), (121.1770, 31.6163)]))
        );
        assert_eq!(
            named(&layer, "分段").geometry,
            Geometry::MultiLineString(MultiLineString(vec![
                coords(&[(121.1, 31.6), (121.2, 31.7)]),
                coords(&[(121.3, 31.6), (121.4, 31.7)]),
            ]))
        );
        assert_eq!(layer.notes, vec![ALTITUDE_NOTE.to_string()]);
    }

    #[test]
    fn extended_data_schema_and_collisions() {
        let kml = r##"<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Schema name="码头" id="码头"><SimpleField name="泊位数" type="int"/></Schema>
<Placemark><name>太仓港区四期</name>
<description>
  <table><tr><td>岸线</td><td>1292 m &amp; 4 泊位</td></tr></table>
</description>
<ExtendedData>
  <SchemaData schemaUrl="#码头"><SimpleData name="泊位数">4</SimpleData><SimpleData name="name">Taicang Phase IV</SimpleData></SchemaData>
  <Data name="name"><value>太仓港区四期</value></Data>
</ExtendedData>
<Point><coordinates>121.2318,31.6297</coordinates></Point></Placemark>
</Document></kml>"##;
        let (layer, _) = layer("码头.kml", kml.as_bytes(), &OpenOptions::default());
        let f = &layer.features[0];
        assert_eq!(attr(f, "泊位数"), Some("4"));
        assert_eq!(attr(f, "name"), Some("太仓港区四期"));
        assert_eq!(attr(f, "name (ExtendedData)"), Some("Taicang Phase IV"));
        // Unescaped HTML is kept as the source wrote it.
        assert_eq!(attr(f, "description"), Some("<table><tr><td>岸线</td><td>1292 m &amp; 4 泊位</td></tr></table>"));
    }

    #[test]
    fn broken_placemarks_are_reported_and_the_rest_loads() {
        let kml = r#"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
<Document>
<Placemark><name>太仓港</name><Point><coordinates>121.2318,31.6297</coordinates></Point></Placemark>
<Placemark><name>坐标颠倒</name><Point><coordinates>31.6297,121.2318</coordinates></Point></Placemark>
<Placemark><name>错字</name><Point><coordinates>121.23l8,31.6297</coordinates></Point></Placemark>
<Placemark><name>三角</name><Polygon><outerBoundaryIs><LinearRing><coordinates>121.1,31.5 121.2,31.5 121.1,31.5</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
<Placemark><name>短线</name><LineString><coordinates>121.1,31.5</coordinates></LineString></Placemark>
<Placemark><name>备注</name><description>只有文字</description></Placemark>
<Placemark><name>也颠倒</name><Point><coordinates>31.5,121.1</coordinates></Point></Placemark>
<Placemark><LineString><coordinates>121.1,31.5 121.2,31.6</coordinates></LineString></Placemark>
</Document>
</kml>"#;
        let (layer, diags) = layer("问题.kml", kml.as_bytes(), &OpenOptions::default());
        assert_eq!(layer.features.len(), 2);
        assert_eq!(attr(&layer.features[0], "name"), Some("太仓港"));
        assert_eq!(attr(&layer.features[1], "name"), None);
        let at = |d: &Diagnostic| match &d.position {
            Position::At(s) => s.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(diags.len(), 5, "{diags:#?}");
        assert_eq!(at(&diags[0]), "Placemark #2 \"坐标颠倒\" (line 5)");
        assert!(diags[0].message.starts_with("latitude outside ±90°"));
        assert_eq!(diags[0].count, 2, "the second swapped placemark is folded into the first");
        assert_eq!(at(&diags[1]), "Placemark #3 \"错字\" (line 6)");
        assert_eq!(diags[1].message, "a coordinate is not a number; left out");
        assert_eq!(at(&diags[2]), "Placemark #4 \"三角\" (line 7)");
        assert_eq!(diags[2].message, "polygon ring with fewer than 4 positions; left out");
        assert_eq!(at(&diags[3]), "Placemark #5 \"短线\" (line 8)");
        assert_eq!(diags[4].severity, Severity::Warning);
        assert_eq!(diags[4].message, "no geometry; left out");
        assert!(diags[..4].iter().all(|d| d.severity == Severity::Error));
    }

    #[test]
    fn files_that_are_not_kml() {
        let (result, _) = run("x.kml", b"name,lon,lat\n\xe5\xa4\xaa\xe4\xbb\x93,121.1,31.5\n", &OpenOptions::default());
        assert!(matches!(result, Err(FormatError::Invalid { position: Position::LineColumn(1, 1), .. })), "{result:?}");

        // Cut off mid-file, as an interrupted download leaves it.
        let truncated = &GOOGLE_EARTH[..GOOGLE_EARTH.find("<name>交通</name>").unwrap()];
        let (result, _) = run("x.kml", truncated.as_bytes(), &OpenOptions::default());
        match result {
            Err(e @ FormatError::Invalid { position: Position::LineColumn(..), .. }) => {
                let lines = truncated.lines().count();
                assert!(e.to_string().starts_with(&format!("x.kml: line {lines}, column 3: ")), "{e}");
            }
            other => panic!("{other:?}"),
        }

        let (result, _) = run("x.kml", br#"<kml><Document><Style id="a"/></Document></kml>"#, &OpenOptions::default());
        assert_eq!(result.unwrap_err().to_string(), "x.kml: no placemarks");
        let (result, _) = run("x.kml", b"<svg><g/></svg>", &OpenOptions::default());
        assert_eq!(result.unwrap_err().to_string(), "x.kml: no placemarks (its root element is <svg>, not <kml>)");

        let all_broken = "<kml><Placemark><name>甲</name><Point><coordinates>1</coordinates></Point></Placemark></kml>";
        let (result, diags) = run("x.kml", all_broken.as_bytes(), &OpenOptions::default());
        let message = result.unwrap_err().to_string();
        assert!(message.contains("none of its 1 placemarks") && message.contains("甲"), "{message}");
        assert_eq!(diags.len(), 1);
    }

    #[test]
    fn hostile_input_is_an_error_not_a_crash() {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<kml><Placemark><name>&b;</name><Point><coordinates>121,31</coordinates></Point></Placemark></kml>"#;
        let (result, _) = run("x.kml", laughs.as_bytes(), &OpenOptions::default());
        assert!(matches!(result, Err(FormatError::Invalid { .. })));

        let deep_multi = format!(
            "<kml><Placemark><name>深</name>{}<Point><coordinates>121,31</coordinates></Point>{}</Placemark>\
             <Placemark><name>浅</name><Point><coordinates>121,31</coordinates></Point></Placemark></kml>",
            "<MultiGeometry>".repeat(100_000),
            "</MultiGeometry>".repeat(100_000)
        );
        let (shallow, diags) = layer("x.kml", deep_multi.as_bytes(), &OpenOptions::default());
        assert_eq!(shallow.features.len(), 1);
        assert_eq!(diags[0].message, "MultiGeometry nested more than 64 deep; left out");

        let folders = 100_000;
        let deep_folders = format!(
            "<kml>{}<Placemark><Point><coordinates>121,31</coordinates></Point></Placemark>{}\
             <Folder><name>浅</name><Placemark><Point><coordinates>121,31</coordinates></Point></Placemark></Folder></kml>",
            "<Folder><name>层</name><Placemark><Point><coordinates>121,31</coordinates></Point></Placemark>"
                .repeat(folders),
            "</Folder>".repeat(folders)
        );
        let (layer, diags) = layer("x.kml", deep_folders.as_bytes(), &OpenOptions::default());
        assert_eq!(layer.features.len(), MAX_DEPTH + 1);
        assert_eq!(attr(layer.features.last().unwrap(), "folder"), Some("浅"));
        assert_eq!(diags[0].message, "inside Folders nested more than 64 deep; left out");
        assert_eq!(diags[0].count, folders - MAX_DEPTH + 1);
    }

    /// `tests/fixtures/formats/kml/gdal-places.kml` was written by GDAL's ogr2ogr from
    /// `suzhou-places.geojson` beside it (see the README there): the reader must give back the
    /// GeoJSON's names, attributes and coordinates.
    #[test]
    fn reads_what_gdal_writes() {
        let kml = include_str!("../../tests/fixtures/formats/kml/gdal-places.kml");
        let source: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/formats/kml/suzhou-places.geojson")).unwrap();
        let (layer, diags) = layer("gdal-places.kml", kml.as_bytes(), &OpenOptions::default());
        assert!(diags.is_empty(), "{diags:?}");
        assert!(layer.notes.is_empty());
        let expected = source["features"].as_array().unwrap();
        assert_eq!(layer.features.len(), expected.len());
        for (f, e) in layer.features.iter().zip(expected) {
            let props = e["properties"].as_object().unwrap();
            for (key, value) in props {
                // GDAL leaves out null fields.
                let want = if value.is_null() { None } else { Some(value) };
                assert_eq!(f.extra.get(key), want, "{key}");
            }
            assert_eq!(attr(f, "folder"), Some("suzhou_places"));
            let geometry: geojson::Geometry = serde_json::from_value(e["geometry"].clone()).unwrap();
            let geometry = Geometry::<f64>::try_from(geometry).unwrap();
            assert_eq!(f.geometry, geometry, "{:?}", attr(f, "name"));
        }
    }
}
