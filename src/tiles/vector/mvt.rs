//! Mapbox Vector Tile 2.1 decoding: the protobuf wire format read by hand, because a tile is four
//! small messages and a hand-written reader can bound every length by the bytes actually there
//! (a generated decoder would trust them). Geometry commands stay packed until a feature is
//! drawn or picked, so a tile's layers that are switched off cost only their bytes.

use std::fmt;

/// A decoded tile: its layers in the order the encoder wrote them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VectorTile {
    pub layers: Vec<TileLayer>,
}

/// One source layer of a tile ("parcels", "roads").
#[derive(Debug, Clone, PartialEq)]
pub struct TileLayer {
    pub name: String,
    /// Units across the tile (4096 unless the encoder chose otherwise).
    pub extent: u32,
    pub keys: Vec<String>,
    pub values: Vec<Value>,
    pub features: Vec<TileFeature>,
}

/// An attribute value. Numbers keep their kind so an id stays an integer in the attribute table.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Float(f64),
    Int(i64),
    Uint(u64),
    Bool(bool),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => f.write_str(s),
            Value::Float(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Uint(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
        }
    }
}

impl Value {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Float(v) => {
                serde_json::Number::from_f64(*v).map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
            Value::Int(v) => (*v).into(),
            Value::Uint(v) => (*v).into(),
            Value::Bool(v) => (*v).into(),
        }
    }
}

/// The geometry type a feature declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeomKind {
    Unknown,
    Point,
    LineString,
    Polygon,
}

/// A feature as stored: its attributes as (key, value) indices into its layer, its geometry as
/// the packed command stream.
#[derive(Debug, Clone, PartialEq)]
pub struct TileFeature {
    pub id: Option<u64>,
    pub kind: GeomKind,
    pub tags: Vec<u32>,
    pub commands: Vec<u32>,
}

/// A feature's geometry in tile units (x east, y down, 0..extent inside the tile; the buffer
/// around the tile lies outside that range).
#[derive(Debug, Clone, PartialEq)]
pub enum TileGeometry {
    Points(Vec<[i32; 2]>),
    Lines(Vec<Vec<[i32; 2]>>),
    /// Polygons, each an exterior ring followed by its holes; rings are closed (first == last).
    Polygons(Vec<Vec<Vec<[i32; 2]>>>),
}

/// Why a tile cannot be read. `at` is a byte offset into the (decompressed) tile.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MvtError {
    #[error("not a vector tile: truncated or malformed protobuf at byte {at}")]
    Malformed { at: usize },
    #[error("not a vector tile: unsupported protobuf wire type {wire} at byte {at}")]
    WireType { wire: u8, at: usize },
    #[error("layer {layer:?}: {message}")]
    Layer { layer: String, message: String },
}

/// Why one feature's geometry cannot be drawn (the rest of the tile still can).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("feature {index} of layer {layer:?}: {message}")]
pub struct GeometryError {
    pub layer: String,
    pub index: usize,
    pub message: String,
}

/// A protobuf reader over a byte slice that never reads past it.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf` in the whole tile, for errors.
    base: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    fn at(&self) -> usize {
        self.base + self.pos
    }

    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn malformed(&self) -> MvtError {
        MvtError::Malformed { at: self.at() }
    }

    fn varint(&mut self) -> Result<u64, MvtError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.buf.get(self.pos) else { return Err(self.malformed()) };
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.malformed())
    }

    /// A field's key: (field number, wire type).
    fn key(&mut self) -> Result<(u64, u8), MvtError> {
        let k = self.varint()?;
        Ok((k >> 3, (k & 7) as u8))
    }

    fn bytes(&mut self) -> Result<(&'a [u8], usize), MvtError> {
        let len = self.varint()?;
        let start = self.pos;
        let end = usize::try_from(len).ok().and_then(|l| start.checked_add(l)).filter(|&e| e <= self.buf.len());
        let Some(end) = end else { return Err(self.malformed()) };
        self.pos = end;
        Ok((&self.buf[start..end], self.base + start))
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], MvtError> {
        let Some(s) = self.buf.get(self.pos..self.pos + N) else { return Err(self.malformed()) };
        self.pos += N;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn skip(&mut self, wire: u8) -> Result<(), MvtError> {
        match wire {
            0 => self.varint().map(drop),
            1 => self.fixed::<8>().map(drop),
            2 => self.bytes().map(drop),
            5 => self.fixed::<4>().map(drop),
            w => Err(MvtError::WireType { wire: w, at: self.at() }),
        }
    }

    fn string(&mut self) -> Result<String, MvtError> {
        let (b, _) = self.bytes()?;
        // The spec requires UTF-8; a stray byte costs one character, not the tile.
        Ok(String::from_utf8_lossy(b).into_owned())
    }

    /// A repeated uint32 field, packed (wire type 2) or not (wire type 0).
    fn packed_u32(&mut self, wire: u8, out: &mut Vec<u32>) -> Result<(), MvtError> {
        match wire {
            0 => out.push(self.varint()? as u32),
            2 => {
                let (b, base) = self.bytes()?;
                let mut r = Reader::new(b, base);
                // Each varint takes at least one byte.
                out.reserve(b.len() / 2);
                while !r.done() {
                    out.push(r.varint()? as u32);
                }
            }
            w => return Err(MvtError::WireType { wire: w, at: self.at() }),
        }
        Ok(())
    }
}

