//! The layers and picking plugins together under `MinimalPlugins`: commands, loading, selection
//! and picking, no rendering. Each plugin's tests alone live beside it.

use bevy::prelude::*;

use super::layers::{Tessellation, handle_commands};
use super::state::{AtlasCommand, AtlasRes, LayerId, LayerView, Problems, Selection};
use super::view::{MapView, PointerGesture, UiCapture};

fn app() -> App {
    let mut app = super::state::minimal_app();
    let map = MapView { viewport: bevy::math::Rect::new(300.0, 30.0, 1180.0, 970.0), ..default() };
    app.insert_resource(map)
        .init_resource::<Tessellation>()
        .init_resource::<UiCapture>()
        .init_resource::<PointerGesture>()
        .add_systems(Update, (handle_commands, super::layers::finish_loads, super::picking::pick).chain());
    app
}

/// Runs frames until `done` (worker threads finish between them), for at most two seconds.
fn update_until(app: &mut App, done: impl Fn(&App) -> bool) {
    for _ in 0..400 {
        app.update();
        if done(app) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

fn lonlat_of_target(app: &App) -> (f64, f64) {
    let map = app.world().resource::<MapView>();
    let res = app.world().resource::<AtlasRes>();
    res.frame.unproject(map.target_center.x, map.target_center.y)
}

#[test]
fn focus_place_selects_it_and_frames_it() {
    let mut app = app();
    app.world_mut().write_message(AtlasCommand::FocusPlace("jincang-lake-park".into()));
    app.update();
    let res = app.world().resource::<AtlasRes>();
    let want = res.atlas.feature_of("jincang-lake-park");
    assert_eq!(app.world().resource::<Selection>().selected, want);
    let (lon, lat) = lonlat_of_target(&app);
    // The park's disc, centred on its cited proxy position.
    assert!((lon - 121.0739).abs() < 1e-3 && (lat - 31.5004).abs() < 1e-3, "{lon},{lat}");
    // A small site gets a neighbourhood, not an infinite zoom.
    assert!(app.world().resource::<MapView>().target_scale >= 8.0);
}

#[test]
fn unknown_place_and_bad_layer_become_visible_problems() {
    let mut app = app();
    let layers_before = app.world().resource::<AtlasRes>().atlas.layers.len();
    app.world_mut().write_message(AtlasCommand::FocusPlace("atlantis".into()));
    app.world_mut().write_message(AtlasCommand::LoadLayer("/nonexistent/layer.geojson".into()));
    // Files are read on a worker thread; give it a moment.
    for _ in 0..200 {
        app.update();
        if app.world().resource::<Problems>().list.len() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let problems = app.world().resource::<Problems>();
    let all: Vec<String> = problems.list.iter().map(|d| d.to_string()).collect();
    assert!(all.iter().any(|p| p.contains("\"atlantis\": no place")), "{all:?}");
    assert!(all.iter().any(|p| p.contains("error: /nonexistent/layer.geojson: cannot read")), "{all:?}");
    assert!(problems.open);
    assert_eq!(app.world().resource::<AtlasRes>().atlas.layers.len(), layers_before);
}

#[test]
fn a_dropped_layer_loads_off_thread_joins_the_gazetteer_and_gets_tessellated() {
    let dir = std::env::temp_dir().join(format!("port-atlas-applayer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("planned.geojson");
    std::fs::write(
        &path,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"new-wharf","name_zh_hant":"新碼頭","name_en":"New Wharf"},"geometry":{"type":"Polygon","coordinates":[[[121.2,31.6],[121.21,31.6],[121.21,31.61],[121.2,31.61],[121.2,31.6]]]}}]}"#,
    )
    .unwrap();
    let mut app = app();
    // Mesh and material storage without a renderer: the meshes are built, just never drawn.
    app.insert_resource(Assets::<Mesh>::default())
        .insert_resource(Assets::<super::layers::material::MapMaterial>::default())
        .add_systems(Update, super::layers::poll_tasks.after(super::layers::finish_loads));
    // The built-in layers, and the places the report mentions that no layer draws.
    let before = app.world().resource::<AtlasRes>().atlas.layers.len();
    app.world_mut().write_message(AtlasCommand::LoadLayer(path));
    let new = LayerId(before);
    update_until(&mut app, |app| app.world().resource::<LayerView>().get(new).is_some_and(|l| l.shown));
    let res = app.world().resource::<AtlasRes>();
    assert_eq!(res.atlas.layers.len(), before + 1);
    assert!(res.atlas.gazetteer.get("new-wharf").is_some(), "named features join the gazetteer");
    let view = app.world().resource::<LayerView>();
    assert!(view.get(new).is_some_and(|l| l.shown), "tessellated off thread");
    assert_eq!(view.len(), before + 1);
    // A user's layer need not carry the atlas's own attributes: no problem to report.
    assert!(app.world().resource::<Problems>().is_empty(), "{:?}", app.world().resource::<Problems>().list);
    assert!(app.world().resource::<Tessellation>().settled());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn clicking_the_map_selects_what_is_under_the_cursor_and_scrolls_to_its_passage() {
    let mut app = app();
    app.world_mut().write_message(AtlasCommand::FocusPlace("taicang-port".into()));
    app.update();
    app.world_mut().resource_mut::<MapView>().snap();
    app.world_mut().resource_mut::<Selection>().selected = None;
    // Click on a point inside the port area.
    let screen = {
        use geo::InteriorPoint;
        let res = app.world().resource::<AtlasRes>();
        let f = res.atlas.feature(res.atlas.feature_of("taicang-port").unwrap()).unwrap();
        let p = f.geometry.interior_point().unwrap();
        let (x, y) = res.frame.project(p.x(), p.y());
        app.world().resource::<MapView>().world_to_screen(bevy::math::DVec2::new(x, y))
    };
    {
        let mut g = app.world_mut().resource_mut::<PointerGesture>();
        g.clicked = Some(screen);
        g.cursor = Some(screen);
    }
    app.update();
    let res = app.world().resource::<AtlasRes>();
    let sel = app.world().resource::<Selection>();
    assert_eq!(sel.selected, res.atlas.feature_of("taicang-port"));
    assert_eq!(sel.hovered, res.atlas.feature_of("taicang-port"));
    // The first passage naming the port area is line 3.
    let (d, p) = sel.scroll_to.expect("scroll to a passage");
    assert_eq!(res.atlas.documents[d].passages[p].line, 3);
}

#[test]
fn input_over_panels_does_not_reach_the_map() {
    let mut app = app();
    app.world_mut().resource_mut::<UiCapture>().pointer = true;
    {
        let mut g = app.world_mut().resource_mut::<PointerGesture>();
        g.clicked = Some(Vec2::new(700.0, 500.0));
        g.cursor = Some(Vec2::new(700.0, 500.0));
    }
    app.update();
    let sel = app.world().resource::<Selection>();
    assert_eq!((sel.selected, sel.hovered), (None, None));
}

/// The plugins' imports form a tree: plugins import only the shared modules, except `panels`,
/// which shows sections of the presenter, basemap and layers; nothing imports `panels`.
#[test]
fn plugin_imports_form_a_tree() {
    const PLUGINS: [&str; 9] =
        ["camera", "picking", "fonts", "screenshot", "bench", "presenter", "basemap", "layers", "panels"];
    let app_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app");
    let sources = |plugin: &str| -> String {
        let dir = app_dir.join(plugin);
        if dir.is_dir() {
            // The plugin's files, its submodules' folders included.
            let mut text = String::new();
            let mut dirs = vec![dir];
            while let Some(d) = dirs.pop() {
                for entry in std::fs::read_dir(&d).unwrap() {
                    let p = entry.unwrap().path();
                    if p.is_dir() {
                        dirs.push(p);
                    } else {
                        text.push_str(&std::fs::read_to_string(p).unwrap());
                    }
                }
            }
            text
        } else {
            std::fs::read_to_string(app_dir.join(format!("{plugin}.rs"))).unwrap()
        }
    };
    for plugin in PLUGINS {
        let text = sources(plugin);
        let imported: Vec<&str> = PLUGINS
            .into_iter()
            .filter(|other| *other != plugin)
            .filter(|other| {
                // From a plugin's own file `super::` is `app`; from its submodules it is the
                // plugin, whose submodules are never named after a plugin.
                text.contains(&format!("crate::app::{other}")) || text.contains(&format!("super::{other}"))
            })
            .collect();
        let allowed: &[&str] = if plugin == "panels" { &["presenter", "basemap", "layers"] } else { &[] };
        assert!(imported.iter().all(|i| allowed.contains(i)), "{plugin} imports {imported:?}");
    }
}

#[test]
fn a_table_is_asked_about_then_opens_with_the_answer_and_can_be_restyled() {
    let dir = std::env::temp_dir().join(format!("port-atlas-apptable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("企业.csv");
    let (glon, glat) = crate::proj::wgs84_to_gcj02(121.2461, 31.6242);
    std::fs::write(&path, format!("企业名称,类型,经度,纬度\n太仓港集装箱码头,港区,{glon},{glat}\n")).unwrap();
    let mut app = app();
    app.insert_resource(Assets::<Mesh>::default())
        .insert_resource(Assets::<super::layers::material::MapMaterial>::default())
        .add_systems(Update, super::layers::poll_tasks.after(super::layers::finish_loads));
    let before = app.world().resource::<AtlasRes>().atlas.layers.len();
    let new = LayerId(before);
    app.world_mut().write_message(AtlasCommand::LoadLayer(path.clone()));
    let asked = |app: &App| !app.world().resource::<super::state::OpenQuestions>().0.is_empty();
    update_until(&mut app, asked);
    // Never drawn by assumption: the table waits for its columns and system.
    assert_eq!(app.world().resource::<AtlasRes>().atlas.layers.len(), before);
    let q = app.world_mut().resource_mut::<super::state::OpenQuestions>().0.remove(0);
    let super::state::Ask::Crs { guesses, .. } = &q.ask else { panic!("{q:?}") };
    assert_eq!(guesses[0].crs, "gcj02", "degrees from a table: GCJ-02 first");
    let mut options = q.options.clone();
    options.crs = Some(crate::spatial::crs::SourceCrs::parse(&guesses[0].crs).unwrap());
    options.columns = Some(("经度".into(), "纬度".into()));
    app.world_mut().write_message(AtlasCommand::OpenLayer(path, Box::new(options)));
    update_until(&mut app, |app| app.world().resource::<LayerView>().get(new).is_some_and(|l| l.shown));
    let res = app.world().resource::<AtlasRes>();
    let layer = &res.atlas.layers[new.0];
    let geo::Geometry::Point(p) = layer.features[0].geometry else { panic!() };
    assert!(crate::proj::distance_m((p.x(), p.y()), (121.2461, 31.6242)) < 0.5, "GCJ-02 converted");
    assert_eq!(layer.features[0].name_zh_hans, "太仓港集装箱码头");
    // Colour by 类型: the layer is rebuilt with its classes.
    app.world_mut().write_message(AtlasCommand::StyleBy(new, Some("类型".into())));
    update_until(&mut app, |app| app.world().resource::<Tessellation>().settled());
    let res = app.world().resource::<AtlasRes>();
    assert_eq!(res.atlas.layers[new.0].meta.categorized.as_ref().unwrap().classes[0].0, "港区");
    assert!(app.world().resource::<LayerView>().get(new).is_some_and(|l| l.shown));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_tile_archive_opened_like_any_layer_goes_to_the_vector_layers() {
    let mut app = app();
    app.init_resource::<super::layers::vector::VectorLayers>();
    let archive = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vector/gdal.mbtiles");
    app.world_mut().write_message(AtlasCommand::LoadLayer(archive.clone()));
    app.update();
    let vl = app.world().resource::<super::layers::vector::VectorLayers>();
    assert_eq!(vl.pending.len(), 1, "queued for the vector plugin");
    assert_eq!(vl.pending[0].spec, crate::tiles::vector::VectorSpec::File(archive));
    assert!(app.world().resource::<Tessellation>().loading.is_empty(), "not read as a file layer");
    assert!(app.world().resource::<Problems>().is_empty());
}
