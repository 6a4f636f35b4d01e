//! Clipping tile geometry to its tile. Encoders add a buffer around each tile so lines and
//! outlines join without gaps; drawn as they come, neighbouring tiles would both fill the
//! buffer and a translucent fill would show darker seams. Fills are clipped as rings
//! (Sutherland-Hodgman, exact for a square), lines and outlines as polylines (Liang-Barsky), so
//! no outline gains an edge along the tile border.

/// A closed ring clipped to the square `[0, size]²`; empty when nothing is left.
pub fn clip_ring(ring: &[[f64; 2]], size: f64) -> Vec<[f64; 2]> {
    // Open the ring: the clipper closes it implicitly.
    let mut pts: Vec<[f64; 2]> = ring.to_vec();
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    if pts.iter().all(|p| (0.0..=size).contains(&p[0]) && (0.0..=size).contains(&p[1])) {
        return close(pts);
    }
    // (axis, keep values >= bound if `lower`)
    for (axis, bound, lower) in [(0, 0.0, true), (0, size, false), (1, 0.0, true), (1, size, false)] {
        if pts.is_empty() {
            break;
        }
        let inside = |p: &[f64; 2]| if lower { p[axis] >= bound } else { p[axis] <= bound };
        let mut out = Vec::with_capacity(pts.len() + 4);
        for i in 0..pts.len() {
            let (a, b) = (pts[(i + pts.len() - 1) % pts.len()], pts[i]);
            let (ia, ib) = (inside(&a), inside(&b));
            if ib {
                if !ia {
                    out.push(cross(a, b, axis, bound));
                }
                out.push(b);
            } else if ia {
                out.push(cross(a, b, axis, bound));
            }
        }
        pts = out;
    }
    if pts.len() < 3 { Vec::new() } else { close(pts) }
}

fn close(mut pts: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    if let Some(&f) = pts.first() {
        pts.push(f);
    }
    pts
}

fn cross(a: [f64; 2], b: [f64; 2], axis: usize, bound: f64) -> [f64; 2] {
    let t = (bound - a[axis]) / (b[axis] - a[axis]);
    let mut p = [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
    p[axis] = bound;
    p
}

/// A polyline clipped to `[0, size]²`: the pieces inside, each with at least two points.
pub fn clip_line(line: &[[f64; 2]], size: f64) -> Vec<Vec<[f64; 2]>> {
    let mut parts: Vec<Vec<[f64; 2]>> = Vec::new();
    let mut cur: Vec<[f64; 2]> = Vec::new();
    for w in line.windows(2) {
        match clip_segment(w[0], w[1], size) {
            Some((a, b, b_clipped)) => {
                if cur.last() != Some(&a) {
                    if cur.len() >= 2 {
                        parts.push(std::mem::take(&mut cur));
                    }
                    cur.clear();
                    cur.push(a);
                }
                cur.push(b);
                if b_clipped {
                    parts.push(std::mem::take(&mut cur));
                }
            }
            None => {
                if cur.len() >= 2 {
                    parts.push(std::mem::take(&mut cur));
                }
                cur.clear();
            }
        }
    }
    if cur.len() >= 2 {
        parts.push(cur);
    }
    parts
}

/// Liang-Barsky: the part of segment a-b inside the square, and whether its end was cut.
fn clip_segment(a: [f64; 2], b: [f64; 2], size: f64) -> Option<([f64; 2], [f64; 2], bool)> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, a[0]), (dx, size - a[0]), (-dy, a[1]), (dy, size - a[1])] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| {
        if t == 0.0 {
            a
        } else if t == 1.0 {
            b
        } else {
            [a[0] + dx * t, a[1] + dy * t]
        }
    };
    Some((at(t0), at(t1), t1 < 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(r: &[[f64; 2]]) -> f64 {
        r.windows(2).map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1]).sum::<f64>() / 2.0
    }

    #[test]
    fn rings_are_cut_to_the_tile() {
        let sq = [[-10.0, -10.0], [50.0, -10.0], [50.0, 50.0], [-10.0, 50.0], [-10.0, -10.0]];
        let c = clip_ring(&sq, 20.0);
        assert!((area(&c).abs() - 400.0).abs() < 1e-9, "{c:?}");
        assert_eq!(c.first(), c.last());
        // Entirely outside: nothing. Inside: unchanged.
        assert!(clip_ring(&[[30.0, 30.0], [40.0, 30.0], [40.0, 40.0], [30.0, 30.0]], 20.0).is_empty());
        let inside = [[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 1.0]];
        assert_eq!(clip_ring(&inside, 20.0), inside);
    }

    #[test]
    fn lines_leave_and_reenter_as_separate_pieces() {
        let l = [[-5.0, 5.0], [5.0, 5.0], [5.0, 30.0], [15.0, 30.0], [15.0, 5.0], [25.0, 5.0]];
        let parts = clip_line(&l, 20.0);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert_eq!(parts[0], vec![[0.0, 5.0], [5.0, 5.0], [5.0, 20.0]]);
        assert_eq!(parts[1], vec![[15.0, 20.0], [15.0, 5.0], [20.0, 5.0]]);
        assert!(clip_line(&[[30.0, 1.0], [40.0, 1.0]], 20.0).is_empty());
    }
}
