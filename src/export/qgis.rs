//! QGIS styling: a QML style per layer (stored in the GeoPackage's `layer_styles` table, so
//! layers open styled) and a `.qgs` project referencing the GeoPackage with the app's colours,
//! hatching for schematic features, CJK labels, layer order and the atlas extent.

use std::fmt::Write as _;

use geo::Geometry;

use crate::geodata::{Layer, LayerMeta, union_bounds};

/// The font QGIS labels use; installed with Debian's fonts-noto-cjk (the app bundles a subset).
pub const LABEL_FONT: &str = "Noto Sans CJK TC";

/// Escapes text for XML attributes and element content.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// The geometry classes a layer holds, in drawing order (areas under lines under points).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GeomClass {
    Polygon,
    Line,
    Point,
}

impl GeomClass {
    pub fn of(g: &Geometry<f64>) -> Option<Self> {
        match g {
            Geometry::Polygon(_) | Geometry::MultiPolygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => {
                Some(GeomClass::Polygon)
            }
            Geometry::LineString(_) | Geometry::MultiLineString(_) | Geometry::Line(_) => Some(GeomClass::Line),
            Geometry::Point(_) | Geometry::MultiPoint(_) => Some(GeomClass::Point),
            Geometry::GeometryCollection(_) => None,
        }
    }

    /// The OGR sub-layer selector and QGIS' `geometry` attribute.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            GeomClass::Polygon => ("Polygon", "Polygon"),
            GeomClass::Line => ("LineString", "Line"),
            GeomClass::Point => ("Point", "Point"),
        }
    }
}

/// Geometry classes present in a layer, sorted.
pub fn classes(l: &Layer) -> Vec<GeomClass> {
    let mut v: Vec<GeomClass> = l.features.iter().filter_map(|f| GeomClass::of(&f.geometry)).collect();
    v.sort();
    v.dedup();
    v
}

fn rgba(rgb: [u8; 3], a: u8) -> String {
    format!("{},{},{},{a}", rgb[0], rgb[1], rgb[2])
}

fn props(out: &mut String, kv: &[(&str, String)]) {
    for (k, v) in kv {
        let _ = write!(out, "<prop k=\"{k}\" v=\"{}\"/>", xml_escape(v));
    }
}

