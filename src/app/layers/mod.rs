//! Layers on the map: files read and layers tessellated on worker threads, one mesh per layer
//! style handed to the renderer (large layers as an overview plus detail tiles built and uploaded
//! near the view), visibility and opacity from the layer records, and the overlays on top.
//!
//! `material` is the shader and styles, `build` turns features into meshes, `reading` reads
//! files and URLs, `linking` runs re-links off the frame, `overlays` draws hover, selection and
//! the presenter's veil.

pub mod build;
pub mod documents;
pub mod linking;
pub mod material;
pub mod overlays;
pub mod reading;
pub mod vector;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy::sprite_render::Material2dPlugin;
use bevy::window::PrimaryWindow;

use self::build::{Built, Lod, TessOutput, coarse_fill, is_large, mesh_bounds, tessellate_features, tessellate_tiles};
use self::material::{LayerPart, MapMaterial};
pub use self::reading::{ReadOutcome, Reading, start_read};
use super::state::{
    AtlasCommand, AtlasRes, DocumentReading, LayerId, LayerView, OpenQuestions, Problems, Readiness, Selection,
};
use super::view::{MapSet, MapView, z};
use crate::geodata::{Categorized, Feature};
use crate::proj::LocalFrame;

struct Pending {
    layer: usize,
    /// A plain thread rather than Bevy's async pool: that pool has a single thread on a 2-core
    /// machine, which would queue the quick overview behind the slow detail.
    task: std::thread::JoinHandle<Built>,
    done: Arc<AtomicUsize>,
    total: usize,
}

/// Layers still being read or tessellated, for the progress bar.
#[derive(Resource, Default)]
pub struct Tessellation {
    pending: Vec<Pending>,
    pub loading: Vec<Reading>,
    /// Large layers whose detail meshes have not been asked for yet.
    needs_detail: Vec<usize>,
    /// Large layers whose detail meshes exist.
    detail_done: Vec<usize>,
    /// Detail tiles near the view are still being handed to the renderer.
    pub realizing: bool,
    /// Places to focus once the files being read are in (a `--view` into a `--layer`).
    pub focus_after_load: Vec<String>,
    /// The view was given explicitly (`--view LON,LAT`): loading layers must not move it.
    pub keep_view: bool,
    /// Layers whose style changed in a way that needs new meshes (a categorized colouring).
    restyle: Vec<usize>,
    /// Which places the mentioned-places layer drew last (see [`sync_mentioned`]).
    mentioned: Option<u64>,
    /// Layers whose new meshes arrived this frame: their stale parts go (see [`drop_stale`]).
    replaced: Vec<usize>,
}

impl Tessellation {
    /// Nothing left to read, tessellate or upload for the current view.
    pub fn settled(&self) -> bool {
        self.progress().is_none() && !self.realizing && self.focus_after_load.is_empty()
    }

    /// Files and URLs still being read.
    pub fn loading(&self) -> impl Iterator<Item = &Reading> {
        self.loading.iter()
    }

    /// (features done, features total) over all pending layers.
    pub fn progress(&self) -> Option<(usize, usize)> {
        if self.pending.is_empty() {
            return if self.loading.is_empty() { None } else { Some((0, 1)) };
        }
        let done = self.pending.iter().map(|p| p.done.load(Ordering::Relaxed)).sum();
        let total = self.pending.iter().map(|p| p.total).sum();
        Some((done, total))
    }
}

/// A detail mesh not yet given to the renderer (see [`realize_deferred`]), with the bounds of
/// its vertices in local metres.
#[derive(Component)]
pub struct Deferred(Option<(Mesh, MapMaterial)>, bevy::math::Rect);

/// The assets a layer's meshes go into.
#[derive(SystemParam)]
pub struct MeshAssets<'w> {
    meshes: ResMut<'w, Assets<Mesh>>,
    materials: ResMut<'w, Assets<MapMaterial>>,
}

/// Detail tiles handed to the renderer per frame: each is a GPU upload, and a few per frame keep
/// the frame time flat while the user zooms in.
const REALIZE_PER_FRAME: usize = 2;

