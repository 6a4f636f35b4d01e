//! Linking planners' prose against the whole gazetteer: texts written for these tests in both
//! scripts, with the traps a regional report sets (same-named towns, everyday words that are
//! also places, people's names, names inside longer words).

use std::path::Path;
use std::sync::OnceLock;

use crate::atlas::Atlas;
use crate::document::Document;

fn atlas() -> &'static Atlas {
    static ATLAS: OnceLock<Atlas> = OnceLock::new();
    ATLAS.get_or_init(Atlas::builtin)
}

/// (matched text, place id, confidence) of every mention in `text`.
fn links(text: &str) -> Vec<(String, String, f32)> {
    let a = atlas();
    let d = Document::from_text("t", Path::new("t.txt"), text, &a.matcher, &a.gazetteer);
    d.passages.iter().flat_map(|p| p.mentions.iter().map(|m| (m.text.clone(), m.place.clone(), m.confidence))).collect()
}

fn linked(text: &str, name: &str) -> Option<String> {
    links(text).into_iter().find(|(t, _, _)| t == name).map(|(_, id, _)| id)
}

#[test]
fn the_towns_of_taicang_link_in_both_scripts() {
    let s = "太仓市城厢镇、沙溪镇、浏河镇、浮桥镇、璜泾镇、双凤镇均纳入全域规划。";
    let t = "太倉市城廂鎮、沙溪鎮、瀏河鎮、浮橋鎮、璜涇鎮、雙鳳鎮均納入全域規劃。";
    for text in [s, t] {
        let ids: Vec<String> = links(text).into_iter().map(|(_, id, _)| id).collect();
        assert_eq!(
            ids,
            ["taicang", "cn-320585100", "cn-320585101", "cn-320585102", "cn-320585103", "cn-320585104", "cn-320585105"],
            "{text}"
        );
    }
}

#[test]
fn a_parent_named_first_decides_and_vouches() {
    assert_eq!(linked("吴江区同里镇与崑山市千燈鎮联动发展", "同里镇").as_deref(), Some("cn-320509111"));
    assert_eq!(linked("吴江区同里镇与崑山市千燈鎮联动发展", "千燈鎮").as_deref(), Some("cn-320583108"));
    // The short forms, with their county in the passage.
    assert_eq!(linked("昆山花桥与上海嘉定安亭隔河相望", "花桥").as_deref(), Some("cn-320583104"));
    assert_eq!(linked("昆山花桥与上海嘉定安亭隔河相望", "安亭").as_deref(), Some("cn-310114103"));
    assert_eq!(linked("昆山花桥与上海嘉定安亭隔河相望", "嘉定").as_deref(), Some("cn-310114"));
}

#[test]
fn same_named_towns_are_told_apart_by_their_county() {
    // 新桥 is a town of Jiangyin (Wuxi) and of Songjiang (Shanghai), and an everyday "new bridge".
    assert_eq!(linked("江阴市新桥镇的纺织企业", "新桥镇").as_deref(), Some("cn-320281109"));
    assert_eq!(linked("松江区新桥镇的物流园", "新桥镇").as_deref(), Some("cn-310117105"));
    assert_eq!(linked("松江新城以南，新桥一带的物流园", "新桥").as_deref(), Some("cn-310117105"));
    assert_eq!(linked("河上新桥已经通车", "新桥"), None, "an everyday word without its county");
    // 大桥 is a town of Yangzhou and of Jiaxing: the full name alone does not say which.
    let (_, _, c) = links("大桥镇").into_iter().next().expect("a full name always links");
    assert!(c < crate::text::resolve::UNCERTAIN, "two places share 大桥镇: {c}");
    assert_eq!(linked("嘉兴市南湖区大桥镇", "大桥镇").as_deref(), Some("cn-330402105"));
}

#[test]
fn everyday_words_and_people_are_no_places() {
    for (text, word) in [
        ("长江大桥通车后，两岸交通改善", "大桥"),
        ("向东方发展，打造开放门户", "东方"),
        ("长安汽车在此设立研发中心", "长安"),
        ("江南水乡风貌得到保护", "江南"),
        ("新区建设全面提速", "新区"),
        ("城南片区更新改造", "城南"),
        ("市委书记曹路宝主持会议", "曹路"),
        ("昆山市张浦同志、马陆同志牵头推进", "张浦"),
        ("上海浦东新区发展 曹路宝主持会议", "曹路"),
        ("太仓市王沙溪说，要抓好落实", "沙溪"),
        ("楊舍鎮作為主城區承擔綜合服務功能", "城區"),
        ("加强合作，推进建设", "合作"),
        ("深化与南通海门区、启东市的跨江合作", "合作"),
        ("崇明区加快生态岛建设", "建设"),
        ("推动乡村全面振兴", "振兴"),
    ] {
        assert_eq!(linked(text, word), None, "{word} in {text}: {:?}", links(text));
    }
}

