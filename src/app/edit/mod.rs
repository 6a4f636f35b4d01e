//! Editing mode ([`AppMode::Edit`]): correct the atlas's features and draw new ones over the
//! basemap. Click a feature to edit it; drag a vertex to move it (a point's only vertex moves the
//! point), drag an edge's midpoint to insert a vertex, click a vertex and press Delete to remove
//! it; draw points, lines, polygons and holes; snap to visible features; undo and redo every step;
//! save to the user's data folder with provenance (see [`crate::edit`]).
//!
//! An edit that would leave a polygon crossing itself or a ring too short is refused, and the
//! reason is shown at the vertex. Steps change the atlas's layers at once and ask the layers
//! plugin to re-tessellate through [`AtlasCommand::FeaturesChanged`]; nothing is written until
//! the planner saves.

pub mod hit;
pub mod ui;

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;

use super::basemap::BasemapChoice;
use super::picking::pick_at;
use super::state::{AppMode, AtlasCommand, AtlasRes, LayerId, LayerView, Problems, Selection};
use super::view::{MapSet, MapView, PointerGesture, UiCapture};
use crate::edit::provenance::{self, EditContext};
use crate::edit::shape::{Shape, ShapeKind, VertexPath};
use crate::edit::snap::{self, Target};
use crate::edit::store::USER_LAYER;
use crate::edit::validate::validate;
use crate::edit::{EditSession, Step};
use crate::geodata::{Accuracy, Feature};
use crate::index::FeatureRef;
use hit::Handle;

/// What a click on the map does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tool {
    /// Select features and vertices; drag vertices and midpoints.
    #[default]
    Select,
    Point,
    Line,
    Polygon,
    /// A hole in the selected polygon.
    Hole,
}

impl Tool {
    pub fn draws(self) -> bool {
        self != Tool::Select
    }
}

/// A vertex being dragged: the shape as it would be, shown live, committed on release.
#[derive(Debug, Clone)]
pub struct Drag {
    pub target: FeatureRef,
    pub at: VertexPath,
    /// From a midpoint: the vertex is inserted on the first move.
    pub insert: bool,
    pub shape: Shape,
    pub moved: bool,
}

/// A refused edit, shown at the vertex where it happened until the next action.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub at: [f64; 2],
    pub reason: String,
}

/// The editor: the undo history, the tool, and what is under way.
#[derive(Resource)]
pub struct Editor {
    pub session: EditSession,
    pub tool: Tool,
    /// Snap to vertices and edges of visible features (hold Alt to place freely).
    pub snapping: bool,
    /// The points of a line, polygon or hole being drawn (lon/lat).
    pub drawing: Vec<[f64; 2]>,
    pub drag: Option<Drag>,
    /// The selected vertex of the selected feature (Delete removes it).
    pub vertex: Option<VertexPath>,
    pub rejection: Option<Rejection>,
    /// Where the pointer would land now (lon/lat), when it snapped.
    pub snapped: Option<[f64; 2]>,
    /// The last save's outcome, for the window.
    pub saved: Option<Result<String, String>>,
    /// The OS user, for provenance.
    pub editor: String,
    handled_press: Option<Vec2>,
    last_click: Option<(Vec2, f64)>,
    drawn: u32,
    /// Where new features go: `None` is the planner's own layer ("my edits").
    pub draw_layer: Option<usize>,
    /// The attribute form of the selected feature, as typed (see `ui`).
    pub form: Option<(FeatureRef, ui::Form)>,
    /// Requests from the keys and the window, carried out by [`requests`] this frame.
    pub pending: Vec<EditRequest>,
    /// The main window was asked to close with edits unsaved: the question is on screen.
    pub confirm_close: Option<Entity>,
    /// The planner's answer to that question.
    pub close_choice: Option<CloseChoice>,
}

/// What to do with unsaved edits when the main window closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseChoice {
    SaveAndClose,
    Discard,
    Cancel,
}

impl Default for Editor {
    fn default() -> Self {
        Editor {
            session: EditSession::default(),
            tool: Tool::Select,
            snapping: true,
            drawing: Vec::new(),
            drag: None,
            vertex: None,
            rejection: None,
            snapped: None,
            saved: None,
            editor: provenance::editor_name(),
            handled_press: None,
            last_click: None,
            drawn: 0,
            draw_layer: None,
            form: None,
            pending: Vec::new(),
            confirm_close: None,
            close_choice: None,
        }
    }
}

