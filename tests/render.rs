//! Renders the atlas headless (Xvfb + Mesa lavapipe) through the real binary and checks pixels.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test, with its message.

use std::path::Path;
use std::process::Command;

use port_atlas::proj::LocalFrame;

#[path = "support/tile_server.rs"]
mod tile_server;

struct Shot {
    img: image::RgbImage,
    /// The app's log (stderr), for warnings.
    log: String,
    viewport: [f32; 4],
    center: (f64, f64),
    scale: f64,
}

impl Shot {
    /// Pixel of a lon/lat, by the view the app reported beside the PNG.
    fn pixel(&self, lon: f64, lat: f64) -> (i64, i64) {
        let (x, y) = LocalFrame::default().project(lon, lat);
        let cx = (self.viewport[0] + self.viewport[2]) as f64 / 2.0;
        let cy = (self.viewport[1] + self.viewport[3]) as f64 / 2.0;
        ((cx + (x - self.center.0) / self.scale).round() as i64, (cy - (y - self.center.1) / self.scale).round() as i64)
    }

    /// How many pixels within `r` of (x, y) satisfy `pred`, and how many were looked at.
    fn count(&self, (x, y): (i64, i64), r: i64, pred: impl Fn([u8; 3]) -> bool) -> (usize, usize) {
        let mut hits = 0;
        let mut n = 0;
        for yy in y - r..=y + r {
            for xx in x - r..=x + r {
                if xx < 0 || yy < 0 || xx >= self.img.width() as i64 || yy >= self.img.height() as i64 {
                    continue;
                }
                n += 1;
                if pred(self.img.get_pixel(xx as u32, yy as u32).0) {
                    hits += 1;
                }
            }
        }
        (hits, n)
    }
}

fn render(args: &[&str], out: &Path) -> Shot {
    let bin = env!("CARGO_BIN_EXE_port-atlas");
    let mut cmd = if std::env::var_os("DISPLAY").is_some() {
        Command::new(bin)
    } else {
        let mut c = Command::new("xvfb-run");
        c.args(["-a", "-s", "-screen 0 1600x1000x24", bin]);
        c
    };
    // The planner's own saved edits would move built-in features: keep this machine's out.
    cmd.env("XDG_DATA_HOME", out.with_extension("data"));
    cmd.args(args).arg("--screenshot").arg(out);
    let output = cmd.output().expect("run port-atlas under xvfb-run (install with scripts/install-deps.sh)");
    assert!(
        output.status.success(),
        "port-atlas failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let img = image::open(out).expect("screenshot PNG").to_rgb8();
    let view: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.with_extension("view.json")).unwrap()).unwrap();
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    let vp = view["viewport"].as_array().unwrap();
    Shot {
        img,
        log: String::from_utf8_lossy(&output.stderr).into_owned(),
        viewport: [f(&vp[0]) as f32, f(&vp[1]) as f32, f(&vp[2]) as f32, f(&vp[3]) as f32],
        center: (f(&view["center_local_m"][0]), f(&view["center_local_m"][1])),
        scale: f(&view["metres_per_px"]),
    }
}

