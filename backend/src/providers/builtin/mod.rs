//! The built-in generator: offline, no key, deterministic from the prompt and the seed.
//! It draws a head-and-shoulders portrait whose palette, face, hair and accessories come
//! from the prompt's words (colours, "glasses", "hat", "beard", "smile"…) and from a hash
//! of prompt and seed, so different prompts give recognisably different people and the
//! same prompt and seed give the same picture. Reference images tint the background.
//! A configurable delay (`BUILTIN_DELAY_MS`) makes the stages visible.

use std::time::Duration;

use bytes::Bytes;
use secrecy::SecretString;

mod features;
mod portrait;

use super::{Call, Failure, FileLedger, Output, Produced, Provider, ProviderError};
use crate::imaging::ImageWorkers;

#[derive(Debug, Clone)]
pub struct Builtin {
    delay: Duration,
    workers: ImageWorkers,
}

impl Builtin {
    pub fn new(delay: Duration, workers: ImageWorkers) -> Self {
        Self { delay, workers }
    }
}

impl Provider for Builtin {
    async fn generate(
        &self,
        call: &Call,
        _files: &impl FileLedger,
    ) -> Result<Output, ProviderError> {
        tokio::time::sleep(self.delay).await;
        let (width, height) = parse_size(&call.size).ok_or_else(|| {
            ProviderError::new(
                Failure::BadRequest,
                format!("'{}' is not a size", call.size),
            )
        })?;
        let tint = match call.references.first() {
            Some(r) => {
                let data = r.data.clone();
                self.workers
                    .run(move || Ok(average_colour(&data)))
                    .await
                    .ok()
                    .flatten()
            }
            None => None,
        };
        let features = Features::from_prompt(&call.prompt, call.seed, tint);
        let png = self
            .workers
            .run(move || Ok(render(&features, width, height)))
            .await
            .map_err(|e| ProviderError::new(Failure::Unavailable, e.to_string()))?
            .ok_or_else(|| {
                ProviderError::new(Failure::Unavailable, "The built-in generator failed.")
            })?;
        Ok(Output {
            image: Produced::Bytes(Bytes::from(png)),
            revised_prompt: None,
            usage: None,
            request_id: None,
        })
    }

    async fn delete_file(&self, _name: &str, _key: &SecretString) -> Result<(), ProviderError> {
        Ok(())
    }
}

/// `WxH` with both sides between 16 and 4096.
fn parse_size(size: &str) -> Option<(u32, u32)> {
    let (w, h) = size.split_once('x')?;
    let (w, h) = (w.parse().ok()?, h.parse().ok()?);
    ((16..=4096).contains(&w) && (16..=4096).contains(&h)).then_some((w, h))
}

/// The mean colour of a (small sample of an) image, if it decodes.
fn average_colour(data: &[u8]) -> Option<[u8; 3]> {
    let img = image::load_from_memory(data)
        .ok()?
        .thumbnail(32, 32)
        .to_rgb8();
    let n = u64::from(img.width() * img.height()).max(1);
    let mut sum = [0u64; 3];
    for p in img.pixels() {
        for (s, c) in sum.iter_mut().zip(p.0) {
            *s += u64::from(c);
        }
    }
    Some(sum.map(|s| (s / n) as u8))
}

use features::Features;
use portrait::render;

#[cfg(test)]
mod tests {
    use super::*;

    struct NoFiles;
    impl FileLedger for NoFiles {
        async fn uploaded(&self, _name: &str) {}
    }

    fn call(prompt: &str, seed: i64, size: &str) -> Call {
        Call {
            model: "portrait-1".into(),
            prompt: prompt.into(),
            size: size.into(),
            quality: None,
            seed,
            references: Vec::new(),
            key: None,
            job_id: "job".into(),
        }
    }

    async fn make(prompt: &str, seed: i64, size: &str) -> image::RgbaImage {
        let provider = Builtin::new(Duration::ZERO, ImageWorkers::new(1));
        let out = provider
            .generate(&call(prompt, seed, size), &NoFiles)
            .await
            .unwrap();
        let Produced::Bytes(png) = out.image else {
            panic!("bytes expected")
        };
        image::load_from_memory(&png).unwrap().to_rgba8()
    }

    /// The share of pixels that differ noticeably.
    fn difference(a: &image::RgbaImage, b: &image::RgbaImage) -> f64 {
        let differ = a
            .pixels()
            .zip(b.pixels())
            .filter(|(p, q)| p.0.iter().zip(q.0).any(|(x, y)| x.abs_diff(y) > 24))
            .count();
        differ as f64 / f64::from(a.width() * a.height())
    }

    #[tokio::test]
    async fn the_same_prompt_and_seed_give_the_same_portrait() {
        let a = make("A stoic knight in red armour", 7, "256x256").await;
        let b = make("A stoic knight in red armour", 7, "256x256").await;
        assert_eq!(a, b);
        assert_eq!(a.dimensions(), (256, 256));
    }

    #[tokio::test]
    async fn different_prompts_give_recognisably_different_portraits() {
        let knight = make("A stoic knight in red armour", 7, "256x256").await;
        let wizard = make("An old wizard with a blue hat and glasses", 7, "256x256").await;
        let reseeded = make("A stoic knight in red armour", 8, "256x256").await;
        assert!(
            difference(&knight, &wizard) > 0.25,
            "{}",
            difference(&knight, &wizard)
        );
        assert!(
            difference(&knight, &reseeded) > 0.05,
            "a new seed changes the picture"
        );
    }

    #[tokio::test]
    async fn it_is_a_portrait_not_noise() {
        let img = make("A cheerful gardener", 1, "512x512").await;
        // Neighbouring pixels are nearly always alike (smooth shapes, not noise)…
        let mut jumps = 0;
        for y in 0..512 {
            for x in 1..512 {
                let (p, q) = (img.get_pixel(x - 1, y), img.get_pixel(x, y));
                if p.0.iter().zip(q.0).any(|(a, b)| a.abs_diff(b) > 40) {
                    jumps += 1;
                }
            }
        }
        assert!(jumps < 512 * 511 / 50, "{jumps} sharp jumps");
        // …and the face in the middle differs from the corners (there is a figure).
        let centre = img.get_pixel(256, 200);
        let corner = img.get_pixel(4, 4);
        assert!(centre
            .0
            .iter()
            .zip(corner.0)
            .any(|(a, b)| a.abs_diff(b) > 30));
    }

    #[tokio::test]
    async fn sizes_are_honoured() {
        let wide = make("x", 1, "512x256").await;
        assert_eq!(wide.dimensions(), (512, 256));
        let provider = Builtin::new(Duration::ZERO, ImageWorkers::new(1));
        let err = provider
            .generate(&call("x", 1, "huge"), &NoFiles)
            .await
            .unwrap_err();
        assert_eq!(err.failure, Failure::BadRequest);
    }
}
