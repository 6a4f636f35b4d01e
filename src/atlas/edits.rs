//! The planner's saved edits applied to the atlas: a correction replaces the feature of the same
//! id in its layer, a new feature joins its layer (or "my edits"), and both keep their provenance
//! for the panels and exports. The built-in data and the planner's own files are never written;
//! edits go to `edits.geojson` in the data folder, or the platform data folder for the built-in
//! atlas.

use std::path::{Path, PathBuf};

use super::{Atlas, BUILTIN_PREFIX};
use crate::diagnostic::{Diagnostic, Position};
use crate::edit::provenance::keys;
use crate::edit::store::{self, EDITS_FILE, USER_LAYER};
use crate::geodata::{Layer, LayerMeta};

impl Atlas {
    /// Where the built-in atlas's edits are kept: `$XDG_DATA_HOME/port-atlas/edits.geojson`.
    pub fn user_edits_path() -> Option<PathBuf> {
        dirs::data_dir().map(|d| d.join("port-atlas").join(EDITS_FILE))
    }

    /// Where edits are saved: the data folder's `edits.geojson`, else the one
    /// [`Atlas::use_edits`] named; `None` when neither is known.
    pub fn edits_path(&self) -> Option<PathBuf> {
        self.edits_file.clone().or_else(|| self.dir.as_ref().map(|d| d.join(EDITS_FILE)))
    }

    /// Applies the edits saved in `path` (a missing file is no edits) and saves there from now
    /// on. Problems are reported in the atlas's diagnostics; the rest is applied.
    pub fn use_edits(&mut self, path: &Path) -> usize {
        self.edits_file = Some(path.to_path_buf());
        if !path.is_file() {
            return 0;
        }
        let (edits, diags) = match store::read(path) {
            Ok(r) => r,
            Err(e) => {
                self.diagnostics.push(e.to_diagnostic());
                return 0;
            }
        };
        self.diagnostics.extend(diags);
        let n = edits.len();
        for (i, e) in edits.into_iter().enumerate() {
            let corrects = e.feature.extra.get(keys::EDIT_OF).and_then(|v| v.as_str()).map(str::to_string);
            let layer = match self.layers.iter().position(|l| l.id == e.layer) {
                Some(l) => l,
                None => {
                    if e.layer != USER_LAYER {
                        self.diagnostics.push(Diagnostic::warning(
                            path,
                            Position::Feature(i, Some(e.feature.id.clone())),
                            format!("layer {:?} is not in this atlas: the feature is shown in \"my edits\"", e.layer),
                        ));
                    }
                    self.user_layer()
                }
            };
            let target = corrects.as_deref().unwrap_or(&e.feature.id);
            let l = &mut self.layers[layer];
            match l.features.iter().position(|f| f.id == target) {
                Some(j) => l.features[j] = e.feature,
                None => {
                    if let Some(id) = &corrects {
                        self.diagnostics.push(Diagnostic::warning(
                            path,
                            Position::Feature(i, Some(e.feature.id.clone())),
                            format!("corrects {id:?}, which layer {:?} no longer has: shown as a new feature", e.layer),
                        ));
                    }
                    self.layers[layer].features.push(e.feature);
                }
            }
        }
        self.names_changed();
        n
    }

    /// The layer for features drawn outside any other: made on first use.
    pub fn user_layer(&mut self) -> usize {
        if let Some(i) = self.layers.iter().position(|l| l.id == USER_LAYER) {
            return i;
        }
        let mut meta = LayerMeta::fallback(USER_LAYER);
        meta.title_zh_hant = "我的編輯".into();
        meta.title_zh_hans = "我的编辑".into();
        meta.title_en = "My edits".into();
        meta.color = "#c2255c".into();
        meta.opacity = 0.35;
        let path = self.edits_path().unwrap_or_else(|| Path::new(BUILTIN_PREFIX).join(EDITS_FILE));
        self.layers.push(Layer { id: USER_LAYER.into(), path, features: Vec::new(), meta, provenance: None });
        self.layers.len() - 1
    }

    /// Writes every edited feature to [`Atlas::edits_path`]. Returns the file and the count.
    pub fn save_edits(&self) -> std::io::Result<(PathBuf, usize)> {
        let path = self.edits_path().ok_or_else(|| std::io::Error::other("no folder to save edits in"))?;
        let n = store::save(&path, &self.layers)?;
        Ok((path, n))
    }

