//! What is drawn over the layers: the hover and selection outlines and the presenter's dimming
//! veil.

use bevy::prelude::*;

use super::build::{extruded_mesh, fill_mesh};
use super::material::MapMaterial;
use crate::app::state::{AtlasRes, Selection};
use crate::app::view::z;
use crate::index::FeatureRef;
use crate::tess::{self, FillBuffers};

/// Marks the hover and selection outlines, rebuilt whenever they change.
#[derive(Component)]
pub struct Overlay;

/// Rebuilds the hover and selection overlays when they change: a single feature is cheap to
/// tessellate on the spot.
pub fn update_overlays(
    mut commands: Commands,
    selection: Res<Selection>,
    res: Res<AtlasRes>,
    old: Query<Entity, With<Overlay>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<MapMaterial>>,
    mut last: Local<(Option<FeatureRef>, Option<FeatureRef>, Vec<FeatureRef>)>,
) {
    let now = (selection.hovered, selection.selected, selection.emphasized.clone());
    // An edit changes the selected feature's geometry without changing the selection.
    if *last == now && !res.is_changed() {
        return;
    }
    *last = now.clone();
    for e in &old {
        commands.entity(e).despawn();
    }
    let highlight = Color::srgb(1.0, 0.8, 0.1);
    let mut spawn = |r: FeatureRef, selected: bool| {
        let Some(f) = res.atlas.feature(r) else { return };
        let (m, _) = tess::tessellate([&f.geometry], &res.frame, 0.5);
        let z = if selected { z::SELECTED } else { z::HOVER };
        let mut add = |mesh: Mesh, mat: MapMaterial, dz: f32| {
            commands.spawn((
                Mesh2d(meshes.add(mesh)),
                MeshMaterial2d(materials.add(mat)),
                Transform::from_xyz(0.0, 0.0, z + dz),
                Overlay,
            ));
        };
        if selected && !m.fill.indices.is_empty() {
            add(fill_mesh(&m.fill, &[]), MapMaterial::new(highlight, 0.35, 0.0, false, true), 0.0);
        }
        let width = if selected { 4.0 } else { 3.0 };
        let color = if selected { highlight } else { Color::srgb(0.1, 0.1, 0.1) };
        for b in [&m.outlines, &m.lines] {
            if !b.indices.is_empty() {
                add(extruded_mesh(b, &[]), MapMaterial::new(color, 0.95, width, false, selected), 1.0);
            }
        }
        if !m.points.indices.is_empty() {
            add(extruded_mesh(&m.points, &[]), MapMaterial::new(color, 0.5, 24.0, false, selected), 0.5);
        }
    };
    if let Some(h) = now.0
        && Some(h) != now.1
    {
        spawn(h, false);
    }
    if let Some(s) = now.1 {
        spawn(s, true);
    }
    for &e in &now.2 {
        if Some(e) != now.1 {
            spawn(e, true);
        }
    }
}

/// A translucent veil over every layer (under the overlays) that dims the map around the places
/// a presentation step emphasises.
#[derive(Component)]
pub struct DimVeil;

pub fn spawn_veil(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<MapMaterial>>,
) {
    let r = 1.0e7_f32;
    let fill = FillBuffers {
        positions: vec![[-r, -r], [r, -r], [r, r], [-r, r]],
        feature: vec![0; 4],
        indices: vec![0, 1, 2, 0, 2, 3],
    };
    commands.spawn((
        Mesh2d(meshes.add(fill_mesh(&fill, &[]))),
        MeshMaterial2d(materials.add(MapMaterial::new(Color::srgb(0.97, 0.97, 0.96), 0.55, 0.0, false, false))),
        Transform::from_xyz(0.0, 0.0, z::VEIL),
        Visibility::Hidden,
        DimVeil,
    ));
}

pub fn sync_veil(selection: Res<Selection>, mut veil: Query<&mut Visibility, With<DimVeil>>) {
    let want = if selection.emphasized.is_empty() { Visibility::Hidden } else { Visibility::Inherited };
    for mut v in &mut veil {
        if *v != want {
            *v = want;
        }
    }
}