/// Hands deferred detail tiles to the renderer when the view is in their band and near them,
/// nearest first and a few per frame.
fn realize_deferred(
    mut commands: Commands,
    map: Res<MapView>,
    view: Res<LayerView>,
    mut deferred: Query<(Entity, &mut Deferred, &LayerPart, &Lod)>,
    mut assets: MeshAssets,
    mut tess: ResMut<Tessellation>,
) {
    let half = map.viewport.size() * 0.5 * map.scale as f32 * 1.5;
    let c = Vec2::new(map.center.x as f32, map.center.y as f32);
    let near = bevy::math::Rect { min: c - half, max: c + half };
    let mut wanted: Vec<(f32, Entity)> = deferred
        .iter()
        .filter(|(_, d, _, lod)| lod.shows_at(map.scale) && d.0.is_some() && !d.1.intersect(near).is_empty())
        .map(|(e, d, _, _)| (d.1.center().distance_squared(c), e))
        .collect();
    wanted.sort_by(|a, b| a.0.total_cmp(&b.0));
    tess.realizing = wanted.len() > REALIZE_PER_FRAME;
    for (_, e) in wanted.into_iter().take(REALIZE_PER_FRAME) {
        let Ok((e, mut d, part, _)) = deferred.get_mut(e) else { continue };
        let Some((mesh, material)) = d.0.take() else { continue };
        let visible = view.is_visible(LayerId(part.layer));
        commands.entity(e).remove::<Deferred>().insert((
            Mesh2d(assets.meshes.add(mesh)),
            MeshMaterial2d(assets.materials.add(material)),
            if visible { Visibility::Inherited } else { Visibility::Hidden },
        ));
    }
}

pub struct LayersPlugin;

impl Plugin for LayersPlugin {
    fn build(&self, app: &mut App) {
        material::register_shader(app);
        app.add_plugins(Material2dPlugin::<MapMaterial>::default())
            .init_resource::<Tessellation>()
            .init_resource::<linking::Linking>()
            .add_systems(Startup, (start_all, overlays::spawn_veil, linking::defer))
            .add_systems(
                Update,
                (
                    handle_commands,
                    documents::finish,
                    dropped_files,
                    finish_loads,
                    linking::run,
                    restyle_layers,
                    request_detail,
                    poll_tasks,
                    drop_stale,
                    realize_deferred,
                    sync_styles,
                    overlays::update_overlays,
                    overlays::sync_veil,
                    pixel_ratio,
                    report_readiness,
                )
                    .chain()
                    .in_set(MapSet::Content),
            );
    }
}

fn spawn_task(tess: &mut Tessellation, res: &AtlasRes, layer: usize) {
    let features = Arc::new(res.atlas.layers[layer].features.clone());
    let frame = res.frame;
    let large = is_large(&features);
    if large {
        // The overview first: a few thousand triangles, on screen in a moment.
        let f = features.clone();
        let task = std::thread::spawn(move || overview(&f, &frame));
        take_overview(tess, layer, task);
        return;
    }
    let style = res.atlas.layers[layer].meta.categorized.clone();
    spawn_detail(tess, layer, features, frame, false, style);
}

/// A large layer's overview mesh: polygons aggregated on a coarse grid.
fn overview(features: &[Feature], frame: &LocalFrame) -> Built {
    let out = TessOutput { coarse: Some(coarse_fill(features, frame)), ..TessOutput::empty() };
    Built::new(out, true)
}

/// The overview of a layer just read, built on the thread that read it (the app's local frame
/// is fixed, so it needs nothing from the world): copying 100,000 features to another thread
/// was the larger part of the frame that added the layer. `None` for a layer drawn whole.
pub fn overview_off_frame(layer: &crate::geodata::Layer) -> Option<Built> {
    is_large(&layer.features).then(|| overview(&layer.features, &LocalFrame::default()))
}

