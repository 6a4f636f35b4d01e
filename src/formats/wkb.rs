//! Well-known binary geometry, as GeoPackages (and PostGIS) store it: ISO WKB with Z/M type
//! codes (1001, 2002, 3003, ...) and the older EWKB flag bits, either byte order. Z and M are
//! read past and reported, since the atlas is 2D.
//!
//! ```
//! use port_atlas::formats::wkb::parse;
//! // POINT(121.17 31.56), little-endian.
//! let mut b = vec![1u8, 1, 0, 0, 0];
//! b.extend_from_slice(&121.17f64.to_le_bytes());
//! b.extend_from_slice(&31.56f64.to_le_bytes());
//! let g = parse(&b).unwrap();
//! assert_eq!(g.geometry, Some(geo::Geometry::Point(geo::Point::new(121.17, 31.56))));
//! ```

use geo::{Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};

/// A parsed geometry: `None` for an empty one (`POINT EMPTY`, an empty collection).
#[derive(Debug, PartialEq)]
pub struct Parsed {
    pub geometry: Option<Geometry<f64>>,
    /// Whether Z or M values were present (and dropped).
    pub dropped_zm: bool,
}

/// Collections nest a few levels in real data; deeper is hostile.
const MAX_DEPTH: usize = 32;

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
    little: bool,
    dropped_zm: bool,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let s =
            self.b.get(self.at..self.at + N).ok_or_else(|| format!("the geometry ends early (byte {})", self.at))?;
        self.at += N;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let a = self.take::<4>()?;
        Ok(if self.little { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) })
    }

    fn f64(&mut self) -> Result<f64, String> {
        let a = self.take::<8>()?;
        Ok(if self.little { f64::from_le_bytes(a) } else { f64::from_be_bytes(a) })
    }

    /// A count, checked against the bytes left (each item needs at least `min_size` bytes), so
    /// a forged count cannot make us allocate gigabytes.
    fn count(&mut self, min_size: usize) -> Result<usize, String> {
        let n = self.u32()? as usize;
        let left = self.b.len().saturating_sub(self.at);
        if n.saturating_mul(min_size) > left {
            return Err(format!("it declares {n} parts but only {left} bytes follow"));
        }
        Ok(n)
    }

    fn coord(&mut self, dims: usize) -> Result<Coord<f64>, String> {
        let (x, y) = (self.f64()?, self.f64()?);
        for _ in 2..dims {
            self.f64()?;
        }
        Ok(Coord { x, y })
    }

    fn coords(&mut self, dims: usize) -> Result<Vec<Coord<f64>>, String> {
        let n = self.count(dims * 8)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let c = self.coord(dims)?;
            if !c.x.is_finite() || !c.y.is_finite() {
                return Err("a coordinate is not a number".into());
            }
            v.push(c);
        }
        Ok(v)
    }

    fn geometry(&mut self, depth: usize) -> Result<Option<Geometry<f64>>, String> {
        if depth > MAX_DEPTH {
            return Err("collections nested too deeply".into());
        }
        self.little = match self.take::<1>()?[0] {
            0 => false,
            1 => true,
            b => return Err(format!("byte-order marker {b} is neither 0 nor 1")),
        };
        let raw = self.u32()?;
        // EWKB: flags in the high bits, and an SRID after the type.
        let (ewkb_z, ewkb_m, srid) = (raw & 0x8000_0000 != 0, raw & 0x4000_0000 != 0, raw & 0x2000_0000 != 0);
        let iso = raw & 0x0FFF_FFFF;
        let (base, iso_dims) = (iso % 1000, iso / 1000);
        let (z, m) = (ewkb_z || iso_dims == 1 || iso_dims == 3, ewkb_m || iso_dims == 2 || iso_dims == 3);
        if srid {
            self.u32()?;
        }
        let dims = 2 + z as usize + m as usize;
        self.dropped_zm |= dims > 2;
        let ring = |r: &mut Self| -> Result<LineString<f64>, String> { Ok(LineString(r.coords(dims)?)) };
        Ok(Some(match base {
            1 => {
                let c = self.coord(dims)?;
                if c.x.is_nan() && c.y.is_nan() {
                    return Ok(None);
                }
                if !c.x.is_finite() || !c.y.is_finite() {
                    return Err("a coordinate is not a number".into());
                }
                Geometry::Point(Point(c))
            }
            2 => Geometry::LineString(ring(self)?),
            3 => {
                let n = self.count(4)?;
                let mut rings = Vec::with_capacity(n);
                for _ in 0..n {
                    rings.push(ring(self)?);
                }
                if rings.is_empty() {
                    return Ok(None);
                }
                let exterior = rings.remove(0);
                Geometry::Polygon(Polygon::new(exterior, rings))
            }
            4..=7 => {
                let n = self.count(5)?;
                let mut parts = Vec::with_capacity(n);
                for _ in 0..n {
                    if let Some(g) = self.geometry(depth + 1)? {
                        parts.push(g);
                    }
                }
                match base {
                    4 => Geometry::MultiPoint(MultiPoint(
                        parts
                            .into_iter()
                            .filter_map(|g| if let Geometry::Point(p) = g { Some(p) } else { None })
                            .collect(),
                    )),
                    5 => Geometry::MultiLineString(MultiLineString(
                        parts
                            .into_iter()
                            .filter_map(|g| if let Geometry::LineString(l) = g { Some(l) } else { None })
                            .collect(),
                    )),
                    6 => Geometry::MultiPolygon(MultiPolygon(
                        parts
                            .into_iter()
                            .filter_map(|g| if let Geometry::Polygon(p) = g { Some(p) } else { None })
                            .collect(),
                    )),
                    _ => Geometry::GeometryCollection(GeometryCollection(parts)),
                }
            }
            other => return Err(format!("geometry type {other} is not one port-atlas reads (curves, surfaces)")),
        }))
    }
}

