//! Headless screenshots: render until the layers are tessellated and the UI has laid out, save
//! one frame of the window (panels included) as PNG, and exit.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};

use super::png::save_png;
use super::state::{HoverEnabled, Readiness};
use super::view::{MapSet, MapView};

pub struct ScreenshotPlugin {
    pub path: PathBuf,
}

#[derive(Resource)]
struct ShotState {
    path: PathBuf,
    frames: u32,
    requested: bool,
    started: Instant,
}

/// Longest wait for tessellation before giving up with an error.
const TIMEOUT: Duration = Duration::from_secs(120);

impl Plugin for ScreenshotPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(HoverEnabled(false));
        app.insert_resource(ShotState {
            path: self.path.clone(),
            frames: 0,
            requested: false,
            started: Instant::now(),
        })
        .add_systems(Update, shoot.after(MapSet::Content));
    }
}

fn shoot(
    mut commands: Commands,
    mut st: ResMut<ShotState>,
    ready: Res<Readiness>,
    mut map: ResMut<MapView>,
    mut exit: MessageWriter<AppExit>,
) {
    st.frames += 1;
    // No easing in a still image: show exactly the requested view.
    map.snap();
    if st.requested {
        return;
    }
    if st.started.elapsed() > TIMEOUT {
        error!("screenshot: layers or basemap tiles still loading after {TIMEOUT:?}; giving up");
        exit.write(AppExit::error());
        return;
    }
    // A few frames let egui load fonts and settle its layout (panel sizes feed the viewport).
    // Tiles count as settled once each has arrived or failed (a dead server fails fast, a slow
    // one within the tile timeout), so a screenshot never waits on the network for long.
    if !ready.layers_settled || !ready.tiles_settled || !ready.vector_settled || st.frames < 8 {
        return;
    }
    st.requested = true;
    let path = st.path.clone();
    // The view beside the image, so tests and scripts can find where a lon/lat was drawn.
    let vp = map.viewport;
    let view_json = serde_json::json!({
        "viewport": [vp.min.x, vp.min.y, vp.max.x, vp.max.y],
        "center_local_m": [map.center.x, map.center.y],
        "metres_per_px": map.scale,
        "origin_lon_lat": crate::proj::LocalFrame::TAICANG,
        "vector_tile_reads": ready.vector_reads,
    });
    let view_path = path.with_extension("view.json");
    commands.spawn(Screenshot::primary_window()).observe(
        move |captured: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>| match save_png(&captured.image, &path)
        {
            Ok(()) => {
                if let Err(e) = std::fs::write(&view_path, view_json.to_string()) {
                    warn!("{}: cannot write view description: {e}", view_path.display());
                }
                info!("screenshot written to {}", path.display());
                exit.write(AppExit::Success);
            }
            Err(e) => {
                error!("{}: cannot write screenshot: {e}", path.display());
                exit.write(AppExit::error());
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shot_waits_for_layers_and_tiles_then_is_taken_once() {
        let mut app = crate::app::state::minimal_app();
        let path = std::env::temp_dir().join("port-atlas-shot-test.png");
        app.init_resource::<MapView>().add_plugins(ScreenshotPlugin { path });
        assert!(!app.world().resource::<HoverEnabled>().0, "no hover in a still image");
        let shots = |app: &mut App| app.world_mut().query::<&Screenshot>().iter(app.world()).count();
        app.world_mut().resource_mut::<Readiness>().tiles_settled = false;
        app.world_mut().resource_mut::<Readiness>().layers_settled = true;
        for _ in 0..12 {
            app.update();
        }
        assert_eq!(shots(&mut app), 0, "tiles still on their way");
        app.world_mut().resource_mut::<Readiness>().tiles_settled = true;
        app.update();
        app.update();
        assert_eq!(shots(&mut app), 1);
        for _ in 0..5 {
            app.update();
        }
        assert_eq!(shots(&mut app), 1, "one shot only");
    }
}
