//! Reports read and linked on a worker thread, a file or a whole folder at a time, so a folder
//! of a thousand reports never holds up a frame; what they mention joins the map when they
//! arrive.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bevy::prelude::*;

use super::{LayerView, Tessellation, sync_mentioned};
use crate::app::state::{AtlasRes, DocumentJob, DocumentReading, Problems, Selection};
use crate::text::corpus::Progress;

/// Starts reading `path` (a document or a folder of them) with the atlas's current linker.
pub fn start(reading: &mut DocumentReading, res: &AtlasRes, path: PathBuf) {
    let (matcher, gazetteer) = res.atlas.linker();
    let progress = Arc::new(Progress::default());
    let result = Arc::new(Mutex::new(None));
    let job = DocumentJob {
        path: path.clone(),
        progress: Arc::clone(&progress),
        linked_with: Arc::clone(&gazetteer),
        result: Arc::clone(&result),
    };
    std::thread::spawn(move || {
        let read = crate::atlas::read_paths(std::slice::from_ref(&path), &matcher, &gazetteer, &progress);
        if let Ok(mut slot) = result.lock() {
            *slot = Some(read);
        }
    });
    reading.jobs.push(job);
}

/// Adds what finished readings read; problems go to the problems window. A cancelled reading
/// keeps the documents read before the cancel.
pub fn finish(
    mut reading: ResMut<DocumentReading>,
    mut res: ResMut<AtlasRes>,
    mut problems: ResMut<Problems>,
    mut selection: ResMut<Selection>,
    mut view: ResMut<LayerView>,
    mut tess: ResMut<Tessellation>,
) {
    let mut i = 0;
    while i < reading.jobs.len() {
        let taken = reading.jobs[i].result.lock().ok().and_then(|mut slot| slot.take());
        let Some(read) = taken else {
            i += 1;
            continue;
        };
        let job = reading.jobs.remove(i);
        match read {
            Ok(loaded) => {
                let n = loaded.documents.len();
                problems.extend(loaded.diagnostics);
                if job.progress.cancelled() {
                    let (done, total) = job.progress.get();
                    problems.warning(&job.path, format!("reading cancelled: {done} of {total} files read and kept"));
                }
                if n > 0 {
                    let first = res.atlas.add_documents(loaded.documents, &job.linked_with);
                    info!("linked {n} document(s) from {}", job.path.display());
                    selection.scroll_to = Some((first, 0));
                    sync_mentioned(&mut res, &mut view, &mut tess);
                } else if !job.progress.cancelled() {
                    problems.warning(&job.path, "no document read");
                }
            }
            Err(e) => problems.push(crate::diagnostic::Diagnostic::from_error(&job.path, &e)),
        }
    }
}