/// Requests from the edit window and the keys, carried out by the editor's systems.
#[derive(Debug, Clone, PartialEq)]
pub enum EditRequest {
    Undo,
    Redo,
    Save,
    FinishDrawing,
    CancelDrawing,
    DeleteVertex,
    /// New attributes for the selected feature.
    Attributes {
        hant: String,
        hans: String,
        en: String,
        kind: String,
        accuracy: Accuracy,
    },
}

pub struct EditPlugin;

impl Plugin for EditPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Editor>()
            .add_message::<bevy::window::WindowCloseRequested>()
            .add_systems(OnExit(AppMode::Edit), leave)
            .add_systems(
                Update,
                (
                    (keys, pointer).chain().run_if(in_state(AppMode::Edit)),
                    // Saving and closing are asked for outside editing too (quitting with edits unsaved).
                    requests,
                    guard_close,
                )
                    .chain()
                    .in_set(MapSet::Pick),
            );
    }
}

/// Leaving the mode ends what is under way; edits stay (and stay marked until saved).
fn leave(mut editor: ResMut<Editor>, mut gesture: ResMut<PointerGesture>) {
    editor.drawing.clear();
    editor.drag = None;
    editor.vertex = None;
    editor.rejection = None;
    editor.snapped = None;
    editor.tool = Tool::Select;
    gesture.held = false;
}

/// What an editing step needs besides the editor: the atlas, the view, and where to report.
#[derive(SystemParam)]
pub struct EditWorld<'w> {
    pub res: ResMut<'w, AtlasRes>,
    pub map: Res<'w, MapView>,
    pub view: Res<'w, LayerView>,
    pub selection: ResMut<'w, Selection>,
    pub basemap: Option<Res<'w, BasemapChoice>>,
    pub problems: ResMut<'w, Problems>,
    pub cmds: MessageWriter<'w, AtlasCommand>,
    pub time: Res<'w, Time>,
}

