//! The attribute table: any layer's features as rows, every attribute a column; sort by a
//! column, filter by text, click a row to select the feature and fly to it, and the row of the
//! feature selected on the map is highlighted and scrolled to.

use bevy_egui::egui;
use egui::{Align, Ui};
use egui_extras::{Column, TableBuilder};

use crate::app::state::{AtlasRes, Selection};
use crate::app::view::MapView;
use crate::geodata::{Feature, Layer, attribute_text};
use crate::index::FeatureRef;

/// Which layer's table is open and how it is sorted and filtered.
#[derive(Default)]
pub struct TableState {
    pub layer: Option<usize>,
    filter: String,
    /// (column, ascending).
    sort: Option<(usize, bool)>,
    /// Rows in display order, recomputed only when what they depend on changes: a 100,000-row
    /// layer must not be filtered every frame.
    rows: Vec<u32>,
    key: Option<RowsKey>,
    /// The selection last scrolled to, so the table follows the map but not every frame.
    followed: Option<FeatureRef>,
}

#[derive(PartialEq, Clone)]
struct RowsKey {
    layer: usize,
    features: usize,
    filter: String,
    sort: Option<(usize, bool)>,
    columns: Vec<String>,
}

/// The table's columns: the feature's name (as the map labels it) when it has one, then every
/// attribute in the order the file gave them.
pub fn columns(layer: &Layer) -> Vec<String> {
    let mut c = Vec::new();
    if layer.features.iter().take(100).any(|f| !f.name_zh_hans.is_empty() || !f.name_zh_hant.is_empty()) {
        c.push(NAME.to_string());
    }
    c.extend(layer.attribute_names().into_iter().filter(|n| layer.meta.name_field.as_deref() != Some(n.as_str())));
    c
}

/// The pseudo-column of the feature's own name.
const NAME: &str = "名稱 name";

/// A cell's text.
pub fn cell(f: &Feature, column: &str) -> String {
    if column == NAME {
        return if f.name_zh_hant.is_empty() { f.name_zh_hans.clone() } else { f.name_zh_hant.clone() };
    }
    attribute_text(f, column).unwrap_or_default()
}

/// Row order: features whose any cell contains `filter` (case-insensitively), sorted by one
/// column, numbers as numbers (so 9 comes before 10) and text by its characters.
pub fn rows(layer: &Layer, columns: &[String], filter: &str, sort: Option<(usize, bool)>) -> Vec<u32> {
    let needle = filter.trim().to_lowercase();
    let mut rows: Vec<u32> = (0..layer.features.len() as u32)
        .filter(|&i| {
            needle.is_empty() || {
                let f = &layer.features[i as usize];
                columns.iter().any(|c| cell(f, c).to_lowercase().contains(&needle))
            }
        })
        .collect();
    if let Some((col, ascending)) = sort
        && let Some(column) = columns.get(col)
    {
        let keys: Vec<(Option<f64>, String)> = layer
            .features
            .iter()
            .map(|f| {
                let t = cell(f, column);
                (t.trim().parse::<f64>().ok(), t)
            })
            .collect();
        rows.sort_by(|&a, &b| {
            let (ka, kb) = (&keys[a as usize], &keys[b as usize]);
            let o = match (ka.0, kb.0) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                // Numbers before text, empty cells last.
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => (ka.1.is_empty(), &ka.1).cmp(&(kb.1.is_empty(), &kb.1)),
            };
            if ascending { o } else { o.reverse() }
        });
    }
    rows
}

/// The attribute table window, when a layer's table is open.
pub(super) fn attribute_window(
    ctx: &egui::Context,
    res: &AtlasRes,
    title: &str,
    selection: &mut Selection,
    map: &mut MapView,
    state: &mut TableState,
) {
    let Some(li) = state.layer else { return };
    let Some(layer) = res.atlas.layers.get(li) else {
        state.layer = None;
        return;
    };
    let mut open = true;
    egui::Window::new(format!("屬性表 Attributes · {title}"))
        .id(egui::Id::new("attribute_table"))
        .open(&mut open)
        .default_size([760.0, 320.0])
        .default_pos([320.0, 520.0])
        .resizable(true)
        .show(ctx, |ui| table(ui, res, li, layer, selection, map, state));
    if !open {
        state.layer = None;
    }
}

