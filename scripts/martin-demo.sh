#!/usr/bin/env bash
# Going beyond one machine: serves millions of parcels as vector tiles from PostGIS through Martin
# (https://maplibre.org/martin/), for port-atlas to open as a TileJSON layer.
#
# Usage:
#   scripts/martin-demo.sh [--parcels N] [--no-martin]   set up (or reuse) and start everything
#   scripts/martin-demo.sh --stop                         stop Martin and the demo database
#   scripts/martin-demo.sh --purge                        stop, then delete the demo's data
# Options:
#   --parcels N      number of parcels to generate (default 2000000)
#   --no-martin      set up PostGIS and the table only; do not install or start Martin
#   --port P         Martin's port on 127.0.0.1 (default 3000)
#   --pg-port P      PostgreSQL's port on 127.0.0.1 (default 54330)
# Environment: PORT_ATLAS_DEMO_DIR (default /var/tmp/port-atlas-martin-demo) holds the throwaway
# PostgreSQL cluster, its generated password, martin.pid and the logs.
#
# What it does: installs PostGIS with apt if it is missing (Debian 12: postgresql-15-postgis-3),
# creates a throwaway PostgreSQL cluster that listens on 127.0.0.1 only (password auth, the
# password is generated into $PORT_ATLAS_DEMO_DIR/pgpassword), creates database port_atlas_demo
# with PostGIS, generates N non-overlapping square parcels in SQL (generate_series, row-major from
# the south-west corner of lon 120.9-121.6, lat 31.2-31.7 around Taicang/Suzhou), indexes and
# analyzes them, checks that ST_AsMVT returns a tile, installs Martin with
# `cargo install martin --version 1.14.0 --locked --no-default-features --features postgres` (the last release for Rust 1.95) if `martin` is not on PATH (a long compile), and starts Martin on
# 127.0.0.1 auto-publishing the table as the source `parcels`.
set -euo pipefail

parcels=2000000
start_martin=1
action=start
martin_port=3000
pg_port=54330
while [[ $# -gt 0 ]]; do
  case "$1" in
    --parcels) parcels=${2:?--parcels needs a number}; shift 2 ;;
    --parcels=*) parcels=${1#*=}; shift ;;
    --no-martin) start_martin=0; shift ;;
    --port) martin_port=${2:?}; shift 2 ;;
    --pg-port) pg_port=${2:?}; shift 2 ;;
    --stop) action=stop; shift ;;
    --purge) action=purge; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $parcels =~ ^[1-9][0-9]*$ ]] || { echo "--parcels must be a positive integer" >&2; exit 2; }

dir=${PORT_ATLAS_DEMO_DIR:-/var/tmp/port-atlas-martin-demo}
pgdata=$dir/pgdata
db=port_atlas_demo
sudo=""
[[ $(id -u) == 0 ]] || sudo=sudo
log() { printf '==> %s\n' "$*"; }

# Runs a command as the owner of the cluster: the postgres system user when we are root
# (initdb refuses to run as root), otherwise ourselves.
as_pg() { if [[ $(id -u) == 0 ]]; then su postgres -s /bin/bash -c "$1"; else bash -c "$1"; fi; }
find_pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
have_postgis() { ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; }

stop_martin() {
  if [[ -f $dir/martin.pid ]]; then
    local pid
    pid=$(cat "$dir/martin.pid")
    if kill -0 "$pid" 2>/dev/null && grep -q martin "/proc/$pid/cmdline" 2>/dev/null; then
      log "stopping Martin (pid $pid)"
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$dir/martin.pid"
  fi
}
stop_pg() {
  local pgbin
  pgbin=$(find_pgbin)
  if [[ -n $pgbin && -f $pgdata/postmaster.pid ]]; then
    log "stopping PostgreSQL ($pgdata)"
    as_pg "'$pgbin/pg_ctl' -D '$pgdata' -m fast -w stop" >/dev/null
  fi
}

if [[ $action != start ]]; then
  stop_martin
  stop_pg
  if [[ $action == purge ]]; then log "deleting $dir"; rm -rf "$dir"; fi
  exit 0
fi

# --- PostGIS ----------------------------------------------------------------------------------------
if ! have_postgis; then
  log "installing PostGIS: apt-get install postgresql-15-postgis-3"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-postgis-3
