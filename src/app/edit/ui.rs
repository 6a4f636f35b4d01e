//! The edit window (tools, history, the selected feature's attributes, saving) and what editing
//! draws over the map: the selected feature's vertices and midpoints, the shape being dragged or
//! drawn, the snap target, a refusal at its vertex, and every unsaved feature marked.

use bevy::math::DVec2;
use bevy_egui::egui::{self, Color32, Stroke};

use super::{EditRequest, Editor, Tool, hit};
use crate::app::state::{AtlasRes, Selection};
use crate::app::view::MapView;
use crate::edit::shape::Shape;
use crate::geodata::Accuracy;
use crate::index::FeatureRef;

/// The attribute form as typed, applied with *Apply*.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Form {
    pub hant: String,
    pub hans: String,
    pub en: String,
    pub kind: String,
    /// Metres, or "schematic", or empty for not stated.
    pub accuracy: String,
}

/// Reads the accuracy field: metres, `schematic`, or nothing.
pub fn parse_accuracy(s: &str) -> Result<Accuracy, String> {
    let t = s.trim().trim_start_matches('±').trim_end_matches('m').trim();
    match t.to_ascii_lowercase().as_str() {
        "" => Ok(Accuracy::Unstated),
        "schematic" | "示意" => Ok(Accuracy::Schematic),
        _ => match t.parse::<f64>() {
            Ok(m) if m.is_finite() && m > 0.0 => Ok(Accuracy::Metres(m)),
            _ => Err(format!("{s:?} is not metres (a positive number) or \"schematic\"")),
        },
    }
}

fn accuracy_text(a: Accuracy) -> String {
    match a {
        Accuracy::Metres(m) => format!("{m}"),
        Accuracy::Schematic => "schematic".into(),
        Accuracy::Unstated => String::new(),
    }
}

/// Unsaved work's colour: on the toolbar, the window and the map.
pub const UNSAVED: Color32 = Color32::from_rgb(0xe8, 0x59, 0x0c);
const INK: Color32 = Color32::from_rgb(0xc2, 0x25, 0x5c);