/// Decodes an uncompressed tile.
///
/// ```
/// use port_atlas::tiles::vector::mvt::decode;
/// // An empty tile is valid and has no layers.
/// assert!(decode(&[]).unwrap().layers.is_empty());
/// // A length running past the end is an error naming the byte, not a panic.
/// assert!(decode(&[0x1a, 0x7f, 0x0a]).is_err());
/// ```
pub fn decode(bytes: &[u8]) -> Result<VectorTile, MvtError> {
    let mut r = Reader::new(bytes, 0);
    let mut tile = VectorTile::default();
    while !r.done() {
        let (field, wire) = r.key()?;
        if field == 3 && wire == 2 {
            let (b, base) = r.bytes()?;
            tile.layers.push(layer(b, base)?);
        } else {
            r.skip(wire)?;
        }
    }
    Ok(tile)
}

fn layer(bytes: &[u8], base: usize) -> Result<TileLayer, MvtError> {
    let mut r = Reader::new(bytes, base);
    let mut l = TileLayer { name: String::new(), extent: 4096, keys: vec![], values: vec![], features: vec![] };
    let mut version = 1;
    while !r.done() {
        let (field, wire) = r.key()?;
        match (field, wire) {
            (15, 0) => version = r.varint()?,
            (1, 2) => l.name = r.string()?,
            (2, 2) => {
                let (b, base) = r.bytes()?;
                l.features.push(feature(b, base)?);
            }
            (3, 2) => l.keys.push(r.string()?),
            (4, 2) => {
                let (b, base) = r.bytes()?;
                l.values.push(value(b, base)?);
            }
            (5, 0) => l.extent = r.varint()? as u32,
            (_, w) => r.skip(w)?,
        }
    }
    let err = |message: String| MvtError::Layer { layer: l.name.clone(), message };
    if !(1..=2).contains(&version) {
        return Err(err(format!("unsupported vector tile version {version}")));
    }
    if l.extent == 0 || l.extent > 1 << 20 {
        return Err(err(format!("extent {} is out of range", l.extent)));
    }
    Ok(l)
}

fn feature(bytes: &[u8], base: usize) -> Result<TileFeature, MvtError> {
    let mut r = Reader::new(bytes, base);
    let mut f = TileFeature { id: None, kind: GeomKind::Unknown, tags: vec![], commands: vec![] };
    while !r.done() {
        let (field, wire) = r.key()?;
        match (field, wire) {
            (1, 0) => f.id = Some(r.varint()?),
            (2, w @ (0 | 2)) => r.packed_u32(w, &mut f.tags)?,
            (3, 0) => {
                f.kind = match r.varint()? {
                    1 => GeomKind::Point,
                    2 => GeomKind::LineString,
                    3 => GeomKind::Polygon,
                    _ => GeomKind::Unknown,
                }
            }
            (4, w @ (0 | 2)) => r.packed_u32(w, &mut f.commands)?,
            (_, w) => r.skip(w)?,
        }
    }
    Ok(f)
}

fn value(bytes: &[u8], base: usize) -> Result<Value, MvtError> {
    let mut r = Reader::new(bytes, base);
    // A value message holds exactly one of these; the last one wins, as in protobuf.
    let mut v = Value::String(String::new());
    while !r.done() {
        let (field, wire) = r.key()?;
        v = match (field, wire) {
            (1, 2) => Value::String(r.string()?),
            (2, 5) => Value::Float(f64::from(f32::from_le_bytes(r.fixed::<4>()?))),
            (3, 1) => Value::Float(f64::from_le_bytes(r.fixed::<8>()?)),
            (4, 0) => Value::Int(r.varint()? as i64),
            (5, 0) => Value::Uint(r.varint()?),
            (6, 0) => Value::Int(zigzag(r.varint()?)),
            (7, 0) => Value::Bool(r.varint()? != 0),
            (_, w) => {
                r.skip(w)?;
                continue;
            }
        };
    }
    Ok(v)
}

