//! Reading a layer file or URL on its own thread, started before the window opens for files given
//! on the command line. A file that needs an answer (its coordinate system, which of its layers)
//! comes back as a question for the open dialog instead of an error.

use std::sync::Arc;

use bevy::prelude::*;

use crate::app::state::{Ask, OpenQuestion};
use crate::diagnostic::Diagnostic;
use crate::formats::{self, Format, FormatError, OpenOptions, Opened};

/// How a read ended.
pub enum ReadOutcome {
    /// The layers, and each one's overview mesh where it is large enough to have one.
    Layers(Opened, Vec<Option<super::build::Built>>),
    Ask(Box<OpenQuestion>),
    Failed(Diagnostic),
}

/// A file being read and parsed on its own thread.
pub type LoadTask = std::thread::JoinHandle<ReadOutcome>;

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
/// file in any format `formats` reads, or an http(s) URL fetched with a stall timeout and a size
/// limit.
pub fn start_read(path: std::path::PathBuf, options: OpenOptions) -> Reading {
    let name = path.to_string_lossy().to_string();
    let download = crate::remote::is_url(&name).then(|| Arc::new(crate::remote::Progress::default()));
    let (p, progress) = (path.clone(), download.clone());
    let task = std::thread::spawn(move || {
        let t = std::time::Instant::now();
        let r = match progress {
            Some(progress) => match crate::remote::fetch_layer_with(&name, crate::remote::Limits::default(), &progress)
            {
                Ok((layer, diagnostics)) => {
                    ReadOutcome::Layers(Opened { layers: vec![layer], diagnostics }, Vec::new())
                }
                Err(e) => ReadOutcome::Failed(Diagnostic::from_error(&name, &e)),
            },
            None => read_file(&p, options),
        };
        let mut r = r;
        if let ReadOutcome::Layers(opened, overviews) = &mut r {
            // Here rather than when the layer joins the atlas: the frame does not wait for these.
            opened.layers.iter_mut().for_each(crate::atlas::name_features);
            *overviews = opened.layers.iter().map(super::overview_off_frame).collect();
            info!("read {} in {:.2} s", p.display(), t.elapsed().as_secs_f64());
        }
        r
    });
    Reading { path, task, download }
}

/// Reads a file, turning what only the user can answer into a question. A table is always
/// asked about first (its columns and system are confirmed, never assumed), unless the answer
/// is already in `options`.
pub fn read_file(path: &std::path::Path, options: OpenOptions) -> ReadOutcome {
    let is_table = matches!(Format::of(path), Some(Format::Csv | Format::Spreadsheet));
    if is_table && (options.crs.is_none() || options.columns.is_none()) {
        return match formats::table::preview(path, &options) {
            Ok(preview) => ReadOutcome::Ask(Box::new(OpenQuestion {
                path: path.to_path_buf(),
                options,
                ask: Ask::Crs { guesses: preview.guesses(), table: Some(Box::new(preview)) },
            })),
            Err(e) => ReadOutcome::Failed(e.to_diagnostic()),
        };
    }
    match formats::open(path, &options) {
        Ok(opened) => ReadOutcome::Layers(opened, Vec::new()),
        Err(FormatError::NeedsCrs { guesses, .. }) => ReadOutcome::Ask(Box::new(OpenQuestion {
            path: path.to_path_buf(),
            options,
            ask: Ask::Crs { guesses, table: None },
        })),
        Err(FormatError::Layers { available, message, .. }) if options.layer.is_none() => {
            ReadOutcome::Ask(Box::new(OpenQuestion {
                path: path.to_path_buf(),
                options,
                ask: Ask::Layer { available, message },
            }))
        }
        Err(e) => ReadOutcome::Failed(e.to_diagnostic()),
    }
}
