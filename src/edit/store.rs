//! The planner's edits on disk: one GeoJSON file in the user's data folder holding every feature
//! that carries edit provenance, corrections and new features alike. Corrections keep the id of
//! the feature they correct (and name it in `edit_of`), so on the next start they replace it.

use std::path::Path;

use serde_json::Value;

use super::provenance::{self, keys};
use super::shape::Shape;
use super::validate::validate;
use crate::diagnostic::{Diagnostic, Position};
use crate::geodata::{Feature, Layer, LoadError};
use crate::spatial::geojson::{ReadOptions, parse_layer};

/// The file's name in a data folder.
pub const EDITS_FILE: &str = "edits.geojson";

/// The layer new features go to when the planner draws them outside any layer of their own.
pub const USER_LAYER: &str = "my-edits";

/// One saved feature and the layer it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedEdit {
    pub layer: String,
    pub feature: Feature,
}

/// Every edited feature in the layers, with its layer's id, in layer order.
pub fn edited_features(layers: &[Layer]) -> Vec<(&str, &Feature)> {
    layers
        .iter()
        .flat_map(|l| l.features.iter().filter(|f| provenance::is_edited(f)).map(move |f| (l.id.as_str(), f)))
        .collect()
}

/// Writes every edited feature to `path` atomically (the previous file kept as `.bak`), creating
/// the folder. Returns how many were written. Fails without touching the previous file.
pub fn save(path: &Path, layers: &[Layer]) -> std::io::Result<usize> {
    let features = edited_features(layers);
    let fc = geojson::FeatureCollection {
        bbox: None,
        features: features
            .iter()
            .map(|(layer, f)| {
                let mut f = (*f).clone();
                f.extra.insert(keys::LAYER.into(), Value::from(*layer));
                f.to_geojson()
            })
            .collect(),
        foreign_members: None,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut text = serde_json::to_string_pretty(&fc).map_err(std::io::Error::other)?;
    text.push('\n');
    if path.exists() {
        std::fs::copy(path, path.with_extension("geojson.bak"))?;
    }
    crate::geodata::write_atomic(path, text.as_bytes())?;
    Ok(features.len())
}

/// Reads an edits file. A feature without a layer, or whose geometry an edit could not have made
/// (a crossing outline, a ring too short), is reported naming the file and feature, and skipped;
/// one without who and when is kept with a warning.
pub fn read(path: &Path) -> Result<(Vec<SavedEdit>, Vec<Diagnostic>), LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io { path: path.to_path_buf(), source })?;
    parse(path, &bytes)
}

