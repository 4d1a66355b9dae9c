//! What a portrait looks like, from the prompt's words (colours, "glasses", "hat",
//! "beard", "smile"…) and a hash of prompt and seed. A character's portraits share its
//! look (skin, hair, eyes, face shape: from its id and appearance), while the scene comes
//! from the prompt.

use sha2::{Digest, Sha256};

use super::portrait::{hsl, mix};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hair {
    Short,
    Long,
    Bun,
    SidePart,
    Curly,
    Bald,
}

/// Everything the drawing depends on.
#[derive(Debug, Clone)]
pub(super) struct Features {
    pub(super) background: ([u8; 3], [u8; 3]),
    pub(super) clothes: [u8; 3],
    pub(super) hat: bool,
    pub(super) smile: f32,
    pub(super) bokeh: Vec<(f32, f32, f32, u8)>,
    /// The person.
    pub(super) look: Look,
}

pub(super) const NAMED: &[(&str, [u8; 3])] = &[
    ("red", [200, 52, 52]),
    ("crimson", [160, 20, 50]),
    ("orange", [235, 130, 40]),
    ("gold", [212, 170, 60]),
    ("golden", [212, 170, 60]),
    ("yellow", [240, 205, 70]),
    ("green", [60, 150, 80]),
    ("moss", [100, 120, 60]),
    ("teal", [30, 140, 140]),
    ("blue", [50, 100, 200]),
    ("navy", [30, 45, 100]),
    ("purple", [120, 60, 170]),
    ("violet", [140, 90, 200]),
    ("pink", [230, 120, 170]),
    ("silver", [180, 185, 195]),
    ("grey", [120, 120, 125]),
    ("gray", [120, 120, 125]),
    ("white", [235, 235, 235]),
    ("black", [35, 35, 40]),
    ("brown", [110, 70, 40]),
];

pub(super) const SKINS: &[[u8; 3]] = &[
    [255, 224, 196],
    [241, 194, 160],
    [224, 172, 125],
    [198, 134, 90],
    [141, 85, 54],
    [96, 60, 40],
];

pub(super) const HAIRS: &[[u8; 3]] = &[
    [40, 30, 25],
    [90, 55, 30],
    [165, 110, 60],
    [225, 190, 120],
    [150, 50, 30],
    [200, 200, 205],
];

/// What the person looks like: the same in every picture of one character.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Look {
    pub(super) skin: [u8; 3],
    pub(super) hair_colour: [u8; 3],
    pub(super) hair: Hair,
    pub(super) eyes: [u8; 3],
    pub(super) glasses: bool,
    pub(super) beard: bool,
    pub(super) earrings: bool,
    pub(super) head_width: f32,
}

const EYES: &[[u8; 3]] = &[[70, 110, 160], [80, 130, 90], [100, 70, 40], [60, 60, 70]];

fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for p in parts {
        hasher.update(p);
    }
    hasher.finalize().into()
}