/// Takes a large layer's overview (being built, or built) and leaves its detail for when the
/// view first zooms into its band (see `request_detail`), so panning the overview never
/// competes with a background build.
fn take_overview(tess: &mut Tessellation, layer: usize, task: std::thread::JoinHandle<Built>) {
    tess.pending.push(Pending { layer, task, done: Arc::new(AtomicUsize::new(0)), total: 0 });
    tess.needs_detail.push(layer);
}

fn spawn_detail(
    tess: &mut Tessellation,
    layer: usize,
    features: Arc<Vec<Feature>>,
    frame: LocalFrame,
    large: bool,
    style: Option<Categorized>,
) {
    let done = Arc::new(AtomicUsize::new(0));
    let d2 = done.clone();
    let total = features.len();
    let task = std::thread::spawn(move || {
        let t = std::time::Instant::now();
        let built = if large {
            let tiles = tessellate_tiles(&features, &frame, &d2, style.as_ref());
            let mut built = Built { meshes: Vec::new(), errors: Vec::new() };
            for tile in tiles {
                let b = Built::new(tile, true);
                built.meshes.extend(b.meshes);
                built.errors.extend(b.errors);
            }
            built
        } else {
            Built::new(tessellate_features(&features, &frame, &d2, false, style.as_ref()), false)
        };
        debug!("tessellated {} features in {:.2} s", features.len(), t.elapsed().as_secs_f64());
        built
    });
    tess.pending.push(Pending { layer, task, done, total });
}

/// Starts building the detail meshes of large layers once the view zooms into the detail band.
fn request_detail(mut tess: ResMut<Tessellation>, res: Res<AtlasRes>, map: Res<MapView>) {
    if tess.needs_detail.is_empty() || !Lod::Detail.shows_at(map.target_scale.min(map.scale)) {
        return;
    }
    for layer in std::mem::take(&mut tess.needs_detail) {
        if let Some(l) = res.atlas.layers.get(layer) {
            spawn_detail(&mut tess, layer, Arc::new(l.features.clone()), res.frame, true, l.meta.categorized.clone());
        }
    }
}

fn start_all(mut tess: ResMut<Tessellation>, res: Res<AtlasRes>) {
    for i in 0..res.atlas.layers.len() {
        spawn_task(&mut tess, &res, i);
    }
    tess.mentioned = mentioned_layer(&res).map(|(_, fp)| fp);
}

/// The mentioned-places layer's index and a fingerprint of the places it draws.
fn mentioned_layer(res: &AtlasRes) -> Option<(usize, u64)> {
    use std::hash::{Hash, Hasher};
    let i = res.atlas.layers.iter().position(|l| l.id == crate::atlas::MENTIONED_LAYER)?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in &res.atlas.layers[i].features {
        f.id.hash(&mut h);
    }
    Some((i, h.finish()))
}

/// Keeps the mentioned-places layer's meshes in step with the documents: given a layer record
/// and meshes when it first appears, rebuilt when the places it draws change (a document
/// opened, a verdict given). Runs right after each change, so layer records stay in atlas order.
fn sync_mentioned(res: &mut AtlasRes, view: &mut LayerView, tess: &mut Tessellation) {
    let Some((i, fp)) = mentioned_layer(res) else { return };
    if tess.mentioned == Some(fp) && view.get(LayerId(i)).is_some() {
        return;
    }
    tess.mentioned = Some(fp);
    res.reindex();
    if view.get(LayerId(i)).is_none() {
        view.push(&res.atlas.layers[i].meta);
        spawn_task(tess, res, i);
    } else {
        tess.restyle.push(i);
    }
}

/// Loads files asked for by the CLI, the UI or drag-and-drop; failures go to the problems panel
/// and leave the atlas as it was.
/// Where opened layers go: files to the readers and tessellation, vector tile sources to their
/// plugin.
#[derive(SystemParam)]
pub struct LoadSinks<'w> {
    tess: ResMut<'w, Tessellation>,
    vector: Option<ResMut<'w, vector::VectorLayers>>,
}

