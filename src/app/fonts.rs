//! Fonts: a bundled Noto Sans CJK subset (SIL OFL 1.1) as egui's fallback, so Chinese names and
//! passages render as glyphs, never boxes, in panels and map labels alike.

use std::sync::Arc;

use bevy::prelude::*;
use bevy_egui::{EguiContext, egui};

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
        app.add_systems(PreUpdate, install_fonts);
    }
}

/// Gives every new egui context (the main window's, the speaker window's) the CJK fallback font
/// and the light theme, so no plugin that opens a window needs to know about fonts.
fn install_fonts(mut contexts: Query<&mut EguiContext, Added<EguiContext>>) {
    for mut ctx in &mut contexts {
        let ctx = ctx.get_mut();
        ctx.set_fonts(font_definitions());
        // A light theme reads better on a projector and matches the map's paper tones.
        ctx.set_visuals(egui::Visuals::light());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_new_egui_context_gets_the_light_theme() {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins).add_plugins(FontsPlugin);
        let a = app.world_mut().spawn(EguiContext::default()).id();
        app.update();
        let b = app.world_mut().spawn(EguiContext::default()).id();
        app.update();
        for e in [a, b] {
            let mut ctx = app.world_mut().get_mut::<EguiContext>(e).unwrap();
            assert!(!ctx.get_mut().global_style().visuals.dark_mode, "light theme on {e}");
        }
        let fonts = font_definitions();
        assert!(fonts.families[&egui::FontFamily::Proportional].contains(&"noto_sans_cjk".to_string()));
    }

    /// Every name of every place the gazetteer ships shows as glyphs (甪直, 滸墅關, 弶港 and 啓東 are
    /// outside the common character sets the subset starts from; `scripts/make_font_subset.py`).
    #[test]
    fn every_shipped_place_name_has_glyphs() {
        let ctx = egui::Context::default();
        ctx.set_fonts(font_definitions());
        let _ = ctx.run_ui(Default::default(), |_| {});
        let (entries, _) = crate::text::region::parse(crate::text::region::REGION_TSV);
        let mut missing = std::collections::BTreeSet::new();
        let id = egui::FontId::proportional(14.0);
        for e in &entries {
            let names = [e.name_zh_hans, e.name_zh_hant].into_iter().chain(e.aliases.iter().copied());
            for c in names.flat_map(str::chars) {
                if !ctx.fonts_mut(|f| f.has_glyph(&id, c)) {
                    missing.insert(c);
                }
            }
        }
        assert!(missing.is_empty(), "no glyph for {missing:?}");
    }
}
