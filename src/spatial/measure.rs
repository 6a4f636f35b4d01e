//! Measuring on the WGS84 ellipsoid: a path's length and a polygon's area, geodesic (Karney's
//! algorithms through geo's GeographicLib port), so a 50 m street and a 100 km corridor are both
//! right to well under a metre; and the figures as a planner writes them.

use geo::{Coord, Distance, Geodesic, GeodesicArea, LineString, Point, Polygon};

/// Length of the path through `points` (lon, lat), metres.
///
/// ```
/// use port_atlas::spatial::measure::path_length_m;
/// // Taicang port to Shanghai Hongqiao station: about 47.3 km.
/// let d = path_length_m(&[(121.2333, 31.6167), (121.3161, 31.1963)]);
/// assert!((d - 47_272.8).abs() < 1.0);
/// ```
pub fn path_length_m(points: &[(f64, f64)]) -> f64 {
    points.windows(2).map(|w| Geodesic.distance(Point::new(w[0].0, w[0].1), Point::new(w[1].0, w[1].1))).sum()
}

/// Area of the polygon with `points` (lon, lat) as its ring (closed or not), square metres; 0
/// for fewer than three points.
pub fn polygon_area_m2(points: &[(f64, f64)]) -> f64 {
    if points.len() < 3 {
        return 0.0;
    }
    let ring: Vec<Coord<f64>> = points.iter().map(|&(x, y)| Coord { x, y }).collect();
    Polygon::new(LineString::new(ring), vec![]).geodesic_area_unsigned()
}

/// A length as planners write it: metres to a kilometre, then kilometres.
pub fn format_length(m: f64) -> String {
    if m < 1000.0 { format!("{m:.1} m") } else { format!("{:.3} km", m / 1000.0) }
}

/// An area as planners write it: square metres, with hectares (and km² for large ones).
pub fn format_area(m2: f64) -> String {
    if m2 < 10_000.0 {
        format!("{m2:.0} m²")
    } else if m2 < 1_000_000.0 {
        format!("{:.2} ha ({m2:.0} m²)", m2 / 10_000.0)
    } else {
        format!("{:.3} km² ({:.1} ha)", m2 / 1e6, m2 / 10_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reference case of pyproj's Geod (GeographicLib), within 0.1 % and a centimetre.
    #[test]
    fn lengths_and_areas_match_pyproj() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/measure/pyproj.json");
        let j: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let cases = j["cases"].as_object().unwrap();
        assert!(cases.len() >= 6);
        for (name, c) in cases {
            let pts: Vec<(f64, f64)> = c["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
                .collect();
            let want = c["length_m"].as_f64().unwrap();
            let got = path_length_m(&pts);
            assert!((got - want).abs() <= (want * 1e-3).max(0.01), "{name}: {got} m against {want} m");
            if let Some(want) = c["area_m2"].as_f64() {
                let got = polygon_area_m2(&pts);
                assert!((got - want).abs() <= want * 1e-3, "{name}: {got} m² against {want} m²");
            }
        }
    }

    #[test]
    fn figures_read_as_planners_write_them() {
        assert_eq!(format_length(52.44), "52.4 m");
        assert_eq!(format_length(47_272.8), "47.273 km");
        assert_eq!(format_area(3600.0), "3600 m²");
        assert_eq!(format_area(560_000.0), "56.00 ha (560000 m²)");
        assert_eq!(format_area(5_600_000.0), "5.600 km² (560.0 ha)");
        assert_eq!(polygon_area_m2(&[(121.0, 31.0), (121.1, 31.0)]), 0.0);
    }
}