#[test]
fn regions_cities_and_zones_link() {
    let text = "浙江省嘉兴市与苏州工业园区、张家港保税区开展合作，海门区加快融入苏州。";
    let ids: Vec<String> = links(text).into_iter().map(|(_, id, _)| id).collect();
    for id in ["cn-33", "cn-3304", "cn-320576", "cn-320582403", "cn-320614", "suzhou"] {
        assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
    }
}

#[test]
fn the_port_zones_link_by_the_names_reports_give_them() {
    let text = "张家港保税港区重点发展粮油中转；太仓港经济技术开发区与浮桥镇联动；统筹苏州内河港发展。";
    assert_eq!(linked(text, "张家港保税港区").as_deref(), Some("cn-320582403"));
    assert_eq!(linked(text, "太仓港经济技术开发区").as_deref(), Some("taicang-port"));
    assert_eq!(linked(text, "苏州内河港").as_deref(), Some("inland-ports"));
    assert_eq!(linked("太倉港經開區", "太倉港經開區").as_deref(), Some("taicang-port"));
    // Shanghai's deep-water port lies in Zhejiang, outside the towns' table: the atlas names it.
    assert_eq!(linked("上海港洋山深水港区", "洋山深水港区").as_deref(), Some("yangshan-port"));
}

#[test]
fn far_cities_whose_short_form_is_an_everyday_word_need_evidence() {
    let text = "冬至日满窗日照不少于2小时。各位领导、各位来宾。中山医院扩建。朝阳产业。";
    assert!(links(text).is_empty(), "{:?}", links(text));
    assert_eq!(linked("山东省日照市港口", "日照市").as_deref(), Some("cn-3711"));
    assert_eq!(linked("与山东日照合作", "日照").as_deref(), Some("cn-3711"), "after its province");
    assert_eq!(linked("与山东日照港合作", "日照").as_deref(), Some("cn-3711"), "its port, after its province");
    assert!(linked("与日照港合作", "日照").is_none(), "an everyday word still needs evidence");
    assert_eq!(linked("与南京港、青岛港合作", "南京").as_deref(), Some("cn-3201"), "a port named by its city");
    // A surname before a place's name and a report after it: a person (陈金泽作报告).
    let t = "青浦区金泽镇建设。会议由陈金泽作报告。";
    assert_eq!(links(t).iter().filter(|(_, id, _)| id == "cn-310118104").count(), 1, "{:?}", links(t));
}

#[test]
fn jiangsus_parts_link_as_regions_but_not_inside_words() {
    let text = "苏南地区与苏北、苏中协调发展，苏锡常都市圈率先。";
    let ids: Vec<String> = links(text).into_iter().map(|(_, id, _)| id).collect();
    assert_eq!(ids, ["region-sunan", "region-subei", "region-suzhong", "region-su-xi-chang"], "{text}");
    assert!(links("位于江苏南部，江苏北部与江苏中部。").iter().all(|(_, id, _)| id == "jiangsu"));
    // Shanghai's free-trade special area, by the towns it covers; 临港 alone is any port-side area.
    assert_eq!(linked("上海临港新片区与太仓港联动", "上海临港新片区").as_deref(), Some("region-lingang"));
    assert!(linked("江阴临港开发区", "临港").is_none());
}

#[test]
fn far_places_need_evidence() {
    // 鼓楼 is a district of Nanjing, Xuzhou, Fuzhou and Kaifeng: a bare 鼓楼 is a drum tower.
    assert_eq!(linked("古城鼓楼修缮完成", "鼓楼"), None);
    // 义乌 is one county, far away, and not a word: still no link without anything around it.
    assert_eq!(linked("义乌小商品", "义乌"), None);
    // With its province named, it links.
    assert!(linked("浙江义乌小商品市场", "义乌").is_some_and(|id| id.starts_with("cn-3307")));
}

#[test]
fn every_linked_regional_place_has_a_point_accuracy_and_source() {
    let text = "太仓沙溪、浏河与嘉定安亭、昆山花桥联动。";
    let a = atlas();
    for (_, id, _) in links(text) {
        let p = a.gazetteer.get(&id).expect("linked place exists");
        let [lon, lat] = p.lon_lat.expect("a point");
        assert!((120.0..122.5).contains(&lon) && (30.5..32.5).contains(&lat), "{id} at {lon},{lat}");
        assert!(p.accuracy_m.is_some() && !p.source.is_empty(), "{id}");
    }
}

