//! Checks made before and while decoding: the dimensions a header claims (refused before
//! any pixel is decoded when too large), decoding under explicit limits, and proof that a
//! file is whole with nothing after the end of its image.

use std::io::Cursor;

use image::ImageReader;

use super::*;

/// The width and height a file's header claims, read without decoding the pixels.
pub fn header_dimensions(format: ImageFormat, data: &[u8]) -> Result<(u32, u32), ImageError> {
    ImageReader::with_format(Cursor::new(data), format.codec())
        .into_dimensions()
        .map_err(corrupt)
}

pub(super) fn check_dimensions(width: u32, height: u32, limits: &Limits) -> Result<(), ImageError> {
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

pub(super) fn decode_limits(limits: &Limits) -> image::Limits {
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

pub(super) fn corrupt(e: image::ImageError) -> ImageError {
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
pub(super) fn simplify(message: &str) -> String {
    let m: String = message.chars().take(120).collect();
    if m.is_empty() {
        "it cannot be decoded".to_owned()
    } else {
        m
    }
}

pub(super) fn truncated() -> ImageError {
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

pub(super) fn png_end(data: &[u8]) -> Result<usize, ImageError> {
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

pub(super) fn jpeg_end(data: &[u8]) -> Result<usize, ImageError> {
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

pub(super) fn webp_end(data: &[u8]) -> Result<usize, ImageError> {
    let size = u32::from_le_bytes([data[4], data[5], data[6], data[7]]) as usize;
    let end = size.checked_add(8).ok_or_else(truncated)?;
    if end > data.len() {
        return Err(truncated());
    }
    Ok(end)
}