/// One QGIS symbol for a geometry class; `schematic` draws hatching, dashes or a hollow marker.
fn symbol(out: &mut String, name: &str, class: GeomClass, meta: &LayerMeta, schematic: bool) {
    let fill = meta.rgb();
    let stroke = meta.stroke_rgb();
    let opacity = meta.opacity.clamp(0.0, 1.0);
    match class {
        GeomClass::Polygon => {
            let _ =
                write!(out, "<symbol type=\"fill\" name=\"{name}\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">");
            if schematic {
                // A faint tint under diagonal hatching, as in the app.
                out.push_str("<layer class=\"SimpleFill\" enabled=\"1\" locked=\"0\" pass=\"0\">");
                props(
                    out,
                    &[
                        ("color", rgba(fill, (opacity * 0.25 * 255.0) as u8)),
                        ("style", "solid".into()),
                        ("outline_style", "no".into()),
                    ],
                );
                out.push_str("</layer><layer class=\"SimpleFill\" enabled=\"1\" locked=\"0\" pass=\"0\">");
                props(
                    out,
                    &[
                        ("color", rgba(fill, 255)),
                        ("style", "f_diagonal".into()),
                        ("outline_color", rgba(stroke, 255)),
                        ("outline_style", "dash".into()),
                        ("outline_width", "0.3".into()),
                        ("outline_width_unit", "MM".into()),
                    ],
                );
                out.push_str("</layer>");
            } else {
                out.push_str("<layer class=\"SimpleFill\" enabled=\"1\" locked=\"0\" pass=\"0\">");
                props(
                    out,
                    &[
                        ("color", rgba(fill, (opacity * 255.0) as u8)),
                        ("style", "solid".into()),
                        ("outline_color", rgba(stroke, 255)),
                        ("outline_style", "solid".into()),
                        ("outline_width", format!("{:.2}", meta.line_width * 0.2)),
                        ("outline_width_unit", "MM".into()),
                    ],
                );
                out.push_str("</layer>");
            }
        }
        GeomClass::Line => {
            let _ =
                write!(out, "<symbol type=\"line\" name=\"{name}\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">");
            out.push_str("<layer class=\"SimpleLine\" enabled=\"1\" locked=\"0\" pass=\"0\">");
            props(
                out,
                &[
                    ("line_color", rgba(fill, 230)),
                    ("line_width", format!("{:.2}", meta.line_width * 0.25)),
                    ("line_width_unit", "MM".into()),
                    ("line_style", if schematic { "dash" } else { "solid" }.into()),
                    ("capstyle", "round".into()),
                    ("joinstyle", "round".into()),
                ],
            );
            out.push_str("</layer>");
        }
        GeomClass::Point => {
            let _ = write!(
                out,
                "<symbol type=\"marker\" name=\"{name}\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">"
            );
            out.push_str("<layer class=\"SimpleMarker\" enabled=\"1\" locked=\"0\" pass=\"0\">");
            props(
                out,
                &[
                    ("name", "circle".into()),
                    ("color", if schematic { "255,255,255,255".into() } else { rgba(fill, 255) }),
                    ("outline_color", if schematic { rgba(fill, 255) } else { "255,255,255,255".into() }),
                    ("outline_width", if schematic { "0.8" } else { "0.4" }.into()),
                    ("outline_width_unit", "MM".into()),
                    ("size", "3".into()),
                    ("size_unit", "MM".into()),
                ],
            );
            out.push_str("</layer>");
        }
    }
    out.push_str("</symbol>");
}

/// The renderer and labelling of a layer (or one geometry class of it), shared by the QML
/// style and the project file.
pub fn style_body(meta: &LayerMeta, class: GeomClass, label_field: &str) -> String {
    let mut out = String::new();
    if let Some(c) = &meta.categorized {
        categorized_renderer(&mut out, meta, c, class);
    } else {
        accuracy_renderer(&mut out, meta, class);
    }
    labeling(&mut out, class, label_field);
    out
}

/// A categorized layer as a rule per class (its value, its colour) and an ELSE rule for the
/// rest, so QGIS shows the app's colours and legend.
fn categorized_renderer(out: &mut String, meta: &LayerMeta, c: &crate::geodata::Categorized, class: GeomClass) {
    out.push_str("<renderer-v2 type=\"RuleRenderer\" symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\"><rules key=\"root\">");
    let field = c.field.replace('"', "\"\"");
    for (i, (value, _)) in c.classes.iter().enumerate() {
        let filter = format!("\"{field}\" = '{}'", value.replace('\'', "''"));
        let _ = write!(
            out,
            "<rule key=\"class{i}\" filter=\"{}\" symbol=\"{i}\" label=\"{}\"/>",
            xml_escape(&filter),
            xml_escape(value)
        );
    }
    let _ = write!(out, "<rule key=\"other\" filter=\"ELSE\" symbol=\"{}\" label=\"other\"/>", c.classes.len());
    out.push_str("</rules><symbols>");
    for (i, hex) in c.classes.iter().map(|(_, h)| h).chain([&c.other]).enumerate() {
        let m = LayerMeta { color: hex.clone(), stroke: None, ..meta.clone() };
        symbol(out, &i.to_string(), class, &m, false);
    }
    out.push_str("</symbols></renderer-v2>");
}

/// Surveyed features solid, schematic ones hatched, dashed or hollow, as in the app.
fn accuracy_renderer(out: &mut String, meta: &LayerMeta, class: GeomClass) {
    out.push_str("<renderer-v2 type=\"RuleRenderer\" symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\"><rules key=\"root\">");
    out.push_str(
        "<rule key=\"surveyed\" filter=\"&quot;schematic&quot; = 0\" symbol=\"0\" label=\"surveyed or published\"/>",
    );
    out.push_str("<rule key=\"schematic\" filter=\"&quot;schematic&quot; = 1\" symbol=\"1\" label=\"schematic: no published outline or position\"/>");
    out.push_str("</rules><symbols>");
    symbol(out, "0", class, meta, false);
    symbol(out, "1", class, meta, true);
    out.push_str("</symbols></renderer-v2>");
}

fn labeling(out: &mut String, class: GeomClass, label_field: &str) {
    let placement = match class {
        GeomClass::Polygon => 1, // over the point
        GeomClass::Line => 2,    // parallel
        GeomClass::Point => 6,   // around the point
    };
    let _ = write!(
        out,
        "<labeling type=\"simple\"><settings calloutType=\"simple\">\
         <text-style fieldName=\"{field}\" isExpression=\"0\" fontFamily=\"{font}\" fontSize=\"9\" fontSizeUnit=\"Point\" \
         textColor=\"30,30,30,255\" textOpacity=\"1\" fontWeight=\"50\" fontItalic=\"0\" multilineHeight=\"1\">\
         <text-buffer bufferDraw=\"1\" bufferSize=\"0.8\" bufferSizeUnits=\"MM\" bufferColor=\"255,255,255,255\" bufferOpacity=\"0.9\" bufferNoFill=\"1\" bufferJoinStyle=\"128\"/>\
         </text-style>\
         <placement placement=\"{placement}\" dist=\"1\" distUnits=\"MM\" priority=\"5\"/>\
         <rendering obstacle=\"1\" drawLabels=\"1\" displayAll=\"0\" upsidedownLabels=\"0\" scaleVisibility=\"0\"/>\
         </settings></labeling>",
        field = xml_escape(label_field),
        font = LABEL_FONT,
    );
}

/// A QML document (what QGIS stores in `layer_styles.styleQML`).
pub fn qml(meta: &LayerMeta, class: GeomClass) -> String {
    format!(
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n<qgis version=\"3.22.0\" styleCategories=\"Symbology|Labeling\" labelsEnabled=\"1\">{}</qgis>\n",
        style_body(meta, class, "name_zh_hant")
    )
}

const WGS84_SRS: &str = "<spatialrefsys><wkt>GEOGCRS[\"WGS 84\",DATUM[\"World Geodetic System 1984\",ELLIPSOID[\"WGS 84\",6378137,298.257223563,LENGTHUNIT[\"metre\",1]]],PRIMEM[\"Greenwich\",0,ANGLEUNIT[\"degree\",0.0174532925199433]],CS[ellipsoidal,2],AXIS[\"geodetic latitude (Lat)\",north,ORDER[1],ANGLEUNIT[\"degree\",0.0174532925199433]],AXIS[\"geodetic longitude (Lon)\",east,ORDER[2],ANGLEUNIT[\"degree\",0.0174532925199433]],ID[\"EPSG\",4326]]</wkt><proj4>+proj=longlat +datum=WGS84 +no_defs</proj4><srsid>3452</srsid><srid>4326</srid><authid>EPSG:4326</authid><description>WGS 84</description><projectionacronym>longlat</projectionacronym><ellipsoidacronym>EPSG:7030</ellipsoidacronym><geographicflag>true</geographicflag></spatialrefsys>";

const WEB_MERCATOR_SRS: &str = "<spatialrefsys><proj4>+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs</proj4><srid>3857</srid><authid>EPSG:3857</authid><description>WGS 84 / Pseudo-Mercator</description><projectionacronym>merc</projectionacronym><ellipsoidacronym>EPSG:7030</ellipsoidacronym><geographicflag>false</geographicflag></spatialrefsys>";

/// Largest error, in ground metres anywhere on the project's extent, accepted for an offset-datum
/// basemap shifted by a constant: beyond it (an extent spanning provinces) the basemap is left out.
pub const MAX_SHIFT_ERROR_M: f64 = 100.0;

/// How an offset-datum (GCJ-02, BD-09) source's tiles are placed in QGIS, which cannot move them
/// per vertex as the app does: the whole layer is shifted by one Web Mercator offset, the
/// datum's offset at the middle of its range over the extent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TileShift {
    /// Web Mercator metres east and north from WGS84 to the tiles' datum.
    pub dx: f64,
    pub dy: f64,
    /// The largest distance left between a tile pixel and its WGS84 place on the extent.
    pub max_error_m: f64,
}

/// The constant shift for `crs` tiles over `extent` [w, s, e, n].
/// A QGIS `spatialrefsys` for an EPSG system: QGIS looks the code up in its own database; the
/// proj string and WKT are there for a QGIS that lacks it.
fn srs_xml(crs: &crate::spatial::crs::ProjectedCrs) -> String {
    let code = crs.epsg().unwrap_or(0);
    format!(
        "<spatialrefsys><wkt>{}</wkt><proj4>{}</proj4><srid>{code}</srid><authid>EPSG:{code}</authid><description>{}</description><projectionacronym>{}</projectionacronym><geographicflag>{}</geographicflag></spatialrefsys>",
        xml_escape(&crs.wkt1()),
        xml_escape(crs.proj_string()),
        xml_escape(crs.name()),
        if crs.is_geographic() { "longlat" } else { "tmerc" },
        crs.is_geographic()
    )
}

pub fn tile_shift(crs: crate::proj::Crs, [w, s, e, n]: [f64; 4]) -> TileShift {
    use crate::proj::web_mercator;
    const STEPS: usize = 16;
    let mut offsets = Vec::with_capacity((STEPS + 1) * (STEPS + 1));
    for i in 0..=STEPS {
        for j in 0..=STEPS {
            let lon = w + (e - w) * i as f64 / STEPS as f64;
            let lat = (s + (n - s) * j as f64 / STEPS as f64).clamp(-85.0, 85.0);
            let (x0, y0) = web_mercator(lon, lat);
            let (tlon, tlat) = crs.from_wgs84(lon, lat);
            let (x1, y1) = web_mercator(tlon, tlat);
            offsets.push((x1 - x0, y1 - y0, lat.to_radians().cos()));
        }
    }
    let mid = |f: fn(&(f64, f64, f64)) -> f64| {
        let (lo, hi) = offsets.iter().map(f).fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        (lo + hi) / 2.0
    };
    let (dx, dy) = (mid(|o| o.0), mid(|o| o.1));
    // Web Mercator metres are 1/cos(lat) ground metres.
    let max_error_m = offsets.iter().map(|o| (o.0 - dx).hypot(o.1 - dy) * o.2).fold(0.0, f64::max);
    TileShift { dx, dy, max_error_m }
}

/// Web Mercator moved by `shift`, as a QGIS custom CRS: the XYZ layer's tile grid stays the
/// EPSG:3857 one, its placement moves.
fn shifted_mercator_srs(shift: &TileShift, crs: crate::proj::Crs) -> String {
    format!(
        "<spatialrefsys><proj4>+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0={:.2} +y_0={:.2} +k=1 +units=m +nadgrids=@null +wktext +no_defs</proj4>\
         <srsid>0</srsid><srid>0</srid><authid></authid><description>Web Mercator shifted onto {} tiles (port-atlas, within {:.0} m)</description>\
         <projectionacronym>merc</projectionacronym><ellipsoidacronym></ellipsoidacronym><geographicflag>false</geographicflag></spatialrefsys>",
        shift.dx,
        shift.dy,
        crs.title(),
        shift.max_error_m
    )
}

/// A written project and what the user should know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub text: String,
    pub notes: Vec<String>,
}

