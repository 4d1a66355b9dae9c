//! What a portrait looks like, from the prompt's words (colours, "glasses", "hat",
//! "beard", "smile"…) and a hash of prompt and seed.

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
    pub(super) skin: [u8; 3],
    pub(super) hair_colour: [u8; 3],
    pub(super) hair: Hair,
    pub(super) clothes: [u8; 3],
    pub(super) eyes: [u8; 3],
    pub(super) glasses: bool,
    pub(super) hat: bool,
    pub(super) beard: bool,
    pub(super) smile: f32,
    pub(super) earrings: bool,
    pub(super) head_width: f32,
    pub(super) bokeh: Vec<(f32, f32, f32, u8)>,
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

impl Features {
    pub(super) fn from_prompt(prompt: &str, seed: i64, tint: Option<[u8; 3]>) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(prompt.trim().to_lowercase().as_bytes());
        hasher.update(seed.to_le_bytes());
        let h: [u8; 32] = hasher.finalize().into();
        let pick = |i: usize, n: usize| usize::from(h[i]) % n;
        let unit = |i: usize| f32::from(h[i]) / 255.0;

        let lower = prompt.to_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let has = |w: &str| words.contains(&w);
        let colours: Vec<[u8; 3]> = words
            .iter()
            .filter_map(|w| NAMED.iter().find(|(n, _)| n == w).map(|(_, c)| *c))
            .collect();

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
        let hair_colour = if has("blonde") || has("blond") {
            [230, 200, 120]
        } else if has("redhead") || has("ginger") {
            [180, 70, 30]
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
        let eyes = [[70, 110, 160], [80, 130, 90], [100, 70, 40], [60, 60, 70]][pick(5, 4)];
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
            skin: SKINS[pick(6, SKINS.len())],
            hair_colour,
            hair,
            clothes,
            eyes,
            glasses: has("glasses")
                || has("spectacles")
                || has("scholar")
                || h[7].is_multiple_of(6),
            hat: has("hat") || has("wizard") || has("witch") || has("cowboy"),
            beard: has("beard") || has("bearded") || has("dwarf") || has("wizard"),
            smile: if has("sad") || has("stoic") || has("serious") {
                -0.2
            } else if has("smile") || has("smiling") || has("happy") || has("cheerful") {
                1.0
            } else {
                0.2 + unit(26) * 0.6
            },
            earrings: has("earrings") || h[27].is_multiple_of(5),
            head_width: 0.86 + unit(28) * 0.14,
            bokeh,
        }
    }
}
