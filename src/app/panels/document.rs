//! The document panel: which report, its format, encoding and date (editable), the timeline
//! over all reports, then its passages with mentions tinted in their layer's colour; a click on
//! a mention selects and flies to the place.
//!
//! Only the rows in view are laid out: a 10 MB report scrolls as smoothly as a page. Long
//! passages are cut into rows of about [`ROW_CHARS`] characters (never inside a mention), and
//! each row's height is estimated until it has been drawn once.

use bevy::prelude::*;
use bevy_egui::egui;
use egui::{RichText, Sense, Ui, UiBuilder};

use super::PanelState;
use super::mentions::{Run, mention_bg, runs_chunk};
use super::review::{DOUBT, place_with_parent};
use crate::app::state::{AtlasCommand, AtlasRes, LayerView, Selection};
use crate::document::Document;
use crate::text::date::{DateSource, ReportDate};

/// Characters per row of a long passage.
const ROW_CHARS: usize = 1200;
/// Space under each passage.
const GAP: f32 = 6.0;

/// A piece of a passage drawn as one row: its chars `start..end` at bytes `bytes`.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    passage: usize,
    start: usize,
    bytes: std::ops::Range<usize>,
    /// Estimated until drawn, then measured.
    height: f32,
    last_of_passage: bool,
}

/// The current document's rows and their heights, rebuilt when the document, the atlas or the
/// panel's width changes.
#[derive(Default)]
pub struct DocPanel {
    /// Which document is shown.
    pub index: usize,
    key: Option<(usize, u64, u32)>,
    rows: Vec<Row>,
    /// The date box's text and what it was filled from: (document, its date).
    date_text: String,
    date_for: Option<(usize, Option<String>)>,
    date_error: Option<String>,
}

impl DocPanel {
    fn layout(&mut self, doc: &Document, index: usize, generation: u64, width: f32) {
        let key = (index, generation, (width / 16.0) as u32);
        if self.key == Some(key) {
            return;
        }
        self.key = Some(key);
        // ~15 px per CJK character, ~7 per Latin one; 18 px per line.
        let per_line = (width / 11.0).max(8.0);
        self.rows.clear();
        for (pi, p) in doc.passages.iter().enumerate() {
            let cuts = row_cuts(&p.text, &p.mentions);
            let n = cuts.len();
            for (k, (start, bytes)) in cuts.into_iter().enumerate() {
                let chars = p.text[bytes.clone()].chars().count() as f32;
                let height = (chars / per_line).ceil().max(1.0) * 18.0 + if k + 1 == n { GAP } else { 0.0 };
                self.rows.push(Row { passage: pi, start, bytes, height, last_of_passage: k + 1 == n });
            }
        }
    }
}

/// Where a passage is cut into rows: (first char, byte range) of each; a cut never falls inside
/// a mention.
fn row_cuts(text: &str, mentions: &[crate::document::Mention]) -> Vec<(usize, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut start_char = 0;
    let mut start_byte = 0;
    let mut m = mentions.iter().peekable();
    for (chars, (b, _)) in text.char_indices().enumerate() {
        // Skip mentions that ended before here; stay whole inside one.
        while m.peek().is_some_and(|x| x.end <= chars) {
            m.next();
        }
        let inside = m.peek().is_some_and(|x| x.start < chars && chars < x.end);
        if chars - start_char >= ROW_CHARS && !inside {
            out.push((start_char, start_byte..b));
            start_char = chars;
            start_byte = b;
        }
    }
    out.push((start_char, start_byte..text.len()));
    out
}

