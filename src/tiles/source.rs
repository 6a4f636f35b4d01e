//! Tile sources: URL templates with QGIS's placeholders, the built-in basemaps, and `--basemap`
//! parsing.

use super::TileId;
use crate::proj::Crs;

/// A basemap source: URL template with `{z}`, `{x}` and `{y}` (or `{-y}` for TMS servers, whose
/// rows count from the south), or `{q}` (a Bing-style quadkey), and optionally `{s}`: the same
/// placeholders as QGIS's XYZ layers, so a template works in both.
#[derive(Debug, Clone, PartialEq)]
pub struct TileSource {
    pub template: String,
    pub subdomains: Vec<String>,
    /// The CRS the tiles are drawn in; GCJ-02 tiles must be shifted to meet WGS84 layers.
    pub crs: Crs,
    pub attribution: String,
    pub max_zoom: u8,
    /// Downloads at once this server is asked to bear (its usage policy's figure, if any).
    pub max_parallel: usize,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TemplateError {
    #[error("tile URL template {0:?} lacks {{z}}, {{x}} or {{y}} (or {{-y}}, or a {{q}} quadkey)")]
    MissingPlaceholder(String),
    #[error("tile URL template {0:?} is not http(s)")]
    NotHttp(String),
    #[error("tile URL template {0:?} uses {{s}} but no subdomains are given")]
    NoSubdomains(String),
}

impl TileSource {
    pub fn new(template: &str, subdomains: &[&str], crs: Crs, attribution: &str) -> Result<Self, TemplateError> {
        let t = template.trim();
        if !(t.starts_with("http://") || t.starts_with("https://")) {
            return Err(TemplateError::NotHttp(t.into()));
        }
        let xyz = t.contains("{z}") && t.contains("{x}") && (t.contains("{y}") || t.contains("{-y}"));
        if !(xyz || t.contains("{q}")) {
            return Err(TemplateError::MissingPlaceholder(t.into()));
        }
        let subdomains: Vec<String> = if t.contains("{s}") && subdomains.is_empty() {
            // The common convention for templates like https://{s}.tile.example/…
            vec!["a".into(), "b".into(), "c".into()]
        } else {
            subdomains.iter().map(|s| s.to_string()).collect()
        };
        if t.contains("{s}") && subdomains.is_empty() {
            return Err(TemplateError::NoSubdomains(t.into()));
        }
        Ok(TileSource {
            template: t.into(),
            subdomains,
            crs,
            attribution: attribution.into(),
            max_zoom: 19,
            max_parallel: 4,
        })
    }

    /// The URL of a tile; subdomains rotate by tile so requests spread across hosts.
    pub fn url(&self, t: TileId) -> String {
        let tms_y = (1u32 << t.z).saturating_sub(1).saturating_sub(t.y);
        let mut u = self
            .template
            .replace("{z}", &t.z.to_string())
            .replace("{x}", &t.x.to_string())
            .replace("{y}", &t.y.to_string())
            .replace("{-y}", &tms_y.to_string());
        if u.contains("{q}") {
            u = u.replace("{q}", &t.quadkey());
        }
        if !self.subdomains.is_empty() {
            let s = &self.subdomains[((t.x + t.y) as usize) % self.subdomains.len()];
            u = u.replace("{s}", s);
        }
        u
    }

    /// Where a tile's image should be drawn, as WGS84 bounds: for GCJ-02 sources the tile's
    /// corners are moved back by the GCJ-02 offset so the imagery lines up with WGS84 layers.
    pub fn placed_bounds(&self, t: TileId) -> [f64; 4] {
        let [w, s, e, n] = t.bounds();
        match self.crs {
            Crs::Wgs84 => [w, s, e, n],
            crs => {
                // The offset varies by well under a metre across one tile at useful zooms, so one
                // shift per tile (measured at its centre) suffices.
                let (cx, cy) = ((w + e) / 2.0, (s + n) / 2.0);
                let (wx, wy) = crs.to_wgs84(cx, cy);
                let (dx, dy) = (wx - cx, wy - cy);
                [w + dx, s + dy, e + dx, n + dy]
            }
        }
    }
}

/// A basemap the UI offers by name.
#[derive(Debug, Clone)]
pub struct NamedSource {
    /// Short name for `--basemap`.
    pub id: &'static str,
    pub title: String,
    pub source: TileSource,
}

/// The basemaps offered in the UI. Each is a public service whose terms allow light interactive
/// use with attribution; heavy or offline-bulk use needs the operator's permission.
pub fn builtin_sources() -> Vec<NamedSource> {
    let mk = |id, title: &str, template, subs: &[&str], crs, attribution, max_zoom| NamedSource {
        id,
        title: title.to_string(),
        source: TileSource::new(template, subs, crs, attribution)
            .expect("built-in templates are valid")
            .with_max_zoom(max_zoom),
    };
    let osm = mk(
        "osm",
        "OpenStreetMap",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        &[],
        Crs::Wgs84,
        "© OpenStreetMap contributors",
        19,
    );
    vec![
        NamedSource {
            // The OSM Foundation's tile usage policy asks for few parallel downloads.
            source: TileSource { max_parallel: 2, ..osm.source },
            ..osm
        },
        mk(
            "carto-light",
            "CARTO Positron (light)",
            "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}.png",
            &["a", "b", "c", "d"],
            Crs::Wgs84,
            "© OpenStreetMap contributors © CARTO",
            20,
        ),
        mk(
            "esri-imagery",
            "Esri World Imagery (aerial)",
            "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}",
            &[],
            Crs::Wgs84,
            "Imagery © Esri, Maxar, Earthstar Geographics",
            19,
        ),
        mk(
            "gaode",
            "高德地圖 AutoNavi (GCJ-02)",
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            &["1", "2", "3", "4"],
            Crs::Gcj02,
            "© 高德地图 AutoNavi",
            18,
        ),
    ]
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SourceError {
    #[error("{0:?} is neither a built-in basemap ({1}) nor an http(s) URL template")]
    Unknown(String, String),
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// A basemap from the command line: `none`, a built-in name, or a URL template (WGS84 unless
/// `crs` says otherwise). A CRS or attribution given with a built-in name overrides its own.
pub fn resolve_source(
    spec: &str,
    crs: Option<Crs>,
    attribution: Option<&str>,
) -> Result<Option<TileSource>, SourceError> {
    let spec = spec.trim();
    if spec.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let builtins = builtin_sources();
    let mut source = match builtins.iter().find(|b| b.id.eq_ignore_ascii_case(spec)) {
        Some(b) => b.source.clone(),
        None if spec.contains("://") => TileSource::new(spec, &[], Crs::Wgs84, "")?,
        None => {
            let names: Vec<&str> = builtins.iter().map(|b| b.id).collect();
            return Err(SourceError::Unknown(spec.into(), names.join(", ")));
        }
    };
    if let Some(c) = crs {
        source.crs = c;
    }
    if let Some(a) = attribution {
        source.attribution = a.to_string();
    } else if source.attribution.is_empty() {
        // Say at least whose tiles these are.
        source.attribution = source.host();
    }
    Ok(Some(source))
}
