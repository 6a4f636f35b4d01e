#!/usr/bin/env bash
# Drives the review list under Xvfb as a planner would, with xdotool, and grabs the screen after
# each step (PNG files in OUT, default /tmp/port-atlas-review). A data folder with a report that
# names 大桥镇, a town of both Yancheng (大丰区) and Jiaxing (南湖区): the mention is written in
# the review colour and listed under *待確認 To review* with the nearer one chosen; clicking the
# other (↪ 大橋鎮 (大豐區)) saves the verdict to the folder's gazetteer.json, re-links, and the list
# empties. Coordinates are those of a 1400x900 window. Run from the repository root after
# `cargo build --release`; look at the PNGs.
set -euo pipefail
out="${1:-/tmp/port-atlas-review}"
rm -rf "$out"; mkdir -p "$out/data" "$out/config"
printf '大桥镇位于江边，与新桥一带联动。\n吴江区同里镇与盛泽镇协同，太仓沙溪、浏河同步推进。\n' > "$out/data/plan.txt"
export DISPLAY=:78 XDG_CONFIG_HOME="$out/config"
Xvfb :78 -screen 0 1400x900x24 >/dev/null 2>&1 &
XV=$!
sleep 1
B="${CARGO_TARGET_DIR:-$HOME/.cache/port-atlas/target}/release/port-atlas"
$B --data "$out/data" --size 1400x900 >"$out"/app.log 2>&1 &
APP=$!
for i in $(seq 1 60); do xdotool search --name port-atlas >/dev/null 2>&1 && break; sleep 1; done
sleep 6
shot() { import -window root "$1"; }
shot "$out"/step1.png
# "↪ 大橋鎮 (大豐區)": it means the other 大桥镇.
xdotool mousemove 1131 236 click 1; sleep 3
shot "$out"/step2.png
kill $APP; sleep 1; kill $XV
echo "gazetteer.json:"; cat "$out/data/gazetteer.json"
grep -q '"大桥镇": "cn-320904106"' "$out/data/gazetteer.json" && echo "verdict saved"
