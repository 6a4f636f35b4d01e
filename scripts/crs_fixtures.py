"""Writes tests/fixtures/crs/pyproj.json: reference positions from pyproj (PROJ) for every
coordinate system src/spatial/crs.rs supports, so its test compares proj4rs with an independent
implementation without needing Python. Run: pip install pyproj; python3 scripts/crs_fixtures.py
"""
import json
import pathlib

import pyproj

# Places in and around Suzhou, and a far corner of each zone's own range.
PLACES = [(121.174, 31.564), (120.585, 31.299), (120.9, 31.98), (121.47, 31.23), (119.2, 30.1)]


def cases():
    out = []
    codes = [4490, 3857, 32650, 32651]
    codes += list(range(4491, 4502)) + list(range(4502, 4513)) + list(range(4513, 4534)) + list(range(4534, 4555))
    to = {c: pyproj.Transformer.from_crs("EPSG:4326", f"EPSG:{c}", always_xy=True) for c in codes}
    for code in codes:
        crs = pyproj.CRS.from_epsg(code)
        area = crs.area_of_use
        for lon, lat in PLACES:
            # Zones far from Suzhou get a point on their own central meridian band instead.
            if area and not (area.west - 1.5 <= lon <= area.east + 1.5):
                lon = (area.west + area.east) / 2 + 0.7
            x, y = to[code].transform(lon, lat)
            out.append({"epsg": code, "lon": lon, "lat": lat, "x": x, "y": y})
    return out


path = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/crs/pyproj.json"
path.write_text(json.dumps(cases(), indent=0) + "\n")
print(f"{path}: pyproj {pyproj.__version__}, PROJ {pyproj.proj_version_str}")