/// A vector tile source for the project: what it is and how its layers look in the app.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorTileExport {
    pub title: String,
    pub kind: crate::tiles::vector::SourceKind,
    /// The MBTiles path, or the XYZ template (TileJSON sources give theirs), or the PMTiles path
    /// or URL.
    pub location: String,
    pub min_zoom: u8,
    pub max_zoom: u8,
    pub visible: bool,
    pub styles: Vec<crate::tiles::vector::style::SourceLayerStyle>,
}

impl VectorTileExport {
    /// What the project needs of an opened source and the looks of its layers. A local file's
    /// path is made absolute: the project is written elsewhere.
    pub fn new(
        info: &crate::tiles::vector::SourceInfo,
        styles: Vec<crate::tiles::vector::style::SourceLayerStyle>,
        visible: bool,
    ) -> VectorTileExport {
        let location = match (&info.template, info.kind) {
            (Some(t), _) => t.clone(),
            (None, crate::tiles::vector::SourceKind::PmtilesHttp) => info.location.clone(),
            (None, _) => std::fs::canonicalize(&info.location)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| info.location.clone()),
        };
        VectorTileExport {
            title: info.name.clone(),
            kind: info.kind,
            location,
            min_zoom: info.min_zoom,
            max_zoom: info.max_zoom,
            visible,
            styles,
        }
    }

    /// QGIS's vector tile data source, or why QGIS 3.22 cannot open this source.
    pub fn datasource(&self) -> Result<String, String> {
        use crate::tiles::vector::SourceKind;
        match self.kind {
            SourceKind::Mbtiles => Ok(format!("type=mbtiles&url={}", self.location)),
            SourceKind::Xyz | SourceKind::TileJson => Ok(format!(
                "type=xyz&url={}&zmax={}&zmin={}",
                percent_encode(&self.location),
                self.max_zoom,
                self.min_zoom
            )),
            SourceKind::PmtilesFile | SourceKind::PmtilesHttp => Err(format!(
                "{} is a PMTiles archive, which QGIS 3.22 cannot read (QGIS 3.32 and later can); it was left out of the project. Convert it for QGIS with `pmtiles convert` to MBTiles, or serve it as XYZ tiles (Martin reads PMTiles).",
                self.location
            )),
        }
    }
}

