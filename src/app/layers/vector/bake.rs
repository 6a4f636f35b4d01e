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
//! baked anew at the new scale; one tile is baked at a time.

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
/// Frames the baking camera renders before its image is shown: the first frame's render may
/// still be preparing the new image.
const BAKE_FRAMES: u8 = 2;
/// Bakes under way at once once warm: a new one starts every frame, so a row of tiles that
/// panning brings in leaves the (costlier) mesh drawing twice as fast.
pub const CONCURRENT_BAKES: usize = 2;
/// Frames a tile's meshes are drawn on screen before the run's first bake. Baked at once, the
/// first tile of a run came out empty: the pipelines were still compiling. Later tiles are
/// baked the frame after they are drawn.
pub const FIRST_SETTLE_FRAMES: u64 = 8;

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
        frames: u8,
    },
    Ready {
        quad: Entity,
        scale: f64,
        epoch: u64,
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

/// Whether a tile centred at `tile` (local metres), `extent_m` wide, lies in the ring one tile
/// wide around the view (centred at `view`, `half` its half-size in metres) without touching the
/// view: where panning brings tiles from next. Held tiles there are baked ahead, so a tile
/// enters the view as its square rather than as meshes.
pub fn in_margin(tile: DVec2, extent_m: f64, view: DVec2, half: DVec2) -> bool {
    let d = (tile - view).abs();
    let touches = |reach: f64| d.x < half.x + reach && d.y < half.y + reach;
    touches(extent_m * 1.5) && !touches(extent_m * 0.5)
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
    /// A bake finished this run: the pipelines are ready.
    pub warm: bool,
}

impl BakeTiles {
    /// Frames a tile is drawn as meshes before it may be baked.
    pub fn settle_frames(&self) -> u64 {
        if self.warm { 1 } else { FIRST_SETTLE_FRAMES }
    }
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
}

/// What a bake needs from the world.
pub struct BakeAssets<'a> {
    pub images: &'a mut Assets<Image>,
    pub meshes: &'a mut Assets<Mesh>,
    pub materials: &'a mut Assets<BakedMaterial>,
}

impl Bake {
    /// Starts baking `meshes` (the tile's visible mesh entities) at `scale`: an image of the
    /// tile's size, a camera drawing [`BAKE_LAYER`] into it, the meshes put on that layer and a
    /// hidden square at depth `z`. Returns false when the tile is not worth baking at this scale.
    pub fn start(
        &mut self,
        commands: &mut Commands,
        assets: BakeAssets,
        job: BakeJob,
        meshes: &[Entity],
        despawn: &mut Vec<Entity>,
    ) -> bool {
        let BakeJob { tile: tf, scale, epoch, z } = job;
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
        for &e in meshes {
            commands.entity(e).insert(RenderLayers::from_layers(&[0, BAKE_LAYER]));
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
        self.state = State::Baking { camera, quad, scale, epoch, frames: 0 };
        true
    }

    /// One more frame of baking; once done the camera goes and the meshes leave the bake layer.
    /// The run's first bake takes a frame longer.
    pub fn advance(&mut self, commands: &mut Commands, meshes: &[Entity], warm: bool) {
        if let State::Baking { camera, quad, scale, epoch, frames } = &mut self.state {
            *frames += 1;
            if *frames >= BAKE_FRAMES + u8::from(!warm) {
                commands.entity(*camera).despawn();
                for &e in meshes {
                    commands.entity(e).remove::<RenderLayers>();
                }
                self.state = State::Ready { quad: *quad, scale: *scale, epoch: *epoch };
            }
        }
    }

    /// Whether a bake is under way (one at a time over all sources).
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
        b.state = State::Ready { quad: Entity::PLACEHOLDER, scale: 10.0, epoch: 3 };
        assert!(b.covers(10.0, 3));
        assert!(!b.covers(12.0, 3), "zoomed: the meshes draw until baked again");
        assert!(!b.covers(10.0, 4), "restyled: likewise");
        let mut gone = Vec::new();
        b.reset(&mut gone);
        assert_eq!(gone, [Entity::PLACEHOLDER]);
        assert!(!b.covers(10.0, 3));
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