fn zigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

impl TileLayer {
    /// A feature's attributes as (key, value) pairs; tags pointing past the tables are skipped.
    pub fn properties<'a>(&'a self, f: &'a TileFeature) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        f.tags
            .chunks_exact(2)
            .filter_map(|kv| Some((self.keys.get(kv[0] as usize)?.as_str(), self.values.get(kv[1] as usize)?)))
    }

    /// One attribute of a feature.
    pub fn property<'a>(&'a self, f: &'a TileFeature, key: &str) -> Option<&'a Value> {
        self.properties(f).find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// A feature's geometry, with a message naming this layer and the feature when its commands
    /// are broken.
    pub fn geometry(&self, index: usize) -> Result<TileGeometry, GeometryError> {
        let err = |message: String| GeometryError { layer: self.name.clone(), index, message };
        let f = self.features.get(index).ok_or_else(|| err("no such feature".into()))?;
        geometry(f).map_err(err)
    }
}

/// Interprets a feature's command stream (MoveTo, LineTo, ClosePath with zigzag deltas).
pub fn geometry(f: &TileFeature) -> Result<TileGeometry, String> {
    let mut parts: Vec<Vec<[i32; 2]>> = Vec::new();
    let (mut x, mut y) = (0i32, 0i32);
    let mut it = f.commands.iter().copied();
    while let Some(c) = it.next() {
        let (id, count) = (c & 7, c >> 3);
        match id {
            1 | 2 => {
                if id == 2 && parts.is_empty() {
                    return Err("LineTo before any MoveTo".into());
                }
                for _ in 0..count {
                    let (Some(dx), Some(dy)) = (it.next(), it.next()) else {
                        return Err("command stream ends inside a coordinate".into());
                    };
                    x = x.wrapping_add(zigzag(u64::from(dx)) as i32);
                    y = y.wrapping_add(zigzag(u64::from(dy)) as i32);
                    if id == 1 {
                        parts.push(vec![[x, y]]);
                    } else if let Some(p) = parts.last_mut() {
                        p.push([x, y]);
                    }
                }
            }
            7 => {
                let Some(p) = parts.last_mut() else { return Err("ClosePath before any MoveTo".into()) };
                if let Some(&first) = p.first() {
                    p.push(first);
                }
            }
            other => return Err(format!("unknown command {other}")),
        }
    }
    Ok(match f.kind {
        GeomKind::Point => TileGeometry::Points(parts.into_iter().flatten().collect()),
        GeomKind::LineString => TileGeometry::Lines(parts.into_iter().filter(|p| p.len() >= 2).collect()),
        GeomKind::Polygon => TileGeometry::Polygons(group_rings(parts)),
        GeomKind::Unknown => return Err("geometry type unknown".into()),
    })
}

/// Twice the signed area by the surveyor's formula in tile coordinates (y down), which the spec
/// uses to tell exterior rings (positive) from holes (negative).
pub fn ring_area2(ring: &[[i32; 2]]) -> i64 {
    ring.windows(2).map(|w| i64::from(w[0][0]) * i64::from(w[1][1]) - i64::from(w[1][0]) * i64::from(w[0][1])).sum()
}

