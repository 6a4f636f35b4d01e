#!/usr/bin/env bash
# Drives the app under Xvfb as a planner would, with xdotool, and grabs the screen after each step
# (PNG files in OUT, default /tmp/port-atlas-open-dialog): *Open layer…* → type a folder in the
# dialog's path bar → pick a GBK Shapefile in EPSG:4528 without .cpg → it loads with its names;
# its *table, style, source* → *Attribute table* → click a row → the feature is selected and the
# map flies to it. Coordinates are those of a 1400x900 window. Run from the repository root after
# `cargo build --release`; look at the PNGs (the names must be glyphs, the row highlighted).
set -euo pipefail
out="${1:-/tmp/port-atlas-open-dialog}"
mkdir -p "$out"
export DISPLAY=:77
Xvfb :77 -screen 0 1400x900x24 >/dev/null 2>&1 &
XV=$!
sleep 1
B="${CARGO_TARGET_DIR:-$HOME/.cache/port-atlas/target}/release/port-atlas"
$B --size 1400x900 >"$out"/app.log 2>&1 &
APP=$!
for i in $(seq 1 60); do xdotool search --name port-atlas >/dev/null 2>&1 && break; sleep 1; done
sleep 6
shot() { import -window root "$1"; }
# "Open layer…" in the toolbar
xdotool mousemove 577 11 click 1; sleep 2
shot "$out"/step1.png
W=$(xdotool search --name port-atlas | head -1); xdotool windowfocus $W; sleep 0.5
xdotool mousemove 528 72 click 1; sleep 1
xdotool key ctrl+a; xdotool key --repeat 60 --delay 10 BackSpace; xdotool type --delay 30 "$PWD/tests/fixtures/formats/shp-4528-gbk-nocpg"; sleep 0.5
import -window root -crop 600x40+140+55 "$out"/step15.png
xdotool key Return; sleep 1.5
shot "$out"/step2.png
# The one layer file listed: select it and open.
xdotool mousemove 300 114 click 1; sleep 0.7; xdotool mousemove 684 456 click 1; sleep 4
shot "$out"/step3.png
# Its attribute table, from the layer's details (the last layer's header).
xdotool mousemove 90 534 click 1; sleep 1
shot "$out"/step4.png
xdotool mousemove 80 555 click 1; sleep 1.5
shot "$out"/step5.png
# Click the second row: the feature is selected and the map flies to it.
xdotool mousemove 440 656 click 1; sleep 3
shot "$out"/step6.png
kill $APP; sleep 1; kill $XV
