//! Who changed a feature, when, over which basemap at what zoom, and how well that places it:
//! written into every edited feature's properties, so the GeoJSON, the GeoPackage and the QGIS
//! project all carry it without a schema of their own.

use serde_json::{Map, Value};

use crate::geodata::{Accuracy, Feature};

/// Property keys of an edited feature.
pub mod keys {
    /// The OS user who made the edit.
    pub const EDITED_BY: &str = "edited_by";
    /// RFC 3339, UTC.
    pub const EDITED_AT: &str = "edited_at";
    /// The basemap under the edit ("Esri World Imagery (aerial)", "none: the atlas's own outlines").
    pub const BASEMAP: &str = "edit_basemap";
    /// Web Mercator zoom of the view the edit was made at (one decimal).
    pub const ZOOM: &str = "edit_zoom";
    /// The accuracy the zoom and the basemap support, in metres.
    pub const ACCURACY_M: &str = "edit_accuracy_m";
    /// The id of the feature this one corrects (kept so the correction overrides it on the next start).
    pub const EDIT_OF: &str = "edit_of";
    /// The layer the feature belongs to.
    pub const LAYER: &str = "edit_layer";
}

/// The circumstances of one editing step.
#[derive(Debug, Clone, PartialEq)]
pub struct EditContext {
    pub editor: String,
    pub edited_at: String,
    pub basemap: String,
    /// How far off the basemap itself may be, in metres (see [`basemap_error_m`]).
    pub basemap_error_m: f64,
    /// Web Mercator metres per pixel of the view.
    pub mercator_mpp: f64,
    /// Latitude of the view, for ground metres.
    pub lat: f64,
}

impl EditContext {
    /// Web Mercator zoom of the view: 0 shows the world in one 256 px tile.
    pub fn zoom(&self) -> f64 {
        (std::f64::consts::TAU * crate::proj::EARTH_RADIUS_M / 256.0 / self.mercator_mpp).log2()
    }

    /// See [`estimate_accuracy_m`].
    pub fn accuracy_m(&self) -> f64 {
        estimate_accuracy_m(self.mercator_mpp * self.lat.to_radians().cos(), self.basemap_error_m)
    }
}

/// How far off a basemap's features may lie, by its id in `tiles::builtin_sources`. The values
/// are deliberately modest claims: OpenStreetMap and CARTO (drawn from OSM) are traced from
/// imagery, typically within 5-10 m in Chinese cities; Esri's imagery is orthorectified to about
/// 10 m; AutoNavi's GCJ-02 tiles, once shifted back, keep about 10 m (the conversion itself
/// leaves under 2 m). A template of unknown quality is assumed 20 m; with no basemap, a planner
/// places features against the atlas's own outlines, good to about 200 m.
pub fn basemap_error_m(id: Option<&str>) -> f64 {
    match id {
        None => 200.0,
        Some("osm" | "carto-light" | "esri-imagery" | "gaode") => 10.0,
        Some(_) => 20.0,
    }
}

/// What a vertex placed by hand supports: three screen pixels of ground (how far a planner's
/// click lands from what they aim at) combined with the basemap's own error, rounded up to 1, 2
/// or 5 times a power of ten (within 1%: 200.1 m is 200 m) so it never claims more than it knows.
pub fn estimate_accuracy_m(ground_mpp: f64, basemap_error_m: f64) -> f64 {
    let e = (3.0 * ground_mpp).hypot(basemap_error_m).max(1.0);
    let p = 10f64.powf(e.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * p).find(|&v| v >= e * 0.99).unwrap_or(10.0 * p)
}

/// The OS user's name, for `edited_by`: the login variables, else the home folder's name (a
/// service or `sudo` shell often sets no `USER`).
pub fn editor_name() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .into_iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .or_else(|| dirs::home_dir().and_then(|h| h.file_name().map(|n| n.to_string_lossy().into_owned())))
        .unwrap_or_else(|| "unknown user".to_string())
}

/// Now, as RFC 3339 UTC to the second.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    chrono::DateTime::from_timestamp(secs as i64, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Whether a feature carries edit provenance.
pub fn is_edited(f: &Feature) -> bool {
    f.extra.get(keys::EDITED_BY).is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()))
}

