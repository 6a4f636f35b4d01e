//! View links: what one planner sees, as a short `port-atlas://view?…` link a colleague opens with
//! `port-atlas --open LINK`: the centre, the scale, the visible layers, the selected place, the
//! basemap and the vector tile sources. Plain text, so it survives e-mail and chat.

use std::fmt::Write;

/// A view worth sending.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewLink {
    /// Centre, WGS84 degrees.
    pub lon: f64,
    pub lat: f64,
    /// Local (Web Mercator) metres per pixel, as `--view LON,LAT,M_PER_PX` takes it.
    pub metres_per_px: f64,
    /// Ids of the layers shown; `None`: every layer.
    pub layers: Option<Vec<String>>,
    /// The selected place's id.
    pub selected: Option<String>,
    /// A built-in basemap's name or a URL template; `None`: the vector basemap alone.
    pub basemap: Option<String>,
    /// Vector tile sources (URLs; files only mean something on the same machine).
    pub tiles: Vec<String>,
}

pub const SCHEME: &str = "port-atlas://view?";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ViewLinkError {
    #[error("{0:?} is not a port-atlas view link (it starts with {SCHEME})")]
    NotALink(String),
    #[error("the view link has no {0} (its {1})")]
    Missing(&'static str, &'static str),
    #[error("the view link's {field} {value:?} is not {want}")]
    Bad { field: &'static str, value: String, want: &'static str },
}

/// Percent-encodes everything but unreserved characters, so ids, templates and Chinese names
/// travel intact through any chat window.
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

fn dec(s: &str, field: &'static str) -> Result<String, ViewLinkError> {
    let bad = || ViewLinkError::Bad { field, value: s.into(), want: "percent-encoded UTF-8" };
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let h = s.get(i + 1..i + 3).ok_or_else(bad)?;
                out.push(u8::from_str_radix(h, 16).map_err(|_| bad())?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

impl ViewLink {
    /// The link, e.g. `port-atlas://view?ll=121.174000,31.564000&mpp=12.5&layers=ports,zones&sel=taicang-port`.
    pub fn to_link(&self) -> String {
        let mut s = format!("{SCHEME}ll={:.6},{:.6}&mpp={}", self.lon, self.lat, round_scale(self.metres_per_px));
        if let Some(l) = &self.layers {
            let ids: Vec<String> = l.iter().map(|i| enc(i)).collect();
            let _ = write!(s, "&layers={}", ids.join(","));
        }
        if let Some(p) = &self.selected {
            let _ = write!(s, "&sel={}", enc(p));
        }
        if let Some(b) = &self.basemap {
            let _ = write!(s, "&basemap={}", enc(b));
        }
        for t in &self.tiles {
            let _ = write!(s, "&tiles={}", enc(t));
        }
        s
    }

    /// Reads a link (surrounding spaces and quotes, as pasted, are ignored).
    ///
    /// ```
    /// use port_atlas::viewlink::ViewLink;
    /// let v = ViewLink::parse("port-atlas://view?ll=121.2333,31.6167&mpp=20&sel=taicang-port").unwrap();
    /// assert_eq!((v.lon, v.lat, v.metres_per_px), (121.2333, 31.6167, 20.0));
    /// assert_eq!(v.selected.as_deref(), Some("taicang-port"));
    /// assert_eq!(ViewLink::parse(&v.to_link()).unwrap(), v);
    /// assert!(ViewLink::parse("port-atlas://view?ll=400,31&mpp=20").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<ViewLink, ViewLinkError> {
        let t = text.trim().trim_matches(|c| c == '"' || c == '\'' || c == '<' || c == '>');
        let query = t.strip_prefix(SCHEME).ok_or_else(|| ViewLinkError::NotALink(t.chars().take(60).collect()))?;
        let mut v = ViewLink {
            lon: f64::NAN,
            lat: f64::NAN,
            metres_per_px: f64::NAN,
            layers: None,
            selected: None,
            basemap: None,
            tiles: vec![],
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, val) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "ll" => {
                    let bad =
                        || ViewLinkError::Bad { field: "centre (ll)", value: val.into(), want: "LON,LAT in degrees" };
                    let (a, b) = val.split_once(',').ok_or_else(bad)?;
                    let (lon, lat) =
                        (a.trim().parse::<f64>().map_err(|_| bad())?, b.trim().parse::<f64>().map_err(|_| bad())?);
                    if !(lon.abs() <= 180.0 && lat.abs() <= 85.0) {
                        return Err(bad());
                    }
                    (v.lon, v.lat) = (lon, lat);
                }
                "mpp" => {
                    let bad =
                        || ViewLinkError::Bad { field: "scale (mpp)", value: val.into(), want: "metres per pixel" };
                    let s = val.parse::<f64>().map_err(|_| bad())?;
                    if !(s.is_finite() && s > 0.0) {
                        return Err(bad());
                    }
                    v.metres_per_px = s;
                }
                "layers" => {
                    v.layers = Some(
                        val.split(',').filter(|s| !s.is_empty()).map(|s| dec(s, "layers")).collect::<Result<_, _>>()?,
                    )
                }
                "sel" => v.selected = Some(dec(val, "selection (sel)")?).filter(|s| !s.is_empty()),
                "basemap" => v.basemap = Some(dec(val, "basemap")?).filter(|s| !s.is_empty()),
                "tiles" => v.tiles.push(dec(val, "tiles")?),
                // Newer links may carry more; what this version does not know is left alone.
                _ => {}
            }
        }
        if v.lon.is_nan() {
            return Err(ViewLinkError::Missing("centre", "ll=LON,LAT"));
        }
        if v.metres_per_px.is_nan() {
            return Err(ViewLinkError::Missing("scale", "mpp=METRES_PER_PX"));
        }
        Ok(v)
    }

    /// One line for people: where, how close, what.
    pub fn summary(&self) -> String {
        let mut s = format!("{:.5}°E {:.5}°N, {} m/px", self.lon, self.lat, round_scale(self.metres_per_px));
        if let Some(p) = &self.selected {
            let _ = write!(s, ", {p} selected");
        }
        if let Some(l) = &self.layers {
            let _ = write!(s, ", {} layers shown", l.len());
        }
        if let Some(b) = &self.basemap {
            let _ = write!(s, ", basemap {b}");
        }
        s
    }
}

