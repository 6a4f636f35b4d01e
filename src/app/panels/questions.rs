//! The open dialog's questions: a file that does not say its coordinate system (a Shapefile
//! without `.prj`, any table) is never drawn as WGS84 by assumption. The planner picks from the
//! systems its numbers could be in (likeliest first) or types any other; a table shows its
//! first rows so the coordinate columns can be confirmed; a zip of several Shapefiles asks
//! which.

use bevy::prelude::*;
use bevy_egui::egui;
use egui::Ui;

use crate::app::state::{Ask, AtlasCommand, OpenQuestion, OpenQuestions};
use crate::formats::table::Columns;
use crate::spatial::crs::SourceCrs;

/// The answer being given to the first question.
#[derive(Default)]
pub struct QuestionState {
    /// Which question it is for (a new question resets it).
    for_path: Option<std::path::PathBuf>,
    /// The guess chosen, or `None` for the typed one.
    choice: Option<usize>,
    typed: String,
    x: usize,
    y: usize,
    layer: usize,
}

/// What the chosen answer opens the file with; `Err` says what is wrong with a typed system.
pub fn answer(q: &OpenQuestion, s: &QuestionState) -> Result<crate::formats::OpenOptions, String> {
    let mut options = q.options.clone();
    match &q.ask {
        Ask::Crs { guesses, table } => {
            let spelling = match s.choice.and_then(|i| guesses.get(i)) {
                Some(g) => g.crs.clone(),
                None => s.typed.trim().to_string(),
            };
            if spelling.is_empty() {
                return Err("choose or type a coordinate system".into());
            }
            options.crs = Some(SourceCrs::parse(&spelling).map_err(|e| e.to_string())?);
            if let Some(t) = table {
                let name =
                    |i: usize| t.headers.get(i).cloned().ok_or_else(|| "choose the coordinate columns".to_string());
                options.columns = Some((name(s.x)?, name(s.y)?));
            }
        }
        Ask::Layer { available, .. } => {
            options.layer = Some(available.get(s.layer).cloned().ok_or("choose a layer")?);
        }
    }
    Ok(options)
}

/// Starts the answer from what the file suggests: the likeliest system, the detected columns.
fn reset(q: &OpenQuestion, s: &mut QuestionState) {
    *s = QuestionState { for_path: Some(q.path.clone()), ..Default::default() };
    if let Ask::Crs { guesses, table } = &q.ask {
        s.choice = (!guesses.is_empty()).then_some(0);
        match table.as_ref().and_then(|t| t.columns) {
            Some(Columns::Pair(x, y)) => (s.x, s.y) = (x, y),
            Some(Columns::Combined(c)) => (s.x, s.y) = (c, c),
            None => (s.x, s.y) = (0, 1),
        }
    }
}

pub(super) fn questions_window(
    ctx: &egui::Context,
    questions: &mut OpenQuestions,
    s: &mut QuestionState,
    cmds: &mut MessageWriter<AtlasCommand>,
) {
    let Some(q) = questions.0.first() else { return };
    if s.for_path.as_ref() != Some(&q.path) {
        reset(q, s);
    }
    let file = q.path.file_name().map_or_else(|| q.path.display().to_string(), |n| n.to_string_lossy().to_string());
    let title = match q.ask {
        Ask::Crs { .. } => format!("坐標系 Which coordinate system is {file} in?"),
        Ask::Layer { .. } => format!("圖層 Which layer of {file}?"),
    };
    let mut decided: Option<bool> = None;
    egui::Window::new(title)
        .id(egui::Id::new("open_question"))
        .collapsible(false)
        .resizable(true)
        .default_width(560.0)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            ui.weak(q.path.display().to_string());
            match &q.ask {
                Ask::Crs { guesses, table } => crs_question(ui, guesses, table.as_deref(), s),
                Ask::Layer { available, message } => {
                    ui.label(message);
                    for (i, name) in available.iter().enumerate() {
                        ui.radio_value(&mut s.layer, i, name);
                    }
                }
            }
            ui.separator();
            let answer = answer(q, s);
            if let Err(e) = &answer {
                ui.colored_label(egui::Color32::from_rgb(190, 60, 40), e);
            }
            ui.horizontal(|ui| {
                if ui.add_enabled(answer.is_ok(), egui::Button::new("Open")).clicked() {
                    decided = Some(true);
                }
                if ui.button("Cancel").clicked() {
                    decided = Some(false);
                }
            });
        });
    match decided {
        Some(true) => {
            if let Ok(options) = answer(q, s) {
                cmds.write(AtlasCommand::OpenLayer(q.path.clone(), Box::new(options)));
                questions.0.remove(0);
            }
        }
        Some(false) => {
            info!("not opened: {}", q.path.display());
            questions.0.remove(0);
        }
        None => {}
    }
}