impl EditWorld<'_> {
    fn context(&self, editor: &Editor) -> EditContext {
        let (basemap, id) = match self.basemap.as_deref().and_then(|b| b.active.and_then(|i| b.choices.get(i))) {
            Some(s) => (s.title.clone(), Some(s.id)),
            None => ("none: the atlas's own outlines".to_string(), None),
        };
        let (_, lat) = self.res.frame.unproject(self.map.center.x, self.map.center.y);
        EditContext {
            editor: editor.editor.clone(),
            edited_at: provenance::now_rfc3339(),
            basemap,
            basemap_error_m: provenance::basemap_error_m(id),
            mercator_mpp: self.map.scale,
            lat,
        }
    }

    fn to_lonlat(&self, screen: Vec2) -> [f64; 2] {
        let w = self.map.screen_to_world(screen);
        let (lon, lat) = self.res.frame.unproject(w.x, w.y);
        [lon, lat]
    }

    pub fn to_screen(&self, p: [f64; 2]) -> Vec2 {
        let (x, y) = self.res.frame.project(p[0], p[1]);
        self.map.world_to_screen(bevy::math::DVec2::new(x, y))
    }

    /// The selected feature, when it can be edited (not the derived mentioned-places layer).
    fn target(&self) -> Option<(FeatureRef, &Feature)> {
        let r = self.selection.selected?;
        let layer = self.res.atlas.layers.get(r.layer as usize)?;
        if layer.id == crate::atlas::MENTIONED_LAYER {
            return None;
        }
        Some((r, layer.features.get(r.feature as usize)?))
    }

    /// The pointer's position snapped to visible features within 10 px, skipping the vertex
    /// being moved.
    fn snap(&self, screen: Vec2, skip: Option<(FeatureRef, VertexPath)>) -> ([f64; 2], bool) {
        let here = self.to_lonlat(screen);
        let w = self.map.screen_to_world(screen);
        let tol_m = 10.0 * self.map.scale;
        let there = self.to_lonlat(screen + Vec2::new(10.0, 0.0));
        let tol_deg = (there[0] - here[0]).abs();
        let frame = self.res.frame;
        let mut rings: Vec<(Vec<[f64; 2]>, bool)> = Vec::new();
        for r in self.res.index.near(here[0], here[1], tol_deg) {
            if !self.view.is_visible(LayerId(r.layer as usize)) {
                continue;
            }
            let Some(f) = self.res.atlas.feature(r) else { continue };
            let Ok(shape) = Shape::from_geometry(&f.geometry) else { continue };
            for (p, part) in shape.parts.iter().enumerate() {
                for (ri, ring) in part.iter().enumerate() {
                    let mut pts: Vec<[f64; 2]> = ring
                        .iter()
                        .map(|v| {
                            let (x, y) = frame.project(v[0], v[1]);
                            [x, y]
                        })
                        .collect();
                    let mut closed = shape.closed();
                    if let Some((sr, at)) = skip
                        && sr == r
                        && at.part == p
                        && at.ring == ri
                        && at.index < pts.len()
                    {
                        // The moving vertex and its edges are not targets: open the ring there.
                        pts.rotate_left(at.index + 1);
                        pts.pop();
                        closed = false;
                    }
                    rings.push((pts, closed));
                }
            }
        }
        let targets = rings.iter().map(|(points, closed)| Target { points, closed: *closed });
        match snap::snap([w.x, w.y], tol_m, targets) {
            Some(s) => {
                let (lon, lat) = frame.unproject(s.at[0], s.at[1]);
                ([lon, lat], true)
            }
            None => (here, false),
        }
    }

    /// Replaces a feature as one undoable step, stamped with provenance; refuses invalid shapes.
    fn commit_shape(&mut self, editor: &mut Editor, r: FeatureRef, shape: &Shape, label: &str, at: [f64; 2]) -> bool {
        if let Err(e) = validate(shape) {
            editor.rejection = Some(Rejection { at, reason: e.reason });
            return false;
        }
        let ctx = self.context(editor);
        let layer = &self.res.atlas.layers[r.layer as usize];
        let Some(before) = layer.features.get(r.feature as usize).cloned() else { return false };
        let mut after = before.clone();
        after.geometry = shape.to_geometry();
        provenance::stamp(&mut after, &ctx, &layer.id, true, layer.id != USER_LAYER);
        let step = Step {
            layer: r.layer as usize,
            index: r.feature as usize,
            before: Some(before),
            after: Some(after),
            label: label.into(),
        };
        editor.session.commit(&mut self.res.atlas.layers, step);
        editor.rejection = None;
        self.cmds.write(AtlasCommand::FeaturesChanged { layer: LayerId(r.layer as usize), names: false });
        true
    }

    /// A new feature in the drawing layer, selected once made.
    fn add_feature(&mut self, editor: &mut Editor, shape: &Shape) -> bool {
        let at = shape.vertices().last().map_or([0.0, 0.0], |(_, v)| v);
        if let Err(e) = validate(shape) {
            editor.rejection = Some(Rejection { at, reason: e.reason });
            return false;
        }
        let layer = match editor.draw_layer.filter(|&l| l < self.res.atlas.layers.len()) {
            Some(l) => l,
            None => self.res.atlas.user_layer(),
        };
        editor.drawn += 1;
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let kind = match shape.kind {
            ShapeKind::Point | ShapeKind::MultiPoint => "point",
            ShapeKind::Line | ShapeKind::MultiLine => "line",
            _ => "area",
        };
        let mut f = Feature {
            id: format!("edit-{secs}-{}", editor.drawn),
            name_zh_hant: String::new(),
            name_zh_hans: String::new(),
            name_en: String::new(),
            kind: kind.into(),
            accuracy: Accuracy::Unstated,
            source: format!("drawn in port-atlas by {}", editor.editor),
            extra: Default::default(),
            geometry: shape.to_geometry(),
        };
        let ctx = self.context(editor);
        let layer_id = self.res.atlas.layers[layer].id.clone();
        provenance::stamp(&mut f, &ctx, &layer_id, true, false);
        let index = self.res.atlas.layers[layer].features.len();
        let label = format!("draw {kind}");
        editor.session.commit(&mut self.res.atlas.layers, Step { layer, index, before: None, after: Some(f), label });
        editor.rejection = None;
        self.cmds.write(AtlasCommand::FeaturesChanged { layer: LayerId(layer), names: false });
        self.selection.selected = Some(FeatureRef { layer: layer as u32, feature: index as u32 });
        true
    }

    fn after_history(&mut self, step: Option<Step>, selection_follows: bool) {
        let Some(step) = step else { return };
        let names = step.before.as_ref().map(names_of) != step.after.as_ref().map(names_of);
        self.cmds.write(AtlasCommand::FeaturesChanged { layer: LayerId(step.layer), names });
        if selection_follows {
            let exists = self.res.atlas.layers.get(step.layer).is_some_and(|l| step.index < l.features.len());
            self.selection.selected =
                exists.then_some(FeatureRef { layer: step.layer as u32, feature: step.index as u32 });
        }
    }
}