pub(super) fn document_panel(
    ui: &mut Ui,
    res: &AtlasRes,
    view: &LayerView,
    selection: &mut Selection,
    state: &mut PanelState,
    timeline: &mut crate::app::state::Timeline,
    cmds: &mut MessageWriter<AtlasCommand>,
) {
    ui.heading("文件 Document");
    let docs = &res.atlas.documents;
    if docs.is_empty() {
        ui.weak("No document. Open a report (.txt, .docx, .pdf, .html) or a folder of them from the toolbar, or drop one on the window.");
        return;
    }
    let panel = &mut state.doc;
    if let Some((d, _)) = selection.scroll_to {
        panel.index = d;
    }
    panel.index = panel.index.min(docs.len() - 1);
    let label = |d: &Document| match d.date {
        Some(x) => format!("{} · {}", x.date.iso(), d.id),
        None => d.id.clone(),
    };
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt("document").width(260.0).selected_text(label(&docs[panel.index])).show_ui(
            ui,
            |ui| {
                for (i, d) in docs.iter().enumerate() {
                    ui.selectable_value(&mut panel.index, i, label(d));
                }
            },
        );
        if docs.len() > 1 {
            ui.weak(format!("{} reports", docs.len()));
        }
    });
    let di = panel.index;
    let doc = &docs[di];
    date_row(ui, doc, di, panel, cmds);
    for note in &doc.notes {
        ui.colored_label(DOUBT, note);
    }
    if super::timeline::timeline(ui, res, timeline, &mut state.timeline, state.atlas_generation) {
        // Narrowing the dates is asking what the map shows for them: the circles come on.
        state.coverage.symbols = true;
    }
    super::review::review_section(ui, res, view.lang, &mut state.review, state.atlas_generation, cmds);
    let panel = &mut state.doc;
    let selected_id = selection.selected.and_then(|r| res.atlas.feature(r)).map(|f| f.id.clone());
    let scroll_target = selection.scroll_to.filter(|(d, _)| *d == di).map(|(_, p)| p);
    let width = ui.available_width();
    panel.layout(doc, di, state.atlas_generation, width);
    let tops: Vec<f32> = panel
        .rows
        .iter()
        .scan(0.0, |y, r| {
            let top = *y;
            *y += r.height;
            Some(top)
        })
        .collect();
    let total = tops.last().zip(panel.rows.last()).map_or(0.0, |(t, r)| t + r.height);
    let mut area = egui::ScrollArea::vertical().id_salt("document_text").auto_shrink([false, false]);
    if let Some(row) = scroll_target.and_then(|p| panel.rows.iter().position(|r| r.passage == p)) {
        area = area.vertical_scroll_offset(tops[row]);
    }
    let mut clicked_place = None;
    area.show_viewport(ui, |ui, viewport| {
        ui.set_height(total);
        let first = tops.partition_point(|&t| t <= viewport.min.y).saturating_sub(1);
        let mut top = ui.max_rect().min;
        top.y += tops.get(first).copied().unwrap_or(0.0);
        let mut measured = Vec::new();
        let rect = egui::Rect::from_min_size(top, egui::vec2(ui.available_width(), f32::INFINITY));
        ui.scope_builder(UiBuilder::new().max_rect(rect), |ui| {
            for (ri, row) in panel.rows.iter().enumerate().skip(first) {
                if tops[ri] > viewport.max.y {
                    break;
                }
                let p = &doc.passages[row.passage];
                let before = ui.cursor().min.y;
                ui.horizontal_wrapped(|ui| {
                    ui.spacing_mut().item_spacing.x = 0.0;
                    if row.start == 0 {
                        ui.weak(format!("{:>3} ", p.locator())).on_hover_text(locator_help(doc, p));
                    }
                    for run in runs_chunk(&p.text[row.bytes.clone()], row.start, &p.mentions) {
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
                if row.last_of_passage {
                    ui.add_space(GAP);
                }
                measured.push((ri, ui.cursor().min.y - before));
            }
        });
        // What was drawn is measured: the next frame places rows where they really are.
        for (ri, h) in measured {
            panel.rows[ri].height = h.max(1.0);
        }
    });
    if scroll_target.is_some() {
        selection.scroll_to = None;
    }
    if let Some(id) = clicked_place {
        cmds.write(AtlasCommand::FocusPlace(id));
    }
}

/// Where a passage came from, for its hover text.
fn locator_help(doc: &Document, p: &crate::document::Passage) -> String {
    match (p.page, p.paragraph) {
        (Some(page), Some(par)) => format!("{}: page {page}, paragraph {par}", doc.path.display()),
        (None, Some(par)) => format!("{}: paragraph {par}", doc.path.display()),
        _ => format!("{}: line {}", doc.path.display(), p.line),
    }
}

/// Format, encoding and the date with where it came from; the date can be set by hand.
fn date_row(ui: &mut Ui, doc: &Document, di: usize, panel: &mut DocPanel, cmds: &mut MessageWriter<AtlasCommand>) {
    let current = doc.date.map(|x| x.date.iso());
    if panel.date_for.as_ref() != Some(&(di, current.clone())) {
        panel.date_text = current.clone().unwrap_or_default();
        panel.date_for = Some((di, current));
        panel.date_error = None;
    }
    ui.horizontal(|ui| {
        let mut kind = doc.format.as_str().to_uppercase();
        if let Some(e) = &doc.encoding {
            kind.push_str(&format!(" · {e}"));
        }
        ui.weak(kind);
        ui.separator();
        ui.label("Date");
        let edit = ui.add(egui::TextEdit::singleline(&mut panel.date_text).desired_width(86.0).hint_text("YYYY-MM-DD"));
        let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.small_button("Set").on_hover_text("saved, and used whenever this file is opened").clicked() || enter {
            match ReportDate::parse(&panel.date_text) {
                Some(d) => cmds.write(AtlasCommand::DocumentDate(di, Some(d))),
                None => {
                    let file =
                        doc.path.file_name().map_or_else(|| doc.id.clone(), |n| n.to_string_lossy().into_owned());
                    panel.date_error = Some(format!(
                        "{file}: {:?} is not a date: write 2021-03-05, 2021-03 or 2021年3月5日",
                        panel.date_text
                    ));
                    return;
                }
            };
        }
        match doc.date {
            Some(x) if x.source == DateSource::Edited => {
                if ui.small_button("↺").on_hover_text("back to the date the document gives").clicked() {
                    cmds.write(AtlasCommand::DocumentDate(di, None));
                }
                ui.weak("set by hand");
            }
            Some(x) => {
                ui.weak(format!("from the {}", x.source.describe()));
            }
            None => {
                ui.colored_label(DOUBT, "undated");
            }
        }
    });
    if let Some(e) = &panel.date_error {
        ui.colored_label(egui::Color32::from_rgb(0xc9, 0x2a, 0x2a), e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_passages_are_cut_into_rows_but_never_inside_a_mention() {
        let text = "港".repeat(ROW_CHARS - 2) + "太倉港區" + &"江".repeat(ROW_CHARS + 10);
        let m = crate::document::Mention {
            place: "p".into(),
            start: ROW_CHARS - 2,
            end: ROW_CHARS + 2,
            text: "太倉港區".into(),
            sentence: 0,
            confidence: 1.0,
            reason: crate::text::resolve::Reason::Curated,
        };
        let cuts = row_cuts(&text, std::slice::from_ref(&m));
        let starts: Vec<usize> = cuts.iter().map(|c| c.0).collect();
        assert_eq!(starts, [0, ROW_CHARS + 2, 2 * ROW_CHARS + 2]);
        let joined: String = cuts.iter().map(|c| &text[c.1.clone()]).collect();
        assert_eq!(joined, text);
        assert_eq!(row_cuts("短", &[]), [(0, 0..3)]);
    }
}
