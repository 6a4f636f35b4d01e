//! Vector tiles: Mapbox Vector Tiles from XYZ URLs and TileJSON endpoints (Martin,
//! pg_tileserv), PMTiles archives (local or by HTTP range requests) and MBTiles files.
//!
//! - `mvt`: the protobuf decoder (layers, attributes, geometry commands);
//! - `tilejson`, `mbtiles`: what those sources say about themselves;
//! - `source`: recognising a source from its name, opening it, reading one tile's bytes;
//! - `clip`, `build`: a tile's geometry clipped to the tile and tessellated around its corner;
//! - `worker`: the tile thread that does all of it off the app's frame.

pub mod build;
pub mod clip;
pub mod features;
pub mod mbtiles;
pub mod mvt;
pub mod source;
pub mod style;
pub mod tilejson;
pub mod worker;

#[cfg(test)]
mod tests;

pub use build::BuiltTile;
pub use source::{SourceInfo, SourceKind, VectorError, VectorSpec};
pub use worker::{SourceId, VectorEvent, VectorFetcher};