pub fn handle_commands(
    mut cmds: MessageReader<AtlasCommand>,
    mut res: ResMut<AtlasRes>,
    sinks: LoadSinks,
    mut problems: ResMut<Problems>,
    mut selection: ResMut<Selection>,
    mut map: ResMut<MapView>,
    mut view: ResMut<LayerView>,
    mut reading: ResMut<DocumentReading>,
) {
    let LoadSinks { mut tess, mut vector } = sinks;
    for cmd in cmds.read() {
        match cmd {
            // A vector tile source typed in the toolbar, dropped or picked in the open dialog
            // (a .pmtiles or .mbtiles file, a Martin or TileJSON URL, an XYZ template).
            AtlasCommand::LoadLayer(path) => {
                match (crate::tiles::vector::VectorSpec::recognise(&path.to_string_lossy()), vector.as_deref_mut()) {
                    (Some(spec), Some(vl)) => vl.pending.push(vector::OpenVector::new(spec)),
                    _ => tess.loading.push(start_read(path.clone(), Default::default())),
                }
            }
            AtlasCommand::OpenLayer(path, options) => {
                tess.loading.push(start_read(path.clone(), (**options).clone()));
            }
            AtlasCommand::NameField(layer, field) => {
                res.atlas.set_name_field(layer.0, field.as_deref());
                res.reindex();
                sync_mentioned(&mut res, &mut view, &mut tess);
            }
            AtlasCommand::Verdict { name, place, confirm } => {
                match res.atlas.record_verdict(name, place, *confirm) {
                    Ok(Some(file)) => info!("saved the verdict on {name} in {}", file.display()),
                    Ok(None) => info!("verdict on {name} kept for this session"),
                    Err(e) => problems.error("gazetteer.json", format!("cannot save the verdict on {name}: {e}")),
                }
                sync_mentioned(&mut res, &mut view, &mut tess);
            }
            AtlasCommand::FeaturesChanged { layer, names } => {
                if layer.0 >= res.atlas.layers.len() {
                    continue;
                }
                if *names {
                    res.atlas.names_changed();
                }
                res.reindex();
                if view.get(*layer).is_none() {
                    view.push(&res.atlas.layers[layer.0].meta);
                    spawn_task(&mut tess, &res, layer.0);
                } else {
                    tess.restyle.push(layer.0);
                }
            }
            AtlasCommand::StyleBy(layer, field) => {
                let Some(l) = res.atlas.layers.get_mut(layer.0) else { continue };
                l.meta.categorized = field.as_deref().map(|f| crate::geodata::Categorized::of(f, &l.features));
                tess.restyle.push(layer.0);
            }
            AtlasCommand::LoadDocument(path) => documents::start(&mut reading, &res, path.clone()),
            AtlasCommand::OpenView(link) => {
                let frame = res.frame;
                let unknown = crate::app::link::apply(link, &res.atlas, &frame, &mut map, &mut view, &mut selection);
                if !unknown.is_empty() {
                    problems.warning(
                        "view link",
                        format!("not in this atlas: {} (the rest of the view is shown)", unknown.join(", ")),
                    );
                }
            }
            AtlasCommand::DocumentDate(i, date) => {
                let name = res.atlas.documents.get(*i).map(|d| d.path.clone()).unwrap_or_default();
                match res.atlas.set_document_date(*i, *date) {
                    Ok(Some(file)) => info!("saved the date of {} in {}", name.display(), file.display()),
                    Ok(None) => {}
                    Err(e) => problems.error(&name, format!("cannot save the document's date: {e}")),
                }
            }
            AtlasCommand::FocusPlace(id) => match res.atlas.feature_of(id) {
                Some(r) => {
                    selection.selected = Some(r);
                    if let Some(b) = res.atlas.feature(r).and_then(Feature::bounds) {
                        let frame = res.frame;
                        map.fit_lonlat(&frame, b, 60.0);
                    }
                }
                None => match res.atlas.gazetteer.get(id).and_then(|p| p.bounds) {
                    Some(b) => {
                        let frame = res.frame;
                        map.fit_lonlat(&frame, b, 60.0);
                    }
                    // The place may be in a file still being read.
                    None if !tess.loading.is_empty() => tess.focus_after_load.push(id.clone()),
                    None => problems.error("--view", format!("{id:?}: no place with that id (see `port-atlas links`)")),
                },
            },
        }
    }
}

