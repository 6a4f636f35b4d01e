#!/usr/bin/env python3
"""Reference geodesic lengths and areas on the WGS84 ellipsoid from pyproj's Geod (GeographicLib),
for port-atlas's measuring tool: tests/fixtures/measure/pyproj.json. Paths and rings around
Taicang and across the region, from a few metres to 100 km."""
import json
from pyproj import Geod

g = Geod(ellps="WGS84")
cases = {
    "taicang_port_to_hongqiao": [(121.2333, 31.6167), (121.3161, 31.1963)],
    "short_street_50m": [(121.1000, 31.4500), (121.1005, 31.4502)],
    "loujiang_corridor_polyline": [(120.98, 31.38), (121.05, 31.42), (121.11, 31.45), (121.17, 31.50), (121.23, 31.62)],
    "suzhou_to_shanghai": [(120.585, 31.299), (121.4737, 31.2304)],
    "jincang_lake_park_ring": [(121.0700, 31.4950), (121.0850, 31.4950), (121.0850, 31.5060), (121.0700, 31.5060)],
    "parcel_60m": [(121.1000, 31.4500), (121.100632, 31.4500), (121.100632, 31.450541), (121.1000, 31.450541)],
    "taicang_county_triangle": [(121.00, 31.45), (121.35, 31.55), (121.10, 31.75)],
}
out = {"generated_by": "scripts/measure_fixtures.py", "pyproj": __import__("pyproj").__version__, "cases": {}}
for name, pts in cases.items():
    lons, lats = [p[0] for p in pts], [p[1] for p in pts]
    length = g.line_length(lons, lats)
    entry = {"points": pts, "length_m": length}
    if len(pts) >= 3:
        area, perimeter = g.polygon_area_perimeter(lons, lats)
        entry["area_m2"] = abs(area)
        entry["perimeter_m"] = perimeter
    out["cases"][name] = entry
print(json.dumps(out, indent=1))
