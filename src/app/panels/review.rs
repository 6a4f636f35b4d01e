//! The review list: mentions the linking is unsure of, grouped by name and place, each with its
//! reason and the other places the name could mean. A verdict is saved to the data folder's
//! `gazetteer.json` (or the built-in atlas's overlay) and every document is re-linked with it.

use bevy::prelude::*;
use bevy_egui::egui;
use egui::{Color32, RichText, Ui};

use super::place_name;
use crate::app::state::{AtlasCommand, AtlasRes, Lang};

/// One row of the list: a name the documents use for a place, with the mentions' count.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Doubt {
    pub name: String,
    pub place: String,
    pub confidence: f32,
    pub reason: String,
    pub count: usize,
    /// The other places the name could mean, as ids.
    pub others: Vec<String>,
}

/// The list as last derived, and the atlas generation it was derived from: walking every
/// mention of every document is for when the documents change, not for every frame.
#[derive(Default)]
pub(super) struct ReviewCache {
    generation: Option<u64>,
    doubts: Vec<Doubt>,
}

/// The uncertain mentions of all documents, grouped by (folded name, place), least sure first.
pub(super) fn doubts(res: &AtlasRes) -> Vec<Doubt> {
    let fold = res.atlas.matcher.fold();
    let mut out: Vec<Doubt> = Vec::new();
    for d in &res.atlas.documents {
        for p in &d.passages {
            for m in p.mentions.iter().filter(|m| m.is_uncertain()) {
                let name = fold.fold_str(&m.text);
                match out.iter_mut().find(|x| x.name == name && x.place == m.place) {
                    Some(x) => x.count += 1,
                    None => out.push(Doubt {
                        name,
                        place: m.place.clone(),
                        confidence: m.confidence,
                        reason: m.reason.describe(&res.atlas.gazetteer),
                        count: 1,
                        others: Vec::new(),
                    }),
                }
            }
        }
    }
    out.sort_by(|a, b| a.confidence.total_cmp(&b.confidence).then(b.count.cmp(&a.count)));
    for d in &mut out {
        d.others = alternatives(res, &d.name).into_iter().filter(|o| *o != d.place).take(4).collect();
    }
    out
}

/// Every place `name` can mean, as ids.
fn alternatives(res: &AtlasRes, name: &str) -> Vec<String> {
    let (mut buf, mut found) = (Vec::new(), Vec::new());
    res.atlas.matcher.find(name, &mut buf, &mut found);
    found
        .iter()
        .find(|r| r.start == 0 && r.end == name.len())
        .map(|r| {
            res.atlas
                .matcher
                .candidates(r)
                .iter()
                .map(|c| res.atlas.gazetteer.places[c.place as usize].id.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// "沙溪鎮 (太倉市)": a place and its parent, to tell same-named places apart.
pub(super) fn place_with_parent(res: &AtlasRes, lang: Lang, id: &str) -> String {
    let name = place_name(res, lang, id);
    let g = &res.atlas.gazetteer;
    match g.position(id).and_then(|i| g.parent_name(i)) {
        Some(parent) => format!("{name} ({parent})"),
        None => name,
    }
}

/// The colour uncertain mentions are written in, in the document and this list.
pub(super) const DOUBT: Color32 = Color32::from_rgb(196, 84, 0);

pub(super) fn review_section(
    ui: &mut Ui,
    res: &AtlasRes,
    lang: Lang,
    cache: &mut ReviewCache,
    generation: u64,
    cmds: &mut MessageWriter<AtlasCommand>,
) {
    if cache.generation != Some(generation) {
        cache.doubts = doubts(res);
        cache.generation = Some(generation);
    }
    let list = &cache.doubts;
    if list.is_empty() {
        return;
    }
    egui::CollapsingHeader::new(RichText::new(format!("待確認 To review ({})", list.len())).color(DOUBT))
        .id_salt("review")
        .default_open(true)
        .show(ui, |ui| {
            ui.weak(
                "Names the linking is unsure of. Your answer is saved to gazetteer.json and applies to every document.",
            );
            egui::ScrollArea::vertical().id_salt("review_list").max_height(220.0).show(ui, |ui| {
                for d in list {
                    ui.horizontal_wrapped(|ui| {
                        ui.label(RichText::new(&d.name).strong().color(DOUBT));
                        ui.label(format!("→ {}", place_with_parent(res, lang, &d.place)));
                        ui.weak(format!("{:.0}% · {}× · {}", d.confidence * 100.0, d.count, d.reason));
                    });
                    ui.horizontal_wrapped(|ui| {
                        if ui.small_button("✔ 是 Yes").clicked() {
                            cmds.write(AtlasCommand::Verdict {
                                name: d.name.clone(),
                                place: d.place.clone(),
                                confirm: true,
                            });
                        }
                        for other in &d.others {
                            let label = format!("↪ {}", place_with_parent(res, lang, other));
                            if ui.small_button(label).on_hover_text("It means this place instead").clicked() {
                                cmds.write(AtlasCommand::Verdict {
                                    name: d.name.clone(),
                                    place: other.clone(),
                                    confirm: true,
                                });
                            }
                        }
                        if ui.small_button("✖ 非此地 Not this place").clicked() {
                            cmds.write(AtlasCommand::Verdict {
                                name: d.name.clone(),
                                place: d.place.clone(),
                                confirm: false,
                            });
                        }
                    });
                    ui.add_space(4.0);
                }
            });
        });
}
