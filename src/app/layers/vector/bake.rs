//! Settled vector tiles drawn once into a texture, then shown as one textured square.
//!
//! A tile of a city's parcels is tens of thousands of polygons. Drawing them every frame is what
//! made panning over them cost half as much again as the atlas alone on a CPU rasteriser; a
//! texture costs what a raster basemap tile costs. So once a tile is on screen at a scale that
//! holds still, an off-screen camera draws its meshes (and only its meshes: they alone are on
//! [`BAKE_LAYER`] that frame) into an image of the tile's size in pixels, and from then on the
//! square with that image stands in for them. The image holds premultiplied colour (what blending
//! onto a transparent target gives), composited with premultiplied blending, so it looks as the
//! meshes did. While zooming, or after a style change, the meshes draw again until the tile is
//! baked anew at the new scale.
//!
//! A tile's meshes on screen cost a frame about as much as baking them does, so the sooner a
//! tile is baked the fewer slow frames it makes. Tiles bake the frame after they appear, several
//! a frame up to [`BAKE_PX_PER_FRAME`] (all at once while the view holds still), and their square
//! shows the next frame. A bake is then judged by its own frame, as a screenshot is
//! (`render_ready`): drawn while a pipeline was missing, its image may be empty, so it is
//! dropped and the tile baked again. No bake starts while the renderer lacks a pipeline, and the
//! squares' own pipeline is asked for once the first frame is whole ([`prewarm`]), so that
//! happens only when something else compiles mid-bake. A `--screenshot` run bakes nothing.

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::camera::RenderTarget;
use bevy::camera::visibility::RenderLayers;
use bevy::math::DVec2;
use bevy::mesh::MeshVertexBufferLayoutRef;
use bevy::prelude::*;
use bevy::render::render_resource::{
    AsBindGroup, BlendState, RenderPipelineDescriptor, ShaderType, SpecializedMeshPipelineError, TextureFormat,
};
use bevy::shader::ShaderRef;
use bevy::sprite_render::{AlphaMode2d, Material2d, Material2dKey};

use crate::tiles::TileId;

/// The basemap's tile shader (`shaders/tile.wgsl`: image times opacity), registered under this
/// plugin's own handle so the two plugins stay apart.
const BAKED_SHADER: Handle<Shader> = uuid_handle!("6f0c2a8e-93d4-4b7a-a1c5-2d8e4f60b917");

/// Registers the shader the baked squares draw with.
pub fn register_shader(app: &mut App) {
    let shader = Shader::from_wgsl(include_str!("../../../../shaders/tile.wgsl"), "shaders/tile.wgsl");
    if let Some(mut shaders) = app.world_mut().get_resource_mut::<Assets<Shader>>()
        && let Err(e) = shaders.insert(BAKED_SHADER.id(), shader)
    {
        error!("cannot register the baked tile shader: {e}");
    }
}

/// `shaders/tile.wgsl`'s uniform: x opacity, y muted, z arrival time, w fade seconds.
#[derive(ShaderType, Clone, Copy, Debug, Default)]
pub struct BakedUniform {
    pub params: Vec4,
}

/// The render layer a tile's meshes join for the frames it is being baked.
pub const BAKE_LAYER: usize = 31;
/// Tiles larger than this on screen (pixels a side) are drawn as meshes: far over-zoomed, a
/// texture would cost more memory than the meshes save.
const MAX_BAKE_PX: f64 = 1024.0;
/// Tiles smaller than this are not worth a camera.
const MIN_BAKE_PX: f64 = 32.0;
/// Pixels baked in one frame: two zoom-13 tiles at 10 m/px. All nine tiles of a view at once
/// make one frame of twice the usual cost, three (a row panning brings in) one of 1.5 times and
/// over 100 ms here; one a frame left the view's meshes on screen for nine frames.
pub const BAKE_PX_PER_FRAME: u64 = 400_000;

/// A tile's baked image, if any.
#[derive(Default)]
pub struct Bake {
    state: State,
}

