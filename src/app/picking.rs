//! Picking: the R-tree finds candidates under the cursor, an exact geometry test decides; hover
//! highlights, a click selects.

use bevy::prelude::*;

use super::camera::{MapView, PointerGesture, UiCapture};
use super::{AtlasRes, LayerView, Selection};
use crate::index::FeatureRef;

pub struct PickingPlugin;

impl Plugin for PickingPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, pick.after(super::camera::CameraPluginSet));
    }
}

/// The feature under a window position, among visible layers. Points and lines get a tolerance
/// of a few pixels.
pub fn pick_at(res: &AtlasRes, view: &LayerView, map: &MapView, screen: Vec2) -> Option<FeatureRef> {
    let w = map.screen_to_world(screen);
    let (lon, lat) = res.frame.unproject(w.x, w.y);
    let w2 = map.screen_to_world(screen + Vec2::new(8.0, 0.0));
    let (lon2, _) = res.frame.unproject(w2.x, w2.y);
    let tolerance = (lon2 - lon).abs();
    res.index.pick(&res.atlas.layers, lon, lat, tolerance, |l| view.visible.get(l as usize).copied().unwrap_or(false))
}

#[allow(clippy::too_many_arguments)] // a Bevy system: each argument is a resource it reads
pub fn pick(
    res: Res<AtlasRes>,
    view: Res<LayerView>,
    map: Res<MapView>,
    gesture: Res<PointerGesture>,
    capture: Res<UiCapture>,
    hover: Res<super::HoverEnabled>,
    presenter: Option<Res<super::presenter::Presenter>>,
    mut selection: ResMut<Selection>,
) {
    // No hover highlight in a presentation: the step's places are the only emphasis.
    let presenting = presenter.is_some_and(|p| p.active);
    let over_map =
        gesture.cursor.is_some_and(|c| map.viewport.contains(c)) && !capture.pointer && hover.0 && !presenting;
    let hovered = match (gesture.cursor, over_map, gesture.dragging) {
        (Some(c), true, false) => pick_at(&res, &view, &map, c),
        _ => None,
    };
    if selection.hovered != hovered {
        selection.hovered = hovered;
    }
    if let Some(c) = gesture.clicked
        && !capture.pointer
    {
        let hit = pick_at(&res, &view, &map, c);
        if selection.selected != hit {
            selection.selected = hit;
            selection.scroll_to = hit.and_then(|r| first_mention(&res, r));
        }
    }
}

/// The first passage that mentions a feature, to scroll the document panel to.
pub fn first_mention(res: &AtlasRes, r: FeatureRef) -> Option<(usize, usize)> {
    let f = res.atlas.feature(r)?;
    res.atlas.mentions_of(&f.id).first().map(|m| (m.document, m.passage))
}
