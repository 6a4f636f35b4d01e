//! A feature's geometry as the editor sees it: parts of rings of vertices, open (a polygon's
//! closing vertex is implied), so moving, inserting and deleting a vertex is index arithmetic and
//! the ring stays closed by construction.

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};

/// What kind of geometry a [`Shape`] turns back into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeKind {
    Point,
    MultiPoint,
    Line,
    MultiLine,
    Polygon,
    MultiPolygon,
}

impl ShapeKind {
    pub fn is_polygon(self) -> bool {
        matches!(self, ShapeKind::Polygon | ShapeKind::MultiPolygon)
    }
    pub fn is_point(self) -> bool {
        matches!(self, ShapeKind::Point | ShapeKind::MultiPoint)
    }
    /// The fewest vertices one ring (or line, or point) may keep.
    pub fn min_vertices(self) -> usize {
        match self {
            ShapeKind::Point | ShapeKind::MultiPoint => 1,
            ShapeKind::Line | ShapeKind::MultiLine => 2,
            ShapeKind::Polygon | ShapeKind::MultiPolygon => 3,
        }
    }
}

/// Which vertex: part (of a multi-geometry; a multi-point's points are parts), ring (0 the outline,
/// 1.. holes; always 0 for lines and points), index within the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VertexPath {
    pub part: usize,
    pub ring: usize,
    pub index: usize,
}

impl VertexPath {
    pub fn new(part: usize, ring: usize, index: usize) -> Self {
        VertexPath { part, ring, index }
    }
}

