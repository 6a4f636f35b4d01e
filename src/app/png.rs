//! Writing captured frames (screenshots, presenter slides) as PNG files.

use std::path::Path;

/// Writes a captured frame as an RGB PNG (the window has no meaningful alpha).
pub fn save_png(image: &bevy::image::Image, path: &Path) -> Result<(), String> {
    let img = image.clone().try_into_dynamic().map_err(|e| e.to_string())?;
    img.to_rgb8().save(path).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use bevy::asset::RenderAssetUsages;
    use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};

    #[test]
    fn a_frame_is_written_and_reads_back_with_its_colours() {
        let px = [200u8, 30, 40, 255];
        let image = bevy::image::Image::new_fill(
            Extent3d { width: 3, height: 2, depth_or_array_layers: 1 },
            TextureDimension::D2,
            &px,
            TextureFormat::Rgba8UnormSrgb,
            RenderAssetUsages::default(),
        );
        let path = std::env::temp_dir().join(format!("port-atlas-png-{}.png", std::process::id()));
        super::save_png(&image, &path).unwrap();
        let back = image::open(&path).unwrap().to_rgb8();
        assert_eq!((back.width(), back.height()), (3, 2));
        assert_eq!(back.get_pixel(2, 1).0, [200, 30, 40]);
        std::fs::remove_file(&path).ok();
        let err = super::save_png(&image, Path::new("/nonexistent/dir/x.png")).unwrap_err();
        assert!(!err.is_empty());
    }
    use std::path::Path;
}
