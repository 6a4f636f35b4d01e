#!/usr/bin/env python3
"""Writes tests/fixtures/vector/expected.json: reference values for the vector-tile fixtures,
read with decoders that share no code with port-atlas:

* tile bytes: sqlite3 (MBTiles), plain files (GDAL directory, PostGIS tiles), the `pmtiles`
  PyPI package (PMTiles header, directories and tiles);
* MVT decoding: `mapbox-vector-tile` (PyPI; its protobuf bindings for the raw command stream and
  `mapbox_vector_tile.decode(..., default_options={"y_coord_down": True})` for the decoded
  geometry), cross-checked with `ogrinfo` (GDAL MVT driver) feature counts.

Usage: vector_fixture_expected.py [FIXTURE_DIR]   (default tests/fixtures/vector)
Needs: pip install mapbox-vector-tile pmtiles
"""
import gzip
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from importlib.metadata import version

import mapbox_vector_tile
from mapbox_vector_tile.Mapbox import vector_tile_pb2
from pmtiles.reader import MmapSource, Reader, all_tiles

# XYZ tile coordinates (y = 0 at the north edge). The last one lies outside the data.
TILES = [(14, 13703, 6683), (14, 13704, 6682), (10, 856, 417), (14, 13700, 6682)]
SPECIAL_IDS = (121, 122)  # 121: Polygon with a hole; 122: MultiPolygon of two rectangles
GEOM_TYPES = {0: "UNKNOWN", 1: "POINT", 2: "LINESTRING", 3: "POLYGON"}

CONVENTIONS = {
    "tile_coordinates": "z/x/y are XYZ (slippy-map) coordinates: y = 0 is the northernmost row. "
                        "For MBTiles, storage_row is the TMS tile_row actually stored in the tiles "
                        "table: tile_row = 2^z - 1 - y.",
    "gzip": "true when the bytes as stored start with 1f 8b (gzip); stored_bytes/stored_sha256 are "
            "of the bytes as stored, decoded_bytes is the length of the raw protobuf.",
    "geometry": "Integer tile coordinates exactly as stored (y grows downward, origin at the "
                "tile's top-left corner, extent units, no y-flip, buffer coordinates may be < 0 "
                "or > extent). first_part is the MoveTo point followed by the LineTo points of the "
                "feature's first ring/line/point, WITHOUT repeating the first point (ClosePath is "
                "implicit). part_signed_areas: shoelace area of each polygon ring in these y-down "
                "coordinates, sum((x1*y2 - x2*y1))/2 (MVT 2.1: exterior rings > 0, holes < 0).",
    "decoder_check": "mapbox_vector_tile.decode(tile, default_options={'y_coord_down': True}) "
                     "returns the same first ring with the first point appended at the end for "
                     "polygons; mapbox_first_ring_matches records that check.",
    "ids": "ids: sorted list of the 'id' PROPERTY of every feature in the layer (duplicates kept: a "
           "feature crossing tile edges appears in each tile). feature_ids: sorted MVT feature id "
           "field values, null when the encoder wrote no feature ids.",
    "hole_and_multipolygon_features": "parcels 121 (one hole) and 122 (two polygons) where the "
                                      "tile holds them: a ring with a negative signed area is a "
                                      "hole of the polygon before it.",
    "chosen_feature": "the first feature (in stored order) with the smallest 'id' property.",
}


def zigzag(n):
    return (n >> 1) ^ -(n & 1)


def parts(cmds):
    out, cur, x, y, i = [], None, 0, 0, 0
    while i < len(cmds):
        cid, cnt = cmds[i] & 7, cmds[i] >> 3
        i += 1
        if cid in (1, 2):
            for _ in range(cnt):
                x += zigzag(cmds[i])
                y += zigzag(cmds[i + 1])
                i += 2
                if cid == 1:
                    cur = []
                    out.append(cur)
                cur.append([x, y])
        elif cid != 7:
            raise ValueError(f"bad command {cid}")
    return out


def signed_area(ring):
    s = 0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        s += x1 * y2 - x2 * y1
    return s / 2


def value_of(v):
    for name in ("string_value", "float_value", "double_value", "int_value", "uint_value",
                 "sint_value", "bool_value"):
        if v.HasField(name):
            return name, getattr(v, name)
    return None, None


def ogrinfo_counts(data):
    with tempfile.NamedTemporaryFile(suffix=".pbf", delete=False) as f:
        f.write(data)
        path = f.name
    try:
        out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", path], capture_output=True,
                             text=True, check=True).stdout
    finally:
        os.unlink(path)
    names = re.findall(r"^Layer name: (.+)$", out, re.M)
    counts = [int(c) for c in re.findall(r"^Feature Count: (\d+)$", out, re.M)]
    return dict(zip(names, counts))


