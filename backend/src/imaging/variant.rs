//! Resized variants: the spec parsed from a request, and the rendering (decode,
//! fast_image_resize Lanczos3, encode).

use std::io::Cursor;

use bytes::Bytes;
use image::{
    codecs::{
        jpeg::JpegEncoder,
        png::{CompressionType, FilterType as PngFilter, PngEncoder},
    },
    DynamicImage, ExtendedColorType, ImageEncoder, ImageReader,
};

use super::*;

/// How a variant fills the requested box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fit {
    /// Fill the box, cropping what overflows (centred).
    Cover,
    /// Fit inside the box, keeping the proportions.
    Contain,
    /// Stretch to the box.
    Fill,
}

impl Fit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cover => "cover",
            Self::Contain => "contain",
            Self::Fill => "fill",
        }
    }
}

/// A validated variant request; its [`VariantSpec::key`] names the cached object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VariantSpec {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Fit,
    pub format: ImageFormat,
    /// 1–100, for WebP and JPEG.
    pub quality: u8,
}

impl VariantSpec {
    /// `w256-h256-cover-q80`: only digits, letters and dashes, so it is safe in a key.
    pub fn key(&self) -> String {
        let mut key = String::new();
        if let Some(w) = self.width {
            key.push_str(&format!("w{w}-"));
        }
        if let Some(h) = self.height {
            key.push_str(&format!("h{h}-"));
        }
        key.push_str(self.fit.as_str());
        if self.format != ImageFormat::Png {
            key.push_str(&format!("-q{}", self.quality));
        }
        key
    }

    /// The size of the output for a source of `width`×`height`. A side given alone keeps
    /// the proportions; nothing is ever larger than the source in either side: `cover`
    /// gives the box, scaled down as a whole until the source fills it, `fill` the box with
    /// each side at most the source's.
    pub fn output_size(&self, width: u32, height: u32) -> (u32, u32) {
        let scale = |num: u32, a: u32, b: u32| -> u32 {
            let v = (u64::from(num) * u64::from(a) + u64::from(b) / 2) / u64::from(b.max(1));
            u32::try_from(v.max(1)).unwrap_or(u32::MAX)
        };
        match (self.width, self.height) {
            (None, None) => (width, height),
            (Some(w), None) => {
                let w = w.min(width);
                (w, scale(height, w, width))
            }
            (None, Some(h)) => {
                let h = h.min(height);
                (scale(width, h, height), h)
            }
            (Some(w), Some(h)) => match self.fit {
                Fit::Fill => (w.min(width), h.min(height)),
                Fit::Cover => {
                    // Shrink the box by the side that would need the most enlarging.
                    if u64::from(w) <= u64::from(width) && u64::from(h) <= u64::from(height) {
                        (w, h)
                    } else if u64::from(w) * u64::from(height) >= u64::from(h) * u64::from(width) {
                        (width, scale(h, width, w))
                    } else {
                        (scale(w, height, h), height)
                    }
                }
                Fit::Contain => {
                    // The largest size with the source's proportions inside the box.
                    let (w, h) = (w.min(width), h.min(height));
                    if u64::from(w) * u64::from(height) <= u64::from(h) * u64::from(width) {
                        (w, scale(height, w, width))
                    } else {
                        (scale(width, h, height), h)
                    }
                }
            },
        }
    }
}

/// A rendered variant.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bytes: Bytes,
    pub width: u32,
    pub height: u32,
    pub format: ImageFormat,
}

/// Decodes a stored image and renders a variant with SIMD resizing and real encoders.
/// Blocking.
pub fn render(source: &[u8], spec: &VariantSpec, limits: &Limits) -> Result<Rendered, ImageError> {
    use fast_image_resize::{
        images::Image as FirImage, FilterType, ResizeAlg, ResizeOptions, Resizer,
    };

    let format = ImageFormat::sniff(source).ok_or(ImageError::Unsupported)?;
    let mut reader = ImageReader::with_format(Cursor::new(source), format.codec());
    reader.limits(decode_limits(limits));
    let decoded = reader.decode().map_err(corrupt)?;
    let keep_alpha = decoded.color().has_alpha() && spec.format != ImageFormat::Jpeg;
    let src = if keep_alpha {
        DynamicImage::ImageRgba8(decoded.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(decoded.to_rgb8())
    };
    drop(decoded);

    let (width, height) = spec.output_size(src.width(), src.height());
    let pixel_type = if keep_alpha {
        fast_image_resize::PixelType::U8x4
    } else {
        fast_image_resize::PixelType::U8x3
    };
    let mut dst = FirImage::new(width, height, pixel_type);
    let mut options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    if spec.fit == Fit::Cover && spec.width.is_some() && spec.height.is_some() {
        options = options.fit_into_destination(Some((0.5, 0.5)));
    }
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| ImageError::Internal(e.to_string()))?;
    drop(src);

    let color = if keep_alpha {
        ExtendedColorType::Rgba8
    } else {
        ExtendedColorType::Rgb8
    };
    let pixels = dst.buffer();
    let internal = |e: image::ImageError| ImageError::Internal(e.to_string());
    let bytes = match spec.format {
        ImageFormat::Jpeg => {
            let mut out = Vec::new();
            JpegEncoder::new_with_quality(&mut out, spec.quality)
                .write_image(pixels, width, height, color)
                .map_err(internal)?;
            out
        }
        ImageFormat::Png => {
            let mut out = Vec::new();
            PngEncoder::new_with_quality(&mut out, CompressionType::Fast, PngFilter::Adaptive)
                .write_image(pixels, width, height, color)
                .map_err(internal)?;
            out
        }
        ImageFormat::Webp => {
            let encoder = if keep_alpha {
                webp::Encoder::from_rgba(pixels, width, height)
            } else {
                webp::Encoder::from_rgb(pixels, width, height)
            };
            encoder
                .encode_simple(false, f32::from(spec.quality))
                .map_err(|e| ImageError::Internal(format!("webp: {e:?}")))?
                .to_vec()
        }
    };
    Ok(Rendered {
        bytes: Bytes::from(bytes),
        width,
        height,
        format: spec.format,
    })
}
