//! The coverage view: what the reports (in the timeline's range) talk about. A window lists
//! places mentioned but not mapped, mapped but never mentioned, and every mentioned place with
//! its counts and first and last dates, sortable; on the map, graduated circles sized by
//! mention count.

use bevy::math::DVec2;
use bevy::prelude::*;
use bevy_egui::egui;
use egui::{Color32, Stroke};
use egui_extras::{Column, TableBuilder};

use crate::app::state::{AtlasCommand, AtlasRes, Lang, Timeline};
use crate::app::view::MapView;
use crate::atlas::MENTIONED_LAYER;
use crate::text::coverage::{Coverage, DateRange, SortBy, symbol_radius};

/// Which list the window shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Mentioned,
    NotMapped,
    NeverMentioned,
}

pub struct CoverageState {
    pub open: bool,
    /// Graduated circles on the map.
    pub symbols: bool,
    tab: Tab,
    sort: (SortBy, bool),
    /// (atlas generation, range, sort): what `coverage` was computed for.
    key: Option<(u64, Option<DateRange>, (SortBy, bool))>,
    coverage: Coverage,
    /// Each mentioned place's point in local metres, in `coverage.places` order.
    points: Vec<Option<DVec2>>,
}

impl Default for CoverageState {
    fn default() -> Self {
        CoverageState {
            open: false,
            symbols: false,
            tab: Tab::default(),
            // Most mentioned first: what a planner asks first.
            sort: (SortBy::Mentions, true),
            key: None,
            coverage: Coverage::default(),
            points: Vec::new(),
        }
    }
}

impl CoverageState {
    /// Opens the window and the map's circles together (they read as one view).
    pub fn toggle(&mut self) {
        self.open = !self.open;
        if self.open {
            self.symbols = true;
        }
    }

    /// The coverage for the timeline's range, recomputed only when the atlas, range or sort
    /// changed.
    fn update(&mut self, res: &AtlasRes, timeline: &Timeline, generation: u64) {
        let key = (generation, timeline.range, self.sort);
        if self.key == Some(key) {
            return;
        }
        let g = &res.atlas.gazetteer;
        let mapped = |i: usize| g.places[i].layer.as_deref().is_some_and(|l| l != MENTIONED_LAYER);
        let mut c = Coverage::of(&res.atlas.documents, g, timeline.range, mapped);
        c.sort(self.sort.0, self.sort.1, g);
        self.points = c
            .places
            .iter()
            .map(|p| {
                let [lon, lat] = res.atlas.representative_point(&g.places[p.place])?;
                let (x, y) = res.frame.project(lon, lat);
                Some(DVec2::new(x, y))
            })
            .collect();
        self.coverage = c;
        self.key = Some(key);
    }
}

pub(super) fn coverage_window(
    ctx: &egui::Context,
    res: &AtlasRes,
    lang: Lang,
    timeline: &Timeline,
    state: &mut CoverageState,
    generation: u64,
    cmds: &mut MessageWriter<AtlasCommand>,
) {
    if !state.open && !state.symbols {
        return;
    }
    state.update(res, timeline, generation);
    if !state.open {
        return;
    }
    let mut open = state.open;
    egui::Window::new("覆蓋 Coverage").open(&mut open).default_width(560.0).default_height(420.0).show(ctx, |ui| {
        let c = &state.coverage;
        let range = match timeline.range {
            Some(r) => format!("{} – {}", r.from, r.to),
            None => "all dates".to_string(),
        };
        ui.label(format!("{} reports ({range})", c.documents));
        if c.undated_left_out > 0 {
            ui.weak(format!(
                "{} undated reports are outside any date range: date them in the document panel",
                c.undated_left_out
            ));
        }
        let not_mapped = c.places.iter().filter(|p| !p.mapped).count();
        ui.horizontal(|ui| {
            ui.selectable_value(&mut state.tab, Tab::Mentioned, format!("Mentioned ({})", c.places.len()));
            ui.selectable_value(&mut state.tab, Tab::NotMapped, format!("Not mapped by a layer ({not_mapped})"))
                .on_hover_text("mentioned, but only the gazetteer knows where: drawn as a disc of its accuracy");
            ui.selectable_value(
                &mut state.tab,
                Tab::NeverMentioned,
                format!("Mapped, never mentioned ({})", c.never_mentioned.len()),
            );
            ui.separator();
            ui.checkbox(&mut state.symbols, "circles on the map");
        });
        ui.separator();
        let name = |i: usize| {
            let p = &res.atlas.gazetteer.places[i];
            lang.pick(&p.name_zh_hant, &p.name_zh_hans, &p.name_en).to_string()
        };
        let mut clicked = None;
        if state.tab == Tab::NeverMentioned {
            let rows = &state.coverage.never_mentioned;
            TableBuilder::new(ui)
                .id_salt("never_mentioned")
                .striped(true)
                .sense(egui::Sense::click())
                .column(Column::initial(220.0).clip(true))
                .column(Column::remainder().clip(true))
                .header(20.0, |mut h| {
                    h.col(|ui| {
                        ui.strong("Place");
                    });
                    h.col(|ui| {
                        ui.strong("Layer");
                    });
                })
                .body(|body| {
                    body.rows(20.0, rows.len(), |mut row| {
                        let i = rows[row.index()];
                        row.col(|ui| {
                            ui.add(egui::Label::new(name(i)).selectable(false).truncate());
                        });
                        row.col(|ui| {
                            ui.add(
                                egui::Label::new(res.atlas.gazetteer.places[i].layer.clone().unwrap_or_default())
                                    .selectable(false),
                            );
                        });
                        if row.response().clicked() {
                            clicked = Some(i);
                        }
                    });
                });
        } else {
            let rows: Vec<usize> = (0..state.coverage.places.len())
                .filter(|&k| state.tab == Tab::Mentioned || !state.coverage.places[k].mapped)
                .collect();
            let mut sort = state.sort;
            TableBuilder::new(ui)
                .id_salt("mentioned")
                .striped(true)
                .sense(egui::Sense::click())
                .column(Column::initial(190.0).clip(true))
                .column(Column::initial(80.0).clip(true))
                .columns(Column::initial(70.0), 2)
                .columns(Column::initial(84.0), 2)
                .header(22.0, |mut h| {
                    h.col(|ui| sort_button(ui, "Place", SortBy::Name, &mut sort));
                    h.col(|ui| {
                        ui.strong("Layer");
                    });
                    h.col(|ui| sort_button(ui, "Mentions", SortBy::Mentions, &mut sort));
                    h.col(|ui| sort_button(ui, "Reports", SortBy::Documents, &mut sort));
                    h.col(|ui| sort_button(ui, "First", SortBy::First, &mut sort));
                    h.col(|ui| sort_button(ui, "Last", SortBy::Last, &mut sort));
                })
                .body(|body| {
                    body.rows(20.0, rows.len(), |mut row| {
                        let p = &state.coverage.places[rows[row.index()]];
                        let layer = if p.mapped {
                            res.atlas.gazetteer.places[p.place].layer.clone().unwrap_or_default()
                        } else {
                            "not mapped".to_string()
                        };
                        let date = |d: Option<crate::text::date::ReportDate>| d.map_or("–".to_string(), |d| d.iso());
                        for text in [name(p.place), layer] {
                            row.col(|ui| {
                                ui.add(egui::Label::new(text).selectable(false).truncate());
                            });
                        }
                        for text in [p.mentions.to_string(), p.documents.to_string(), date(p.first), date(p.last)] {
                            row.col(|ui| {
                                ui.add(egui::Label::new(text).selectable(false));
                            });
                        }
                        if row.response().clicked() {
                            clicked = Some(p.place);
                        }
                    });
                });
            state.sort = sort;
        }
        if let Some(i) = clicked {
            cmds.write(AtlasCommand::FocusPlace(res.atlas.gazetteer.places[i].id.clone()));
        }
    });
    state.open = open;
}

