//! Stories: a document turned into presentation steps, each framing the places it mentions.
//!
//! A passage is one step; a long passage is split into groups of sentences so a step never asks
//! an audience to read a wall of text. A step with no places keeps the previous view, so the map
//! never jumps to nowhere. A presenter's edits (order, skips, captions, custom views) are saved
//! beside the document as `NAME.story.json` and loaded next time.

use std::ops::Range;
use std::path::{Path, PathBuf};

use geo::Rect;
use serde::{Deserialize, Serialize};

use crate::atlas::Atlas;
use crate::document::Document;
use crate::geodata::union_bounds;

/// Longest group of sentences (in chars) before a passage is split into several steps.
pub const MAX_STEP_CHARS: usize = 160;
/// The smallest view a step frames, in degrees of latitude (~3 km), so a single site is shown
/// with its surroundings rather than filling the screen.
pub const MIN_VIEW_DEG: f64 = 0.03;
/// Padding around the framed places, as a fraction of their extent.
pub const PADDING: f64 = 0.15;

/// One step of a story.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// 1-based line of the passage in the document.
    pub line: usize,
    /// Sentence indices of the passage this step shows (all of them for a short passage).
    pub sentences: Range<usize>,
    /// Place ids mentioned in those sentences, in order of first mention.
    pub places: Vec<String>,
    /// The view, [west, south, east, north]; for a step with no places, the previous step's.
    pub view: Option<[f64; 4]>,
    /// A presenter's caption replacing the passage text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// A presenter's own view; wins over `view`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_view: Option<[f64; 4]>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip: bool,
}

impl Step {
    /// The view to fly to: the presenter's, else the generated one.
    pub fn effective_view(&self) -> Option<[f64; 4]> {
        self.custom_view.or(self.view)
    }
}

/// The steps of one document, as generated or as a presenter saved them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Story {
    /// The document's file name, so a story file is not applied to another document.
    pub document: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoryError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    Parse { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}: this story belongs to {found:?}, not {expected:?}")]
    OtherDocument { path: PathBuf, found: String, expected: String },
}

/// Bounds that frame a place: its own, plus those of the places it names in a `frames`
/// property (the Kun-Tai zone frames Kunshan and Taicang; the Port of Suzhou its port areas).
pub fn place_frame(atlas: &Atlas, id: &str) -> Option<Rect<f64>> {
    let own = atlas.gazetteer.get(id).and_then(|p| p.bounds);
    let related: Vec<Rect<f64>> = atlas
        .feature_of(id)
        .and_then(|r| atlas.feature(r))
        .and_then(|f| f.extra.get("frames").or_else(|| f.extra.get("members")))
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).filter_map(|m| atlas.gazetteer.get(m)?.bounds).collect())
        .unwrap_or_default();
    union_bounds(own.into_iter().chain(related))
}

/// Pads bounds and enforces the minimum view size.
pub fn padded(r: Rect<f64>) -> [f64; 4] {
    let (w, h) = (r.width(), r.height());
    let (cx, cy) = ((r.min().x + r.max().x) / 2.0, (r.min().y + r.max().y) / 2.0);
    let half_h = (h * (1.0 + 2.0 * PADDING)).max(MIN_VIEW_DEG) / 2.0;
    // Longitude degrees are shorter; keep the minimum square on the ground.
    let half_w = (w * (1.0 + 2.0 * PADDING)).max(MIN_VIEW_DEG / cy.to_radians().cos().max(0.1)) / 2.0;
    // Micro-degrees (~0.1 m): stable, readable numbers in `story --json` and saved stories.
    [cx - half_w, cy - half_h, cx + half_w, cy + half_h].map(|v| (v * 1e6).round() / 1e6)
}

/// Splits a passage's sentences into groups of at most [`MAX_STEP_CHARS`] chars (a single longer
/// sentence is its own group).
fn sentence_groups(doc: &Document, pi: usize) -> Vec<Range<usize>> {
    let p = &doc.passages[pi];
    let mut groups = Vec::new();
    let mut start = 0;
    let mut chars = 0;
    for (i, s) in p.sentences.iter().enumerate() {
        let len = s.end - s.start;
        if i > start && chars + len > MAX_STEP_CHARS {
            groups.push(start..i);
            start = i;
            chars = 0;
        }
        chars += len;
    }
    if start < p.sentences.len() || groups.is_empty() {
        groups.push(start..p.sentences.len().max(start));
    }
    groups
}