fn table(
    ui: &mut Ui,
    res: &AtlasRes,
    li: usize,
    layer: &Layer,
    selection: &mut Selection,
    map: &mut MapView,
    state: &mut TableState,
) {
    let columns = columns(layer);
    ui.horizontal(|ui| {
        ui.label("Filter:");
        ui.add(egui::TextEdit::singleline(&mut state.filter).hint_text("text in any column").desired_width(240.0));
        if !state.filter.is_empty() && ui.small_button("✕").clicked() {
            state.filter.clear();
        }
    });
    let key = RowsKey {
        layer: li,
        features: layer.features.len(),
        filter: state.filter.clone(),
        sort: state.sort,
        columns: columns.clone(),
    };
    if state.key.as_ref() != Some(&key) {
        state.rows = rows(layer, &columns, &state.filter, state.sort);
        state.key = Some(key);
    }
    ui.weak(format!("{} of {} features", state.rows.len(), layer.features.len()));
    let selected = selection.selected.filter(|r| r.layer as usize == li).map(|r| r.feature);
    let mut builder = TableBuilder::new(ui)
        .id_salt(("attributes", li))
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .column(Column::exact(52.0))
        .columns(Column::initial(120.0).at_least(40.0).clip(true), columns.len().max(1))
        .min_scrolled_height(120.0);
    // Follow a selection made on the map (once, so the user can still scroll away).
    if selection.selected != state.followed {
        state.followed = selection.selected;
        if let Some(pos) = selected.and_then(|f| state.rows.iter().position(|&r| r == f)) {
            builder = builder.scroll_to_row(pos, Some(Align::Center));
        }
    }
    let mut clicked = None;
    builder
        .header(22.0, |mut header| {
            header.col(|ui| {
                ui.strong("#");
            });
            for (c, name) in columns.iter().enumerate() {
                header.col(|ui| {
                    let arrow = match state.sort {
                        Some((s, true)) if s == c => " ▲",
                        Some((s, false)) if s == c => " ▼",
                        _ => "",
                    };
                    if ui.button(format!("{name}{arrow}")).on_hover_text("sort by this column").clicked() {
                        state.sort = match state.sort {
                            Some((s, true)) if s == c => Some((c, false)),
                            Some((s, false)) if s == c => None,
                            _ => Some((c, true)),
                        };
                    }
                });
            }
        })
        .body(|body| {
            body.rows(20.0, state.rows.len(), |mut row| {
                let fi = state.rows[row.index()];
                let f = &layer.features[fi as usize];
                row.set_selected(selected == Some(fi));
                // Labels that cannot be selected, so a click anywhere on the row selects it.
                row.col(|ui| {
                    ui.add(egui::Label::new(egui::RichText::new(format!("{}", fi + 1)).weak()).selectable(false));
                });
                for c in &columns {
                    row.col(|ui| {
                        ui.add(egui::Label::new(cell(f, c)).selectable(false).truncate());
                    });
                }
                if row.response().clicked() {
                    clicked = Some(fi);
                }
            });
        });
    if let Some(fi) = clicked {
        let r = FeatureRef { layer: li as u32, feature: fi };
        selection.selected = Some(r);
        state.followed = Some(r);
        if let Some(b) = res.atlas.feature(r).and_then(Feature::bounds) {
            let frame = res.frame;
            map.fit_lonlat(&frame, b, 60.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layer() -> Layer {
        let f = |name: &str, area: serde_json::Value| {
            let mut a = serde_json::Map::new();
            a.insert("名称".into(), json!(name));
            a.insert("面积".into(), area);
            crate::formats::feature(geo::Geometry::Point(geo::Point::new(121.0, 31.5)), a)
        };
        let mut l = Layer::new(
            "parcels",
            "parcels.shp",
            vec![f("浏河镇", json!(10)), f("沙溪镇", json!(9)), f("璜泾镇", json!("")), f("浮桥镇", json!(120.5))],
        );
        let field = l.guess_name_field();
        l.apply_name_field(field.as_deref());
        l
    }

    #[test]
    fn the_name_comes_first_and_the_name_field_is_not_repeated() {
        assert_eq!(columns(&layer()), [NAME, "面积"]);
    }

    #[test]
    fn numbers_sort_as_numbers_and_empty_cells_last() {
        let l = layer();
        let c = columns(&l);
        assert_eq!(rows(&l, &c, "", Some((1, true))), [1, 0, 3, 2]);
        assert_eq!(rows(&l, &c, "", Some((1, false))), [2, 3, 0, 1]);
        assert_eq!(rows(&l, &c, "", None), [0, 1, 2, 3]);
    }

    #[test]
    fn the_filter_matches_any_column() {
        let l = layer();
        let c = columns(&l);
        assert_eq!(rows(&l, &c, "沙溪", None), [1]);
        assert_eq!(rows(&l, &c, "120", None), [3]);
        assert!(rows(&l, &c, "上海", None).is_empty());
    }
}
