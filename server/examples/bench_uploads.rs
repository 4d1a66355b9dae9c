//! Memory under parallel uploads: starts the real server binary (release, SQLite, the
//! default limits: `MAX_UPLOAD_BYTES` 5 MiB, `MAX_IMAGE_PIXELS` 40 M, `UPLOAD_MEMORY_BYTES`
//! 8 files' worth, `IMAGE_WORKERS` one per core), sends N uploads at once of the largest
//! image allowed, and reports the server's peak resident memory (`VmHWM`) against its
//! memory before. Two kinds of "largest": the largest file (4.9 MB of PNG noise, 1.6 M
//! pixels) and the most pixels in a file under the limit (a 6000 × 6000 PNG, 36 M pixels,
//! the decompression-bomb shape). A fresh server per measurement, so each peak is its own.
//!
//!     scripts/bench-uploads.sh [N ...]      (default 1 8 32)

// A benchmark reports its figures on standard output.
#![allow(clippy::print_stdout)]

mod common;

use std::time::Instant;

use anyhow::Context as _;
use futures::StreamExt;

const MIB: f64 = 1024.0 * 1024.0;
const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;

/// A PNG of random RGB pixels just under `MAX_UPLOAD_BYTES` (noise does not compress).
fn largest_file() -> anyhow::Result<Vec<u8>> {
    let side = ((MAX_UPLOAD_BYTES as f64 * 0.93 / 3.0).sqrt()) as u32;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let img = image::RgbImage::from_fn(side, side, |_, _| {
        // xorshift64*: enough randomness to defeat deflate.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let v = state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        image::Rgb([v[0], v[1], v[2]])
    });
    encode(&image::DynamicImage::ImageRgb8(img))
}

/// A 6000 × 6000 PNG of large flat tiles: tens of megapixels in a small file.
fn most_pixels() -> anyhow::Result<Vec<u8>> {
    let img = image::RgbImage::from_fn(6000, 6000, |x, y| {
        let tile = ((x / 250) + (y / 250)) % 5;
        image::Rgb([40 * tile as u8, 200 - 30 * tile as u8, 120])
    });
    encode(&image::DynamicImage::ImageRgb8(img))
}

fn encode(img: &image::DynamicImage) -> anyhow::Result<Vec<u8>> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)?;
    let out = out.into_inner();
    anyhow::ensure!(
        out.len() <= MAX_UPLOAD_BYTES,
        "the test image is over the limit"
    );
    Ok(out)
}

async fn measure(bin: &str, what: &str, file: &[u8], n: usize) -> anyhow::Result<()> {
    let server = common::start_server(
        bin,
        &[("QUOTA_STORAGE_BYTES", "0"), ("QUOTA_IMAGES_PER_DAY", "0")],
    )?;
    let (base, pid) = (server.base.clone(), server.child.id());
    let http = reqwest::Client::new();
    let token = common::bench_token(&http, &base).await?;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let before = common::rss_kib(pid)?;
    let started = Instant::now();
    let statuses: Vec<u16> = futures::stream::iter(0..n)
        .map(|i| {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            let part = reqwest::multipart::Part::bytes(file.to_vec()).file_name(format!("{i}.png"));
            async move {
                http.post(format!("{base}/api/v1/uploads"))
                    .bearer_auth(token)
                    .multipart(reqwest::multipart::Form::new().part("file", part))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            }
        })
        .buffer_unordered(n)
        .collect()
        .await;
    let took = started.elapsed();
    let peak = common::peak_rss_kib(pid)?;
    let stored = statuses.iter().filter(|s| **s == 201).count();
    println!(
        "| {what} | {n} | {:.1} MiB | {:.1} MiB | {:.1} MiB | {stored}/{n} stored in {:.1} s |",
        before as f64 * 1024.0 / MIB,
        peak as f64 * 1024.0 / MIB,
        (peak.saturating_sub(before)) as f64 * 1024.0 / MIB,
        took.as_secs_f64(),
    );
    anyhow::ensure!(stored == n, "uploads failed: {statuses:?}");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let bin = std::env::var("AVATAR_STUDIO_BIN").context(
        "set AVATAR_STUDIO_BIN to the release server binary (scripts/bench-uploads.sh does)",
    )?;
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()
        .context("usage: bench_uploads [N ...]")?;
    let counts = if counts.is_empty() {
        vec![1, 8, 32]
    } else {
        counts
    };
    let files = [
        ("largest file (4.9 MB noise PNG)", largest_file()?),
        ("most pixels (6000×6000 PNG)", most_pixels()?),
    ];
    println!("| upload | N at once | RSS before | peak RSS | peak − before | result |");
    println!("|---|---|---|---|---|---|");
    for (what, file) in &files {
        for &n in &counts {
            measure(&bin, what, file, n).await?;
        }
    }
    Ok(())
}
