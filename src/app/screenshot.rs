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
    /// When the process started: the timeout counts from it, and the time to the written image
    /// is reported against it (the start-up benchmark's figure).
    pub started: Instant,
}

#[derive(Resource)]
struct ShotState {
    path: PathBuf,
    requested: bool,
    started: Instant,
    /// The map viewport of the previous frame.
    last_viewport: Option<Rect>,
    /// Frames in a row with everything settled and the viewport where it was.
    steady: u32,
    /// Frames in a row with the data settled, pipelines or not.
    settled: u32,
}

/// Frames in a row the picture must have been complete before it is taken: the main world hears
/// about the renderer's pipelines a frame late, and egui settles its panels' sizes over the first
/// frames.
const STEADY_FRAMES: u32 = 2;

/// Frames with the data settled after which the shot is taken even if the renderer still reports
/// a pipeline waiting (one whose shader never loads would otherwise hold it until the timeout).
const PIPELINE_PATIENCE: u32 = 60;

/// Longest wait for tessellation before giving up with an error.
const TIMEOUT: Duration = Duration::from_secs(120);

impl Plugin for ScreenshotPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(HoverEnabled(false));
        app.insert_resource(ShotState {
            path: self.path.clone(),
            requested: false,
            started: self.started,
            last_viewport: None,
            steady: 0,
            settled: 0,
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
    // Tiles count as settled once each has arrived or failed (a dead server fails fast, a slow
    // one within the tile timeout), so a screenshot never waits on the network for long.
    let vp = map.viewport;
    let still = st.last_viewport == Some(vp) && map.viewport_known;
    st.last_viewport = Some(vp);
    st.settled = if ready.data_settled() { st.settled + 1 } else { 0 };
    st.steady = if still && ready.data_settled() && ready.pipelines_ready { st.steady + 1 } else { 0 };
    if st.steady < STEADY_FRAMES && st.settled < PIPELINE_PATIENCE {
        return;
    }
    if st.steady < STEADY_FRAMES {
        warn!("screenshot: the renderer still reports a pipeline being compiled; taking the shot anyway");
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
    let started = st.started;
    commands.spawn(Screenshot::primary_window()).observe(
        move |captured: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>| match save_png(&captured.image, &path)
        {
            Ok(()) => {
                let after = started.elapsed().as_secs_f64();
                let mut view = view_json.clone();
                view["start_to_written_s"] = serde_json::json!((after * 1000.0).round() / 1000.0);
                if let Err(e) = std::fs::write(&view_path, view.to_string()) {
                    warn!("{}: cannot write view description: {e}", view_path.display());
                }
                info!("screenshot written to {} {after:.2} s after start", path.display());
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
        app.init_resource::<MapView>().add_plugins(ScreenshotPlugin { path, started: Instant::now() });
        assert!(!app.world().resource::<HoverEnabled>().0, "no hover in a still image");
        app.world_mut().resource_mut::<MapView>().viewport_known = true;
        app.world_mut().resource_mut::<Readiness>().tiles_settled = false;
        app.world_mut().resource_mut::<Readiness>().layers_settled = true;
        app.world_mut().resource_mut::<Readiness>().vector_settled = true;
        app.world_mut().resource_mut::<Readiness>().pipelines_ready = true;
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

    fn settled_app() -> App {
        let mut app = crate::app::state::minimal_app();
        let path = std::env::temp_dir().join("port-atlas-shot-test-2.png");
        app.init_resource::<MapView>().add_plugins(ScreenshotPlugin { path, started: Instant::now() });
        app.world_mut().resource_mut::<MapView>().viewport_known = true;
        let mut ready = app.world_mut().resource_mut::<Readiness>();
        (ready.layers_settled, ready.tiles_settled, ready.vector_settled) = (true, true, true);
        app
    }

    fn shots(app: &mut App) -> usize {
        app.world_mut().query::<&Screenshot>().iter(app.world()).count()
    }

    #[test]
    fn the_shot_waits_for_the_renderer_and_for_the_panels_to_stop_moving() {
        let mut app = settled_app();
        for _ in 0..5 {
            app.update();
        }
        assert_eq!(shots(&mut app), 0, "pipelines still compiling: the map would be black");
        app.world_mut().resource_mut::<Readiness>().pipelines_ready = true;
        for i in 0..5 {
            app.world_mut().resource_mut::<MapView>().viewport = Rect::new(200.0 + i as f32, 0.0, 1000.0, 800.0);
            app.update();
        }
        assert_eq!(shots(&mut app), 0, "the panels are still taking their sizes");
        for _ in 0..=STEADY_FRAMES {
            app.update();
        }
        assert_eq!(shots(&mut app), 1);
    }

    #[test]
    fn a_pipeline_that_never_compiles_delays_the_shot_but_does_not_lose_it() {
        let mut app = settled_app();
        for _ in 0..PIPELINE_PATIENCE - 1 {
            app.update();
        }
        assert_eq!(shots(&mut app), 0);
        app.update();
        app.update();
        assert_eq!(shots(&mut app), 1);
    }
}