/// Records an edit on a feature, with the accuracy the zoom and basemap support
/// (`edit_accuracy_m`: the coarsest of this and earlier edits). A geometry edit never makes the
/// feature's own accuracy tighter, since one careful vertex does not make the others better:
/// metres become the larger of the two, a schematic or unstated position stays so, and a new
/// feature (`original` false, nothing to keep) takes the estimate. Setting the accuracy by hand
/// (the attribute form) is how a planner who redrew the whole outline claims more.
pub fn stamp(f: &mut Feature, ctx: &EditContext, layer: &str, geometry_changed: bool, original: bool) {
    let m: &mut Map<String, Value> = &mut f.extra;
    m.insert(keys::EDITED_BY.into(), ctx.editor.clone().into());
    m.insert(keys::EDITED_AT.into(), ctx.edited_at.clone().into());
    m.insert(keys::LAYER.into(), layer.into());
    if original && !f.id.is_empty() {
        m.entry(keys::EDIT_OF).or_insert_with(|| f.id.clone().into());
    }
    if geometry_changed {
        let before = m.get(keys::ACCURACY_M).and_then(Value::as_f64).unwrap_or(0.0);
        let acc = ctx.accuracy_m().max(before);
        m.insert(keys::ACCURACY_M.into(), acc.into());
        m.insert(keys::BASEMAP.into(), ctx.basemap.clone().into());
        m.insert(keys::ZOOM.into(), ((ctx.zoom() * 10.0).round() / 10.0).into());
        f.accuracy = match f.accuracy {
            Accuracy::Metres(m) => Accuracy::Metres(m.max(acc)),
            _ if !original => Accuracy::Metres(acc),
            kept => kept,
        };
    } else {
        m.entry(keys::BASEMAP).or_insert_with(|| ctx.basemap.clone().into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_grows_with_the_view_and_the_basemap_and_rounds_up() {
        // 1 m/px over imagery: the imagery's 10 m dominates.
        assert_eq!(estimate_accuracy_m(1.0, 10.0), 20.0);
        // 50 m/px: 150 m of clicking error.
        assert_eq!(estimate_accuracy_m(50.0, 10.0), 200.0);
        assert_eq!(estimate_accuracy_m(0.01, 0.0), 1.0);
        assert_eq!(estimate_accuracy_m(2.0, 200.0), 200.0, "no basemap: the atlas's outlines");
        assert_eq!(estimate_accuracy_m(30.0, 200.0), 500.0);
    }

    #[test]
    fn a_stamp_records_who_when_where_and_never_tightens_the_accuracy() {
        let mut f = crate::synth::polygons(1, 4, 1).features.remove(0);
        f.accuracy = Accuracy::Metres(5.0);
        let ctx = |mpp: f64| EditContext {
            editor: "planner".into(),
            edited_at: "2026-12-02T10:00:00Z".into(),
            basemap: "OpenStreetMap".into(),
            basemap_error_m: 10.0,
            mercator_mpp: mpp,
            lat: 31.5,
        };
        stamp(&mut f, &ctx(40.0), "ports", true, true);
        let coarse = f.extra[keys::ACCURACY_M].as_f64().unwrap();
        assert_eq!(f.accuracy, Accuracy::Metres(coarse), "5 m claimed, but the edit supports only the coarser");
        let mut schematic = f.clone();
        schematic.accuracy = Accuracy::Schematic;
        stamp(&mut schematic, &ctx(0.5), "ports", true, true);
        assert_eq!(schematic.accuracy, Accuracy::Schematic, "moving a vertex does not make an idea a survey");
        let mut drawn = f.clone();
        drawn.accuracy = Accuracy::Unstated;
        drawn.extra.remove(keys::ACCURACY_M);
        stamp(&mut drawn, &ctx(0.5), "my-edits", true, false);
        // 1.3 m of clicking at 0.5 m/px beside OpenStreetMap's 10 m.
        assert_eq!(drawn.accuracy, Accuracy::Metres(10.0));
        assert_eq!(f.extra[keys::EDIT_OF], Value::from(f.id.clone()));
        stamp(&mut f, &ctx(0.5), "ports", true, true);
        assert_eq!(f.extra[keys::ACCURACY_M].as_f64().unwrap(), coarse);
        assert!((ctx(0.5).zoom() - 18.26).abs() < 0.01, "{}", ctx(0.5).zoom());
        assert!(is_edited(&f) && now_rfc3339().ends_with('Z'));
    }
}
