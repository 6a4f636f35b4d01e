#!/usr/bin/env bash
# Drives a folder of reports under Xvfb as a planner would, with xdotool, and grabs the screen
# after each step (PNG files in OUT, default /tmp/port-atlas-corpus): 300 generated reports
# (`port-atlas synth-reports`) plus the Word and PDF fixtures are read with progress in the
# status bar; the coverage window opens with its circles on the map; a bar of the timeline
# narrows both to that year; a date is set by hand and saved to document-dates.json in the
# config folder. Coordinates are those of a 1600x1000 window. Run from the repository root
# after `cargo build --release`; look at the PNGs.
set -euo pipefail
out="${1:-/tmp/port-atlas-corpus}"
rm -rf "$out"; mkdir -p "$out/config"
B="${CARGO_TARGET_DIR:-$HOME/.cache/port-atlas/target}/release/port-atlas"
$B synth-reports --count 300 --out "$out/reports" 2>/dev/null
cp tests/fixtures/reports/report.docx tests/fixtures/reports/report-fpdf.pdf "$out/reports/"
export DISPLAY=:79 XDG_CONFIG_HOME="$out/config"
Xvfb :79 -screen 0 1600x1000x24 >/dev/null 2>&1 &
XV=$!
sleep 1
$B --document "$out/reports" --size 1600x1000 >"$out"/app.log 2>&1 &
APP=$!
for i in $(seq 1 60); do xdotool search --name port-atlas >/dev/null 2>&1 && break; sleep 1; done
sleep 8
shot() { import -window root "$1"; }
shot "$out"/1-loaded.png
# 覆蓋 Coverage in the toolbar.
xdotool mousemove 885 10 click 1; sleep 2
shot "$out"/2-coverage.png
# The timeline's first bar (2015).
xdotool mousemove 1205 185 click 1; sleep 2
shot "$out"/3-one-year.png
# The date box: a new date for the shown report, then Enter.
W=$(xdotool search --name port-atlas | head -1)
xdotool windowfocus --sync "$W" || true
xdotool mousemove 1353 146 click 1; sleep 1
# Clear the box (End, then BackSpace: xdotool's ctrl+a reaches egui without its Ctrl here).
xdotool key End; xdotool key --delay 60 BackSpace BackSpace BackSpace BackSpace BackSpace BackSpace BackSpace BackSpace BackSpace BackSpace BackSpace BackSpace; sleep 0.5
xdotool type --delay 120 '2016-07-01'; sleep 0.5
xdotool key Return; sleep 2
shot "$out"/4-dated.png
kill $APP; sleep 1; kill $XV
echo "document-dates.json:"; cat "$out/config/port-atlas/document-dates.json"
grep -q '2016-07-01' "$out/config/port-atlas/document-dates.json" && echo "date saved"