#[test]
fn the_places_a_planner_names_in_passing_all_link_in_traditional_script() {
    let text = "太倉的城廂、沙溪、瀏河、浮橋、璜涇、雙鳳六鎮，崑山的花橋，上海的嘉定和安亭，吳江的盛澤，南通的海門，蘇州工業園區，以及浙江和嘉興，都在本次規劃範圍內。";
    let ids: Vec<String> = links(text).into_iter().map(|(_, id, _)| id).collect();
    let want = [
        "taicang",
        "cn-320585100",
        "cn-320585101",
        "cn-320585102",
        "cn-320585103",
        "cn-320585104",
        "cn-320585105",
        "kunshan",
        "cn-320583104",
        "shanghai",
        "cn-310114",
        "cn-310114103",
        "wujiang",
        "cn-320509105",
        "nantong",
        "cn-320614",
        "cn-320576",
        "cn-33",
        "cn-3304",
    ];
    assert_eq!(ids, want);
    assert!(links("新橋一帶的道路改造完成，東方紅大橋通車。").is_empty());
}

#[test]
fn the_commonest_words_stay_words_after_their_town_is_named() {
    // 建设镇 is a town of Chongming; 建设 ("construction") is on every page of a plan.
    let text = "崇明区建设镇生态农业发展良好。\n要求加快集疏运体系建设，推进港口建设。";
    let got = links(text);
    assert!(got.iter().any(|(t, id, _)| t == "建设镇" && id == "cn-310151113"), "{got:?}");
    assert_eq!(got.iter().filter(|(t, _, _)| t == "建设").count(), 0, "{got:?}");
    // A word common but not that common, with its town's full name in the same passage, links.
    let same = links("大桥镇位于江边，大桥的老街正在更新。");
    assert_eq!(same.iter().filter(|(t, _, _)| t.starts_with("大桥")).count(), 2, "{same:?}");
}

#[test]
fn named_waters_link_to_their_cited_points_and_streets_keep_their_full_names() {
    let text = "金鸡湖、独墅湖周边生态提升，京杭大运河苏州段与吴淞江、娄江航道整治，黄浦江上游与杭州湾北岸联动。";
    let ids: Vec<String> = links(text).into_iter().map(|(_, id, _)| id).collect();
    for id in [
        "water-jinji-lake",
        "water-dushu-lake",
        "water-grand-canal-suzhou",
        "water-wusong-river",
        "water-lou-river",
        "water-huangpu-river",
        "water-hangzhou-bay",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
    }
    // The lake's name is the short form of 金鸡湖街道; the street's full name still links to it.
    assert_eq!(linked("金鸡湖街道办事处", "金鸡湖街道").as_deref(), Some("cn-320576054"));
    assert_eq!(linked("金雞湖畔", "金雞湖").as_deref(), Some("water-jinji-lake"), "traditional script");
    let g = &atlas().gazetteer;
    let lake = g.get("water-jinji-lake").expect("a shipped water");
    assert!(lake.admin_code.is_none() && lake.source.contains("wikipedia"));
    let [lon, lat] = lake.lon_lat.expect("a point");
    assert!((lon - 120.69).abs() < 0.02 && (lat - 31.31).abs() < 0.02);
}

#[test]
fn towns_the_statistics_codes_leave_out_link_from_geonames() {
    // Kunshan's 周庄, 锦溪 and 淀山湖 are only "昆山旅游度假区" in the codes.
    let text = "崑山市周莊鎮、錦溪鎮和淀山湖鎮共同打造水鄉古鎮群。";
    let ids: Vec<String> = links(text).into_iter().map(|(_, id, _)| id).collect();
    assert_eq!(ids, ["kunshan", "gn-1784074", "gn-8327965", "gn-7844460"], "{text}");
    // 周庄 lies on the Kunshan-Wujiang line as the outlines are drawn; the codes' own 昆山旅游度假区
    // and its encyclopedia entry make it Kunshan's, so 崑山市周莊鎮 follows its parent.
    let g = &atlas().gazetteer;
    let zhouzhuang = g.get("gn-1784074").expect("added from GeoNames");
    assert!(zhouzhuang.admin_code.is_none() && zhouzhuang.source.contains("GeoNames"));
    assert_eq!(zhouzhuang.parent.map(|p| g.places[p].id.as_str()), Some("kunshan"));
    // Their everyday-word short forms never link on their own (三甲镇, 渔港街道, 要塞镇).
    assert!(links("新建一所三甲医院，改造渔港码头，保护炮台要塞。").is_empty());
}

