"""Writes the seed inputs of the fuzz targets that read formats (fuzz/corpus/<target>/), from
the test fixtures and from small documents written here. Run from the repository root:
`python3 fuzz/make_seeds.py`. Standard library only.

The JPEG and WebP tile seeds (corpus/tile/*.jpg, *.webp) were written once by the `image`
crate (a 16x16 tile, quality 80 JPEG and lossless WebP) and are kept as they are; the PNG tiles
are written here.
"""

import io
import os
import sqlite3
import struct
import zipfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures", "formats")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def fixture(*p):
    with open(os.path.join(FIX, *p), "rb") as f:
        return f.read()


def zput(z, name, data, deflate=True):
    """A zip entry with a fixed date, so the seeds come out the same on every run."""
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    z.writestr(info, data)


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- shapefile: flag byte, then u16-length-prefixed parts (see fuzz_targets/shapefile.rs) ---

def pack_shapefile(shp, shx=None, dbf=None, prj=None, cpg=None, extra_flags=0):
    flags = extra_flags
    out = b""
    for bit, part in ((0, shp), (1, shx), (2, dbf), (4, prj), (8, cpg)):
        if part is None:
            continue
        flags |= bit
        out += struct.pack("<H", len(part)) + part
    return bytes([flags]) + out


def shapefile_parts(folder, stem):
    def read(ext):
        p = os.path.join(FIX, folder, f"{stem}.{ext}")
        return open(p, "rb").read() if os.path.exists(p) else None

    return {ext: read(ext) for ext in ("shp", "shx", "dbf", "prj", "cpg")}


for folder, stem in (("shp-4549-gbk", "parcels"), ("shp-4528-gbk-nocpg", "places"), ("shp-4549-utf8", "roads"),
                     ("shp-noprj", "parcels")):
    p = shapefile_parts(folder, stem)
    put("shapefile", f"{folder}.bin", pack_shapefile(**p))
gbk = shapefile_parts("shp-4549-gbk", "parcels")
put("shapefile", "no-shx-forced-gbk.bin", pack_shapefile(gbk["shp"], None, gbk["dbf"], gbk["prj"], None, extra_flags=16))
utf8 = shapefile_parts("shp-4549-utf8", "roads")
put("shapefile", "truncated-wgs84.bin",
    pack_shapefile(utf8["shp"][:170], utf8["shx"], utf8["dbf"], None, utf8["cpg"], extra_flags=32))

# --- dbf: encoding byte, then the table ---
put("dbf", "parcels-gbk.bin", b"\x01" + gbk["dbf"])
put("dbf", "roads-utf8.bin", b"\x00" + utf8["dbf"])
put("dbf", "places-nocpg.bin", b"\x02" + shapefile_parts("shp-4528-gbk-nocpg", "places")["dbf"])


# --- wkb and GeoPackage geometry blobs ---

def wkb(ty, body, little=True):
    e = "<" if little else ">"
    return bytes([1 if little else 0]) + struct.pack(e + "I", ty) + body


def pts(coords, little=True, dims=2):
    e = "<" if little else ">"
    return b"".join(struct.pack(e + "d" * dims, *c[:dims]) for c in coords)


def count(n, little=True):
    return struct.pack("<I" if little else ">I", n)


outer = [(121.10, 31.45), (121.20, 31.45), (121.20, 31.55), (121.10, 31.55), (121.10, 31.45)]
hole = [(121.14, 31.49), (121.16, 31.49), (121.16, 31.51), (121.14, 31.49)]
point = wkb(1, pts([(121.2045, 31.6142)]))
line_be = wkb(2, count(3, False) + pts([(121.09, 31.58), (121.15, 31.60), (121.22, 31.64)], False), little=False)
polygon = wkb(3, count(2) + count(len(outer)) + pts(outer) + count(len(hole)) + pts(hole))
multipolygon = wkb(6, count(2) + polygon + wkb(3, count(1) + count(4) + pts([(120.5, 31.3), (120.6, 31.3), (120.6, 31.4), (120.5, 31.3)])))
point_z = wkb(1001, pts([(612345.6, 3491234.5, 4.2)], dims=3))
ewkb_srid_z = b"\x01" + struct.pack("<I", 0xA0000001) + struct.pack("<I", 4549) + pts([(612345.6, 3491234.5, 4.2)], dims=3)
collection = wkb(7, count(3) + point + line_be + wkb(4, count(2) + point + point))
put("wkb", "point.wkb", point)
put("wkb", "line-be.wkb", line_be)
put("wkb", "polygon-hole.wkb", polygon)
put("wkb", "multipolygon.wkb", multipolygon)
put("wkb", "point-z-iso.wkb", point_z)
put("wkb", "point-ewkb-srid-z.wkb", ewkb_srid_z)
put("wkb", "collection.wkb", collection)