/// An editable geometry in lon/lat: `parts[part][ring][vertex]`, rings open.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub kind: ShapeKind,
    pub parts: Vec<Vec<Vec<[f64; 2]>>>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShapeError {
    #[error("this kind of geometry ({0}) cannot be edited")]
    Unsupported(&'static str),
    #[error("no vertex {0:?}")]
    NoVertex(VertexPath),
    #[error("a {kind} needs at least {min} vertices")]
    TooFew { kind: &'static str, min: usize },
}

fn open_ring(ls: &LineString<f64>) -> Vec<[f64; 2]> {
    let mut v: Vec<[f64; 2]> = ls.0.iter().map(|c| [c.x, c.y]).collect();
    if v.len() > 1 && v.first() == v.last() {
        v.pop();
    }
    v
}

fn line(v: &[[f64; 2]]) -> LineString<f64> {
    LineString(v.iter().map(|&[x, y]| Coord { x, y }).collect())
}

/// geo closes the ring itself.
fn polygon(rings: &[Vec<[f64; 2]>]) -> Polygon<f64> {
    let mut it = rings.iter();
    let outer = it.next().map(|r| line(r)).unwrap_or_else(|| LineString(vec![]));
    Polygon::new(outer, it.map(|r| line(r)).collect())
}

impl Shape {
    /// The editable form of a feature's geometry; collections and rectangles are not edited.
    pub fn from_geometry(g: &Geometry<f64>) -> Result<Shape, ShapeError> {
        let (kind, parts) = match g {
            Geometry::Point(p) => (ShapeKind::Point, vec![vec![vec![[p.x(), p.y()]]]]),
            Geometry::MultiPoint(mp) => {
                (ShapeKind::MultiPoint, mp.0.iter().map(|p| vec![vec![[p.x(), p.y()]]]).collect())
            }
            Geometry::LineString(ls) => (ShapeKind::Line, vec![vec![ls.0.iter().map(|c| [c.x, c.y]).collect()]]),
            Geometry::MultiLineString(m) => {
                (ShapeKind::MultiLine, m.0.iter().map(|ls| vec![ls.0.iter().map(|c| [c.x, c.y]).collect()]).collect())
            }
            Geometry::Polygon(p) => (ShapeKind::Polygon, vec![poly_rings(p)]),
            Geometry::MultiPolygon(m) => (ShapeKind::MultiPolygon, m.0.iter().map(poly_rings).collect()),
            Geometry::GeometryCollection(_) => return Err(ShapeError::Unsupported("geometry collection")),
            Geometry::Line(_) | Geometry::Rect(_) | Geometry::Triangle(_) => {
                return Err(ShapeError::Unsupported("line segment, rectangle or triangle"));
            }
        };
        Ok(Shape { kind, parts })
    }

    /// Back to a geometry (polygons closed again).
    pub fn to_geometry(&self) -> Geometry<f64> {
        let first = |p: &Vec<Vec<[f64; 2]>>| p.first().and_then(|r| r.first()).copied().unwrap_or([0.0, 0.0]);
        match self.kind {
            ShapeKind::Point => {
                let [x, y] = self.parts.first().map(first).unwrap_or([0.0, 0.0]);
                Geometry::Point(Point::new(x, y))
            }
            ShapeKind::MultiPoint => {
                Geometry::MultiPoint(MultiPoint(self.parts.iter().map(first).map(|[x, y]| Point::new(x, y)).collect()))
            }
            ShapeKind::Line => {
                Geometry::LineString(self.parts.first().and_then(|p| p.first()).map_or_else(|| line(&[]), |r| line(r)))
            }
            ShapeKind::MultiLine => Geometry::MultiLineString(MultiLineString(
                self.parts.iter().filter_map(|p| p.first()).map(|r| line(r)).collect(),
            )),
            ShapeKind::Polygon => Geometry::Polygon(polygon(self.parts.first().map_or(&[][..], |p| &p[..]))),
            ShapeKind::MultiPolygon => {
                Geometry::MultiPolygon(MultiPolygon(self.parts.iter().map(|p| polygon(p)).collect()))
            }
        }
    }

    pub fn ring(&self, part: usize, ring: usize) -> Option<&Vec<[f64; 2]>> {
        self.parts.get(part)?.get(ring)
    }

    pub fn vertex(&self, at: VertexPath) -> Option<[f64; 2]> {
        self.ring(at.part, at.ring)?.get(at.index).copied()
    }

    /// Every vertex with its path, for handles and hit tests.
    pub fn vertices(&self) -> impl Iterator<Item = (VertexPath, [f64; 2])> + '_ {
        self.parts.iter().enumerate().flat_map(|(p, rings)| {
            rings
                .iter()
                .enumerate()
                .flat_map(move |(r, ring)| ring.iter().enumerate().map(move |(i, &v)| (VertexPath::new(p, r, i), v)))
        })
    }

    /// Whether a ring's last vertex joins its first (polygons).
    pub fn closed(&self) -> bool {
        self.kind.is_polygon()
    }

    /// Every edge as (path of its first vertex, start, end); polygons include the closing edge.
    pub fn edges(&self) -> impl Iterator<Item = (VertexPath, [f64; 2], [f64; 2])> + '_ {
        let closed = self.closed();
        self.parts.iter().enumerate().flat_map(move |(p, rings)| {
            rings.iter().enumerate().flat_map(move |(r, ring)| {
                let n = ring.len();
                let count = if closed && n >= 3 { n } else { n.saturating_sub(1) };
                (0..count).map(move |i| (VertexPath::new(p, r, i), ring[i], ring[(i + 1) % n]))
            })
        })
    }

    pub fn move_vertex(&mut self, at: VertexPath, to: [f64; 2]) -> Result<(), ShapeError> {
        let v = self
            .parts
            .get_mut(at.part)
            .and_then(|p| p.get_mut(at.ring))
            .and_then(|r| r.get_mut(at.index))
            .ok_or(ShapeError::NoVertex(at))?;
        *v = to;
        Ok(())
    }

    /// Moves every vertex by the same offset (a point, or a whole feature dragged).
    pub fn translate(&mut self, d: [f64; 2]) {
        for v in self.parts.iter_mut().flatten().flatten() {
            v[0] += d[0];
            v[1] += d[1];
        }
    }

    /// A new vertex after `after` (on the edge that starts there); returns its path.
    pub fn insert_vertex(&mut self, after: VertexPath, at: [f64; 2]) -> Result<VertexPath, ShapeError> {
        if self.kind.is_point() {
            return Err(ShapeError::Unsupported("point"));
        }
        let ring =
            self.parts.get_mut(after.part).and_then(|p| p.get_mut(after.ring)).ok_or(ShapeError::NoVertex(after))?;
        if after.index >= ring.len() {
            return Err(ShapeError::NoVertex(after));
        }
        ring.insert(after.index + 1, at);
        Ok(VertexPath { index: after.index + 1, ..after })
    }

    /// Removes a vertex, unless its ring or line would be left too short to be one.
    pub fn delete_vertex(&mut self, at: VertexPath) -> Result<(), ShapeError> {
        let kind = self.kind;
        let ring = self.parts.get_mut(at.part).and_then(|p| p.get_mut(at.ring)).ok_or(ShapeError::NoVertex(at))?;
        if at.index >= ring.len() {
            return Err(ShapeError::NoVertex(at));
        }
        let min = kind.min_vertices();
        if kind.is_point() || ring.len() <= min {
            let what = match kind {
                ShapeKind::Point | ShapeKind::MultiPoint => "point",
                ShapeKind::Line | ShapeKind::MultiLine => "line",
                _ if at.ring == 0 => "polygon's outline",
                _ => "hole",
            };
            return Err(ShapeError::TooFew { kind: what, min: min + usize::from(kind.is_point()) });
        }
        ring.remove(at.index);
        Ok(())
    }

    /// Adds a hole to a polygon part; returns its ring number.
    pub fn add_hole(&mut self, part: usize, ring: Vec<[f64; 2]>) -> Result<usize, ShapeError> {
        if !self.kind.is_polygon() {
            return Err(ShapeError::Unsupported("hole in a line or point"));
        }
        let rings = self.parts.get_mut(part).ok_or(ShapeError::NoVertex(VertexPath::new(part, 0, 0)))?;
        rings.push(ring);
        Ok(rings.len() - 1)
    }

    /// The part whose outline contains a point (for "draw a hole here").
    pub fn part_containing(&self, p: [f64; 2]) -> Option<usize> {
        if !self.kind.is_polygon() {
            return None;
        }
        self.parts
            .iter()
            .position(|rings| rings.first().is_some_and(|outer| crate::edit::validate::ring_contains(outer, p)))
    }
}