#[test]
fn zones_link_by_the_names_reports_give_them() {
    // 苏州高新区 is 虎丘区 (one administration; the atlas's own district feature), and a zone
    // the codes write with a bracket is written without it.
    assert_eq!(linked("苏州高新区与浒墅关经开区联动", "苏州高新区").as_deref(), Some("huqiu"));
    assert_eq!(linked("苏州高新区与浒墅关经开区联动", "浒墅关经开区").as_deref(), Some("cn-320505400"));
    assert_eq!(linked("蘇州高新區科技城", "蘇州高新區").as_deref(), Some("huqiu"));
    // The former names of districts run as one with a zone: 苏州新区 and 无锡新区 (新吴区 since 2015).
    assert_eq!(linked("苏州新区与无锡新区合作", "苏州新区").as_deref(), Some("huqiu"));
    assert_eq!(linked("苏州新区与无锡新区合作", "无锡新区").as_deref(), Some("cn-320214"));
}

#[test]
fn a_town_named_after_another_city_is_that_citys() {
    // The atlas has Taicang's 沙溪镇 but no towns of Guangdong: after 中山市 it is not Taicang's.
    assert_eq!(linked("广东中山市沙溪镇的经验", "沙溪镇"), None);
    assert_eq!(linked("廣東省沙溪鎮", "沙溪鎮"), None);
    assert_eq!(linked("太仓市沙溪镇的经验", "沙溪镇").as_deref(), Some("cn-320585101"));
    // A town of the same city still fits, though the outlines hang 周庄 from Suzhou.
    assert_eq!(linked("昆山市周庄镇", "周庄镇").as_deref(), Some("gn-1784074"));
    assert_eq!(linked("上海嘉定安亭", "安亭").as_deref(), Some("cn-310114103"));
}

#[test]
fn streets_named_after_places_are_no_mentions_of_them() {
    for (text, name) in [
        ("南京路步行街和北京东路的商业更新", "北京"),
        ("沿上海路向东", "上海"),
        ("长江路沿线的改造", "长江"),
        ("苏州大道两侧", "苏州"),
    ] {
        assert_eq!(linked(text, name), None, "{name} in {text}: {:?}", links(text));
    }
    assert_eq!(linked("完善太仓路网", "太仓").as_deref(), Some("taicang"));
    assert_eq!(linked("苏州街头巷尾", "苏州").as_deref(), Some("suzhou"));
    // Shanghai's Suzhou Creek is a river of its own, not the city inside its name.
    assert_eq!(linked("苏州河沿岸的老码头", "苏州河").as_deref(), Some("water-suzhou-creek"));
    assert_eq!(linked("蘇州河沿岸", "蘇州河").as_deref(), Some("water-suzhou-creek"));
}

#[test]
fn planning_regions_and_zone_abbreviations_link() {
    let text = "长三角生态绿色一体化发展示范区建设提速，长三角港口群一体化走在前列，長江三角洲地區協同。";
    let ids: Vec<String> = links(text).into_iter().map(|(_, id, _)| id).collect();
    assert_eq!(ids, ["region-yrd-demonstration-zone", "region-yangtze-delta", "region-yangtze-delta"]);
    let g = &atlas().gazetteer;
    let zone = g.get("region-yrd-demonstration-zone").expect("shipped");
    let [lon, lat] = zone.lon_lat.expect("a point");
    // Between Qingpu, Wujiang and Jiashan, reaching all three.
    assert!((120.8..121.0).contains(&lon) && (30.95..31.15).contains(&lat), "{lon},{lat}");
    assert!(zone.accuracy_m.is_some_and(|a| (30_000.0..60_000.0).contains(&a)));
    for (text, name, id) in [
        ("常熟高新区与常熟经开区", "常熟高新区", "cn-320581402"),
        ("常熟高新区与常熟经开区", "常熟经开区", "cn-320581401"),
        ("吴中经济技术开发区", "吴中经济技术开发区", "cn-320506404"),
        ("崑山經濟技術開發區", "崑山經濟技術開發區", "cn-320583400"),
        ("吴江经开区", "吴江经开区", "cn-320509400"),
        // The circle of Jiading, Kunshan and Taicang, not the atlas's narrower Kun-Tai zone.
        ("推进嘉昆太协同创新核心圈建设", "嘉昆太协同创新核心圈", "region-jia-kun-tai"),
        ("嘉昆太三地联合", "嘉昆太", "region-jia-kun-tai"),
        // A town filed under its former name (西山镇, renamed 金庭镇 in 2007), and its island.
        ("金庭镇（西山岛）", "西山岛", "cn-320506109"),
        ("推进苏州湾沿岸开发", "苏州湾", "water-east-taihu"),
        // The atlas's port areas and free-trade area by the names reports give them.
        ("常熟港与张家港港错位发展", "常熟港", "changshu-port"),
        ("常熟港与张家港港错位发展", "张家港港", "zhangjiagang-port"),
        ("中國（江蘇）自由貿易試驗區蘇州片區聯動創新", "自由貿易試驗區蘇州片區", "suzhou-fta"),
        // Islands that are a township.
        ("崇明區長興島、橫沙島", "長興島", "cn-310151116"),
        ("崇明區長興島、橫沙島", "橫沙島", "cn-310151202"),
    ] {
        assert_eq!(linked(text, name).as_deref(), Some(id), "{text}: {:?}", links(text));
    }
}

