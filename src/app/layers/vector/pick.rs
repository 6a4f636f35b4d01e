//! Picking, highlighting, labels and search on vector tile features: hover and click find the
//! feature under the cursor in the tiles on screen; the selected feature is outlined in every
//! tile that holds a piece of it (matched by feature id, or an id attribute); names in the tiles
//! on screen become label candidates and search hits ("features in view").

use bevy::math::DVec2;
use bevy::prelude::*;

use super::{VectorLayers, build_slot_meshes};
use crate::app::labels::MapLabel;
use crate::app::layers::material::MapMaterial;
use crate::app::state::{AppMode, AtlasRes, HoverEnabled, Selection};
use crate::app::view::{MapView, PointerGesture, UiCapture, z};
use crate::proj::LocalFrame;
use crate::tiles::TileId;
use crate::tiles::vector::SourceId;
use crate::tiles::vector::build::TileFrame;
use crate::tiles::vector::features::{FeatureKey, feature_key, label_anchor, pick};
use crate::tiles::vector::mvt::TileLayer;

/// A feature found in a tile, with what the panels show of it.
#[derive(Debug, Clone, PartialEq)]
pub struct PickedFeature {
    pub source: SourceId,
    /// The source's name, for the window title.
    pub source_title: String,
    /// The source layer ("parcels").
    pub sublayer: String,
    pub key: FeatureKey,
    pub tile: TileId,
    pub index: usize,
    /// The feature's attributes in the tile's order.
    pub properties: Vec<(String, String)>,
    /// Its name from the layer's label field.
    pub name: Option<String>,
    /// Where it is (local metres), to fly to.
    pub anchor: Option<DVec2>,
}

/// The hovered and selected vector features, and the overlay entities outlining the selected one.
#[derive(Resource, Default)]
pub struct VectorPick {
    pub hovered: Option<PickedFeature>,
    pub selected: Option<PickedFeature>,
    overlays: Vec<Entity>,
    /// What the overlays show: the selection and the tiles it was built from.
    overlay_for: Option<(SourceId, String, FeatureKey, Vec<TileId>)>,
    material: Option<[Handle<MapMaterial>; 2]>,
}

impl VectorPick {
    /// Entities outlining the selected feature (one or two per tile holding a piece of it).
    pub fn overlay_count(&self) -> usize {
        self.overlays.len()
    }
}

/// A tile's north-west corner in local metres.
pub fn tile_origin(frame: &LocalFrame, t: TileId) -> DVec2 {
    let (mx, my, _) = t.mercator_nw();
    let (x, y) = frame.from_mercator(mx, my);
    DVec2::new(x, y)
}

fn describe(
    vl: &VectorLayers,
    source: SourceId,
    tile: TileId,
    layer: &TileLayer,
    index: usize,
    frame: &LocalFrame,
) -> Option<PickedFeature> {
    let l = vl.get(source)?;
    let f = layer.features.get(index)?;
    let style = l.styles.iter().find(|s| s.name == layer.name);
    let name = style.and_then(|s| s.label_field.as_deref()).and_then(|k| layer.property(f, k)).map(|v| v.to_string());
    let fr = TileFrame::new(tile, tile, layer.extent);
    let anchor = label_anchor(layer, index, &fr).map(|(a, _)| tile_origin(frame, tile) + DVec2::new(a[0], a[1]));
    Some(PickedFeature {
        source,
        source_title: l.title(),
        sublayer: layer.name.clone(),
        key: feature_key(layer, f),
        tile,
        index,
        properties: layer.properties(f).map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        name,
        anchor,
    })
}