#[test]
fn renders_layers_and_panels_with_real_pixels() {
    let dir = std::env::temp_dir().join(format!("port-atlas-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The home view, nothing selected: layer colours as styled.
    let shot = render(&["--size", "1400x900"], &dir.join("home.png"));
    assert_eq!(shot.img.dimensions(), (1400, 900));

    // The Taicang port area: the port red (hatched, so not every pixel) where the polygon lies.
    let atlas = port_atlas::atlas::Atlas::builtin();
    let port = atlas.feature(atlas.feature_of("taicang-port").unwrap()).unwrap();
    let p = {
        use geo::InteriorPoint;
        port.geometry.interior_point().unwrap()
    };
    let red = |[r, g, b]: [u8; 3]| r > 150 && (r as i32 - g as i32) > 50 && (r as i32 - b as i32) > 50;
    // The band is ~11 px wide at this zoom and hatched (a third of the pixels at full colour).
    let (hits, n) = shot.count(shot.pixel(p.x(), p.y()), 3, red);
    assert!(hits * 6 >= n, "port area colour at its position: {hits}/{n}");

    // The Yangtze's south channel between Taicang and Chongming: water blue.
    let blue = |[r, _g, b]: [u8; 3]| (b as i32 - r as i32) > 40 && b > 180;
    let (wlon, wlat) = (121.22, 31.70);
    {
        use geo::Contains;
        let water = atlas.feature(atlas.feature_of("yangtze").unwrap()).unwrap();
        assert!(water.geometry.contains(&geo::Point::new(wlon, wlat)), "test point must be in the river");
    }
    let water_pt = shot.pixel(wlon, wlat);
    let (hits, n) = shot.count(water_pt, 6, blue);
    assert!(hits * 10 >= n * 8, "Yangtze colour at {water_pt:?}: {hits}/{n}");

    // Inland Taicang, away from zones: land, not water and not port red.
    let (hits, n) = shot.count(shot.pixel(121.02, 31.56), 4, |c| blue(c) || red(c));
    assert!(hits * 10 < n, "land should be neither water nor port: {hits}/{n}");

    // Selecting a place fills the place panel: dark glyph pixels right of the map.
    let shot = render(&["--view", "taicang-port", "--size", "1400x900"], &dir.join("taicang.png"));
    let panel = ((shot.viewport[2] as i64 + 120), 120);
    let (dark, n) = shot.count(panel, 100, |[r, g, b]| (r as u32 + g as u32 + b as u32) < 300);
    assert!(dark > 400 && dark < n / 2, "panel text pixels: {dark}/{n}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Editing mode as a planner opens it on a place: its vertices as handles in the edit colour
/// where the outline runs, and the edit window over the map.
#[test]
fn renders_editing_mode_with_handles_on_the_selected_outline() {
    let dir = std::env::temp_dir().join(format!("port-atlas-edit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shot = render(&["--edit", "--view", "jincang-lake-park", "--size", "1400x900"], &dir.join("edit.png"));
    let atlas = port_atlas::atlas::Atlas::builtin();
    let park = atlas.feature(atlas.feature_of("jincang-lake-park").unwrap()).unwrap();
    let geo::Geometry::Polygon(p) = &park.geometry else { panic!("the park is an area: {:?}", park.geometry) };
    // The edit colour (#c2255c) ringing a vertex of the outline.
    let ink = |[r, g, b]: [u8; 3]| r > 150 && g < 90 && (60..150).contains(&b);
    let mut ringed = 0;
    for c in p.exterior().0.iter().step_by(8) {
        let (hits, _) = shot.count(shot.pixel(c.x, c.y), 6, ink);
        if hits >= 6 {
            ringed += 1;
        }
    }
    let looked = p.exterior().0.iter().step_by(8).count();
    assert!(ringed * 4 >= looked * 3, "vertex handles at the outline: {ringed}/{looked}");
    // Outside the park (its radius is 1.3 km), no edit colour.
    let b = park.bounds().unwrap();
    let (clon, clat) = ((b.min().x + b.max().x) / 2.0, (b.min().y + b.max().y) / 2.0);
    let (stray, n) = shot.count(shot.pixel(clon + 0.019, clat), 15, ink);
    assert!(n > 0 && stray == 0, "{stray}/{n}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A planner's data folder: a GBK Shapefile in Gauss-Krüger (written by GDAL) coloured by its
/// 类型 field, as `layers.json` remembers it: each polygon in its class colour where GDAL put
/// it, and the legend in the layer list.
#[test]
fn renders_a_categorized_planner_layer_with_its_legend() {
    let dir = std::env::temp_dir().join(format!("port-atlas-categorized-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats/shp-4549-gbk");
    for f in ["parcels.shp", "parcels.shx", "parcels.dbf", "parcels.prj", "parcels.cpg"] {
        std::fs::copy(fixtures.join(f), dir.join(f)).unwrap();
    }
    std::fs::write(
        dir.join("layers.json"),
        r##"{"layers":[{"id":"parcels","title_zh_hant":"規劃地塊","title_zh_hans":"规划地块","title_en":"Parcels",
            "color":"#8e44ad","opacity":0.8,
            "categorized":{"field":"类型","classes":[["公园","#e41a1c"],["规划用地","#377eb8"]],"other":"#9e9e9e"},
            "source":{"file":"parcels.shp"}}]}"##,
    )
    .unwrap();
    let shot = render(&["--data", dir.to_str().unwrap(), "--size", "1400x900"], &dir.join("shot.png"));
    let red = |[r, g, b]: [u8; 3]| r > 180 && g < 150 && b < 150;
    let blue = |[r, _g, b]: [u8; 3]| b > 150 && r < 150 && (b as i32 - r as i32) > 50;
    // 金仓湖公园 (公园) and a part of the riverside parcels (规划用地), as placed by GDAL.
    let park = shot.pixel(121.1300, 31.5330);
    let (hits, n) = shot.count(park, 4, red);
    assert!(hits * 10 >= n * 8, "park in its class colour at {park:?}: {hits}/{n}");
    let parcel = shot.pixel(121.2680, 31.5150);
    let (hits, n) = shot.count(parcel, 4, blue);
    assert!(hits * 10 >= n * 8, "parcel in its class colour at {parcel:?}: {hits}/{n}");
    // The legend: both class swatches in the layer list, left of the map.
    let swatches = |pred: &dyn Fn([u8; 3]) -> bool| {
        (0..shot.viewport[0] as u32)
            .flat_map(|x| (0..400).map(move |y| (x, y)))
            .filter(|&(x, y)| pred(shot.img.get_pixel(x, y).0))
            .count()
    };
    assert!(
        swatches(&red) > 60 && swatches(&blue) > 60,
        "legend swatches: {} red, {} blue",
        swatches(&red),
        swatches(&blue)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A presentation step rendered headless: the step's places glow in the selection colour over a
/// dimmed map, and the caption carries large text.
#[test]
fn renders_a_presentation_step() {
    let dir = std::env::temp_dir().join(format!("port-atlas-step-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The story step naming the four port areas.
    let bin = env!("CARGO_BIN_EXE_port-atlas");
    let out = Command::new(bin).args(["story", "--json"]).output().unwrap();
    let story: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let step = story["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["places"].as_array().unwrap().iter().any(|p| p == "changshu-port"))
        .unwrap()["step"]
        .as_u64()
        .unwrap()
        .to_string();
    let shot = render(&["--step", &step, "--size", "1280x800"], &dir.join("step.png"));
    // Selection yellow along the Zhangjiagang port area.
    let atlas = port_atlas::atlas::Atlas::builtin();
    let zjg = atlas.feature(atlas.feature_of("zhangjiagang-port").unwrap()).unwrap();
    let b = zjg.bounds().unwrap();
    let centre = shot.pixel((b.min().x + b.max().x) / 2.0, (b.min().y + b.max().y) / 2.0);
    let yellow = |[r, g, b]: [u8; 3]| r > 200 && g > 150 && (b as i32) < (g as i32) - 60;
    let (hits, n) = shot.count(centre, 25, yellow);
    assert!(hits > 10, "emphasised port area near {centre:?}: {hits}/{n}");
    // The caption: many dark text pixels in the bottom band.
    let (dark, n) = shot.count((640, 740), 60, |[r, g, b]| (r as u32 + g as u32 + b as u32) < 200);
    assert!(dark > 300 && dark < n / 2, "caption text pixels: {dark}/{n}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The data commands as a user runs them: `check` fails on a broken folder and names the file and
/// position; `links --json` links a user's own document.
#[test]
fn cli_check_and_links_on_users_files() {
    let bin = env!("CARGO_BIN_EXE_port-atlas");
    let dir = std::env::temp_dir().join(format!("port-atlas-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("good.geojson"), r#"{"type":"FeatureCollection","features":[]}"#).unwrap();
    std::fs::write(dir.join("broken.geojson"), "{\"type\": \"FeatureCollection\",\n \"features\": [}").unwrap();
    let out = Command::new(bin).arg("check").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "check must fail on a broken file");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("broken.geojson:2:"), "{stdout}");

    let ok = Command::new(bin).arg("check").output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));

    let doc = dir.join("note.txt");
    std::fs::write(&doc, "昆太合作\n\n太仓港区与常熟港区协同发展。\n").unwrap();
    let out = Command::new(bin).args(["links", "--json", "--document"]).arg(&doc).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let passages = v["documents"][0]["passages"].as_array().unwrap();
    assert_eq!(passages.len(), 2);
    assert_eq!(passages[1]["line"], 3);
    let places: Vec<&str> =
        passages[1]["mentions"].as_array().unwrap().iter().map(|m| m["place"].as_str().unwrap()).collect();
    assert_eq!(places, ["taicang-port", "changshu-port"]);
    assert_eq!(passages[0]["mentions"][0]["place"], "kuntai-zone");

    let out = Command::new(bin).args(["story", "--json"]).output().unwrap();
    assert!(out.status.success());
    let story: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = story["steps"].as_array().unwrap();
    assert!(steps.len() > 10);
    let ports = steps.iter().find(|s| s["places"].as_array().unwrap().iter().any(|p| p == "changshu-port")).unwrap();
    assert_eq!(ports["line"], 8);
    assert_eq!(ports["view"].as_array().unwrap().len(), 4);

    let missing = Command::new(bin).args(["links", "--document", "/nonexistent/report.txt"]).output().unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/report.txt: cannot read"));
    std::fs::remove_dir_all(&dir).ok();
}

/// `port-atlas export` output read back by GDAL: every layer with its feature count and CRS.
#[test]
fn export_opens_in_gdal_with_counts_and_crs() {
    let bin = env!("CARGO_BIN_EXE_port-atlas");
    let out = std::env::temp_dir().join(format!("port-atlas-export-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new(bin).args(["export", "--out"]).arg(&out).status().unwrap();
    assert!(status.success());
    let gpkg = out.join("port-atlas.gpkg");
    for (layer, count, geometry) in [
        ("context", 14, "Multi Polygon"),
        ("ports", 5, "Unknown (any)"),
        ("zones", 5, "Polygon"),
        ("corridors", 6, "Line String"),
        // Jincang Lake Park is an area among point sites.
        ("sites", 6, "Unknown (any)"),
    ] {
        for (file, name) in
            [(gpkg.clone(), layer.to_string()), (out.join(format!("{layer}.geojson")), layer.to_string())]
        {
            let o = Command::new("ogrinfo")
                .args(["-so", "-ro"])
                .arg(&file)
                .arg(&name)
                .output()
                .expect("ogrinfo (gdal-bin, installed by scripts/install-deps.sh)");
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(o.status.success(), "{}: {}", file.display(), String::from_utf8_lossy(&o.stderr));
            assert!(text.contains(&format!("Feature Count: {count}")), "{}:{name}\n{text}", file.display());
            assert!(text.contains("WGS 84") || text.contains("EPSG\",4326"), "{}:{name} CRS\n{text}", file.display());
            if file == gpkg {
                assert!(text.contains(&format!("Geometry: {geometry}")), "{name}\n{text}");
            }
        }
    }
    let o = Command::new("ogrinfo").args(["-ro", "-al", "-so"]).arg(&gpkg).arg("place_passages").output().unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("Feature Count: "), "place_passages table");
    std::fs::remove_dir_all(&out).ok();
}

/// The QGIS project opens in PyQGIS (headless) with every layer valid, counted and styled, and
/// renders a map that is not blank; a user's layer whose name holds XML and SQL metacharacters
/// survives the trip.
#[test]
fn qgis_project_opens_valid_and_renders() {
    let bin = env!("CARGO_BIN_EXE_port-atlas");
    let root = std::env::temp_dir().join(format!("port-atlas-qgs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    // QGIS keeps a network cache and a profile under the home folder. A home of its own per run
    // means a tile it drew came from this run's server, not from a cache an earlier run left at
    // the same port, and the user's QGIS profile is never touched.
    let home = root.join("home");
    std::fs::create_dir_all(&home).unwrap();
    // `colour`: count (and locate) the pixels of that colour; `view`: "w,s,e,n" to render instead
    // of the project's own extent.
    let run_check = |qgs: &Path, png: &Path, colour: Option<[u8; 3]>, view: Option<&str>| -> serde_json::Value {
        let o = Command::new("/usr/bin/python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/qgis_check.py"))
            .arg(qgs)
            .arg(png)
            .args(colour.map(|[r, g, b]| format!("{r},{g},{b}")))
            .args(view)
            .env("QT_QPA_PLATFORM", "offscreen")
            .env("HOME", &home)
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .output()
            .expect("Debian's /usr/bin/python3 with python3-qgis (scripts/install-deps.sh)");
        let stdout = String::from_utf8_lossy(&o.stdout);
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .unwrap_or_else(|| panic!("no result from PyQGIS: {stdout}\n{}", String::from_utf8_lossy(&o.stderr)));
        serde_json::from_str(line).unwrap()
    };

    // The built-in atlas.
    let out = root.join("atlas");
    assert!(Command::new(bin).args(["export", "--format", "qgs", "--out"]).arg(&out).status().unwrap().success());
    let r = run_check(&out.join("port-atlas.qgs"), &root.join("atlas.png"), None, None);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["project_crs"], "EPSG:4326", "a project CRS QGIS accepts: {r}");
    let layers = r["layers"].as_array().unwrap();
    assert_eq!(
        layers.len(),
        9,
        "six layers, ports and sites each split into areas and points, and the places the report names that no layer draws: {r}"
    );
    for l in layers {
        assert_eq!(l["valid"], true, "{l}");
        assert_eq!(l["crs"], "EPSG:4326", "{l}");
        assert_eq!(l["renderer"], "RuleRenderer", "{l}");
        assert!(l["features"].as_i64().unwrap() > 0, "{l}");
    }
    let total: i64 = layers.iter().map(|l| l["features"].as_i64().unwrap()).sum();
    assert_eq!(total, 41, "40 features and 長三角");
    let painted = r["painted_samples"].as_f64().unwrap() / r["samples"].as_f64().unwrap();
    assert!(painted > 0.3, "rendered map is mostly blank: {painted}");

    // A user's folder with awkward names.
    let data = root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("odd <\"&'> layer.geojson"),
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"q","name_zh_hant":"<\"&'>\n新","name_zh_hans":"x","name_en":"it's","kind":"k","accuracy":"schematic","source":"s"},"geometry":{"type":"Polygon","coordinates":[[[121,31],[121.1,31],[121.1,31.1],[121,31]]]}}]}"#,
    )
    .unwrap();
    let out = root.join("odd");
    let st = Command::new(bin).args(["export", "--format", "qgs", "--data"]).arg(&data).arg("--out").arg(&out).status();
    assert!(st.unwrap().success());
    let r = run_check(&out.join("port-atlas.qgs"), &root.join("odd.png"), None, None);
    assert_eq!(r["layers"][0]["valid"], true, "{r}");
    assert_eq!(r["layers"][0]["features"], 1, "{r}");

    // With a basemap from a tile server on 127.0.0.1: an XYZ layer that QGIS opens and draws,
    // between the vector basemap and the thematic layers.
    let server = tile_server::TileServer::start(None);
    let out = root.join("basemap");
    let st = Command::new(bin)
        .args(["export", "--format", "gpkg,qgs", "--basemap", &server.template("ok"), "--out"])
        .arg(&out)
        .status();
    assert!(st.unwrap().success());
    let r = run_check(&out.join("port-atlas.qgs"), &root.join("basemap.png"), Some(tile_server::BACKGROUND), None);
    let layers = r["layers"].as_array().unwrap();
    let names: Vec<&str> = layers.iter().map(|l| l["name"].as_str().unwrap()).collect();
    let xyz = layers.iter().position(|l| l["provider"] == "wms").unwrap_or_else(|| panic!("no XYZ layer: {r}"));
    assert_eq!(layers[xyz]["valid"], true, "{r}");
    assert!(names[xyz].contains("127.0.0.1"), "{names:?}");
    // QGIS lists the top layer first: sites … zones, then the basemap, then water and context.
    assert!(names[xyz + 1].contains("Yangtze") && names[xyz - 1].contains("Zones"), "{names:?}");
    let tiles = r["matching_samples"].as_f64().unwrap() / r["samples"].as_f64().unwrap();
    assert!(tiles > 0.2, "QGIS drew the tiles: {tiles} of the map");
    // The tiles QGIS asked for cover the atlas at a zoom that fits the 900-px render, not one
    // stray tile stretched over the map (what an unprojected project does).
    // (A connection QGIS opens and drops without a request shows up as "/"; it asks for nothing.)
    let paths = server.stats.paths.lock().unwrap().clone();
    let tiles: Vec<port_atlas::tiles::TileId> = paths
        .iter()
        .filter_map(|p| {
            let n: Vec<u32> =
                p.strip_prefix("/ok/")?.trim_end_matches(".png").split('/').filter_map(|v| v.parse().ok()).collect();
            let [z, x, y] = n[..] else { return None };
            Some(port_atlas::tiles::TileId { z: z as u8, x, y })
        })
        .collect();
    assert!(tiles.len() >= 4, "{paths:?}");
    for t in tiles {
        let [w, s, e, n] = t.bounds();
        assert!((7..=11).contains(&t.z) && e > 119.5 && w < 122.0 && n > 30.5 && s < 32.5, "{t:?}: {paths:?}");
    }

    // A GCJ-02 server: QGIS cannot move tiles per vertex, so the layer is moved by one offset.
    // The marker the server draws at the GCJ-02 coordinates of a place must show at the place's
    // WGS84 position in QGIS's render, not ~550 m away where the raw tiles put it. (In the
    // Yangtze off Taicang, where no translucent thematic layer tints the marker.)
    let port = (121.22, 31.70);
    let g = port_atlas::proj::wgs84_to_gcj02(port.0, port.1);
    let gcj = tile_server::TileServer::start(Some(g));
    let out = root.join("gcj");
    let st = Command::new(bin)
        .args(["export", "--format", "gpkg,qgs", "--basemap", &gcj.template("ok"), "--basemap-crs", "gcj02", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(st.status.success());
    assert!(String::from_utf8_lossy(&st.stderr).contains("one offset"), "the export says how the basemap was placed");
    let view = format!("{},{},{},{}", port.0 - 0.03, port.1 - 0.02, port.0 + 0.03, port.1 + 0.02);
    let r = run_check(&out.join("port-atlas.qgs"), &root.join("gcj.png"), Some(tile_server::MARKER), Some(&view));
    assert_eq!(r["project_crs"], "EPSG:4326", "{r}");
    let xyz = r["layers"].as_array().unwrap().iter().find(|l| l["provider"] == "wms").cloned();
    let xyz = xyz.unwrap_or_else(|| panic!("the GCJ-02 basemap is in the project: {r}"));
    assert!(xyz["valid"] == true && xyz["name"].as_str().unwrap().contains("GCJ-02"), "{xyz}");
    let c = r["matching_centroid"].as_array().unwrap_or_else(|| panic!("marker drawn: {r}"));
    let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let metres = |a: (f64, f64), b: (f64, f64)| {
        ((a.0 - b.0) * 111_320.0 * b.1.to_radians().cos()).hypot((a.1 - b.1) * 110_574.0)
    };
    // Within the error the export states for one offset over the atlas (its layer title says
    // "±N m"), plus a tile pixel and a render pixel; the raw tiles would be ~470 m off.
    let name = xyz["name"].as_str().unwrap();
    let stated: f64 = name.split('±').nth(1).and_then(|t| t.split(' ').next()).and_then(|n| n.parse().ok()).unwrap();
    let off = metres((lon, lat), port);
    assert!(
        stated < 100.0 && off < stated + 20.0,
        "marker {off:.0} m from its place in QGIS (stated ±{stated} m): {r}"
    );
    assert!(metres(g, port) > 400.0);

    // Vector tiles: an MBTiles file (GDAL-made) and a TileJSON endpoint become QGIS vector tile
    // layers with the app's look; a PMTiles archive, which QGIS 3.22 cannot read, is named in a
    // note and left out. QGIS fetches the endpoint's tiles from the test server and draws them.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vector");
    let out = root.join("vector");
    let o = Command::new(bin)
        .args(["export", "--format", "qgs", "--out"])
        .arg(&out)
        .arg("--layer")
        .arg(fixtures.join("gdal.mbtiles"))
        .arg("--layer")
        .arg(format!("{}/tilejson/gdal-xyz", server.base))
        .arg("--layer")
        .arg(fixtures.join("tippecanoe.pmtiles"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("PMTiles") && stderr.contains("QGIS 3.22 cannot read"), "{stderr}");
    let before = server.stats.paths.lock().unwrap().len();
    let r = run_check(&out.join("port-atlas.qgs"), &root.join("vector.png"), None, Some("121.10,31.44,121.14,31.47"));
    let tiles: Vec<&serde_json::Value> =
        r["layers"].as_array().unwrap().iter().filter(|l| l["provider"] == "vectortile").collect();
    assert_eq!(tiles.len(), 2, "{r}");
    for l in &tiles {
        assert!(l["valid"] == true && l["crs"] == "EPSG:3857" && l["renderer"] == "basic", "{l}");
    }
    let asked: Vec<String> = server.stats.paths.lock().unwrap()[before..].to_vec();
    assert!(asked.iter().any(|p| p.starts_with("/files/gdal-xyz/")), "QGIS fetched the endpoint's tiles: {asked:?}");
    std::fs::remove_dir_all(&root).ok();
}

/// Basemap tiles from a tile server the test starts: drawn where they belong (WGS84 and GCJ-02
/// sources), served from the disk cache with the server stopped, and a failing server leaves a
/// visible warning and the vector basemap instead of tiles.
#[test]
fn basemap_tiles_line_up_work_offline_and_fail_visibly() {
    use tile_server::{BACKGROUND, MARKER, TileServer};
    let dir = std::env::temp_dir().join(format!("port-atlas-basemap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cache = dir.join("cache");
    let cache = cache.to_str().unwrap();
    // In the Yangtze off Taicang, clear of thematic layers.
    let p = (121.22, 31.70);
    let g = port_atlas::proj::wgs84_to_gcj02(p.0, p.1);
    let wgs = TileServer::start(Some(p));
    let gcj = TileServer::start(Some(g));
    let view = format!("{},{},8", p.0, p.1);
    let near = |c: [u8; 3], want: [u8; 3]| c.iter().zip(want).all(|(a, b)| a.abs_diff(b) < 24);
    let args = |template: &str, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = ["--size", "1400x900", "--view", &view, "--basemap", template, "--cache-dir", cache]
            .map(String::from)
            .into();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let shoot = |a: Vec<String>, name: &str| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        render(&a, &dir.join(name))
    };
    let marker_at = |shot: &Shot, at: (f64, f64), r: i64| shot.count(shot.pixel(at.0, at.1), r, |c| near(c, MARKER)).0;

    // WGS84 tiles: the tile background fills the map, the marker sits on its lon/lat.
    let shot = shoot(args(&wgs.template("ok"), &[]), "wgs84.png");
    let centre = shot.pixel(p.0, p.1);
    let (bg, n) = shot.count(centre, 200, |c| near(c, BACKGROUND));
    assert!(bg * 2 > n, "tile background around {centre:?}: {bg}/{n}");
    assert!(marker_at(&shot, p, 20) > 400, "marker at its place");
    assert!(wgs.stats.user_agent.lock().unwrap().starts_with("port-atlas/"));

    // GCJ-02 tiles: drawn ~500 m off unless shifted; with --basemap-crs gcj02 the marker, drawn
    // at the GCJ-02 coordinates, lands on the WGS84 place and not where the raw numbers point.
    let shot = shoot(args(&gcj.template("ok"), &["--basemap-crs", "gcj02"]), "gcj02.png");
    assert!(marker_at(&shot, p, 20) > 400, "GCJ-02 marker shifted onto its WGS84 place");
    let raw = shot.pixel(g.0, g.1);
    assert!((raw.0 - centre.0).abs() + (raw.1 - centre.1).abs() > 60, "the shift is visible at this zoom");
    assert_eq!(marker_at(&shot, g, 10), 0, "nothing drawn at the unshifted position");

    // Offline: the server is gone, the cache still has every tile of this view.
    wgs.stop();
    let shot = shoot(args(&wgs.template("ok"), &[]), "offline.png");
    assert!(marker_at(&shot, p, 20) > 400, "tiles from the cache with the server stopped");

    // A failing tile server: the app still renders, warns, and the vector basemap (river blue)
    // shows. A remote layer from the same host loads all the same.
    let layer_url = format!("{}/layers/probe.geojson", gcj.base);
    let shot = shoot(args(&gcj.template("500"), &["--layer", &layer_url]), "http500.png");
    assert!(shot.log.contains("HTTP 500"), "a visible, logged warning:\n{}", shot.log);
    let (bg, _) = shot.count(centre, 200, |c| near(c, BACKGROUND));
    assert_eq!(bg, 0, "no tiles from a failing server");
    let blue = |[r, _g, b]: [u8; 3]| (b as i32 - r as i32) > 40 && b > 180;
    let (water, n) = shot.count(centre, 10, blue);
    assert!(water * 10 >= n * 8, "vector basemap where tiles are missing: {water}/{n}");
    // The remote square, in its default style: a translucent fill of its palette colour, so its
    // pixels lie on the line from the river's colour towards the fill colour.
    let fill = port_atlas::geodata::LayerMeta::fallback("probe").rgb().map(|v| v as f64);
    let river = shot.img.get_pixel(centre.0 as u32, centre.1 as u32).0.map(|v| v as f64);
    let towards_fill = |c: [u8; 3]| {
        let d: Vec<f64> = (0..3).map(|i| fill[i] - river[i]).collect();
        let v: Vec<f64> = (0..3).map(|i| c[i] as f64 - river[i]).collect();
        let t = (0..3).map(|i| d[i] * v[i]).sum::<f64>() / (0..3).map(|i| d[i] * d[i]).sum::<f64>();
        let off = (0..3).map(|i| (v[i] - t * d[i]).powi(2)).sum::<f64>().sqrt();
        (0.2..1.05).contains(&t) && off < 40.0
    };
    let (square, n) = shot.count(shot.pixel(g.0, g.1), 8, towards_fill);
    assert!(square * 10 >= n * 8, "remote layer drawn at its place: {square}/{n}");
    std::fs::remove_dir_all(&dir).ok();
}