/// Adds layers whose files finished reading; errors go to the problems panel.
pub fn finish_loads(
    mut cmds: MessageWriter<AtlasCommand>,
    mut questions: ResMut<OpenQuestions>,
    mut res: ResMut<AtlasRes>,
    mut view: ResMut<LayerView>,
    mut tess: ResMut<Tessellation>,
    mut problems: ResMut<Problems>,
    mut map: ResMut<MapView>,
) {
    let mut done = Vec::new();
    let mut i = 0;
    while i < tess.loading.len() {
        if tess.loading[i].task.is_finished() {
            let reading = tess.loading.remove(i);
            let (path, cancelled) = (reading.path.clone(), reading.cancelled());
            let r = reading.task.join().unwrap_or_else(|_| {
                ReadOutcome::Failed(crate::diagnostic::Diagnostic::error(
                    &path,
                    crate::diagnostic::Position::File,
                    "the reader thread failed",
                ))
            });
            if cancelled {
                // The user's own choice, not a problem to report.
                info!("cancelled reading {}", path.display());
                continue;
            }
            done.push((path, r));
        } else {
            i += 1;
        }
    }
    for (path, r) in done {
        match r {
            ReadOutcome::Layers(opened, mut overviews) => {
                problems.extend(opened.diagnostics);
                let mut bounds = Vec::new();
                overviews.resize_with(opened.layers.len(), || None);
                for (layer, ready) in opened.layers.into_iter().zip(overviews) {
                    let t = std::time::Instant::now();
                    let i = res.atlas.add_layer(layer);
                    info!(
                        "added {} in {:.2} s of the frame (re-linking on a worker)",
                        path.display(),
                        t.elapsed().as_secs_f64()
                    );
                    let id = view.push(&res.atlas.layers[i].meta);
                    debug_assert_eq!(id, LayerId(i), "layer records follow the atlas");
                    res.reindex();
                    match ready.filter(|_| res.frame == LocalFrame::default()) {
                        Some(built) => take_overview(&mut tess, i, std::thread::spawn(move || built)),
                        None => spawn_task(&mut tess, &res, i),
                    }
                    sync_mentioned(&mut res, &mut view, &mut tess);
                    bounds.extend(res.atlas.layers[i].bounds());
                    info!("loaded layer {} ({} features)", res.atlas.layers[i].id, res.atlas.layers[i].features.len());
                }
                if let Some(b) = crate::geodata::union_bounds(bounds).filter(|_| !tess.keep_view) {
                    let frame = res.frame;
                    map.fit_lonlat(&frame, b, 40.0);
                }
            }
            ReadOutcome::Ask(q) => questions.0.push(*q),
            ReadOutcome::Failed(d) => problems.push(d),
        }
    }
    if tess.loading.is_empty() && !tess.focus_after_load.is_empty() {
        for id in std::mem::take(&mut tess.focus_after_load) {
            cmds.write(AtlasCommand::FocusPlace(id));
        }
    }
}

/// Whether a dropped or opened path is reports rather than a layer: a folder (of reports),
/// Word, PDF, HTML, text and Markdown, unless a text is a CSV-like table (a `.txt` with
/// coordinate columns is a layer).
pub fn is_document(path: &std::path::Path) -> bool {
    if path.is_dir() {
        return true;
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "txt" | "text" => {
            crate::formats::table::preview(path, &Default::default()).map_or(true, |p| p.columns.is_none())
        }
        _ if crate::text::extract::Format::from_path(path).is_some() => true,
        _ => false,
    }
}

