//! Whether the renderer has compiled every pipeline it was asked for. Bevy compiles pipelines on
//! worker threads and skips whatever has none yet, so a frame drawn before then shows a black map
//! or missing layers however settled the data is: screenshots and the pan benchmark's "complete
//! first frame" wait for this rather than for a guessed number of frames.
//!
//! Each main-world frame gets a number ([`FrameSeq`]) that the render world sees with that frame's
//! data, and the render world records, per number, whether drawing it lacked a pipeline
//! ([`RenderedFrames`]). A screenshot tagged with its frame's number can then be judged exactly:
//! the main world otherwise hears about the renderer a frame or two late.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use bevy::prelude::*;
use bevy::render::extract_resource::{ExtractResource, ExtractResourcePlugin};
use bevy::render::render_resource::PipelineCache;
use bevy::render::{Render, RenderApp, RenderSystems};

use super::state::Readiness;

/// The main world's frame number, counted from 1 in `First` and extracted with the frame.
#[derive(Resource, Clone, Copy, Default, Debug, PartialEq, Eq, ExtractResource)]
pub struct FrameSeq(pub u32);

/// Frames remembered: a screenshot's picture arrives two or three frames after its frame.
const REMEMBERED: usize = 64;

/// For the last frames drawn: their [`FrameSeq`] and whether every pipeline they needed was
/// compiled when they were drawn. Written by the render world, read by the main world.
#[derive(Resource, Clone, Default)]
pub struct RenderedFrames(Arc<Mutex<VecDeque<(u32, bool)>>>);

impl RenderedFrames {
    pub fn record(&self, seq: u32, complete: bool) {
        let mut frames = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if frames.len() == REMEMBERED {
            frames.pop_front();
        }
        frames.push_back((seq, complete));
    }

    /// Whether frame `seq` was drawn with every pipeline: `None` while it has not been drawn
    /// (or was drawn too long ago to be remembered).
    pub fn complete(&self, seq: u32) -> Option<bool> {
        let frames = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        frames.iter().rev().find(|(s, _)| *s == seq).map(|(_, c)| *c)
    }

    /// Whether `seq` is older than every frame remembered, so it will never be known.
    pub fn forgotten(&self, seq: u32) -> bool {
        let frames = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        frames.len() == REMEMBERED && frames.front().is_some_and(|(s, _)| *s > seq)
    }

    fn latest(&self) -> Option<bool> {
        let frames = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        frames.back().map(|(_, c)| *c)
    }
}

pub struct RenderReadyPlugin;

impl Plugin for RenderReadyPlugin {
    fn build(&self, app: &mut App) {
        let frames = RenderedFrames::default();
        app.init_resource::<FrameSeq>()
            .insert_resource(frames.clone())
            .add_plugins(ExtractResourcePlugin::<FrameSeq>::default())
            .add_systems(First, (count, report));
        if let Some(render) = app.get_sub_app_mut(RenderApp) {
            render.insert_resource(frames).add_systems(Render, check.in_set(RenderSystems::Cleanup));
        }
    }
}

fn count(mut seq: ResMut<FrameSeq>) {
    seq.0 = seq.0.wrapping_add(1);
}

/// After the frame is drawn. The cache starts every pipeline queued so far just before drawing,
/// so nothing still waiting means nothing this frame asked for was missing when it was drawn.
fn check(cache: Res<PipelineCache>, seq: Option<Res<FrameSeq>>, frames: Res<RenderedFrames>) {
    frames.record(seq.as_ref().map_or(0, |s| s.0), cache.waiting_pipelines().next().is_none());
}

fn report(frames: Res<RenderedFrames>, mut ready: ResMut<Readiness>) {
    let now = frames.latest().unwrap_or(false);
    if ready.pipelines_ready != now {
        ready.pipelines_ready = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_judged_by_their_own_number_and_old_ones_are_forgotten() {
        let frames = RenderedFrames::default();
        assert_eq!(frames.complete(1), None, "not drawn yet");
        frames.record(1, false);
        frames.record(2, true);
        assert_eq!((frames.complete(1), frames.complete(2), frames.complete(3)), (Some(false), Some(true), None));
        assert!(!frames.forgotten(1));
        for s in 3..3 + REMEMBERED as u32 {
            frames.record(s, true);
        }
        assert_eq!(frames.complete(2), None);
        assert!(frames.forgotten(2), "frame 2 will never be known now");
        assert!(!frames.forgotten(3 + REMEMBERED as u32), "a frame still to be drawn is not forgotten");
    }
}
