//! View links in the app: putting the map where a link says, and the link for what is on screen
//! (*🔗* in the toolbar). Shared: imports no plugin.

use bevy::math::DVec2;

use super::state::{LayerId, LayerView, Selection};
use super::view::{MAX_SCALE, MIN_SCALE, MapView};
use crate::atlas::Atlas;
use crate::proj::LocalFrame;
use crate::viewlink::ViewLink;

/// Puts the map where `link` says: centre and scale exactly (no fit), the layers it lists shown
/// and the rest hidden, its place selected. Returns what this atlas does not have ("layer x",
/// "place y"), for one warning; the rest applies.
pub fn apply(
    link: &ViewLink,
    atlas: &Atlas,
    frame: &LocalFrame,
    map: &mut MapView,
    layers: &mut LayerView,
    selection: &mut Selection,
) -> Vec<String> {
    let mut unknown = Vec::new();
    let (x, y) = frame.project(link.lon, link.lat);
    map.center = DVec2::new(x, y);
    map.target_center = map.center;
    map.scale = link.metres_per_px.clamp(MIN_SCALE, MAX_SCALE);
    map.target_scale = map.scale;
    map.fit = None;
    map.heading = None;
    if let Some(shown) = &link.layers {
        unknown
            .extend(shown.iter().filter(|s| !atlas.layers.iter().any(|l| &&l.id == s)).map(|s| format!("layer {s}")));
        for (i, l) in atlas.layers.iter().enumerate() {
            if let Some(st) = layers.get_mut(LayerId(i)) {
                st.visible = shown.contains(&l.id);
            }
        }
    }
    if let Some(p) = &link.selected {
        match atlas.feature_of(p) {
            Some(r) => selection.selected = Some(r),
            None => unknown.push(format!("place {p}")),
        }
    }
    unknown
}

/// The link for what is on screen: the centre and scale, the visible layers (all: left out),
/// the selected place, the basemap (a built-in name or its template) and vector tile sources.
pub fn current(
    atlas: &Atlas,
    frame: &LocalFrame,
    map: &MapView,
    layers: &LayerView,
    selection: &Selection,
    basemap: Option<String>,
    tiles: Vec<String>,
) -> ViewLink {
    let (lon, lat) = frame.unproject(map.target_center.x, map.target_center.y);
    let shown: Vec<String> = atlas
        .layers
        .iter()
        .enumerate()
        .filter(|(i, l)| layers.is_visible(LayerId(*i)) && l.id != crate::atlas::MENTIONED_LAYER)
        .map(|(_, l)| l.id.clone())
        .collect();
    let all = atlas.layers.iter().enumerate().all(|(i, _)| layers.is_visible(LayerId(i)));
    ViewLink {
        lon,
        lat,
        metres_per_px: map.target_scale,
        layers: (!all).then_some(shown),
        selected: selection.selected.and_then(|r| atlas.feature(r)).map(|f| f.id.clone()),
        basemap,
        tiles,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::Lang;

    #[test]
    fn a_view_sent_and_opened_is_the_same_view() {
        let atlas = Atlas::builtin();
        let frame = LocalFrame::default();
        let mut layers = LayerView::new(&atlas, Lang::Hant);
        let mut map = MapView::default();
        let (x, y) = frame.project(121.2333, 31.6167);
        map.target_center = DVec2::new(x, y);
        map.target_scale = 12.5;
        layers.get_mut(LayerId(0)).unwrap().visible = false;
        let mut sel = Selection { selected: atlas.feature_of("jincang-lake-park"), ..Default::default() };
        let link = current(&atlas, &frame, &map, &layers, &sel, Some("osm".into()), vec![]).to_link();
        // A colleague's app, as it starts: everything shown, nothing selected.
        let mut map2 = MapView::default();
        let mut layers2 = LayerView::new(&atlas, Lang::Hant);
        let mut sel2 = Selection::default();
        let parsed = ViewLink::parse(&link).unwrap();
        assert_eq!(apply(&parsed, &atlas, &frame, &mut map2, &mut layers2, &mut sel2), Vec::<String>::new());
        assert!((map2.center - map.target_center).length() < 0.5, "within half a metre");
        assert_eq!(map2.scale, 12.5);
        assert!(!layers2.is_visible(LayerId(0)) && layers2.is_visible(LayerId(1)));
        assert_eq!(sel2.selected, atlas.feature_of("jincang-lake-park"));
        assert_eq!(parsed.basemap.as_deref(), Some("osm"));
        // A link from another atlas: what is missing is named, the rest applies.
        sel.selected = None;
        let other = ViewLink { layers: Some(vec!["parcels".into()]), selected: Some("nowhere".into()), ..parsed };
        let unknown = apply(&other, &atlas, &frame, &mut map2, &mut layers2, &mut sel2);
        assert_eq!(unknown, ["layer parcels", "place nowhere"]);
        assert!(!layers2.is_visible(LayerId(1)), "the listed layers only");
    }
}
