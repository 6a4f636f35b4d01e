//! The Bevy/egui desktop app: one plugin per concern on top of the pure core.
//!
//! Shared modules (`state`, `view`, `png`, `labels`) import no plugin. Plugins import only
//! those, except `panels`, which shows sections of the presenter, basemap and layers plugins;
//! nothing imports `panels`. This module assembles them. ARCHITECTURE.md draws the tree.

pub mod labels;
pub mod link;
pub mod png;
pub mod state;
pub mod tile_plan;
pub mod view;

pub mod basemap;
pub mod bench;
pub mod camera;
pub mod edit;
pub mod fonts;
pub mod layers;
pub mod panels;
pub mod picking;
pub mod presenter;
pub mod render_ready;
pub mod screenshot;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::process::ExitCode;

use bevy::prelude::*;
use bevy::window::{PresentMode, WindowResolution};
use bevy_egui::EguiPlugin;

use crate::atlas::Atlas;
use crate::proj::LocalFrame;
pub use state::{AtlasCommand, AtlasRes, Lang, insert_core_state};

/// Command-line options that shape the app.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    pub extra_layers: Vec<PathBuf>,
    /// Folders of reports to read once the app runs (see [`layers::documents`]).
    pub document_folders: Vec<PathBuf>,
    pub screenshot: Option<PathBuf>,
    pub view: Option<String>,
    pub size: Option<(u32, u32)>,
    pub lang: Lang,
    /// Pan for this many seconds once loaded, print frame statistics, exit.
    pub pan_benchmark: Option<f32>,
    /// Metres per pixel to pan at in the benchmark.
    pub pan_scale: Option<f64>,
    /// When the process started, for load-time measurements.
    pub started: Option<std::time::Instant>,
    /// Start in presenter mode.
    pub present: bool,
    /// With `present`: the 1-based step to open at.
    pub step: Option<usize>,
    /// Pixel density: 2 renders every logical pixel as 2x2 (slides, screenshots for print).
    pub scale_factor: f32,
    /// Raster basemap to start with (none: the vector basemap alone).
    pub basemap: Option<crate::tiles::TileSource>,
    /// Tile cache folder (default: the platform cache folder).
    pub cache_dir: Option<PathBuf>,
    /// Vector tile sources from `layers.json` and `--layer` (TileJSON, PMTiles, MBTiles, XYZ).
    pub vector_layers: Vec<layers::vector::OpenVector>,
    /// A colleague's view (`--open LINK`): centre, scale, layers, selection.
    pub open: Option<crate::viewlink::ViewLink>,
    /// Start in editing mode (`--edit`).
    pub edit: bool,
}

/// `LON,LAT` or `LON,LAT,METRES_PER_PX` for `--view`, as opposed to a place id.
pub fn parse_view_coords(v: &str) -> Option<(f64, f64, Option<f64>)> {
    let parts: Vec<f64> = v.split(',').map(|p| p.trim().parse::<f64>()).collect::<Result<_, _>>().ok()?;
    match parts.as_slice() {
        [lon, lat] if lon.abs() <= 180.0 && lat.abs() <= 85.0 => Some((*lon, *lat, None)),
        [lon, lat, s] if lon.abs() <= 180.0 && lat.abs() <= 85.0 && *s > 0.0 => Some((*lon, *lat, Some(*s))),
        _ => None,
    }
}

/// The renderer's device settings. A 2D map has no use for GPU occlusion culling, yet where the
/// device offers it Bevy compiles four depth-downsampling compute pipelines at start-up; on a CPU
/// renderer (lavapipe) they compete with the map's own pipelines for the first complete frame.
/// Only GPU preprocessing reads `INDIRECT_FIRST_INSTANCE`, so leaving it out turns culling off
/// and nothing else.
fn render_settings() -> bevy::render::settings::WgpuSettings {
    bevy::render::settings::WgpuSettings {
        disabled_features: Some(bevy::render::settings::WgpuFeatures::INDIRECT_FIRST_INSTANCE),
        ..default()
    }
}

