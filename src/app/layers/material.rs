//! The map material: one shader (`shaders/map.wgsl`) for every vector mesh, configured per layer
//! style (fill, outline, line, point marker), with hatching, dashes and the selection pulse.

use bevy::asset::uuid_handle;
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, ShaderType};
use bevy::shader::ShaderRef;
use bevy::sprite_render::{AlphaMode2d, Material2d};

use crate::geodata::{Categorized, LayerMeta, parse_hex_color};

pub const MAP_SHADER: Handle<Shader> = uuid_handle!("6a8f3c2e-7d41-4b8a-9e55-0c1f2a3b4d5e");

/// Uniforms of [`MapMaterial`]; see `shaders/map.wgsl` for what each parameter does.
#[derive(ShaderType, Clone, Copy, Debug, Default)]
pub struct MapUniform {
    pub color: Vec4,
    pub params: Vec4,
    /// A categorized layer's colours by class (the vertex's second texture coordinate); entry
    /// 0's alpha says whether to use them at all.
    pub palette: [Vec4; PALETTE_SIZE],
}

/// Class colours a material holds: [`Categorized::MAX_CLASSES`], "other", and the flag slot.
pub const PALETTE_SIZE: usize = 16;

/// The one material every map mesh uses, configured per layer style.
#[derive(Asset, TypePath, AsBindGroup, Clone, Debug)]
pub struct MapMaterial {
    #[uniform(0)]
    pub u: MapUniform,
}

impl MapMaterial {
    pub fn new(color: Color, alpha: f32, width_px: f32, schematic: bool, pulse: bool) -> Self {
        let c = color.to_linear();
        MapMaterial {
            u: MapUniform {
                color: Vec4::new(c.red, c.green, c.blue, alpha),
                params: Vec4::new(width_px, schematic as u8 as f32, pulse as u8 as f32, 1.0),
                palette: [Vec4::ZERO; PALETTE_SIZE],
            },
        }
    }
}

impl Material2d for MapMaterial {
    fn vertex_shader() -> ShaderRef {
        ShaderRef::Handle(MAP_SHADER)
    }
    fn fragment_shader() -> ShaderRef {
        ShaderRef::Handle(MAP_SHADER)
    }
    fn alpha_mode(&self) -> AlphaMode2d {
        // (A palette changes colours, not opacity: the opaque path holds for it too.)
        // Fully opaque, unhatched fills skip blending: on a CPU rasteriser (lavapipe) overdraw
        // of blended full-screen layers is what limits the frame rate.
        if self.u.color.w >= 0.999 && self.u.params.x == 0.0 && self.u.params.y == 0.0 && self.u.params.z == 0.0 {
            AlphaMode2d::Opaque
        } else {
            AlphaMode2d::Blend
        }
    }
}

/// Which part of a layer a mesh draws; each has its own material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Fill { schematic: bool },
    Outline { schematic: bool },
    Line { schematic: bool },
    PointHalo,
    Point { schematic: bool },
    PointHole,
}

impl Style {
    pub fn z(self) -> f32 {
        match self {
            Style::Fill { .. } => 0.0,
            Style::Outline { .. } => 1.0,
            Style::Line { .. } => 2.0,
            Style::PointHalo => 3.0,
            Style::Point { .. } => 4.0,
            Style::PointHole => 5.0,
        }
    }

    /// Colour, opacity and width of this style for a layer.
    pub fn material(self, meta: &LayerMeta, opacity: f32) -> MapMaterial {
        let [r, g, b] = meta.rgb();
        let [sr, sg, sb] = meta.stroke_rgb();
        let fill = Color::srgb_u8(r, g, b);
        let stroke = Color::srgb_u8(sr, sg, sb);
        let w = meta.line_width;
        let mut m = self.base_material(meta, opacity, fill, stroke, w);
        if let (Some(c), Style::Fill { .. } | Style::Line { .. } | Style::Point { .. }) = (&meta.categorized, self) {
            m.u.palette = palette(c);
        }
        m
    }

    fn base_material(self, _meta: &LayerMeta, opacity: f32, fill: Color, stroke: Color, w: f32) -> MapMaterial {
        match self {
            Style::Fill { schematic } => MapMaterial::new(fill, opacity, 0.0, schematic, false),
            Style::Outline { schematic } => MapMaterial::new(stroke, opacity.clamp(0.35, 1.0), w, schematic, false),
            Style::Line { schematic } => MapMaterial::new(fill, (opacity * 2.0).min(1.0), w, schematic, false),
            Style::PointHalo => MapMaterial::new(Color::WHITE, opacity.max(0.3), 16.0, false, false),
            Style::Point { .. } => MapMaterial::new(fill, (opacity * 1.5).min(1.0), 12.0, false, false),
            Style::PointHole => MapMaterial::new(Color::WHITE, (opacity * 1.5).min(1.0), 5.0, false, false),
        }
    }
}

/// The shader's palette for a categorized style: slot 0 flags it, 1..=n the classes, then
/// "other" (which [`Categorized::class_of`] gives as n + 1).
pub fn palette(c: &Categorized) -> [Vec4; PALETTE_SIZE] {
    let mut p = [Vec4::ZERO; PALETTE_SIZE];
    p[0] = Vec4::new(0.0, 0.0, 0.0, 1.0);
    let colours = c.classes.iter().map(|(_, col)| col.as_str()).chain([c.other.as_str()]);
    for (slot, hex) in p.iter_mut().skip(1).zip(colours) {
        let [r, g, b] = parse_hex_color(hex).unwrap_or([128, 128, 128]);
        let l = Color::srgb_u8(r, g, b).to_linear();
        *slot = Vec4::new(l.red, l.green, l.blue, 1.0);
    }
    p
}

/// Marks an entity as drawing part of layer `layer`.
#[derive(Component, Debug, Clone, Copy)]
pub struct LayerPart {
    pub layer: usize,
    pub style: Style,
}

/// Registers the map shader under its fixed handle (compiled into the binary, so no asset
/// server is needed).
pub fn register_shader(app: &mut App) {
    let shader = Shader::from_wgsl(include_str!("../../../shaders/map.wgsl"), "shaders/map.wgsl");
    if let Err(e) = app.world_mut().resource_mut::<Assets<Shader>>().insert(MAP_SHADER.id(), shader) {
        error!("cannot register the map shader: {e}");
    }
}
