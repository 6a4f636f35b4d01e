//! The document panel: every passage with its mentions tinted in their layer's colour; a click
//! on a mention selects and flies to the place.

use bevy::prelude::*;
use bevy_egui::egui;
use egui::{Align, RichText, Sense, Ui};

use super::PanelState;
use super::mentions::{Run, mention_bg, runs};
use super::review::{DOUBT, place_with_parent};
use crate::app::state::{AtlasCommand, AtlasRes, LayerView, Selection};

pub(super) fn document_panel(
    ui: &mut Ui,
    res: &AtlasRes,
    view: &LayerView,
    selection: &mut Selection,
    state: &mut PanelState,
    cmds: &mut MessageWriter<AtlasCommand>,
) {
    ui.heading("文件 Document");
    if res.atlas.documents.is_empty() {
        ui.weak("No document. Open a .txt file from the toolbar or drop one on the window.");
        return;
    }
    if let Some((d, _)) = selection.scroll_to {
        state.document = d;
    }
    state.document = state.document.min(res.atlas.documents.len() - 1);
    egui::ComboBox::from_id_salt("document").selected_text(res.atlas.documents[state.document].id.clone()).show_ui(
        ui,
        |ui| {
            for (i, d) in res.atlas.documents.iter().enumerate() {
                ui.selectable_value(&mut state.document, i, &d.id);
            }
        },
    );
    super::review::review_section(ui, res, view.lang, &mut state.review, state.atlas_generation, cmds);
    let doc = &res.atlas.documents[state.document];
    let selected_id = selection.selected.and_then(|r| res.atlas.feature(r)).map(|f| f.id.clone());
    let scroll_target = selection.scroll_to.filter(|(d, _)| *d == state.document).map(|(_, p)| p);
    let mut clicked_place = None;
    egui::ScrollArea::vertical().id_salt("document_text").auto_shrink([false, false]).show(ui, |ui| {
        for (pi, p) in doc.passages.iter().enumerate() {
            let r = ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing.x = 0.0;
                ui.weak(format!("{:>3} ", p.line));
                for run in runs(&p.text, 0, usize::MAX, &p.mentions) {
                    let m = match run {
                        Run::Plain(t) => {
                            ui.label(t);
                            continue;
                        }
                        Run::Mention(m) => m,
                    };
                    let strong = selected_id.as_deref() == Some(m.place.as_str());
                    let mut text = RichText::new(&m.text);
                    if m.is_uncertain() {
                        // Unsure: no fill that claims the link, an underline and the review colour.
                        text = text.color(DOUBT).italics().underline();
                    } else {
                        text = text.background_color(mention_bg(res, &m.place, strong));
                    }
                    if strong {
                        text = text.strong().underline();
                    }
                    let hover = format!(
                        "{} · {:.0}% · {}{}",
                        place_with_parent(res, view.lang, &m.place),
                        m.confidence * 100.0,
                        m.reason.describe(&res.atlas.gazetteer),
                        if m.is_uncertain() { "\nUnsure: see 待確認 To review above." } else { "" }
                    );
                    if ui.add(egui::Label::new(text).sense(Sense::click())).on_hover_text(hover).clicked() {
                        clicked_place = Some(m.place.clone());
                    }
                }
            });
            if scroll_target == Some(pi) {
                r.response.scroll_to_me(Some(Align::TOP));
            }
            ui.add_space(6.0);
        }
    });
    if scroll_target.is_some() {
        selection.scroll_to = None;
    }
    if let Some(id) = clicked_place {
        cmds.write(AtlasCommand::FocusPlace(id));
    }
}