/// A QGIS vector tile layer's basic renderer and labelling: a style per source layer and
/// geometry type (and per category when the app colours by an attribute), symbols as for the
/// app's other layers.
fn vector_tile_body(styles: &[crate::tiles::vector::style::SourceLayerStyle]) -> String {
    let mut out = String::from("<renderer type=\"basic\"><styles>");
    let hex = |c: [u8; 3]| format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
    for s in styles {
        let meta = LayerMeta {
            color: hex(s.fill),
            stroke: Some(hex(s.stroke)),
            opacity: s.opacity,
            line_width: s.width.max(0.5),
            ..LayerMeta::fallback(&s.name)
        };
        for (class, geometry, kind) in
            [(GeomClass::Polygon, 2, "Polygon"), (GeomClass::Line, 1, "Line"), (GeomClass::Point, 0, "Point")]
        {
            let is_kind = format!("geometry_type($geometry)='{kind}'");
            let mut rules: Vec<(String, String, LayerMeta)> = Vec::new();
            match (&s.category_field, s.categories.is_empty()) {
                (Some(field), false) => {
                    let f = field.replace('"', "\"\"");
                    let mut values = Vec::new();
                    for (value, rgb) in &s.categories {
                        let v = format!("'{}'", value.replace('\'', "''"));
                        rules.push((
                            format!("{} {value}", s.name),
                            format!("{is_kind} AND to_string(\"{f}\") = {v}"),
                            LayerMeta { color: hex(*rgb), ..meta.clone() },
                        ));
                        values.push(v);
                    }
                    rules.push((
                        format!("{} other", s.name),
                        format!("{is_kind} AND (\"{f}\" IS NULL OR to_string(\"{f}\") NOT IN ({}))", values.join(",")),
                        meta.clone(),
                    ));
                }
                _ => rules.push((format!("{} {kind}s", s.name), is_kind, meta.clone())),
            }
            for (name, expression, m) in rules {
                let _ = write!(
                    out,
                    "<style name=\"{}\" layer=\"{}\" geometry=\"{geometry}\" enabled=\"{}\" expression=\"{}\" min-zoom=\"-1\" max-zoom=\"-1\"><symbols>",
                    xml_escape(&name),
                    xml_escape(&s.name),
                    if s.visible { 1 } else { 0 },
                    xml_escape(&expression),
                );
                symbol(&mut out, "0", class, &m, false);
                out.push_str("</symbols></style>");
            }
        }
    }
    out.push_str("</styles></renderer><labeling type=\"basic\"><styles>");
    for s in styles {
        let Some(field) = &s.label_field else { continue };
        for (class, geometry) in [(GeomClass::Polygon, 2), (GeomClass::Line, 1), (GeomClass::Point, 0)] {
            let mut settings = String::new();
            labeling(&mut settings, class, field);
            // The simple labelling's <settings> element, inside a basic labelling style.
            let inner = settings
                .strip_prefix("<labeling type=\"simple\">")
                .and_then(|s| s.strip_suffix("</labeling>"))
                .unwrap_or(&settings)
                .to_string();
            let _ = write!(
                out,
                "<style name=\"{} labels\" layer=\"{}\" geometry=\"{geometry}\" enabled=\"{}\" expression=\"\" min-zoom=\"-1\" max-zoom=\"-1\">{inner}</style>",
                xml_escape(&s.name),
                xml_escape(&s.name),
                if s.visible { 1 } else { 0 },
            );
        }
    }
    out.push_str("</styles></labeling>");
    out
}

