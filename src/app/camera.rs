//! The map view: an orthographic camera over local metres, with pan, zoom and eased flights.

use bevy::camera::Viewport;
use bevy::input::gestures::PinchGesture;
use bevy::input::mouse::{MouseScrollUnit, MouseWheel};
use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use geo::Rect;

use super::state::{AppMode, AtlasRes, LayerId, LayerView};
use super::view::{MapSet, MapView, PointerGesture, UiCapture, ZoomToAll};

#[derive(Component)]
pub struct MapCamera;

pub struct CameraPlugin;

impl Plugin for CameraPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<MapView>()
            .init_resource::<UiCapture>()
            .init_resource::<PointerGesture>()
            .add_message::<ZoomToAll>()
            .add_systems(Startup, spawn_camera)
            .add_systems(
                Update,
                (
                    pointer_input,
                    // In a presentation the arrows, Home and digits step through the story.
                    keyboard_input.run_if(in_state(AppMode::Browse).or_else(in_state(AppMode::Edit))),
                    zoom_to_all,
                    ease_camera,
                    apply_camera,
                )
                    .chain()
                    .in_set(MapSet::Input),
            );
    }
}

/// Two cameras: the map camera renders layers into the viewport left between the panels; the UI
/// camera draws egui over the whole window. Sharing one camera would feed the viewport back into
/// egui's own screen size. Both draw into the window's one intermediate texture (same target, same
/// format, no MSAA), so the map camera skips its copy to the window and the UI camera, clearing
/// nothing, draws over the map and copies the whole once: a clear and a full-window blend fewer
/// each frame, which a CPU rasteriser feels.
fn spawn_camera(mut commands: Commands, egui_settings: Option<ResMut<bevy_egui::EguiGlobalSettings>>) {
    // Absent only where egui is not set up (tests of this plugin alone).
    if let Some(mut s) = egui_settings {
        s.auto_create_primary_context = false;
    }
    commands.spawn((
        Camera2d,
        MapCamera,
        Msaa::Off,
        Camera { output_mode: bevy::camera::CameraOutputMode::Skip, ..default() },
        Projection::Orthographic(OrthographicProjection { scale: 100.0, ..OrthographicProjection::default_2d() }),
    ));
    commands.spawn((
        bevy_egui::PrimaryEguiContext,
        Camera2d,
        Msaa::Off,
        bevy::camera::visibility::RenderLayers::none(),
        Camera { order: 1, clear_color: ClearColorConfig::None, ..default() },
    ));
}

/// The "zoom to all" extent: the atlas's home view when it declares one (the built-in atlas
/// frames the report's geography rather than all of Jiangsu), else every visible layer.
pub fn atlas_focus_bounds(res: &AtlasRes, view: &LayerView) -> Option<Rect<f64>> {
    if let Some([w, s, e, n]) = res.atlas.home {
        return Some(Rect::new((w, s), (e, n)));
    }
    let visible = res.atlas.layers.iter().enumerate().filter(|(i, _)| view.is_visible(LayerId(*i)));
    crate::geodata::union_bounds(visible.filter_map(|(_, l)| l.bounds()))
}

pub fn zoom_to_all(
    mut msgs: MessageReader<ZoomToAll>,
    mut map: ResMut<MapView>,
    res: Res<AtlasRes>,
    view: Res<LayerView>,
) {
    if msgs.read().count() == 0 {
        return;
    }
    if let Some(r) = atlas_focus_bounds(&res, &view) {
        map.fit_lonlat(&res.frame, r, 30.0);
        if !map.viewport_known {
            // The opening fit: jump there (see `set_viewport`).
            map.snap();
        }
    }
}

fn pointer_input(
    window: Single<&Window, With<PrimaryWindow>>,
    buttons: Res<ButtonInput<MouseButton>>,
    mut wheel: MessageReader<MouseWheel>,
    mut pinch: MessageReader<PinchGesture>,
    capture: Res<UiCapture>,
    mut gesture: ResMut<PointerGesture>,
    mut map: ResMut<MapView>,
) {
    let cursor = window.cursor_position();
    gesture.clicked = None;
    let over_map = cursor.is_some_and(|c| map.viewport.contains(c)) && !capture.pointer;
    for ev in wheel.read() {
        let (Some(c), true) = (cursor, over_map) else { continue };
        let lines = match ev.unit {
            MouseScrollUnit::Line => ev.y as f64,
            MouseScrollUnit::Pixel => ev.y as f64 / 40.0,
        };
        map.zoom_about(c, 0.8f64.powf(lines));
    }
    for p in pinch.read() {
        if let (Some(c), true) = (cursor, over_map) {
            map.zoom_about(c, (1.0 - p.0 as f64).clamp(0.5, 2.0));
        }
    }
    if buttons.just_pressed(MouseButton::Left) || buttons.just_pressed(MouseButton::Middle) {
        gesture.press = if over_map { cursor } else { None };
        gesture.dragging = false;
    }
    if let (Some(press), Some(c), Some(prev)) = (gesture.press, cursor, gesture.cursor)
        && (buttons.pressed(MouseButton::Left) || buttons.pressed(MouseButton::Middle))
    {
        if !gesture.dragging && press.distance(c) > 4.0 {
            gesture.dragging = true;
        }
        if gesture.dragging && !gesture.held {
            map.pan_pixels(c - prev);
        }
    }
    if buttons.just_released(MouseButton::Left) {
        if let (Some(press), false) = (gesture.press, gesture.dragging) {
            gesture.clicked = Some(press);
        }
        gesture.press = None;
        gesture.dragging = false;
        gesture.held = false;
    }
    gesture.cursor = cursor;
}

