//! Geometry in f64 lon/lat: projections and the local frame, features and layers, the spatial
//! index, tessellation to local metres, and the recipes that build the atlas's geodata.

pub mod align;
pub mod crs;
pub mod geodata;
pub mod geojson;
pub mod index;
pub mod measure;
pub mod proj;
pub mod recipe;
pub mod synth;
pub mod tess;
