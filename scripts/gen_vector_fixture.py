#!/usr/bin/env python3
"""Writes the deterministic source layers for tests/fixtures/vector/ (parcels.geojson, roads.geojson).

Generated data only (no third-party data). Usage: gen_vector_fixture.py OUT_DIR
Parcels: a 12 x 10 grid of ~60 m rectangles (sides 50-70 m from a seeded RNG) spread over lon 121.10-121.14, lat 31.44-31.47 (Taicang),
ids 1..120 in row-major order from the south-west corner, plus id 121 (Polygon with a hole) and
id 122 (MultiPolygon) placed in the gaps of the grid. Exterior rings are counter-clockwise and
holes clockwise (RFC 7946). Coordinates are rounded to 7 decimals.
"""
import json
import math
import random
import sys

SEED = 20240531
COLS, ROWS = 12, 10
LON0, LAT0 = 121.1015, 31.4415  # south-west corner of parcel 1
DLON, DLAT = 0.0033, 0.0030     # grid pitch (~313 m x ~333 m), so parcels straddle z14 tile edges
SIDE_M = 60.0
LAT_MID = 31.455
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT_MID))
SIDE_LON = SIDE_M / M_PER_DEG_LON
SIDE_LAT = SIDE_M / M_PER_DEG_LAT
LANDUSE = ["居住", "工业", "绿地", "商业"]
NAMED = {
    5: "太仓港经济技术开发区",
    18: "陈门泾公园",
    40: "弇山园",
    63: "南园",
    77: "太仓体育中心",
    101: "天镜湖",
}


def r(v):
    return round(v, 7)


def rect(lon, lat, w, h, ccw=True):
    ring = [[lon, lat], [lon + w, lat], [lon + w, lat + h], [lon, lat + h], [lon, lat]]
    if not ccw:
        ring = ring[::-1]
    return [[r(x), r(y)] for x, y in ring]


def ring_area_m2(ring):
    s = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        s += (x1 * M_PER_DEG_LON) * (y2 * M_PER_DEG_LAT) - (x2 * M_PER_DEG_LON) * (y1 * M_PER_DEG_LAT)
    return s / 2.0  # signed: > 0 for counter-clockwise


def poly_area(rings):
    return abs(ring_area_m2(rings[0])) - sum(abs(ring_area_m2(h)) for h in rings[1:])


def feature(fid, props, geom):
    return {"type": "Feature", "id": fid, "properties": props, "geometry": geom}


def parcels():
    rng = random.Random(SEED)
    feats = []
    fid = 0
    for row in range(ROWS):
        for col in range(COLS):
            fid += 1
            w_m, h_m = rng.randint(50, 70), rng.randint(50, 70)  # ~60 m sides, whole metres
            ring = rect(LON0 + col * DLON, LAT0 + row * DLAT, w_m / M_PER_DEG_LON, h_m / M_PER_DEG_LAT)
            props = {
                "id": fid,
                "name": NAMED.get(fid, f"地块-{fid:04d}"),
                "landuse": rng.choice(LANDUSE),
                "area_m2": round(poly_area([ring]), 1),
            }
            feats.append(feature(fid, props, {"type": "Polygon", "coordinates": [ring]}))
    # id 121: a 200 m square park with a 80 m lake (hole), in the gap east/north of parcel 15.
    lon, lat = LON0 + 2 * DLON + 1.5 * SIDE_LON, LAT0 + 1 * DLAT + 1.5 * SIDE_LAT
    w, h = 200 / M_PER_DEG_LON, 200 / M_PER_DEG_LAT
    hw, hh = 80 / M_PER_DEG_LON, 80 / M_PER_DEG_LAT
    outer = rect(lon, lat, w, h)
    hole = rect(lon + (w - hw) / 2, lat + (h - hh) / 2, hw, hh, ccw=False)
    feats.append(feature(121, {"id": 121, "name": "金仓湖公园", "landuse": "绿地",
                               "area_m2": round(poly_area([outer, hole]), 1)},
                         {"type": "Polygon", "coordinates": [outer, hole]}))
    # id 122: two 100 m x 60 m blocks, in the gap east/north of parcel 56.
    lon, lat = LON0 + 6 * DLON + 1.5 * SIDE_LON, LAT0 + 4 * DLAT + 1.5 * SIDE_LAT
    w, h = 100 / M_PER_DEG_LON, 60 / M_PER_DEG_LAT
    a = rect(lon, lat, w, h)
    b = rect(lon + w + 40 / M_PER_DEG_LON, lat + 80 / M_PER_DEG_LAT, w, h)
    feats.append(feature(122, {"id": 122, "name": "娄江新城科教创新区", "landuse": "商业",
                               "area_m2": round(poly_area([a]) + poly_area([b]), 1)},
                         {"type": "MultiPolygon", "coordinates": [[a], [b]]}))
    return feats


def roads():
    def line(pts):
        return {"type": "LineString", "coordinates": [[r(x), r(y)] for x, y in pts]}

    def pt(x, y):
        return {"type": "Point", "coordinates": [r(x), r(y)]}

    specs = [
        (1, "太沙路", "primary", line([(121.1005, 31.4405), (121.1120, 31.4520), (121.1215, 31.4590), (121.1395, 31.4695)])),
        (2, "苏昆太高速", "motorway", line([(121.1000, 31.4560), (121.1200, 31.4545), (121.1400, 31.4530)])),
        (3, "上海东路", "secondary", line([(121.1180, 31.4400), (121.1185, 31.4550), (121.1190, 31.4700)])),
        (4, "北京西路", "secondary", line([(121.1000, 31.4650), (121.1150, 31.4655), (121.1300, 31.4660), (121.1400, 31.4662)])),
        (5, "太仓南站", "station", pt(121.1302, 31.4448)),
        (6, "金仓湖公交枢纽", "bus_station", pt(121.1090 + 0.0025, 31.4490)),
    ]
    return [feature(fid, {"id": fid, "name": name, "kind": kind}, geom) for fid, name, kind, geom in specs]


def write(path, name, feats):
    fc = {"type": "FeatureCollection", "name": name, "features": feats}
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n\"type\": \"FeatureCollection\",\n\"name\": %s,\n\"features\": [\n" % json.dumps(name))
        f.write(",\n".join(json.dumps(ft, ensure_ascii=False, separators=(",", ":")) for ft in fc["features"]))
        f.write("\n]\n}\n")


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/vector"
    write(f"{out}/parcels.geojson", "parcels", parcels())
    write(f"{out}/roads.geojson", "roads", roads())