#[test]
fn towns_after_a_one_character_word_link() {
    // jieba's HMM once glued these to the character before them (以沙溪, 向璜), and they never linked.
    let text = "太仓市以沙溪为中心，向璜泾延伸；昆山以花桥经济开发区为桥头堡。";
    let ids: Vec<String> = links(text).into_iter().map(|(_, id, _)| id).collect();
    for id in ["cn-320585101", "cn-320585104", "cn-320583104"] {
        assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
    }
}

#[test]
fn waters_without_a_coordinate_sit_among_the_towns_their_sources_name() {
    let text = "推进太浦河、望虞河清水通道建设，加强澄湖、昆承湖、傀儡湖、尚湖水源地保护，东太湖综合整治。";
    let ids: Vec<String> = links(text).into_iter().map(|(_, id, _)| id).collect();
    let g = &atlas().gazetteer;
    // Each lies between the towns its page names, and its accuracy reaches them all.
    for (id, [lon0, lat0]) in [
        ("water-taipu-river", [120.39, 30.95]),
        ("water-wangyu-river", [120.44, 31.44]),
        ("water-cheng-lake", [120.89, 31.18]),
        ("water-kuncheng-lake", [120.85, 31.55]),
        ("water-kuilei-lake", [120.87, 31.46]),
        ("water-shang-lake", [120.75, 31.66]),
        ("water-east-taihu", [120.40, 31.08]),
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
        let w = g.get(id).expect("shipped");
        let [lon, lat] = w.lon_lat.expect("a point");
        let d = crate::spatial::proj::distance_m((lon, lat), (lon0, lat0));
        assert!(w.accuracy_m.is_some_and(|a| a > d), "{id}: a named town {d:.0} m away, beyond ±{:?}", w.accuracy_m);
        assert!(w.source.starts_with("http"), "{id} cites its page");
    }
}

/// The shipped place `id`, asserted to lie within `tol` degrees of `at` and to claim no more
/// than `max_acc` metres.
fn placed(id: &str, at: [f64; 2], tol: f64, max_acc: f64) -> crate::text::gazetteer::Place {
    let p = atlas().gazetteer.get(id).expect("shipped").clone();
    let [lon, lat] = p.lon_lat.expect("a point");
    assert!((lon - at[0]).abs() < tol && (lat - at[1]).abs() < tol, "{id}: {lon},{lat}");
    assert!(p.accuracy_m.is_some_and(|a| a <= max_acc), "{id}: ±{:?}", p.accuracy_m);
    p
}

#[test]
fn a_street_geonames_lacks_takes_its_cited_point_not_its_countys() {
    // 苏锦街道 holds Suzhou railway station (geodata/sources/township-points.tsv); it sat at Gusu's
    // point ±10 km before.
    let sujin = placed("cn-320508023", [120.606, 31.331], 0.005, 2000.0);
    assert!(sujin.source.contains("Suzhou_Railway_Station"), "{}", sujin.source);
}

#[test]
fn a_renamed_town_is_placed_by_its_former_name() {
    // GeoNames still files 金庭镇 under 西山镇, on Xishan Island in Taihu, 30 km from Wuzhong's seat.
    placed("cn-320506109", [120.305, 31.135], 0.01, 2000.0);
}