fn crs_question(
    ui: &mut Ui,
    guesses: &[crate::spatial::crs::CrsGuess],
    table: Option<&crate::formats::table::TablePreview>,
    s: &mut QuestionState,
) {
    if let Some(t) = table {
        ui.label("The table's first rows; check the coordinate columns:");
        preview_grid(ui, t);
        ui.horizontal(|ui| {
            for (label, col) in [("X / longitude:", &mut s.x), ("Y / latitude:", &mut s.y)] {
                ui.label(label);
                egui::ComboBox::from_id_salt(label)
                    .selected_text(t.headers.get(*col).cloned().unwrap_or_default())
                    .show_ui(ui, |ui| {
                        for (i, h) in t.headers.iter().enumerate() {
                            ui.selectable_value(col, i, h);
                        }
                    });
            }
        });
        if s.x == s.y {
            ui.weak("One column with both values (\"lon,lat\").");
        }
        for n in &t.notes {
            ui.weak(n);
        }
    }
    ui.label("The file does not say its coordinate system. Its numbers fit:");
    if guesses.is_empty() {
        ui.weak("none of the systems port-atlas knows; type one below");
    }
    for (i, g) in guesses.iter().take(8).enumerate() {
        let text = format!("{}  —  {} ({:.0} km from Suzhou)", g.crs, g.reason, g.distance_km);
        ui.radio_value(&mut s.choice, Some(i), text);
    }
    ui.horizontal(|ui| {
        ui.radio_value(&mut s.choice, None, "Other:");
        let r = ui.add(
            egui::TextEdit::singleline(&mut s.typed)
                .hint_text("EPSG:4549, gcj02, +proj=tmerc … +towgs84=…")
                .desired_width(320.0),
        );
        if r.gained_focus() || r.changed() {
            s.choice = None;
        }
    });
}

fn preview_grid(ui: &mut Ui, t: &crate::formats::table::TablePreview) {
    egui::ScrollArea::horizontal().max_height(150.0).show(ui, |ui| {
        egui::Grid::new("table_preview").striped(true).show(ui, |ui| {
            for h in &t.headers {
                ui.strong(h);
            }
            ui.end_row();
            for row in &t.rows {
                for c in row {
                    ui.label(c);
                }
                ui.end_row();
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::table::TablePreview;
    use crate::spatial::crs::CrsGuess;

    fn question() -> OpenQuestion {
        let preview = TablePreview {
            headers: vec!["企业名称".into(), "经度".into(), "纬度".into()],
            columns: Some(Columns::Pair(1, 2)),
            ..Default::default()
        };
        OpenQuestion {
            path: "企业.csv".into(),
            options: Default::default(),
            ask: Ask::Crs {
                guesses: vec![CrsGuess { crs: "gcj02".into(), reason: "web map".into(), distance_km: 3.0 }],
                table: Some(Box::new(preview)),
            },
        }
    }

    #[test]
    fn the_likeliest_answer_is_ready_and_opens_with_columns_and_system() {
        let q = question();
        let mut s = QuestionState::default();
        reset(&q, &mut s);
        let o = answer(&q, &s).unwrap();
        assert_eq!(o.crs.unwrap().label(), "GCJ-02");
        assert_eq!(o.columns, Some(("经度".into(), "纬度".into())));
    }

    #[test]
    fn a_typed_system_is_checked_before_opening() {
        let q = question();
        let mut s = QuestionState::default();
        reset(&q, &mut s);
        s.choice = None;
        s.typed = "Xian80".into();
        assert!(answer(&q, &s).unwrap_err().contains("EPSG:NNNN"));
        s.typed = "EPSG:4549".into();
        assert_eq!(answer(&q, &s).unwrap().crs.unwrap().epsg(), Some(4549));
    }
}
