//! What the app remembers between sessions (the basemap and its look), as a small JSON file in
//! the platform config folder. A file that cannot be read is reported and left untouched.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::proj::Crs;
use crate::tiles::{TileSource, builtin_sources};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// A built-in basemap id, a URL template, or `none`.
    pub basemap: String,
    /// `wgs84` or `gcj02`, for a template.
    pub basemap_crs: String,
    pub basemap_attribution: String,
    pub basemap_opacity: f32,
    pub basemap_muted: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            basemap: "none".into(),
            basemap_crs: "wgs84".into(),
            basemap_attribution: String::new(),
            basemap_opacity: 1.0,
            basemap_muted: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{path}: cannot read settings: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: cannot save settings: {message}")]
    Write { path: PathBuf, message: String },
}

impl Settings {
    /// `$XDG_CONFIG_HOME/port-atlas/settings.json` (or the platform's equivalent).
    pub fn default_path() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("port-atlas").join("settings.json"))
    }

    /// Reads settings; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        let err = |message: String| SettingsError::Read { path: path.into(), message };
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice::<Settings>(&bytes).map_err(|e| err(e.to_string())).map(|mut s| {
                // A hand-edited 1e39 loads as infinity and would not survive a save (the
                // `settings` fuzz target's finding): opacity is 0..1.
                s.basemap_opacity = if s.basemap_opacity.is_finite() { s.basemap_opacity.clamp(0.0, 1.0) } else { 1.0 };
                s
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(err(e.to_string())),
        }
    }

    /// Writes atomically, creating the folder.
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        let err = |message: String| SettingsError::Write { path: path.into(), message };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        }
        let json = serde_json::to_vec_pretty(self).map_err(|e| err(e.to_string()))?;
        crate::geodata::write_atomic(path, &json).map_err(|e| err(e.to_string()))
    }

    /// The remembered basemap, if it still parses.
    pub fn basemap_source(&self) -> Option<TileSource> {
        let crs = self.basemap_crs.parse::<Crs>().ok();
        let attribution = Some(self.basemap_attribution.as_str()).filter(|a| !a.is_empty());
        crate::tiles::resolve_source(&self.basemap, crs, attribution).ok().flatten()
    }

    /// Remembers `source` (a built-in by its id, anything else by its template).
    pub fn set_basemap(&mut self, source: Option<&TileSource>) {
        let Some(s) = source else {
            self.basemap = "none".into();
            return;
        };
        match builtin_sources().into_iter().find(|b| &b.source == s) {
            Some(b) => {
                self.basemap = b.id.into();
                self.basemap_crs = b.source.crs.to_string();
                self.basemap_attribution.clear();
            }
            None => {
                self.basemap = s.template.clone();
                self.basemap_crs = s.crs.to_string();
                self.basemap_attribution = s.attribution.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("port-atlas-settings-{name}-{}", std::process::id())).join("settings.json")
    }

    #[test]
    fn basemaps_round_trip_through_the_file() {
        let path = temp("rt");
        assert_eq!(Settings::load(&path).unwrap(), Settings::default(), "missing file: defaults");
        let mut s = Settings { basemap_opacity: 0.6, basemap_muted: true, ..Default::default() };
        let gaode = builtin_sources().into_iter().find(|b| b.id == "gaode").unwrap().source;
        s.set_basemap(Some(&gaode));
        s.save(&path).unwrap();
        let back = Settings::load(&path).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.basemap, "gaode");
        assert_eq!(back.basemap_source(), Some(gaode));

        let custom = TileSource::new("http://127.0.0.1:9/{z}/{x}/{y}.png", &[], Crs::Gcj02, "Local").unwrap();
        s.set_basemap(Some(&custom));
        s.save(&path).unwrap();
        assert_eq!(Settings::load(&path).unwrap().basemap_source(), Some(custom));
        s.set_basemap(None);
        assert_eq!(s.basemap_source(), None);
        std::fs::remove_dir_all(path.parent().unwrap()).ok();
    }

    #[test]
    fn a_broken_file_is_an_error_naming_it() {
        let path = temp("broken");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{\"basemap\": ").unwrap();
        let e = Settings::load(&path).unwrap_err().to_string();
        assert!(e.contains("settings.json") && e.contains("cannot read"), "{e}");
        std::fs::remove_dir_all(path.parent().unwrap()).ok();
    }

    #[test]
    fn an_opacity_out_of_range_is_clamped_so_it_survives_a_save() {
        // fuzz/regressions/settings/opacity-1e39.json
        let d = std::env::temp_dir().join(format!("port-atlas-settings-clamp-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join("settings.json");
        std::fs::write(&p, r#"{"basemap": "none", "basemap_opacity": 1e39}"#).unwrap();
        let s = Settings::load(&p).unwrap();
        assert_eq!(s.basemap_opacity, 1.0);
        s.save(&p).unwrap();
        assert_eq!(Settings::load(&p).unwrap().basemap_opacity, 1.0);
        std::fs::remove_dir_all(&d).ok();
    }
}