/// One map layer of the project.
enum Entry<'a> {
    /// A GeoPackage table (one geometry class of a layer).
    Vector { id: String, source: String, title: String, class: GeomClass, meta: &'a LayerMeta },
    /// The basemap as a QGIS XYZ tile layer, in `srs` (Web Mercator, or shifted for GCJ-02).
    Xyz { source: String, title: String, attribution: String, srs: String },
    /// A vector tile source, drawn under the thematic layers as in the app.
    Tiles { id: String, source: String, export: &'a VectorTileExport },
}

impl Entry<'_> {
    fn id(&self) -> &str {
        match self {
            Entry::Vector { id, .. } | Entry::Tiles { id, .. } => id,
            Entry::Xyz { .. } => "basemap_xyz",
        }
    }
}

/// QGIS's XYZ data source for a tile template: no `{s}` support (the first subdomain is used),
/// and the template percent-encoded as one query value.
pub fn xyz_datasource(source: &crate::tiles::TileSource) -> String {
    let mut url = source.template.clone();
    if let Some(s) = source.subdomains.first() {
        url = url.replace("{s}", s);
    }
    format!("type=xyz&url={}&zmax={}&zmin=0", percent_encode(&url), source.max_zoom)
}

/// A URL percent-encoded as one query value of a QGIS data source.
fn percent_encode(url: &str) -> String {
    let mut enc = String::new();
    for b in url.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b':' => enc.push(b as char),
            _ => {
                let _ = write!(enc, "%{b:02X}");
            }
        }
    }
    enc
}

