//! Re-links on their own threads: a layer's names joining the gazetteer, a verdict or a renaming
//! edit costs the frame only the copy of what the job reads (see `atlas/relink.rs`).

use std::thread::JoinHandle;

use bevy::prelude::*;

use super::{Tessellation, sync_mentioned};
use crate::app::state::{AtlasRes, LayerView, Problems};
use crate::atlas::Linked;

/// The re-links running now. Older ones run to the end and are refused by the atlas when a newer
/// one was asked for meanwhile: a gazetteer build cannot be stopped halfway, and its result is
/// small.
#[derive(Resource, Default)]
pub struct Linking {
    running: Vec<JoinHandle<Linked>>,
}

/// From the first frame on, the atlas hands its re-links out rather than running them.
pub fn defer(mut res: ResMut<AtlasRes>) {
    res.atlas.defer_links();
}

/// Starts the re-link the atlas asks for, and applies finished ones.
pub fn run(
    mut linking: ResMut<Linking>,
    mut res: ResMut<AtlasRes>,
    mut view: ResMut<LayerView>,
    mut tess: ResMut<Tessellation>,
    mut problems: ResMut<Problems>,
) {
    // Taking a job changes nothing a panel shows: keep the atlas unchanged for change detection.
    if let Some(job) = res.bypass_change_detection().atlas.take_link_job() {
        linking.running.push(std::thread::spawn(move || job.run()));
    }
    while let Some(i) = linking.running.iter().position(JoinHandle::is_finished) {
        match linking.running.swap_remove(i).join() {
            Ok(linked) => {
                if res.atlas.apply_link(linked) {
                    sync_mentioned(&mut res, &mut view, &mut tess);
                }
            }
            Err(_) => problems.error("gazetteer", "linking the documents failed; they keep their earlier links"),
        }
    }
}