/// The vector feature under a window position: the last opened source first (drawn on top),
/// its finest tile on screen there, its source layers top first.
pub fn pick_at(vl: &VectorLayers, map: &MapView, frame: &LocalFrame, screen: Vec2) -> Option<PickedFeature> {
    let w = map.screen_to_world(screen);
    let tolerance = 6.0 * map.scale;
    for l in vl.layers.iter().rev().filter(|l| l.visible) {
        let mut tiles = l.shown.clone();
        tiles.sort_by_key(|t| std::cmp::Reverse(t.z));
        for t in tiles {
            let Some(built) = l.tiles.get(&t).and_then(|s| s.built.as_ref()) else { continue };
            let o = tile_origin(frame, t);
            let p = [w.x - o.x, w.y - o.y];
            let side = t.mercator_nw().2;
            if !(0.0..side).contains(&p[0]) || !(-side..=0.0).contains(&p[1]) {
                continue;
            }
            for (li, layer) in built.tile.layers.iter().enumerate().rev() {
                if !l.styles.iter().any(|s| s.name == layer.name && s.visible) {
                    continue;
                }
                let fr = TileFrame::new(t, t, layer.extent);
                let boxes = built.bboxes.get(li).map_or(&[][..], |b| b.as_slice());
                if let Some(i) = pick(layer, &fr, p, tolerance, boxes) {
                    return describe(vl, l.id, t, layer, i, frame);
                }
            }
            // The finest tile here decided: coarser stand-ins under it hold the same features.
            break;
        }
    }
    None
}

/// What picking reads about the pointer.
#[derive(bevy::ecs::system::SystemParam)]
pub struct PickInput<'w> {
    gesture: Res<'w, PointerGesture>,
    capture: Res<'w, UiCapture>,
    map: Res<'w, MapView>,
    res: Res<'w, AtlasRes>,
    selection: Res<'w, Selection>,
    hover: Res<'w, HoverEnabled>,
    mode: Res<'w, State<AppMode>>,
}

/// Hover and click on vector features, below the atlas's own features (which are drawn above
/// them): a click that selected an atlas feature leaves the vector selection empty.
pub fn pick_vector(vl: Res<VectorLayers>, input: PickInput, mut vp: ResMut<VectorPick>) {
    let PickInput { gesture, capture, map, res, selection, hover, mode } = input;
    if vl.layers.is_empty() {
        return;
    }
    // As for the atlas's features: no hover in a presentation or a screenshot.
    let over_map = gesture.cursor.is_some_and(|c| map.viewport.contains(c))
        && !capture.pointer
        && !gesture.dragging
        && hover.0
        && *mode.get() != AppMode::Present;
    let hovered = match (gesture.cursor, over_map, selection.hovered) {
        (Some(c), true, None) => pick_at(&vl, &map, &res.frame, c),
        _ => None,
    };
    if vp.hovered != hovered {
        vp.hovered = hovered;
    }
    if let Some(c) = gesture.clicked
        && !capture.pointer
    {
        let hit = if selection.selected.is_some() { None } else { pick_at(&vl, &map, &res.frame, c) };
        if vp.selected != hit {
            vp.selected = hit;
        }
    }
}

/// Outlines the selected feature in every tile on screen holding a piece of it; rebuilt when
/// the selection or the tiles on screen change.
pub fn highlight(
    mut commands: Commands,
    vl: Res<VectorLayers>,
    mut vp: ResMut<VectorPick>,
    res: Res<AtlasRes>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<MapMaterial>>,
) {
    let want = vp.selected.as_ref().and_then(|s| {
        let l = vl.get(s.source)?;
        Some((s.source, s.sublayer.clone(), s.key.clone(), l.shown.clone()))
    });
    if want == vp.overlay_for {
        return;
    }
    for e in vp.overlays.drain(..) {
        commands.entity(e).despawn();
    }
    vp.overlay_for = want.clone();
    let Some((source, sublayer, key, shown)) = want else { return };
    let Some(l) = vl.get(source) else { return };
    let mats = vp
        .material
        .get_or_insert_with(|| {
            let c = Color::srgb_u8(0xff, 0xc8, 0x00);
            [
                materials.add(MapMaterial::new(c, 0.35, 0.0, false, false)),
                materials.add(MapMaterial::new(c, 1.0, 3.0, false, false)),
            ]
        })
        .clone();
    for t in shown {
        let Some(built) = l.tiles.get(&t).and_then(|s| s.built.as_ref()) else { continue };
        let Some(layer) = built.tile.layers.iter().find(|ly| ly.name == sublayer) else { continue };
        let mut only = layer.clone();
        only.features.retain(|f| feature_key(layer, f) == key);
        if only.features.is_empty() {
            continue;
        }
        let o = tile_origin(&res.frame, t);
        for (mesh, fill) in build_slot_meshes(&only, t) {
            let e = commands
                .spawn((
                    Mesh2d(meshes.add(mesh)),
                    MeshMaterial2d(mats[if fill { 0 } else { 1 }].clone()),
                    Transform::from_xyz(o.x as f32, o.y as f32, z::SELECTED + if fill { 0.0 } else { 0.5 }),
                ))
                .id();
            vp.overlays.push(e);
        }
    }
}

