//! What the panels show of the presenter: the caption of the current step and the story
//! editor.

use bevy_egui::egui;
use egui::{Color32, RichText, Ui};

use super::mentions::{Run, mention_bg, runs};
use super::place_name;
use crate::app::presenter::{Presenter, story_file};
use crate::app::state::{AtlasRes, LayerView};
use crate::app::view::MapView;

/// The presenter's caption: the step's text in large type with its places in their layer
/// colours, and where the presentation is.
pub(super) fn caption_panel(root: &mut Ui, res: &AtlasRes, view: &LayerView, p: &Presenter) {
    let Some(step) = p.current() else { return };
    let doc = res.atlas.documents.first();
    let passage = doc.and_then(|d| d.passages.iter().find(|pa| pa.line == step.line));
    egui::Panel::bottom("caption")
        .frame(egui::Frame::new().fill(Color32::from_rgb(250, 249, 245)).inner_margin(16.0))
        .show(root, |ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new(format!("{} / {}", p.index + 1, p.len())).size(18.0).strong());
                if !p.digits.is_empty() {
                    ui.label(RichText::new(format!("→ {}", p.digits)).size(18.0).color(Color32::from_rgb(180, 90, 0)));
                }
                if let Some(status) = &p.status {
                    ui.weak(status);
                }
                let source = doc.map_or(String::new(), |d| d.id.clone());
                ui.weak(format!(
                    "Source: {source}, line {} · ←/→ step · number + Enter jump · B black · L labels · R back to the step · S speaker view · P save slide · Esc",
                    step.line
                ));
            });
            let size = 26.0;
            ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing.x = 0.0;
                if let Some(caption) = &step.caption {
                    ui.label(RichText::new(caption).size(size));
                    return;
                }
                let Some(pa) = passage else { return };
                let (from, to) = (
                    pa.sentences.get(step.sentences.start).map_or(0, |r| r.start),
                    pa.sentences.get(step.sentences.end.saturating_sub(1)).map_or(usize::MAX, |r| r.end),
                );
                for run in runs(&pa.text, from, to, &pa.mentions) {
                    match run {
                        Run::Plain(t) => {
                            ui.label(RichText::new(t).size(size));
                        }
                        Run::Mention(m) => {
                            let name = place_name(res, view.lang, &m.place);
                            let text = RichText::new(&m.text).size(size).strong();
                            ui.label(text.background_color(mention_bg(res, &m.place, true))).on_hover_text(name);
                        }
                    }
                }
            });
        });
}

/// The story editor: reorder, skip, caption and custom views per step, saved beside the
/// document (or, for the built-in report, in the working folder) and loaded next time.
pub(super) fn story_window(ctx: &egui::Context, res: &AtlasRes, map: &MapView, p: &mut Presenter, open: &mut bool) {
    if !*open {
        return;
    }
    let mut still_open = *open;
    egui::Window::new("Story").open(&mut still_open).default_width(560.0).default_height(520.0).show(ctx, |ui| {
        let path = story_file(res);
        ui.horizontal(|ui| {
            if ui.button("Save").clicked() {
                match p.story.save(&path) {
                    Ok(()) => p.status = Some(format!("saved {}", path.display())),
                    Err(e) => p.status = Some(format!("{}: cannot save: {e}", path.display())),
                }
            }
            if ui.button("Regenerate").on_hover_text("discard edits, steps from the document again").clicked() {
                p.story = crate::story::generate(&res.atlas, 0);
                p.status = Some("regenerated (not saved yet)".into());
            }
            if let Some(s) = &p.status {
                ui.weak(s);
            }
        });
        ui.separator();
        let n = p.story.steps.len();
        let mut swap: Option<(usize, usize)> = None;
        let visible = map.visible_lonlat(&res.frame);
        egui::ScrollArea::vertical().show(ui, |ui| {
            for i in 0..n {
                let step = &mut p.story.steps[i];
                ui.horizontal(|ui| {
                    ui.monospace(format!("{:>2} L{:<3}", i + 1, step.line));
                    if ui.small_button("▲").clicked() && i > 0 {
                        swap = Some((i - 1, i));
                    }
                    if ui.small_button("▼").clicked() && i + 1 < n {
                        swap = Some((i, i + 1));
                    }
                    let mut shown = !step.skip;
                    if ui.checkbox(&mut shown, "").on_hover_text("show this step").changed() {
                        step.skip = !shown;
                    }
                    if ui.small_button("use this view").clicked() {
                        step.custom_view = Some([visible.min().x, visible.min().y, visible.max().x, visible.max().y]);
                    }
                    if step.custom_view.is_some() && ui.small_button("auto view").clicked() {
                        step.custom_view = None;
                    }
                    ui.weak(step.places.join(" "));
                });
                let mut caption = step.caption.clone().unwrap_or_default();
                let edit = ui.add(
                    egui::TextEdit::singleline(&mut caption)
                        .hint_text("caption (empty: the passage)")
                        .desired_width(f32::INFINITY),
                );
                if edit.changed() {
                    step.caption = if caption.trim().is_empty() { None } else { Some(caption) };
                }
            }
        });
        if let Some((a, b)) = swap {
            p.story.steps.swap(a, b);
        }
    });
    *open = still_open;
}