#[test]
fn villages_link_by_their_full_names_at_their_townships_point() {
    // 永联村 is Zhangjiagang's (南丰镇); 陆巷村 is both 东山镇's and 阳澄湖镇's, settled by the town named
    // before it; 村民 and 村庄 after a village's name are words of their own.
    let text = "张家港市南丰镇永联村、常熟市支塘镇蒋巷村是全国文明村。";
    assert_eq!(linked(text, "永联村").as_deref(), Some("cn-320582106210"), "{:?}", links(text));
    assert_eq!(linked(text, "蒋巷村").as_deref(), Some("cn-320581106219"), "{:?}", links(text));
    let g = &atlas().gazetteer;
    let yonglian = g.get("cn-320582106210").expect("shipped");
    let town = g.get("cn-320582106").expect("its township");
    assert_eq!(yonglian.lon_lat, town.lon_lat);
    assert!(yonglian.accuracy_m > town.accuracy_m);
    let text = "吴中区东山镇陆巷村古建筑群保存完好。";
    assert_eq!(linked(text, "陆巷村").as_deref(), Some("cn-320506107204"), "{:?}", links(text));
    assert_eq!(linked("永联村民的收入持续增长。", "永联村"), None);
    assert!(
        links("推进新农村建设，加快建设村庄道路。").is_empty(),
        "{:?}",
        links("推进新农村建设，加快建设村庄道路。")
    );
}

#[test]
fn an_island_named_like_a_far_city_is_not_that_city() {
    // Taihu's 长沙岛 (長沙島) is no mention of Changsha; Changsha itself still links.
    for text in ["太湖大桥连接渔洋山与长沙岛、西山岛。", "太湖大橋連接漁洋山與長沙島、西山島。"]
    {
        assert!(links(text).iter().all(|(_, id, _)| id != "cn-4301"), "{:?}", links(text));
    }
    assert_eq!(linked("学习长沙、武汉的经验。", "长沙").as_deref(), Some("cn-4301"));
}

#[test]
fn a_city_named_without_its_suffix_can_be_a_persons_name() {
    // 昆山 and 张家港 are the atlas's own names for the cities, yet 李昆山同志 is a colleague; 昆山市
    // before 同志 would still be the city, which no one is called.
    let text = "市商务局李昆山同志负责联络，王张家港主持会议。";
    assert_eq!(linked(text, "昆山"), None, "{:?}", links(text));
    assert_eq!(linked(text, "张家港"), None, "{:?}", links(text));
    assert_eq!(linked("昆山市同志们积极参与。", "昆山市").as_deref(), Some("kunshan"));
    assert_eq!(linked("加强与昆山、太仓的合作。", "昆山").as_deref(), Some("kunshan"));
}

#[test]
fn an_everyday_word_listed_after_towns_of_its_county_is_a_town() {
    // 新桥 ("new bridge") links only with strong evidence; listed after two towns of Jiangyin it is
    // Jiangyin's 新桥镇, and the same word after a place of another county stays a word.
    let text = "江阴市东部要加强联动。周庄、华士、新桥三镇打造产业集聚区。";
    assert_eq!(linked(text, "新桥").as_deref(), Some("cn-320281109"), "{:?}", links(text));
    assert_eq!(linked("太仓港区、新桥建成通车", "新桥"), None);
    // 太平 (peace) is commoner still: with its district in the passage and listed among its streets
    // it is Xiangcheng's 太平街道; with the district but not in a list, a word.
    let text = "相城区下辖元和、太平、北桥等街道。";
    assert_eq!(linked(text, "太平").as_deref(), Some("cn-320507002"), "{:?}", links(text));
    assert_eq!(linked("相城区社会太平，元和街道发展良好。", "太平"), None);
}

#[test]
fn zones_run_with_a_town_or_over_several_streets_link_by_their_abbreviations() {
    // 区镇合一: the zone and its town are one administration, and reports name the zone.
    let text = "张家港高新区、吴江高新区、汾湖高新区和太仓高新区协同发展，相城经开区、吴中高新区加快建设。";
    assert_eq!(linked(text, "张家港高新区").as_deref(), Some("cn-320582101"), "{:?}", links(text));
    assert_eq!(linked(text, "吴江高新区").as_deref(), Some("cn-320509105"));
    // Not the lake 汾湖, whose name the zone carries.
    assert_eq!(linked(text, "汾湖高新区").as_deref(), Some("cn-320509110"));
    assert_eq!(linked(text, "太仓高新区").as_deref(), Some("cn-320585400"));
    // Zones over several streets are placed over them (cited member lists).
    assert_eq!(linked(text, "相城经开区").as_deref(), Some("region-xiangcheng-edz"));
    assert_eq!(linked(text, "吴中高新区").as_deref(), Some("region-wuzhong-hitech"));
    // A zone no source places more closely than its city is the zone, over the city, not the city.
    assert_eq!(linked("昆山高新区新增企业", "昆山高新区").as_deref(), Some("region-kunshan-hitech"));
    // After its county's name a zone drops the county from its own (如东洋口港经济开发区).
    assert_eq!(linked("如东县洋口港开发区与太仓港合作。", "洋口港开发区").as_deref(), Some("cn-320623402"));
    let trad = "張家港高新區與相城經開區";
    assert_eq!(linked(trad, "張家港高新區").as_deref(), Some("cn-320582101"), "{:?}", links(trad));
}

