//! Variant rendering against `vipsthumbnail`, on the same files in the same run.
//!
//! Run it with `scripts/bench-variants.sh` (it installs `libvips-tools` when missing and
//! builds this in release mode). For each source (a 1024×1024 PNG and JPEG) and each
//! output (256×256 WebP and JPEG, quality 80, centre crop) it times N renders by
//! `backend::imaging::render` on one thread, then one `vipsthumbnail` run over N copies of
//! the file (so that its start-up is shared across them), and prints the time per image
//! and the ratio.

#![allow(clippy::print_stdout)]

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use backend::imaging::{render, Fit, ImageFormat, Limits, VariantSpec};
use image::ImageEncoder;

const ROUNDS: usize = 40;

/// A photo-like test picture: smooth gradients with some detail, deterministic.
fn source(size: u32) -> image::RgbImage {
    image::RgbImage::from_fn(size, size, |x, y| {
        let (fx, fy) = (x as f32 / size as f32, y as f32 / size as f32);
        let ripple = ((fx * 40.0).sin() * (fy * 30.0).cos() * 40.0) as i32;
        image::Rgb([
            (fx * 200.0) as u8 + 20,
            ((fy * 180.0) as i32 + ripple).clamp(0, 255) as u8,
            (((fx + fy) * 90.0) as i32 - ripple).clamp(0, 255) as u8,
        ])
    })
}

fn write_sources(dir: &Path) -> Vec<(String, PathBuf, Vec<u8>)> {
    let img = source(1024);
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&img, 1024, 1024, image::ExtendedColorType::Rgb8)
        .unwrap();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .write_image(&img, 1024, 1024, image::ExtendedColorType::Rgb8)
        .unwrap();
    [("png", png), ("jpg", jpeg)]
        .into_iter()
        .map(|(ext, data)| {
            let path = dir.join(format!("source.{ext}"));
            std::fs::write(&path, &data).unwrap();
            (ext.to_owned(), path, data)
        })
        .collect()
}

fn ours(data: &[u8], format: ImageFormat) -> Duration {
    let spec = VariantSpec {
        width: Some(256),
        height: Some(256),
        fit: Fit::Cover,
        format,
        quality: 80,
    };
    let limits = Limits::default();
    // One warm-up, then the timed rounds.
    let out = render(data, &spec, &limits).unwrap();
    assert_eq!((out.width, out.height), (256, 256));
    let started = Instant::now();
    for _ in 0..ROUNDS {
        std::hint::black_box(render(data, &spec, &limits).unwrap());
    }
    started.elapsed() / ROUNDS as u32
}

fn vips(dir: &Path, source: &Path, ext: &str, format: ImageFormat) -> Duration {
    let copies: Vec<PathBuf> = (0..ROUNDS)
        .map(|i| {
            let p = dir.join(format!("copy{i}.{ext}"));
            std::fs::copy(source, &p).unwrap();
            p
        })
        .collect();
    let output = match format {
        ImageFormat::Webp => "%s_vips.webp[Q=80]",
        ImageFormat::Jpeg => "%s_vips.jpg[Q=80]",
        ImageFormat::Png => "%s_vips.png",
    };
    let run = |files: &[PathBuf]| {
        let status = Command::new("vipsthumbnail")
            .args(files)
            .args(["--size", "256x256", "--smartcrop", "centre", "-o", output])
            .env("VIPS_CONCURRENCY", "1")
            .status()
            .expect("vipsthumbnail runs (install libvips-tools)");
        assert!(status.success());
    };
    run(&copies[..1]);
    let started = Instant::now();
    run(&copies);
    let per_image = started.elapsed() / ROUNDS as u32;
    let check = image::open(dir.join(format!(
        "copy0_vips.{}",
        if format == ImageFormat::Jpeg {
            "jpg"
        } else {
            format.name()
        }
    )))
    .unwrap();
    assert_eq!((check.width(), check.height()), (256, 256));
    per_image
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let version = Command::new("vipsthumbnail")
        .arg("--vips-version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| "not installed".to_owned());
    println!("1024×1024 → 256×256 (cover, q80), {ROUNDS} images each, one thread; {version}");
    println!("| source | output | avatar-studio | vipsthumbnail | ratio (ours / vips) |");
    println!("|---|---|---|---|---|");
    for (ext, path, data) in write_sources(dir.path()) {
        for format in [ImageFormat::Webp, ImageFormat::Jpeg] {
            let a = ours(&data, format);
            let v = vips(dir.path(), &path, &ext, format);
            println!(
                "| {} | {} | {} | {} | {:.2} |",
                if ext == "png" { "PNG" } else { "JPEG" },
                if format == ImageFormat::Webp {
                    "WebP"
                } else {
                    "JPEG"
                },
                ms(a),
                ms(v),
                a.as_secs_f64() / v.as_secs_f64()
            );
        }
    }
}
