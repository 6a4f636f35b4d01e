#!/usr/bin/env bash
# Installs every system package port-atlas needs to build, run and test on Debian 12.
# Called by the README's setup step and by .ci/run; safe to run twice.
set -euo pipefail

packages=(
  # Build: C toolchain for -sys crates and pkg-config.
  build-essential pkg-config
  # Run: X11 client libraries winit loads at runtime, Vulkan loader + Mesa (lavapipe for CPU rendering).
  libx11-6 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0 libx11-xcb1
  libvulkan1 mesa-vulkan-drivers
  # Headless rendering tests and screenshots.
  xvfb xauth
  # Export checks: GDAL's ogrinfo reads the exported GeoJSON and GeoPackage; PyQGIS (for
  # Debian's /usr/bin/python3) opens and renders the QGIS project; the CJK font QGIS labels use.
  gdal-bin python3-qgis fonts-noto-cjk
  # Driving the app's open dialog and attribute table by hand under Xvfb
  # (scripts/check-open-dialog.sh): synthetic input and screen grabs.
  xdotool imagemagick
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all system packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