/// The editing window. Returns false when the planner leaves editing.
pub fn edit_window(
    ctx: &egui::Context,
    editor: &mut Editor,
    res: &AtlasRes,
    selection: &Selection,
    unsaved: usize,
    out: &mut Vec<EditRequest>,
) -> bool {
    let mut open = true;
    egui::Window::new("✏ 編輯 Edit").open(&mut open).default_width(320.0).default_pos([300.0, 40.0]).show(ctx, |ui| {
        ui.horizontal_wrapped(|ui| {
            for (tool, label, tip) in [
                (Tool::Select, "⬉ Select", "click a feature, then drag its vertices; drag a midpoint to add one"),
                (Tool::Point, "• Point", "click to place a point"),
                (Tool::Line, "╱ Line", "click the vertices; double-click or Enter finishes"),
                (Tool::Polygon, "⬟ Polygon", "click the vertices; double-click or Enter finishes"),
                (Tool::Hole, "◌ Hole", "in the selected polygon: click the hole's vertices, Enter finishes"),
            ] {
                if ui.selectable_label(editor.tool == tool, label).on_hover_text(tip).clicked() && editor.tool != tool {
                    editor.tool = tool;
                    editor.drawing.clear();
                }
            }
        });
        ui.horizontal(|ui| {
            let undo = editor.session.can_undo().map(str::to_string);
            let redo = editor.session.can_redo().map(str::to_string);
            if ui
                .add_enabled(undo.is_some(), egui::Button::new("⟲ Undo"))
                .on_hover_text(format!("Ctrl+Z: {}", undo.unwrap_or_default()))
                .clicked()
            {
                out.push(EditRequest::Undo);
            }
            if ui
                .add_enabled(redo.is_some(), egui::Button::new("⟳ Redo"))
                .on_hover_text(format!("Ctrl+Y: {}", redo.unwrap_or_default()))
                .clicked()
            {
                out.push(EditRequest::Redo);
            }
            if ui
                .add_enabled(unsaved > 0, egui::Button::new("💾 Save"))
                .on_hover_text("Ctrl+S: every edited feature, with its provenance")
                .clicked()
            {
                out.push(EditRequest::Save);
            }
            ui.checkbox(&mut editor.snapping, "Snap")
                .on_hover_text("to vertices and edges of visible layers; hold Alt to place freely");
        });
        if editor.tool.draws() {
            ui.horizontal(|ui| {
                ui.label(format!("{} points", editor.drawing.len()));
                if ui
                    .add_enabled(!editor.drawing.is_empty(), egui::Button::new("✔ Finish"))
                    .on_hover_text("Enter")
                    .clicked()
                {
                    out.push(EditRequest::FinishDrawing);
                }
                if ui.button("✖ Cancel").on_hover_text("Escape").clicked() {
                    out.push(EditRequest::CancelDrawing);
                }
            });
            if editor.tool != Tool::Hole {
                let layers: Vec<(Option<usize>, String)> = std::iter::once((None, "我的編輯 My edits".to_string()))
                    .chain(
                        res.atlas
                            .layers
                            .iter()
                            .enumerate()
                            .filter(|(_, l)| {
                                l.id != crate::atlas::MENTIONED_LAYER
                                    && l.id != crate::edit::store::USER_LAYER
                                    && l.provenance.is_some()
                            })
                            .map(|(i, l)| (Some(i), l.meta.title_en.clone())),
                    )
                    .collect();
                let current =
                    layers.iter().find(|(i, _)| *i == editor.draw_layer).map_or("", |(_, t)| t.as_str()).to_string();
                egui::ComboBox::from_label("into").selected_text(current).show_ui(ui, |ui| {
                    for (i, t) in &layers {
                        ui.selectable_value(&mut editor.draw_layer, *i, t);
                    }
                });
            }
        }
        if let Some(r) = &editor.rejection {
            ui.colored_label(Color32::from_rgb(0xc0, 0x20, 0x20), format!("✖ {}", r.reason));
        }
        ui.separator();
        match selection.selected.and_then(|r| res.atlas.feature(r).map(|f| (r, f))) {
            Some((r, f)) => {
                let layer = &res.atlas.layers[r.layer as usize];
                ui.label(format!("{} · {}", layer.meta.title_en, if f.id.is_empty() { "(no id)" } else { &f.id }));
                if layer.id == crate::atlas::MENTIONED_LAYER {
                    ui.weak("Mentioned places are drawn from the documents; edit the gazetteer instead.");
                } else {
                    attribute_form(ui, editor, r, f, out);
                    if editor.vertex.is_some() && ui.button("🗑 Delete vertex").on_hover_text("Delete").clicked() {
                        out.push(EditRequest::DeleteVertex);
                    }
                }
            }
            None => {
                ui.weak("Click a feature to edit it, or pick a tool to draw.");
            }
        }
        ui.separator();
        ui.horizontal(|ui| {
            if unsaved > 0 {
                ui.colored_label(UNSAVED, format!("● {unsaved} unsaved"));
            } else {
                ui.weak("all saved");
            }
        });
        if let Some(path) = res.atlas.edits_path() {
            ui.weak(format!("to {}", path.display()));
        }
        match &editor.saved {
            Some(Ok(m)) => {
                ui.weak(m);
            }
            Some(Err(m)) => {
                ui.colored_label(Color32::from_rgb(0xc0, 0x20, 0x20), m);
            }
            None => {}
        }
    });
    open
}

/// The question when the main window closes with edits unsaved.
pub fn close_dialog(ctx: &egui::Context, editor: &mut Editor, unsaved: usize) {
    if editor.confirm_close.is_none() {
        return;
    }
    egui::Modal::new(egui::Id::new("unsaved-edits")).show(ctx, |ui| {
        ui.heading("未儲存的編輯 Unsaved edits");
        ui.label(format!("{unsaved} edited features are not saved yet."));
        ui.horizontal(|ui| {
            if ui.button("💾 Save and quit").clicked() {
                editor.close_choice = Some(super::CloseChoice::SaveAndClose);
            }
            if ui.button("Quit without saving").clicked() {
                editor.close_choice = Some(super::CloseChoice::Discard);
            }
            if ui.button("Cancel").clicked() {
                editor.close_choice = Some(super::CloseChoice::Cancel);
            }
        });
    });
}