fn dropped_files(mut drops: MessageReader<bevy::window::FileDragAndDrop>, mut cmds: MessageWriter<AtlasCommand>) {
    for d in drops.read() {
        if let bevy::window::FileDragAndDrop::DroppedFile { path_buf, .. } = d {
            if is_document(path_buf) {
                cmds.write(AtlasCommand::LoadDocument(path_buf.clone()));
            } else {
                cmds.write(AtlasCommand::LoadLayer(path_buf.clone()));
            }
        }
    }
}

pub fn poll_tasks(
    mut commands: Commands,
    mut tess: ResMut<Tessellation>,
    res: Res<AtlasRes>,
    mut view: ResMut<LayerView>,
    map: Res<MapView>,
    mut assets: MeshAssets,
    mut problems: ResMut<Problems>,
) {
    let mut finished = Vec::new();
    let mut i = 0;
    while i < tess.pending.len() {
        if tess.pending[i].task.is_finished() {
            let p = tess.pending.remove(i);
            match p.task.join() {
                Ok(out) => {
                    if out.meshes.iter().any(|m| m.2 == Lod::Detail) {
                        tess.detail_done.push(p.layer);
                    }
                    finished.push((p.layer, out))
                }
                Err(_) => problems.error(&res.atlas.layers[p.layer].path, "tessellation failed"),
            }
        } else {
            i += 1;
        }
    }
    tess.replaced.extend(finished.iter().map(|(layer, _)| *layer));
    for (layer, out) in finished {
        let meta = &res.atlas.layers[layer].meta;
        let path = &res.atlas.layers[layer].path;
        // Aggregated by `Problems`: a layer with thousands of bad rings is one line per kind.
        for e in &out.errors {
            problems.push(crate::diagnostic::Diagnostic::warning(path, crate::diagnostic::Position::File, e.clone()));
        }
        let Some(state) = view.get_mut(LayerId(layer)) else { continue };
        let (visible, opacity) = (state.visible, state.opacity);
        for (style, mesh, lod) in out.meshes {
            let shown = visible && lod.shows_at(map.scale);
            if lod == Lod::Detail {
                // Millions of vertices nobody sees yet: each tile goes to the GPU when the view
                // comes near it (`realize_deferred`).
                let bounds = mesh_bounds(&mesh);
                commands.spawn((
                    Deferred(Some((mesh, style.material(meta, opacity))), bounds),
                    Transform::from_xyz(0.0, 0.0, z::layer(layer, style.z())),
                    Visibility::Hidden,
                    LayerPart { layer, style },
                    lod,
                ));
                continue;
            }
            commands.spawn((
                Mesh2d(assets.meshes.add(mesh)),
                MeshMaterial2d(assets.materials.add(style.material(meta, opacity))),
                Transform::from_xyz(0.0, 0.0, z::layer(layer, style.z())),
                if shown { Visibility::Inherited } else { Visibility::Hidden },
                LayerPart { layer, style },
                lod,
            ));
        }
        if let Some(state) = view.get_mut(LayerId(layer)) {
            state.shown = true;
        }
    }
}

/// A layer part whose replacement is being built: drawn until the new meshes arrive, so an edit
/// or a new colouring never blanks the layer (see [`drop_stale`]).
#[derive(Component)]
pub struct Stale;

/// Rebuilds the meshes of layers whose categorized style or features changed: their parts are
/// replaced once the new ones arrive, and work under way for them is dropped so old colours or
/// shapes cannot arrive after the new ones.
fn restyle_layers(
    mut commands: Commands,
    mut tess: ResMut<Tessellation>,
    res: Res<AtlasRes>,
    parts: Query<(Entity, &LayerPart, Has<Deferred>)>,
) {
    if tess.restyle.is_empty() {
        return;
    }
    let layers = std::mem::take(&mut tess.restyle);
    for (e, part, deferred) in &parts {
        if layers.contains(&part.layer) {
            // Detail not yet on the GPU is not on screen either: nothing to keep.
            if deferred {
                commands.entity(e).despawn();
            } else {
                commands.entity(e).insert(Stale);
            }
        }
    }
    tess.pending.retain(|p| !layers.contains(&p.layer));
    tess.needs_detail.retain(|l| !layers.contains(l));
    tess.detail_done.retain(|l| !layers.contains(l));
    for layer in layers {
        if layer < res.atlas.layers.len() {
            spawn_task(&mut tess, &res, layer);
        }
    }
}