/// Parses one WKB geometry.
pub fn parse(b: &[u8]) -> Result<Parsed, String> {
    let mut r = Reader { b, at: 0, little: true, dropped_zm: false };
    let geometry = r.geometry(0)?;
    Ok(Parsed { geometry, dropped_zm: r.dropped_zm })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le_point(ty: u32, coords: &[f64]) -> Vec<u8> {
        let mut b = vec![1u8];
        b.extend_from_slice(&ty.to_le_bytes());
        for c in coords {
            b.extend_from_slice(&c.to_le_bytes());
        }
        b
    }

    #[test]
    fn iso_and_ewkb_z_are_read_as_2d_with_a_flag() {
        let p = parse(&le_point(1001, &[1.0, 2.0, 3.0])).unwrap();
        assert_eq!(p.geometry, Some(Geometry::Point(Point::new(1.0, 2.0))));
        assert!(p.dropped_zm);
        let p = parse(&le_point(0x8000_0001, &[1.0, 2.0, 3.0])).unwrap();
        assert_eq!(p.geometry, Some(Geometry::Point(Point::new(1.0, 2.0))));
        let p = parse(&le_point(3001, &[1.0, 2.0, 3.0, 4.0])).unwrap();
        assert!(p.dropped_zm);
        assert_eq!(parse(&le_point(1, &[f64::NAN, f64::NAN])).unwrap().geometry, None);
    }

    #[test]
    fn big_endian_polygon_with_a_hole() {
        let mut b = vec![0u8];
        b.extend_from_slice(&3u32.to_be_bytes());
        b.extend_from_slice(&2u32.to_be_bytes());
        for ring in [[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 0.0)], [(1.0, 1.0), (2.0, 1.0), (2.0, 2.0), (1.0, 1.0)]]
        {
            b.extend_from_slice(&4u32.to_be_bytes());
            for (x, y) in ring {
                b.extend_from_slice(&f64::to_be_bytes(x));
                b.extend_from_slice(&f64::to_be_bytes(y));
            }
        }
        let Some(Geometry::Polygon(p)) = parse(&b).unwrap().geometry else { panic!() };
        assert_eq!(p.interiors().len(), 1);
        assert_eq!(p.exterior().0[1], Coord { x: 4.0, y: 0.0 });
    }

    #[test]
    fn forged_counts_and_cut_geometries_are_errors_not_allocations() {
        let mut b = vec![1u8];
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse(&b).unwrap_err().contains("declares"));
        assert!(parse(&le_point(1, &[1.0])).unwrap_err().contains("ends early"));
        assert!(parse(&le_point(8, &[])).unwrap_err().contains("not one"));
        assert!(parse(&[7]).unwrap_err().contains("byte-order"));
    }

    #[test]
    fn a_point_with_one_nan_or_infinite_coordinate_is_an_error() {
        // Found by the `wkb` fuzz target (fuzz/regressions/wkb): POINT(121.2 NaN), POINT(inf 31.5).
        assert!(
            parse(b"\x01\x01\x00\x00\x00\xcd\xcc\xcc\xcc\xcc\x4c\x5e\x40\x00\x00\x00\x00\x00\x00\xf8\x7f").is_err()
        );
        assert!(
            parse(b"\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf0\x7f\x00\x00\x00\x00\x00\x80\x3f\x40").is_err()
        );
    }
}
