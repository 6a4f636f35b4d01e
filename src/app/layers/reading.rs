//! Reading a layer file or URL on its own thread, started before the window opens for files given
//! on the command line.

use std::sync::Arc;

use bevy::prelude::*;

use crate::diagnostic::Diagnostic;
use crate::geodata::Layer;

/// A file being read and parsed on its own thread.
pub type LoadTask = std::thread::JoinHandle<Result<(Layer, Vec<Diagnostic>), Diagnostic>>;

/// A layer being read: a file, or a URL whose download shows its progress and can be cancelled.
pub struct Reading {
    pub path: std::path::PathBuf,
    pub(super) task: LoadTask,
    /// For URLs only.
    pub download: Option<Arc<crate::remote::Progress>>,
}

impl Reading {
    /// Whether the user cancelled it (then its error is no problem to report).
    pub fn cancelled(&self) -> bool {
        self.download.as_ref().is_some_and(|d| d.is_cancelled())
    }
}

/// Starts reading a layer on a new thread (the app starts these before its window opens): a
/// file, or an http(s) URL fetched with a stall timeout and a size limit.
pub fn start_read(path: std::path::PathBuf) -> Reading {
    let name = path.to_string_lossy().to_string();
    let download = crate::remote::is_url(&name).then(|| Arc::new(crate::remote::Progress::default()));
    let (p, progress) = (path.clone(), download.clone());
    let task = std::thread::spawn(move || {
        let t = std::time::Instant::now();
        let r = match progress {
            Some(progress) => crate::remote::fetch_layer_with(&name, crate::remote::Limits::default(), &progress)
                .map_err(|e| Diagnostic::from_error(&name, &e)),
            None => crate::atlas::read_user_layer(&p).map_err(|e| e.to_diagnostic()),
        };
        if r.is_ok() {
            info!("read {} in {:.2} s", p.display(), t.elapsed().as_secs_f64());
        }
        r
    });
    Reading { path, task, download }
}