/// Three significant figures: a scale is never read more precisely than that.
fn round_scale(s: f64) -> f64 {
    if !(s.is_finite() && s > 0.0) {
        return s;
    }
    let mag = 10f64.powi(s.log10().floor() as i32 - 2);
    (s / mag).round() * mag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_round_trip_with_awkward_ids_templates_and_sources() {
        let v = ViewLink {
            lon: 121.123456,
            lat: 31.654321,
            metres_per_px: 3.0,
            layers: Some(vec!["ports".into(), "地块 & 用地".into()]),
            selected: Some("金倉湖公園".into()),
            basemap: Some("https://{s}.tile.example/{z}/{x}/{y}.png?key=a&b".into()),
            tiles: vec!["http://127.0.0.1:3000/parcels".into()],
        };
        let link = v.to_link();
        assert!(link.starts_with(SCHEME) && !link.contains(' ') && link.is_ascii(), "{link}");
        assert_eq!(ViewLink::parse(&link).unwrap(), v);
        assert_eq!(ViewLink::parse(&format!("  \"{link}\"\n")).unwrap(), v, "pasted with quotes");
        assert!(!ViewLink { layers: None, ..v.clone() }.to_link().contains("layers="));
    }

    #[test]
    fn bad_links_say_what_is_wrong() {
        let e = |s: &str| ViewLink::parse(s).unwrap_err().to_string();
        assert!(e("https://example.org/view").contains("not a port-atlas view link"));
        assert!(e("port-atlas://view?mpp=3").contains("centre"));
        assert!(e("port-atlas://view?ll=121,31").contains("scale"));
        assert!(e("port-atlas://view?ll=121;31&mpp=3").contains("LON,LAT"));
        assert!(e("port-atlas://view?ll=121,31&mpp=-3").contains("metres per pixel"));
        assert!(e("port-atlas://view?ll=121,31&mpp=3&sel=%E9%8").contains("percent-encoded"));
        assert_eq!(round_scale(12.3456), 12.3);
        assert_eq!(round_scale(0.98765), 0.988);
    }
}
