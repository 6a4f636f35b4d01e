//! Headless screenshots: render until the layers are tessellated and the UI has laid out, save
//! one frame of the window (panels included) as PNG, and exit.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy::render::render_resource::{PipelineCache, PollType, SpecializedRenderPipelines};
use bevy::render::renderer::RenderDevice;
use bevy::render::view::ExtractedWindows;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, ScreenshotToScreenPipeline};
use bevy::render::{Render, RenderApp, RenderSystems};

use super::png::save_png;
use super::render_ready::{FrameSeq, RenderedFrames};
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
    started: Instant,
    /// The map viewport of the previous frame.
    last_viewport: Option<Rect>,
    /// Frames in a row with the data settled, pipelines or not.
    settled: u32,
    /// Pictures asked for and not yet arrived.
    in_flight: usize,
    /// Pictures arrived before the renderer's word on their frame: judged in a later frame.
    captured: Vec<Capture>,
    phase: Phase,
    capturing: Capturing,
}

enum Phase {
    Shooting,
    /// The picture is written (or the wait given up): the exit is reported once the pictures
    /// still in flight have arrived, so Bevy is not left sending them to a closed app. Counts
    /// the frames waited.
    Leaving(AppExit, u32),
    Left,
}

/// Frames to wait at most after writing for pictures still in flight.
const EXIT_WAIT: u32 = 8;

struct Capture {
    seq: u32,
    image: Image,
    view: serde_json::Value,
}

/// Frames in a row the data must have been settled before a picture is asked for. Settled means
/// shown in that very frame (tiles count as loaded once their meshes are visible), and the
/// panels' sizes are checked apart (the viewport must be where it was the frame before), so one
/// is enough; whether the renderer drew the frame whole is judged when its picture arrives.
const SETTLED_FRAMES: u32 = 1;

/// Frames with the data settled after which a picture is kept even if the renderer still reports
/// a pipeline waiting (one whose shader never loads would otherwise hold it until the timeout).
const PIPELINE_PATIENCE: u32 = 60;

/// Pictures asked for at once. A picture is asked for as soon as the data has settled, before
/// the main world can know the renderer drew that frame whole (it hears a frame or two later);
/// each costs copies of the window (a texture, a readback buffer, the image): two at once added
/// 17 MiB to the peak and were no faster, so one.
const MAX_IN_FLIGHT: usize = 1;

/// Longest wait for tessellation before giving up with an error.
const TIMEOUT: Duration = Duration::from_secs(120);

impl Plugin for ScreenshotPlugin {
    fn build(&self, app: &mut App) {
        let capturing = Capturing::default();
        app.insert_resource(HoverEnabled(false));
        app.insert_resource(ShotState {
            path: self.path.clone(),
            started: self.started,
            last_viewport: None,
            settled: 0,
            in_flight: 0,
            captured: Vec::new(),
            phase: Phase::Shooting,
            capturing: capturing.clone(),
        })
        .add_systems(Update, shoot.after(MapSet::Content));
        if let Some(render) = app.get_sub_app_mut(RenderApp) {
            render
                .insert_resource(capturing)
                .add_systems(Render, (prewarm_blit, hurry_readback).in_set(RenderSystems::Cleanup));
        }
    }
}

/// Set while a picture is on its way, for the render world.
#[derive(Resource, Clone, Default)]
struct Capturing(Arc<AtomicBool>);

/// While a picture is on its way, waits for the GPU once the frame is drawn. Its readback then
/// completes in the frame that drew it, where it would otherwise wait for the next frame's
/// submission: a frame sooner on disk. Only screenshots (which exit once written) do this.
fn hurry_readback(capturing: Res<Capturing>, device: Res<RenderDevice>) {
    if capturing.0.load(Ordering::Relaxed)
        && let Err(e) = device.poll(PollType::wait_indefinitely())
    {
        debug!("screenshot: waiting for the GPU: {e}");
    }
}

/// Asks for Bevy's screenshot blit (which shows the captured frame in the window) as soon as the
/// window's format is known, so it compiles with the other pipelines: asked for only with the
/// first picture, it would make that picture's frame count as lacking a pipeline.
fn prewarm_blit(
    windows: Res<ExtractedWindows>,
    blit: Option<Res<ScreenshotToScreenPipeline>>,
    pipelines: Option<ResMut<SpecializedRenderPipelines<ScreenshotToScreenPipeline>>>,
    cache: Res<PipelineCache>,
    mut done: Local<bool>,
) {
    let (false, Some(blit), Some(mut pipelines)) = (*done, blit, pipelines) else {
        return;
    };
    let format = windows.primary.and_then(|w| windows.windows.get(&w)).and_then(|w| w.swap_chain_texture_format);
    if let Some(format) = format {
        // The view format Bevy's `prepare_screenshots` specializes for.
        pipelines.specialize(&cache, &blit, format.add_srgb_suffix());
        *done = true;
    }
}