fn names_of(f: &Feature) -> (&str, &str, &str) {
    (&f.name_zh_hant, &f.name_zh_hans, &f.name_en)
}

/// Ctrl+Z undo, Ctrl+Y or Ctrl+Shift+Z redo, Ctrl+S save, Delete removes the selected vertex (or,
/// while drawing, the last point), Enter finishes a drawing, Escape cancels it or deselects.
fn keys(
    keys: Option<Res<ButtonInput<KeyCode>>>,
    capture: Res<UiCapture>,
    mut editor: ResMut<Editor>,
    mut selection: ResMut<Selection>,
    mut mode: ResMut<NextState<AppMode>>,
) {
    let Some(k) = keys else { return };
    if capture.keyboard {
        return;
    }
    let out = &mut editor.pending;
    // A modifier released in the same frame still counts: on a slow frame (software rendering, a
    // busy machine) a quick Ctrl+Z arrives as press and release of both keys at once.
    let held = |keys: [KeyCode; 2]| k.any_pressed(keys) || k.any_just_released(keys);
    let ctrl = held([KeyCode::ControlLeft, KeyCode::ControlRight]) || held([KeyCode::SuperLeft, KeyCode::SuperRight]);
    let shift = held([KeyCode::ShiftLeft, KeyCode::ShiftRight]);
    if ctrl && k.just_pressed(KeyCode::KeyZ) {
        out.push(if shift { EditRequest::Redo } else { EditRequest::Undo });
    } else if ctrl && k.just_pressed(KeyCode::KeyY) {
        out.push(EditRequest::Redo);
    } else if ctrl && k.just_pressed(KeyCode::KeyS) {
        out.push(EditRequest::Save);
    } else if k.any_just_pressed([KeyCode::Delete, KeyCode::Backspace]) {
        out.push(EditRequest::DeleteVertex);
    } else if k.any_just_pressed([KeyCode::Enter, KeyCode::NumpadEnter]) {
        out.push(EditRequest::FinishDrawing);
    } else if k.just_pressed(KeyCode::Escape) {
        if !editor.drawing.is_empty() || editor.tool.draws() {
            editor.pending.push(EditRequest::CancelDrawing);
        } else if selection.selected.is_some() {
            selection.selected = None;
        } else {
            mode.set(AppMode::Browse);
        }
    }
}

