//! The built-in generator: offline, no key, deterministic from the prompt and the seed.
//! It draws a head-and-shoulders portrait whose palette, face, hair and accessories come
//! from the prompt's words (colours, "glasses", "hat", "beard", "smile"…) and from a hash
//! of prompt and seed, so different prompts give recognisably different people and the
//! same prompt and seed give the same picture. Reference images tint the background.
//! A configurable delay (`BUILTIN_DELAY_MS`) makes the stages visible.

use std::time::Duration;

use bytes::Bytes;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use tiny_skia::{
    Color, FillRule, GradientStop, LinearGradient, Paint, Path, PathBuilder, Pixmap, Point,
    RadialGradient, Rect, Shader, SpreadMode, Stroke, Transform,
};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hair {
    Short,
    Long,
    Bun,
    SidePart,
    Curly,
    Bald,
}

/// Everything the drawing depends on.
#[derive(Debug, Clone)]
struct Features {
    background: ([u8; 3], [u8; 3]),
    skin: [u8; 3],
    hair_colour: [u8; 3],
    hair: Hair,
    clothes: [u8; 3],
    eyes: [u8; 3],
    glasses: bool,
    hat: bool,
    beard: bool,
    smile: f32,
    earrings: bool,
    head_width: f32,
    bokeh: Vec<(f32, f32, f32, u8)>,
}

