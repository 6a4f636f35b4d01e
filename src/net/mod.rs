//! The network: one HTTP client with checked downloads, and remote GeoJSON / OGC API layers.

pub mod http;
pub mod remote;