def gp(wkb_bytes, srs=4549, envelope=None, empty=False):
    code = {None: 0, "xy": 1, "xyz": 2}[envelope]
    flags = 1 | (code << 1) | (0b1_0000 if empty else 0)
    env = b""
    if envelope:
        env = struct.pack("<dddd", 121.10, 121.20, 31.45, 31.55) + (struct.pack("<dd", 0, 10) if envelope == "xyz" else b"")
    return b"GP\x00" + bytes([flags]) + struct.pack("<i", srs) + env + wkb_bytes


put("wkb", "gpkg-point.bin", gp(point))
put("wkb", "gpkg-polygon-envelope.bin", gp(polygon, envelope="xy"))
put("wkb", "gpkg-z-envelope.bin", gp(point_z, envelope="xyz"))
put("wkb", "gpkg-empty.bin", gp(wkb(1, pts([(float("nan"), float("nan"))])), empty=True))

# --- gpkg: small GeoPackages (512-byte pages, no R-tree) ---

ESRI_4549 = fixture("shp-4549-gbk", "parcels.prj").decode()
ESRI_4528 = fixture("shp-4528-gbk-nocpg", "places.prj").decode()


def geopackage(name, srs_rows, tables):
    path = os.path.join("/tmp", f"port-atlas-seed-{os.getpid()}-{name}")
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA page_size = 512")
    db.execute("PRAGMA application_id = 1196444487")
    db.execute("PRAGMA user_version = 10400")
    db.execute("CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, "
               "organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, "
               "description TEXT)")
    db.execute("CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT, "
               "description TEXT DEFAULT '', last_change DATETIME, min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, "
               "max_y DOUBLE, srs_id INTEGER)")
    db.execute("CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
               "geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL)")
    db.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", srs_rows)
    for table, srs, rows in tables:
        db.execute(f'CREATE TABLE "{table}" (fid INTEGER PRIMARY KEY, geom BLOB, "名称" TEXT, "面积" REAL, "编号" INTEGER)')
        db.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES (?, 'features', ?, ?)",
                   (table, table, srs))
        db.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'GEOMETRY', ?, 0, 0)", (table, srs))
        db.executemany(f'INSERT INTO "{table}" (geom, "名称", "面积", "编号") VALUES (?,?,?,?)', rows)
    db.commit()
    db.execute("VACUUM")
    db.close()
    data = open(path, "rb").read()
    os.remove(path)
    return data


gk_point = wkb(1, pts([(612345.6, 3491234.5)]))
gk_square = wkb(3, count(1) + count(5) + pts([(612000, 3491000), (612100, 3491000), (612100, 3491100), (612000, 3491100), (612000, 3491000)]))
put("gpkg", "epsg-4549.gpkg", geopackage("a.gpkg", [
    ("CGCS2000 / 3-degree Gauss-Kruger CM 120E", 4549, "EPSG", 4549, ESRI_4549, None),
], [
    ("地块", 4549, [(gp(gk_square), "港区仓库", 10000.0, 1), (gp(gk_point), "码头", None, 2), (None, "未测", None, 3)]),
]))
put("gpkg", "wkt-srs-two-tables.gpkg", geopackage("b.gpkg", [
    ("zone 40", 100001, "NONE", 100001, ESRI_4528, None),
    ("undefined", -1, "NONE", -1, "undefined", None),
], [
    ("控制点", 100001, [(gp(wkb(1, pts([(40612345.6, 3491234.5)])), srs=100001), "J01", None, 1)]),
    ("no_crs", -1, [(gp(point, srs=-1), "太仓港", 1.5, 7)]),
]))

