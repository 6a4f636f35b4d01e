//! Names on the map: candidates from every visible layer (areas only when big enough on
//! screen), placed greedily without overlap, with a white halo.

use std::collections::HashMap;

use bevy::math::DVec2;
use bevy_egui::egui;
use egui::{Color32, FontId};

use crate::app::labels::{self, Candidate, MapLabel};
use crate::app::state::{AtlasRes, LayerId, LayerView, Selection};
use crate::app::view::MapView;
use crate::index::FeatureRef;

/// Label data per layer, computed when a layer is first labelled.
pub type LabelCaches = HashMap<LayerId, LabelCache>;

/// Per-layer label data, computed once: each feature's largest side (local metres, 0 for
/// points) and, lazily, its anchor. Anchors of 100,000 parcels are never computed while the
/// parcels are too small to carry a name.
pub struct LabelCache {
    extent: Vec<f64>,
    anchor: Vec<Option<Option<DVec2>>>,
    /// Which feature list this was built for: a layer whose features are replaced (the
    /// mentioned places after a document opens) gets a new cache.
    built_for: (usize, usize),
}

impl LabelCache {
    fn new(layer: &crate::geodata::Layer, frame: &crate::proj::LocalFrame) -> Self {
        let extent = layer
            .features
            .iter()
            .map(|f| match (&f.geometry, f.bounds()) {
                (geo::Geometry::Point(_), _) | (_, None) => 0.0,
                (_, Some(b)) => {
                    let (x0, y0) = frame.project(b.min().x, b.min().y);
                    let (x1, y1) = frame.project(b.max().x, b.max().y);
                    (x1 - x0).max(y1 - y0)
                }
            })
            .collect();
        LabelCache { extent, anchor: vec![None; layer.features.len()], built_for: Self::key(layer) }
    }

    fn key(layer: &crate::geodata::Layer) -> (usize, usize) {
        (layer.features.len(), layer.features.as_ptr() as usize)
    }
}

/// Most labels considered per frame: placement is greedy, and more than this never fit anyway.
const MAX_LABEL_CANDIDATES: usize = 1500;

pub(super) fn draw_labels(
    ctx: &egui::Context,
    central: egui::Rect,
    res: &AtlasRes,
    view: &LayerView,
    map: &MapView,
    selection: &Selection,
    caches: &mut LabelCaches,
    extra: &[MapLabel],
) {
    let painter = ctx.layer_painter(egui::LayerId::background()).with_clip_rect(central);
    let mut cands = Vec::new();
    let mut galleys = Vec::new();
    for (li, layer) in res.atlas.layers.iter().enumerate() {
        if !view.is_visible(LayerId(li)) || !layer.meta.labels {
            continue;
        }
        let cache = caches.entry(LayerId(li)).or_insert_with(|| LabelCache::new(layer, &res.frame));
        if cache.built_for != LabelCache::key(layer) {
            *cache = LabelCache::new(layer, &res.frame);
        }
        for (fi, f) in layer.features.iter().enumerate() {
            let r = FeatureRef { layer: li as u32, feature: fi as u32 };
            let chosen = selection.selected == Some(r) || selection.hovered == Some(r);
            // A mentioned place's disc is a point drawn as wide as its uncertainty: named as one.
            let is_point = matches!(f.geometry, geo::Geometry::Point(_)) || layer.id == crate::atlas::MENTIONED_LAYER;
            // Areas and lines too small on screen to carry a name get none, unless chosen.
            let big_enough = is_point || cache.extent[fi] / map.scale > 40.0;
            if (!big_enough || cands.len() >= MAX_LABEL_CANDIDATES) && !chosen {
                continue;
            }
            let a = *cache.anchor[fi].get_or_insert_with(|| labels::anchor(&f.geometry, &res.frame));
            let Some(a) = a else { continue };
            let s = map.world_to_screen(a);
            if !central.contains(egui::pos2(s.x, s.y)) {
                continue;
            }
            let name = view.lang.pick(&f.name_zh_hant, &f.name_zh_hans, &f.name_en);
            let size = if is_point { 13.0 } else { 14.0 };
            let galley = painter.layout_no_wrap(name.to_string(), FontId::proportional(size), Color32::from_gray(30));
            let gs = galley.size();
            let pos = if is_point {
                egui::pos2(s.x + 9.0, s.y - gs.y / 2.0)
            } else {
                egui::pos2(s.x - gs.x / 2.0, s.y - gs.y / 2.0)
            };
            let rect = bevy::math::Rect::new(pos.x, pos.y, pos.x + gs.x, pos.y + gs.y);
            let rank = if selection.selected == Some(r) {
                0
            } else if selection.hovered == Some(r) {
                1
            } else {
                2 + layer.meta.label_rank
            };
            // Within a layer, smaller features first: they have fewer places to put a name.
            let area = f.bounds().map(|b| (b.width() * b.height() * 1e6) as i64).unwrap_or(0);
            cands.push(Candidate { rect, priority: (rank, area) });
            galleys.push((pos, galley));
        }
    }
    // Vector tile features' names rank below the atlas's own (a city's parcels must not crowd
    // out the report's places), smaller features first among them.
    for l in extra {
        let s = map.world_to_screen(l.world);
        if !central.contains(egui::pos2(s.x, s.y)) {
            continue;
        }
        let size = if l.is_point { 12.0 } else { 13.0 };
        let galley = painter.layout_no_wrap(l.text.clone(), FontId::proportional(size), Color32::from_gray(45));
        let gs = galley.size();
        let pos = if l.is_point {
            egui::pos2(s.x + 8.0, s.y - gs.y / 2.0)
        } else {
            egui::pos2(s.x - gs.x / 2.0, s.y - gs.y / 2.0)
        };
        let rect = bevy::math::Rect::new(pos.x, pos.y, pos.x + gs.x, pos.y + gs.y);
        let rank = if l.chosen { 0 } else { 60 };
        cands.push(Candidate { rect, priority: (rank, (l.size_m * 1e3) as i64) });
        galleys.push((pos, galley));
    }
    let bounds = bevy::math::Rect::new(central.min.x, central.min.y, central.max.x, central.max.y);
    for i in labels::place(&cands, bounds, 3.0) {
        let (pos, galley) = &galleys[i];
        // A white halo keeps names readable over fills and hatching.
        for d in [egui::vec2(-1.0, 0.0), egui::vec2(1.0, 0.0), egui::vec2(0.0, -1.0), egui::vec2(0.0, 1.0)] {
            painter.galley_with_override_text_color(*pos + d, galley.clone(), Color32::from_white_alpha(230));
        }
        painter.galley(*pos, galley.clone(), Color32::from_gray(30));
    }
}