/// What becomes of a picture of frame `seq`, given what the renderer said about that frame.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Complete (or the wait for a pipeline has lasted long enough): write it.
    Keep,
    /// Drawn while a pipeline was missing: ask again.
    Drop,
    /// The renderer's word on that frame has not arrived yet.
    Wait,
}

fn judge(complete: Option<bool>, forgotten: bool, patience_spent: bool) -> Verdict {
    match complete {
        Some(true) => Verdict::Keep,
        _ if patience_spent => Verdict::Keep,
        Some(false) => Verdict::Drop,
        None if forgotten => Verdict::Drop,
        None => Verdict::Wait,
    }
}

#[derive(SystemParam)]
struct Frames<'w> {
    seq: Option<Res<'w, FrameSeq>>,
    rendered: Option<Res<'w, RenderedFrames>>,
}

fn shoot(
    mut commands: Commands,
    mut st: ResMut<ShotState>,
    ready: Res<Readiness>,
    frames: Frames,
    mut map: ResMut<MapView>,
    mut exit: MessageWriter<AppExit>,
) {
    // No easing in a still image: show exactly the requested view.
    map.snap();
    let in_flight = st.in_flight;
    match &mut st.phase {
        Phase::Shooting => {}
        Phase::Leaving(status, waited) => {
            *waited += 1;
            if in_flight == 0 || *waited > EXIT_WAIT {
                exit.write(status.clone());
                st.phase = Phase::Left;
            }
            return;
        }
        Phase::Left => return,
    }
    if st.started.elapsed() > TIMEOUT {
        error!("screenshot: layers or basemap tiles still loading after {TIMEOUT:?}; giving up");
        st.phase = Phase::Leaving(AppExit::error(), 0);
        return;
    }
    // Tiles count as settled once each has arrived or failed (a dead server fails fast, a slow
    // one within the tile timeout), so a screenshot never waits on the network for long.
    let vp = map.viewport;
    let still = st.last_viewport == Some(vp) && map.viewport_known;
    st.last_viewport = Some(vp);
    st.settled = if ready.data_settled() { st.settled + 1 } else { 0 };
    let arrived = std::mem::take(&mut st.captured);
    let rendered = frames.rendered.as_deref();
    let waiting: Vec<Capture> =
        arrived.into_iter().filter(|c| st.consider(rendered, c.seq, &c.image, &c.view)).collect();
    st.captured = waiting;
    if !matches!(st.phase, Phase::Shooting) {
        return;
    }
    if st.settled < SETTLED_FRAMES || !still || st.in_flight >= MAX_IN_FLIGHT {
        return;
    }
    st.in_flight += 1;
    st.capturing.0.store(true, Ordering::Relaxed);
    let seq = frames.seq.map_or(0, |s| s.0);
    debug!("screenshot: asking for a picture of frame {seq}");
    // The view beside the image, so tests and scripts can find where a lon/lat was drawn.
    let view = serde_json::json!({
        "viewport": [vp.min.x, vp.min.y, vp.max.x, vp.max.y],
        "center_local_m": [map.center.x, map.center.y],
        "metres_per_px": map.scale,
        "origin_lon_lat": crate::proj::LocalFrame::TAICANG,
        "vector_tile_reads": ready.vector_reads,
    });
    commands.spawn(Screenshot::primary_window()).observe(
        move |shot: On<ScreenshotCaptured>, mut st: ResMut<ShotState>, rendered: Option<Res<RenderedFrames>>| {
            st.in_flight = st.in_flight.saturating_sub(1);
            st.capturing.0.store(st.in_flight > 0, Ordering::Relaxed);
            // Judged at once where the renderer's word is in (nearly always: the picture comes a
            // frame after its frame was drawn), so the window's pixels are not copied again.
            if st.consider(rendered.as_deref(), seq, &shot.image, &view) {
                st.captured.push(Capture { seq, image: shot.image.clone(), view: view.clone() });
            }
        },
    );
}

impl ShotState {
    /// Writes the picture of frame `seq` if that frame was drawn whole (or the wait for a
    /// pipeline has lasted long enough), drops it if it was not; true where the renderer's word
    /// on the frame has not come yet, so the caller keeps the picture for later.
    fn consider(
        &mut self,
        rendered: Option<&RenderedFrames>,
        seq: u32,
        image: &Image,
        view: &serde_json::Value,
    ) -> bool {
        if !matches!(self.phase, Phase::Shooting) {
            return false;
        }
        let (complete, forgotten) = rendered.map_or((None, true), |r| (r.complete(seq), r.forgotten(seq)));
        match judge(complete, forgotten, self.settled >= PIPELINE_PATIENCE) {
            Verdict::Keep => {
                if complete != Some(true) {
                    warn!("screenshot: the renderer still reports a pipeline being compiled; taking the shot anyway");
                }
                self.phase = Phase::Leaving(write_shot(&self.path, self.started, image, view), 0);
                false
            }
            Verdict::Drop => {
                debug!("screenshot: the picture of frame {seq} lacked a pipeline; asking again");
                false
            }
            Verdict::Wait => true,
        }
    }
}