fn attribute_form(
    ui: &mut egui::Ui,
    editor: &mut Editor,
    r: FeatureRef,
    f: &crate::geodata::Feature,
    out: &mut Vec<EditRequest>,
) {
    let fresh = || Form {
        hant: f.name_zh_hant.clone(),
        hans: f.name_zh_hans.clone(),
        en: f.name_en.clone(),
        kind: f.kind.clone(),
        accuracy: accuracy_text(f.accuracy),
    };
    if editor.form.as_ref().is_none_or(|(at, _)| *at != r) {
        editor.form = Some((r, fresh()));
    }
    let Some((_, form)) = editor.form.as_mut() else { return };
    egui::Grid::new("edit-attributes").num_columns(2).show(ui, |ui| {
        for (label, value) in [
            ("繁體 name", &mut form.hant),
            ("简体 name", &mut form.hans),
            ("English", &mut form.en),
            ("Kind", &mut form.kind),
            ("Accuracy (m)", &mut form.accuracy),
        ] {
            ui.label(label);
            ui.text_edit_singleline(value);
            ui.end_row();
        }
    });
    let accuracy = parse_accuracy(&form.accuracy);
    if let Err(e) = &accuracy {
        ui.colored_label(Color32::from_rgb(0xc0, 0x20, 0x20), e);
    }
    let changed = *form != fresh();
    ui.horizontal(|ui| {
        if ui.add_enabled(changed && accuracy.is_ok(), egui::Button::new("Apply")).clicked()
            && let Ok(accuracy) = accuracy
        {
            out.push(EditRequest::Attributes {
                hant: form.hant.clone(),
                hans: form.hans.clone(),
                en: form.en.clone(),
                kind: form.kind.clone(),
                accuracy,
            });
        }
        if ui.add_enabled(changed, egui::Button::new("Revert")).clicked() {
            *form = fresh();
        }
    });
    if let Some(by) = f.extra.get(crate::edit::provenance::keys::EDITED_BY).and_then(|v| v.as_str()) {
        let at = f.extra.get(crate::edit::provenance::keys::EDITED_AT).and_then(|v| v.as_str()).unwrap_or("");
        ui.weak(format!("edited by {by} at {at}"));
    }
}

fn screen(map: &MapView, res: &AtlasRes, p: [f64; 2]) -> egui::Pos2 {
    let (x, y) = res.frame.project(p[0], p[1]);
    let s = map.world_to_screen(DVec2::new(x, y));
    egui::pos2(s.x, s.y)
}

/// Every ring or line of a shape on screen, polygon rings closed again.
fn screen_rings<'a>(
    shape: &'a Shape,
    to: &'a impl Fn([f64; 2]) -> egui::Pos2,
) -> impl Iterator<Item = Vec<egui::Pos2>> + 'a {
    shape.parts.iter().flatten().map(move |ring| {
        let mut pts: Vec<egui::Pos2> = ring.iter().map(|&p| to(p)).collect();
        if shape.closed() && pts.len() > 2 {
            pts.push(pts[0]);
        }
        pts
    })
}

fn outline(painter: &egui::Painter, shape: &Shape, to: &impl Fn([f64; 2]) -> egui::Pos2, stroke: Stroke) {
    for pts in screen_rings(shape, to) {
        if pts.len() == 1 {
            painter.circle_stroke(pts[0], 6.0, stroke);
        } else {
            painter.add(egui::Shape::line(pts, stroke));
        }
    }
}

