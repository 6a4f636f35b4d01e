//! The speaker view: a second window with the current and next step, a timer and the full
//! passage, drawn by its own egui pass.

use bevy::prelude::*;

use super::Presenter;
use crate::app::state::{AppMode, AtlasRes};
use crate::story::Step;

/// The egui pass of the speaker window.
#[derive(bevy::ecs::schedule::ScheduleLabel, Clone, Debug, PartialEq, Eq, Hash)]
pub struct SpeakerPass;

/// Marks the speaker window and its camera.
#[derive(Component)]
pub struct SpeakerView;

/// Opens or closes the speaker window (current and next step, timer, full passage) to match
/// `Presenter::speaker_view`; a window the user closed turns the view off.
pub(super) fn speaker_window(
    mut commands: Commands,
    mut p: ResMut<Presenter>,
    mode: Res<State<AppMode>>,
    windows: Query<Entity, (With<Window>, With<SpeakerView>)>,
    cams: Query<Entity, (With<Camera>, With<SpeakerView>)>,
    mut had_window: Local<bool>,
) {
    let want = *mode.get() == AppMode::Present && p.speaker_view;
    let have = !windows.is_empty();
    if *had_window && !have {
        // Closed by the user.
        *had_window = false;
        for c in &cams {
            commands.entity(c).despawn();
        }
        if p.speaker_view {
            p.speaker_view = false;
        }
        return;
    }
    if want && !have {
        let w = commands
            .spawn((
                Window {
                    title: "port-atlas: speaker view".into(),
                    resolution: bevy::window::WindowResolution::new(900, 600),
                    ..default()
                },
                SpeakerView,
            ))
            .id();
        commands.spawn((
            Camera2d,
            Camera { order: 2, ..default() },
            bevy::camera::RenderTarget::Window(bevy::window::WindowRef::Entity(w)),
            bevy::camera::visibility::RenderLayers::none(),
            bevy_egui::EguiSchedule::new(SpeakerPass),
            SpeakerView,
        ));
        *had_window = true;
    } else if !want && have {
        for e in windows.iter().chain(cams.iter()) {
            commands.entity(e).despawn();
        }
        *had_window = false;
    }
}

pub(super) fn speaker_ui(
    mut ctx: Single<&mut bevy_egui::EguiContext, (With<SpeakerView>, With<Camera>)>,
    p: Res<Presenter>,
    res: Res<AtlasRes>,
) {
    use bevy_egui::egui;
    let ctx = ctx.get_mut();
    let doc = res.atlas.documents.first();
    let text_of = |s: &Step| -> String {
        if let Some(c) = &s.caption {
            return c.clone();
        }
        let Some(pa) = doc.and_then(|d| d.passages.iter().find(|pa| pa.line == s.line)) else { return String::new() };
        // A story file's range is capped to the passage, so a huge end cannot stall the frame.
        let n = pa.sentences.len();
        (s.sentences.start.min(n)..s.sentences.end.min(n)).map(|i| pa.sentence_text(i)).collect()
    };
    let mut root = egui::Ui::new(
        ctx.clone(),
        "speaker-root".into(),
        egui::UiBuilder::new().layer_id(egui::LayerId::background()).max_rect(ctx.content_rect()),
    );
    egui::CentralPanel::default().show(&mut root, |ui| {
        let elapsed = p.started.map_or(0, |t| t.elapsed().as_secs());
        ui.horizontal(|ui| {
            ui.heading(format!("{} / {}", p.index + 1, p.len()));
            ui.separator();
            ui.heading(format!("{:02}:{:02}", elapsed / 60, elapsed % 60));
        });
        ui.separator();
        if let Some(cur) = p.current() {
            ui.label(egui::RichText::new(text_of(cur)).size(22.0));
            ui.weak(format!("places: {}", cur.places.join(", ")));
            if let Some(pa) = doc.and_then(|d| d.passages.iter().find(|pa| pa.line == cur.line)) {
                ui.collapsing(format!("full passage (line {})", pa.line), |ui| {
                    egui::ScrollArea::vertical().max_height(200.0).show(ui, |ui| ui.label(&pa.text));
                });
            }
        }
        ui.separator();
        match p.story.shown().nth(p.index + 1) {
            Some(next) => {
                ui.weak("next");
                ui.label(egui::RichText::new(text_of(next)).size(16.0).color(egui::Color32::from_gray(90)));
            }
            None => {
                ui.weak("last step");
            }
        }
    });
}