#[derive(Default)]
enum State {
    #[default]
    None,
    Baking {
        camera: Entity,
        quad: Entity,
        scale: f64,
        epoch: u64,
        /// The frame whose render draws the image.
        seq: u32,
    },
    Ready {
        quad: Entity,
        scale: f64,
        epoch: u64,
        /// The bake's frame, until the renderer has said it drew it whole.
        unjudged: Option<u32>,
    },
}

impl Bake {
    /// Whether the baked square shows this tile at `scale` with the styles of `epoch`.
    pub fn covers(&self, scale: f64, epoch: u64) -> bool {
        matches!(self.state, State::Ready { scale: s, epoch: e, .. } if same_scale(s, scale) && e == epoch)
    }

    /// The square, shown instead of the meshes when [`Bake::covers`].
    pub fn quad(&self) -> Option<Entity> {
        match self.state {
            State::Baking { quad, .. } | State::Ready { quad, .. } => Some(quad),
            State::None => None,
        }
    }

    /// Forgets the image (the tile's meshes changed or it left the cache): its entities go to
    /// `despawn`, and the image with its last handle.
    pub fn reset(&mut self, despawn: &mut Vec<Entity>) {
        match std::mem::take(&mut self.state) {
            State::Baking { camera, quad, .. } => despawn.extend([camera, quad]),
            State::Ready { quad, .. } => despawn.push(quad),
            State::None => {}
        }
    }
}

/// Scales that draw the same pixels (the view's scale is exact once a zoom settles).
pub fn same_scale(a: f64, b: f64) -> bool {
    ((a - b) / b).abs() < 1e-3
}

/// Whether a tile centred at `tile` (local metres), `extent_m` wide, touches the view centred
/// at `view` with half-size `half` (metres).
pub fn in_view(tile: DVec2, extent_m: f64, view: DVec2, half: DVec2) -> bool {
    let d = (tile - view).abs();
    d.x < half.x + extent_m * 0.5 && d.y < half.y + extent_m * 0.5
}

/// Whether a tile centred at `tile` (local metres), `extent_m` wide, lies in the ring one tile
/// wide around the view (centred at `view`, `half` its half-size in metres) without touching the
/// view: where panning brings tiles from next. Held tiles there are baked ahead, so a tile
/// enters the view as its square rather than as meshes.
pub fn in_margin(tile: DVec2, extent_m: f64, view: DVec2, half: DVec2) -> bool {
    in_view(tile, extent_m * 3.0, view, half) && !in_view(tile, extent_m, view, half)
}

/// The side in pixels of a tile `extent_m` wide baked at `scale` m/px, when worth baking.
pub fn bake_px(extent_m: f64, scale: f64) -> Option<u32> {
    let px = (extent_m / scale).round();
    (MIN_BAKE_PX..=MAX_BAKE_PX).contains(&px).then_some(px as u32)
}

/// The tile shader over a baked image, with premultiplied blending.
#[derive(Asset, TypePath, AsBindGroup, Clone, Debug)]
pub struct BakedMaterial {
    #[uniform(0)]
    pub u: BakedUniform,
    #[texture(1)]
    #[sampler(2)]
    pub image: Handle<Image>,
}

impl Material2d for BakedMaterial {
    fn fragment_shader() -> ShaderRef {
        ShaderRef::Handle(BAKED_SHADER)
    }
    fn alpha_mode(&self) -> AlphaMode2d {
        AlphaMode2d::Blend
    }
    fn specialize(
        descriptor: &mut RenderPipelineDescriptor,
        _layout: &MeshVertexBufferLayoutRef,
        _key: Material2dKey<Self>,
    ) -> Result<(), SpecializedMeshPipelineError> {
        // The image's colour is already multiplied by its alpha.
        if let Some(target) = descriptor.fragment.as_mut().and_then(|f| f.targets.first_mut()).and_then(Option::as_mut)
        {
            target.blend = Some(BlendState::PREMULTIPLIED_ALPHA_BLENDING);
        }
        Ok(())
    }
}

