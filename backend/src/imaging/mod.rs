//! Image bytes: recognising formats by content, refusing what is too big before decoding
//! it, proving a file is whole, stripping metadata, and rendering resized variants.
//!
//! Everything here is CPU work and blocking: callers run it on blocking threads, bounded
//! by [`ImageWorkers`].

mod format;
mod sanitize;
mod validate;
mod variant;
mod workers;

use std::io::Cursor;

use bytes::Bytes;
use image::{metadata::Orientation, DynamicImage, ImageDecoder, ImageReader};
use sha2::{Digest, Sha256};

pub use format::ImageFormat;
pub use validate::{check_complete, header_dimensions};
pub use variant::{render, Fit, Rendered, VariantSpec};
pub use workers::{ImageWorkers, Intake, IntakePermit, WorkerPermit};

use sanitize::{encode_original, strip_metadata};
use validate::{check_dimensions, corrupt, decode_limits};

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

#[cfg(test)]
mod tests {
    use image::{
        codecs::{jpeg::JpegEncoder, png::PngEncoder, webp::WebPEncoder},
        ExtendedColorType, ImageEncoder,
    };

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
        // A box larger than the source: never larger than the source in either side.
        assert_eq!(
            s(Some(2048), Some(2048), Fit::Cover).output_size(64, 64),
            (64, 64)
        );
        assert_eq!(
            s(Some(512), Some(256), Fit::Cover).output_size(100, 200),
            (100, 50),
            "the box's proportions, as large as the source allows"
        );
        assert_eq!(
            s(Some(256), Some(512), Fit::Cover).output_size(300, 300),
            (150, 300)
        );
        assert_eq!(
            s(Some(2048), Some(16), Fit::Fill).output_size(64, 64),
            (64, 16)
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

    #[tokio::test]
    async fn the_intake_holds_no_more_files_than_its_budget() {
        let intake = Intake::new(10 * 1024 * 1024);
        let a = intake.reserve(4 * 1024 * 1024).await.unwrap();
        let _b = intake.reserve(4 * 1024 * 1024).await.unwrap();
        assert_eq!(intake.available_bytes(), 2 * 1024 * 1024);
        // A third file waits until one of the first two is stored.
        let third = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            intake.reserve(4 * 1024 * 1024),
        )
        .await;
        assert!(third.is_err(), "no room yet");
        drop(a);
        let _c = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            intake.reserve(4 * 1024 * 1024),
        )
        .await
        .expect("room once a file is stored")
        .unwrap();
        // A request for more than the whole budget takes the whole budget, not forever.
        let small = Intake::new(1024 * 1024);
        let all = small.reserve(u64::MAX).await.unwrap();
        assert_eq!(small.available_bytes(), 0);
        drop(all);
        assert_eq!(small.available_bytes(), 1024 * 1024);
    }
}
