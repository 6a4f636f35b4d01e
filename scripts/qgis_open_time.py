"""Times QGIS opening and rendering one vector file headless, for the README's comparison with
port-atlas (`scripts/bench-vs-qgis.sh` runs both on the same file).

Run with Debian's /usr/bin/python3 (python3-qgis):  qgis_open_time.py LAYER.geojson OUT.png [WxH]
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

from qgis.core import QgsApplication, QgsMapRendererSequentialJob, QgsMapSettings, QgsVectorLayer  # noqa: E402
from qgis.PyQt.QtCore import QSize  # noqa: E402

path, out = sys.argv[1], sys.argv[2]
w, h = (int(v) for v in (sys.argv[3] if len(sys.argv) > 3 else "1440x900").split("x"))
app = QgsApplication([], False)
app.initQgis()
layer = QgsVectorLayer(path, "layer", "ogr")
settings = QgsMapSettings()
settings.setLayers([layer])
settings.setDestinationCrs(layer.crs())
settings.setExtent(layer.extent())
settings.setOutputSize(QSize(w, h))
job = QgsMapRendererSequentialJob(settings)
job.start()
job.waitForFinished()
job.renderedImage().save(out)
print(json.dumps({
    "valid": layer.isValid(),
    "features": layer.featureCount(),
    "start_to_rendered_s": round(time.monotonic() - T0, 2),
}))
sys.stdout.flush()
os._exit(0)
