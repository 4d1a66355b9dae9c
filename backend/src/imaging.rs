//! Image bytes: recognising formats by content, refusing what is too big before decoding
//! it, proving a file is whole, stripping metadata, and rendering resized variants.
//!
//! Everything here is CPU work and blocking: callers run it on blocking threads, bounded
//! by [`ImageWorkers`].

use std::{io::Cursor, sync::Arc};

use bytes::Bytes;
use image::{
    codecs::{
        jpeg::JpegEncoder,
        png::{CompressionType, FilterType as PngFilter, PngEncoder},
        webp::WebPEncoder,
    },
    metadata::Orientation,
    DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder, ImageReader,
};
use sha2::{Digest, Sha256};

/// The formats we accept and produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
}

impl ImageFormat {
    pub const ALL: [Self; 3] = [Self::Png, Self::Jpeg, Self::Webp];

    /// Recognises a format by its magic bytes; the name and the declared type of a file
    /// are never consulted.
    pub fn sniff(data: &[u8]) -> Option<Self> {
        if data.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if data.len() >= 16 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
        }
    }

    pub fn from_mime(mime: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.mime() == mime)
    }

    pub fn ext(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Webp => "webp",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Webp => "webp",
        }
    }

    fn codec(self) -> image::ImageFormat {
        match self {
            Self::Png => image::ImageFormat::Png,
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::Webp => image::ImageFormat::WebP,
        }
    }
}

/// The bounds an incoming image must stay within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The size of the file.
    pub max_bytes: u64,
    /// The longest side, in pixels.
    pub max_side: u32,
    /// Width × height.
    pub max_pixels: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 5 * 1024 * 1024,
            max_side: 8192,
            max_pixels: 40_000_000,
        }
    }
}

/// Why an image was refused. Each message is a sentence a person understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// 413
    #[error("The file is larger than {}, the most we accept.", human_bytes(*.limit))]
    TooLarge { limit: u64 },
    /// 413
    #[error(
        "The image is {width}×{height} pixels; the most we accept is {max_side} pixels a side \
         and {} megapixels.", max_pixels / 1_000_000
    )]
    TooManyPixels {
        width: u32,
        height: u32,
        max_side: u32,
        max_pixels: u64,
    },
    /// 415
    #[error("This is not a PNG, JPEG or WebP image.")]
    Unsupported,
    /// 415: data after the end of the image (a polyglot, or something smuggled).
    #[error(
        "This file holds more than an image (there is data after the image ends), so it was \
         refused. Save it again from an image editor."
    )]
    TrailingData,
    /// 400
    #[error("The image is damaged or incomplete ({0}).")]
    Corrupt(String),
    /// 500: our side.
    #[error("the image could not be processed: {0}")]
    Internal(String),
}

impl ImageError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "file_too_large",
            Self::TooManyPixels { .. } => "image_too_large",
            Self::Unsupported => "unsupported_image",
            Self::TrailingData => "not_only_an_image",
            Self::Corrupt(_) => "corrupt_image",
            Self::Internal(_) => "internal",
        }
    }
}

