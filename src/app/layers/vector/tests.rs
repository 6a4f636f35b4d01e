//! The vector tile plugin alone under `MinimalPlugins`, on the GDAL-made MBTiles fixture.

use bevy::math::DVec2;

use super::*;
use crate::tiles::vector::style::SourceLayerStyle;

pub(super) fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vector").join(name)
}

pub(super) fn app_at(specs: Vec<VectorSpec>, lon: f64, lat: f64, scale: f64) -> App {
    let mut app = crate::app::state::minimal_app();
    app.add_plugins(AssetPlugin::default());
    app.init_asset::<Shader>().init_asset::<Mesh>().init_asset::<MapMaterial>();
    let frame = app.world().resource::<AtlasRes>().frame;
    let (x, y) = frame.project(lon, lat);
    let mut map = MapView { viewport: bevy::math::Rect::new(0.0, 0.0, 1200.0, 800.0), ..default() };
    map.center = DVec2::new(x, y);
    map.target_center = map.center;
    map.scale = scale;
    map.target_scale = scale;
    map.viewport_known = true;
    app.insert_resource(map)
        .init_resource::<crate::app::view::PointerGesture>()
        .init_resource::<crate::app::view::UiCapture>()
        .add_plugins(VectorPlugin { saved: specs.into_iter().map(OpenVector::new).collect(), bake: true });
    app
}