/// Whether settled tiles are baked: `PORT_ATLAS_NO_BAKE` set in the environment draws them as
/// meshes always, to measure the difference.
#[derive(Resource)]
pub struct BakeTiles {
    pub enabled: bool,
    /// The square drawn to have its pipeline compiled (see [`prewarm`]), until a bake is judged.
    pub prewarm: Option<Entity>,
    /// A bake was judged whole: the squares' pipeline exists.
    pub proven: bool,
}

/// Pixels that may start baking this frame: none while the renderer lacks a pipeline (a bake
/// then could come out empty), before the map's viewport is known, or while zooming (each step
/// would bake tiles for a scale shown a moment); else [`BAKE_PX_PER_FRAME`].
pub fn budget(pipelines_ready: bool, viewport_known: bool, zooming: bool) -> u64 {
    if pipelines_ready && viewport_known && !zooming { BAKE_PX_PER_FRAME } else { 0 }
}

/// Which tiles bake first, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Urgency {
    /// Uploaded and in the view but not yet drawn: baked before it is ever drawn as meshes
    /// (it shows as its square a frame later), so arriving tiles cost one drawing, not three.
    Arrived,
    /// Drawn on screen as meshes (while the renderer compiled, after a zoom or a restyle).
    OnScreen,
    /// Held, in the ring panning brings in next.
    Ahead,
}

/// A square of the squares' material, drawn invisibly (a transparent 1-pixel image, a square a
/// millimetre wide, never culled) so its pipeline compiles before the first bake: compiled only
/// when the first square showed, it left that tile blank for two frames.
pub fn prewarm(commands: &mut Commands, assets: BakeAssets) -> Entity {
    let image = Image::new_fill(
        bevy::render::render_resource::Extent3d { width: 1, height: 1, depth_or_array_layers: 1 },
        bevy::render::render_resource::TextureDimension::D2,
        &[0, 0, 0, 0],
        TextureFormat::Bgra8UnormSrgb,
        RenderAssetUsages::RENDER_WORLD,
    );
    let image = assets.images.add(image);
    commands
        .spawn((
            Mesh2d(assets.meshes.add(Rectangle::new(0.001, 0.001))),
            MeshMaterial2d(assets.materials.add(BakedMaterial { u: BakedUniform { params: Vec4::X }, image })),
            bevy::camera::visibility::NoFrustumCulling,
            Transform::default(),
        ))
        .id()
}

/// The off-screen cameras, found by this marker.
#[derive(Component)]
pub struct BakeCamera;

/// A baked tile's square.
#[derive(Component)]
pub struct BakedQuad;

/// Where and how large a tile is in the app's local metres, for its camera and square.
pub struct TileFrame {
    pub center: Vec2,
    pub extent_m: f64,
}

impl TileFrame {
    pub fn of(tile: TileId, frame: &crate::proj::LocalFrame) -> Self {
        let (mx, my, size) = tile.mercator_nw();
        let (x, y) = frame.from_mercator(mx + size / 2.0, my - size / 2.0);
        TileFrame { center: Vec2::new(x as f32, y as f32), extent_m: size }
    }
}

/// One tile to bake: where, at which scale, with which styles, at which depth.
pub struct BakeJob {
    pub tile: TileFrame,
    pub scale: f64,
    pub epoch: u64,
    pub z: f32,
    /// This frame's number (`render_ready::FrameSeq`), to judge the bake by.
    pub seq: u32,
    /// The meshes stay on screen while baking (they were shown already: hiding them for the
    /// bake's frame would blink the tile); else only the baking camera draws them.
    pub on_screen_meanwhile: bool,
}

/// What a bake needs from the world.
pub struct BakeAssets<'a> {
    pub images: &'a mut Assets<Image>,
    pub meshes: &'a mut Assets<Mesh>,
    pub materials: &'a mut Assets<BakedMaterial>,
}