/// Runs the desktop app until the window closes (or the screenshot is written).
///
/// `atlas` waits for the atlas, which the caller loads on another thread: reading the data,
/// linking the documents and building the word segmenter take about as long as Bevy's own
/// start (event loop, renderer, egui), so the two overlap and the first frame comes sooner.
/// A load that fails stops the app before its window opens.
pub fn run(atlas: impl FnOnce() -> anyhow::Result<Atlas>, opts: AppOptions) -> anyhow::Result<ExitCode> {
    // Layer files from the command line start reading now, while the window and renderer start.
    let reads: Vec<_> = opts.extra_layers.iter().map(|p| layers::start_read(p.clone(), Default::default())).collect();
    // Tile sources too: their headers and directories arrive while the window opens.
    let mut vector = layers::vector::VectorLayers::default();
    vector.open_early(&opts.vector_layers);
    let (w, h) = opts.size.unwrap_or((1440, 900));
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                // The editor closes windows itself, asking first when edits are unsaved.
                close_when_requested: false,
                primary_window: Some(Window {
                    title: "port-atlas: Suzhou port development and Taicang".into(),
                    resolution: {
                        let f = opts.scale_factor.clamp(1.0, 4.0);
                        WindowResolution::new((w as f32 * f) as u32, (h as f32 * f) as u32)
                            .with_scale_factor_override(f)
                    },
                    present_mode: PresentMode::AutoVsync,
                    ..default()
                }),
                ..default()
            })
            .set(bevy::render::RenderPlugin {
                render_creation: bevy::render::settings::RenderCreation::Automatic(Box::new(render_settings())),
                ..default()
            })
            .set(bevy::log::LogPlugin { filter: "wgpu=error,naga=warn,bevy_render=warn".into(), ..default() }),
    )
    .add_plugins(EguiPlugin::default())
    .insert_resource(ClearColor(Color::srgb_u8(0xe4, 0xe9, 0xee)));
    let atlas = atlas()?;
    // Sources saved in layers.json, with their looks, under the command line's.
    let saved_vector = layers::vector::OpenVector::saved(&atlas);
    insert_core_state(&mut app, atlas, opts.lang);
    app.insert_resource(vector);
    app.add_plugins((
        camera::CameraPlugin,
        layers::LayersPlugin,
        picking::PickingPlugin,
        panels::PanelsPlugin,
        fonts::FontsPlugin,
        presenter::PresenterPlugin {
            start: opts.present.then_some(opts.step.unwrap_or(1)),
            fullscreen: opts.screenshot.is_none(),
        },
        basemap::BasemapPlugin {
            initial: opts.basemap.clone(),
            cache_dir: opts.cache_dir.clone(),
            interactive: (opts.screenshot.is_none() && opts.pan_benchmark.is_none())
                .then(crate::settings::Settings::default_path)
                .flatten(),
        },
        layers::vector::VectorPlugin { saved: saved_vector, bake: opts.screenshot.is_none() },
        edit::EditPlugin,
        render_ready::RenderReadyPlugin,
    ));
    if opts.edit {
        app.world_mut().resource_mut::<NextState<state::AppMode>>().set(state::AppMode::Edit);
    }
    app.world_mut().resource_mut::<layers::Tessellation>().loading.extend(reads);
    for dir in &opts.document_folders {
        app.world_mut().write_message(AtlasCommand::LoadDocument(dir.clone()));
    }
    // The first view: a colleague's link, the requested place, or the whole atlas.
    if let Some(link) = &opts.open {
        let world = app.world_mut();
        let frame = world.resource::<AtlasRes>().frame;
        world.resource_mut::<layers::Tessellation>().keep_view = true;
        let unknown = world.resource_scope(|world, res: Mut<AtlasRes>| {
            world.resource_scope(|world, mut map: Mut<view::MapView>| {
                world.resource_scope(|world, mut lv: Mut<state::LayerView>| {
                    let mut sel = world.resource_mut::<state::Selection>();
                    link::apply(link, &res.atlas, &frame, &mut map, &mut lv, &mut sel)
                })
            })
        });
        if !unknown.is_empty() {
            app.world_mut().resource_mut::<state::Problems>().warning(
                "view link",
                format!("not in this atlas: {} (the rest of the view is shown)", unknown.join(", ")),
            );
        }
    }
    match opts.view.as_deref().filter(|_| opts.open.is_none()).map(|v| (v, parse_view_coords(v))) {
        Some((_, Some((lon, lat, scale)))) => {
            let (x, y) = LocalFrame::default().project(lon, lat);
            let mut map = app.world_mut().resource_mut::<view::MapView>();
            map.center = bevy::math::DVec2::new(x, y);
            map.target_center = map.center;
            map.scale = scale.unwrap_or(10.0).clamp(view::MIN_SCALE, view::MAX_SCALE);
            map.target_scale = map.scale;
            app.world_mut().resource_mut::<layers::Tessellation>().keep_view = true;
        }
        Some((id, None)) => {
            app.world_mut().write_message(AtlasCommand::FocusPlace(id.to_string()));
        }
        None if opts.open.is_none() => {
            app.world_mut().write_message(view::ZoomToAll);
        }
        None => {}
    }
    let shot = opts.screenshot.clone();
    if let Some(path) = shot {
        app.add_plugins(screenshot::ScreenshotPlugin {
            path,
            started: opts.started.unwrap_or_else(std::time::Instant::now),
        });
    }
    if let Some(seconds) = opts.pan_benchmark {
        let started = opts.started.unwrap_or_else(std::time::Instant::now);
        app.add_plugins(bench::PanBenchmarkPlugin { seconds, started, scale: opts.pan_scale });
    }
    let exit = app.run();
    Ok(match exit {
        AppExit::Success => ExitCode::SUCCESS,
        AppExit::Error(code) => ExitCode::from(code.get()),
    })
}