def describe_tile(z, x, y, stored, storage_row=None):
    entry = {"z": z, "x": x, "y": y}
    if storage_row is not None:
        entry["storage_row"] = storage_row
    if stored is None:
        entry["present"] = False
        return entry
    is_gzip = stored[:2] == b"\x1f\x8b"
    raw = gzip.decompress(stored) if is_gzip else stored
    entry.update(present=True, gzip=is_gzip, stored_bytes=len(stored),
                 stored_sha256=hashlib.sha256(stored).hexdigest(), decoded_bytes=len(raw))
    tile = vector_tile_pb2.tile()
    tile.ParseFromString(raw)
    decoded = mapbox_vector_tile.decode(raw, default_options={"y_coord_down": True})
    layers = []
    for layer in tile.layers:
        keys, values = list(layer.keys), [value_of(v) for v in layer.values]

        def props(f):
            tags = list(f.tags)
            return {keys[tags[i]]: values[tags[i + 1]][1] for i in range(0, len(tags), 2)}

        def prop_types(f):
            tags = list(f.tags)
            return {keys[tags[i]]: values[tags[i + 1]][0] for i in range(0, len(tags), 2)}

        feats = list(layer.features)
        fprops = [props(f) for f in feats]
        ids = sorted(p["id"] for p in fprops if "id" in p)
        fids = [f.id for f in feats if f.HasField("id")]
        info = {"name": layer.name, "version": layer.version, "extent": layer.extent,
                "feature_count": len(feats), "keys": keys, "ids": ids,
                "feature_ids": sorted(fids) if fids else None}
        if ids:
            k = min(range(len(feats)), key=lambda i: (fprops[i].get("id", 1 << 62), i))
            f = feats[k]
            geom_parts = parts(list(f.geometry))
            chosen = {"id": fprops[k]["id"],
                      "feature_id": f.id if f.HasField("id") else None,
                      "geom_type": GEOM_TYPES[f.type],
                      "part_count": len(geom_parts),
                      "first_part": geom_parts[0],
                      "properties": fprops[k],
                      "property_value_types": prop_types(f)}
            if f.type == 3:
                chosen["part_signed_areas"] = [signed_area(p) for p in geom_parts]
            mf = decoded[layer.name]["features"][k]
            chosen["mapbox_decoded_type"] = mf["geometry"]["type"]
            c = mf["geometry"]["coordinates"]
            if f.type == 3:
                first = c[0] if mf["geometry"]["type"] == "Polygon" else c[0][0]
                chosen["mapbox_first_ring_matches"] = \
                    [list(p) for p in first] == geom_parts[0] + [geom_parts[0][0]]
            info["chosen_feature"] = chosen
        if layer.name == "parcels":
            # The polygon with a hole (121) and the MultiPolygon (122), where the tile has them.
            special = {}
            for k, f in enumerate(feats):
                pid = fprops[k].get("id")
                if pid in SPECIAL_IDS and str(pid) not in special:
                    geom_parts = parts(list(f.geometry))
                    special[str(pid)] = {
                        "geom_type": GEOM_TYPES[f.type], "part_count": len(geom_parts),
                        "part_vertex_counts": [len(p) for p in geom_parts],
                        "part_signed_areas": [signed_area(p) for p in geom_parts],
                        "mapbox_decoded_type": decoded[layer.name]["features"][k]["geometry"]["type"]}
            info["hole_and_multipolygon_features"] = special
        layers.append(info)
    entry["layers"] = layers
    entry["ogrinfo_feature_counts"] = ogrinfo_counts(stored)
    return entry


def floats(s):
    return [float(v) for v in s.split(",")] if isinstance(s, str) else s


