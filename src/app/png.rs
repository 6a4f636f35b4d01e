//! Writing captured frames (screenshots, presenter slides) as PNG files.

use std::path::Path;

/// Writes a captured frame as an RGB PNG (the window has no meaningful alpha).
///
/// An 8-bit frame is packed straight from the captured bytes: copying the whole image first (as
/// `try_into_dynamic` needs) held a third frame's worth of memory at the moment the app is at
/// its peak. Fast compression, because encoding is on the path of every `--screenshot` run (about
/// 25 ms for a 1600×1000 frame here, capture to file).
pub fn save_png(image: &bevy::image::Image, path: &Path) -> Result<(), String> {
    use bevy::render::render_resource::TextureFormat as F;
    use image::ImageEncoder;
    let (w, h) = (image.width(), image.height());
    let swap = match image.texture_descriptor.format {
        F::Rgba8Unorm | F::Rgba8UnormSrgb => Some(false),
        F::Bgra8Unorm | F::Bgra8UnormSrgb => Some(true),
        _ => None,
    };
    let rgb = match (swap, image.data.as_deref()) {
        (Some(swap), Some(data)) if data.len() == w as usize * h as usize * 4 => data
            .chunks_exact(4)
            .flat_map(|p| if swap { [p[2], p[1], p[0]] } else { [p[0], p[1], p[2]] })
            .collect::<Vec<u8>>(),
        _ => image.clone().try_into_dynamic().map_err(|e| e.to_string())?.to_rgb8().into_raw(),
    };
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        std::io::BufWriter::new(file),
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    );
    encoder.write_image(&rgb, w, h, image::ExtendedColorType::Rgb8).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use bevy::asset::RenderAssetUsages;
    use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};

    #[test]
    fn a_frame_is_written_and_reads_back_with_its_colours() {
        let px = [200u8, 30, 40, 255];
        // Bgra (what a Vulkan swapchain captures) comes out with its channels in RGB order.
        let bgra = bevy::image::Image::new_fill(
            Extent3d { width: 2, height: 1, depth_or_array_layers: 1 },
            TextureDimension::D2,
            &[40u8, 30, 200, 255],
            TextureFormat::Bgra8UnormSrgb,
            RenderAssetUsages::default(),
        );
        let bgra_path = std::env::temp_dir().join(format!("port-atlas-bgra-{}.png", std::process::id()));
        super::save_png(&bgra, &bgra_path).unwrap();
        assert_eq!(image::open(&bgra_path).unwrap().to_rgb8().get_pixel(1, 0).0, [200, 30, 40]);
        std::fs::remove_file(&bgra_path).ok();
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