# --- kml ---
put("kml", "gdal-places.kml", fixture("kml", "gdal-places.kml"))
put("kml", "folders.kml", """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Document><name>太仓</name>
<Folder><name>港区</name>
  <Folder><name>码头</name>
    <Placemark><name>太仓港集装箱码头</name><description>二期</description>
      <ExtendedData><Data name="泊位"><value>10</value></Data></ExtendedData>
      <MultiGeometry><Point><coordinates>121.2321,31.6317,0</coordinates></Point>
        <LineString><coordinates>121.23,31.63 121.24,31.64</coordinates></LineString></MultiGeometry>
    </Placemark>
  </Folder>
  <Placemark><name>港区轨迹</name><gx:Track><when>2023-01-01T00:00:00Z</when>
    <gx:coord>121.2 31.6 5</gx:coord><gx:coord>121.21 31.61 5</gx:coord></gx:Track></Placemark>
  <Placemark><name>无几何</name></Placemark>
</Folder>
<NetworkLink><Link><href>http://example.com/x.kml</href></Link></NetworkLink>
<GroundOverlay><name>影像</name></GroundOverlay>
<Placemark><name>坏坐标</name><Point><coordinates>abc,31.5</coordinates></Point></Placemark>
</Document></kml>
""")
put("kml", "gbk-declared.kml", '<?xml version="1.0" encoding="GBK"?>\n<kml><Placemark><name>浏河镇</name>'
    '<Polygon><outerBoundaryIs><LinearRing><coordinates>121.25,31.50 121.30,31.50 121.30,31.55 121.25,31.50'
    '</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></kml>\n'.encode("gbk"))
put("kml", "utf16-bom.kml", "\ufeff<kml><Placemark><name>昆山</name><Point><coordinates>120.98,31.38"
    "</coordinates></Point></Placemark></kml>".encode("utf-16-le"))

# --- csv ---
put("csv", "enterprises.csv", "太仓市重点企业名单（2023年）\n名称,地址,经度(°),纬度(°),员工数\n"
    "舍弗勒（太仓）有限公司,\"太仓市经济开发区,宁波东路\",121.1389,31.4672,2650\n"
    "克恩-里伯斯,太仓市经济开发区,121°07'33.6\"E,31°28'30\"N,1200\n浏河镇新建厂区,浏河镇,,,\n")
put("csv", "gbk-survey.csv", "太仓市控制点成果表\n点号,X坐标,Y坐标\nJ01,3491234.567,40612345.678\n"
    "J02,3492001.25,40613010.004\n".encode("gbk"))
put("csv", "amap-location.csv", "\ufeffname,location,type\n太仓港,\"121.2321,31.6317\",码头\n舍弗勒,121.1389，31.4672,企业\n")
put("csv", "fullwidth-tab.tsv", "名称\t经度\t纬度\n码头\t１２１．２３\t３１．６３\n仓库\t121.1\t\n")
put("csv", "utf16-semicolon.csv", "\ufeff名称;lng_gcj02;lat_gcj02\n港;121,2;31,6\n".encode("utf-16-le"))

# --- xlsx (and the other workbook formats) ---
put("xlsx", "enterprises.xlsx", fixture("table", "enterprises.xlsx"))
ods = io.BytesIO()
with zipfile.ZipFile(ods, "w") as z:
    zput(z, "mimetype", "application/vnd.oasis.opendocument.spreadsheet", deflate=False)
    zput(z, "META-INF/manifest.xml", '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest '
               'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
               '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
               '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    cells = lambda *vs: "".join(
        f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'
        if isinstance(v, float) else f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
        for v in vs)
    zput(z, "content.xml", '<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               '<office:body><office:spreadsheet><table:table table:name="码头">'
               f'<table:table-row>{cells("名称", "经度", "纬度")}</table:table-row>'
               f'<table:table-row>{cells("太仓港", 121.2321, 31.6317)}</table:table-row>'
               f'<table:table-row>{cells("浏河", 121.28, 31.51)}</table:table-row>'
               '</table:table></office:spreadsheet></office:body></office:document-content>')
put("xlsx", "ports.ods", ods.getvalue())

# --- prj: the systems planners' files carry ---
put("prj", "esri-4549.prj", ESRI_4549)
put("prj", "esri-4528-zone40.prj", ESRI_4528)
put("prj", "ogc-4549.prj", 'PROJCS["CGCS2000 / 3-degree Gauss-Kruger CM 120E",GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101,AUTHORITY["EPSG","1024"]],AUTHORITY["EPSG","1043"]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4490"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",120],PARAMETER["scale_factor",1],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1],AUTHORITY["EPSG","4549"]]')
put("prj", "wkt2-32651.prj", 'PROJCRS["WGS 84 / UTM zone 51N",BASEGEOGCRS["WGS 84",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,298.257223563]]],CONVERSION["UTM zone 51N",METHOD["Transverse Mercator"],PARAMETER["Longitude of natural origin",123],PARAMETER["Scale factor at natural origin",0.9996],PARAMETER["False easting",500000]],CS[Cartesian,2],ID["EPSG",32651]]')
put("prj", "wkt2-no-code.prj", 'PROJCRS["local",BASEGEOGCRS["CGCS2000",DATUM["China 2000",ELLIPSOID["CGCS2000",6378137,298.257222101]]],CONVERSION["GK",METHOD["Transverse Mercator"],PARAMETER["Latitude of natural origin",0],PARAMETER["Longitude of natural origin",120],PARAMETER["Scale factor at natural origin",1],PARAMETER["False easting",500000],PARAMETER["False northing",0]],CS[Cartesian,2],LENGTHUNIT["metre",1]]')
put("prj", "esri-3857.prj", 'PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]')
put("prj", "esri-cgcs2000-geographic.prj", 'GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]')
put("prj", "xian1980-towgs84.prj", 'PROJCS["Xian_1980_3_Degree_GK_CM_120E",GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",SPHEROID["Xian_1980",6378140.0,298.257],TOWGS84[24.0,-123.0,-94.0,0.02,-0.25,-0.13,1.1]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')
put("prj", "xian1980-no-params.prj", 'PROJCS["Xian_1980_3_Degree_GK_CM_120E",GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",SPHEROID["Xian_1980",6378140.0,298.257]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')

