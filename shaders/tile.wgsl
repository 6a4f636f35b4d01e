// Basemap tiles: the tile image with the basemap's opacity, an optional muted look (grey and
// lightened, so thematic colours stand out) and a short fade-in as each tile arrives.
#import bevy_sprite::{
    mesh2d_vertex_output::VertexOutput,
    mesh2d_view_bindings::globals,
}

struct TileMaterial {
    // x: opacity 0..1, y: muted 0/1, z: arrival time on the globals clock, w: fade seconds
    params: vec4<f32>,
};

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> material: TileMaterial;
@group(#{MATERIAL_BIND_GROUP}) @binding(1) var tile: texture_2d<f32>;
@group(#{MATERIAL_BIND_GROUP}) @binding(2) var tile_sampler: sampler;

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    let c = textureSample(tile, tile_sampler, in.uv);
    let grey = dot(c.rgb, vec3<f32>(0.2126, 0.7152, 0.0722));
    let muted = mix(vec3<f32>(grey), vec3<f32>(1.0), 0.35);
    let rgb = mix(c.rgb, muted, material.params.y);
    var fade = 1.0;
    let since = globals.time - material.params.z;
    // The clock wraps hourly; a negative age means it wrapped, long after any fade ended.
    if material.params.w > 0.0 && since >= 0.0 {
        fade = clamp(since / material.params.w, 0.0, 1.0);
    }
    return vec4<f32>(rgb, c.a * material.params.x * fade);
}