fn poly_rings(p: &Polygon<f64>) -> Vec<Vec<[f64; 2]>> {
    std::iter::once(p.exterior()).chain(p.interiors()).map(open_ring).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square() -> Shape {
        Shape::from_geometry(&Geometry::Polygon(polygon(&[vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]])))
            .unwrap()
    }

    #[test]
    fn polygons_round_trip_open_in_the_editor_and_closed_outside() {
        let s = square();
        assert_eq!(s.parts[0][0].len(), 4, "the closing vertex is implied");
        let Geometry::Polygon(p) = s.to_geometry() else { panic!() };
        assert_eq!(p.exterior().0.len(), 5);
        assert_eq!(s.edges().count(), 4, "the closing edge is an edge");
        let l = Shape::from_geometry(&Geometry::LineString(line(&[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]))).unwrap();
        assert_eq!(l.edges().count(), 2);
    }

    #[test]
    fn vertices_move_insert_and_delete_until_the_ring_is_too_short() {
        let mut s = square();
        s.move_vertex(VertexPath::new(0, 0, 2), [2.0, 2.0]).unwrap();
        let at = s.insert_vertex(VertexPath::new(0, 0, 3), [0.0, 0.5]).unwrap();
        assert_eq!(at.index, 4);
        assert_eq!(s.parts[0][0], vec![[0.0, 0.0], [1.0, 0.0], [2.0, 2.0], [0.0, 1.0], [0.0, 0.5]]);
        s.delete_vertex(at).unwrap();
        s.delete_vertex(VertexPath::new(0, 0, 0)).unwrap();
        assert_eq!(
            s.delete_vertex(VertexPath::new(0, 0, 0)),
            Err(ShapeError::TooFew { kind: "polygon's outline", min: 3 })
        );
        assert_eq!(
            s.move_vertex(VertexPath::new(0, 1, 0), [0.0, 0.0]),
            Err(ShapeError::NoVertex(VertexPath::new(0, 1, 0)))
        );
    }

    #[test]
    fn holes_join_the_part_that_holds_them() {
        let mut s = square();
        assert_eq!(s.part_containing([0.5, 0.5]), Some(0));
        assert_eq!(s.part_containing([5.0, 0.5]), None);
        assert_eq!(s.add_hole(0, vec![[0.2, 0.2], [0.4, 0.2], [0.4, 0.4]]).unwrap(), 1);
        let Geometry::Polygon(p) = s.to_geometry() else { panic!() };
        assert_eq!(p.interiors().len(), 1);
    }
}