# --- zip: a zipped Shapefile, a KMZ, a zip of two Shapefiles ---
put("zip", "parcels-4549.zip", fixture("parcels-4549.zip"))
kmz = io.BytesIO()
with zipfile.ZipFile(kmz, "w", zipfile.ZIP_DEFLATED) as z:
    zput(z, "doc.kml", open(os.path.join(CORPUS, "kml", "folders.kml"), "rb").read())
put("zip", "places.kmz", kmz.getvalue())
two = io.BytesIO()
with zipfile.ZipFile(two, "w", zipfile.ZIP_DEFLATED) as z:
    for ext in ("shp", "shx", "dbf", "prj", "cpg"):
        zput(z, f"道路/roads.{ext}", utf8[ext])
    for ext in ("shp", "shx", "dbf"):
        zput(z, f"parcels.{ext.upper()}", gbk[ext])
    zput(z, "../escape.txt", b"x")
put("zip", "two-shapefiles.zip", two.getvalue())

# --- gazetteer, story, settings ---
put("gazetteer", "geodata.json", open(os.path.join(ROOT, "geodata", "gazetteer.json"), "rb").read())
put("gazetteer", "places.json", """{
  "places": [
    {"id": "liuhe", "name_zh_hant": "瀏河鎮", "name_zh_hans": "浏河镇", "name_en": "Liuhe", "aliases": ["浏河"],
     "lon_lat": [121.28, 31.51]},
    {"id": "", "name_en": "no id"},
    {"id": "nameless"}
  ],
  "aliases": {"liuhe": ["劉河"], "nowhere": ["无处"]},
  "not_places": ["非常熟悉", "浏河口以外"],
  "variants": {"劉": "刘", "港": "港口"}
}
""")
put("story", "report.story.json", """{
  "document": "report.txt",
  "steps": [
    {"line": 1, "sentences": {"start": 0, "end": 2}, "places": ["taicang-port", "suzhou"],
     "view": [120.9, 31.2, 121.4, 31.7]},
    {"line": 3, "sentences": {"start": 0, "end": 1}, "places": [], "view": null, "caption": "太仓港概况",
     "custom_view": [121.1, 31.5, 121.3, 31.7], "skip": true}
  ]
}
""")
put("story", "other-document.story.json", '{"document": "其他报告.txt", "steps": []}')
put("settings", "default.json", '{"basemap": "none", "basemap_crs": "wgs84", "basemap_attribution": "", '
    '"basemap_opacity": 1.0, "basemap_muted": false}')
put("settings", "gaode.json", '{"basemap": "gaode", "basemap_opacity": 0.6, "basemap_muted": true}')
put("settings", "template-gcj02.json", '{"basemap": "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}",'
    ' "basemap_crs": "gcj02", "basemap_attribution": "© 高德地图", "basemap_opacity": 0.35}')


# --- tile: PNG tiles with and without the cache header ---

def png(w, h, rgba):
    raw = b"".join(b"\x00" + bytes(rgba) * w for _ in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


tile = png(16, 16, (170, 211, 223, 255))
put("tile", "plain-png.bin", tile)  # not .png: the repository ignores *.png
put("tile", "cached.tile", b"port-atlas tile 1\nfetched 1700000000\nfresh-for 86400\n"
    b'etag "5f3a-1c"\nlast-modified Wed, 01 Nov 2023 00:00:00 GMT\n\n' + png(8, 8, (255, 255, 255, 0)))
put("tile", "cached-old.tile", b"port-atlas tile 1\nfetched 0\nfresh-for 0\n\n" + tile)
print("seeds written under", CORPUS)