#[test]
fn a_far_places_former_name_needs_evidence_a_local_one_does_not() {
    // 华亭县 was old Songjiang's name and is Gansu's 华亭市 until 2018: the book title is no mention
    // of Gansu. With Gansu named before it, it is.
    let text = "华亭县志记载了松江的历史。";
    assert!(links(text).iter().all(|(_, id, _)| id != "cn-620881"), "{:?}", links(text));
    assert_eq!(linked("甘肃省平凉市华亭县的煤炭企业。", "华亭县").as_deref(), Some("cn-620881"));
    // The region's own districts under their former names.
    let old = "原吴江市、嘉定县和崇明县的档案。";
    assert_eq!(linked(old, "吴江市").as_deref(), Some("wujiang"), "{:?}", links(old));
    assert_eq!(linked(old, "嘉定县").as_deref(), Some("cn-310114"));
    assert_eq!(linked(old, "崇明县").as_deref(), Some("cn-310151"));
}

#[test]
fn people_named_like_towns_with_others_or_leading_a_visit_are_people() {
    // 王梅李等同志 ("comrade Wang Meili and others") and 陆渡带队 are people; 梅李等地 is places.
    let text = "王梅李等同志参加调研，陆渡带队考察。";
    assert!(links(text).is_empty(), "{:?}", links(text));
    let towns = "梅李等地的企业，沙溪等镇的代表。";
    assert_eq!(linked(towns, "梅李").as_deref(), Some("cn-320581101"), "{:?}", links(towns));
}

#[test]
fn a_town_whose_short_form_is_a_common_noun_needs_its_county_or_a_sibling_beside_it() {
    // 浮桥 is a pontoon bridge as well as Taicang's 浮桥镇; 桃源 a peach garden and Wujiang's 桃源镇.
    assert!(links("工人们在河上修建浮桥。").is_empty(), "{:?}", links("工人们在河上修建浮桥。"));
    assert!(links("世外桃源般的生活。").is_empty());
    assert_eq!(linked("太仓浮桥的港区。", "浮桥").as_deref(), Some("cn-320585103"));
    // Listed before a town of the same county, whichever comes first.
    let text = "浮桥、璜泾两镇沿江。";
    assert_eq!(linked(text, "浮桥").as_deref(), Some("cn-320585103"), "{:?}", links(text));
    assert_eq!(linked("吴江区的桃源、七都、震泽三镇。", "桃源").as_deref(), Some("cn-320509109"));
}

#[test]
fn a_name_coined_from_city_characters_inside_a_longer_one_is_no_mention() {
    // 苏昆太高速 is the Suzhou-Kunshan-Taicang expressway, not the Kun-Tai zone (昆太).
    assert!(linked("依托沪苏通铁路、苏昆太高速公路构建走廊", "昆太").is_none());
    assert_eq!(linked("推进昆太协同发展", "昆太").as_deref(), Some("kuntai-zone"));
    assert_eq!(linked("江苏昆山花桥", "昆山").as_deref(), Some("kunshan"), "昆山 is no coined name");
}

#[test]
fn a_far_countys_short_name_links_beside_a_place_named_in_its_passage() {
    // 靖江 (Taizhou) is beyond the region, across the Yangtze from Zhangjiagang.
    assert_eq!(linked("张家港港与靖江港隔江相望", "靖江").as_deref(), Some("cn-321282"));
    assert!(linked("学习靖江经验", "靖江").is_none(), "nothing near it is named");
    // A place named elsewhere in the document is not enough: 江海联运 is river-sea shipping,
    // though Zhongshan, next to Jiangmen's 江海区, is named.
    let text = "中山市沙溪镇的服装企业。\n通州湾与吕四港作为江海联运的重要节点。";
    assert!(links(text).iter().all(|(_, id, _)| id != "cn-440704"), "{:?}", links(text));
}

#[test]
fn hongqiao_is_the_hub_where_shanghai_is_named_though_nantong_is_too() {
    let text = "研究范围包括上海市嘉定区与南通市通州区。一核：虹桥—昆山—太仓—嘉定协同核心区。";
    assert_eq!(linked(text, "虹桥").as_deref(), Some("hongqiao-hub"));
    // With only Nantong named, Nantong's 虹桥街道.
    assert_eq!(linked("南通市崇川区。虹桥片区改造。", "虹桥").as_deref(), Some("cn-320613005"));
}

