#!/usr/bin/env bash
# Side by side in one run: port-atlas and QGIS (PyQGIS, headless) opening and rendering the same
# planner's layer of 100,000 polygons (a `name`, a land-use code, no atlas attributes).
# port-atlas: process start to the first complete frame written as a screenshot, under Xvfb with
# lavapipe; QGIS: interpreter start to the finished render. Usage: scripts/bench-vs-qgis.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/port-atlas/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/port-atlas"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" synth --planner --polygons 100000 --out "$work/parcels.geojson"
"$bin" synth --polygons 100000 --out "$work/parcels-atlas-schema.geojson"
ls -l "$work"/*.geojson | awk '{print $5, $9}'
for i in $(seq "$runs"); do
  for f in parcels parcels-atlas-schema; do
    start=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$work/rss" xvfb-run -a -s '-screen 0 1440x900x24' \
      "$bin" --layer "$work/$f.geojson" --screenshot "$work/$f.png" --size 1440x900 >/dev/null 2>&1
    end=$(date +%s.%N)
    printf 'run %s port-atlas %-22s %.2f s, peak RSS %s MiB\n' "$i" "$f" "$(echo "$end - $start" | bc)" \
      "$(( $(cat "$work/rss") / 1024 ))"
  done
  printf 'run %s QGIS       parcels                %s\n' "$i" \
    "$(QT_QPA_PLATFORM=offscreen HOME="$work" /usr/bin/python3 scripts/qgis_open_time.py "$work/parcels.geojson" "$work/qgis.png" 1440x900)"
done
