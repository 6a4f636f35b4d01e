//! TileJSON 3.0 (what Martin, pg_tileserv, TileServer GL and tippecanoe's metadata describe a
//! vector source with): tile URL templates, zoom range, bounds and the source layers with their
//! fields. Only what port-atlas uses is read; unknown members are ignored.

use serde::Deserialize;

/// A source layer and its attribute fields, as the server lists them.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct VectorLayer {
    pub id: String,
    /// Field name to type ("String", "Number", "Boolean"), sorted by name.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub minzoom: Option<u8>,
    #[serde(default)]
    pub maxzoom: Option<u8>,
    #[serde(default)]
    pub description: Option<String>,
}

impl VectorLayer {
    /// Field names in order, for the name-field choice and the attribute table.
    pub fn field_names(&self) -> Vec<String> {
        self.fields.keys().cloned().collect()
    }
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct TileJson {
    #[serde(default)]
    pub tiles: Vec<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub attribution: Option<String>,
    #[serde(default)]
    pub minzoom: Option<u8>,
    #[serde(default)]
    pub maxzoom: Option<u8>,
    /// [west, south, east, north] in degrees.
    #[serde(default)]
    pub bounds: Option<[f64; 4]>,
    /// "xyz" (the default) or "tms" (rows counted from the south).
    #[serde(default)]
    pub scheme: Option<String>,
    #[serde(default)]
    pub vector_layers: Vec<VectorLayer>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TileJsonError {
    #[error("{at}: not TileJSON: {message}")]
    Parse { at: String, message: String },
    #[error("{at}: TileJSON lists no tile URLs (\"tiles\")")]
    NoTiles { at: String },
    #[error("{at}: TileJSON tile URL {url:?} has no {{z}}, {{x}} and {{y}}")]
    BadTemplate { at: String, url: String },
}

impl TileJson {
    /// Parses a TileJSON document fetched from (or read at) `at`, resolving relative tile URLs
    /// against it.
    ///
    /// ```
    /// use port_atlas::tiles::vector::tilejson::TileJson;
    /// let j = r#"{"tilejson":"3.0.0","tiles":["/parcels/{z}/{x}/{y}"],"maxzoom":14,
    ///            "vector_layers":[{"id":"parcels","fields":{"name":"String"}}]}"#;
    /// let t = TileJson::parse(j.as_bytes(), "http://127.0.0.1:3000/parcels").unwrap();
    /// assert_eq!(t.tiles, ["http://127.0.0.1:3000/parcels/{z}/{x}/{y}"]);
    /// assert_eq!(t.vector_layers[0].field_names(), ["name"]);
    /// ```
    pub fn parse(bytes: &[u8], at: &str) -> Result<TileJson, TileJsonError> {
        let mut t: TileJson = serde_json::from_slice(bytes)
            .map_err(|e| TileJsonError::Parse { at: at.into(), message: e.to_string() })?;
        t.tiles.retain(|u| !u.trim().is_empty());
        if t.tiles.is_empty() {
            return Err(TileJsonError::NoTiles { at: at.into() });
        }
        for u in &mut t.tiles {
            *u = resolve_url(at, u.trim());
            if !(u.contains("{z}") && u.contains("{x}") && u.contains("{y}")) {
                return Err(TileJsonError::BadTemplate { at: at.into(), url: u.clone() });
            }
        }
        if let Some(b) = t.bounds
            && !(b.iter().all(|v| v.is_finite()) && b[0] < b[2] && b[1] < b[3])
        {
            t.bounds = None;
        }
        Ok(t)
    }

    pub fn is_tms(&self) -> bool {
        self.scheme.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("tms"))
    }
}

/// `rel` resolved against `base` the way a browser would, for the common forms: absolute,
/// scheme-relative, host-relative and path-relative.
pub fn resolve_url(base: &str, rel: &str) -> String {
    if rel.contains("://") {
        return rel.into();
    }
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let scheme = &base[..scheme_end.saturating_sub(3)];
    if let Some(r) = rel.strip_prefix("//") {
        return format!("{scheme}://{r}");
    }
    let host_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    if rel.starts_with('/') {
        return format!("{}{rel}", &base[..host_end]);
    }
    // Drop the query, then the last path segment; then walk `./` and `../` as a browser does.
    let path = base.split(['?', '#']).next().unwrap_or(base);
    let host_end = host_end.min(path.len());
    let dir_end = path[host_end..].rfind('/').map_or(path.len(), |i| host_end + i);
    let mut segs: Vec<&str> = path[host_end..dir_end].split('/').filter(|s| !s.is_empty()).collect();
    let mut rest = rel;
    loop {
        if let Some(r) = rest.strip_prefix("./") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("../") {
            segs.pop();
            rest = r;
        } else {
            break;
        }
    }
    let mut out = path[..host_end].to_string();
    for s in segs {
        out.push('/');
        out.push_str(s);
    }
    format!("{out}/{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_urls_resolve_like_a_browser() {
        let b = "http://h:3000/a/b.json?key=1";
        assert_eq!(resolve_url(b, "t/{z}/{x}/{y}.pbf"), "http://h:3000/a/t/{z}/{x}/{y}.pbf");
        assert_eq!(resolve_url(b, "/t/{z}"), "http://h:3000/t/{z}");
        assert_eq!(resolve_url(b, "//cdn/t"), "http://cdn/t");
        assert_eq!(resolve_url(b, "https://x/t"), "https://x/t");
        assert_eq!(resolve_url("http://h:3000/parcels", "/parcels/{z}"), "http://h:3000/parcels/{z}");
        assert_eq!(resolve_url("http://h", "t/{z}"), "http://h/t/{z}");
        assert_eq!(resolve_url("http://h/a/b/c.json", "../t/{z}"), "http://h/a/t/{z}");
        assert_eq!(resolve_url("http://h/a/c.json", "../../t/{z}"), "http://h/t/{z}");
        assert_eq!(resolve_url("http://h/a/c.json", "./t/{z}"), "http://h/a/t/{z}");
    }

    #[test]
    fn bad_tilejson_is_named() {
        assert!(matches!(TileJson::parse(b"{}", "u"), Err(TileJsonError::NoTiles { .. })));
        assert!(matches!(TileJson::parse(b"<html>", "u"), Err(TileJsonError::Parse { .. })));
        assert!(matches!(
            TileJson::parse(br#"{"tiles":["http://x/a.pbf"]}"#, "u"),
            Err(TileJsonError::BadTemplate { .. })
        ));
        let t =
            TileJson::parse(br#"{"tiles":["http://x/{z}/{x}/{y}"],"bounds":[1,2,0,3],"scheme":"TMS"}"#, "u").unwrap();
        assert_eq!((t.bounds, t.is_tms()), (None, true), "inverted bounds dropped");
    }
}
