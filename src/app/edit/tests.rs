//! The editor under `MinimalPlugins`, driven the way the camera plugin feeds it: pointer
//! gestures and keys, frame by frame.

use bevy::math::DVec2;
use bevy::prelude::*;

use super::*;
use crate::app::state::{AppMode, AtlasRes, Problems, Selection};
use crate::app::view::{MapView, PointerGesture, UiCapture};
use crate::atlas::Atlas;
use crate::edit::provenance::keys;

fn app() -> App {
    let mut app = crate::app::state::minimal_app();
    app.insert_resource(MapView { viewport: bevy::math::Rect::new(0.0, 0.0, 1000.0, 800.0), ..default() })
        .init_resource::<PointerGesture>()
        .init_resource::<UiCapture>()
        .init_resource::<ButtonInput<KeyCode>>()
        .add_plugins(EditPlugin);
    app.world_mut().resource_mut::<NextState<AppMode>>().set(AppMode::Edit);
    app.update();
    // Deterministic positions: the tests place vertices exactly where they drop them.
    app.world_mut().resource_mut::<Editor>().snapping = false;
    app
}

fn screen_of(app: &App, p: [f64; 2]) -> Vec2 {
    let res = app.world().resource::<AtlasRes>();
    let (x, y) = res.frame.project(p[0], p[1]);
    app.world().resource::<MapView>().world_to_screen(DVec2::new(x, y))
}

fn lonlat_of(app: &App, s: Vec2) -> [f64; 2] {
    let res = app.world().resource::<AtlasRes>();
    let w = app.world().resource::<MapView>().screen_to_world(s);
    let (lon, lat) = res.frame.unproject(w.x, w.y);
    [lon, lat]
}

fn look_at(app: &mut App, p: [f64; 2], scale: f64) {
    let (x, y) = app.world().resource::<AtlasRes>().frame.project(p[0], p[1]);
    let mut map = app.world_mut().resource_mut::<MapView>();
    map.center = DVec2::new(x, y);
    map.target_center = map.center;
    map.scale = scale;
    map.target_scale = scale;
}

/// Press at `from`, move to `to`, release: three frames, as the camera reports them.
fn drag(app: &mut App, from: Vec2, to: Vec2) {
    {
        let mut g = app.world_mut().resource_mut::<PointerGesture>();
        *g = PointerGesture { press: Some(from), cursor: Some(from), ..default() };
    }
    app.update();
    assert!(
        app.world().resource::<PointerGesture>().held,
        "the editor holds a press on a handle, so the map does not pan"
    );
    {
        let mut g = app.world_mut().resource_mut::<PointerGesture>();
        g.dragging = true;
        g.cursor = Some(to);
    }
    app.update();
    {
        let mut g = app.world_mut().resource_mut::<PointerGesture>();
        *g = PointerGesture { cursor: Some(to), ..default() };
    }
    app.update();
}

fn click(app: &mut App, at: Vec2) {
    *app.world_mut().resource_mut::<PointerGesture>() =
        PointerGesture { cursor: Some(at), clicked: Some(at), ..default() };
    app.update();
    app.world_mut().resource_mut::<PointerGesture>().clicked = None;
}

fn chord(app: &mut App, keys: &[KeyCode]) {
    {
        let mut k = app.world_mut().resource_mut::<ButtonInput<KeyCode>>();
        for key in keys {
            k.press(*key);
        }
    }
    app.update();
    app.world_mut().resource_mut::<ButtonInput<KeyCode>>().reset_all();
}