impl Bake {
    /// Starts baking `meshes` (the tile's mesh entities) at `scale`: an image of the tile's size,
    /// a camera drawing [`BAKE_LAYER`] into it, the meshes put on that layer (and left on the
    /// map's, or taken off it) and a hidden square at depth `z`. Returns false when the tile is not worth baking at this scale.
    pub fn start(
        &mut self,
        commands: &mut Commands,
        assets: BakeAssets,
        job: BakeJob,
        meshes: &[Entity],
        despawn: &mut Vec<Entity>,
    ) -> bool {
        let BakeJob { tile: tf, scale, epoch, z, seq, on_screen_meanwhile } = job;
        let Some(px) = bake_px(tf.extent_m, scale) else { return false };
        self.reset(despawn);
        // The window's own format, so the map's pipelines serve the off-screen camera too.
        let mut image = Image::new_target_texture(px, px, TextureFormat::Bgra8UnormSrgb, None);
        image.asset_usage = RenderAssetUsages::RENDER_WORLD;
        image.data = None;
        image.copy_on_resize = false;
        // One texel per screen pixel: nearest keeps the parcels' 1 px gaps crisp, where linear
        // filtering at a half-pixel offset blurred them.
        image.sampler = bevy::image::ImageSampler::nearest();
        let image = assets.images.add(image);
        let camera = commands
            .spawn((
                BakeCamera,
                Camera2d,
                Camera { order: -10, clear_color: ClearColorConfig::Custom(Color::NONE), ..default() },
                RenderTarget::Image(image.clone().into()),
                Msaa::Off,
                Projection::Orthographic(OrthographicProjection {
                    scale: (tf.extent_m / px as f64) as f32,
                    ..OrthographicProjection::default_2d()
                }),
                Transform::from_xyz(tf.center.x, tf.center.y, 0.0),
                RenderLayers::layer(BAKE_LAYER),
            ))
            .id();
        let layers = if on_screen_meanwhile {
            RenderLayers::from_layers(&[0, BAKE_LAYER])
        } else {
            RenderLayers::layer(BAKE_LAYER)
        };
        for &e in meshes {
            commands.entity(e).insert(layers.clone());
        }
        let side = tf.extent_m as f32;
        let quad = commands
            .spawn((
                BakedQuad,
                Mesh2d(assets.meshes.add(Rectangle::new(side, side))),
                MeshMaterial2d(assets.materials.add(BakedMaterial { u: BakedUniform { params: Vec4::X }, image })),
                Transform::from_xyz(tf.center.x, tf.center.y, z),
                Visibility::Hidden,
            ))
            .id();
        self.state = State::Baking { camera, quad, scale, epoch, seq };
        true
    }

    /// The frame after a bake started: its image was drawn (the off-screen camera renders before
    /// the map's), so the camera goes, the meshes leave the bake layer and the square shows.
    pub fn advance(&mut self, commands: &mut Commands, meshes: &[Entity]) {
        if let State::Baking { camera, quad, scale, epoch, seq } = self.state {
            commands.entity(camera).despawn();
            for &e in meshes {
                commands.entity(e).remove::<RenderLayers>();
            }
            self.state = State::Ready { quad, scale, epoch, unjudged: Some(seq) };
        }
    }

    /// Judges a finished bake by its frame once the renderer has drawn it: `drawn` says whether
    /// that frame had every pipeline (`None`: not known yet). An image drawn without one is
    /// dropped, so the tile's meshes show and it is baked again. Returns the verdict given.
    pub fn judge(&mut self, drawn: impl FnOnce(u32) -> Option<bool>, despawn: &mut Vec<Entity>) -> Option<bool> {
        let State::Ready { unjudged: Some(seq), .. } = self.state else { return None };
        let whole = drawn(seq)?;
        if whole {
            if let State::Ready { unjudged, .. } = &mut self.state {
                *unjudged = None;
            }
        } else {
            self.reset(despawn);
        }
        Some(whole)
    }

