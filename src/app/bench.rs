//! `--pan-benchmark SECONDS`: measures the time until every layer is on screen and frame times
//! while the map pans continuously from the first complete frame, prints one JSON line and exits.
//! Used for the README's numbers.

use std::time::{Duration, Instant};

use bevy::prelude::*;

use super::state::Readiness;
use super::view::{MapSet, MapView};

pub struct PanBenchmarkPlugin {
    pub seconds: f32,
    pub started: Instant,
    /// Zoom to this many metres per pixel before panning (default: the initial view).
    pub scale: Option<f64>,
}

#[derive(Resource)]
struct PanBench {
    scale: Option<f64>,
    seconds: f32,
    started: Instant,
    ready_at: Option<Duration>,
    /// Everything on screen: layers, basemap tiles and vector tiles.
    complete_at: Option<Duration>,
    /// Frame intervals from the first complete frame until the view's vector tiles were baked.
    settling: Vec<f64>,
    detail_at: Option<Duration>,
    frames_before_detail: usize,
    pan_started: Option<Instant>,
    last: Option<Instant>,
    frames: Vec<f64>,
}

impl Plugin for PanBenchmarkPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(PanBench {
            scale: self.scale,
            seconds: self.seconds,
            started: self.started,
            ready_at: None,
            complete_at: None,
            settling: Vec::new(),
            detail_at: None,
            frames_before_detail: 0,
            pan_started: None,
            last: None,
            frames: Vec::new(),
        })
        .add_systems(Update, pan.after(MapSet::Content));
    }
}

fn pan(mut b: ResMut<PanBench>, ready: Res<Readiness>, mut map: ResMut<MapView>, mut exit: MessageWriter<AppExit>) {
    let now = Instant::now();
    if b.complete_at.is_none()
        && ready.layers_shown
        && ready.vector_settled
        && ready.tiles_settled
        && ready.pipelines_ready
    {
        b.complete_at = Some(b.started.elapsed());
    }
    if b.ready_at.is_none() {
        if ready.layers_shown {
            b.ready_at = Some(b.started.elapsed());
            if let Some(s) = b.scale {
                map.target_scale = s;
                map.snap();
            }
        }
        return;
    }
    // The pan starts once the view is complete and its vector tiles are baked. Before, the
    // renderer is still compiling its pipelines and the view's tiles are still arriving and
    // being baked, for the atlas alone as for a tile layer; from then on, the frames are those of
    // a planner panning a map that has loaded. The frames spent baking are reported apart.
    if b.pan_started.is_none() {
        if b.complete_at.is_none() {
            return;
        }
        if !ready.vector_baked {
            if let Some(last) = b.last {
                b.settling.push(now.duration_since(last).as_secs_f64() * 1e3);
            }
            b.last = Some(now);
            return;
        }
        b.pan_started = Some(now);
        b.last = None;
    }
    if b.detail_at.is_none() && ready.tessellation_idle {
        b.detail_at = Some(b.started.elapsed());
        b.frames_before_detail = b.frames.len();
    }
    // Wall-clock frame intervals: what a user sees, whatever Bevy's clock smoothing does.
    if let Some(last) = b.last {
        b.frames.push(now.duration_since(last).as_secs_f64() * 1e3);
    }
    b.last = Some(now);
    let t = b.pan_started.map_or(0.0, |s| now.duration_since(s).as_secs_f32());
    // A slow circle: every part of the layer passes under the viewport.
    let v = Vec2::new((t * 0.8).cos(), (t * 0.8).sin()) * 12.0;
    map.pan_pixels(v);
    if t >= b.seconds {
        let mut f = b.frames.clone();
        f.sort_by(f64::total_cmp);
        let pct = |p: f64| f.get(((f.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0.0);
        let second_p99 = {
            let mut s: Vec<f64> = b.frames[b.frames.len() / 2..].to_vec();
            s.sort_by(f64::total_cmp);
            s.get(((s.len() as f64 - 1.0) * 0.99) as usize).copied().unwrap_or(0.0)
        };
        let line = serde_json::json!({
            "load_to_ready_s": b.ready_at.map(|d| d.as_secs_f64()),
            "detail_ready_s": b.detail_at.map(|d| d.as_secs_f64()),
            "complete_first_frame_s": b.complete_at.map(|d| d.as_secs_f64()),
            "frames_baking_after_complete": b.settling.len(),
            "frame_ms_max_baking_after_complete": b.settling.iter().copied().fold(0.0, f64::max),
            "vector_tile_reads": ready.vector_reads,
            // The pan circles back on itself every 7.9 s: the second half of a 16 s run sees
            // only places (and tiles) it saw before.
            "frame_ms_max_second_half": b.frames[b.frames.len() / 2..].iter().copied().fold(0.0, f64::max),
            "frame_ms_p99_second_half": second_p99,
            "frames": f.len(),
            "frame_ms_median": pct(0.5),
            "frame_ms_p99": pct(0.99),
            "frame_ms_max": f.last().copied().unwrap_or(0.0),
            "stalls_over_100ms": f.iter().filter(|&&x| x > 100.0).count(),
            "stalls_over_100ms_while_detail_builds": b.frames[..b.frames_before_detail.min(b.frames.len())].iter().filter(|&&x| x > 100.0).count(),
        });
        println!("{line}");
        exit.write(AppExit::Success);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pans_once_the_view_is_complete_and_baked_then_exits() {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins);
        app.init_resource::<MapView>()
            .init_resource::<Readiness>()
            .add_message::<AppExit>()
            .add_plugins(PanBenchmarkPlugin { seconds: 0.05, started: Instant::now(), scale: Some(3.0) });
        app.update();
        assert_eq!(app.world().resource::<MapView>().center, bevy::math::DVec2::ZERO, "waits for the layers");
        app.world_mut().resource_mut::<Readiness>().layers_shown = true;
        for _ in 0..5 {
            app.update();
        }
        assert_eq!(app.world().resource::<MapView>().scale, 3.0, "at the requested scale once shown");
        assert_eq!(app.world().resource::<MapView>().center, bevy::math::DVec2::ZERO, "waits for a complete frame");
        let mut ready = app.world_mut().resource_mut::<Readiness>();
        (ready.vector_settled, ready.tiles_settled, ready.pipelines_ready) = (true, true, true);
        for _ in 0..3 {
            app.update();
        }
        assert_eq!(app.world().resource::<MapView>().center, bevy::math::DVec2::ZERO, "waits for the tiles' bakes");
        app.world_mut().resource_mut::<Readiness>().vector_baked = true;
        let mut exited = false;
        for _ in 0..200 {
            app.update();
            if app.world().resource::<Messages<AppExit>>().iter_current_update_messages().next().is_some() {
                exited = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let map = app.world().resource::<MapView>();
        assert!(exited, "exits after the set time");
        assert_eq!(map.scale, 3.0, "at the requested scale");
        assert!(map.center.length() > 0.0, "panned");
    }
}