/// A `.qgs` project over `gpkg_name` (relative, beside the project) with `layers` drawn in
/// order (first at the bottom, as in the app) and the map extent `extent` [w, s, e, n]. A
/// `basemap` becomes an XYZ layer placed as in the app: above the vector-basemap layers, under
/// the thematic ones; a GCJ-02 or BD-09 one is shifted by [`tile_shift`], or left out (with a
/// note) where one shift cannot fit the extent within [`MAX_SHIFT_ERROR_M`].
pub fn project(
    layers: &[(&Layer, &LayerMeta)],
    gpkg_name: &str,
    extent: Option<[f64; 4]>,
    basemap: Option<&crate::tiles::TileSource>,
    crs: Option<&crate::spatial::crs::ProjectedCrs>,
    vector_tiles: &[VectorTileExport],
) -> Project {
    let mut notes = Vec::new();
    let srs = crs.map_or_else(|| WGS84_SRS.to_string(), srs_xml);
    let extent = extent
        .or_else(|| {
            union_bounds(layers.iter().filter_map(|(l, _)| l.bounds()))
                .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
        })
        .unwrap_or([-180.0, -90.0, 180.0, 90.0]);
    // Map layers: one per layer and geometry class, bottom first.
    let mut entries = Vec::new();
    for (l, meta) in layers {
        let cls = classes(l);
        for c in &cls {
            let (ogr, _) = c.names();
            let mut source = format!("./{gpkg_name}|layername={}", l.id);
            if cls.len() > 1 {
                source.push_str(&format!("|geometrytype={ogr}"));
            }
            let id =
                format!("{}_{}", l.id.replace(|ch: char| !ch.is_ascii_alphanumeric(), "_"), ogr.to_ascii_lowercase());
            let title = if cls.len() > 1 {
                format!("{} ({})", meta.title_en, ogr)
            } else {
                format!("{} {}", meta.title_zh_hant, meta.title_en)
            };
            entries.push(Entry::Vector { id, source, title, class: *c, meta });
        }
    }
    let placed = basemap.and_then(|b| {
        if b.crs == crate::proj::Crs::Wgs84 {
            return Some((b, WEB_MERCATOR_SRS.to_string(), format!("底圖 Basemap ({})", b.host())));
        }
        let shift = tile_shift(b.crs, extent);
        if shift.max_error_m > MAX_SHIFT_ERROR_M {
            notes.push(format!(
                "the basemap {} serves {} tiles; over this extent one shift would leave them up to {:.0} m off, so it was left out of the project",
                b.host(),
                b.crs.title(),
                shift.max_error_m
            ));
            return None;
        }
        notes.push(format!(
            "the basemap {} serves {} tiles; QGIS cannot shift them per vertex as port-atlas does, so the layer is moved by one offset ({:+.0} m east, {:+.0} m north) and sits within {:.0} m of its place over the project's extent",
            b.host(),
            b.crs.title(),
            -shift.dx,
            -shift.dy,
            shift.max_error_m
        ));
        let title = format!("底圖 Basemap ({}, {} shifted, ±{:.0} m)", b.host(), b.crs.title(), shift.max_error_m);
        Some((b, shifted_mercator_srs(&shift, b.crs), title))
    });
    // Vector tile layers sit as in the app: above the basemap, under the thematic layers.
    let at = entries.iter().rposition(|e| matches!(e, Entry::Vector { meta, .. } if meta.basemap)).map_or(0, |i| i + 1);
    for (i, v) in vector_tiles.iter().enumerate().rev() {
        match v.datasource() {
            Ok(source) => entries.insert(at, Entry::Tiles { id: format!("vector_tiles_{i}"), source, export: v }),
            Err(note) => notes.push(note),
        }
    }
    if let Some((b, srs, title)) = placed {
        let at =
            entries.iter().rposition(|e| matches!(e, Entry::Vector { meta, .. } if meta.basemap)).map_or(0, |i| i + 1);
        entries.insert(at, Entry::Xyz { source: xyz_datasource(b), title, attribution: b.attribution.clone(), srs });
    }
    let mut out = String::new();
    out.push_str("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n");
    out.push_str("<qgis projectname=\"port-atlas\" version=\"3.22.0\">\n<title>port-atlas: Suzhou port development and Taicang</title>\n");
    let _ = write!(out, "<projectCrs>{srs}</projectCrs>\n<layer-tree-group><customproperties/>\n");
    // The layer tree lists the top layer first.
    for e in entries.iter().rev() {
        let (source, title, provider, visible) = match e {
            Entry::Vector { source, title, meta, .. } => (source, title, "ogr", meta.visible),
            Entry::Xyz { source, title, .. } => (source, title, "wms", true),
            Entry::Tiles { source, export, .. } => (source, &export.title, "vectortile", export.visible),
        };
        let _ = writeln!(
            out,
            "<layer-tree-layer id=\"{}\" name=\"{}\" source=\"{}\" providerKey=\"{provider}\" checked=\"{}\" expanded=\"1\"><customproperties/></layer-tree-layer>",
            e.id(),
            xml_escape(title),
            xml_escape(source),
            if visible { "Qt::Checked" } else { "Qt::Unchecked" }
        );
    }
    out.push_str("</layer-tree-group>\n");
    // The extent in the project's system: the corners' projected bounds.
    let [w, s, e, n] = match crs {
        None => extent,
        Some(c) => {
            let [w, s, e, n] = extent;
            let corners: Vec<(f64, f64)> = [(w, s), (w, n), (e, s), (e, n), ((w + e) / 2.0, s), ((w + e) / 2.0, n)]
                .iter()
                .filter_map(|&(x, y)| c.from_wgs84(x, y).ok())
                .collect();
            let fold = |f: fn(f64, f64) -> f64, init: f64, pick: fn(&(f64, f64)) -> f64| {
                corners.iter().map(pick).fold(init, f)
            };
            [
                fold(f64::min, f64::MAX, |p| p.0),
                fold(f64::min, f64::MAX, |p| p.1),
                fold(f64::max, f64::MIN, |p| p.0),
                fold(f64::max, f64::MIN, |p| p.1),
            ]
        }
    };
    let units = if crs.is_some_and(|c| !c.is_geographic()) { "meters" } else { "degrees" };
    let _ = writeln!(
        out,
        "<mapcanvas name=\"theMapCanvas\" annotationsVisible=\"1\"><units>{units}</units><extent><xmin>{w}</xmin><ymin>{s}</ymin><xmax>{e}</xmax><ymax>{n}</ymax></extent><rotation>0</rotation><destinationsrs>{srs}</destinationsrs><rendermaptile>0</rendermaptile></mapcanvas>"
    );
    let _ = writeln!(
        out,
        "<ProjectViewSettings UseProjectScales=\"0\"><Scales/><DefaultViewExtent xmin=\"{w}\" ymin=\"{s}\" xmax=\"{e}\" ymax=\"{n}\">{srs}</DefaultViewExtent></ProjectViewSettings>"
    );
    out.push_str("<projectlayers>\n");
    for entry in &entries {
        match entry {
            Entry::Vector { id, source, title, class, meta } => {
                let (_, geometry) = class.names();
                let _ = writeln!(
                    out,
                    "<maplayer type=\"vector\" geometry=\"{geometry}\" labelsEnabled=\"{}\" autoRefreshEnabled=\"0\" refreshOnNotifyEnabled=\"0\" hasScaleBasedVisibilityFlag=\"0\">\
                     <id>{id}</id><datasource>{}</datasource><layername>{}</layername><srs>{srs}</srs>\
                     <provider encoding=\"UTF-8\">ogr</provider>{}<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode><layerOpacity>1</layerOpacity></maplayer>",
                    if meta.labels { 1 } else { 0 },
                    xml_escape(source),
                    xml_escape(title),
                    style_body(meta, *class, "name_zh_hant"),
                );
            }
            Entry::Xyz { source, title, attribution, srs } => {
                let _ = writeln!(
                    out,
                    "<maplayer type=\"raster\" autoRefreshEnabled=\"0\" refreshOnNotifyEnabled=\"0\" hasScaleBasedVisibilityFlag=\"0\">\
                     <id>{}</id><datasource>{}</datasource><layername>{}</layername><srs>{srs}</srs>\
                     <resourceMetadata><rights>{}</rights></resourceMetadata><provider>wms</provider><blendMode>0</blendMode></maplayer>",
                    entry.id(),
                    xml_escape(source),
                    xml_escape(title),
                    xml_escape(attribution),
                );
            }
            // Written after the others (their XML is longer).
            Entry::Tiles { .. } => {}
        }
    }
    for entry in &entries {
        if let Entry::Tiles { id, source, export } = entry {
            let _ = writeln!(
                out,
                "<maplayer type=\"vector-tile\" autoRefreshEnabled=\"0\" refreshOnNotifyEnabled=\"0\" hasScaleBasedVisibilityFlag=\"0\">\
                 <id>{id}</id><datasource>{}</datasource><layername>{}</layername><srs>{WEB_MERCATOR_SRS}</srs>\
                 <provider>vectortile</provider>{}<blendMode>0</blendMode><layerOpacity>1</layerOpacity></maplayer>",
                xml_escape(source),
                xml_escape(&export.title),
                vector_tile_body(&export.styles),
            );
        }
    }
    out.push_str("</projectlayers>\n");
    // Layer order: bottom first, as drawn.
    out.push_str("<layerorder>");
    for e in &entries {
        let _ = write!(out, "<layer id=\"{}\"/>", e.id());
    }
    out.push_str(
        "</layerorder>\n<properties><Paths><Absolute type=\"bool\">false</Absolute></Paths><SpatialRefSys><ProjectionsEnabled type=\"int\">1</ProjectionsEnabled></SpatialRefSys></properties>\n</qgis>\n",
    );
    Project { text: out, notes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escape_handles_markup_quotes_and_control_characters() {
        assert_eq!(xml_escape("<\"&'>\n\u{1}x"), "&lt;&quot;&amp;&apos;&gt;&#10;x");
    }

    #[test]
    fn project_lists_layers_top_first_and_splits_mixed_geometry() {
        let atlas = crate::atlas::Atlas::builtin();
        let pairs: Vec<(&Layer, &LayerMeta)> = atlas.layers.iter().map(|l| (l, &l.meta)).collect();
        let qgs = project(&pairs, "port-atlas.gpkg", atlas.home, None, None, &[]).text;
        let sites = qgs.find("layer-tree-layer id=\"sites_point\"").unwrap();
        let context = qgs.find("layer-tree-layer id=\"context_polygon\"").unwrap();
        assert!(sites < context, "top layer first in the tree");
        assert!(qgs.contains("./port-atlas.gpkg|layername=ports|geometrytype=Point"));
        assert!(qgs.contains("fontFamily=\"Noto Sans CJK TC\""));
        assert!(qgs.contains("f_diagonal"), "schematic areas are hatched");
        assert!(qgs.contains("<xmin>120.35</xmin>"));
        assert!(!qgs.contains("type=xyz"));
    }

    #[test]
    fn a_wgs84_basemap_becomes_an_xyz_layer_between_basemap_and_thematic_layers() {
        use crate::tiles::resolve_source;
        let atlas = crate::atlas::Atlas::builtin();
        let pairs: Vec<(&Layer, &LayerMeta)> = atlas.layers.iter().map(|l| (l, &l.meta)).collect();
        let carto = resolve_source("carto-light", None, None).unwrap();
        let qgs = project(&pairs, "port-atlas.gpkg", atlas.home, carto.as_ref(), None, &[]).text;
        assert!(
            qgs.contains(
                "type=xyz&amp;url=https://a.basemaps.cartocdn.com/light_all/%7Bz%7D/%7Bx%7D/%7By%7D.png&amp;zmax=20"
            ),
            "{qgs}"
        );
        let order = &qgs[qgs.find("<layerorder>").unwrap()..];
        let at = |id: &str| order.find(&format!("\"{id}\"")).unwrap();
        assert!(at("water_polygon") < at("basemap_xyz") && at("basemap_xyz") < at("zones_polygon"), "{order}");
        // Query strings survive as one value.
        let gaode = resolve_source("gaode", None, None).unwrap();
        assert!(xyz_datasource(gaode.as_ref().unwrap()).contains("appmaptile%3Flang%3Dzh_cn%26size%3D1"));
    }

    #[test]
    fn gcj02_basemaps_are_shifted_where_one_offset_fits_and_left_out_where_not() {
        use crate::proj::Crs;
        let atlas = crate::atlas::Atlas::builtin();
        let pairs: Vec<(&Layer, &LayerMeta)> = atlas.layers.iter().map(|l| (l, &l.meta)).collect();
        let home = atlas.home.unwrap();
        // Around Taicang GCJ-02 is about 500 m east and 280 m south of WGS84, varying by tens of
        // metres across the atlas: one offset fits.
        let shift = tile_shift(Crs::Gcj02, home);
        assert!((400.0..600.0).contains(&shift.dx) && (-350.0..-200.0).contains(&shift.dy), "{shift:?}");
        assert!(shift.max_error_m < MAX_SHIFT_ERROR_M, "{shift:?}");
        let centre = [(home[0] + home[2]) / 2.0, (home[1] + home[3]) / 2.0];
        let tiny = tile_shift(Crs::Gcj02, [centre[0] - 0.01, centre[1] - 0.01, centre[0] + 0.01, centre[1] + 0.01]);
        assert!(tiny.max_error_m < 10.0 && tiny.max_error_m < shift.max_error_m, "{tiny:?}");
        assert!(tile_shift(Crs::Wgs84, home).max_error_m < 1e-9);
        let gaode = crate::tiles::resolve_source("gaode", None, None).unwrap();
        let p = project(&pairs, "p.gpkg", Some(home), gaode.as_ref(), None, &[]);
        let layer = &p.text[p.text.find("<id>basemap_xyz</id>").expect("the basemap is in")..];
        let srs = &layer[..layer.find("</srs>").unwrap()];
        assert!(srs.contains(&format!("+x_0={:.2} +y_0={:.2}", shift.dx, shift.dy)), "{srs}");
        assert!(!srs.contains("EPSG:3857"), "{srs}");
        assert!(p.notes.len() == 1 && p.notes[0].contains("one offset"), "{:?}", p.notes);
        // All of China: no single offset fits, so the basemap stays out and the note says why.
        let china = [73.5, 18.0, 135.0, 53.5];
        assert!(tile_shift(Crs::Gcj02, china).max_error_m > MAX_SHIFT_ERROR_M);
        let p = project(&pairs, "p.gpkg", Some(china), gaode.as_ref(), None, &[]);
        assert!(!p.text.contains("type=xyz") && p.notes[0].contains("left out"), "{:?}", p.notes);
    }

    #[test]
    fn a_categorized_layer_becomes_a_rule_per_class_with_its_colour() {
        let mut meta = LayerMeta::fallback("parcels");
        meta.categorized = Some(crate::geodata::Categorized {
            field: "类型".into(),
            classes: vec![("公园".into(), "#e41a1c".into()), ("O'Brien".into(), "#377eb8".into())],
            other: "#9e9e9e".into(),
        });
        let body = style_body(&meta, GeomClass::Polygon, "name_zh_hant");
        assert!(
            body.contains("filter=\"&quot;类型&quot; = &apos;公园&apos;\"")
                || body.contains("filter=\"&quot;类型&quot; = '公园'\""),
            "{body}"
        );
        assert!(body.contains("O&apos;&apos;Brien") || body.contains("O''Brien"), "quotes doubled: {body}");
        assert!(body.contains("filter=\"ELSE\"") && body.contains("228,26,28"), "{body}");
    }
}