/// A place farther than this from the atlas's own area is left out of a step's frame when the
/// step also names places within it: a Suzhou report that compares itself with 北京 and 广州
/// stays on Suzhou instead of flying out to all of China. A step naming only far places frames
/// them.
pub const FAR_FROM_HOME_M: f64 = 600_000.0;

/// Where the atlas is about: its home view's centre, or its layers'.
fn home_centre(atlas: &Atlas) -> Option<(f64, f64)> {
    if let Some([w, s, e, n]) = atlas.home {
        return Some(((w + e) / 2.0, (s + n) / 2.0));
    }
    let b =
        union_bounds(atlas.layers.iter().filter(|l| l.id != crate::atlas::MENTIONED_LAYER).filter_map(|l| l.bounds()))?;
    Some(b.center().x_y())
}

/// The frame of a step's places, far ones left out where near ones exist (see [`FAR_FROM_HOME_M`]).
fn step_frame(atlas: &Atlas, places: &[String], home: Option<(f64, f64)>) -> Option<Rect<f64>> {
    let frames: Vec<Rect<f64>> = places.iter().filter_map(|id| place_frame(atlas, id)).collect();
    let near: Vec<Rect<f64>> = frames
        .iter()
        .copied()
        .filter(|r| home.is_none_or(|h| crate::proj::distance_m(r.center().x_y(), h) <= FAR_FROM_HOME_M))
        .collect();
    union_bounds(if near.is_empty() { frames } else { near })
}

/// Generates the story of document `di` of the atlas.
pub fn generate(atlas: &Atlas, di: usize) -> Story {
    let doc = &atlas.documents[di];
    let home = home_centre(atlas);
    let mut steps = Vec::new();
    let mut previous: Option<[f64; 4]> = None;
    for (pi, p) in doc.passages.iter().enumerate() {
        for group in sentence_groups(doc, pi) {
            let mut places: Vec<String> = Vec::new();
            for m in p.mentions.iter().filter(|m| group.contains(&m.sentence)) {
                if !places.contains(&m.place) {
                    places.push(m.place.clone());
                }
            }
            let frame = step_frame(atlas, &places, home);
            let view = frame.map(padded).or(previous);
            previous = view;
            steps.push(Step {
                line: p.line,
                sentences: group,
                places,
                view,
                caption: None,
                custom_view: None,
                skip: false,
            });
        }
    }
    let document = doc.path.file_name().and_then(|n| n.to_str()).unwrap_or(&doc.id).to_string();
    Story { document, steps }
}

/// Where a document's story is saved: beside it, `NAME.story.json`.
pub fn story_path(document: &Path) -> PathBuf {
    let name = document.file_stem().and_then(|s| s.to_str()).unwrap_or("document");
    document.with_file_name(format!("{name}.story.json"))
}