#[test]
fn zones_link_by_the_feature_or_own_name_reports_use() {
    // A scenic zone by the island it is named after.
    assert_eq!(linked("保护长江生态，推进双山岛生态修复", "双山岛").as_deref(), Some("cn-320582407"));
    // The codes' 南通市海门区经济技术开发区 without the city, as reports write it.
    assert_eq!(linked("推进海门经济技术开发区建设", "海门经济技术开发区").as_deref(), Some("cn-320614400"));
    assert_eq!(linked("支持海门临江新区承接产业", "海门临江新区").as_deref(), Some("cn-320614414"));
    // The codes' 漕河泾新兴技术开发区 as reports write it.
    assert_eq!(linked("以漕河泾开发区为支撑", "漕河泾开发区").as_deref(), Some("cn-310104501"));
    // 科教新城 is Taicang's only with Taicang there: in the passage, or among its towns.
    assert_eq!(linked("太仓市辖城厢镇和科教新城", "科教新城").as_deref(), Some("cn-320585403"));
    assert_eq!(linked("中心城区（城厢、科教新城、陆渡）", "科教新城"), None, "no town of Taicang linked yet");
    assert!(linked("建设科教新城", "科教新城").is_none(), "a generic phrase without its county");
}

#[test]
fn towns_named_like_ordinary_words_need_evidence() {
    // Each is a town or street of the region and an everyday word.
    for text in [
        "万里长江第一港。",
        "严厉打击种植大麻。",
        "古城宝塔修缮完成。",
        "功在当代、利在千秋。",
        "百步之内。",
        "企业扬名海外。",
    ] {
        assert!(links(text).iter().all(|(_, id, _)| !id.starts_with("cn-3")), "{text}: {:?}", links(text));
    }
    // "Newly opened", though Nantong, whose development zone has a 新开街道, is named.
    assert!(linked("南通市。盐城南洋机场新开太仓接驳专线。", "新开").is_none());
    // With their county, they are places.
    assert_eq!(linked("海盐县百步镇", "百步镇").as_deref(), Some("cn-330424102"));
    assert_eq!(linked("海盐县百步、于城两镇", "百步").as_deref(), Some("cn-330424102"));
}

#[test]
fn a_county_wins_its_own_towns_name_unless_the_text_says_town() {
    assert_eq!(linked("盐城市东台条子泥湿地", "东台").as_deref(), Some("cn-320981"));
    assert_eq!(linked("盐城市响水港与大丰港", "响水").as_deref(), Some("cn-320921"));
    assert_eq!(linked("湖州市南浔古镇", "南浔").as_deref(), Some("cn-330503100"));
}

#[test]
fn airports_stations_and_crossings_link_by_the_names_reports_use() {
    let text = "太仓至虹桥机场约50分钟，至浦东机场约90分钟；苏通大桥、苏州园区站。";
    assert_eq!(linked(text, "虹桥机场").as_deref(), Some("hub-hongqiao-airport"));
    assert_eq!(linked(text, "浦东机场").as_deref(), Some("hub-pudong-airport"), "not 浦东新区");
    assert_eq!(linked(text, "苏通大桥").as_deref(), Some("hub-sutong-bridge"));
    assert_eq!(linked(text, "苏州园区站").as_deref(), Some("hub-suzhou-sip-station"));
    // 站稳 is "gain a foothold": the city, not its station.
    assert_eq!(linked("企业在苏州站稳脚跟", "苏州").as_deref(), Some("suzhou"));
    let a = atlas();
    let hub = a.gazetteer.get("hub-hongqiao-airport").expect("the airport");
    assert!(hub.lon_lat.is_some() && hub.accuracy_m.is_some() && hub.source.contains("wikipedia"));
    assert_eq!(hub.parent.map(|p| a.gazetteer.places[p].id.as_str()), Some("shanghai"));
}

#[test]
fn a_lake_listed_among_towns_of_its_namesakes_county_is_the_town() {
    // 环淀山湖 is the lake; listed between Kunshan's 周庄 and Qingpu's 金泽, Kunshan's 淀山湖镇.
    let text = "环淀山湖地区的锦溪、周庄、淀山湖、金泽共同打造水乡客厅。";
    let ids: Vec<String> = links(text).into_iter().filter(|(t, _, _)| t == "淀山湖").map(|(_, id, _)| id).collect();
    assert_eq!(ids, ["dianshan-lake", "gn-7844460"], "{:?}", links(text));
    // Among waters, a water.
    assert_eq!(linked("保护淀山湖、阳澄湖生态", "淀山湖").as_deref(), Some("dianshan-lake"));
}