/// A column header that sorts by `by`; a second click reverses.
fn sort_button(ui: &mut egui::Ui, label: &str, by: SortBy, sort: &mut (SortBy, bool)) {
    let arrow = match *sort {
        (s, true) if s == by => " ▼",
        (s, false) if s == by => " ▲",
        _ => "",
    };
    if ui.button(format!("{label}{arrow}")).clicked() {
        *sort = if sort.0 == by { (by, !sort.1) } else { (by, by != SortBy::Name) };
    }
}

/// Smallest and largest circle, in pixels.
const MIN_RADIUS: f32 = 5.0;
const MAX_RADIUS: f32 = 28.0;

/// Graduated circles at each mentioned place, area by mention count, largest drawn first so
/// small ones stay on top; a legend in the map's corner.
pub(super) fn draw_symbols(ctx: &egui::Context, central: egui::Rect, map: &MapView, state: &CoverageState) {
    if !state.symbols || state.coverage.places.is_empty() {
        return;
    }
    let painter = ctx.layer_painter(egui::LayerId::background()).with_clip_rect(central);
    let max = state.coverage.max_mentions();
    let fill = Color32::from_rgba_unmultiplied(0x7b, 0x2c, 0xbf, 90);
    let stroke = Stroke::new(1.5, Color32::from_rgb(0x5a, 0x18, 0x9a));
    for (p, pt) in state.coverage.places.iter().zip(&state.points).rev() {
        let Some(pt) = pt else { continue };
        let s = map.world_to_screen(*pt);
        let r = symbol_radius(p.mentions, max, MIN_RADIUS, MAX_RADIUS);
        let c = egui::pos2(s.x, s.y);
        if !central.expand(r).contains(c) {
            continue;
        }
        painter.circle(c, r, fill, stroke);
    }
    // Legend: the largest, a middle and the smallest count.
    let mut counts = vec![max, (max / 4).max(1), 1];
    counts.dedup();
    let x = central.max.x - 2.0 * MAX_RADIUS - 70.0;
    let mut y = central.max.y - 30.0;
    let bg = egui::Rect::from_min_max(
        egui::pos2(x - 12.0, y - counts.len() as f32 * (MAX_RADIUS + 10.0) - 24.0),
        egui::pos2(central.max.x - 8.0, central.max.y - 8.0),
    );
    painter.rect_filled(bg, 4.0, Color32::from_white_alpha(220));
    painter.text(
        egui::pos2(bg.min.x + 8.0, bg.min.y + 6.0),
        egui::Align2::LEFT_TOP,
        "mentions",
        egui::FontId::proportional(12.0),
        Color32::from_gray(40),
    );
    for n in counts {
        let r = symbol_radius(n, max, MIN_RADIUS, MAX_RADIUS);
        let c = egui::pos2(x + MAX_RADIUS, y - r);
        painter.circle(c, r, fill, stroke);
        painter.text(
            egui::pos2(x + 2.0 * MAX_RADIUS + 8.0, y - r),
            egui::Align2::LEFT_CENTER,
            n.to_string(),
            egui::FontId::proportional(12.0),
            Color32::from_gray(30),
        );
        y -= 2.0 * r.max(MIN_RADIUS) + 8.0;
    }
}
