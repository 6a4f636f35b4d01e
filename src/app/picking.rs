//! Picking: the R-tree finds candidates under the cursor, an exact geometry test decides; hover
//! highlights, a click selects.

use bevy::prelude::*;

use super::state::{AppMode, AtlasRes, HoverEnabled, LayerId, LayerView, Measure, Selection};
use super::view::{MapSet, MapView, PointerGesture, UiCapture};
use crate::index::FeatureRef;

pub struct PickingPlugin;

impl Plugin for PickingPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, (measure_clicks, pick).chain().in_set(MapSet::Pick));
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
    res.index.pick(&res.atlas.layers, lon, lat, tolerance, |l| view.is_visible(LayerId(l as usize)))
}

/// What picking reads about the pointer: where it is, whether egui has it, and whether hovering
/// is wanted at all in this mode.
#[derive(bevy::ecs::system::SystemParam)]
pub struct Pointer<'w> {
    gesture: Res<'w, PointerGesture>,
    capture: Res<'w, UiCapture>,
    hover: Res<'w, HoverEnabled>,
    mode: Res<'w, State<AppMode>>,
}

/// While measuring, a click on the map adds a point; Backspace takes the last one back, Escape
/// ends measuring.
pub fn measure_clicks(
    mut measure: ResMut<Measure>,
    res: Res<AtlasRes>,
    map: Res<MapView>,
    gesture: Res<PointerGesture>,
    capture: Res<UiCapture>,
    keys: Option<Res<ButtonInput<KeyCode>>>,
) {
    if !measure.active {
        return;
    }
    if let Some(k) = keys
        && !capture.keyboard
    {
        if k.just_pressed(KeyCode::Backspace) {
            measure.points.pop();
        }
        if k.just_pressed(KeyCode::Escape) {
            measure.active = false;
        }
    }
    if let Some(c) = gesture.clicked
        && !capture.pointer
        && map.viewport.contains(c)
    {
        let w = map.screen_to_world(c);
        let p = res.frame.unproject(w.x, w.y);
        measure.points.push(p);
    }
}

pub fn pick(
    res: Res<AtlasRes>,
    view: Res<LayerView>,
    map: Res<MapView>,
    pointer: Pointer,
    mut selection: ResMut<Selection>,
    measure: Res<Measure>,
) {
    let Pointer { gesture, capture, hover, mode } = pointer;
    // Measuring: clicks are points of the path, not picks.
    if measure.active {
        if selection.hovered.is_some() {
            selection.hovered = None;
        }
        return;
    }
    // No hover highlight in a presentation: the step's places are the only emphasis.
    let presenting = *mode.get() == AppMode::Present;
    let over_map =
        gesture.cursor.is_some_and(|c| map.viewport.contains(c)) && !capture.pointer && hover.0 && !presenting;
    let hovered = match (gesture.cursor, over_map, gesture.dragging) {
        (Some(c), true, false) => pick_at(&res, &view, &map, c),
        _ => None,
    };
    if selection.hovered != hovered {
        selection.hovered = hovered;
    }
    // Editing: the editor turns clicks into selections, vertices and drawn points.
    if let Some(c) = gesture.clicked
        && !capture.pointer
        && *mode.get() != AppMode::Edit
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The picking plugin alone: the view and pointer resources the camera and panels would keep.
    fn app() -> App {
        let mut app = crate::app::state::minimal_app();
        app.insert_resource(MapView { viewport: bevy::math::Rect::new(0.0, 0.0, 1000.0, 800.0), ..default() })
            .init_resource::<PointerGesture>()
            .init_resource::<UiCapture>()
            .add_plugins(PickingPlugin);
        app
    }

    /// Points the view at a place and returns the screen position of a point inside it.
    fn aim_at(app: &mut App, id: &str) -> Vec2 {
        use geo::InteriorPoint;
        let res = app.world().resource::<AtlasRes>();
        let f = res.atlas.feature(res.atlas.feature_of(id).unwrap()).unwrap();
        let p = f.geometry.interior_point().unwrap();
        let (x, y) = res.frame.project(p.x(), p.y());
        let mut map = app.world_mut().resource_mut::<MapView>();
        map.center = bevy::math::DVec2::new(x, y);
        map.scale = 20.0;
        map.world_to_screen(bevy::math::DVec2::new(x, y))
    }

    #[test]
    fn hover_and_click_pick_while_browsing_only_click_while_presenting() {
        let mut app = app();
        let screen = aim_at(&mut app, "jincang-lake-park");
        let want = app.world().resource::<AtlasRes>().atlas.feature_of("jincang-lake-park");
        {
            let mut g = app.world_mut().resource_mut::<PointerGesture>();
            g.cursor = Some(screen);
            g.clicked = Some(screen);
        }
        app.update();
        let sel = app.world().resource::<Selection>();
        assert_eq!((sel.hovered, sel.selected), (want, want));
        assert!(sel.scroll_to.is_some(), "the park is mentioned in the report");
        // Presenting: no hover highlight (the step's places are the emphasis).
        app.world_mut().resource_mut::<NextState<AppMode>>().set(AppMode::Present);
        app.world_mut().resource_mut::<PointerGesture>().clicked = None;
        app.update();
        app.update();
        assert_eq!(app.world().resource::<Selection>().hovered, None);
        // A hidden layer is not picked.
        let layer = want.unwrap().layer as usize;
        app.world_mut().resource_mut::<NextState<AppMode>>().set(AppMode::Browse);
        app.world_mut().resource_mut::<LayerView>().get_mut(LayerId(layer)).unwrap().visible = false;
        app.update();
        app.update();
        assert_ne!(app.world().resource::<Selection>().hovered, want);
    }
}

#[cfg(test)]
mod measure_tests {
    use super::*;

    #[test]
    fn measuring_turns_clicks_into_points_not_picks() {
        let mut app = crate::app::state::minimal_app();
        let mut map = MapView { viewport: bevy::math::Rect::new(0.0, 0.0, 1000.0, 800.0), ..default() };
        let (x, y) = app.world().resource::<AtlasRes>().frame.project(121.10, 31.45);
        map.center = bevy::math::DVec2::new(x, y);
        map.scale = 20.0;
        app.insert_resource(map)
            .init_resource::<PointerGesture>()
            .init_resource::<UiCapture>()
            .add_plugins(PickingPlugin);
        app.world_mut().resource_mut::<Measure>().active = true;
        for c in [Vec2::new(200.0, 400.0), Vec2::new(700.0, 400.0), Vec2::new(700.0, 100.0)] {
            let mut g = app.world_mut().resource_mut::<PointerGesture>();
            g.cursor = Some(c);
            g.clicked = Some(c);
            app.update();
        }
        // A click on a panel (egui has the pointer) adds nothing.
        app.world_mut().resource_mut::<UiCapture>().pointer = true;
        app.update();
        let m = app.world().resource::<Measure>().clone();
        assert_eq!(m.points.len(), 3);
        assert_eq!(app.world().resource::<Selection>().selected, None, "no place picked while measuring");
        // 500 px at 20 local metres a pixel is 10 km of Web Mercator: cos(31.45°) of it on the ground.
        let first_leg = crate::spatial::measure::path_length_m(&m.points[..2]);
        assert!((first_leg - 10_000.0 * 31.45f64.to_radians().cos()).abs() < 15.0, "{first_leg}");
        assert!(m.figures().contains("area") && m.area_m2() > 0.0);
    }
}
