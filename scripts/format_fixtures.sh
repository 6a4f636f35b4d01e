#!/usr/bin/env bash
# Regenerates tests/fixtures/formats/ from places.geojson with GDAL (ogr2ogr), the independent
# reference the format readers are tested against. Needs gdal-bin; run from the repository root.
set -euo pipefail
cd tests/fixtures/formats
src=places.geojson
rm -rf shp-4549-gbk shp-4528-gbk-nocpg shp-4549-utf8 shp-noprj parcels-4549.zip places-4549.gpkg
mkdir -p shp-4549-gbk shp-4528-gbk-nocpg shp-4549-utf8 shp-noprj
ogr2ogr -f "ESRI Shapefile" -t_srs EPSG:4549 -lco ENCODING=GBK -nlt PROMOTE_TO_MULTI \
  -where "\"类型\" IN ('公园','规划用地')" shp-4549-gbk/parcels.shp "$src"
ogr2ogr -f "ESRI Shapefile" -t_srs EPSG:4528 -lco ENCODING=GBK \
  -where "\"类型\" IN ('港区','企业')" shp-4528-gbk-nocpg/places.shp "$src"
rm shp-4528-gbk-nocpg/places.cpg
# Zero the language-driver byte (offset 29) so only the bytes can tell the encoding.
printf '\x00' | dd of=shp-4528-gbk-nocpg/places.dbf bs=1 seek=29 conv=notrunc status=none
ogr2ogr -f "ESRI Shapefile" -t_srs EPSG:4549 -lco ENCODING=UTF-8 \
  -where "\"类型\" = '道路'" shp-4549-utf8/roads.shp "$src"
ogr2ogr -f "ESRI Shapefile" -t_srs EPSG:4549 -lco ENCODING=GBK -nlt PROMOTE_TO_MULTI \
  -where "\"类型\" IN ('公园','规划用地')" shp-noprj/parcels.shp "$src"
rm shp-noprj/parcels.prj
(cd shp-4549-gbk && zip -q ../parcels-4549.zip parcels.*)
ogr2ogr -f GPKG -t_srs EPSG:4549 -nln points -where "OGR_GEOMETRY='POINT'" places-4549.gpkg "$src"
ogr2ogr -f GPKG -update -t_srs EPSG:4549 -nln lines -where "OGR_GEOMETRY='LINESTRING'" places-4549.gpkg "$src"
ogr2ogr -f GPKG -update -t_srs EPSG:4549 -nln polygons -nlt PROMOTE_TO_MULTI \
  -where "OGR_GEOMETRY IN ('POLYGON','MULTIPOLYGON')" places-4549.gpkg "$src"
ogr2ogr -f GPKG -update -t_srs EPSG:4549 -nln polygons_z -nlt MULTIPOLYGON25D -dim XYZ \
  -where "OGR_GEOMETRY IN ('POLYGON','MULTIPOLYGON')" places-4549.gpkg "$src"
ogrinfo -so places-4549.gpkg | tail -4