/// Writes the picture and the view file beside it; the app's exit status says whether it could.
fn write_shot(path: &std::path::Path, started: Instant, image: &Image, view: &serde_json::Value) -> AppExit {
    if let Err(e) = save_png(image, path) {
        error!("{}: cannot write screenshot: {e}", path.display());
        return AppExit::error();
    }
    let after = started.elapsed().as_secs_f64();
    let mut view = view.clone();
    view["start_to_written_s"] = serde_json::json!((after * 1000.0).round() / 1000.0);
    let view_path = path.with_extension("view.json");
    if let Err(e) = std::fs::write(&view_path, view.to_string()) {
        warn!("{}: cannot write view description: {e}", view_path.display());
    }
    info!("screenshot written to {} {after:.2} s after start", path.display());
    AppExit::Success
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settled_app(name: &str) -> App {
        let mut app = crate::app::state::minimal_app();
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_file(&path);
        app.init_resource::<MapView>()
            .init_resource::<FrameSeq>()
            .insert_resource(RenderedFrames::default())
            .add_plugins(ScreenshotPlugin { path, started: Instant::now() });
        app.world_mut().resource_mut::<MapView>().viewport_known = true;
        let mut ready = app.world_mut().resource_mut::<Readiness>();
        (ready.layers_settled, ready.tiles_settled, ready.vector_settled) = (true, true, true);
        app
    }

    fn shots(app: &mut App) -> usize {
        app.world_mut().query::<&Screenshot>().iter(app.world()).count()
    }

    /// A picture of frame `seq` arriving, as the renderer's readback would deliver it.
    fn arrive(app: &mut App, seq: u32) {
        let image = Image::new_fill(
            bevy::render::render_resource::Extent3d { width: 4, height: 3, depth_or_array_layers: 1 },
            bevy::render::render_resource::TextureDimension::D2,
            &[10, 20, 30, 255],
            bevy::render::render_resource::TextureFormat::Rgba8UnormSrgb,
            default(),
        );
        let mut st = app.world_mut().resource_mut::<ShotState>();
        st.captured.push(Capture { seq, image, view: serde_json::json!({}) });
    }

    fn exited(app: &mut App) -> bool {
        !app.world_mut().resource_mut::<Messages<AppExit>>().drain().collect::<Vec<_>>().is_empty()
    }

    #[test]
    fn pictures_are_asked_for_once_the_data_and_the_panels_have_settled() {
        let mut app = settled_app("port-atlas-shot-test-1.png");
        assert!(!app.world().resource::<HoverEnabled>().0, "no hover in a still image");
        app.world_mut().resource_mut::<Readiness>().tiles_settled = false;
        for _ in 0..12 {
            app.update();
        }
        assert_eq!(shots(&mut app), 0, "tiles still on their way");
        app.world_mut().resource_mut::<Readiness>().tiles_settled = true;
        for i in 0..5 {
            app.world_mut().resource_mut::<MapView>().viewport = Rect::new(200.0 + i as f32, 0.0, 1000.0, 800.0);
            app.update();
        }
        assert_eq!(shots(&mut app), 0, "the panels are still taking their sizes");
        app.update();
        assert_eq!(shots(&mut app), 1, "asked for before the renderer is known to be ready");
        for _ in 0..10 {
            app.update();
        }
        assert_eq!(shots(&mut app), MAX_IN_FLIGHT, "a few at a time while none has arrived");
    }

    #[test]
    fn a_picture_drawn_while_a_pipeline_was_missing_is_dropped_and_a_complete_one_kept() {
        let name = "port-atlas-shot-test-2.png";
        let mut app = settled_app(name);
        let rendered = app.world().resource::<RenderedFrames>().clone();
        arrive(&mut app, 7);
        app.update();
        assert!(!exited(&mut app), "frame 7 not drawn yet as far as the main world knows");
        rendered.record(7, false);
        rendered.record(8, true);
        app.update();
        assert!(!exited(&mut app), "frame 7 lacked a pipeline");
        assert!(!std::env::temp_dir().join(name).exists());
        arrive(&mut app, 8);
        app.update();
        app.world_mut().resource_mut::<ShotState>().in_flight = 0;
        app.update();
        assert!(exited(&mut app));
        let written = std::env::temp_dir().join(name);
        assert!(written.exists(), "frame 8 was complete");
        let view: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(written.with_extension("view.json")).unwrap()).unwrap();
        assert!(view["start_to_written_s"].as_f64().is_some());
        arrive(&mut app, 8);
        app.update();
        assert!(!exited(&mut app), "one shot only");
    }

    #[test]
    fn the_verdict_on_a_picture() {
        assert_eq!(judge(Some(true), false, false), Verdict::Keep);
        assert_eq!(judge(Some(false), false, false), Verdict::Drop);
        assert_eq!(judge(None, false, false), Verdict::Wait);
        assert_eq!(judge(None, true, false), Verdict::Drop, "never to be known");
        // A pipeline that never compiles delays the shot but does not lose it.
        assert_eq!(judge(Some(false), false, true), Verdict::Keep);
        assert_eq!(judge(None, false, true), Verdict::Keep);
    }
}
