//! What is kept of an accepted file: its bytes without metadata (EXIF, GPS, XMP,
//! comments), or, when its orientation had to be applied, the pixels encoded again.

use bytes::Bytes;
use image::{
    codecs::{jpeg::JpegEncoder, png::PngEncoder, webp::WebPEncoder},
    DynamicImage, ExtendedColorType, ImageEncoder,
};

use super::*;

/// Removes metadata without touching the pixels: EXIF (with GPS), XMP, IPTC, comments and
/// text chunks. Colour profiles stay, so colours do not shift.
pub(super) fn strip_metadata(format: ImageFormat, data: Bytes) -> Result<Bytes, ImageError> {
    use img_parts::ImageEXIF;
    let parts = |e: img_parts::Error| ImageError::Corrupt(format!("its structure is broken: {e}"));
    Ok(match format {
        ImageFormat::Jpeg => {
            let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(data).map_err(parts)?;
            jpeg.segments_mut().retain(|segment| {
                let marker = segment.marker();
                match marker {
                    // JFIF and Adobe (colour transform) are needed to read the pixels right.
                    0xE0 | 0xEE => true,
                    // APP2 carries the ICC profile (keep) or MPF (drop).
                    0xE2 => segment.contents().starts_with(b"ICC_PROFILE\0"),
                    // Every other application segment (EXIF, XMP, IPTC, …) and comments.
                    0xE1..=0xEF | 0xFE => false,
                    _ => true,
                }
            });
            jpeg.encoder().bytes()
        }
        ImageFormat::Png => {
            let mut png = img_parts::png::Png::from_bytes(data).map_err(parts)?;
            png.chunks_mut().retain(|chunk| {
                !matches!(
                    &chunk.kind(),
                    b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME"
                )
            });
            png.encoder().bytes()
        }
        ImageFormat::Webp => {
            let mut webp = img_parts::webp::WebP::from_bytes(data).map_err(parts)?;
            // XMP first: removing EXIF then recomputes the VP8X flags for both.
            webp.remove_chunks_by_id(*b"XMP ");
            webp.set_exif(None);
            webp.encoder().bytes()
        }
    })
}

/// Re-encodes an upload whose orientation had to be applied: lossless where the format
/// allows, high quality for JPEG.
pub(super) fn encode_original(
    pixels: &DynamicImage,
    format: ImageFormat,
) -> Result<Bytes, ImageError> {
    let mut out = Vec::new();
    let internal = |e: image::ImageError| ImageError::Internal(e.to_string());
    match format {
        ImageFormat::Jpeg => {
            let rgb = pixels.to_rgb8();
            JpegEncoder::new_with_quality(&mut out, 92)
                .write_image(&rgb, rgb.width(), rgb.height(), ExtendedColorType::Rgb8)
                .map_err(internal)?;
        }
        ImageFormat::Png => {
            let rgba = pixels.to_rgba8();
            PngEncoder::new(&mut out)
                .write_image(&rgba, rgba.width(), rgba.height(), ExtendedColorType::Rgba8)
                .map_err(internal)?;
        }
        ImageFormat::Webp => {
            let rgba = pixels.to_rgba8();
            WebPEncoder::new_lossless(&mut out)
                .write_image(&rgba, rgba.width(), rgba.height(), ExtendedColorType::Rgba8)
                .map_err(internal)?;
        }
    }
    Ok(Bytes::from(out))
}