    /// Whether a bake is under way.
    pub fn in_progress(&self) -> bool {
        matches!(self.state, State::Baking { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_bake_only_at_sizes_worth_a_texture() {
        // A zoom-13 tile (4.9 km of Mercator) at 10 m/px is 489 px.
        assert_eq!(bake_px(4891.97, 10.0), Some(489));
        assert_eq!(bake_px(4891.97, 2.0), None, "2,446 px: over-zoomed, drawn as meshes");
        assert_eq!(bake_px(4891.97, 500.0), None, "10 px: not worth a camera");
        assert!(same_scale(10.0, 10.000_1) && !same_scale(10.0, 10.5));
        let mut b = Bake::default();
        assert!(!b.covers(10.0, 0) && b.quad().is_none());
        b.state = State::Ready { quad: Entity::PLACEHOLDER, scale: 10.0, epoch: 3, unjudged: None };
        assert!(b.covers(10.0, 3));
        assert!(!b.covers(12.0, 3), "zoomed: the meshes draw until baked again");
        assert!(!b.covers(10.0, 4), "restyled: likewise");
        let mut gone = Vec::new();
        b.reset(&mut gone);
        assert_eq!(gone, [Entity::PLACEHOLDER]);
        assert!(!b.covers(10.0, 3));
    }

    #[test]
    fn a_bake_is_judged_by_its_own_frame() {
        let quad = Entity::PLACEHOLDER;
        let mut b = Bake { state: State::Ready { quad, scale: 10.0, epoch: 0, unjudged: Some(7) } };
        let mut gone = Vec::new();
        assert_eq!(b.judge(|_| None, &mut gone), None, "frame 7 not drawn yet: the square stays");
        assert!(b.covers(10.0, 0) && gone.is_empty());
        assert_eq!(b.judge(|s| Some(s == 7), &mut gone), Some(true));
        assert_eq!(b.judge(|_| Some(false), &mut gone), None, "judged once");
        assert!(b.covers(10.0, 0));
        // Drawn while a pipeline was missing: the image may be empty, so the meshes come back.
        let mut b = Bake { state: State::Ready { quad, scale: 10.0, epoch: 0, unjudged: Some(8) } };
        assert_eq!(b.judge(|_| Some(false), &mut gone), Some(false));
        assert!(!b.covers(10.0, 0) && gone == [quad]);
    }

    #[test]
    fn nothing_bakes_while_a_pipeline_compiles_the_viewport_is_unknown_or_the_map_zooms() {
        assert_eq!(budget(true, true, false), BAKE_PX_PER_FRAME);
        assert_eq!(budget(false, true, false), 0, "an image drawn now could come out empty");
        assert_eq!(budget(true, false, false), 0);
        assert_eq!(budget(true, true, true), 0, "a scale shown for a moment");
    }

    #[test]
    fn arriving_tiles_bake_before_those_drawn_and_those_ahead() {
        assert!(Urgency::Arrived < Urgency::OnScreen && Urgency::OnScreen < Urgency::Ahead);
        let (view, half) = (DVec2::ZERO, DVec2::new(800.0, 500.0));
        assert!(in_view(DVec2::new(1000.0, 0.0), 401.0, view, half), "its left edge is on screen");
        assert!(!in_view(DVec2::new(1000.0, 0.0), 399.0, view, half), "just beyond the right edge");
    }

    #[test]
    fn the_ring_around_the_view_is_baked_ahead() {
        let (view, half) = (DVec2::ZERO, DVec2::new(800.0, 500.0));
        // A 400 m tile whose nearest edge is 100 m right of the view: next to come in.
        assert!(in_margin(DVec2::new(1100.0, 0.0), 400.0, view, half));
        assert!(in_margin(DVec2::new(-1100.0, 650.0), 400.0, view, half), "diagonally too");
        assert!(!in_margin(DVec2::new(700.0, 0.0), 400.0, view, half), "on screen: baked as it is");
        assert!(!in_margin(DVec2::new(1500.0, 0.0), 400.0, view, half), "two tiles out");
    }
}