def mbtiles(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    meta = dict(db.execute("SELECT name, value FROM metadata"))
    res = {"format": "mbtiles", "row_convention_in_storage": "TMS",
           "metadata": {k: v for k, v in meta.items() if k != "json"},
           "metadata_json_vector_layers": [l["id"] for l in json.loads(meta.get("json", "{}")).get("vector_layers", [])],
           "zoom_range": [int(meta["minzoom"]), int(meta["maxzoom"])],
           "bounds": floats(meta.get("bounds")),
           "tile_count": db.execute("SELECT count(*) FROM tiles").fetchone()[0],
           "tiles_per_zoom": {str(z): n for z, n in db.execute(
               "SELECT zoom_level, count(*) FROM tiles GROUP BY zoom_level ORDER BY zoom_level")},
           "tiles": []}
    for z, x, y in TILES:
        row = (1 << z) - 1 - y
        hit = db.execute("SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                         (z, x, row)).fetchone()
        res["tiles"].append(describe_tile(z, x, y, hit[0] if hit else None, storage_row=row))
    return res


def xyz_dir(path):
    meta = json.load(open(os.path.join(path, "metadata.json"), encoding="utf-8"))
    files = sorted(os.path.relpath(os.path.join(d, f), path) for d, _, fs in os.walk(path)
                   for f in fs if f.endswith(".pbf"))
    per_zoom = {}
    for f in files:
        per_zoom[f.split(os.sep)[0]] = per_zoom.get(f.split(os.sep)[0], 0) + 1
    res = {"format": "directory {z}/{x}/{y}.pbf", "row_convention_in_storage": "XYZ",
           "metadata": {k: v for k, v in meta.items() if k != "json"},
           "metadata_json_vector_layers": [l["id"] for l in json.loads(meta.get("json", "{}")).get("vector_layers", [])],
           "zoom_range": [int(meta["minzoom"]), int(meta["maxzoom"])],
           "bounds": floats(meta.get("bounds")), "tile_count": len(files),
           "tiles_per_zoom": dict(sorted(per_zoom.items(), key=lambda kv: int(kv[0]))), "tiles": []}
    for z, x, y in TILES:
        p = os.path.join(path, str(z), str(x), f"{y}.pbf")
        res["tiles"].append(describe_tile(z, x, y, open(p, "rb").read() if os.path.exists(p) else None))
    return res


def pmtiles_file(path):
    with open(path, "rb") as f:
        r = Reader(MmapSource(f))
        h = r.header()
        header = {k: (v.name if hasattr(v, "name") else v) for k, v in h.items()}
        meta = r.metadata()
        tiles = list(all_tiles(r.get_bytes))
        per_zoom = {}
        for (z, _, _), _ in tiles:
            per_zoom[str(z)] = per_zoom.get(str(z), 0) + 1
        res = {"format": "pmtiles", "row_convention_in_storage": "XYZ (Hilbert tile ids)",
               "header": header,
               "header_enum_values": {"tile_type": int(h["tile_type"].value),
                                      "tile_compression": int(h["tile_compression"].value),
                                      "internal_compression": int(h["internal_compression"].value)},
               "metadata": {k: v for k, v in meta.items()
                            if k not in ("vector_layers", "tilestats", "generator_options")},
               "metadata_json_vector_layers": [l["id"] for l in meta.get("vector_layers", [])],
               "zoom_range": [h["min_zoom"], h["max_zoom"]],
               "bounds": [h["min_lon_e7"] / 1e7, h["min_lat_e7"] / 1e7,
                          h["max_lon_e7"] / 1e7, h["max_lat_e7"] / 1e7],
               "tile_count": len(tiles),
               "tiles_per_zoom": dict(sorted(per_zoom.items(), key=lambda kv: int(kv[0]))),
               "tiles": [describe_tile(z, x, y, r.get(z, x, y)) for z, x, y in TILES]}
    return res


def postgis_dir(path):
    names = sorted(n for n in os.listdir(path) if n.endswith(".mvt"))
    res = {"format": "raw ST_AsMVT output, files {z}-{x}-{y}.mvt", "row_convention_in_storage": "XYZ",
           "tile_count": len(names), "tiles": []}
    for n in names:
        z, x, y = (int(v) for v in n[:-4].split("-"))
        res["tiles"].append(describe_tile(z, x, y, open(os.path.join(path, n), "rb").read()))
    return res


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/vector"
    out = {"generated_by": "scripts/vector_fixture_expected.py",
           "decoders": {"mapbox-vector-tile": version("mapbox-vector-tile"),
                        "protobuf": version("protobuf"), "pmtiles": version("pmtiles"),
                        "ogrinfo": subprocess.run(["ogrinfo", "--version"], capture_output=True,
                                                  text=True).stdout.strip()},
           "conventions": CONVENTIONS,
           "tiles_checked": [list(t) for t in TILES],
           "sources": {}}
    src = out["sources"]
    src["gdal.mbtiles"] = mbtiles(os.path.join(root, "gdal.mbtiles"))
    src["gdal-xyz"] = xyz_dir(os.path.join(root, "gdal-xyz"))
    for name in sorted(os.listdir(root)):
        if name.endswith(".pmtiles"):
            src[name] = pmtiles_file(os.path.join(root, name))
    if os.path.isdir(os.path.join(root, "postgis")):
        src["postgis"] = postgis_dir(os.path.join(root, "postgis"))
    with open(os.path.join(root, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
