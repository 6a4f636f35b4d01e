//! Fonts: a bundled Noto Sans CJK subset (SIL OFL 1.1) as egui's fallback, so Chinese names and
//! passages render as glyphs, never boxes, in panels and map labels alike.

use std::sync::Arc;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

/// The subset font, compiled into the binary (see assets/fonts/OFL.txt).
pub const CJK_FONT: &[u8] = include_bytes!("../../assets/fonts/NotoSansCJK-subset.otf");

/// egui font definitions with the CJK font as a fallback for every family.
pub fn font_definitions() -> egui::FontDefinitions {
    let mut fonts = egui::FontDefinitions::default();
    fonts.font_data.insert("noto_sans_cjk".into(), Arc::new(egui::FontData::from_static(CJK_FONT)));
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts.families.entry(family).or_default().push("noto_sans_cjk".into());
    }
    fonts
}

pub struct FontsPlugin;

impl Plugin for FontsPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(EguiPrimaryContextPass, install_fonts);
    }
}

fn install_fonts(mut contexts: EguiContexts, mut done: Local<bool>) -> Result {
    if *done {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    ctx.set_fonts(font_definitions());
    // A light theme reads better on a projector and matches the map's paper tones.
    ctx.set_visuals(egui::Visuals::light());
    *done = true;
    Ok(())
}