const NAMED: &[(&str, [u8; 3])] = &[
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

const SKINS: &[[u8; 3]] = &[
    [255, 224, 196],
    [241, 194, 160],
    [224, 172, 125],
    [198, 134, 90],
    [141, 85, 54],
    [96, 60, 40],
];

const HAIRS: &[[u8; 3]] = &[
    [40, 30, 25],
    [90, 55, 30],
    [165, 110, 60],
    [225, 190, 120],
    [150, 50, 30],
    [200, 200, 205],
];

impl Features {
    fn from_prompt(prompt: &str, seed: i64, tint: Option<[u8; 3]>) -> Self {
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

fn hsl(h: f32, s: f32, l: f32) -> [u8; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    [r, g, b].map(|v| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8)
}

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let mut out = [0; 3];
    for i in 0..3 {
        out[i] = (f32::from(a[i]) * (1.0 - t) + f32::from(b[i]) * t).round() as u8;
    }
    out
}

fn colour(c: [u8; 3], alpha: u8) -> Color {
    Color::from_rgba8(c[0], c[1], c[2], alpha)
}

fn solid(c: [u8; 3], alpha: u8) -> Paint<'static> {
    let mut paint = Paint::default();
    paint.set_color(colour(c, alpha));
    paint.anti_alias = true;
    paint
}

fn shaded(shader: Option<Shader<'static>>, fallback: [u8; 3]) -> Paint<'static> {
    match shader {
        Some(shader) => Paint {
            shader,
            anti_alias: true,
            ..Paint::default()
        },
        None => solid(fallback, 255),
    }
}

fn oval(cx: f32, cy: f32, rx: f32, ry: f32) -> Option<Path> {
    PathBuilder::from_oval(Rect::from_xywh(cx - rx, cy - ry, rx * 2.0, ry * 2.0)?)
}

/// Draws the portrait; `None` only if the canvas cannot be made.
fn render(f: &Features, width: u32, height: u32) -> Option<Vec<u8>> {
    let mut pm = Pixmap::new(width, height)?;
    let (w, h) = (width as f32, height as f32);
    let s = w.min(h);
    let (cx, base) = (w / 2.0, h / 2.0 + s * 0.5);
    let id = Transform::identity();
    let fill = |pm: &mut Pixmap, path: Option<Path>, paint: &Paint<'_>| {
        if let Some(p) = path {
            pm.fill_path(&p, paint, FillRule::Winding, id, None);
        }
    };
    let stroke = |pm: &mut Pixmap, path: Option<Path>, paint: &Paint<'_>, width: f32| {
        if let Some(p) = path {
            let st = Stroke {
                width,
                line_cap: tiny_skia::LineCap::Round,
                ..Stroke::default()
            };
            pm.stroke_path(&p, paint, &st, id, None);
        }
    };

    // Background: a vertical gradient and soft circles of light.
    let bg = LinearGradient::new(
        Point::from_xy(0.0, 0.0),
        Point::from_xy(w * 0.3, h),
        vec![
            GradientStop::new(0.0, colour(f.background.0, 255)),
            GradientStop::new(1.0, colour(f.background.1, 255)),
        ],
        SpreadMode::Pad,
        id,
    );
    pm.fill_rect(
        Rect::from_xywh(0.0, 0.0, w, h)?,
        &shaded(bg, f.background.0),
        id,
        None,
    );
    for &(x, y, r, a) in &f.bokeh {
        fill(
            &mut pm,
            PathBuilder::from_circle(x * w, y * h, r * s),
            &solid([255, 255, 250], a),
        );
    }

    let head_cy = base - s * 0.56;
    let head_rx = s * 0.17 * f.head_width;
    let head_ry = s * 0.21;
    let skin_dark = mix(f.skin, [60, 30, 20], 0.25);

    // Long hair falls behind the shoulders.
    if f.hair == Hair::Long {
        let mut pb = PathBuilder::new();
        pb.move_to(cx - head_rx * 1.25, head_cy - head_ry * 0.2);
        pb.quad_to(
            cx - head_rx * 1.5,
            base - s * 0.22,
            cx - head_rx * 1.2,
            base - s * 0.12,
        );
        pb.line_to(cx + head_rx * 1.2, base - s * 0.12);
        pb.quad_to(
            cx + head_rx * 1.5,
            base - s * 0.22,
            cx + head_rx * 1.25,
            head_cy - head_ry * 0.2,
        );
        pb.close();
        fill(
            &mut pm,
            pb.finish(),
            &solid(mix(f.hair_colour, [0, 0, 0], 0.15), 255),
        );
    }

    // Shoulders and a collar.
    let mut pb = PathBuilder::new();
    pb.move_to(cx - s * 0.42, base);
    pb.cubic_to(
        cx - s * 0.42,
        base - s * 0.22,
        cx - s * 0.2,
        base - s * 0.28,
        cx,
        base - s * 0.28,
    );
    pb.cubic_to(
        cx + s * 0.2,
        base - s * 0.28,
        cx + s * 0.42,
        base - s * 0.22,
        cx + s * 0.42,
        base,
    );
    pb.close();
    let cloth = LinearGradient::new(
        Point::from_xy(cx, base - s * 0.3),
        Point::from_xy(cx, base),
        vec![
            GradientStop::new(0.0, colour(f.clothes, 255)),
            GradientStop::new(1.0, colour(mix(f.clothes, [0, 0, 0], 0.35), 255)),
        ],
        SpreadMode::Pad,
        id,
    );
    fill(&mut pm, pb.finish(), &shaded(cloth, f.clothes));
    // The neck, then a V of skin.
    fill(
        &mut pm,
        Rect::from_xywh(
            cx - head_rx * 0.45,
            head_cy + head_ry * 0.6,
            head_rx * 0.9,
            s * 0.14,
        )
        .map(PathBuilder::from_rect),
        &solid(skin_dark, 255),
    );
    let mut pb = PathBuilder::new();
    pb.move_to(cx - s * 0.07, base - s * 0.275);
    pb.line_to(cx, base - s * 0.18);
    pb.line_to(cx + s * 0.07, base - s * 0.275);
    pb.close();
    fill(&mut pm, pb.finish(), &solid(skin_dark, 255));

    // Ears and earrings.
    for side in [-1.0f32, 1.0] {
        let ex = cx + side * head_rx * 0.98;
        fill(
            &mut pm,
            oval(ex, head_cy + s * 0.01, s * 0.028, s * 0.045),
            &solid(skin_dark, 255),
        );
        if f.earrings {
            fill(
                &mut pm,
                PathBuilder::from_circle(ex, head_cy + s * 0.065, s * 0.012),
                &solid([230, 195, 80], 255),
            );
        }
    }

    // The head, lit from the upper left.
    let face = RadialGradient::new(
        Point::from_xy(cx - head_rx * 0.35, head_cy - head_ry * 0.4),
        Point::from_xy(cx, head_cy),
        head_ry * 1.3,
        vec![
            GradientStop::new(0.0, colour(mix(f.skin, [255, 255, 255], 0.15), 255)),
            GradientStop::new(1.0, colour(skin_dark, 255)),
        ],
        SpreadMode::Pad,
        id,
    );
    fill(
        &mut pm,
        oval(cx, head_cy, head_rx, head_ry),
        &shaded(face, f.skin),
    );

    // A beard along the jaw.
    if f.beard {
        let mut pb = PathBuilder::new();
        pb.move_to(cx - head_rx * 0.95, head_cy + head_ry * 0.05);
        pb.quad_to(
            cx - head_rx * 0.9,
            head_cy + head_ry * 1.35,
            cx,
            head_cy + head_ry * 1.3,
        );
        pb.quad_to(
            cx + head_rx * 0.9,
            head_cy + head_ry * 1.35,
            cx + head_rx * 0.95,
            head_cy + head_ry * 0.05,
        );
        pb.quad_to(
            cx,
            head_cy + head_ry * 0.75,
            cx - head_rx * 0.95,
            head_cy + head_ry * 0.05,
        );
        pb.close();
        fill(&mut pm, pb.finish(), &solid(f.hair_colour, 255));
    }

    // Cheeks, eyes, brows, nose, mouth.
    for side in [-1.0f32, 1.0] {
        let x = cx + side * head_rx * 0.45;
        fill(
            &mut pm,
            PathBuilder::from_circle(x + side * head_rx * 0.1, head_cy + head_ry * 0.3, s * 0.03),
            &solid([235, 120, 120], 50),
        );
        fill(
            &mut pm,
            oval(x, head_cy - head_ry * 0.05, s * 0.034, s * 0.022),
            &solid([250, 250, 250], 255),
        );
        fill(
            &mut pm,
            PathBuilder::from_circle(x, head_cy - head_ry * 0.05, s * 0.017),
            &solid(f.eyes, 255),
        );
        fill(
            &mut pm,
            PathBuilder::from_circle(x, head_cy - head_ry * 0.05, s * 0.008),
            &solid([20, 20, 25], 255),
        );
        fill(
            &mut pm,
            PathBuilder::from_circle(x - s * 0.006, head_cy - head_ry * 0.09, s * 0.004),
            &solid([255, 255, 255], 230),
        );
        let mut pb = PathBuilder::new();
        pb.move_to(x - s * 0.04, head_cy - head_ry * 0.25);
        pb.quad_to(
            x,
            head_cy - head_ry * 0.33 - side * 0.0,
            x + s * 0.04,
            head_cy - head_ry * 0.25,
        );
        stroke(
            &mut pm,
            pb.finish(),
            &solid(mix(f.hair_colour, [0, 0, 0], 0.2), 255),
            s * 0.012,
        );
    }
    let mut pb = PathBuilder::new();
    pb.move_to(cx, head_cy + head_ry * 0.05);
    pb.quad_to(
        cx - s * 0.02,
        head_cy + head_ry * 0.3,
        cx + s * 0.005,
        head_cy + head_ry * 0.33,
    );
    stroke(
        &mut pm,
        pb.finish(),
        &solid(mix(skin_dark, [0, 0, 0], 0.2), 200),
        s * 0.008,
    );
    let mouth_y = head_cy + head_ry * 0.55;
    let mut pb = PathBuilder::new();
    pb.move_to(cx - head_rx * 0.32, mouth_y);
    pb.quad_to(
        cx,
        mouth_y + s * 0.05 * f.smile,
        cx + head_rx * 0.32,
        mouth_y,
    );
    stroke(&mut pm, pb.finish(), &solid([150, 60, 60], 255), s * 0.012);

    if f.glasses {
        let frame = solid([30, 30, 35], 255);
        for side in [-1.0f32, 1.0] {
            let x = cx + side * head_rx * 0.45;
            stroke(
                &mut pm,
                PathBuilder::from_circle(x, head_cy - head_ry * 0.05, s * 0.05),
                &frame,
                s * 0.01,
            );
        }
        let mut pb = PathBuilder::new();
        pb.move_to(cx - head_rx * 0.45 + s * 0.05, head_cy - head_ry * 0.08);
        pb.line_to(cx + head_rx * 0.45 - s * 0.05, head_cy - head_ry * 0.08);
        stroke(&mut pm, pb.finish(), &frame, s * 0.01);
    }

    // Hair on top.
    let hair = solid(f.hair_colour, 255);
    let top = head_cy - head_ry;
    match f.hair {
        Hair::Bald => {}
        Hair::Curly => {
            for i in 0..11 {
                let a = std::f32::consts::PI * (0.95 + i as f32 * 0.11);
                let (x, y) = (
                    cx + a.cos() * head_rx * 1.0,
                    head_cy + a.sin() * head_ry * 0.95,
                );
                fill(&mut pm, PathBuilder::from_circle(x, y, s * 0.06), &hair);
            }
        }
        style => {
            let mut pb = PathBuilder::new();
            pb.move_to(cx - head_rx * 1.04, head_cy);
            pb.cubic_to(
                cx - head_rx * 1.1,
                top - head_ry * 0.25,
                cx + head_rx * 1.1,
                top - head_ry * 0.25,
                cx + head_rx * 1.04,
                head_cy,
            );
            let fringe = if style == Hair::SidePart { 0.55 } else { 0.35 };
            pb.quad_to(
                cx + head_rx * 0.6,
                top + head_ry * fringe,
                cx - head_rx * 0.2,
                top + head_ry * 0.3,
            );
            pb.quad_to(
                cx - head_rx * 0.8,
                top + head_ry * 0.35,
                cx - head_rx * 1.04,
                head_cy,
            );
            pb.close();
            fill(&mut pm, pb.finish(), &hair);
            if style == Hair::Bun {
                fill(
                    &mut pm,
                    PathBuilder::from_circle(cx, top - s * 0.04, s * 0.07),
                    &hair,
                );
            }
        }
    }

    if f.hat {
        let hat = solid(mix(f.clothes, [0, 0, 0], 0.3), 255);
        fill(
            &mut pm,
            oval(cx, top + head_ry * 0.15, head_rx * 1.7, s * 0.035),
            &hat,
        );
        let mut pb = PathBuilder::new();
        pb.move_to(cx - head_rx * 0.85, top + head_ry * 0.12);
        pb.quad_to(
            cx - head_rx * 0.2,
            top - s * 0.3,
            cx + head_rx * 0.1,
            top - s * 0.32,
        );
        pb.quad_to(
            cx + head_rx * 0.4,
            top - s * 0.12,
            cx + head_rx * 0.85,
            top + head_ry * 0.12,
        );
        pb.close();
        fill(&mut pm, pb.finish(), &hat);
    }

    pm.encode_png().ok()
}

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
