//! `--pan-benchmark SECONDS`: measures load-to-first-complete-frame and frame times while the
//! map pans continuously, prints one JSON line and exits. Used for the README's numbers.

use std::time::{Duration, Instant};

use bevy::prelude::*;

use super::camera::MapView;
use super::layers::Tessellation;

pub struct PanBenchmarkPlugin {
    pub seconds: f32,
    pub started: Instant,
}

#[derive(Resource)]
struct PanBench {
    seconds: f32,
    started: Instant,
    ready_at: Option<Duration>,
    pan_started: Option<Instant>,
    last: Option<Instant>,
    frames: Vec<f64>,
}

impl Plugin for PanBenchmarkPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(PanBench {
            seconds: self.seconds,
            started: self.started,
            ready_at: None,
            pan_started: None,
            last: None,
            frames: Vec::new(),
        })
        .add_systems(Update, pan.before(super::camera::CameraPluginSet));
    }
}

fn pan(mut b: ResMut<PanBench>, tess: Res<Tessellation>, mut map: ResMut<MapView>, mut exit: MessageWriter<AppExit>) {
    let now = Instant::now();
    if b.ready_at.is_none() {
        if tess.progress().is_none() && tess.ready.iter().all(|&r| r) && !tess.ready.is_empty() {
            b.ready_at = Some(b.started.elapsed());
            b.pan_started = Some(now);
        }
        return;
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
        let line = serde_json::json!({
            "load_to_ready_s": b.ready_at.map(|d| d.as_secs_f64()),
            "frames": f.len(),
            "frame_ms_median": pct(0.5),
            "frame_ms_p99": pct(0.99),
            "frame_ms_max": f.last().copied().unwrap_or(0.0),
            "stalls_over_100ms": f.iter().filter(|&&x| x > 100.0).count(),
        });
        println!("{line}");
        exit.write(AppExit::Success);
    }
}
