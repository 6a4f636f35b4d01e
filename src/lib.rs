//! port-atlas: a desktop atlas of Suzhou's port development, linking map places to the passages
//! of a report. The modules below form the pure core (no Bevy); the `app` module is the Bevy/egui
//! layer on top and compiles only with the `app` feature.

pub mod align;
pub mod atlas;
pub mod basemap;
pub mod document;
pub mod export;
pub mod gazetteer;
pub mod geodata;
pub mod http;
pub mod index;
pub mod proj;
pub mod qgis;
pub mod recipe;
pub mod remote;
pub mod settings;
pub mod story;
pub mod synth;
pub mod tess;
pub mod tiles;

#[cfg(test)]
mod atlas_tests;

#[cfg(feature = "app")]
pub mod app;
