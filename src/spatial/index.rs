//! Spatial index for picking: an R-tree of feature envelopes, then an exact geometry test.

use geo::{BoundingRect, Contains, Distance, Euclidean, Geometry, Point};
use rstar::{AABB, RTree, RTreeObject};

use crate::geodata::Layer;

/// A feature by position: `layers[layer].features[feature]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeatureRef {
    pub layer: u32,
    pub feature: u32,
}

#[derive(Debug, Clone)]
struct Entry {
    env: AABB<[f64; 2]>,
    at: FeatureRef,
    /// Polygon area in square degrees (0 for points and lines): smaller areas are more specific.
    area: f64,
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

#[derive(Debug, Clone, Default)]
pub struct SpatialIndex {
    tree: RTree<Entry>,
}

impl SpatialIndex {
    /// Bulk-loads every feature of `layers` (index positions follow the slice).
    pub fn build(layers: &[Layer]) -> Self {
        use geo::Area;
        let mut entries = Vec::new();
        for (li, layer) in layers.iter().enumerate() {
            for (fi, f) in layer.features.iter().enumerate() {
                let Some(r) = f.geometry.bounding_rect() else { continue };
                let area = match &f.geometry {
                    Geometry::Polygon(_) | Geometry::MultiPolygon(_) => f.geometry.unsigned_area(),
                    _ => 0.0,
                };
                entries.push(Entry {
                    env: AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    at: FeatureRef { layer: li as u32, feature: fi as u32 },
                    area,
                });
            }
        }
        SpatialIndex { tree: RTree::bulk_load(entries) }
    }

    pub fn len(&self) -> usize {
        self.tree.size()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// Every feature whose envelope comes within `tolerance_deg` of `(lon, lat)` (snapping).
    pub fn near(&self, lon: f64, lat: f64, tolerance_deg: f64) -> impl Iterator<Item = FeatureRef> + '_ {
        let t = tolerance_deg;
        let query = AABB::from_corners([lon - t, lat - t], [lon + t, lat + t]);
        self.tree.locate_in_envelope_intersecting(&query).map(|e| e.at)
    }

    /// The feature under `(lon, lat)`: points and lines within `tolerance_deg` win over polygons
    /// (they are drawn on top), the nearest of those first; among polygons that contain the point,
    /// the smallest (most specific) wins, ties to the upper layer. `visible` filters layers.
    pub fn pick(
        &self,
        layers: &[Layer],
        lon: f64,
        lat: f64,
        tolerance_deg: f64,
        visible: impl Fn(u32) -> bool,
    ) -> Option<FeatureRef> {
        let t = tolerance_deg;
        let query = AABB::from_corners([lon - t, lat - t], [lon + t, lat + t]);
        let p = Point::new(lon, lat);
        let mut best: Option<(u8, f64, std::cmp::Reverse<u32>, FeatureRef)> = None;
        for e in self.tree.locate_in_envelope_intersecting(&query) {
            if !visible(e.at.layer) {
                continue;
            }
            let Some(f) = layers.get(e.at.layer as usize).and_then(|l| l.features.get(e.at.feature as usize)) else {
                continue;
            };
            let key = match &f.geometry {
                Geometry::Polygon(_) | Geometry::MultiPolygon(_) => {
                    if !f.geometry.contains(&p) {
                        continue;
                    }
                    (1, e.area)
                }
                g => {
                    let d = Euclidean.distance(g, &p);
                    if d > t {
                        continue;
                    }
                    (0, d)
                }
            };
            let cand = (key.0, key.1, std::cmp::Reverse(e.at.layer), e.at);
            if best.as_ref().is_none_or(|b| (cand.0, cand.1, cand.2) < (b.0, b.1, b.2)) {
                best = Some(cand);
            }
        }
        best.map(|b| b.3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodata::{Accuracy, Feature};
    use geo::{LineString, polygon};
    use serde_json::Map;

    fn feat(id: &str, geometry: Geometry<f64>) -> Feature {
        Feature {
            id: id.into(),
            name_zh_hant: id.into(),
            name_zh_hans: id.into(),
            name_en: id.into(),
            kind: "t".into(),
            accuracy: Accuracy::Schematic,
            source: "t".into(),
            extra: Map::new(),
            geometry,
        }
    }

    #[test]
    fn smallest_containing_polygon_and_lines_on_top() {
        let big = polygon![(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0)];
        let small = polygon![(x: 4.0, y: 4.0), (x: 6.0, y: 4.0), (x: 6.0, y: 6.0), (x: 4.0, y: 6.0)];
        let line = LineString::from(vec![(0.0, 5.5), (10.0, 5.5)]);
        let layers = vec![
            Layer::new("a", "a", vec![feat("big", big.into()), feat("small", small.into())]),
            Layer::new("b", "b", vec![feat("line", line.into())]),
        ];
        let idx = SpatialIndex::build(&layers);
        let name = |r: Option<FeatureRef>| r.map(|r| layers[r.layer as usize].features[r.feature as usize].id.clone());
        assert_eq!(name(idx.pick(&layers, 5.0, 5.0, 0.1, |_| true)).as_deref(), Some("small"));
        assert_eq!(name(idx.pick(&layers, 1.0, 1.0, 0.1, |_| true)).as_deref(), Some("big"));
        assert_eq!(name(idx.pick(&layers, 5.0, 5.55, 0.1, |_| true)).as_deref(), Some("line"));
        assert_eq!(name(idx.pick(&layers, 5.0, 5.55, 0.1, |l| l == 0)).as_deref(), Some("small"));
        assert_eq!(idx.pick(&layers, 20.0, 20.0, 0.1, |_| true), None);
    }
}