/// Names of vector features on screen, as label candidates: areas only when big enough on
/// screen (as for the atlas's layers), at most `limit`.
pub fn labels(vl: &VectorLayers, vp: &VectorPick, frame: &LocalFrame, map: &MapView, limit: usize) -> Vec<MapLabel> {
    let mut out = Vec::new();
    for l in vl.layers.iter().filter(|l| l.visible) {
        for t in &l.shown {
            let Some(built) = l.tiles.get(t).and_then(|s| s.built.as_ref()) else { continue };
            let o = tile_origin(frame, *t);
            for (li, layer) in built.tile.layers.iter().enumerate() {
                let Some(style) = l.styles.iter().find(|s| s.name == layer.name && s.visible) else { continue };
                let Some(field) = &style.label_field else { continue };
                let fr = TileFrame::new(*t, *t, layer.extent);
                let boxes = built.bboxes.get(li);
                for (i, f) in layer.features.iter().enumerate() {
                    if out.len() >= limit {
                        return out;
                    }
                    let chosen = vp.selected.as_ref().is_some_and(|s| s.source == l.id && s.tile == *t && s.index == i);
                    // Too small on screen to carry a name: skipped before anything is decoded.
                    if let Some(b) = boxes.and_then(|b| b.get(i)) {
                        let side = f64::from((b[2] - b[0]).max(b[3] - b[1])) * fr.scale;
                        if side > 0.0 && side / map.scale < 40.0 && !chosen {
                            continue;
                        }
                    }
                    let Some(name) = layer.property(f, field) else { continue };
                    let Some((a, size)) = label_anchor(layer, i, &fr) else { continue };
                    if size > 0.0 && size / map.scale < 40.0 && !chosen {
                        continue;
                    }
                    out.push(MapLabel {
                        world: o + DVec2::new(a[0], a[1]),
                        text: name.to_string(),
                        is_point: size == 0.0,
                        size_m: size,
                        chosen,
                    });
                }
            }
        }
    }
    out
}

