//! Editing features: the planner's corrections and additions, with undo, validation, snapping
//! and provenance. Pure data, no Bevy: the app turns pointer gestures into [`Step`]s and this
//! module keeps them undoable and knows what is not yet saved.
//!
//! - [`shape`]: a geometry as parts of open rings, and vertex operations on it;
//! - [`validate`]: what an edit may not make (crossing outlines, too-short rings);
//! - [`snap`]: to vertices and edges nearby;
//! - [`provenance`]: who, when, over which basemap at what zoom, and the accuracy that supports;
//! - [`store`]: the edits file in the user's data folder.

pub mod provenance;
pub mod shape;
pub mod snap;
pub mod store;
pub mod validate;

use std::collections::HashMap;

use crate::geodata::{Feature, Layer};

/// One undoable change to one feature: `before` `None` is a new feature (appended at `index`),
/// `after` `None` removes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub layer: usize,
    pub index: usize,
    pub before: Option<Feature>,
    pub after: Option<Feature>,
    /// What the step did, for the undo button's tooltip ("move vertex", "draw polygon").
    pub label: String,
}

/// The undo and redo stacks, and what each touched feature was at the last save.
#[derive(Debug, Default)]
pub struct EditSession {
    undo: Vec<Step>,
    redo: Vec<Step>,
    /// For every feature touched since the last save: its saved state (`None`: it did not exist).
    baseline: HashMap<(usize, String), Option<Feature>>,
}

/// Puts a feature's state `to` where it was `from`: replaced, inserted (new) or removed.
fn put(layers: &mut [Layer], layer: usize, index: usize, from: Option<&Feature>, to: Option<&Feature>) {
    let Some(l) = layers.get_mut(layer) else { return };
    match (from.is_some(), to) {
        (true, Some(f)) if index < l.features.len() => l.features[index] = f.clone(),
        (false, Some(f)) => l.features.insert(index.min(l.features.len()), f.clone()),
        (true, None) if index < l.features.len() => {
            l.features.remove(index);
        }
        _ => {}
    }
}

impl EditSession {
    /// Applies a step to the layers and makes it undoable; the redo stack is cleared.
    pub fn commit(&mut self, layers: &mut [Layer], step: Step) {
        let key_feature = step.before.as_ref().or(step.after.as_ref());
        if let Some(f) = key_feature {
            self.baseline.entry((step.layer, f.id.clone())).or_insert_with(|| step.before.clone());
        }
        put(layers, step.layer, step.index, step.before.as_ref(), step.after.as_ref());
        self.undo.push(step);
        self.redo.clear();
    }

    /// Takes the last step back; returns it (the app re-tessellates its layer).
    pub fn undo(&mut self, layers: &mut [Layer]) -> Option<&Step> {
        let step = self.undo.pop()?;
        put(layers, step.layer, step.index, step.after.as_ref(), step.before.as_ref());
        self.redo.push(step);
        self.redo.last()
    }

    pub fn redo(&mut self, layers: &mut [Layer]) -> Option<&Step> {
        let step = self.redo.pop()?;
        put(layers, step.layer, step.index, step.before.as_ref(), step.after.as_ref());
        self.undo.push(step);
        self.undo.last()
    }

    pub fn can_undo(&self) -> Option<&str> {
        self.undo.last().map(|s| s.label.as_str())
    }

    pub fn can_redo(&self) -> Option<&str> {
        self.redo.last().map(|s| s.label.as_str())
    }

    /// Features whose current state differs from the saved one, as (layer, feature index); a
    /// feature undone back to what was saved is not unsaved.
    pub fn unsaved(&self, layers: &[Layer]) -> Vec<(usize, Option<usize>)> {
        let mut out: Vec<(usize, Option<usize>)> = self
            .baseline
            .iter()
            .filter_map(|((layer, id), saved)| {
                let l = layers.get(*layer)?;
                let now = l.features.iter().position(|f| &f.id == id);
                let same = match (now, saved) {
                    (Some(i), Some(s)) => l.features[i] == *s,
                    (None, None) => true,
                    _ => false,
                };
                (!same).then_some((*layer, now))
            })
            .collect();
        out.sort();
        out
    }

    /// After a successful save: what is in the layers now is what is saved.
    pub fn mark_saved(&mut self) {
        self.baseline.clear();
    }

    /// The step that last changed a feature, if it is still on the undo stack.
    pub fn last_step(&self) -> Option<&Step> {
        self.undo.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shape::{Shape, VertexPath};

    fn moved(f: &Feature, to: [f64; 2]) -> Feature {
        let mut s = Shape::from_geometry(&f.geometry).unwrap();
        s.move_vertex(VertexPath::new(0, 0, 0), to).unwrap();
        Feature { geometry: s.to_geometry(), ..f.clone() }
    }

    #[test]
    fn undo_and_redo_every_step_and_know_what_is_unsaved() {
        let mut layers = vec![crate::synth::polygons(2, 5, 1)];
        let original = layers[0].features[0].clone();
        let mut session = EditSession::default();
        let a = moved(&original, [121.0, 31.0]);
        session.commit(
            &mut layers,
            Step {
                layer: 0,
                index: 0,
                before: Some(original.clone()),
                after: Some(a.clone()),
                label: "move vertex".into(),
            },
        );
        let b = moved(&a, [121.5, 31.5]);
        session.commit(
            &mut layers,
            Step { layer: 0, index: 0, before: Some(a.clone()), after: Some(b.clone()), label: "move vertex".into() },
        );
        let mut new = original.clone();
        new.id = "edit-1".into();
        session.commit(
            &mut layers,
            Step { layer: 0, index: 2, before: None, after: Some(new.clone()), label: "draw polygon".into() },
        );
        assert_eq!(layers[0].features.len(), 3);
        assert_eq!(session.unsaved(&layers), vec![(0, Some(0)), (0, Some(2))]);
        // Undo all three: the layer is as it was and nothing is unsaved.
        assert_eq!(session.undo(&mut layers).map(|s| s.label.clone()), Some("draw polygon".into()));
        session.undo(&mut layers);
        assert_eq!(layers[0].features[0], a);
        session.undo(&mut layers);
        assert_eq!(layers[0].features[0], original);
        assert!(session.undo(&mut layers).is_none());
        assert_eq!(layers[0].features.len(), 2);
        assert!(session.unsaved(&layers).is_empty());
        // Redo brings each back; a new step clears the redo stack.
        session.redo(&mut layers);
        session.redo(&mut layers);
        assert_eq!(layers[0].features[0], b);
        session.mark_saved();
        assert!(session.unsaved(&layers).is_empty());
        session.commit(
            &mut layers,
            Step { layer: 0, index: 0, before: Some(b.clone()), after: Some(a.clone()), label: "move vertex".into() },
        );
        assert_eq!(session.can_redo(), None);
        assert_eq!(session.unsaved(&layers), vec![(0, Some(0))]);
    }
}
