"""Opens a port-atlas QGIS project headless, reports every layer and renders the map to a PNG.

Run with Debian's /usr/bin/python3 (python3-qgis):  qgis_check.py PROJECT.qgs OUT.png [R,G,B [W,S,E,N]]
With R,G,B it also counts the sampled pixels of that colour (e.g. a test tile server's tiles) and
reports where they lie (their centroid, lon/lat); W,S,E,N renders that extent instead of the
project's own view.
Prints one JSON object; exits through os._exit because PyQGIS can crash while shutting down.
"""
import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (QgsApplication, QgsMapRendererSequentialJob, QgsMapSettings, QgsProject,  # noqa: E402
                       QgsRectangle)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

app = QgsApplication([], False)
app.initQgis()
result = {"ok": False}
try:
    project = QgsProject.instance()
    result["read"] = project.read(sys.argv[1])
    # An invalid project CRS means QGIS's "no projection" mode: layers in other CRSs (an XYZ
    # basemap in EPSG:3857) are then drawn unprojected, far from the data.
    result["project_crs"] = project.crs().authid() if project.crs().isValid() else None
    layers = []
    for layer in project.layerTreeRoot().layerOrder():
        layers.append({
            "name": layer.name(),
            "valid": layer.isValid(),
            "provider": layer.providerType(),
            "features": layer.featureCount() if hasattr(layer, "featureCount") else None,
            "crs": layer.crs().authid(),
            "renderer": layer.renderer().type() if layer.renderer() else None,
            "labels": layer.labelsEnabled() if hasattr(layer, "labelsEnabled") else None,
        })
    result["layers"] = layers
    canvas = project.viewSettings().defaultViewExtent()
    if len(sys.argv) > 4:
        w, s, e, n = (float(v) for v in sys.argv[4].split(","))
        canvas = QgsRectangle(w, s, e, n)
    settings = QgsMapSettings()
    settings.setLayers(project.layerTreeRoot().layerOrder())
    settings.setDestinationCrs(project.crs())
    settings.setExtent(canvas if not canvas.isEmpty() else settings.fullExtent())
    settings.setOutputSize(QSize(900, 700))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(sys.argv[2], "PNG")
    white = QColor(255, 255, 255).rgb()
    want = [int(v) for v in sys.argv[3].split(",")] if len(sys.argv) > 3 else None
    painted = 0
    matching = 0
    sum_x = sum_y = 0.0
    for y in range(0, image.height(), 4):
        for x in range(0, image.width(), 4):
            p = image.pixel(x, y)
            if p != white:
                painted += 1
            if want:
                c = QColor(p)
                if abs(c.red() - want[0]) + abs(c.green() - want[1]) + abs(c.blue() - want[2]) < 30:
                    matching += 1
                    sum_x += x + 0.5
                    sum_y += y + 0.5
    result["painted_samples"] = painted
    result["matching_samples"] = matching
    if matching:
        # Pixel to map coordinates (the project CRS, lon/lat) through the render's visible extent.
        ext = settings.visibleExtent()
        upp = settings.mapUnitsPerPixel()
        result["matching_centroid"] = [ext.xMinimum() + sum_x / matching * upp,
                                       ext.yMaximum() - sum_y / matching * upp]
    result["samples"] = (image.height() // 4) * (image.width() // 4)
    result["ok"] = True
except Exception as e:  # report, never hang
    result["error"] = repr(e)
print(json.dumps(result), flush=True)
os._exit(0)
