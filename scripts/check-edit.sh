#!/usr/bin/env bash
# Drives editing mode under Xvfb as a planner would, with xdotool, and grabs the screen after each
# step (PNGs in OUT, default /tmp/port-atlas-edit). The built-in atlas opens in editing mode on
# Jincang Lake Park with the platform data folder pointed into OUT: a vertex of the park's outline
# is dragged 60 px (step2), the drag is undone with Ctrl+Z (step3) and redone with *⟳ Redo*, a
# vertex is dragged across the park so the outline would cross itself and is refused at the
# vertex (step4), the moved vertex is clicked and deleted with the Delete key (step5), then
# Ctrl+S saves (step6). The saved edits.geojson is printed, and a second run
# checks that the correction is there on the next start. Coordinates are those of a 1400x900
# window. Run from the repository root after `cargo build --release`; look at the PNGs.
set -euo pipefail
out="${1:-/tmp/port-atlas-edit}"
rm -rf "$out"; mkdir -p "$out/share" "$out/config"
export DISPLAY=:79 XDG_DATA_HOME="$out/share" XDG_CONFIG_HOME="$out/config"
Xvfb :79 -screen 0 1400x900x24 >/dev/null 2>&1 &
XV=$!
trap 'kill $XV 2>/dev/null || true' EXIT
sleep 1
B="${CARGO_TARGET_DIR:-$HOME/.cache/port-atlas/target}/release/port-atlas"
# The park's first vertex on screen, from the view the app will open at (a screenshot run writes it).
$B --edit --view jincang-lake-park --size 1400x900 --screenshot "$out/step0.png" >"$out/shot.log" 2>&1
read -r VX VY FX FY < <(python3 - "$out/step0.view.json" <<'PY'
import json, math, sys
v = json.load(open(sys.argv[1]))
feats = json.load(open("geodata/sites.geojson"))["features"]
park = next(f for f in feats if f["properties"]["id"] == "jincang-lake-park")
ring = park["geometry"]["coordinates"][0]
R = 6378137.0
def merc(lon, lat):
    return R * math.radians(lon), R * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
ox, oy = merc(*v["origin_lon_lat"]) if "origin_lon_lat" in v else merc(121.174, 31.564)
vp = v["viewport"]; cx = (vp[0] + vp[2]) / 2; cy = (vp[1] + vp[3]) / 2
def px(lon, lat):
    x, y = merc(lon, lat)
    return round(cx + (x - ox - v["center_local_m"][0]) / v["metres_per_px"]), round(cy - (y - oy - v["center_local_m"][1]) / v["metres_per_px"])
a = px(*ring[0]); b = px(*ring[len(ring) // 2])
print(a[0], a[1], b[0], b[1])
PY
)
echo "first vertex at $VX,$VY; opposite vertex at $FX,$FY"
$B --edit --view jincang-lake-park --size 1400x900 >"$out"/app.log 2>&1 &
APP=$!
for i in $(seq 1 60); do xdotool search --name port-atlas >/dev/null 2>&1 && break; sleep 1; done
sleep 6
# No window manager here: give the window the keyboard, as clicking it would on a desktop.
xdotool windowfocus --sync "$(xdotool search --name port-atlas | head -1)" || true
shot() { import -window root "$1"; }
shot "$out"/step1.png
drag() { xdotool mousemove "$1" "$2"; sleep 0.5; xdotool mousedown 1; sleep 0.3
         xdotool mousemove $(( ($1 + $3) / 2 )) $(( ($2 + $4) / 2 )); sleep 0.3
         xdotool mousemove "$3" "$4"; sleep 0.3; xdotool mouseup 1; sleep 1.5; }
drag "$VX" "$VY" $((VX + 60)) $((VY - 40))
shot "$out"/step2.png
# Keys as a planner presses them, and the window's buttons (at the window's opening place).
button() { xdotool mousemove "$1" "$2"; sleep 0.5; xdotool click 1; sleep 1.5; }
REDO="395 111"
xdotool key ctrl+z; sleep 1.5
shot "$out"/step3.png
button $REDO
# The opposite vertex dragged out past the first: the outline would cross itself.
drag "$FX" "$FY" $((VX - 80)) $((VY + 10))
shot "$out"/step4.png
# A plain key: click the moved first vertex, Delete removes it.
xdotool mousemove $((VX + 60)) $((VY - 40)); sleep 0.5; xdotool click 1; sleep 1
xdotool key Delete; sleep 1.5
shot "$out"/step5.png
xdotool key ctrl+s; sleep 1.5
shot "$out"/step6.png
kill $APP; sleep 1
echo "edits.geojson:"; head -c 1200 "$out/share/port-atlas/edits.geojson"; echo
grep -q '"edit_of": "jincang-lake-park"' "$out/share/port-atlas/edits.geojson" && echo "correction saved with its original id"
# The next start: check sees the saved correction and validates it.
$B check | grep -i "edited features" || true
