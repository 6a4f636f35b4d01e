//! Whether the renderer has compiled every pipeline it was asked for. Bevy compiles pipelines on
//! worker threads and skips whatever has none yet, so a frame drawn before then shows a black map
//! or missing layers however settled the data is: screenshots and the pan benchmark's "complete
//! first frame" wait for this rather than for a guessed number of frames.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bevy::prelude::*;
use bevy::render::render_resource::PipelineCache;
use bevy::render::{Render, RenderApp, RenderSystems};

use super::state::Readiness;

/// Written by the render world after each frame is drawn, read by the main world.
#[derive(Resource, Clone, Default)]
struct PipelinesCompiled(Arc<AtomicBool>);

pub struct RenderReadyPlugin;

impl Plugin for RenderReadyPlugin {
    fn build(&self, app: &mut App) {
        let flag = PipelinesCompiled::default();
        app.insert_resource(flag.clone()).add_systems(First, report);
        if let Some(render) = app.get_sub_app_mut(RenderApp) {
            render.insert_resource(flag).add_systems(Render, check.in_set(RenderSystems::Cleanup));
        }
    }
}

/// After the frame is drawn: nothing still waiting means everything queued so far was drawn.
fn check(cache: Res<PipelineCache>, flag: Res<PipelinesCompiled>) {
    flag.0.store(cache.waiting_pipelines().next().is_none(), Ordering::Relaxed);
}

fn report(flag: Res<PipelinesCompiled>, mut ready: ResMut<Readiness>) {
    let now = flag.0.load(Ordering::Relaxed);
    if ready.pipelines_ready != now {
        ready.pipelines_ready = now;
    }
}
