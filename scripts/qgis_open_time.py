"""Times QGIS opening and rendering one vector file headless, for the README's comparison with
port-atlas (`scripts/bench-vs-qgis.sh` runs both on the same file).

Run with Debian's /usr/bin/python3 (python3-qgis):  qgis_open_time.py LAYER OUT.png [WxH [W,S,E,N]]
LAYER is any file OGR reads, or an MBTiles vector tile archive (opened as a QGIS vector tile layer);
W,S,E,N (degrees) renders that extent instead of the layer's.
Prints one JSON object: seconds from the interpreter's start to the finished render, and the
feature count QGIS read. The render covers the layer's extent at the given size (as
port-atlas's --screenshot covers its window), with QGIS's default single-symbol style.
"""
import json
import os
import sys
import time

T0 = time.monotonic()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsCoordinateTransform,  # noqa: E402
                       QgsMapRendererSequentialJob, QgsMapSettings, QgsProject, QgsRectangle, QgsVectorLayer,
                       QgsVectorTileLayer)
from qgis.PyQt.QtCore import QSize  # noqa: E402

path, out = sys.argv[1], sys.argv[2]
w, h = (int(v) for v in (sys.argv[3] if len(sys.argv) > 3 else "1440x900").split("x"))
app = QgsApplication([], False)
app.initQgis()
tiles = path.endswith(".mbtiles")
layer = QgsVectorTileLayer(f"type=mbtiles&url={path}", "layer") if tiles else QgsVectorLayer(path, "layer", "ogr")
settings = QgsMapSettings()
settings.setLayers([layer])
settings.setDestinationCrs(layer.crs())
extent = layer.extent()
if len(sys.argv) > 4:
    w_, s_, e_, n_ = (float(v) for v in sys.argv[4].split(","))
    to_layer = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"), layer.crs(), QgsProject.instance())
    extent = to_layer.transformBoundingBox(QgsRectangle(w_, s_, e_, n_))
settings.setExtent(extent)
settings.setOutputSize(QSize(w, h))
job = QgsMapRendererSequentialJob(settings)
job.start()
job.waitForFinished()
job.renderedImage().save(out)
print(json.dumps({
    "valid": layer.isValid(),
    "features": None if tiles else layer.featureCount(),
    "start_to_rendered_s": round(time.monotonic() - T0, 2),
}))
sys.stdout.flush()
os._exit(0)
