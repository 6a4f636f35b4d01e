//! Builds the atlas layers from raw sources by recipe: imports with CRS conversion, water from
//! land polygons, port areas along a shore, border zones, buffers and schematic links.
//!
//! Every coordinate in `geodata/` comes from a source file or a published position named in the
//! recipe, through one of these operations; nothing is hand-digitised.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use geo::{
    BooleanOps, Buffer, Coord, Geometry, InteriorPoint, LineString, MapCoords, MultiPolygon, Point, Polygon, Rect,
    RemoveRepeatedPoints, Simplify,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::geodata::{Accuracy, Feature, Layer, ReadOptions, parse_layer};
use crate::proj::Crs;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipes {
    pub layers: Vec<LayerRecipe>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerRecipe {
    pub id: String,
    pub features: Vec<FeatureRecipe>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureRecipe {
    pub id: String,
    pub name_zh_hant: String,
    pub name_zh_hans: String,
    pub name_en: String,
    pub kind: String,
    /// Metres, or the string "schematic".
    pub accuracy: Value,
    pub source: String,
    pub geometry: GeometryRecipe,
    #[serde(default)]
    pub properties: Map<String, Value>,
}

/// How to make one feature's geometry. Ids refer to features built earlier in the recipe file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum GeometryRecipe {
    /// A geometry file (bare geometry, Feature or FeatureCollection, unioned) in a given CRS.
    Import {
        file: PathBuf,
        crs: String,
    },
    /// Water: `bbox` minus the union of the land polygons in `land`. Polygons that contain
    /// `open_water` are not land (GMT's clipped extract includes the sea itself as one ring).
    WaterFromLand {
        land: PathBuf,
        bbox: [f64; 4],
        open_water: [f64; 2],
    },
    /// The polygon of `file` that contains the point `near`.
    PickPolygon {
        file: PathBuf,
        near: [f64; 2],
    },
    Point {
        at: [f64; 2],
    },
    /// A disc, by radius or by area.
    Circle {
        center: [f64; 2],
        #[serde(default)]
        radius_m: Option<f64>,
        #[serde(default)]
        area_km2: Option<f64>,
    },
    /// Land of `within` no deeper than `depth_m` from `water`, within `length_m / 2` of `center`:
    /// a port area along its shore.
    Shore {
        within: String,
        water: String,
        center: [f64; 2],
        length_m: f64,
        depth_m: f64,
    },
    /// The band of `a` and `b` within `width_m` of their shared border, optionally only near `near`.
    Border {
        a: String,
        b: String,
        width_m: f64,
        #[serde(default)]
        near: Option<([f64; 2], f64)>,
    },
    /// A polyline through published or schematic waypoints.
    Line {
        points: Vec<[f64; 2]>,
    },
    /// A band `width_m` wide along a polyline, clipped to `within` if given.
    Corridor {
        points: Vec<[f64; 2]>,
        width_m: f64,
        #[serde(default)]
        within: Option<Vec<String>>,
    },
    /// Small discs around several points, as one multipolygon.
    Discs {
        centers: Vec<[f64; 2]>,
        radius_m: f64,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    #[error("{path}: {message}")]
    Source { path: PathBuf, message: String },
    #[error("recipe for {id:?}: {message}")]
    Recipe { id: String, message: String },
    #[error("{path}:{line}:{column}: {message}")]
    Parse { path: PathBuf, line: usize, column: usize, message: String },
}

/// A local equirectangular metric frame for buffering: metres east/north of an origin. Over the
/// ~100 km of one recipe the scale error is far below the accuracy of the sources.
#[derive(Clone, Copy)]
struct Metric {
    lon0: f64,
    lat0: f64,
    kx: f64,
    ky: f64,
}

impl Metric {
    fn at(lon0: f64, lat0: f64) -> Self {
        Metric { lon0, lat0, kx: 111_320.0 * lat0.to_radians().cos(), ky: 110_540.0 }
    }
    fn fwd<G: MapCoords<f64, f64, Output = G>>(&self, g: &G) -> G {
        g.map_coords(|c| Coord { x: (c.x - self.lon0) * self.kx, y: (c.y - self.lat0) * self.ky })
    }
    fn inv<G: MapCoords<f64, f64, Output = G>>(&self, g: &G) -> G {
        g.map_coords(|c| Coord { x: c.x / self.kx + self.lon0, y: c.y / self.ky + self.lat0 })
    }
}

fn polys(g: &Geometry<f64>) -> MultiPolygon<f64> {
    match g {
        Geometry::Polygon(p) => MultiPolygon(vec![p.clone()]),
        Geometry::MultiPolygon(m) => m.clone(),
        Geometry::GeometryCollection(c) => MultiPolygon(c.iter().flat_map(|g| polys(g).0).collect()),
        _ => MultiPolygon(vec![]),
    }
}

fn disc(center: [f64; 2], radius_m: f64) -> MultiPolygon<f64> {
    let m = Metric::at(center[0], center[1]);
    let circle = Point::new(0.0, 0.0).buffer(radius_m);
    m.inv(&circle)
}

/// Rounds to 1e-6 degrees (about 0.1 m): finer than any source here, and it keeps files small.
fn round(g: Geometry<f64>) -> Geometry<f64> {
    let r = g.map_coords(|c| Coord { x: (c.x * 1e6).round() / 1e6, y: (c.y * 1e6).round() / 1e6 });
    // Rounding can collapse slivers to fewer than three distinct points; drop those rings.
    let keep = |p: Polygon<f64>| -> Option<Polygon<f64>> {
        let p = p.remove_repeated_points();
        if p.exterior().0.len() < 4 {
            return None;
        }
        let holes = p.interiors().iter().filter(|h| h.0.len() >= 4).cloned().collect();
        Some(Polygon::new(p.exterior().clone(), holes))
    };
    match r {
        Geometry::MultiPolygon(m) => simplest(MultiPolygon(m.0.into_iter().filter_map(keep).collect())),
        Geometry::Polygon(p) => {
            keep(p).map_or(Geometry::Polygon(Polygon::new(LineString(vec![]), vec![])), Geometry::Polygon)
        }
        Geometry::LineString(l) => Geometry::LineString(l.remove_repeated_points()),
        other => other,
    }
}

/// Polygon output as a single Polygon when there is one part; BooleanOps output is already valid.
fn simplest(m: MultiPolygon<f64>) -> Geometry<f64> {
    if m.0.len() == 1 {
        Geometry::Polygon(m.0.into_iter().next().expect("one polygon"))
    } else {
        Geometry::MultiPolygon(m)
    }
}

/// Reads a source geometry file of any GeoJSON shape and returns its geometries, converted.
pub fn read_source_geometries(path: &Path, crs: Crs) -> Result<Vec<Geometry<f64>>, RecipeError> {
    let bytes = std::fs::read(path).map_err(|e| RecipeError::Source { path: path.into(), message: e.to_string() })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| RecipeError::Source { path: path.into(), message: format!("not UTF-8: {e}") })?;
    let value: Value = serde_json::from_str(text).map_err(|e| RecipeError::Parse {
        path: path.into(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let is_bare_geometry =
        value.get("type").and_then(Value::as_str).is_some_and(|t| !matches!(t, "Feature" | "FeatureCollection"));
    if is_bare_geometry {
        let gj = geojson::Geometry::from_json_value(value)
            .map_err(|e| RecipeError::Source { path: path.into(), message: e.to_string() })?;
        let mut g: Geometry<f64> = gj
            .try_into()
            .map_err(|e: geojson::Error| RecipeError::Source { path: path.into(), message: e.to_string() })?;
        if crs != Crs::Wgs84 {
            use geo::MapCoordsInPlace;
            g.map_coords_in_place(|c| {
                let (x, y) = crs.to_wgs84(c.x, c.y);
                Coord { x, y }
            });
        }
        return Ok(vec![g]);
    }
    let (layer, _) = parse_layer(path, text.as_bytes(), ReadOptions { crs, strict_schema: false, topology: false })
        .map_err(|e| RecipeError::Source { path: path.into(), message: e.to_string() })?;
    Ok(layer.features.into_iter().map(|f| f.geometry).collect())
}

/// Runs all recipes, reading sources under `sources`. Layers come back in recipe order.
pub fn build(recipes: &Recipes, sources: &Path) -> Result<Vec<Layer>, RecipeError> {
    let mut built: HashMap<String, Geometry<f64>> = HashMap::new();
    let mut layers = Vec::new();
    for lr in &recipes.layers {
        let mut features = Vec::new();
        for fr in &lr.features {
            let err = |message: String| RecipeError::Recipe { id: fr.id.clone(), message };
            let get = |id: &str| -> Result<MultiPolygon<f64>, RecipeError> {
                built.get(id).map(polys).ok_or_else(|| err(format!("refers to {id:?}, which is not built before it")))
            };
            let geometry = match &fr.geometry {
                GeometryRecipe::Import { file, crs } => {
                    let crs: Crs = crs.parse().map_err(|e: crate::proj::UnknownCrs| err(e.to_string()))?;
                    let gs = read_source_geometries(&sources.join(file), crs)?;
                    let mp = MultiPolygon(gs.iter().flat_map(|g| polys(g).0).collect());
                    // A union with nothing normalises ring order and removes self-touching rings.
                    simplest(mp.union(&MultiPolygon(vec![])))
                }
                GeometryRecipe::WaterFromLand { land, bbox, open_water } => {
                    use geo::Contains;
                    let gs = read_source_geometries(&sources.join(land), Crs::Wgs84)?;
                    let sea = Point::new(open_water[0], open_water[1]);
                    let land = gs
                        .iter()
                        .filter(|g| !g.contains(&sea))
                        .fold(MultiPolygon(vec![]), |acc, g| acc.union(&polys(g)));
                    let rect = Rect::new((bbox[0], bbox[1]), (bbox[2], bbox[3])).to_polygon();
                    simplest(MultiPolygon(vec![rect]).difference(&land))
                }
                GeometryRecipe::PickPolygon { file, near } => {
                    use geo::Contains;
                    let gs = read_source_geometries(&sources.join(file), Crs::Wgs84)?;
                    let pt = Point::new(near[0], near[1]);
                    let found = gs.into_iter().find(|g| g.contains(&pt));
                    found.ok_or_else(|| err(format!("no polygon in {} contains {near:?}", file.display())))?
                }
                GeometryRecipe::Point { at } => Geometry::Point(Point::new(at[0], at[1])),
                GeometryRecipe::Circle { center, radius_m, area_km2 } => {
                    let r = match (radius_m, area_km2) {
                        (Some(r), None) => *r,
                        (None, Some(a)) => (a * 1e6 / std::f64::consts::PI).sqrt(),
                        _ => return Err(err("circle needs exactly one of radius_m and area_km2".into())),
                    };
                    simplest(disc(*center, r))
                }
                GeometryRecipe::Shore { within, water, center, length_m, depth_m } => {
                    let county = get(within)?;
                    let reach = disc(*center, length_m / 2.0);
                    let m = Metric::at(center[0], center[1]);
                    // Only the water near the port matters; clipping first keeps the buffer cheap.
                    let near_water = get(water)?.intersection(&disc(*center, length_m / 2.0 + depth_m * 2.0));
                    let band = m.inv(&m.fwd(&near_water).buffer(*depth_m));
                    // County boundaries run to mid-river; the port is the land side only.
                    let area = county.intersection(&band).intersection(&reach).difference(&near_water);
                    if area.0.is_empty() {
                        return Err(err("shore band is empty: is the centre near the water?".into()));
                    }
                    simplest(area)
                }
                GeometryRecipe::Border { a, b, width_m, near } => {
                    let (ga, gb) = (get(a)?, get(b)?);
                    let c = match near {
                        Some((c, _)) => *c,
                        None => {
                            let p = ga.interior_point().ok_or_else(|| err("empty polygon".into()))?;
                            [p.x(), p.y()]
                        }
                    };
                    let m = Metric::at(c[0], c[1]);
                    let (ma, mb) = (m.fwd(&ga), m.fwd(&gb));
                    // The strip of b that touches a is the shared border; widening it gives the zone.
                    let seam = ma.buffer(50.0).intersection(&mb);
                    let mut zone = seam.buffer(*width_m).intersection(&ma.union(&mb));
                    if let Some((_, r)) = near {
                        zone = zone.intersection(&Point::new(0.0, 0.0).buffer(*r));
                    }
                    // An opening (shrink, then grow back) removes the slivers where the border wiggles.
                    zone = zone.buffer(-100.0).buffer(100.0).intersection(&ma.union(&mb));
                    if zone.0.is_empty() {
                        return Err(err(format!("{a:?} and {b:?} share no border")));
                    }
                    simplest(m.inv(&zone).simplify(1e-5))
                }
                GeometryRecipe::Line { points } => {
                    Geometry::LineString(LineString::from(points.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>()))
                }
                GeometryRecipe::Corridor { points, width_m, within } => {
                    let line = LineString::from(points.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>());
                    let c = points.first().ok_or_else(|| err("corridor without points".into()))?;
                    let m = Metric::at(c[0], c[1]);
                    let mut band = m.inv(&m.fwd(&line).buffer(width_m / 2.0));
                    if let Some(ids) = within {
                        let mut clip = MultiPolygon(vec![]);
                        for id in ids {
                            clip = clip.union(&get(id)?);
                        }
                        band = band.intersection(&clip);
                    }
                    simplest(band.simplify(1e-5))
                }
                GeometryRecipe::Discs { centers, radius_m } => Geometry::MultiPolygon(MultiPolygon(
                    centers.iter().flat_map(|c| disc(*c, *radius_m).0).collect::<Vec<Polygon<f64>>>(),
                )),
            };
            let geometry = round(geometry);
            built.insert(fr.id.clone(), geometry.clone());
            let accuracy = match &fr.accuracy {
                Value::String(s) if s == "schematic" => Accuracy::Schematic,
                Value::Number(n) => Accuracy::Metres(n.as_f64().unwrap_or(f64::NAN)),
                other => return Err(err(format!("accuracy {other} is neither metres nor \"schematic\""))),
            };
            features.push(Feature {
                id: fr.id.clone(),
                name_zh_hant: fr.name_zh_hant.clone(),
                name_zh_hans: fr.name_zh_hans.clone(),
                name_en: fr.name_en.clone(),
                kind: fr.kind.clone(),
                accuracy,
                source: fr.source.clone(),
                extra: fr.properties.clone(),
                geometry,
            });
        }
        layers.push(Layer::new(lr.id.clone(), PathBuf::from(format!("{}.geojson", lr.id)), features));
    }
    Ok(layers)
}

/// Reads `recipes.json`.
pub fn load_recipes(path: &Path) -> Result<Recipes, RecipeError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| RecipeError::Source { path: path.into(), message: e.to_string() })?;
    serde_json::from_str(&text).map_err(|e| RecipeError::Parse {
        path: path.into(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// Converts a whole GeoJSON file between coordinate systems, keeping properties; bare geometries
/// become features. This is `port-atlas import`.
pub fn import_file(input: &Path, crs: Crs) -> Result<Layer, RecipeError> {
    let text = std::fs::read(input).map_err(|e| RecipeError::Source { path: input.into(), message: e.to_string() })?;
    let value: Value = serde_json::from_slice(&text).map_err(|e| RecipeError::Parse {
        path: input.into(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let bare = value.get("type").and_then(Value::as_str).is_some_and(|t| !matches!(t, "Feature" | "FeatureCollection"));
    let mut layer = if bare {
        let geometries = read_source_geometries(input, crs)?;
        let features = geometries
            .into_iter()
            .enumerate()
            .map(|(i, geometry)| Feature {
                id: format!("{}-{i}", input.file_stem().and_then(|s| s.to_str()).unwrap_or("feature")),
                name_zh_hant: String::new(),
                name_zh_hans: String::new(),
                name_en: String::new(),
                kind: String::new(),
                accuracy: Accuracy::Schematic,
                source: input.display().to_string(),
                extra: Map::new(),
                geometry,
            })
            .collect();
        Layer::new(String::new(), input, features)
    } else {
        parse_layer(input, &text, ReadOptions { crs, strict_schema: false, topology: false })
            .map_err(|e| RecipeError::Source { path: input.into(), message: e.to_string() })?
            .0
    };
    for f in &mut layer.features {
        f.geometry = round(std::mem::replace(&mut f.geometry, Geometry::Point(Point::new(0.0, 0.0))));
    }
    Ok(layer)
}