/// [`read`] on bytes already in memory (`path` names them in problems).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<(Vec<SavedEdit>, Vec<Diagnostic>), LoadError> {
    let opts = ReadOptions { strict_schema: false, topology: false, ..Default::default() };
    let (layer, mut diags) = parse_layer(path, bytes, opts)?;
    let mut out = Vec::new();
    for (i, f) in layer.features.into_iter().enumerate() {
        let at = Position::Feature(i, (!f.id.is_empty()).then(|| f.id.clone()));
        let Some(layer) = f.extra.get(keys::LAYER).and_then(Value::as_str).map(str::to_string) else {
            diags.push(Diagnostic::error(
                path,
                at,
                format!("no {:?}: which layer it belongs to is unknown; skipped", keys::LAYER),
            ));
            continue;
        };
        match Shape::from_geometry(&f.geometry)
            .map_err(|e| e.to_string())
            .and_then(|s| validate(&s).map_err(|e| format!("{} at {:.6}, {:.6}", e.reason, e.at[0], e.at[1])))
        {
            Ok(()) => {}
            Err(why) => {
                diags.push(Diagnostic::error(path, at, format!("invalid geometry ({why}); skipped")));
                continue;
            }
        }
        if !provenance::is_edited(&f) || f.extra.get(keys::EDITED_AT).and_then(Value::as_str).is_none() {
            diags.push(Diagnostic::warning(
                path,
                at,
                format!("no {:?} or {:?}: who changed it and when is unknown", keys::EDITED_BY, keys::EDITED_AT),
            ));
        }
        out.push(SavedEdit { layer, feature: f });
    }
    Ok((out, diags))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edited(mut f: Feature) -> Feature {
        f.extra.insert(keys::EDITED_BY.into(), "planner".into());
        f.extra.insert(keys::EDITED_AT.into(), "2026-12-02T10:00:00Z".into());
        f
    }

    #[test]
    fn only_edited_features_are_saved_and_they_read_back_with_their_layer() {
        let dir = tempdir("store");
        let mut layer = crate::synth::polygons(3, 5, 1);
        layer.id = "parcels".into();
        layer.features[1] = edited(layer.features[1].clone());
        let path = dir.join("sub").join(EDITS_FILE);
        assert_eq!(save(&path, std::slice::from_ref(&layer)).unwrap(), 1);
        let (back, diags) = read(&path).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].layer, "parcels");
        assert_eq!(back[0].feature.id, layer.features[1].id);
        // Coordinates come back to the last bit or two of an f64 (serde_json's fast float parsing).
        let coords = |g: &geo::Geometry<f64>| -> Vec<(f64, f64)> {
            use geo::CoordsIter;
            g.coords_iter().map(|c| (c.x, c.y)).collect()
        };
        let (a, b) = (coords(&back[0].feature.geometry), coords(&layer.features[1].geometry));
        assert_eq!(a.len(), b.len());
        assert!(a.iter().zip(&b).all(|(p, q)| (p.0 - q.0).abs() < 1e-12 && (p.1 - q.1).abs() < 1e-12));
        // Saving again keeps the previous file as .bak.
        save(&path, std::slice::from_ref(&layer)).unwrap();
        assert!(path.with_extension("geojson.bak").is_file());
    }

    #[test]
    fn a_save_interrupted_mid_write_leaves_the_previous_file_intact() {
        let dir = tempdir("interrupted");
        let path = dir.join(EDITS_FILE);
        std::fs::write(&path, "previous").unwrap();
        let failed = crate::geodata::write_atomic_with(&path, |w| {
            use std::io::Write;
            w.write_all(b"{\"type\": \"FeatureCol")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(Result::ok).map(|e| e.file_name()).collect();
        assert_eq!(left.len(), 1, "no temporary file left behind: {left:?}");
    }

    #[test]
    fn bad_saved_features_are_named_and_skipped() {
        let dir = tempdir("bad");
        let path = dir.join(EDITS_FILE);
        let bow_tie = r#"{"type":"Feature","id":"x","properties":{"id":"x","edit_layer":"sites","edited_by":"a","edited_at":"2026-01-01T00:00:00Z"},
            "geometry":{"type":"Polygon","coordinates":[[[121,31],[121.1,31.1],[121.1,31],[121,31.1],[121,31]]]}}"#;
        let no_layer =
            r#"{"type":"Feature","properties":{"id":"y"},"geometry":{"type":"Point","coordinates":[121,31]}}"#;
        let anonymous = r#"{"type":"Feature","properties":{"id":"z","edit_layer":"sites"},"geometry":{"type":"Point","coordinates":[121,31]}}"#;
        std::fs::write(
            &path,
            format!(r#"{{"type":"FeatureCollection","features":[{bow_tie},{no_layer},{anonymous}]}}"#),
        )
        .unwrap();
        let (back, diags) = read(&path).unwrap();
        assert_eq!(back.len(), 1);
        let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        assert!(text[0].contains("feature #0") && text[0].contains("outline would cross itself"), "{text:?}");
        assert!(text[1].contains("no \"edit_layer\""), "{text:?}");
        assert!(text[2].contains("who changed it"), "{text:?}");
    }

    fn tempdir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("port-atlas-edit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