fi
pgbin=$(find_pgbin)
[[ -n $pgbin ]] || { echo "no PostgreSQL server binaries under /usr/lib/postgresql" >&2; exit 1; }

# --- throwaway cluster on 127.0.0.1 -----------------------------------------------------------------
mkdir -p "$dir"
if [[ $(id -u) == 0 ]]; then chown postgres: "$dir"; fi
if [[ ! -s $dir/pgpassword ]]; then
  (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$dir/pgpassword")
  if [[ $(id -u) == 0 ]]; then chown postgres: "$dir/pgpassword"; fi
fi
export PGPASSWORD PGOPTIONS="-c client_min_messages=warning"
PGPASSWORD=$(cat "$dir/pgpassword")
if [[ ! -f $pgdata/PG_VERSION ]]; then
  log "creating a PostgreSQL cluster in $pgdata"
  as_pg "'$pgbin/initdb' -D '$pgdata' -U postgres -E UTF8 --no-locale --auth-local=peer \
         --auth-host=scram-sha-256 --pwfile='$dir/pgpassword'" >/dev/null
fi
if ! as_pg "'$pgbin/pg_ctl' -D '$pgdata' status" >/dev/null 2>&1; then
  log "starting PostgreSQL on 127.0.0.1:$pg_port"
  as_pg "'$pgbin/pg_ctl' -D '$pgdata' -l '$dir/postgresql.log' -w -o \"-c listen_addresses=127.0.0.1 \
         -p $pg_port -c unix_socket_directories='$dir' -c maintenance_work_mem=512MB \
         -c max_wal_size=4GB\" start" >/dev/null
fi
# The server may already run from an earlier call; ask it which port it listens on.
pg_port=$(sed -n 4p "$pgdata/postmaster.pid")
url="postgresql://postgres:$PGPASSWORD@127.0.0.1:$pg_port/$db"
admin="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres"
conn="host=127.0.0.1 port=$pg_port user=postgres dbname=$db"
psqlq() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

if [[ -z $(psql -X -At "$admin" -c "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
  psqlq "$admin" -c "CREATE DATABASE $db"
fi
psqlq "$conn" -c 'CREATE EXTENSION IF NOT EXISTS postgis'

# --- N parcels, row-major from the south-west corner ------------------------------------------------
# The grid has the region's aspect ratio and at least N cells; each parcel is a square of
# min(60 m, 90 % of the cell) centred-left in its cell, so parcels never overlap. At 2,000,000
# parcels the ~3,700 km2 region gives ~43 m cells, so the squares are ~38 m rather than 60 m.
read -r cols rows dlon dlat side_m <<<"$(python3 - "$parcels" <<'PY'
import math, sys
n = int(sys.argv[1])
lon0, lon1, lat0, lat1 = 120.9, 121.6, 31.2, 31.7
w_m = (lon1 - lon0) * 111320 * math.cos(math.radians((lat0 + lat1) / 2))
h_m = (lat1 - lat0) * 111320
cols = math.ceil(math.sqrt(n * w_m / h_m))
rows = math.ceil(n / cols)
side = min(60.0, 0.9 * min(w_m / cols, h_m / rows))
print(cols, rows, repr((lon1 - lon0) / cols), repr((lat1 - lat0) / rows), round(side, 3))
PY
)"
existing=-1
if [[ -n $(psql -X -At "$conn" -c "SELECT to_regclass('public.parcels')") ]]; then
  existing=$(psql -X -At "$conn" -c 'SELECT count(*) FROM parcels')
fi
if [[ $existing == "$parcels" ]]; then
  log "table parcels already holds $parcels parcels; keeping it"
else
  log "generating $parcels parcels: grid ${cols} x ${rows}, squares of ${side_m} m (this takes a while for millions)"
  time psqlq "$conn" <<SQL
DROP TABLE IF EXISTS parcels;
CREATE TABLE parcels (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  landuse text NOT NULL,
  area_m2 double precision NOT NULL,
  geom geometry(Polygon, 4326) NOT NULL
);
INSERT INTO parcels (id, name, landuse, area_m2, geom)
SELECT i, '地块-' || i,
       (ARRAY['居住', '工业', '绿地', '商业'])[1 + (c + r) % 4],
       round(ST_Area(g::geography)::numeric, 1), g
FROM (
  SELECT i, c, r,
         ST_MakeEnvelope(x, y, x + $side_m / (111320 * cos(radians(y))), y + $side_m / 111320.0, 4326) AS g
  FROM (
    SELECT i, (i - 1) % $cols AS c, (i - 1) / $cols AS r,
           120.9 + ((i - 1) % $cols) * $dlon AS x, 31.2 + ((i - 1) / $cols) * $dlat AS y
    FROM generate_series(1::bigint, $parcels::bigint) AS i
  ) AS cell
) AS p;
CREATE INDEX parcels_geom_idx ON parcels USING gist (geom);
ANALYZE parcels;
SQL
fi

# One z14 tile over Taicang, made the way Martin makes them, must come back non-empty.
bytes=$(psql -X -At -v ON_ERROR_STOP=1 "$conn" -c "
  SELECT coalesce(length(ST_AsMVT(t, 'parcels', 4096, 'geom')), 0) FROM (
    SELECT id, name, landuse, area_m2,
           ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(14, 13704, 6682), 4096, 64, true) AS geom
    FROM parcels
    WHERE geom && ST_Transform(ST_TileEnvelope(14, 13704, 6682, margin => 64.0 / 4096), 4326)) AS t")
log "ST_AsMVT check: tile 14/13704/6682 has $bytes bytes"
[[ $bytes -gt 0 ]] || { echo "ST_AsMVT returned no bytes" >&2; exit 1; }

if [[ $start_martin == 0 ]]; then
  log "--no-martin: PostGIS is ready at $conn (password in $dir/pgpassword)"
  log "stop it with: $0 --stop"
  exit 0
fi

# --- Martin -----------------------------------------------------------------------------------------
martin_bin=$(command -v martin || true)
[[ -z $martin_bin && -x $HOME/.cargo/bin/martin ]] && martin_bin=$HOME/.cargo/bin/martin
if [[ -z $martin_bin ]]; then
  command -v cargo >/dev/null || { echo "martin is not on PATH and cargo is missing; get a release binary from https://github.com/maplibre/martin/releases" >&2; exit 1; }
  log "martin is not on PATH: running 'cargo install martin --version 1.14.0 --locked --no-default-features --features postgres' (this compiles for a while, 10-30 minutes)"
  cargo install martin --version 1.14.0 --locked --no-default-features --features postgres
  martin_bin=$HOME/.cargo/bin/martin
fi
stop_martin
log "starting Martin ($("$martin_bin" --version 2>/dev/null || echo martin)) on 127.0.0.1:$martin_port"
# Martin auto-publishes every table with a geometry column; the source id is the table name.
# The connection string goes through DATABASE_URL so the password stays out of `ps`.
DATABASE_URL=$url nohup "$martin_bin" --listen-addresses "127.0.0.1:$martin_port" \
  > "$dir/martin.log" 2>&1 < /dev/null &
echo $! > "$dir/martin.pid"
catalog=""
for _ in $(seq 120); do
  if ! kill -0 "$(cat "$dir/martin.pid")" 2>/dev/null; then
    echo "Martin exited; last lines of $dir/martin.log:" >&2; tail -n 20 "$dir/martin.log" >&2; exit 1
  fi
  if catalog=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())' \
               "http://127.0.0.1:$martin_port/catalog" 2>/dev/null); then break; fi
  catalog=""
  sleep 0.5
done
[[ -n $catalog ]] || { echo "Martin did not answer /catalog within 60 s; see $dir/martin.log" >&2; exit 1; }
# /catalog is {"tiles": {"parcels": {...}}} in Martin >= 0.9, a list of {"id": ...} before.
source_id=$(python3 -c '
import json, sys
c = json.loads(sys.argv[1])
ids = list(c.get("tiles", {})) if isinstance(c, dict) else [s.get("id") for s in c]
print(next((i for i in ids if i == "parcels"), next((i for i in ids if i and "parcels" in i), "parcels")))' "$catalog")
log "Martin is up. Catalog: http://127.0.0.1:$martin_port/catalog"
echo
echo "  TileJSON:  http://127.0.0.1:$martin_port/$source_id"
echo "  Tiles:     http://127.0.0.1:$martin_port/$source_id/{z}/{x}/{y}"
echo "  Open it:   port-atlas --layer http://127.0.0.1:$martin_port/$source_id"
echo
echo "  Stop with: $0 --stop     (logs: $dir/martin.log, $dir/postgresql.log)"
