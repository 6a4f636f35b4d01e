//! The basemap plugin's tests: alone under `MinimalPlugins`, against a server that is not there.

use super::*;
use crate::proj::Crs;

/// The basemap plugin alone, against a port where nothing listens: tiles fail fast, one
/// warning names the server, and the view counts as settled (screenshots do not wait).
#[test]
fn the_plugin_alone_reports_a_dead_server_once_and_settles() {
    let mut app = crate::app::state::minimal_app();
    app.add_plugins(AssetPlugin::default());
    app.init_asset::<Shader>().init_asset::<Mesh>().init_asset::<Image>();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let template = format!("http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png");
    let source = TileSource::new(&template, &[], Crs::Wgs84, "test").unwrap();
    let cache = std::env::temp_dir().join(format!("port-atlas-basemap-plugin-{}", std::process::id()));
    let mut map = MapView { viewport: bevy::math::Rect::new(0.0, 0.0, 800.0, 600.0), ..default() };
    map.viewport_known = true;
    app.insert_resource(map).add_plugins(BasemapPlugin {
        initial: Some(source),
        cache_dir: Some(cache.clone()),
        interactive: None,
    });
    let mut settled_after_failing = false;
    for _ in 0..1500 {
        app.update();
        let loader = app.world().resource::<TileLoader>();
        if !loader.failures.is_empty() && app.world().resource::<Readiness>().tiles_settled {
            settled_after_failing = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(4));
    }
    assert!(settled_after_failing, "tiles failed and the view settled");
    let problems = app.world().resource::<Problems>();
    assert_eq!(problems.list.len(), 1, "{:?}", problems.list);
    let d = problems.list.iter().next().unwrap();
    assert_eq!(d.severity, crate::diagnostic::Severity::Warning);
    assert_eq!(d.file, std::path::PathBuf::from(template));
    std::fs::remove_dir_all(&cache).ok();
}