/// Rings into polygons: each exterior ring starts a polygon, holes follow it. Degenerate rings
/// are dropped; holes before any exterior ring (a malformed tile) are dropped too. Version 1
/// tiles did not fix a winding, so when no ring is positive every ring is taken as an exterior.
fn group_rings(rings: Vec<Vec<[i32; 2]>>) -> Vec<Vec<Vec<[i32; 2]>>> {
    let rings: Vec<(i64, Vec<[i32; 2]>)> =
        rings.into_iter().filter(|r| r.len() >= 4).map(|r| (ring_area2(&r), r)).filter(|(a, _)| *a != 0).collect();
    let flip = !rings.iter().any(|(a, _)| *a > 0);
    let mut polys: Vec<Vec<Vec<[i32; 2]>>> = Vec::new();
    for (a, r) in rings {
        if a > 0 || flip {
            polys.push(vec![r]);
        } else if let Some(p) = polys.last_mut() {
            p.push(r);
        }
    }
    polys
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal protobuf writer for hand-made test tiles.
    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    fn field_bytes(field: u64, b: &[u8], out: &mut Vec<u8>) {
        varint(field << 3 | 2, out);
        varint(b.len() as u64, out);
        out.extend_from_slice(b);
    }
    fn zz(v: i32) -> u32 {
        ((v << 1) ^ (v >> 31)) as u32
    }
    fn packed(v: &[u32]) -> Vec<u8> {
        let mut o = vec![];
        for &x in v {
            varint(u64::from(x), &mut o);
        }
        o
    }

    /// The spec's example polygon with a hole, and a point with a sint attribute.
    fn sample() -> Vec<u8> {
        // Exterior (0,0)-(10,0)-(10,10)-(0,10) clockwise on screen (positive area), hole inside
        // counter-clockwise.
        let cmds = [
            9,
            zz(0),
            zz(0),
            3 << 3 | 2,
            zz(10),
            zz(0),
            zz(0),
            zz(10),
            zz(-10),
            zz(0),
            15,
            9,
            zz(2),
            zz(-8),
            3 << 3 | 2,
            zz(0),
            zz(6),
            zz(6),
            zz(0),
            zz(0),
            zz(-6),
            15,
        ];
        let mut poly = vec![];
        varint(1 << 3, &mut poly);
        varint(7, &mut poly);
        field_bytes(2, &packed(&[0, 0, 1, 1]), &mut poly);
        varint(3 << 3, &mut poly);
        varint(3, &mut poly);
        field_bytes(4, &packed(&cmds), &mut poly);
        let mut pt = vec![];
        varint(3 << 3, &mut pt);
        varint(1, &mut pt);
        field_bytes(2, &packed(&[0, 2]), &mut pt);
        field_bytes(4, &packed(&[9, zz(5), zz(6)]), &mut pt);
        let mut layer = vec![];
        varint(15 << 3, &mut layer);
        varint(2, &mut layer);
        field_bytes(1, "地塊".as_bytes(), &mut layer);
        field_bytes(2, &poly, &mut layer);
        field_bytes(2, &pt, &mut layer);
        field_bytes(3, b"name", &mut layer);
        field_bytes(3, b"n", &mut layer);
        let mut v0 = vec![];
        field_bytes(1, "金倉湖".as_bytes(), &mut v0);
        field_bytes(4, &v0, &mut layer);
        let mut v1 = vec![];
        varint(6 << 3, &mut v1);
        varint(u64::from(zz(-3)), &mut v1);
        field_bytes(4, &v1, &mut layer);
        let mut v2 = vec![];
        varint(3 << 3 | 1, &mut v2);
        v2.extend_from_slice(&2.5f64.to_le_bytes());
        field_bytes(4, &v2, &mut layer);
        varint(5 << 3, &mut layer);
        varint(4096, &mut layer);
        let mut tile = vec![];
        field_bytes(3, &layer, &mut tile);
        tile
    }

    #[test]
    fn decodes_layers_attributes_and_geometry() {
        let t = decode(&sample()).unwrap();
        let l = &t.layers[0];
        assert_eq!((l.name.as_str(), l.extent, l.features.len()), ("地塊", 4096, 2));
        let f = &l.features[0];
        assert_eq!((f.id, f.kind), (Some(7), GeomKind::Polygon));
        assert_eq!(l.property(f, "name"), Some(&Value::String("金倉湖".into())));
        assert_eq!(l.property(f, "n"), Some(&Value::Int(-3)));
        let TileGeometry::Polygons(p) = l.geometry(0).unwrap() else { panic!() };
        assert_eq!(p.len(), 1, "one polygon with its hole");
        assert_eq!(p[0][0], vec![[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]);
        assert_eq!(p[0][1][0], [2, 2]);
        assert!(ring_area2(&p[0][0]) > 0 && ring_area2(&p[0][1]) < 0);
        assert_eq!(l.geometry(1).unwrap(), TileGeometry::Points(vec![[5, 6]]));
        assert_eq!(l.properties(&l.features[1]).next(), Some(("name", &Value::Float(2.5))));
    }

    #[test]
    fn every_truncation_is_an_error_or_a_smaller_tile_never_a_panic() {
        let b = sample();
        for n in 0..b.len() {
            let _ = decode(&b[..n]);
        }
        assert!(matches!(decode(&b[..b.len() - 3]), Err(MvtError::Malformed { .. })));
        // A group wire type (deprecated, never in tiles) is refused with its byte.
        assert_eq!(decode(&[0x0b]), Err(MvtError::WireType { wire: 3, at: 1 }));
    }

    #[test]
    fn broken_commands_are_the_features_error() {
        let f = TileFeature { id: None, kind: GeomKind::LineString, tags: vec![], commands: vec![2 << 3 | 2, 1, 1] };
        assert!(geometry(&f).unwrap_err().contains("LineTo before"));
        let f = TileFeature { commands: vec![9, 1], ..f };
        assert!(geometry(&f).unwrap_err().contains("ends inside"));
        let f = TileFeature { commands: vec![9 | 4 << 3, 0, 0], kind: GeomKind::Point, ..f };
        assert!(geometry(&f).is_err(), "four points announced, none given");
    }
}