/// Removes the parts a rebuild replaced, now that the new ones are in.
fn drop_stale(mut commands: Commands, mut tess: ResMut<Tessellation>, stale: Query<(Entity, &LayerPart), With<Stale>>) {
    if tess.replaced.is_empty() {
        return;
    }
    let replaced = std::mem::take(&mut tess.replaced);
    for (e, part) in &stale {
        if replaced.contains(&part.layer) {
            commands.entity(e).despawn();
        }
    }
}

/// Tells screenshots and the benchmark what is still on its way.
fn report_readiness(
    tess: Res<Tessellation>,
    view: Res<LayerView>,
    reading: Res<DocumentReading>,
    res: Res<AtlasRes>,
    mut ready: ResMut<Readiness>,
) {
    let now = Readiness {
        layers_shown: tess.loading.is_empty() && view.all_shown(),
        // Documents still being read, and re-links still running, will add mentioned places:
        // not settled until they are in.
        layers_settled: tess.settled() && reading.jobs.is_empty() && !res.atlas.linking(),
        tessellation_idle: tess.progress().is_none(),
        ..*ready
    };
    if *ready != now {
        *ready = now;
    }
}

/// Applies visibility and opacity changes from the layer panel.
fn sync_styles(
    view: Res<LayerView>,
    res: Res<AtlasRes>,
    map: Res<MapView>,
    mut parts: Query<(&LayerPart, &Lod, &mut Visibility, &MeshMaterial2d<MapMaterial>)>,
    mut materials: ResMut<Assets<MapMaterial>>,
    tess: Res<Tessellation>,
    mut last: Local<Option<(bool, usize)>>,
) {
    let band = Lod::Overview.shows_at(map.scale);
    let state = (band, tess.detail_done.len());
    if !view.is_changed() && *last == Some(state) {
        return;
    }
    *last = Some(state);
    for (part, lod, mut vis, mat) in &mut parts {
        // The overview stays up until a large layer's detail exists: zooming in never blanks it.
        let in_band = lod.shows_at(map.scale) || (*lod == Lod::Overview && !tess.detail_done.contains(&part.layer));
        let state = view.get(LayerId(part.layer));
        let visible = state.is_none_or(|s| s.visible) && in_band;
        let target = if visible { Visibility::Inherited } else { Visibility::Hidden };
        if *vis != target {
            *vis = target;
        }
        let (Some(meta), Some(opacity)) = (res.atlas.layers.get(part.layer).map(|l| &l.meta), state.map(|s| s.opacity))
        else {
            continue;
        };
        if !view.is_changed() {
            continue;
        }
        let wanted = part.style.material(meta, opacity);
        if let Some(mut m) = materials.get_mut(&mat.0)
            && (m.u.color != wanted.u.color || m.u.palette != wanted.u.palette)
        {
            m.u.color = wanted.u.color;
            m.u.palette = wanted.u.palette;
        }
    }
}

