// Map layers: world-space fills and screen-width strokes and symbols, with hatching for
// schematic features and an animated pulse for the selection.
#import bevy_sprite::{
    mesh2d_functions as mesh_functions,
    mesh2d_view_bindings::{view, globals},
}
#ifdef SRGB_OUTPUT
#import bevy_render::color_operations::linear_to_srgb
#endif

struct MapMaterial {
    color: vec4<f32>,
    // x: stroke width in logical pixels (0 for world-space fills)
    // y: 1 = schematic (hatched fill, dashed line)
    // z: 1 = animated selection pulse
    // w: logical-to-physical pixel ratio
    params: vec4<f32>,
    // A categorized layer's colours by class; palette[0].a = 1 turns them on.
    palette: array<vec4<f32>, 16>,
};

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> material: MapMaterial;

struct Vertex {
    @builtin(instance_index) instance_index: u32,
    @location(0) position: vec3<f32>,
    // Unit extrusion direction for strokes and symbols; zero for fills.
    @location(1) normal: vec3<f32>,
    // x: distance along the line in local metres.
    @location(2) uv: vec2<f32>,
};

struct VertexOutput {
    @builtin(position) position: vec4<f32>,
    @location(0) along_px: f32,
    // The feature's class in a categorized style (0: the layer's colour).
    @location(1) @interpolate(flat) category: u32,
};

@vertex
fn vertex(v: Vertex) -> VertexOutput {
    var out: VertexOutput;
    let world_from_local = mesh_functions::get_world_from_local(v.instance_index);
    var world = mesh_functions::mesh2d_position_local_to_world(world_from_local, vec4<f32>(v.position, 1.0));
    // World units per physical pixel, from the orthographic projection and the viewport width.
    let world_per_px = 2.0 / (view.clip_from_world[0][0] * view.viewport.z);
    let ratio = max(material.params.w, 1.0);
    let half_width = 0.5 * material.params.x * ratio * world_per_px;
    world = vec4<f32>(world.xy + v.normal.xy * half_width, world.z, 1.0);
    out.position = mesh_functions::mesh2d_position_world_to_clip(world);
    out.along_px = v.uv.x / (world_per_px * ratio);
    out.category = u32(clamp(v.uv.y + 0.5, 0.0, 15.0));
    return out;
}

fn finish(c: vec4<f32>) -> vec4<f32> {
#ifdef SRGB_OUTPUT
    return vec4<f32>(linear_to_srgb(c.rgb), c.a);
#else
    return c;
#endif
}

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    var c = material.color;
    if material.palette[0].a > 0.5 && in.category > 0u {
        c = vec4<f32>(material.palette[in.category].rgb, c.a);
    }
    let ratio = max(material.params.w, 1.0);
    if material.params.y > 0.5 {
        if material.params.x > 0.0 {
            // Schematic line: 10 px dashes, 6 px gaps.
            if fract(in.along_px / 16.0) > 0.62 {
                discard;
            }
        } else {
            // Schematic area: diagonal hatching in screen space, so a planned outline never
            // reads as a surveyed fill.
            let d = (in.position.x + in.position.y) / ratio;
            let stripe = fract(d / 9.0);
            c = vec4<f32>(c.rgb, select(c.a * 0.22, min(1.0, c.a * 1.7), stripe < 0.33));
        }
    }
    if material.params.z > 0.5 {
        // Selection: a bright band that sweeps across the shape twice a second.
        let phase = globals.time * 3.0 - (in.position.x - in.position.y) / (ratio * 40.0);
        let pulse = 0.5 + 0.5 * sin(phase);
        c = vec4<f32>(mix(c.rgb, vec3<f32>(1.0, 0.95, 0.35), 0.55 * pulse), c.a * (0.65 + 0.35 * pulse));
    }
    return finish(c);
}