impl Story {
    /// Loads a saved story; `None` when there is none (not an error).
    pub fn load(path: &Path, expected_document: &str) -> Result<Option<Story>, StoryError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoryError::Io { path: path.into(), source }),
        };
        let story: Story = serde_json::from_str(&text).map_err(|e| StoryError::Parse {
            path: path.into(),
            line: e.line(),
            column: e.column(),
            message: crate::diagnostic::json_message(&e),
        })?;
        if story.document != expected_document {
            return Err(StoryError::OtherDocument {
                path: path.into(),
                found: story.document,
                expected: expected_document.into(),
            });
        }
        Ok(Some(story))
    }

    /// Saves atomically (a crash never leaves half a story).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        crate::geodata::write_atomic(path, text.as_bytes())
    }

    /// The steps a presentation shows, skipping those the presenter turned off.
    pub fn shown(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| !s.skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(view: [f64; 4], r: Rect<f64>) -> bool {
        view[0] <= r.min().x && view[1] <= r.min().y && view[2] >= r.max().x && view[3] >= r.max().y
    }

    #[test]
    fn kun_tai_steps_frame_kunshan_and_taicang() {
        let atlas = Atlas::builtin();
        let story = generate(&atlas, 0);
        let kun = atlas.gazetteer.get("kunshan").unwrap().bounds.unwrap();
        let tai = atlas.gazetteer.get("taicang").unwrap().bounds.unwrap();
        let steps: Vec<&Step> = story.steps.iter().filter(|s| s.places.iter().any(|p| p == "kuntai-zone")).collect();
        assert!(!steps.is_empty());
        for s in steps {
            let v = s.view.unwrap();
            assert!(contains(v, kun) && contains(v, tai), "line {} view {v:?}", s.line);
        }
    }

    #[test]
    fn the_port_areas_step_frames_all_four() {
        let atlas = Atlas::builtin();
        let story = generate(&atlas, 0);
        let ids = ["taicang-port", "changshu-port", "zhangjiagang-port", "inland-ports"];
        let step = story
            .steps
            .iter()
            .find(|s| ids.iter().all(|id| s.places.iter().any(|p| p == id)))
            .expect("a step naming all four");
        for id in ids {
            let r = atlas.gazetteer.get(id).unwrap().bounds.unwrap();
            assert!(contains(step.view.unwrap(), r), "{id}");
        }
    }

    #[test]
    fn long_passages_split_and_placeless_steps_keep_the_view() {
        let atlas = Atlas::builtin();
        let story = generate(&atlas, 0);
        // Line 7 (the site visits) is long: several steps, each short enough to read.
        let line7: Vec<&Step> = story.steps.iter().filter(|s| s.line == 7).collect();
        assert!(line7.len() >= 3, "{}", line7.len());
        // Line 2 names no place: it keeps the view of the step before it (line 1: Taicang).
        let i = story.steps.iter().position(|s| s.line == 2).unwrap();
        assert!(story.steps[i].places.is_empty());
        assert_eq!(story.steps[i].view, story.steps[i - 1].view);
        // A single site still gets a neighbourhood.
        let v = story.steps.iter().find(|s| s.places == ["port-city-square"]).map(|s| s.view.unwrap());
        if let Some(v) = v {
            assert!(v[3] - v[1] >= MIN_VIEW_DEG - 1e-9);
        }
    }

    #[test]
    fn far_comparisons_do_not_pull_the_view_out_of_the_region() {
        let dir = std::env::temp_dir().join(format!("port-atlas-story-far-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("far.txt");
        std::fs::write(&path, "太仓港要学习北京、广州等地的经验。\n北京、广州两地港城融合的做法值得借鉴。\n").unwrap();
        let mut atlas = Atlas::builtin();
        let di = atlas.add_document(&path).unwrap();
        let story = generate(&atlas, di);
        let beijing = atlas.gazetteer.get("cn-11").unwrap().lon_lat.unwrap();
        let port = atlas.gazetteer.get("taicang-port").unwrap().bounds.unwrap();
        // With the port named, the step stays on it.
        let v = story.steps[0].view.unwrap();
        assert!(contains(v, port) && v[3] < beijing[1], "{v:?}");
        // Only far places named: they are framed.
        let v = story.steps[1].view.unwrap();
        assert!(v[3] >= beijing[1] && v[1] <= 23.2, "{v:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_saved_story_round_trips_and_refuses_another_document() {
        let atlas = Atlas::builtin();
        let mut story = generate(&atlas, 0);
        story.steps[1].skip = true;
        story.steps[2].caption = Some("港城 <\"&'>".into());
        story.steps.swap(3, 4);
        let dir = std::env::temp_dir().join(format!("port-atlas-story-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = story_path(&dir.join("suzhou-port-meeting.txt"));
        assert!(path.ends_with("suzhou-port-meeting.story.json"));
        story.save(&path).unwrap();
        let back = Story::load(&path, "suzhou-port-meeting.txt").unwrap().unwrap();
        assert_eq!(back.steps.len(), story.steps.len());
        for (a, b) in back.steps.iter().zip(&story.steps) {
            assert_eq!(
                (a.line, &a.sentences, &a.places, &a.caption, a.skip),
                (b.line, &b.sentences, &b.places, &b.caption, b.skip)
            );
            let (va, vb) = (a.view.unwrap(), b.view.unwrap());
            assert!(va.iter().zip(vb).all(|(x, y)| (x - y).abs() < 1e-9), "{va:?} {vb:?}");
        }
        assert_eq!(back.shown().count(), story.steps.len() - 1);
        assert!(matches!(Story::load(&path, "other.txt"), Err(StoryError::OtherDocument { .. })));
        assert!(Story::load(&dir.join("none.story.json"), "x").unwrap().is_none());
        std::fs::write(&path, "{\"document\": 3}").unwrap();
        let err = Story::load(&path, "suzhou-port-meeting.txt").unwrap_err();
        assert!(err.to_string().contains("suzhou-port-meeting.story.json:1:"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
