//! port-atlas: a desktop atlas of Suzhou's port development, linking map places to the passages
//! of a report.
//!
//! The pure core (no Bevy) is in folders by concern, each depending only on those above it:
//!
//! - [`diagnostic`]: problems with file, position and severity, aggregated.
//! - [`spatial`]: projections, features and layers, the spatial index, tessellation, the recipes
//!   that build the atlas's geodata, alignment checks and synthetic layers.
//! - [`formats`]: reading the files planners have (Shapefile, GeoPackage, KML, CSV/XLSX) in
//!   their coordinate systems and text encodings.
//! - [`text`]: the gazetteer and matcher, documents and their passages, presentation stories.
//! - [`net`]: the one HTTP client, and remote layers.
//! - [`tiles`]: XYZ tile maths, sources, the disk cache, tile meshes, and the fetch thread.
//! - [`export`]: GeoJSON, GeoPackage and QGIS projects.
//! - [`edit`]: the planner's corrections and new features: undo, validation, snapping, provenance.
//! - [`atlas`]: everything loaded together; [`settings`]: what the app remembers.
//!
//! The `app` module is the Bevy/egui layer on top and compiles only with the `app` feature.
//! The most used modules are re-exported here under their own names (`port_atlas::proj`, ...),
//! so call sites stay short.

pub mod atlas;
pub mod diagnostic;
pub mod edit;
pub mod export;
pub mod formats;
pub mod net;
pub mod settings;
pub mod spatial;
pub mod text;
pub mod tiles;
pub mod viewlink;

pub use export::qgis;
pub use net::{http, remote};
pub use spatial::{align, geodata, index, proj, recipe, synth, tess};
pub use text::{document, gazetteer, story};

#[cfg(feature = "app")]
pub mod app;