fn first_vertex(app: &App, r: FeatureRef) -> [f64; 2] {
    let f = app.world().resource::<AtlasRes>().atlas.feature(r).unwrap().clone();
    Shape::from_geometry(&f.geometry).unwrap().vertex(VertexPath::new(0, 0, 0)).unwrap()
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("port-atlas-app-edit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn drag_a_vertex_undo_redo_save_and_reload_with_provenance() {
    let mut app = app();
    let dir = tempdir("drag");
    let path = dir.join("edits.geojson");
    app.world_mut().resource_mut::<AtlasRes>().atlas.use_edits(&path);
    // A polygon of the built-in atlas: the first one with few enough vertices to grab one alone.
    let r = {
        let atlas = &app.world().resource::<AtlasRes>().atlas;
        atlas
            .layers
            .iter()
            .enumerate()
            .flat_map(|(l, layer)| layer.features.iter().enumerate().map(move |(i, f)| (l, i, f)))
            .find(|(_, _, f)| matches!(&f.geometry, geo::Geometry::Polygon(p) if p.exterior().0.len() < 200))
            .map(|(l, i, _)| FeatureRef { layer: l as u32, feature: i as u32 })
            .expect("the atlas has a simple polygon")
    };
    let id = app.world().resource::<AtlasRes>().atlas.feature(r).unwrap().id.clone();
    let original = first_vertex(&app, r);
    app.world_mut().resource_mut::<Selection>().selected = Some(r);
    look_at(&mut app, original, 1.0);
    let from = screen_of(&app, original);
    let to = from + Vec2::new(6.0, -4.0);
    let dropped = lonlat_of(&app, to);
    drag(&mut app, from, to);
    assert!(app.world().resource::<Editor>().rejection.is_none(), "{:?}", app.world().resource::<Editor>().rejection);
    let moved = first_vertex(&app, r);
    assert!((moved[0] - dropped[0]).abs() < 1e-9 && (moved[1] - dropped[1]).abs() < 1e-9, "{moved:?} vs {dropped:?}");
    assert_eq!(
        app.world().resource::<Editor>().session.unsaved(&app.world().resource::<AtlasRes>().atlas.layers).len(),
        1
    );

    chord(&mut app, &[KeyCode::ControlLeft, KeyCode::KeyZ]);
    assert_eq!(first_vertex(&app, r), original, "undo puts it back");
    chord(&mut app, &[KeyCode::ControlLeft, KeyCode::KeyY]);
    assert_eq!(first_vertex(&app, r), moved, "redo moves it again");

    chord(&mut app, &[KeyCode::ControlLeft, KeyCode::KeyS]);
    let ed = app.world().resource::<Editor>();
    assert!(matches!(ed.saved, Some(Ok(_))), "{:?}", ed.saved);
    assert!(ed.session.unsaved(&app.world().resource::<AtlasRes>().atlas.layers).is_empty());

    // The next start: the correction overrides the built-in feature, with its provenance.
    let mut atlas = Atlas::builtin();
    assert_eq!(atlas.use_edits(&path), 1);
    let f = atlas.feature(atlas.feature_of(&id).unwrap()).unwrap();
    let s = Shape::from_geometry(&f.geometry).unwrap();
    let back = s.vertex(VertexPath::new(0, 0, 0)).unwrap();
    assert!((back[0] - moved[0]).abs() < 1e-12 && (back[1] - moved[1]).abs() < 1e-12, "{back:?} vs {moved:?}");
    assert_eq!(f.extra[keys::EDIT_OF], serde_json::Value::from(id.clone()));
    assert!(f.extra[keys::EDITED_BY].as_str().is_some_and(|s| !s.is_empty()));
    assert!(f.extra[keys::EDITED_AT].as_str().is_some_and(|s| s.ends_with('Z')));
    assert_eq!(f.extra[keys::BASEMAP], serde_json::Value::from("none: the atlas's own outlines"));
    // 1 m/px of Mercator at 31.5° N with no basemap: the atlas's outlines decide.
    assert_eq!(f.extra[keys::ACCURACY_M].as_f64(), Some(200.0));
    assert!(f.extra[keys::ZOOM].as_f64().is_some_and(|z| z > 17.0));
    assert!(atlas.diagnostics.is_empty(), "{:?}", atlas.diagnostics);
}

#[test]
fn draw_a_polygon_insert_a_vertex_and_refuse_a_crossing_at_its_vertex() {
    let mut app = app();
    let centre = [121.10, 31.45];
    look_at(&mut app, centre, 10.0);
    app.world_mut().resource_mut::<Editor>().tool = Tool::Polygon;
    let corners = [Vec2::new(400.0, 300.0), Vec2::new(600.0, 300.0), Vec2::new(600.0, 500.0), Vec2::new(400.0, 500.0)];
    for c in corners {
        click(&mut app, c);
    }
    chord(&mut app, &[KeyCode::Enter]);
    let (r, layer_id) = {
        let sel = app.world().resource::<Selection>().selected.expect("the new polygon is selected");
        (sel, app.world().resource::<AtlasRes>().atlas.layers[sel.layer as usize].id.clone())
    };
    assert_eq!(layer_id, crate::edit::store::USER_LAYER);
    let f = app.world().resource::<AtlasRes>().atlas.feature(r).unwrap().clone();
    assert!(crate::edit::provenance::is_edited(&f) && !f.extra.contains_key(keys::EDIT_OF));
    app.world_mut().resource_mut::<Editor>().tool = Tool::Select;

    // Dragging the top edge's midpoint inserts a vertex there.
    drag(&mut app, Vec2::new(500.0, 300.0), Vec2::new(500.0, 250.0));
    let count = |app: &App| {
        let f = app.world().resource::<AtlasRes>().atlas.feature(r).unwrap().clone();
        Shape::from_geometry(&f.geometry).unwrap().parts[0][0].len()
    };
    assert_eq!(count(&app), 5);

    // Dragging a corner across the opposite side makes a bow tie: refused, shown at the vertex.
    let before = app.world().resource::<AtlasRes>().atlas.feature(r).unwrap().clone();
    drag(&mut app, Vec2::new(400.0, 500.0), Vec2::new(700.0, 200.0));
    let ed = app.world().resource::<Editor>();
    let rejection = ed.rejection.clone().expect("refused");
    assert_eq!(rejection.reason, "the outline would cross itself");
    let dropped = lonlat_of(&app, Vec2::new(700.0, 200.0));
    assert!((rejection.at[0] - dropped[0]).abs() < 1e-9, "the reason is shown at the dragged vertex");
    assert_eq!(app.world().resource::<AtlasRes>().atlas.feature(r).unwrap(), &before, "nothing changed");

    // Deleting vertices stops at three.
    for _ in 0..3 {
        let at = screen_of(&app, first_vertex(&app, r));
        click(&mut app, at);
        chord(&mut app, &[KeyCode::Delete]);
    }
    assert_eq!(count(&app), 3);
    assert!(app.world().resource::<Editor>().rejection.as_ref().is_some_and(|r| r.reason.contains("at least 3")));
}

#[test]
fn a_save_to_a_folder_that_cannot_be_written_keeps_the_edits_unsaved_and_says_why() {
    let mut app = app();
    let dir = tempdir("readonly");
    // A file where the folder should be: no user, root included, can write under it.
    let blocker = dir.join("not-a-folder");
    std::fs::write(&blocker, "x").unwrap();
    app.world_mut().resource_mut::<AtlasRes>().atlas.use_edits(&blocker.join("edits.geojson"));
    look_at(&mut app, [121.10, 31.45], 10.0);
    app.world_mut().resource_mut::<Editor>().tool = Tool::Point;
    click(&mut app, Vec2::new(500.0, 400.0));
    chord(&mut app, &[KeyCode::ControlLeft, KeyCode::KeyS]);
    let ed = app.world().resource::<Editor>();
    let Some(Err(message)) = &ed.saved else { panic!("{:?}", ed.saved) };
    assert!(message.contains("not-a-folder") && message.contains("unsaved"), "{message}");
    assert_eq!(ed.session.unsaved(&app.world().resource::<AtlasRes>().atlas.layers).len(), 1);
    assert!(!app.world().resource::<Problems>().is_empty());
}

/// The whole path from Bevy's input: a window's cursor and the mouse button, through the camera
/// plugin's gestures, to the editor. The vertex lands under the cursor and the map stays put.
#[test]
fn a_drag_through_bevys_mouse_input_moves_the_vertex_and_not_the_map() {
    use bevy::input::gestures::PinchGesture;
    use bevy::input::mouse::MouseWheel;
    use bevy::window::PrimaryWindow;
    let mut app = crate::app::state::minimal_app();
    app.insert_resource(MapView { viewport: bevy::math::Rect::new(0.0, 0.0, 1000.0, 700.0), ..default() })
        .init_resource::<PointerGesture>()
        .init_resource::<UiCapture>()
        .init_resource::<ButtonInput<KeyCode>>()
        .init_resource::<ButtonInput<MouseButton>>()
        .add_message::<MouseWheel>()
        .add_message::<PinchGesture>()
        .add_plugins((crate::app::camera::CameraPlugin, EditPlugin));
    app.world_mut().spawn((Window::default(), PrimaryWindow));
    app.world_mut().resource_mut::<NextState<AppMode>>().set(AppMode::Edit);
    app.update();
    app.world_mut().resource_mut::<Editor>().snapping = false;
    let r = app.world().resource::<AtlasRes>().atlas.feature_of("jincang-lake-park").unwrap();
    app.world_mut().resource_mut::<Selection>().selected = Some(r);
    let vertex = first_vertex(&app, r);
    look_at(&mut app, vertex, 2.0);
    let centre = app.world().resource::<MapView>().center;
    let frame = |app: &mut App, cursor: Vec2, button: Option<bool>| {
        let mut q = app.world_mut().query_filtered::<&mut Window, With<PrimaryWindow>>();
        q.single_mut(app.world_mut()).unwrap().set_cursor_position(Some(cursor));
        {
            let mut b = app.world_mut().resource_mut::<ButtonInput<MouseButton>>();
            match button {
                Some(true) => b.press(MouseButton::Left),
                Some(false) => b.release(MouseButton::Left),
                None => {}
            }
        }
        app.update();
        // What the input plugin does between frames.
        app.world_mut().resource_mut::<ButtonInput<MouseButton>>().clear();
    };
    let from = screen_of(&app, vertex);
    let to = from + Vec2::new(40.0, 25.0);
    let dropped = lonlat_of(&app, to);
    frame(&mut app, from, None);
    frame(&mut app, from, Some(true));
    frame(&mut app, from + Vec2::new(20.0, 12.0), None);
    frame(&mut app, to, None);
    frame(&mut app, to, Some(false));
    let moved = first_vertex(&app, r);
    assert!((moved[0] - dropped[0]).abs() < 1e-9 && (moved[1] - dropped[1]).abs() < 1e-9, "{moved:?} vs {dropped:?}");
    assert_eq!(app.world().resource::<MapView>().center, centre, "the map did not pan under the drag");
    // Ctrl+Z through the keyboard resource.
    app.world_mut().resource_mut::<ButtonInput<KeyCode>>().press(KeyCode::ControlLeft);
    app.world_mut().resource_mut::<ButtonInput<KeyCode>>().press(KeyCode::KeyZ);
    app.update();
    assert_eq!(first_vertex(&app, r), vertex);
}

/// Closing the main window with unsaved edits asks first: *Cancel* keeps everything, *Save and
/// quit* saves, then closes; with nothing unsaved it closes at once.
#[test]
fn closing_with_unsaved_edits_asks_and_saves_before_closing() {
    use bevy::window::{PrimaryWindow, WindowCloseRequested};
    let mut app = app();
    let dir = tempdir("close");
    let path = dir.join("edits.geojson");
    app.world_mut().resource_mut::<AtlasRes>().atlas.use_edits(&path);
    let window = app.world_mut().spawn((Window::default(), PrimaryWindow)).id();
    look_at(&mut app, [121.10, 31.45], 10.0);
    app.world_mut().resource_mut::<Editor>().tool = Tool::Point;
    click(&mut app, Vec2::new(500.0, 400.0));
    app.world_mut().write_message(WindowCloseRequested { window });
    app.update();
    assert_eq!(app.world().resource::<Editor>().confirm_close, Some(window));
    assert!(app.world().get_entity(window).is_ok(), "still open while the question is asked");
    app.world_mut().resource_mut::<Editor>().close_choice = Some(CloseChoice::Cancel);
    app.update();
    assert!(app.world().get_entity(window).is_ok() && app.world().resource::<Editor>().confirm_close.is_none());
    app.world_mut().write_message(WindowCloseRequested { window });
    app.update();
    app.world_mut().resource_mut::<Editor>().close_choice = Some(CloseChoice::SaveAndClose);
    app.update();
    assert!(path.is_file(), "saved before closing");
    assert!(app.world().get_entity(window).is_err(), "closed once saved");
    // Nothing unsaved: a window closes at once.
    let other = app.world_mut().spawn((Window::default(), PrimaryWindow)).id();
    app.world_mut().write_message(WindowCloseRequested { window: other });
    app.update();
    assert!(app.world().get_entity(other).is_err());
}
