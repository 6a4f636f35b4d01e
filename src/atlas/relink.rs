//! Re-linking as a job that can leave the thread the atlas lives on.
//!
//! A new layer's names, a verdict or a renaming edit rebuild the gazetteer and matcher and link
//! every document again: half a second for a layer of 100,000 named parcels, more for a large
//! corpus. The app must not stop drawing for that, so [`Atlas::relink`] can hand the work out as
//! a [`LinkJob`] (owned copies of what it reads) instead of doing it. Whoever runs the job gives
//! the [`Linked`] result back to [`Atlas::apply_link`], which takes it only if no newer re-link
//! was asked for meanwhile. Until then the atlas keeps linking with the gazetteer it has.

use std::path::PathBuf;
use std::sync::Arc;

use super::{Atlas, MENTIONED_LAYER};
use crate::diagnostic::{Diagnostic, Position};
use crate::document::{PassageLinks, link_texts};
use crate::gazetteer::{Gazetteer, GazetteerError, GazetteerFile, Matcher, Place};
use crate::geodata::Layer;

/// Everything a re-link reads, copied out of the atlas.
#[derive(Clone)]
pub struct LinkJob {
    generation: u64,
    places: Vec<Place>,
    file: GazetteerFile,
    file_path: PathBuf,
    /// Each document's path and passage texts, in the atlas's order when the job was made.
    documents: Vec<(PathBuf, Vec<String>)>,
}

/// A finished re-link: the new gazetteer and matcher, and each document's links.
pub struct Linked {
    generation: u64,
    gazetteer: Gazetteer,
    matcher: Matcher,
    errors: Vec<GazetteerError>,
    documents: Vec<(PathBuf, Vec<PassageLinks>)>,
}

impl LinkJob {
    /// Builds the gazetteer and matcher, then links the documents on every core.
    pub fn run(self) -> Linked {
        let (gazetteer, errors) = Gazetteer::build_from(self.places, &self.file, &self.file_path);
        let matcher = Matcher::new(&gazetteer);
        let (m, g) = (&matcher, &gazetteer);
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = self.documents.len().div_ceil(workers).max(1);
        let documents = std::thread::scope(|s| {
            let parts: Vec<_> = self
                .documents
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|(path, texts)| {
                                let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
                                (path.clone(), link_texts(&texts, m, g))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            parts.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
        });
        Linked { generation: self.generation, gazetteer, matcher, errors, documents }
    }
}

impl Atlas {
    /// Rebuilds the gazetteer and matcher from the current layers and re-links every document:
    /// at once, or, once [`Atlas::defer_links`] was called, as a job for
    /// [`Atlas::take_link_job`].
    pub(super) fn relink(&mut self) {
        let job = self.link_job();
        if self.deferred_links {
            self.pending_link = Some(job);
        } else {
            let linked = job.run();
            self.apply_link(linked);
        }
    }

    /// From now on re-links are handed out by [`Atlas::take_link_job`] rather than run where
    /// they are asked for (the app, whose frame must not wait).
    pub fn defer_links(&mut self) {
        self.deferred_links = true;
    }

    /// The re-link most recently asked for and not yet handed out. Any job handed out before it
    /// is stale: its result will be refused.
    pub fn take_link_job(&mut self) -> Option<LinkJob> {
        self.pending_link.take()
    }

    /// Whether a re-link was asked for whose result has not been applied yet.
    pub fn linking(&self) -> bool {
        self.applied_generation != self.link_generation
    }

    fn link_job(&mut self) -> LinkJob {
        self.link_generation += 1;
        // The mentioned-places layer is drawn from the gazetteer, never a source of it.
        let sources: Vec<&Layer> = self.layers.iter().filter(|l| l.id != MENTIONED_LAYER).collect();
        LinkJob {
            generation: self.link_generation,
            places: Gazetteer::layer_places(&sources),
            file: self.gazetteer_file.clone(),
            file_path: self.gazetteer_path.clone(),
            documents: self
                .documents
                .iter()
                .map(|d| (d.path.clone(), d.passages.iter().map(|p| p.text.clone()).collect()))
                .collect(),
        }
    }

    /// Takes a finished re-link unless a newer one was asked for since (then `false`, and nothing
    /// changes). A document opened while the job ran, which the job did not see, is linked here
    /// with the new gazetteer.
    pub fn apply_link(&mut self, linked: Linked) -> bool {
        if linked.generation != self.link_generation {
            return false;
        }
        self.applied_generation = linked.generation;
        let file = &self.gazetteer_path;
        self.diagnostics.extend(linked.errors.into_iter().map(|e| {
            // The diagnostic names the file itself; the error's own text starts with it too.
            let text = e.to_string();
            let message = text.strip_prefix(&format!("{}: ", file.display())).unwrap_or(&text).to_string();
            if e.is_warning() {
                Diagnostic::warning(file, Position::File, message)
            } else {
                Diagnostic::error(file, Position::File, message)
            }
        }));
        self.matcher = Arc::new(linked.matcher);
        self.gazetteer = Arc::new(linked.gazetteer);
        let mut results = linked.documents.into_iter();
        for d in &mut self.documents {
            match results.next() {
                Some((path, links)) if path == d.path && links.len() == d.passages.len() => d.set_links(links),
                _ => d.relink(&self.matcher, &self.gazetteer),
            }
        }
        self.refresh_mentioned();
        true
    }
}