/// Presses on handles start drags (the map does not pan), drags move the vertex live with
/// snapping, releases commit; clicks select features and vertices or add drawn points.
fn pointer(
    mut editor: ResMut<Editor>,
    mut world: EditWorld,
    mut gesture: ResMut<PointerGesture>,
    capture: Res<UiCapture>,
    keys: Option<Res<ButtonInput<KeyCode>>>,
) {
    let free = keys.is_some_and(|k| k.any_pressed([KeyCode::AltLeft, KeyCode::AltRight]));
    let snapping = editor.snapping && !free;
    // A new press: on a handle of the selected feature, the editor takes it.
    if gesture.press.is_some() && gesture.press != editor.handled_press {
        editor.handled_press = gesture.press;
        if let (Some(press), Tool::Select, false) = (gesture.press, editor.tool, capture.pointer)
            && let Some((r, f)) = world.target()
            && let Ok(shape) = Shape::from_geometry(&f.geometry)
            && let Some(h) = hit::handle_at(&shape, |p| world.to_screen(p), press)
        {
            let (at, insert) = match h {
                Handle::Vertex(at) => (at, false),
                Handle::Midpoint(at) => (at, true),
            };
            editor.drag = Some(Drag { target: r, at, insert, shape, moved: false });
            editor.vertex = (!insert).then_some(at);
            gesture.held = true;
        }
    }
    if gesture.press.is_none() {
        editor.handled_press = None;
    }
    // Dragging: the vertex follows the pointer.
    if let (Some(c), true) = (gesture.cursor, gesture.dragging)
        && let Some(mut drag) = editor.drag.take()
    {
        let skip = (!drag.insert || drag.moved).then_some((drag.target, drag.at));
        let (p, snapped) = if snapping { world.snap(c, skip) } else { (world.to_lonlat(c), false) };
        if drag.insert && !drag.moved {
            if let Ok(at) = drag.shape.insert_vertex(drag.at, p) {
                drag.at = at;
            }
        } else {
            let _ = drag.shape.move_vertex(drag.at, p);
        }
        drag.moved = true;
        editor.snapped = snapped.then_some(p);
        editor.drag = Some(drag);
    } else if editor.tool.draws()
        && let Some(c) = gesture.cursor
        && !capture.pointer
    {
        let (p, snapped) = if snapping { world.snap(c, None) } else { (world.to_lonlat(c), false) };
        editor.snapped = snapped.then_some(p);
    }
    // Released: commit what the drag made.
    if gesture.press.is_none()
        && let Some(drag) = editor.drag.take()
    {
        if drag.moved {
            let at = drag.shape.vertex(drag.at).unwrap_or([0.0, 0.0]);
            let label = if drag.insert { "insert vertex" } else { "move vertex" };
            if world.commit_shape(&mut editor, drag.target, &drag.shape, label, at) {
                editor.vertex = Some(drag.at);
            }
        }
        editor.snapped = None;
    }
    let Some(c) = gesture.clicked else { return };
    if capture.pointer || !world.map.viewport.contains(c) {
        return;
    }
    let now = world.time.elapsed_secs_f64();
    let double = editor.last_click.is_some_and(|first| hit::double_click(first, (c, now)));
    editor.last_click = Some((c, now));
    match editor.tool {
        Tool::Select => {
            // A click on a vertex handle selects the vertex (the press already did); elsewhere, a feature.
            let on_vertex = world.target().and_then(|(_, f)| Shape::from_geometry(&f.geometry).ok()).and_then(|s| {
                match hit::handle_at(&s, |p| world.to_screen(p), c) {
                    Some(Handle::Vertex(at)) => Some(at),
                    _ => None,
                }
            });
            editor.rejection = None;
            match on_vertex {
                Some(at) => editor.vertex = Some(at),
                None => {
                    editor.vertex = None;
                    let hit = pick_at(&world.res, &world.view, &world.map, c);
                    world.selection.selected = hit;
                }
            }
        }
        Tool::Point => {
            let (p, _) = if snapping { world.snap(c, None) } else { (world.to_lonlat(c), false) };
            let shape = Shape { kind: ShapeKind::Point, parts: vec![vec![vec![p]]] };
            world.add_feature(&mut editor, &shape);
        }
        Tool::Line | Tool::Polygon | Tool::Hole => {
            if double && !editor.drawing.is_empty() {
                finish_drawing(&mut editor, &mut world);
                return;
            }
            let (p, _) = if snapping { world.snap(c, None) } else { (world.to_lonlat(c), false) };
            if editor.drawing.last() != Some(&p) {
                editor.drawing.push(p);
            }
        }
    }
}

/// Ends a line, polygon or hole: validated, then one step.
fn finish_drawing(editor: &mut Editor, world: &mut EditWorld) {
    let points = std::mem::take(&mut editor.drawing);
    let last = points.last().copied().unwrap_or([0.0, 0.0]);
    match editor.tool {
        Tool::Line => {
            let shape = Shape { kind: ShapeKind::Line, parts: vec![vec![points.clone()]] };
            if !world.add_feature(editor, &shape) {
                editor.drawing = points;
            }
        }
        Tool::Polygon => {
            let shape = Shape { kind: ShapeKind::Polygon, parts: vec![vec![points.clone()]] };
            if !world.add_feature(editor, &shape) {
                editor.drawing = points;
            }
        }
        Tool::Hole => {
            let target = world.target().and_then(|(r, f)| Shape::from_geometry(&f.geometry).ok().map(|s| (r, s)));
            let Some((r, mut shape)) = target.filter(|(_, s)| s.kind.is_polygon()) else {
                editor.rejection = Some(Rejection { at: last, reason: "select a polygon to draw a hole in".into() });
                editor.drawing = points;
                return;
            };
            let Some(part) = points.first().and_then(|&p| shape.part_containing(p)) else {
                editor.rejection = Some(Rejection { at: last, reason: "a hole must start inside the polygon".into() });
                editor.drawing = points;
                return;
            };
            let _ = shape.add_hole(part, points.clone());
            if !world.commit_shape(editor, r, &shape, "draw hole", last) {
                editor.drawing = points;
            }
        }
        Tool::Select | Tool::Point => {}
    }
}

