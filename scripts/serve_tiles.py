#!/usr/bin/env python3
"""A static tile server on 127.0.0.1 for the vector tile benchmark and for trying port-atlas on
big archives: serves a folder with HTTP range requests (206 + Content-Range, as nginx or S3 do),
so PMTiles archives are read by ranges, and answers `/tilejson/NAME` with TileJSON for the XYZ
folder NAME (what `tile-join -e NAME` or the pmtiles package's `pmtiles_to_dir` write: z/x/y.pbf or
.mvt plus metadata.json).

    serve_tiles.py FOLDER [PORT]      (PORT 0 picks a free one; the URL is printed)
"""
import http.server
import json
import os
import sys

root = os.path.abspath(sys.argv[1])
port = int(sys.argv[2]) if len(sys.argv) > 2 else 0


def bounds(meta):
    b = meta.get("bounds") or meta.get("antimeridian_adjusted_bounds")
    if isinstance(b, str):
        return [float(v) for v in b.split(",")]
    return b


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, ctype="application/octet-stream", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path.startswith("/tilejson/"):
            name = path[len("/tilejson/"):].strip("/")
            meta_path = os.path.join(root, name, "metadata.json")
            if not os.path.isfile(meta_path):
                return self.send(404, b"no such tile folder", "text/plain")
            meta = json.load(open(meta_path))
            inner = meta.get("json", {})
            inner = json.loads(inner) if isinstance(inner, str) else inner
            layers = meta.get("vector_layers") or inner.get("vector_layers", [])
            host = self.headers.get("Host", f"127.0.0.1:{port}")
            # tile-join writes .pbf, the pmtiles package .mvt: serve what the folder holds.
            ext = "pbf"
            for _, _, files in os.walk(os.path.join(root, name)):
                found = [f.rsplit(".", 1)[-1] for f in files if f != "metadata.json"]
                if found:
                    ext = found[0]
                    break
            tj = {
                "tilejson": "3.0.0",
                "name": meta.get("name", name),
                "tiles": [f"http://{host}/{name}/{{z}}/{{x}}/{{y}}.{ext}"],
                "minzoom": int(meta.get("minzoom", 0)),
                "maxzoom": int(meta.get("maxzoom", 14)),
                "bounds": bounds(meta),
                "vector_layers": layers,
            }
            return self.send(200, json.dumps(tj).encode(), "application/json")
        full = os.path.realpath(os.path.join(root, path.lstrip("/")))
        if not full.startswith(root) or not os.path.isfile(full):
            return self.send(404, b"", "text/plain")
        size = os.path.getsize(full)
        rng = self.headers.get("Range")
        with open(full, "rb") as f:
            if rng and rng.startswith("bytes="):
                a, _, b = rng[6:].partition("-")
                a = int(a)
                b = min(int(b) if b else size - 1, size - 1)
                if a >= size:
                    return self.send(416, b"", "text/plain", [("Content-Range", f"bytes */{size}")])
                f.seek(a)
                return self.send(206, f.read(b - a + 1), extra=[("Content-Range", f"bytes {a}-{b}/{size}")])
            return self.send(200, f.read())


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
