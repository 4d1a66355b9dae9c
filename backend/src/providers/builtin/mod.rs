//! The built-in generator: offline, no key, deterministic from the prompt and the seed.
//! It draws a head-and-shoulders portrait whose palette, face, hair and accessories come
//! from the prompt's words (colours, "glasses", "hat", "beard", "smile"…) and from a hash
//! of prompt and seed, so different prompts give recognisably different people and the
//! same prompt and seed give the same picture. Reference images tint the background. A
//! character's pictures share its look (skin, hair, eyes, face shape, from its id and
//! appearance): the same person in the scene each prompt asks for.
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
        // The first reference that guides the picture (not one that shows the character)
        // tints the background.
        let guide = call.references.iter().find(|r| {
            call.identity
                .as_ref()
                .is_none_or(|i| !i.reference_image_ids.contains(&r.image_id))
        });
        let tint = match guide {
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
        let (prompt, seed, identity) = scene_of(call);
        let features = Features::new(&prompt, seed, tint, identity.as_ref());
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

/// What is drawn: the call's prompt and seed, or for an edit the source's scene (its
/// prompt and seed) with the instruction added, so the edit is the same picture changed
/// as the instruction's words say (its background tinted by the source, the first
/// reference).
fn scene_of(call: &Call) -> (String, i64, Option<super::Identity>) {
    match &call.edit_of {
        None => (call.prompt.clone(), call.seed, call.identity.clone()),
        Some(edit) => {
            let prompt = match edit.prompt.as_deref() {
                Some(p) => format!("{}. {}", p.trim_end_matches(['.', ' ']), call.prompt),
                None => call.prompt.clone(),
            };
            let identity = call.identity.clone().map(|mut i| {
                i.instruction.clone_from(&prompt);
                i
            });
            (prompt, edit.seed.unwrap_or(call.seed), identity)
        }
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
    use crate::providers::Identity;

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
            identity: None,
            edit_of: None,
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

    fn identity(character_id: &str, appearance: Option<&str>, instruction: &str) -> Identity {
        Identity {
            character_id: character_id.into(),
            appearance: appearance.map(str::to_owned),
            instruction: instruction.into(),
            reference_image_ids: Vec::new(),
        }
    }

    #[test]
    fn a_characters_portraits_share_its_look_while_the_scene_follows_the_prompt() {
        let sheet = "Long curly red hair, green eyes and a short beard; pale skin.";
        let ada = |instruction: &str, seed| {
            let i = identity(
                "0190a1b2-0000-7000-8000-00000000000a",
                Some(sheet),
                instruction,
            );
            // The prompt as sent holds the appearance; the generator reads the sheet.
            let sent = crate::services::sheet::compose_prompt(instruction, Some(sheet));
            Features::new(&sent, seed, None, Some(&i))
        };
        let smiling = ada("Smiling, in green winter clothes", 1);
        let serious = ada("Serious, wearing a hat, at a navy harbour", 2);
        assert_eq!(smiling.look, serious.look, "one person");
        assert_eq!(smiling.look.hair, features::Hair::Curly);
        assert_eq!(smiling.look.hair_colour, [180, 70, 30]);
        assert_eq!(smiling.look.eyes, [80, 130, 90]);
        assert_eq!(smiling.look.skin, features::SKINS[0]);
        assert!(smiling.look.beard);
        // …in two scenes: expression, clothes, hat and background from each prompt.
        assert!(smiling.smile > 0.9 && serious.smile < 0.0);
        assert!(serious.hat && !smiling.hat);
        assert_ne!(smiling.clothes, serious.clothes);
        assert_ne!(smiling.background, serious.background);

        // Another character, told the same thing, is someone else.
        let bob = identity(
            "0190a1b2-0000-7000-8000-00000000000b",
            None,
            "Smiling, in green winter clothes",
        );
        let other = Features::new("Smiling, in green winter clothes", 1, None, Some(&bob));
        assert_ne!(other.look, smiling.look);
        // Without an appearance the look still comes from the character, not the prompt.
        let bob_again = identity(
            "0190a1b2-0000-7000-8000-00000000000b",
            None,
            "An elderly wizard, bald",
        );
        let again = Features::new("An elderly wizard, bald", 9, None, Some(&bob_again));
        assert_eq!(again.look, other.look);
    }

    #[tokio::test]
    async fn identity_references_do_not_tint_the_scene() {
        let provider = Builtin::new(Duration::ZERO, ImageWorkers::new(1));
        let red = {
            let img = image::RgbImage::from_pixel(8, 8, image::Rgb([220, 30, 30]));
            let mut out = std::io::Cursor::new(Vec::new());
            img.write_to(&mut out, image::ImageFormat::Png).unwrap();
            Bytes::from(out.into_inner())
        };
        let mut with_identity = call("On a hill", 3, "256x256");
        with_identity.identity = Some(Identity {
            reference_image_ids: vec!["avatar".into()],
            ..identity("c1", None, "On a hill")
        });
        let plain = provider.generate(&with_identity, &NoFiles).await.unwrap();
        with_identity.references = vec![super::super::Reference {
            image_id: "avatar".into(),
            mime_type: "image/png".into(),
            data: red.clone(),
        }];
        let with_avatar = provider.generate(&with_identity, &NoFiles).await.unwrap();
        let bytes = |o: Output| match o.image {
            Produced::Bytes(b) => b,
            Produced::Url(_) => panic!("bytes expected"),
        };
        assert_eq!(
            bytes(plain),
            bytes(with_avatar),
            "the avatar shows who, not where"
        );
        // A reference of the request's own does tint it.
        with_identity.references[0].image_id = "guide".into();
        let tinted = provider.generate(&with_identity, &NoFiles).await.unwrap();
        let tinted = image::load_from_memory(&bytes(tinted)).unwrap().to_rgb8();
        let corner = tinted.get_pixel(2, 2).0;
        assert!(corner[0] > corner[1] && corner[0] > corner[2], "{corner:?}");
    }

    #[test]
    fn an_edit_redraws_the_sources_scene_with_the_instruction() {
        let mut edit = call("make the hair blue", 99, "64x64");
        edit.edit_of = Some(crate::providers::EditOf {
            image_id: "src".into(),
            prompt: Some("A knight in a green forest.".into()),
            seed: Some(7),
        });
        edit.identity = Some(Identity {
            character_id: "c".into(),
            appearance: None,
            instruction: "make the hair blue".into(),
            reference_image_ids: Vec::new(),
        });
        let (prompt, seed, identity) = scene_of(&edit);
        assert_eq!(prompt, "A knight in a green forest. make the hair blue");
        assert_eq!(seed, 7, "the source's seed");
        assert_eq!(identity.unwrap().instruction, prompt);
        // Without a source prompt (an upload), the instruction alone.
        edit.edit_of.as_mut().unwrap().prompt = None;
        assert_eq!(scene_of(&edit).0, "make the hair blue");
        // Not an edit: the call as it is.
        let plain = call("a fox", 3, "64x64");
        assert_eq!(scene_of(&plain), ("a fox".to_owned(), 3, None));
    }
}
