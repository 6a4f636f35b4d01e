//! The tile material (`shaders/tile.wgsl`): opacity, the muted look and the fade-in.

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::image::{ImageSampler, ImageSamplerDescriptor};
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, Extent3d, ShaderType, TextureDimension, TextureFormat};
use bevy::shader::ShaderRef;
use bevy::sprite_render::{AlphaMode2d, Material2d};

use crate::tiles::fetch::TileImage;

const TILE_SHADER: Handle<Shader> = uuid_handle!("b3d4e5f6-1a2b-4c3d-8e9f-0a1b2c3d4e5f");

/// See `shaders/tile.wgsl`.
#[derive(ShaderType, Clone, Copy, Debug, Default)]
pub struct TileUniform {
    /// x: opacity, y: muted 0/1, z: arrival time (shader globals clock), w: fade seconds.
    pub params: Vec4,
}

#[derive(Asset, TypePath, AsBindGroup, Clone, Debug)]
pub struct TileMaterial {
    #[uniform(0)]
    pub u: TileUniform,
    #[texture(1)]
    #[sampler(2)]
    pub image: Handle<Image>,
    /// The image has no transparent pixels.
    pub opaque_image: bool,
}

impl Material2d for TileMaterial {
    fn fragment_shader() -> ShaderRef {
        ShaderRef::Handle(TILE_SHADER)
    }
    fn alpha_mode(&self) -> AlphaMode2d {
        // A settled, fully opaque tile skips blending: on a CPU rasteriser a screenful of
        // blended tiles costs several milliseconds a frame.
        if self.opaque_image && self.u.params.x >= 0.999 && self.u.params.w == 0.0 {
            AlphaMode2d::Opaque
        } else {
            AlphaMode2d::Blend
        }
    }
}

/// Registers the tile shader under its fixed handle (compiled into the binary).
pub fn register_shader(app: &mut App) {
    let shader = Shader::from_wgsl(include_str!("../../../shaders/tile.wgsl"), "shaders/tile.wgsl");
    if let Err(e) = app.world_mut().resource_mut::<Assets<Shader>>().insert(TILE_SHADER.id(), shader) {
        error!("cannot register the tile shader: {e}");
    }
}

/// A decoded tile as a texture.
pub fn tile_image(t: TileImage) -> Image {
    let mut img = Image::new(
        Extent3d { width: t.width, height: t.height, depth_or_array_layers: 1 },
        TextureDimension::D2,
        t.rgba,
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::RENDER_WORLD,
    );
    // Linear filtering: tiles are drawn between 0.7x and 1.4x their size between zoom levels.
    img.sampler = ImageSampler::Descriptor(ImageSamplerDescriptor::linear());
    img
}