fn keyboard_input(
    keys: Res<ButtonInput<KeyCode>>,
    capture: Res<UiCapture>,
    time: Res<Time>,
    mut map: ResMut<MapView>,
    mut zoom_all: MessageWriter<ZoomToAll>,
) {
    if capture.keyboard {
        return;
    }
    let speed = 600.0 * time.delta_secs();
    let mut d = Vec2::ZERO;
    if keys.pressed(KeyCode::ArrowLeft) {
        d.x += speed;
    }
    if keys.pressed(KeyCode::ArrowRight) {
        d.x -= speed;
    }
    if keys.pressed(KeyCode::ArrowUp) {
        d.y += speed;
    }
    if keys.pressed(KeyCode::ArrowDown) {
        d.y -= speed;
    }
    if d != Vec2::ZERO {
        map.pan_pixels(d);
    }
    let centre = map.viewport.center();
    if keys.just_pressed(KeyCode::Equal) || keys.just_pressed(KeyCode::NumpadAdd) {
        map.zoom_about(centre, 0.5);
    }
    if keys.just_pressed(KeyCode::Minus) || keys.just_pressed(KeyCode::NumpadSubtract) {
        map.zoom_about(centre, 2.0);
    }
    if keys.just_pressed(KeyCode::Home) || keys.just_pressed(KeyCode::Digit0) {
        zoom_all.write(ZoomToAll);
    }
}

fn ease_camera(time: Res<Time>, mut map: ResMut<MapView>) {
    let dt = time.delta_secs_f64().min(0.1);
    map.step(dt);
}

/// Puts the camera where the view says, rendering only into the map viewport.
fn apply_camera(
    map: Res<MapView>,
    window: Single<&Window, With<PrimaryWindow>>,
    camera: Single<(&mut Camera, &mut Transform, &mut Projection), With<MapCamera>>,
) {
    let (mut cam, mut tf, mut proj) = camera.into_inner();
    let sf = window.scale_factor();
    let vp = map.viewport;
    let pos = (vp.min * sf).max(Vec2::ZERO).as_uvec2();
    let size = (vp.size() * sf).max(Vec2::splat(1.0)).as_uvec2();
    let phys = UVec2::new(window.physical_width(), window.physical_height());
    if pos.x + size.x <= phys.x && pos.y + size.y <= phys.y {
        let viewport = Viewport { physical_position: pos, physical_size: size, ..default() };
        if cam.viewport.as_ref().map(|v| (v.physical_position, v.physical_size)) != Some((pos, size)) {
            cam.viewport = Some(viewport);
        }
    }
    tf.translation = Vec3::new(map.center.x as f32, map.center.y as f32, 0.0);
    if let Projection::Orthographic(o) = &mut *proj {
        // Bevy sizes the projection from the *logical* viewport, so its scale is world units per
        // logical pixel, like `MapView::scale`.
        o.scale = map.scale as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The camera plugin alone, with a window entity (no winit) and the input resources winit
    /// and the input plugin would provide.
    fn app() -> App {
        let mut app = crate::app::state::minimal_app();
        app.init_resource::<ButtonInput<KeyCode>>()
            .init_resource::<ButtonInput<MouseButton>>()
            .add_message::<MouseWheel>()
            .add_message::<PinchGesture>()
            .add_plugins(CameraPlugin);
        app.world_mut().spawn((Window::default(), PrimaryWindow));
        app.update();
        app
    }

    #[test]
    fn keys_zoom_the_map_while_browsing_but_not_while_presenting() {
        let mut app = app();
        app.world_mut().resource_mut::<MapView>().snap();
        let before = app.world().resource::<MapView>().target_scale;
        app.world_mut().resource_mut::<ButtonInput<KeyCode>>().press(KeyCode::Equal);
        app.update();
        let after = app.world().resource::<MapView>().target_scale;
        assert!((after / before - 0.5).abs() < 1e-9, "{before} -> {after}");
        app.world_mut().resource_mut::<ButtonInput<KeyCode>>().clear();
        app.world_mut().resource_mut::<NextState<AppMode>>().set(AppMode::Present);
        app.update();
        app.world_mut().resource_mut::<ButtonInput<KeyCode>>().release(KeyCode::Equal);
        app.world_mut().resource_mut::<ButtonInput<KeyCode>>().clear();
        app.world_mut().resource_mut::<ButtonInput<KeyCode>>().press(KeyCode::Equal);
        app.update();
        assert_eq!(app.world().resource::<MapView>().target_scale, after, "keys belong to the presenter");
    }

    #[test]
    fn zoom_to_all_frames_the_home_view() {
        let mut app = app();
        app.world_mut().write_message(ZoomToAll);
        app.update();
        let map = app.world().resource::<MapView>();
        let res = app.world().resource::<AtlasRes>();
        let (lon, lat) = res.frame.unproject(map.target_center.x, map.target_center.y);
        // Centre of the home box [120.35, 30.95, 121.6, 32.05].
        assert!((lon - 120.975).abs() < 0.01 && (lat - 31.5).abs() < 0.05, "{lon},{lat}");
    }
}