/// `5 MB`, `300 KB`: sizes for messages.
pub fn human_bytes(n: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if n >= MB {
        let tenths = n * 10 / MB;
        if tenths.is_multiple_of(10) {
            format!("{} MB", tenths / 10)
        } else {
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    } else if n >= 1024 {
        format!("{} KB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// An image that passed every check, ready to store.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub bytes: Bytes,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    /// Hex SHA-256 of `bytes`.
    pub sha256: String,
    /// Whether the pixels were re-encoded (to apply the EXIF orientation).
    pub reencoded: bool,
}

pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Checks an incoming file and makes it safe to store: the format by content, the
/// dimensions from the header before any decoding, the whole file decoded under explicit
/// limits, nothing after the end of the image, metadata (EXIF, GPS, XMP, comments)
/// removed, and the EXIF orientation applied. Blocking.
pub fn prepare(input: Bytes, limits: &Limits) -> Result<Prepared, ImageError> {
    if input.len() as u64 > limits.max_bytes {
        return Err(ImageError::TooLarge {
            limit: limits.max_bytes,
        });
    }
    let format = ImageFormat::sniff(&input).ok_or(ImageError::Unsupported)?;
    check_complete(format, &input)?;

    let (width, height) = header_dimensions(format, &input)?;
    check_dimensions(width, height, limits)?;

    let mut reader = ImageReader::with_format(Cursor::new(&input[..]), format.codec());
    reader.limits(decode_limits(limits));
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut pixels = DynamicImage::from_decoder(decoder).map_err(corrupt)?;

    let (bytes, reencoded) = if orientation == Orientation::NoTransforms {
        (strip_metadata(format, input)?, false)
    } else {
        pixels.apply_orientation(orientation);
        (encode_original(&pixels, format)?, true)
    };
    Ok(Prepared {
        sha256: sha256_hex(&bytes),
        width: pixels.width(),
        height: pixels.height(),
        bytes,
        format,
        reencoded,
    })
}

/// The width and height a file's header claims, read without decoding the pixels.
pub fn header_dimensions(format: ImageFormat, data: &[u8]) -> Result<(u32, u32), ImageError> {
    ImageReader::with_format(Cursor::new(data), format.codec())
        .into_dimensions()
        .map_err(corrupt)
}

fn check_dimensions(width: u32, height: u32, limits: &Limits) -> Result<(), ImageError> {
    if width == 0 || height == 0 {
        return Err(ImageError::Corrupt("it has no pixels".to_owned()));
    }
    if width > limits.max_side
        || height > limits.max_side
        || u64::from(width) * u64::from(height) > limits.max_pixels
    {
        return Err(ImageError::TooManyPixels {
            width,
            height,
            max_side: limits.max_side,
            max_pixels: limits.max_pixels,
        });
    }
    Ok(())
}

fn decode_limits(limits: &Limits) -> image::Limits {
    let mut l = image::Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    // At most 16-bit RGBA (8 bytes a pixel), plus room for the decoder's own buffers.
    l.max_alloc = Some(
        limits
            .max_pixels
            .saturating_mul(8)
            .saturating_add(64 * 1024 * 1024),
    );
    l
}

fn corrupt(e: image::ImageError) -> ImageError {
    match e {
        image::ImageError::Limits(_) => ImageError::Corrupt(
            "it needs more memory to decode than an image of its size should".to_owned(),
        ),
        image::ImageError::Unsupported(u) => {
            ImageError::Corrupt(format!("it uses a feature we cannot read: {u}"))
        }
        other => ImageError::Corrupt(simplify(&other.to_string())),
    }
}

/// Decoder messages are technical; keep them short.
fn simplify(message: &str) -> String {
    let m: String = message.chars().take(120).collect();
    if m.is_empty() {
        "it cannot be decoded".to_owned()
    } else {
        m
    }
}

fn truncated() -> ImageError {
    ImageError::Corrupt("the file ends before the image does".to_owned())
}

/// Proves that the container is whole and that nothing follows the end of the image
/// (trailing zero bytes, which some encoders leave, are tolerated).
pub fn check_complete(format: ImageFormat, data: &[u8]) -> Result<(), ImageError> {
    let end = match format {
        ImageFormat::Png => png_end(data)?,
        ImageFormat::Jpeg => jpeg_end(data)?,
        ImageFormat::Webp => webp_end(data)?,
    };
    if data[end..].iter().any(|&b| b != 0) {
        return Err(ImageError::TrailingData);
    }
    Ok(())
}

fn png_end(data: &[u8]) -> Result<usize, ImageError> {
    let mut pos = 8;
    loop {
        let header = data.get(pos..pos + 8).ok_or_else(truncated)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let end = pos
            .checked_add(12)
            .and_then(|p| p.checked_add(len))
            .ok_or_else(truncated)?;
        if end > data.len() {
            return Err(truncated());
        }
        if &header[4..8] == b"IEND" {
            return Ok(end);
        }
        pos = end;
    }
}

fn jpeg_end(data: &[u8]) -> Result<usize, ImageError> {
    let malformed = || ImageError::Corrupt("a JPEG segment is malformed".to_owned());
    let mut pos = 2;
    loop {
        if *data.get(pos).ok_or_else(truncated)? != 0xFF {
            return Err(malformed());
        }
        while data.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *data.get(pos).ok_or_else(truncated)?;
        pos += 1;
        match marker {
            0xD9 => return Ok(pos),
            0xD0..=0xD7 | 0x01 => continue,
            0x00 => return Err(malformed()),
            _ => {}
        }
        let len_bytes = data.get(pos..pos + 2).ok_or_else(truncated)?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        if len < 2 {
            return Err(malformed());
        }
        pos += len;
        if pos > data.len() {
            return Err(truncated());
        }
        if marker == 0xDA {
            // Entropy-coded data runs to the next marker that is not a stuffed byte or a
            // restart marker.
            loop {
                let rel = data[pos..]
                    .iter()
                    .position(|&b| b == 0xFF)
                    .ok_or_else(truncated)?;
                pos += rel;
                match data.get(pos + 1) {
                    None => return Err(truncated()),
                    Some(0x00 | 0xD0..=0xD7) => pos += 2,
                    Some(0xFF) => pos += 1,
                    Some(_) => break,
                }
            }
        }
    }
}

fn webp_end(data: &[u8]) -> Result<usize, ImageError> {
    let size = u32::from_le_bytes([data[4], data[5], data[6], data[7]]) as usize;
    let end = size.checked_add(8).ok_or_else(truncated)?;
    if end > data.len() {
        return Err(truncated());
    }
    Ok(end)
}

/// Removes metadata without touching the pixels: EXIF (with GPS), XMP, IPTC, comments and
/// text chunks. Colour profiles stay, so colours do not shift.
fn strip_metadata(format: ImageFormat, data: Bytes) -> Result<Bytes, ImageError> {
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
fn encode_original(pixels: &DynamicImage, format: ImageFormat) -> Result<Bytes, ImageError> {
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
    /// the proportions; nothing is enlarged beyond the source unless the box demands it
    /// (`cover` and `fill` give exactly the box).
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
                Fit::Cover | Fit::Fill => (w, h),
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

/// Bounds the CPU work on images: at most `IMAGE_WORKERS` decodes, resizes or encodes at
/// once, each on a blocking thread so that the async runtime never waits on one.
#[derive(Debug, Clone)]
pub struct ImageWorkers {
    permits: Arc<tokio::sync::Semaphore>,
}

impl ImageWorkers {
    pub fn new(workers: usize) -> Self {
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(workers.max(1))),
        }
    }

    /// Runs `work` on a blocking thread once a worker is free.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ImageError>
    where
        F: FnOnce() -> Result<T, ImageError> + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| ImageError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ImageError::Internal(format!("an image task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_fn(width, height, |x, y| {
            image::Rgba([(x * 7) as u8, (y * 5) as u8, 128, 255])
        });
        let mut out = Vec::new();
        PngEncoder::new(&mut out)
            .write_image(&img, width, height, ExtendedColorType::Rgba8)
            .unwrap();
        out
    }

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x * 3) as u8, (y * 3) as u8, 60])
        });
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 85)
            .write_image(&img, width, height, ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    /// A JPEG with an EXIF segment (orientation `orientation`, plus a GPS IFD pointer) and a
    /// comment, inserted after SOI.
    fn jpeg_with_exif(width: u32, height: u32, orientation: u16) -> Vec<u8> {
        let plain = jpeg(width, height);
        // TIFF header (little endian), IFD0 with Orientation and GPSInfo entries.
        let mut tiff = b"II*\0\x08\0\0\0".to_vec();
        tiff.extend_from_slice(&2u16.to_le_bytes());
        tiff.extend_from_slice(&0x0112u16.to_le_bytes());
        tiff.extend_from_slice(&3u16.to_le_bytes());
        tiff.extend_from_slice(&1u32.to_le_bytes());
        tiff.extend_from_slice(&u32::from(orientation).to_le_bytes());
        tiff.extend_from_slice(&0x8825u16.to_le_bytes());
        tiff.extend_from_slice(&4u16.to_le_bytes());
        tiff.extend_from_slice(&1u32.to_le_bytes());
        tiff.extend_from_slice(&0u32.to_le_bytes());
        tiff.extend_from_slice(&0u32.to_le_bytes());
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
        out.extend_from_slice(&app1);
        let comment = b"GPS 48.8584 N 2.2945 E";
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&u16::try_from(comment.len() + 2).unwrap().to_be_bytes());
        out.extend_from_slice(comment);
        out.extend_from_slice(&plain[2..]);
        out
    }

    fn webp(width: u32, height: u32) -> Vec<u8> {
        let img =
            image::RgbaImage::from_fn(width, height, |x, _| image::Rgba([x as u8, 10, 20, 255]));
        let mut out = Vec::new();
        WebPEncoder::new_lossless(&mut out)
            .write_image(&img, width, height, ExtendedColorType::Rgba8)
            .unwrap();
        out
    }

    fn prepare_vec(data: Vec<u8>) -> Result<Prepared, ImageError> {
        prepare(Bytes::from(data), &Limits::default())
    }

    #[test]
    fn valid_images_are_accepted_with_their_dimensions() {
        for (data, format, w, h) in [
            (png(40, 30), ImageFormat::Png, 40, 30),
            (jpeg(64, 48), ImageFormat::Jpeg, 64, 48),
            (webp(20, 10), ImageFormat::Webp, 20, 10),
        ] {
            let p = prepare_vec(data).unwrap();
            assert_eq!((p.format, p.width, p.height), (format, w, h));
            assert_eq!(p.sha256, sha256_hex(&p.bytes));
            assert!(!p.reencoded);
        }
    }

    #[test]
    fn what_is_not_an_image_is_refused_by_content() {
        assert_eq!(
            prepare_vec(b"just some text".to_vec()).unwrap_err(),
            ImageError::Unsupported
        );
        assert_eq!(
            prepare_vec(b"<!doctype html><html><body>hi</body></html>".to_vec()).unwrap_err(),
            ImageError::Unsupported
        );
        assert_eq!(
            prepare_vec(br#"<svg xmlns="http://www.w3.org/2000/svg"/>"#.to_vec()).unwrap_err(),
            ImageError::Unsupported
        );
    }

    #[test]
    fn truncated_files_are_corrupt() {
        for data in [png(50, 50), jpeg(50, 50), webp(50, 50)] {
            let cut = data[..data.len() * 2 / 3].to_vec();
            assert!(
                matches!(prepare_vec(cut).unwrap_err(), ImageError::Corrupt(_)),
                "a truncated file must be corrupt"
            );
        }
    }

    #[test]
    fn a_header_claiming_huge_dimensions_is_refused_before_decoding() {
        // A tiny file whose IHDR (with a valid checksum) claims 50000×50000 pixels: 10 GB
        // once decoded. It must cost nothing.
        let mut data = png(4, 4);
        data[16..20].copy_from_slice(&50_000u32.to_be_bytes());
        data[20..24].copy_from_slice(&50_000u32.to_be_bytes());
        let crc = crc32fast::hash(&data[12..29]);
        data[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(
            prepare_vec(data).unwrap_err(),
            ImageError::TooManyPixels {
                width: 50_000,
                height: 50_000,
                max_side: 8192,
                max_pixels: 40_000_000
            }
        );
    }

    #[test]
    fn files_over_the_size_limit_are_refused_first() {
        let limits = Limits {
            max_bytes: 1000,
            ..Limits::default()
        };
        let err = prepare(Bytes::from(vec![0u8; 1001]), &limits).unwrap_err();
        assert_eq!(err, ImageError::TooLarge { limit: 1000 });
        assert_eq!(
            err.to_string(),
            "The file is larger than 1000 bytes, the most we accept."
        );
    }

    #[test]
    fn data_after_the_image_is_refused() {
        for mut data in [png(8, 8), jpeg(8, 8), webp(8, 8)] {
            data.extend_from_slice(b"<html><script>alert(1)</script></html>");
            assert_eq!(prepare_vec(data).unwrap_err(), ImageError::TrailingData);
        }
        let mut padded = png(8, 8);
        padded.extend_from_slice(&[0, 0, 0]);
        assert!(prepare_vec(padded).is_ok(), "zero padding is harmless");
    }

    #[test]
    fn exif_and_comments_are_stripped_without_reencoding() {
        let data = jpeg_with_exif(30, 20, 1);
        assert!(data.windows(4).any(|w| w == b"Exif"));
        let p = prepare_vec(data).unwrap();
        assert!(!p.reencoded);
        assert!(!p.bytes.windows(4).any(|w| w == b"Exif"), "EXIF removed");
        assert!(!p.bytes.windows(3).any(|w| w == b"GPS"), "comment removed");
        assert_eq!((p.width, p.height), (30, 20));
        // Same pixels: the entropy-coded data is untouched.
        let before = image::load_from_memory(&jpeg(30, 20)).unwrap().to_rgb8();
        let after = image::load_from_memory(&p.bytes).unwrap().to_rgb8();
        assert_eq!(before, after);
    }

    #[test]
    fn exif_orientation_is_applied() {
        // 6 = rotate 90° clockwise to display: a 30×20 file shows as 20×30.
        let p = prepare_vec(jpeg_with_exif(30, 20, 6)).unwrap();
        assert!(p.reencoded);
        assert_eq!((p.width, p.height), (20, 30));
        assert!(!p.bytes.windows(4).any(|w| w == b"Exif"));
        let decoded = image::load_from_memory(&p.bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (20, 30));
    }

    fn spec(w: Option<u32>, h: Option<u32>, fit: Fit, format: ImageFormat) -> VariantSpec {
        VariantSpec {
            width: w,
            height: h,
            fit,
            format,
            quality: 80,
        }
    }

    #[test]
    fn output_sizes_follow_the_fit() {
        let s = |w, h, fit| spec(w, h, fit, ImageFormat::Webp);
        assert_eq!(
            s(Some(256), None, Fit::Cover).output_size(1024, 512),
            (256, 128)
        );
        assert_eq!(
            s(None, Some(256), Fit::Cover).output_size(1024, 512),
            (512, 256)
        );
        assert_eq!(
            s(Some(256), Some(256), Fit::Cover).output_size(1024, 512),
            (256, 256)
        );
        assert_eq!(
            s(Some(256), Some(256), Fit::Contain).output_size(1024, 512),
            (256, 128)
        );
        assert_eq!(
            s(Some(256), Some(256), Fit::Fill).output_size(1024, 512),
            (256, 256)
        );
        assert_eq!(
            s(Some(2048), None, Fit::Cover).output_size(100, 50),
            (100, 50),
            "never enlarged"
        );
        assert_eq!(
            s(Some(256), Some(256), Fit::Cover).key(),
            "w256-h256-cover-q80"
        );
        assert_eq!(
            spec(Some(64), None, Fit::Contain, ImageFormat::Png).key(),
            "w64-contain"
        );
    }

    #[test]
    fn variants_have_the_requested_size_and_format() {
        let source = png(300, 200);
        for format in ImageFormat::ALL {
            let r = render(
                &source,
                &spec(Some(96), Some(96), Fit::Cover, format),
                &Limits::default(),
            )
            .unwrap();
            assert_eq!(ImageFormat::sniff(&r.bytes), Some(format));
            let decoded = image::load_from_memory(&r.bytes).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (96, 96));
        }
    }

    #[tokio::test]
    async fn image_workers_bound_the_work() {
        let workers = ImageWorkers::new(1);
        let got = workers.run(|| Ok(21 * 2)).await.unwrap();
        assert_eq!(got, 42);
        let err = workers
            .run(|| Err::<(), _>(ImageError::Unsupported))
            .await
            .unwrap_err();
        assert_eq!(err, ImageError::Unsupported);
    }
}
