//! The place panel: the selected feature's names, attributes, accuracy and source, and every
//! passage that mentions it.

use bevy_egui::egui;
use egui::{Color32, RichText, Sense, Ui};

use super::mentions::{Run, mention_bg, runs};
use super::sidebar::view_title;
use crate::app::state::{AtlasRes, LayerView, Selection};

pub(super) fn place_panel(ui: &mut Ui, res: &AtlasRes, view: &LayerView, selection: &mut Selection) {
    ui.heading("地點 Place");
    let Some(r) = selection.selected else {
        ui.weak("Click a place on the map, a highlighted name in the document, or search.");
        return;
    };
    let Some(f) = res.atlas.feature(r) else { return };
    let meta = &res.atlas.layers[r.layer as usize].meta;
    ui.label(RichText::new(&f.name_zh_hant).size(20.0).strong());
    ui.label(format!("{}  ·  {}", f.name_zh_hans, f.name_en));
    egui::Grid::new("place_attrs").num_columns(2).striped(true).show(ui, |ui| {
        ui.weak("layer");
        ui.label(view_title(view.lang, meta));
        ui.end_row();
        ui.weak("kind");
        ui.label(&f.kind);
        ui.end_row();
        ui.weak("accuracy");
        let acc = f.accuracy.to_string();
        ui.label(if f.accuracy.is_schematic() {
            RichText::new(acc).italics().color(Color32::from_rgb(170, 90, 0))
        } else {
            RichText::new(acc)
        });
        ui.end_row();
        ui.weak("id");
        ui.monospace(&f.id);
        ui.end_row();
        for (k, v) in &f.extra {
            ui.weak(k);
            ui.label(match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            ui.end_row();
        }
    });
    let provenance = res.atlas.layers.get(r.layer as usize).and_then(|l| l.provenance.as_ref());
    if !f.source.is_empty() || provenance.is_some() {
        ui.collapsing("source", |ui| {
            if !f.source.is_empty() {
                ui.label(&f.source);
            }
            // Where an imported layer came from and how it was converted.
            if let Some(p) = provenance {
                ui.weak(p.summary());
            }
        });
    }
    let mentions = res.atlas.mentions_newest_first(&f.id);
    let reports = {
        let mut d: Vec<usize> = mentions.iter().map(|m| m.document).collect();
        d.dedup();
        d.len()
    };
    let heading = if res.atlas.documents.len() > 1 {
        format!("Mentioned {} times in {reports} reports, newest first", mentions.len())
    } else {
        format!("Mentioned {} times in the documents", mentions.len())
    };
    ui.label(RichText::new(heading).strong());
    egui::ScrollArea::vertical().id_salt("place_passages").max_height(180.0).show(ui, |ui| {
        let mut last = None;
        for m in mentions {
            if last == Some((m.document, m.passage)) {
                continue;
            }
            last = Some((m.document, m.passage));
            let d = &res.atlas.documents[m.document];
            let p = &d.passages[m.passage];
            let mention = &p.mentions[m.mention];
            let sentence = p.sentences.get(mention.sentence).cloned().unwrap_or(0..0);
            let r = ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing.x = 0.0;
                let date = d.date.map_or(String::new(), |x| format!("{} ", x.date.iso()));
                ui.weak(format!("{date}{} {}  ", d.id, p.locator()));
                // The mention highlighted inside its sentence.
                for run in runs(&p.text, sentence.start, sentence.end, std::slice::from_ref(mention)) {
                    match run {
                        Run::Plain(t) => ui.label(t),
                        Run::Mention(m) => {
                            ui.label(RichText::new(&m.text).background_color(mention_bg(res, &m.place, true)).strong())
                        }
                    };
                }
            });
            if r.response.interact(Sense::click()).on_hover_text("show in the document").clicked() {
                selection.scroll_to = Some((m.document, m.passage));
            }
        }
    });
}