/// Carries out the window's and the keys' requests.
fn requests(mut editor: ResMut<Editor>, mut world: EditWorld) {
    for req in std::mem::take(&mut editor.pending) {
        match req {
            EditRequest::Undo => {
                let step = editor.session.undo(&mut world.res.atlas.layers).cloned();
                editor.vertex = None;
                editor.rejection = None;
                world.after_history(step, true);
            }
            EditRequest::Redo => {
                let step = editor.session.redo(&mut world.res.atlas.layers).cloned();
                editor.vertex = None;
                world.after_history(step, true);
            }
            EditRequest::Save => save(&mut editor, &mut world),
            EditRequest::FinishDrawing => finish_drawing(&mut editor, &mut world),
            EditRequest::CancelDrawing => {
                editor.drawing.clear();
                editor.tool = Tool::Select;
                editor.rejection = None;
            }
            EditRequest::DeleteVertex => {
                if editor.drawing.pop().is_some() {
                    continue;
                }
                let (Some(at), Some((r, f))) = (editor.vertex, world.target()) else { continue };
                let Ok(mut shape) = Shape::from_geometry(&f.geometry) else { continue };
                let pos = shape.vertex(at).unwrap_or([0.0, 0.0]);
                match shape.delete_vertex(at) {
                    Ok(()) => {
                        if world.commit_shape(&mut editor, r, &shape, "delete vertex", pos) {
                            editor.vertex = None;
                        }
                    }
                    Err(e) => editor.rejection = Some(Rejection { at: pos, reason: e.to_string() }),
                }
            }
            EditRequest::Attributes { hant, hans, en, kind, accuracy } => {
                let Some((r, f)) = world.target() else { continue };
                let mut after = f.clone();
                after.name_zh_hant = hant.trim().to_string();
                after.name_zh_hans = hans.trim().to_string();
                after.name_en = en.trim().to_string();
                after.kind = kind.trim().to_string();
                after.accuracy = accuracy;
                if after == *f {
                    continue;
                }
                let ctx = world.context(&editor);
                let layer = &world.res.atlas.layers[r.layer as usize];
                provenance::stamp(&mut after, &ctx, &layer.id, false, layer.id != USER_LAYER);
                let names = names_of(&after) != names_of(f);
                let step = Step {
                    layer: r.layer as usize,
                    index: r.feature as usize,
                    before: Some(f.clone()),
                    after: Some(after),
                    label: "edit attributes".into(),
                };
                editor.session.commit(&mut world.res.atlas.layers, step);
                world.cmds.write(AtlasCommand::FeaturesChanged { layer: LayerId(r.layer as usize), names });
            }
        }
    }
}

/// Closes windows when asked, except the main window while edits are unsaved: then the planner
/// chooses to save and close, close without saving, or keep working. A save that fails keeps the
/// window open, with the reason in the edit window and the problems list.
fn guard_close(
    mut commands: Commands,
    mut asked: MessageReader<bevy::window::WindowCloseRequested>,
    primary: Query<(), With<bevy::window::PrimaryWindow>>,
    mut editor: ResMut<Editor>,
    mut world: EditWorld,
) {
    for r in asked.read() {
        let unsaved = !editor.session.unsaved(&world.res.atlas.layers).is_empty();
        if unsaved && primary.get(r.window).is_ok() {
            editor.confirm_close = Some(r.window);
        } else {
            commands.entity(r.window).despawn();
        }
    }
    let (Some(window), Some(choice)) = (editor.confirm_close, editor.close_choice.take()) else { return };
    match choice {
        CloseChoice::Cancel => editor.confirm_close = None,
        CloseChoice::Discard => commands.entity(window).despawn(),
        CloseChoice::SaveAndClose => {
            save(&mut editor, &mut world);
            if matches!(editor.saved, Some(Ok(_))) {
                commands.entity(window).despawn();
            } else {
                editor.confirm_close = None;
            }
        }
    }
}

/// Saves every edited feature; on failure the edits stay in memory, marked unsaved, and the
/// reason is shown in the window and the problems list.
fn save(editor: &mut Editor, world: &mut EditWorld) {
    match world.res.atlas.save_edits() {
        Ok((path, n)) => {
            editor.session.mark_saved();
            editor.saved = Some(Ok(format!("saved {n} edited features to {}", path.display())));
        }
        Err(e) => {
            let path = world.res.atlas.edits_path().map(|p| p.display().to_string()).unwrap_or_default();
            let message = format!("cannot save the edits: {e}; they are kept here, unsaved");
            world.problems.error(&path, message.clone());
            editor.saved = Some(Err(format!("{path}: {message}")));
        }
    }
}

#[cfg(test)]
mod tests;
