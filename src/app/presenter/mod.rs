//! Presenter mode: the document as a story of steps, driven by keys or a presentation clicker,
//! with the camera flying (out, across, in) to the places each step names (`flight`), a
//! speaker window (`speaker`) and slides saved at twice the resolution (`slide`).

mod flight;
mod slide;
mod speaker;

use bevy::math::DVec2;
use bevy::prelude::*;
use bevy::window::{MonitorSelection, PrimaryWindow, WindowMode};

pub use self::flight::{FLIGHT_SECONDS, Flight};
use self::slide::{SlideCapture, slide_export};
pub use self::speaker::{SpeakerPass, SpeakerView};
use self::speaker::{speaker_ui, speaker_window};
use super::state::{AppMode, AtlasRes, LayerView, Selection};
use super::view::{MapSet, MapView, PointerGesture, UiCapture};
use crate::index::FeatureRef;
use crate::story::{self, Step, Story};

/// The presentation: its story, where it is, and what the keys have asked for. Whether a
/// presentation is running is [`AppMode::Present`], not a field here.
#[derive(Resource, Debug, Clone)]
pub struct Presenter {
    pub story: Story,
    /// Index into the shown (not skipped) steps.
    pub index: usize,
    /// Digits typed before Enter, to jump to a step.
    pub digits: String,
    pub blackout: bool,
    /// Wanted full-screen state (F11 / Esc).
    pub fullscreen: bool,
    pub flight: Option<Flight>,
    /// Jump without flying (screenshots, tests).
    pub instant: bool,
    /// The step the app was launched at: shown at once, not flown to from the whole-atlas view
    /// (which would also fetch basemap tiles for views on the way).
    opening: bool,
    /// Set when the step changed and the camera should go to it.
    go_to_step: bool,
    labels_before: Option<bool>,
    /// The story editor's last message (saved, failed).
    pub status: Option<String>,
    /// Whether the speaker view (a second window) is wanted.
    pub speaker_view: bool,
    /// When the presentation started, for the speaker view's timer.
    pub started: Option<std::time::Instant>,
    /// P: save the current view as a slide at twice the window's resolution.
    pub export_slide: bool,
    /// A slide export under way.
    slide: Option<SlideCapture>,
}

/// What a frame's keys did to the presentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyEffect {
    /// Some key was for the presenter.
    pub used: bool,
    /// Esc outside full screen: end the presentation.
    pub leave: bool,
}

impl Presenter {
    pub fn new(story: Story) -> Self {
        Presenter {
            story,
            index: 0,
            digits: String::new(),
            blackout: false,
            fullscreen: false,
            flight: None,
            instant: false,
            opening: false,
            go_to_step: false,
            labels_before: None,
            status: None,
            speaker_view: false,
            started: None,
            export_slide: false,
            slide: None,
        }
    }

    pub fn steps(&self) -> Vec<&Step> {
        self.story.shown().collect()
    }

