//! The timeline in the document panel: a bar per month (or year) of the reports' dates. Click a
//! bar, or drag across bars, to show only those reports' mentions on the map and in the
//! coverage view; click the selected bar again, or *All dates*, to show every report.

use bevy_egui::egui;
use egui::{Color32, Sense, Ui};

use crate::app::state::{AtlasRes, Timeline};
use crate::text::coverage::{Bin, DateRange, timeline_bins};

#[derive(Default)]
pub struct TimelineCache {
    generation: Option<u64>,
    bins: Vec<Bin>,
    undated: usize,
    /// The bar a drag started on.
    drag_from: Option<usize>,
}

const HEIGHT: f32 = 44.0;

/// Draws the timeline; true when the planner changed the range.
pub(super) fn timeline(
    ui: &mut Ui,
    res: &AtlasRes,
    timeline: &mut Timeline,
    cache: &mut TimelineCache,
    generation: u64,
) -> bool {
    let before = timeline.range;
    if cache.generation != Some(generation) {
        let dates: Vec<_> = res.atlas.documents.iter().filter_map(|d| d.date.map(|x| x.date)).collect();
        cache.undated = res.atlas.documents.len() - dates.len();
        cache.bins = timeline_bins(&dates);
        cache.generation = Some(generation);
    }
    if cache.bins.is_empty() {
        if res.atlas.documents.len() > 1 {
            ui.weak("No report is dated: set a date above to use the timeline.");
        }
        return false;
    }
    let max = cache.bins.iter().map(|b| b.count).max().unwrap_or(1).max(1);
    let width = ui.available_width().max(120.0);
    let (rect, response) = ui.allocate_exact_size(egui::vec2(width, HEIGHT), Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    let n = cache.bins.len();
    let w = rect.width() / n as f32;
    let bin_at = |x: f32| (((x - rect.min.x) / w).floor().max(0.0) as usize).min(n - 1);
    let accent = ui.visuals().selection.bg_fill;
    painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    for (i, b) in cache.bins.iter().enumerate() {
        let h = (HEIGHT - 4.0) * b.count as f32 / max as f32;
        let x0 = rect.min.x + i as f32 * w;
        let bar =
            egui::Rect::from_min_max(egui::pos2(x0 + w * 0.1, rect.max.y - h), egui::pos2(x0 + w * 0.9, rect.max.y));
        let chosen = timeline.range.is_some_and(|r| b.range.from >= r.from && b.range.to <= r.to);
        let color = if chosen || timeline.range.is_none() { accent } else { Color32::from_gray(170) };
        painter.rect_filled(bar, 1.0, color);
    }
    if let Some(p) = response.hover_pos() {
        let b = &cache.bins[bin_at(p.x)];
        response.clone().on_hover_text(format!("{}: {} reports", b.label, b.count));
    }
    if response.drag_started()
        && let Some(p) = response.interact_pointer_pos()
    {
        cache.drag_from = Some(bin_at(p.x));
    }
    if response.dragged()
        && let (Some(a), Some(p)) = (cache.drag_from, response.interact_pointer_pos())
    {
        let b = bin_at(p.x);
        timeline.range = Some(DateRange { from: cache.bins[a.min(b)].range.from, to: cache.bins[a.max(b)].range.to });
    }
    if response.drag_stopped() {
        cache.drag_from = None;
    }
    if response.clicked()
        && let Some(p) = response.interact_pointer_pos()
    {
        let bin = cache.bins[bin_at(p.x)].range;
        timeline.range = if timeline.range == Some(bin) { None } else { Some(bin) };
    }
    ui.horizontal(|ui| {
        ui.weak(&cache.bins[0].label);
        let shown = match timeline.range {
            Some(r) => {
                let count = res.atlas.documents.iter().filter(|d| crate::text::coverage::in_range(d, Some(r))).count();
                format!("{} – {}: {count} reports", r.from, r.to)
            }
            None => format!("all {} reports", res.atlas.documents.len()),
        };
        ui.label(shown);
        if timeline.range.is_some() && ui.small_button("All dates").clicked() {
            timeline.range = None;
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.weak(&cache.bins[n - 1].label);
        });
    });
    if cache.undated > 0 && timeline.range.is_some() {
        ui.weak(format!("{} undated reports are not in any range", cache.undated));
    }
    timeline.range != before
}