fn words_of(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The word among the three before `noun` ("long curly red hair") that `known` knows.
fn described<T: Copy>(
    words: &[String],
    noun: &str,
    known: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    words.iter().enumerate().find_map(|(i, w)| {
        (w == noun)
            .then(|| {
                words[i.saturating_sub(3)..i]
                    .iter()
                    .rev()
                    .find_map(|w| known(w))
            })
            .flatten()
    })
}

fn named(word: &str) -> Option<[u8; 3]> {
    NAMED.iter().find(|(n, _)| *n == word).map(|(_, c)| *c)
}

impl Look {
    /// From a hash and the words that describe the person: the words win where they say
    /// something ("red hair", "green eyes", "dark skin", "bald", "beard", "glasses"), the
    /// hash decides the rest.
    fn derive(h: &[u8; 32], words: &[String]) -> Self {
        let pick = |i: usize, n: usize| usize::from(h[i]) % n;
        let unit = |i: usize| f32::from(h[i]) / 255.0;
        let has = |w: &str| words.iter().any(|x| x == w);
        let hair_colour = if has("blonde") || has("blond") {
            [230, 200, 120]
        } else if has("redhead") || has("ginger") || has("auburn") {
            [180, 70, 30]
        } else if let Some(c) = described(words, "hair", |w| match w {
            "dark" => Some(HAIRS[0]),
            "brown" => Some(HAIRS[1]),
            "grey" | "gray" | "white" | "silver" => Some([215, 215, 220]),
            "red" => Some([180, 70, 30]),
            other => named(other),
        }) {
            c
        } else if has("old") || has("elderly") || has("wizard") {
            [215, 215, 220]
        } else {
            HAIRS[pick(3, HAIRS.len())]
        };
        let hair = if has("bald") || has("monk") {
            Hair::Bald
        } else if has("curly") || has("afro") {
            Hair::Curly
        } else if has("bun") {
            Hair::Bun
        } else if has("long") || has("princess") || has("queen") || has("elf") {
            Hair::Long
        } else {
            [
                Hair::Short,
                Hair::Long,
                Hair::Bun,
                Hair::SidePart,
                Hair::Curly,
            ][pick(4, 5)]
        };
        let eyes = described(words, "eyes", |w| match w {
            "blue" => Some(EYES[0]),
            "green" => Some(EYES[1]),
            "brown" | "hazel" | "amber" => Some(EYES[2]),
            "grey" | "gray" | "dark" => Some(EYES[3]),
            _ => None,
        })
        .unwrap_or(EYES[pick(5, EYES.len())]);
        let skin = described(words, "skin", |w| match w {
            "pale" | "fair" => Some(SKINS[0]),
            "light" => Some(SKINS[1]),
            "olive" => Some(SKINS[2]),
            "tan" | "tanned" | "golden" => Some(SKINS[3]),
            "brown" => Some(SKINS[4]),
            "dark" | "deep" | "black" => Some(SKINS[5]),
            _ => None,
        })
        .unwrap_or(SKINS[pick(6, SKINS.len())]);
        Self {
            skin,
            hair_colour,
            hair,
            eyes,
            glasses: has("glasses")
                || has("spectacles")
                || has("scholar")
                || h[7].is_multiple_of(6),
            beard: has("beard") || has("bearded") || has("dwarf") || has("wizard"),
            earrings: has("earrings") || h[27].is_multiple_of(5),
            head_width: 0.86 + unit(28) * 0.14,
        }
    }

    /// A character's look: from its id and its appearance, whatever the prompt says.
    pub(super) fn of_character(character_id: &str, appearance: Option<&str>) -> Self {
        let h = digest(&[b"character:", character_id.as_bytes()]);
        Self::derive(&h, &words_of(appearance.unwrap_or_default()))
    }
}

impl Features {
    /// The picture: with a character, its look from the sheet and the scene (background,
    /// clothes, expression, hat) from the instruction and seed; without one, everything
    /// from the prompt and seed.
    pub(super) fn new(
        prompt: &str,
        seed: i64,
        tint: Option<[u8; 3]>,
        identity: Option<&crate::providers::Identity>,
    ) -> Self {
        let prompt = identity.map_or(prompt, |i| i.instruction.as_str());
        let h = digest(&[prompt.trim().to_lowercase().as_bytes(), &seed.to_le_bytes()]);
        let unit = |i: usize| f32::from(h[i]) / 255.0;
        let words = words_of(prompt);
        let has = |w: &str| words.iter().any(|x| x == w);
        let look = match identity {
            Some(i) => {
                let mut look = Look::of_character(&i.character_id, i.appearance.as_deref());
                // Glasses can be put on for a picture.
                look.glasses |= has("glasses") || has("spectacles");
                look
            }
            None => Look::derive(&h, &words),
        };
        let colours: Vec<[u8; 3]> = words.iter().filter_map(|w| named(w)).collect();

        let hue_a = hsl(unit(0) * 360.0, 0.45, 0.55);
        let hue_b = hsl((unit(0) * 360.0 + 40.0 + unit(1) * 80.0) % 360.0, 0.5, 0.3);
        let background = match (tint, colours.first()) {
            (Some(t), _) => (mix(t, [255, 255, 255], 0.25), mix(t, [0, 0, 0], 0.45)),
            (None, Some(c)) => (mix(*c, [255, 255, 255], 0.35), mix(*c, [0, 0, 0], 0.5)),
            (None, None) => (hue_a, hue_b),
        };
        let clothes = colours
            .get(1)
            .or(colours.first())
            .copied()
            .unwrap_or_else(|| hsl(unit(2) * 360.0, 0.55, 0.42));
        let bokeh = (0..6)
            .map(|i| {
                (
                    unit(8 + i * 3),
                    unit(9 + i * 3) * 0.6,
                    0.04 + unit(10 + i * 3) * 0.1,
                    30 + h[20 + i] % 50,
                )
            })
            .collect();
        Self {
            background,
            clothes,
            hat: has("hat") || has("wizard") || has("witch") || has("cowboy"),
            smile: if has("sad") || has("stoic") || has("serious") {
                -0.2
            } else if has("smile") || has("smiling") || has("happy") || has("cheerful") {
                1.0
            } else {
                0.2 + unit(26) * 0.6
            },
            bokeh,
            look,
        }
    }
}
