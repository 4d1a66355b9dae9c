//! The image library through `/api/v1` and `/media`, as a script would use it: uploads
//! (and what is refused), characters, collections, images, the trash, sharing, variants,
//! imports and who may see what.

mod access;
mod exports;
mod imports;
mod public_avatars;
mod s3;
mod sharing;
mod trash;
mod uploads;
mod variants;
mod workflow;

use crate::common::TestServer;
use image::{ImageEncoder, ImageFormat as Codec};
use std::{io::Cursor, path::Path};

fn encode(img: &image::RgbaImage, codec: Codec) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    match codec {
        Codec::Jpeg => image::DynamicImage::ImageRgba8(img.clone())
            .to_rgb8()
            .write_to(&mut out, Codec::Jpeg)
            .unwrap(),
        Codec::WebP => image::codecs::webp::WebPEncoder::new_lossless(&mut out)
            .write_image(
                img,
                img.width(),
                img.height(),
                image::ExtendedColorType::Rgba8,
            )
            .unwrap(),
        other => img.write_to(&mut out, other).unwrap(),
    }
    out.into_inner()
}

/// Every object file under the server's storage directory.
fn stored_objects(server: &TestServer) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(&server.data_dir.path().join("objects"), &mut out);
    out
}
