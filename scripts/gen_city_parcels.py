#!/usr/bin/env python3
"""Writes N non-overlapping square parcels tiling the Suzhou region as GeoJSON text sequence
(one Feature per line) on stdout, for tippecanoe: the city-scale layer of the vector tile
benchmark (scripts/bench-vector-tiles.sh). Properties as a planner's layer has them: `id`,
`name` (地块-…), `landuse`, `area_m2`; no atlas attributes.

    gen_city_parcels.py N [W,S,E,N]

The grid pitch is chosen so N parcels fill the rectangle (default 120.55,30.95,121.65,31.80, about
9,900 km²); each parcel is 85 % of its cell, so 2,000,000 parcels are about 60 m across.
"""
import json
import math
import sys

n = int(sys.argv[1])
w, s, e, nn = (float(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "120.55,30.95,121.65,31.80").split(","))
lat0 = math.radians((s + nn) / 2)
m_per_deg_lat = 110_574.0
m_per_deg_lon = 111_320.0 * math.cos(lat0)
width_m, height_m = (e - w) * m_per_deg_lon, (nn - s) * m_per_deg_lat
pitch = math.sqrt(width_m * height_m / n)
cols = max(1, int(width_m / pitch))
rows = math.ceil(n / cols)
dx, dy = pitch / m_per_deg_lon, pitch / m_per_deg_lat
side = 0.85
uses = ["居住", "工业", "绿地", "商业", "公共服务", "道路与交通"]
out = sys.stdout
for i in range(n):
    r, c = divmod(i, cols)
    x0, y0 = w + c * dx, s + r * dy
    x1, y1 = x0 + dx * side, y0 + dy * side
    f = {
        "type": "Feature",
        "id": i + 1,
        "properties": {
            "id": i + 1,
            "name": f"地块-{i + 1:07d}",
            "landuse": uses[(r * 7 + c * 3) % len(uses)],
            "area_m2": round((pitch * side) ** 2, 1),
        },
        "geometry": {"type": "Polygon", "coordinates": [[
            [round(x0, 7), round(y0, 7)], [round(x1, 7), round(y0, 7)], [round(x1, 7), round(y1, 7)],
            [round(x0, 7), round(y1, 7)], [round(x0, 7), round(y0, 7)]]]},
    }
    out.write(json.dumps(f, ensure_ascii=False, separators=(",", ":")))
    out.write("\n")
print(f"{n} parcels, pitch {pitch:.1f} m, {cols} x {rows}", file=sys.stderr)