/// Keeps stroke widths in logical pixels on HiDPI screens.
fn pixel_ratio(
    window: Single<&Window, With<PrimaryWindow>>,
    mut materials: ResMut<Assets<MapMaterial>>,
    mut last: Local<f32>,
) {
    let sf = window.scale_factor();
    if (sf - *last).abs() < 1e-3 {
        return;
    }
    *last = sf;
    for (_, m) in materials.iter_mut() {
        m.u.params.w = sf;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layers plugin alone: assets without a renderer, a window entity, no camera or UI.
    fn app() -> App {
        let mut app = crate::app::state::minimal_app();
        app.add_plugins(AssetPlugin::default());
        app.init_asset::<Shader>().init_asset::<Mesh>().add_message::<bevy::window::FileDragAndDrop>();
        app.insert_resource(MapView { viewport: bevy::math::Rect::new(0.0, 0.0, 1000.0, 800.0), ..default() })
            .add_plugins(LayersPlugin);
        app.world_mut().spawn((Window::default(), PrimaryWindow));
        app
    }

    fn run_until(app: &mut App, done: impl Fn(&App) -> bool) {
        for _ in 0..2000 {
            app.update();
            if done(app) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        panic!("not done in time");
    }

    #[test]
    fn every_layer_is_tessellated_off_thread_and_hidden_layers_hide() {
        let mut app = app();
        run_until(&mut app, |a| {
            a.world().resource::<Readiness>().layers_settled && a.world().resource::<Readiness>().layers_shown
        });
        let n = app.world().resource::<AtlasRes>().atlas.layers.len();
        let mut parts = app.world_mut().query::<(&LayerPart, &Visibility)>();
        let layers: std::collections::BTreeSet<usize> = parts.iter(app.world()).map(|(p, _)| p.layer).collect();
        assert_eq!(layers.len(), n, "a mesh for every layer");
        // Switching a layer off hides its meshes.
        app.world_mut().resource_mut::<LayerView>().get_mut(LayerId(1)).unwrap().visible = false;
        app.update();
        let mut parts = app.world_mut().query::<(&LayerPart, &Visibility)>();
        let hidden: Vec<usize> =
            parts.iter(app.world()).filter(|(_, v)| **v == Visibility::Hidden).map(|(p, _)| p.layer).collect();
        assert!(hidden.contains(&1) && parts.iter(app.world()).all(|(p, v)| p.layer != 1 || *v == Visibility::Hidden));
    }

    #[test]
    fn an_edited_layer_keeps_its_old_meshes_until_the_new_ones_arrive() {
        let mut app = app();
        run_until(&mut app, |a| a.world().resource::<Readiness>().layers_settled);
        let layer = 5;
        let count = |app: &mut App, stale: bool| {
            let mut q = app.world_mut().query::<(&LayerPart, Has<Stale>)>();
            q.iter(app.world()).filter(|(p, s)| p.layer == layer && *s == stale).count()
        };
        let before = count(&mut app, false);
        assert!(before > 0);
        app.world_mut().write_message(AtlasCommand::FeaturesChanged { layer: LayerId(layer), names: false });
        // The frame the rebuild starts: the old parts are still there, marked stale.
        app.update();
        let shown = count(&mut app, true) + count(&mut app, false);
        assert!(shown >= before, "the layer never blanks: {shown} parts of {before}");
        run_until(&mut app, |a| a.world().resource::<Readiness>().layers_settled);
        app.update();
        assert_eq!(count(&mut app, true), 0, "replaced once the new meshes arrived");
        assert_eq!(count(&mut app, false), before);
    }

    #[test]
    fn a_large_layer_without_atlas_attributes_loads_without_problems() {
        let dir = std::env::temp_dir().join(format!("port-atlas-layers-plugin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("parcels.geojson");
        // A planner's layer: `name` and a code, none of the atlas's own attributes.
        let mut layer = crate::synth::polygons(30_000, 8, 7);
        for (i, f) in layer.features.iter_mut().enumerate() {
            f.name_zh_hant.clear();
            f.name_zh_hans.clear();
            f.name_en.clear();
            f.kind.clear();
            f.source.clear();
            f.extra.insert("name".into(), format!("地块{i}").into());
        }
        std::fs::write(&path, layer.to_geojson_string()).unwrap();
        let mut app = app();
        let new = LayerId(app.world().resource::<AtlasRes>().atlas.layers.len());
        app.world_mut().write_message(AtlasCommand::LoadLayer(path));
        run_until(&mut app, |a| a.world().resource::<LayerView>().get(new).is_some_and(|l| l.shown));
        let problems = app.world().resource::<Problems>();
        assert!(problems.is_empty(), "{:?}", problems.list.iter().take(3).collect::<Vec<_>>());
        std::fs::remove_dir_all(&dir).ok();
    }
}