    /// Re-reads names after an edit changed them, so documents link to the new names.
    pub fn names_changed(&mut self) {
        self.relink();
        self.refresh_mentioned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::provenance::{EditContext, stamp};
    use crate::export::{ExportOptions, Format, export};

    fn ctx() -> EditContext {
        EditContext {
            editor: "planner".into(),
            edited_at: "2026-12-02T10:00:00Z".into(),
            basemap: "Esri World Imagery (aerial)".into(),
            basemap_error_m: 10.0,
            mercator_mpp: 2.0,
            lat: 31.5,
        }
    }

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("port-atlas-atlas-edits-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_saved_correction_overrides_the_built_in_feature_and_exports_with_its_provenance() {
        let dir = temp("override");
        let path = dir.join(EDITS_FILE);
        let mut atlas = Atlas::builtin();
        atlas.use_edits(&path);
        let r = atlas.feature_of("port-city-square").unwrap();
        let layer_id = atlas.layers[r.layer as usize].id.clone();
        let f = &mut atlas.layers[r.layer as usize].features[r.feature as usize];
        f.geometry = geo::Geometry::Point(geo::Point::new(121.2, 31.61));
        stamp(f, &ctx(), &layer_id, true, true);
        let (written, n) = atlas.save_edits().unwrap();
        assert_eq!((written, n), (path.clone(), 1));

        let mut next = Atlas::builtin();
        next.use_edits(&path);
        let f = next.feature(next.feature_of("port-city-square").unwrap()).unwrap();
        assert_eq!(f.geometry, geo::Geometry::Point(geo::Point::new(121.2, 31.61)));
        assert_eq!(f.accuracy, crate::geodata::Accuracy::Schematic, "a schematic square stays schematic");
        assert_eq!(f.extra[keys::ACCURACY_M].as_f64(), Some(20.0));
        assert_eq!(next.layers.len(), Atlas::builtin().layers.len(), "a correction adds no layer");
        // The audit takes the planner's provenance as the reference for the new accuracy.
        assert!(!next.audit().iter().any(|d| d.message.contains("port-city-square")), "{:?}", next.audit());

        let out = dir.join("export");
        let opts = ExportOptions {
            vector_tiles: Vec::new(),
            out: out.clone(),
            layers: vec![layer_id.clone()],
            formats: vec![Format::GeoJson, Format::GeoPackage],
            force: false,
            basemap: None,
            crs: None,
        };
        export(&next, &opts).unwrap();
        let db = rusqlite::Connection::open(out.join("port-atlas.gpkg")).unwrap();
        let (by, basemap): (String, String) = db
            .query_row(
                &format!("SELECT edited_by, edit_basemap FROM \"{layer_id}\" WHERE id = 'port-city-square'"),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((by.as_str(), basemap.as_str()), ("planner", "Esri World Imagery (aerial)"));
        let geojson = std::fs::read_to_string(out.join(format!("{layer_id}.geojson"))).unwrap();
        assert!(geojson.contains("\"edit_of\"") && geojson.contains("\"edited_at\""));
    }

    #[test]
    fn edits_for_missing_layers_and_features_are_kept_and_reported() {
        let dir = temp("missing");
        let path = dir.join(EDITS_FILE);
        std::fs::write(
            &path,
            r#"{"type":"FeatureCollection","features":[
              {"type":"Feature","properties":{"id":"gone","edit_of":"gone","edit_layer":"sites","edited_by":"a","edited_at":"2026-01-01T00:00:00Z"},"geometry":{"type":"Point","coordinates":[121.1,31.5]}},
              {"type":"Feature","properties":{"id":"new-1","edit_layer":"roads-2019","edited_by":"a","edited_at":"2026-01-01T00:00:00Z"},"geometry":{"type":"Point","coordinates":[121.1,31.5]}}]}"#,
        )
        .unwrap();
        let mut atlas = Atlas::builtin();
        assert_eq!(atlas.use_edits(&path), 2);
        let text: Vec<String> = atlas.diagnostics.iter().map(|d| d.to_string()).collect();
        assert!(text.iter().any(|t| t.contains("feature #0") && t.contains("no longer has")), "{text:?}");
        assert!(
            text.iter().any(|t| t.contains("feature #1") && t.contains("\"roads-2019\" is not in this atlas")),
            "{text:?}"
        );
        let mine = atlas.layers.iter().find(|l| l.id == USER_LAYER).unwrap();
        assert_eq!(mine.features.len(), 1);
        assert!(atlas.feature_of("gone").is_some(), "kept in its layer as a new feature");
        // A data folder never lists the planner's own layer as a file of its own.
        let saved = atlas.save_manifest(&dir).unwrap();
        assert!(!std::fs::read_to_string(saved).unwrap().contains(USER_LAYER));
    }
}