/// Features on screen whose label-field value contains `query` (any case), at most `limit`,
/// each once however many tiles hold it.
pub fn search_in_view(vl: &VectorLayers, frame: &LocalFrame, query: &str, limit: usize) -> Vec<PickedFeature> {
    let q = query.trim().to_lowercase();
    let mut out: Vec<PickedFeature> = Vec::new();
    if q.is_empty() {
        return out;
    }
    for l in vl.layers.iter().filter(|l| l.visible) {
        for t in &l.shown {
            let Some(built) = l.tiles.get(t).and_then(|s| s.built.as_ref()) else { continue };
            for layer in &built.tile.layers {
                let Some(field) = l.styles.iter().find(|s| s.name == layer.name).and_then(|s| s.label_field.as_ref())
                else {
                    continue;
                };
                for (i, f) in layer.features.iter().enumerate() {
                    let Some(v) = layer.property(f, field) else { continue };
                    if !v.to_string().to_lowercase().contains(&q) {
                        continue;
                    }
                    let key = feature_key(layer, f);
                    if out.iter().any(|p| p.source == l.id && p.sublayer == layer.name && p.key == key) {
                        continue;
                    }
                    if let Some(p) = describe(vl, l.id, *t, layer, i, frame) {
                        out.push(p);
                    }
                    if out.len() >= limit {
                        return out;
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::layers::vector::tests::{app_at, fixture, settle};
    use crate::tiles::vector::VectorSpec;

    #[test]
    fn a_click_picks_the_parcel_under_it_outlines_it_across_tiles_and_search_finds_it_once() {
        // Zoom 14 tiles around the parcels; parcel 122 (two blocks) lies in one tile, 121 (with a
        // hole) near a tile corner.
        let mut app = app_at(vec![VectorSpec::File(fixture("gdal.mbtiles"))], 121.12, 31.455, 3.0);
        settle(&mut app);
        let (frame, map) = (app.world().resource::<AtlasRes>().frame, app.world().resource::<MapView>().clone());
        let vl = app.world().resource::<VectorLayers>();
        // Parcel 29's label anchor, from the tile that holds its centre.
        let (tile, layer, index) = vl.layers[0]
            .shown
            .iter()
            .find_map(|t| {
                let built = vl.layers[0].tiles.get(t)?.built.as_ref()?;
                let layer = built.tile.layers.iter().find(|l| l.name == "parcels")?;
                let i = layer
                    .features
                    .iter()
                    .position(|f| layer.property(f, "id").map(|v| v.to_string()).as_deref() == Some("29"))?;
                label_anchor(layer, i, &TileFrame::new(*t, *t, layer.extent))?;
                Some((*t, layer.clone(), i))
            })
            .expect("parcel 29 in view");
        let (a, _) = label_anchor(&layer, index, &TileFrame::new(tile, tile, layer.extent)).unwrap();
        let world = tile_origin(&frame, tile) + DVec2::new(a[0], a[1]);
        let screen = map.world_to_screen(world);
        let picked = pick_at(vl, &map, &frame, screen).expect("a parcel under the cursor");
        assert_eq!(picked.name.as_deref(), Some("地块-0029"));
        assert_eq!(picked.sublayer, "parcels");
        assert!(picked.properties.iter().any(|(k, v)| k == "landuse" && !v.is_empty()));
        // Through the pointer: a click selects it, and its outline is drawn.
        {
            let mut g = app.world_mut().resource_mut::<PointerGesture>();
            g.cursor = Some(screen);
            g.clicked = Some(screen);
        }
        app.update();
        app.world_mut().resource_mut::<PointerGesture>().clicked = None;
        app.update();
        let vp = app.world().resource::<VectorPick>();
        assert_eq!(vp.selected.as_ref().and_then(|s| s.name.clone()).as_deref(), Some("地块-0029"));
        assert_eq!(vp.hovered.as_ref().map(|h| h.key.clone()), Some(picked.key.clone()));
        assert!(vp.overlay_count() >= 2, "fill and outline");
        // Search among features in view: each parcel once, however many tiles repeat it.
        let vl = app.world().resource::<VectorLayers>();
        let hits = search_in_view(vl, &frame, "地块-00", 500);
        let mut names: Vec<String> = hits.iter().filter_map(|h| h.name.clone()).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "no parcel twice");
        assert!(n >= 20, "{n}");
        // Labels: at 3 m/px a 60 m parcel is 20 px, too small to carry a name; closer it is not.
        let vp = app.world().resource::<VectorPick>();
        let far: Vec<_> = labels(vl, vp, &frame, &map, 1000).into_iter().filter(|l| !l.chosen).collect();
        assert!(far.iter().all(|l| l.is_point || l.size_m / map.scale >= 40.0));
        let near = MapView { scale: 1.0, ..map.clone() };
        assert!(labels(vl, vp, &frame, &near, 1000).iter().any(|l| l.text == "地块-0029"));
    }
}