/// What editing draws over the map.
pub fn draw_overlay(
    ctx: &egui::Context,
    central: egui::Rect,
    map: &MapView,
    res: &AtlasRes,
    selection: &Selection,
    editor: &Editor,
    unsaved: &[(usize, Option<usize>)],
) {
    let painter = ctx
        .layer_painter(egui::LayerId::new(egui::Order::Middle, egui::Id::new("edit-overlay")))
        .with_clip_rect(central);
    let to = |p: [f64; 2]| screen(map, res, p);
    // Unsaved features: a dashed orange outline and a dot, wherever they are.
    for &(layer, index) in unsaved {
        let Some(f) = index.and_then(|i| res.atlas.layers.get(layer)?.features.get(i)) else { continue };
        let Ok(shape) = Shape::from_geometry(&f.geometry) else { continue };
        for pts in screen_rings(&shape, &to) {
            painter.extend(egui::Shape::dashed_line(&pts, Stroke::new(2.0, UNSAVED), 6.0, 4.0));
        }
        if let Some((_, v)) = shape.vertices().next() {
            painter.circle_filled(to(v) + egui::vec2(-10.0, -10.0), 4.0, UNSAVED);
        }
    }
    // The selected feature (or the shape being dragged), its vertices and midpoints.
    let target = selection
        .selected
        .filter(|r| res.atlas.layers.get(r.layer as usize).is_some_and(|l| l.id != crate::atlas::MENTIONED_LAYER));
    let shape = match (&editor.drag, target) {
        (Some(d), _) => Some(d.shape.clone()),
        (None, Some(r)) => res.atlas.feature(r).and_then(|f| Shape::from_geometry(&f.geometry).ok()),
        _ => None,
    };
    if let Some(shape) = &shape {
        outline(&painter, shape, &to, Stroke::new(2.0, INK));
        let visible = |p: egui::Pos2| central.expand(10.0).contains(p);
        let vertices: Vec<_> = shape.vertices().map(|(at, v)| (at, to(v))).filter(|(_, p)| visible(*p)).collect();
        // Thousands of handles would hide the outline they edit: midpoints only when few.
        if vertices.len() < 1500 {
            let bv = |p: [f64; 2]| {
                let q = to(p);
                bevy::math::Vec2::new(q.x, q.y)
            };
            for (_, m) in hit::midpoints(shape, &bv) {
                let m = egui::pos2(m.x, m.y);
                if visible(m) {
                    painter.circle(m, 3.0, Color32::from_white_alpha(200), Stroke::new(1.0, INK));
                }
            }
        }
        for (at, p) in vertices {
            let selected = editor.vertex == Some(at);
            painter.circle(
                p,
                if selected { 6.0 } else { 4.5 },
                if selected { INK } else { Color32::WHITE },
                Stroke::new(2.0, INK),
            );
        }
    }
    // A drawing under way, with a rubber band to the pointer.
    if !editor.drawing.is_empty() {
        let mut pts: Vec<egui::Pos2> = editor.drawing.iter().map(|&p| to(p)).collect();
        if let Some(c) = ctx.pointer_hover_pos().filter(|p| central.contains(*p)) {
            pts.push(editor.snapped.map_or(c, to));
        }
        if matches!(editor.tool, Tool::Polygon | Tool::Hole) && pts.len() > 2 {
            painter.line_segment([pts[pts.len() - 1], pts[0]], Stroke::new(1.0, INK.gamma_multiply(0.5)));
        }
        painter.add(egui::Shape::line(pts.clone(), Stroke::new(2.0, INK)));
        for p in &pts[..editor.drawing.len()] {
            painter.circle(*p, 4.0, Color32::WHITE, Stroke::new(2.0, INK));
        }
    }
    if let Some(s) = editor.snapped {
        painter.circle_stroke(to(s), 8.0, Stroke::new(2.0, Color32::from_rgb(0xae, 0x3e, 0xc9)));
    }
    // A refusal, at the vertex where it happened.
    if let Some(r) = &editor.rejection {
        let p = to(r.at);
        painter.circle_stroke(p, 9.0, Stroke::new(2.5, Color32::from_rgb(0xc0, 0x20, 0x20)));
        let galley =
            painter.layout_no_wrap(format!("✖ {}", r.reason), egui::FontId::proportional(13.0), Color32::WHITE);
        let rect = egui::Rect::from_min_size(p + egui::vec2(12.0, -24.0), galley.size()).expand(4.0);
        painter.rect_filled(rect, 3.0, Color32::from_rgb(0xc0, 0x20, 0x20));
        painter.galley(rect.min + egui::vec2(4.0, 4.0), galley, Color32::WHITE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_is_metres_schematic_or_unstated() {
        assert_eq!(parse_accuracy("±250 m"), Ok(Accuracy::Metres(250.0)));
        assert_eq!(parse_accuracy(" schematic "), Ok(Accuracy::Schematic));
        assert_eq!(parse_accuracy(""), Ok(Accuracy::Unstated));
        assert!(parse_accuracy("-3").is_err() && parse_accuracy("near the lake").is_err());
    }
}