pub(super) fn settle(app: &mut App) {
    for _ in 0..2000 {
        app.update();
        let vl = app.world().resource::<VectorLayers>();
        if app.world().resource::<Readiness>().vector_settled
            && vl.layers.iter().all(|l| l.info.is_some() || l.error.is_some())
        {
            // One more frame applies the visibility of what was uploaded last.
            app.update();
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    panic!("vector layers did not settle");
}

/// Visible tile parts: (tile, sublayer).
fn visible(app: &mut App) -> Vec<(TileId, usize)> {
    let mut q = app.world_mut().query::<(&VectorTilePart, &Visibility)>();
    let mut v: Vec<(TileId, usize)> =
        q.iter(app.world()).filter(|(_, vis)| **vis != Visibility::Hidden).map(|(p, _)| (p.tile, p.sublayer)).collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn an_mbtiles_layer_draws_the_view_follows_it_and_hides_what_the_user_turns_off() {
    let mut app = app_at(vec![VectorSpec::File(fixture("gdal.mbtiles"))], 121.12, 31.455, 3.0);
    settle(&mut app);
    let vl = app.world().resource::<VectorLayers>();
    let l = &vl.layers[0];
    let names: Vec<&str> = l.styles.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["parcels", "roads"]);
    assert_eq!(l.styles[0].label_field.as_deref(), Some("name"), "labels from the name field by default");
    assert!(!l.shown.is_empty() && l.shown.iter().all(|t| t.z == 14), "{:?}", l.shown);
    let shown = l.shown.clone();
    // Every shown tile with data is drawn, placed at its north-west corner in the local frame.
    let on = visible(&mut app);
    assert!(on.iter().any(|(_, s)| *s == 0) && on.iter().any(|(_, s)| *s == 1), "{on:?}");
    let frame = app.world().resource::<AtlasRes>().frame;
    let mut q = app.world_mut().query::<(&VectorTilePart, &Transform)>();
    for (p, tr) in q.iter(app.world()) {
        let (mx, my, _) = p.tile.mercator_nw();
        let (x, y) = frame.from_mercator(mx, my);
        assert!((tr.translation.x as f64 - x).abs() < 0.01 && (tr.translation.y as f64 - y).abs() < 0.01);
    }
    let requests = app.world().resource::<VectorLayers>().requests();
    assert!(requests >= shown.len());

    // The user turns the parcels off: their meshes hide, the roads stay.
    app.world_mut().resource_mut::<VectorLayers>().layers[0].styles[0].visible = false;
    app.update();
    let on = visible(&mut app);
    assert!(on.iter().all(|(_, s)| *s == 1) && !on.is_empty(), "{on:?}");
    app.world_mut().resource_mut::<VectorLayers>().layers[0].styles[0].visible = true;

    // Zoomed out past the source's coarsest tiles: its zoom-10 tile is drawn.
    app.world_mut().resource_mut::<MapView>().scale = 400.0;
    settle(&mut app);
    let l = &app.world().resource::<VectorLayers>().layers[0];
    assert_eq!(l.shown, vec![TileId { z: 10, x: 856, y: 417 }]);

    // Back to the first view: its tiles are still held, so nothing is read again.
    let before = app.world().resource::<VectorLayers>().requests();
    app.world_mut().resource_mut::<MapView>().scale = 3.0;
    settle(&mut app);
    let vl = app.world().resource::<VectorLayers>();
    assert_eq!(vl.layers[0].shown, shown);
    assert_eq!(vl.requests(), before, "cached tiles are not fetched again");

    // Far away (Shanghai's centre): nothing of the source is in view, so nothing is asked for.
    let frame = app.world().resource::<AtlasRes>().frame;
    let (x, y) = frame.project(121.47, 31.23);
    app.world_mut().resource_mut::<MapView>().center = DVec2::new(x, y);
    settle(&mut app);
    assert!(app.world().resource::<VectorLayers>().layers[0].shown.is_empty());
    assert_eq!(app.world().resource::<VectorLayers>().requests(), before);
    assert!(visible(&mut app).is_empty());
}

#[test]
fn a_bad_source_is_one_problem_naming_it_and_the_view_settles() {
    let dir = std::env::temp_dir().join(format!("port-atlas-vector-plugin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("survey.mbtiles");
    std::fs::write(&bad, "not sqlite").unwrap();
    let mut app = app_at(
        vec![VectorSpec::File(bad.clone()), VectorSpec::File(fixture("tippecanoe.pmtiles"))],
        121.12,
        31.455,
        3.0,
    );
    settle(&mut app);
    let problems = app.world().resource::<Problems>();
    let errors: Vec<_> = problems.list.iter().filter(|d| d.severity == crate::diagnostic::Severity::Error).collect();
    assert_eq!(errors.len(), 1, "{:?}", problems.list);
    assert_eq!(errors[0].file, bad);
    let vl = app.world().resource::<VectorLayers>();
    assert!(vl.layers[0].error.is_some());
    assert!(!vl.layers[1].shown.is_empty(), "the good source still draws");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn colouring_by_an_attribute_rebuilds_held_tiles_with_a_class_per_feature() {
    let mut app = app_at(vec![VectorSpec::File(fixture("tippecanoe.pmtiles"))], 121.12, 31.455, 3.0);
    settle(&mut app);
    let requests = app.world().resource::<VectorLayers>().requests();
    {
        let mut vl = app.world_mut().resource_mut::<VectorLayers>();
        let l = &mut vl.layers[0];
        let counts = l.value_counts("parcels", "landuse");
        assert_eq!(counts.len(), 4, "{counts:?}");
        let s = &mut l.styles[0];
        s.category_field = Some("landuse".into());
        s.categories = SourceLayerStyle::categorise(counts);
    }
    settle(&mut app);
    let mut q = app.world_mut().query::<(&VectorTilePart, &Mesh2d)>();
    let fills: Vec<Handle<Mesh>> = q
        .iter(app.world())
        .filter(|(p, _)| p.part == Part::Fill && p.sublayer == 0)
        .map(|(_, m)| m.0.clone())
        .collect();
    assert!(!fills.is_empty());
    let meshes = app.world().resource::<Assets<Mesh>>();
    let mut classes = std::collections::BTreeSet::new();
    for h in &fills {
        if let Some(bevy::mesh::VertexAttributeValues::Float32x2(uv)) =
            meshes.get(h).and_then(|m| m.attribute(Mesh::ATTRIBUTE_UV_0))
        {
            classes.extend(uv.iter().map(|c| c[1] as u8));
        }
    }
    assert_eq!(classes.into_iter().collect::<Vec<_>>(), vec![1, 2, 3, 4], "each land use its class");
    assert_eq!(app.world().resource::<VectorLayers>().requests(), requests, "rebuilt from the tiles held");
}