    pub fn len(&self) -> usize {
        self.story.shown().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn current(&self) -> Option<&Step> {
        self.story.shown().nth(self.index)
    }

    /// Moves to step `i` (clamped); returns whether it changed.
    pub fn go(&mut self, i: usize) -> bool {
        let i = i.min(self.len().saturating_sub(1));
        let changed = i != self.index;
        self.index = i;
        self.go_to_step = true;
        changed
    }

    /// Starts presenting at 0-based step `i` (the caller enters [`AppMode::Present`]).
    pub fn start(&mut self, i: usize) {
        self.started = Some(std::time::Instant::now());
        self.index = i.min(self.len().saturating_sub(1));
        self.go_to_step = true;
    }

    /// Applies this frame's keys.
    pub fn handle_keys(&mut self, keys: &ButtonInput<KeyCode>) -> KeyEffect {
        let mut effect = KeyEffect::default();
        let digit = |k: KeyCode| -> Option<char> {
            use KeyCode::*;
            Some(match k {
                Digit0 | Numpad0 => '0',
                Digit1 | Numpad1 => '1',
                Digit2 | Numpad2 => '2',
                Digit3 | Numpad3 => '3',
                Digit4 | Numpad4 => '4',
                Digit5 | Numpad5 => '5',
                Digit6 | Numpad6 => '6',
                Digit7 | Numpad7 => '7',
                Digit8 | Numpad8 => '8',
                Digit9 | Numpad9 => '9',
                _ => return None,
            })
        };
        // Keys pressed in the same frame come unordered; "1", "2", Enter typed fast must still
        // mean "jump to 12", so digits go first and Enter last.
        let mut pressed: Vec<KeyCode> = keys.get_just_pressed().copied().collect();
        pressed.sort_by_key(|k| match k {
            k if digit(*k).is_some() => 0,
            KeyCode::Enter | KeyCode::NumpadEnter => 2,
            _ => 1,
        });
        for k in &pressed {
            effect.used = true;
            if let Some(d) = digit(*k) {
                self.digits.push(d);
                continue;
            }
            match k {
                KeyCode::Enter | KeyCode::NumpadEnter if !self.digits.is_empty() => {
                    if let Ok(n) = self.digits.parse::<usize>() {
                        self.go(n.saturating_sub(1));
                    }
                    self.digits.clear();
                }
                KeyCode::ArrowRight | KeyCode::PageDown | KeyCode::Space | KeyCode::Enter | KeyCode::NumpadEnter => {
                    self.go(self.index + 1);
                }
                KeyCode::ArrowLeft | KeyCode::PageUp | KeyCode::Backspace => {
                    self.go(self.index.saturating_sub(1));
                }
                KeyCode::Home => {
                    self.go(0);
                }
                KeyCode::End => {
                    self.go(usize::MAX);
                }
                KeyCode::KeyB | KeyCode::Period => self.blackout = !self.blackout,
                KeyCode::KeyS => self.speaker_view = !self.speaker_view,
                KeyCode::KeyP => self.export_slide = true,
                // Back to the step's own view after panning around.
                KeyCode::KeyR => self.go_to_step = true,
                KeyCode::F11 => self.fullscreen = !self.fullscreen,
                KeyCode::Escape => {
                    if self.fullscreen {
                        self.fullscreen = false;
                    } else {
                        effect.leave = true;
                    }
                }
                _ => effect.used = false,
            }
            if !matches!(k, KeyCode::Enter | KeyCode::NumpadEnter) {
                self.digits.clear();
            }
        }
        effect
    }
}

/// Opens presenter mode from the UI.
#[derive(Message, Debug, Clone, Copy)]
pub struct StartPresenting;

pub struct PresenterPlugin {
    /// Start presenting at this 1-based step (`--present [--step N]`).
    pub start: Option<usize>,
    /// Whether to go full-screen when presenting (not for screenshots).
    pub fullscreen: bool,
}

impl Plugin for PresenterPlugin {
    fn build(&self, app: &mut App) {
        let story = {
            let res = app.world().resource::<AtlasRes>();
            load_story(res)
        };
        let mut p = Presenter::new(story);
        p.instant = !self.fullscreen;
        if let Some(n) = self.start {
            p.start(n.saturating_sub(1));
            p.opening = true;
            p.fullscreen = self.fullscreen;
            // A laptop driving a projector wants its notes; a headless render does not.
            p.speaker_view = self.fullscreen;
            app.insert_state(AppMode::Present);
        }
        app.insert_resource(p)
            .add_message::<StartPresenting>()
            .add_systems(SpeakerPass, speaker_ui)
            .add_systems(OnExit(AppMode::Present), leave)
            .add_systems(
                Update,
                (
                    // From editing too: the edits stay, marked if unsaved, and the presentation shows them.
                    start_from_ui.run_if(in_state(AppMode::Browse).or_else(in_state(AppMode::Edit))),
                    (keys, to_step).chain().run_if(in_state(AppMode::Present)),
                    // A flight under way still lands after the presentation ends.
                    fly,
                    window_mode,
                    speaker_window,
                    slide_export,
                )
                    .chain()
                    .in_set(MapSet::Present),
            );
    }
}

/// Where the first document's story is saved: beside the document, or for the built-in report
/// (which has no folder) in the working folder.
pub fn story_file(res: &AtlasRes) -> std::path::PathBuf {
    let Some(doc) = res.atlas.documents.first() else { return "story.json".into() };
    if doc.path.starts_with(crate::atlas::BUILTIN_PREFIX) {
        let name = doc.path.file_name().map(std::path::PathBuf::from).unwrap_or_else(|| "report.txt".into());
        story::story_path(&name)
    } else {
        story::story_path(&doc.path)
    }
}

/// The story for the first document: a saved one if there is one, else generated.
pub fn load_story(res: &AtlasRes) -> Story {
    let Some(doc) = res.atlas.documents.first() else {
        return Story { document: String::new(), steps: Vec::new() };
    };
    let name = doc.path.file_name().and_then(|n| n.to_str()).unwrap_or(&doc.id).to_string();
    match Story::load(&story_file(res), &name) {
        Ok(Some(s)) => return s,
        Ok(None) => {}
        Err(e) => warn!("{e}; using the generated story"),
    }
    story::generate(&res.atlas, 0)
}

fn start_from_ui(
    mut msgs: MessageReader<StartPresenting>,
    mut p: ResMut<Presenter>,
    mut mode: ResMut<NextState<AppMode>>,
) {
    if msgs.read().count() > 0 {
        let i = p.index;
        p.start(i);
        p.fullscreen = !p.instant;
        mode.set(AppMode::Present);
    }
}

/// Leaving a presentation: labels as they were, no emphasis, no next step to fetch tiles for.
/// `heading` belongs to `fly`: a flight under way still lands.
fn leave(
    mut p: ResMut<Presenter>,
    mut view: ResMut<LayerView>,
    mut selection: ResMut<Selection>,
    mut map: ResMut<MapView>,
) {
    if let Some(before) = p.labels_before.take() {
        view.labels = before;
    }
    if !selection.emphasized.is_empty() {
        selection.emphasized.clear();
    }
    if map.upcoming.is_some() {
        map.upcoming = None;
    }
}

fn keys(
    keys: Res<ButtonInput<KeyCode>>,
    capture: Res<UiCapture>,
    mut p: ResMut<Presenter>,
    mut view: ResMut<LayerView>,
    mut mode: ResMut<NextState<AppMode>>,
) {
    if capture.keyboard {
        return;
    }
    if keys.just_pressed(KeyCode::KeyL) {
        view.labels = !view.labels;
        if p.labels_before.is_none() {
            p.labels_before = Some(!view.labels);
        }
    }
    if p.handle_keys(&keys).leave {
        mode.set(AppMode::Browse);
    }
}

/// When the step changes: emphasise its places and fly to its view.
fn to_step(mut p: ResMut<Presenter>, res: Res<AtlasRes>, mut selection: ResMut<Selection>, mut map: ResMut<MapView>) {
    if !p.go_to_step {
        return;
    }
    p.go_to_step = false;
    let Some(step) = p.current().cloned() else { return };
    let emphasized: Vec<FeatureRef> = step.places.iter().filter_map(|id| res.atlas.feature_of(id)).collect();
    if selection.emphasized != emphasized {
        selection.emphasized = emphasized;
    }
    // The next step's view, so its basemap tiles are on hand before the presenter gets there.
    let next = p.story.shown().nth(p.index + 1).and_then(Step::effective_view);
    map.upcoming = next.map(|v| view_of(&map, &res, v));
    let Some(view) = step.effective_view() else { return };
    let to = view_of(&map, &res, view);
    let from = (map.center, map.scale);
    let dist = (to.0 - from.0).length();
    let span = map.viewport.width().min(map.viewport.height()).max(100.0) as f64 * 0.9;
    let peak = from.1.max(to.1).max(dist / span);
    let jump = p.instant || std::mem::take(&mut p.opening);
    p.flight = Some(Flight { from, to, peak, t: if jump { 1.0 } else { 0.0 } });
}

/// Centre and scale that frame a step's lon/lat bounds in the current viewport.
fn view_of(map: &MapView, res: &AtlasRes, [w, s, e, n]: [f64; 4]) -> (DVec2, f64) {
    let mut dest = map.clone();
    dest.fit_lonlat(&res.frame, geo::Rect::new((w, s), (e, n)), 40.0);
    (dest.target_center, dest.target_scale)
}

fn fly(
    time: Res<Time>,
    mut p: ResMut<Presenter>,
    mut map: ResMut<MapView>,
    gesture: Res<PointerGesture>,
    res: Res<AtlasRes>,
) {
    let Some(mut f) = p.flight else { return };
    if gesture.dragging {
        // The presenter grabbed the map: stop flying, leave the view to the mouse.
        p.flight = None;
        map.heading = None;
        return;
    }
    map.heading = Some(f.to);
    f.t += time.delta_secs() / FLIGHT_SECONDS;
    let (c, s) = f.at(f.t);
    map.center = c;
    map.scale = s;
    map.target_center = c;
    map.target_scale = s;
    if f.t >= 1.0 {
        p.flight = None;
        map.heading = None;
        // Keep the step framed if the window changes size.
        if let Some([w, so, e, n]) = p.current().and_then(Step::effective_view) {
            let frame = res.frame;
            map.fit_lonlat(&frame, geo::Rect::new((w, so), (e, n)), 40.0);
            map.snap();
        }
    } else {
        p.flight = Some(f);
    }
}

fn window_mode(p: Res<Presenter>, mode: Res<State<AppMode>>, mut window: Single<&mut Window, With<PrimaryWindow>>) {
    if !p.is_changed() && !mode.is_changed() {
        return;
    }
    let want = if *mode.get() == AppMode::Present && p.fullscreen {
        WindowMode::BorderlessFullscreen(MonitorSelection::Current)
    } else {
        WindowMode::Windowed
    };
    if window.mode != want {
        window.mode = want;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presenter() -> Presenter {
        let atlas = crate::atlas::Atlas::builtin();
        let mut p = Presenter::new(story::generate(&atlas, 0));
        p.start(0);
        p
    }

    fn press(p: &mut Presenter, ks: &[KeyCode]) -> KeyEffect {
        let mut last = KeyEffect::default();
        for k in ks {
            let mut input = ButtonInput::<KeyCode>::default();
            input.press(*k);
            last = p.handle_keys(&input);
        }
        last
    }

    #[test]
    fn clicker_keys_step_jump_and_clamp() {
        let mut p = presenter();
        let n = p.len();
        press(&mut p, &[KeyCode::ArrowRight, KeyCode::PageDown, KeyCode::Space, KeyCode::Enter]);
        assert_eq!(p.index, 4);
        press(&mut p, &[KeyCode::ArrowLeft, KeyCode::PageUp]);
        assert_eq!(p.index, 2);
        press(&mut p, &[KeyCode::End]);
        assert_eq!(p.index, n - 1);
        press(&mut p, &[KeyCode::ArrowRight]);
        assert_eq!(p.index, n - 1, "clamped at the end");
        press(&mut p, &[KeyCode::Home]);
        assert_eq!(p.index, 0);
        press(&mut p, &[KeyCode::Digit1, KeyCode::Digit2, KeyCode::Enter]);
        assert_eq!(p.index, 11, "12 then Enter jumps to step 12");
        // The same keys arriving within one frame (a fast typist, a clicker macro): their order
        // inside the frame is unknown, so "15" or "51" (clamped to the end) are both right, but
        // Enter must not act as "next" before the digits are in.
        let mut input = ButtonInput::<KeyCode>::default();
        for k in [KeyCode::Enter, KeyCode::Digit5, KeyCode::Digit1] {
            input.press(k);
        }
        p.handle_keys(&input);
        assert!(p.index == 14 || p.index == 50usize.min(p.len() - 1), "digits before Enter: {}", p.index);
        press(&mut p, &[KeyCode::KeyB]);
        assert!(p.blackout);
        press(&mut p, &[KeyCode::F11]);
        assert!(p.fullscreen);
        let esc = press(&mut p, &[KeyCode::Escape]);
        assert!(!p.fullscreen && !esc.leave, "Esc leaves full screen first");
        assert!(press(&mut p, &[KeyCode::Escape]).leave, "then ends the presentation");
    }

    #[test]
    fn flights_zoom_out_between_distant_steps_and_land_exactly() {
        let f = Flight { from: (DVec2::ZERO, 10.0), to: (DVec2::new(100_000.0, 0.0), 10.0), peak: 120.0, t: 0.0 };
        let (c0, s0) = f.at(0.0);
        assert!(c0.length() < 1e-9 && (s0 - 10.0).abs() < 1e-9);
        let (c, s) = f.at(1.0);
        assert!((c - DVec2::new(100_000.0, 0.0)).length() < 1e-6 && (s - 10.0).abs() < 1e-9);
        let (_, mid) = f.at(0.5);
        assert!((mid - 120.0).abs() < 1e-6, "zoomed out to the peak mid-flight: {mid}");
    }

    /// The built-in atlas and the resources the presenter's systems read, under MinimalPlugins;
    /// the test inserts the presenter after setting it up.
    fn presenter_app() -> (App, Presenter) {
        let mut app = crate::app::state::minimal_app();
        app.insert_resource(MapView { viewport: bevy::math::Rect::new(0.0, 0.0, 1200.0, 800.0), ..default() })
            .init_resource::<UiCapture>()
            .init_resource::<PointerGesture>()
            .init_resource::<ButtonInput<KeyCode>>();
        let p = Presenter::new(load_story(app.world().resource::<AtlasRes>()));
        (app, p)
    }

    #[test]
    fn the_opening_step_is_shown_at_once_and_later_steps_fly() {
        let (mut app, mut p) = presenter_app();
        p.start(6);
        p.opening = true;
        app.insert_resource(p)
            .insert_state(AppMode::Present)
            .add_systems(OnExit(AppMode::Present), leave)
            .add_systems(Update, ((keys, to_step).chain().run_if(in_state(AppMode::Present)), fly).chain());
        app.update();
        let map = app.world().resource::<MapView>().clone();
        let step = app.world().resource::<Presenter>().current().unwrap().effective_view().unwrap();
        let want = view_of(&map, app.world().resource::<AtlasRes>(), step);
        assert!(app.world().resource::<Presenter>().flight.is_none(), "landed in the first frame");
        assert!((map.center - want.0).length() < 1.0 && (map.scale / want.1 - 1.0).abs() < 1e-6);
        // The next step is flown to.
        let far =
            app.world().resource::<Presenter>().steps().iter().position(|s| s.places.iter().any(|p| p == "shanghai"));
        app.world_mut().resource_mut::<Presenter>().go(far.unwrap());
        app.update();
        assert!(app.world().resource::<Presenter>().flight.is_some(), "flying");
    }

    #[test]
    fn steps_emphasise_their_places_under_minimal_plugins() {
        let (mut app, mut p) = presenter_app();
        p.instant = true;
        p.start(0);
        app.insert_resource(p)
            .insert_state(AppMode::Present)
            .add_systems(OnExit(AppMode::Present), leave)
            .add_systems(Update, ((keys, to_step).chain().run_if(in_state(AppMode::Present)), fly).chain());
        app.update();
        app.update();
        // Step 1 is line 1: Taicang.
        let taicang = app.world().resource::<AtlasRes>().atlas.feature_of("taicang").unwrap();
        assert_eq!(app.world().resource::<Selection>().emphasized, vec![taicang]);
        // The port-areas step: all four emphasised, and the camera frames them.
        let i = app
            .world()
            .resource::<Presenter>()
            .steps()
            .iter()
            .position(|s| s.places.iter().any(|p| p == "changshu-port"))
            .unwrap();
        app.world_mut().resource_mut::<Presenter>().go(i);
        app.update();
        app.update();
        assert_eq!(app.world().resource::<Selection>().emphasized.len(), 4);
        let map = app.world().resource::<MapView>().clone();
        let res = app.world().resource::<AtlasRes>();
        let (lon, lat) = res.frame.unproject(map.center.x, map.center.y);
        assert!((120.2..121.5).contains(&lon) && (30.8..32.2).contains(&lat), "{lon},{lat}");
        // Landed: no heading; the next step's view is known, for the basemap to fetch ahead.
        let next = app.world().resource::<Presenter>().steps()[i + 1].effective_view().unwrap();
        assert_eq!((map.heading, map.upcoming), (None, Some(view_of(&map, res, next))));
        // Keys arrive through Bevy's input resource: Right moves on one step.
        app.world_mut().resource_mut::<ButtonInput<KeyCode>>().press(KeyCode::ArrowRight);
        app.update();
        assert_eq!(app.world().resource::<Presenter>().index, i + 1);
        app.world_mut().resource_mut::<ButtonInput<KeyCode>>().release(KeyCode::ArrowRight);
        app.world_mut().resource_mut::<ButtonInput<KeyCode>>().clear();
        // In flight, the destination is known while the camera is still on its way.
        let far =
            app.world().resource::<Presenter>().steps().iter().position(|s| s.places.iter().any(|p| p == "shanghai"));
        let far = far.expect("a step naming Shanghai");
        let view = app.world().resource::<Presenter>().steps()[far].effective_view().unwrap();
        app.world_mut().resource_mut::<Presenter>().instant = false;
        app.world_mut().resource_mut::<Presenter>().go(far);
        app.update();
        let map = app.world().resource::<MapView>().clone();
        let to = view_of(&map, app.world().resource::<AtlasRes>(), view);
        assert_eq!(map.heading, Some(to));
        assert!((map.center - to.0).length() > map.scale, "still flying");
        // Leaving presenter mode clears the emphasis and the next step; the camera still lands.
        app.world_mut().resource_mut::<NextState<AppMode>>().set(AppMode::Browse);
        app.update();
        assert!(app.world().resource::<Selection>().emphasized.is_empty());
        let map = app.world().resource::<MapView>();
        assert_eq!((map.heading, map.upcoming), (Some(to), None));
    }

    /// The whole plugin, started from the command line at a step, with a window entity.
    #[test]
    fn the_plugin_alone_presents_from_a_step_and_esc_leaves() {
        let (mut app, _) = presenter_app();
        app.world_mut().spawn((Window::default(), PrimaryWindow));
        app.add_plugins(PresenterPlugin { start: Some(3), fullscreen: false });
        app.update();
        app.update();
        assert_eq!(*app.world().resource::<State<AppMode>>().get(), AppMode::Present);
        assert_eq!(app.world().resource::<Presenter>().index, 2);
        assert!(!app.world().resource::<Selection>().emphasized.is_empty(), "the step's places glow");
        app.world_mut().resource_mut::<ButtonInput<KeyCode>>().press(KeyCode::Escape);
        app.update();
        app.world_mut().resource_mut::<ButtonInput<KeyCode>>().clear();
        app.update();
        assert_eq!(*app.world().resource::<State<AppMode>>().get(), AppMode::Browse);
        assert!(app.world().resource::<Selection>().emphasized.is_empty(), "emphasis cleared on leaving");
        // The toolbar's button starts it again where it was.
        app.world_mut().write_message(StartPresenting);
        app.update();
        app.update();
        assert_eq!(*app.world().resource::<State<AppMode>>().get(), AppMode::Present);
    }
}
