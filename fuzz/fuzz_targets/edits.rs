//! Any bytes as a planner's saved edits (`edits.geojson`): reading never panics, and every
//! feature it keeps is one an edit could have made (valid, with a layer), whose vertices the
//! editor can move, insert and delete without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use port_atlas::edit::shape::{Shape, VertexPath};
use port_atlas::edit::store::parse;
use port_atlas::edit::validate::validate;

fuzz_target!(|data: &[u8]| {
    let Ok((edits, _)) = parse(std::path::Path::new("edits.geojson"), data) else { return };
    for e in edits {
        let mut shape = Shape::from_geometry(&e.feature.geometry).expect("kept features are editable");
        assert_eq!(validate(&shape), Ok(()));
        let at = VertexPath::new(0, 0, 0);
        let _ = shape.insert_vertex(at, [121.0, 31.0]);
        let _ = shape.delete_vertex(at);
        let _ = shape.move_vertex(VertexPath::new(0, 0, usize::MAX), [0.0, 0.0]);
        let _ = validate(&shape);
        let _ = shape.to_geometry();
    }
});
