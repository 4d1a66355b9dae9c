//! Drawing the portrait with tiny-skia: one step per part, in painting order.
//!
//! Over 500 lines because each part of the face is its own small drawing function, in one
//! place so that their order and shared geometry stay visible.

use tiny_skia::{
    Color, FillRule, GradientStop, LinearGradient, Paint, Path, PathBuilder, Pixmap, Point,
    RadialGradient, Rect, Shader, SpreadMode, Stroke, Transform,
};

use super::features::{Features, Hair};

pub(super) fn hsl(h: f32, s: f32, l: f32) -> [u8; 3] {
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

pub(super) fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let mut out = [0; 3];
    for i in 0..3 {
        out[i] = (f32::from(a[i]) * (1.0 - t) + f32::from(b[i]) * t).round() as u8;
    }
    out
}

pub(super) fn colour(c: [u8; 3], alpha: u8) -> Color {
    Color::from_rgba8(c[0], c[1], c[2], alpha)
}

pub(super) fn solid(c: [u8; 3], alpha: u8) -> Paint<'static> {
    let mut paint = Paint::default();
    paint.set_color(colour(c, alpha));
    paint.anti_alias = true;
    paint
}

pub(super) fn shaded(shader: Option<Shader<'static>>, fallback: [u8; 3]) -> Paint<'static> {
    match shader {
        Some(shader) => Paint {
            shader,
            anti_alias: true,
            ..Paint::default()
        },
        None => solid(fallback, 255),
    }
}

pub(super) fn oval(cx: f32, cy: f32, rx: f32, ry: f32) -> Option<Path> {
    PathBuilder::from_oval(Rect::from_xywh(cx - rx, cy - ry, rx * 2.0, ry * 2.0)?)
}

/// Where the portrait's parts go, from the canvas' size.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    w: f32,
    h: f32,
    /// The shorter side: every part scales with it.
    s: f32,
    cx: f32,
    /// The bottom edge, where the shoulders end.
    base: f32,
    head_cy: f32,
    head_rx: f32,
    head_ry: f32,
    skin_dark: [u8; 3],
    id: Transform,
}

/// The portrait being drawn: one method per part, in painting order.
struct Canvas<'a> {
    pm: Pixmap,
    f: &'a Features,
    g: Geometry,
}

impl<'a> Canvas<'a> {
    fn new(f: &'a Features, width: u32, height: u32) -> Option<Self> {
        let pm = Pixmap::new(width, height)?;
        let (w, h) = (width as f32, height as f32);
        let s = w.min(h);
        let base = h / 2.0 + s * 0.5;
        let g = Geometry {
            w,
            h,
            s,
            cx: w / 2.0,
            base,
            head_cy: base - s * 0.56,
            head_rx: s * 0.17 * f.look.head_width,
            head_ry: s * 0.21,
            skin_dark: mix(f.look.skin, [60, 30, 20], 0.25),
            id: Transform::identity(),
        };
        Some(Self { pm, f, g })
    }

    fn fill(&mut self, path: Option<Path>, paint: &Paint<'_>) {
        if let Some(p) = path {
            self.pm
                .fill_path(&p, paint, FillRule::Winding, self.g.id, None);
        }
    }

    fn stroke(&mut self, path: Option<Path>, paint: &Paint<'_>, width: f32) {
        if let Some(p) = path {
            let st = Stroke {
                width,
                line_cap: tiny_skia::LineCap::Round,
                ..Stroke::default()
            };
            self.pm.stroke_path(&p, paint, &st, self.g.id, None);
        }
    }

    /// A vertical gradient and soft circles of light.
    fn background(&mut self) -> Option<()> {
        let Geometry { w, h, s, id, .. } = self.g;
        let f = self.f;
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
        self.pm.fill_rect(
            Rect::from_xywh(0.0, 0.0, w, h)?,
            &shaded(bg, f.background.0),
            id,
            None,
        );
        for &(x, y, r, a) in &f.bokeh {
            self.fill(
                PathBuilder::from_circle(x * w, y * h, r * s),
                &solid([255, 255, 250], a),
            );
        }
        Some(())
    }

    /// Long hair, falling behind the shoulders.
    fn long_hair(&mut self) {
        let Geometry {
            s,
            cx,
            base,
            head_cy,
            head_rx,
            head_ry,
            ..
        } = self.g;
        let f = self.f;
        // Long hair falls behind the shoulders.
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
        self.fill(
            pb.finish(),
            &solid(mix(f.look.hair_colour, [0, 0, 0], 0.15), 255),
        );
    }

    /// Shoulders and a collar, the neck, then a V of skin.
    fn body(&mut self) {
        let Geometry {
            s,
            cx,
            base,
            head_cy,
            head_rx,
            head_ry,
            skin_dark,
            id,
            ..
        } = self.g;
        let f = self.f;
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
        self.fill(pb.finish(), &shaded(cloth, f.clothes));
        // The neck, then a V of skin.
        self.fill(
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
        self.fill(pb.finish(), &solid(skin_dark, 255));
    }

    /// Ears, and earrings when worn.
    fn ears(&mut self) {
        let Geometry {
            s,
            cx,
            head_cy,
            head_rx,
            skin_dark,
            ..
        } = self.g;
        let f = self.f;
        // Ears and earrings.
        for side in [-1.0f32, 1.0] {
            let ex = cx + side * head_rx * 0.98;
            self.fill(
                oval(ex, head_cy + s * 0.01, s * 0.028, s * 0.045),
                &solid(skin_dark, 255),
            );
            if f.look.earrings {
                self.fill(
                    PathBuilder::from_circle(ex, head_cy + s * 0.065, s * 0.012),
                    &solid([230, 195, 80], 255),
                );
            }
        }
    }

    /// The head, lit from the upper left.
    fn head(&mut self) {
        let Geometry {
            cx,
            head_cy,
            head_rx,
            head_ry,
            skin_dark,
            id,
            ..
        } = self.g;
        let f = self.f;
        // The head, lit from the upper left.
        let face = RadialGradient::new(
            Point::from_xy(cx - head_rx * 0.35, head_cy - head_ry * 0.4),
            Point::from_xy(cx, head_cy),
            head_ry * 1.3,
            vec![
                GradientStop::new(0.0, colour(mix(f.look.skin, [255, 255, 255], 0.15), 255)),
                GradientStop::new(1.0, colour(skin_dark, 255)),
            ],
            SpreadMode::Pad,
            id,
        );
        self.fill(
            oval(cx, head_cy, head_rx, head_ry),
            &shaded(face, f.look.skin),
        );
    }

    /// A beard along the jaw.
    fn beard(&mut self) {
        let Geometry {
            cx,
            head_cy,
            head_rx,
            head_ry,
            ..
        } = self.g;
        let f = self.f;
        // A beard along the jaw.
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
        self.fill(pb.finish(), &solid(f.look.hair_colour, 255));
    }

    /// Cheeks, eyes, brows, nose and mouth.
    fn face(&mut self) {
        let Geometry {
            s,
            cx,
            head_cy,
            head_rx,
            head_ry,
            skin_dark,
            ..
        } = self.g;
        let f = self.f;
        // Cheeks, eyes, brows, nose, mouth.
        for side in [-1.0f32, 1.0] {
            let x = cx + side * head_rx * 0.45;
            self.fill(
                PathBuilder::from_circle(
                    x + side * head_rx * 0.1,
                    head_cy + head_ry * 0.3,
                    s * 0.03,
                ),
                &solid([235, 120, 120], 50),
            );
            self.fill(
                oval(x, head_cy - head_ry * 0.05, s * 0.034, s * 0.022),
                &solid([250, 250, 250], 255),
            );
            self.fill(
                PathBuilder::from_circle(x, head_cy - head_ry * 0.05, s * 0.017),
                &solid(f.look.eyes, 255),
            );
            self.fill(
                PathBuilder::from_circle(x, head_cy - head_ry * 0.05, s * 0.008),
                &solid([20, 20, 25], 255),
            );
            self.fill(
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
            self.stroke(
                pb.finish(),
                &solid(mix(f.look.hair_colour, [0, 0, 0], 0.2), 255),
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
        self.stroke(
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
        self.stroke(pb.finish(), &solid([150, 60, 60], 255), s * 0.012);
    }

    /// Round glasses and their bridge.
    fn glasses(&mut self) {
        let Geometry {
            s,
            cx,
            head_cy,
            head_rx,
            head_ry,
            ..
        } = self.g;
        let frame = solid([30, 30, 35], 255);
        for side in [-1.0f32, 1.0] {
            let x = cx + side * head_rx * 0.45;
            self.stroke(
                PathBuilder::from_circle(x, head_cy - head_ry * 0.05, s * 0.05),
                &frame,
                s * 0.01,
            );
        }
        let mut pb = PathBuilder::new();
        pb.move_to(cx - head_rx * 0.45 + s * 0.05, head_cy - head_ry * 0.08);
        pb.line_to(cx + head_rx * 0.45 - s * 0.05, head_cy - head_ry * 0.08);
        self.stroke(pb.finish(), &frame, s * 0.01);
    }

    /// Hair on top of the head, by style.
    fn hair_on_top(&mut self) {
        let Geometry {
            s,
            cx,
            head_cy,
            head_rx,
            head_ry,
            ..
        } = self.g;
        let f = self.f;
        // Hair on top.
        let hair = solid(f.look.hair_colour, 255);
        let top = head_cy - head_ry;
        match f.look.hair {
            Hair::Bald => {}
            Hair::Curly => {
                for i in 0..11 {
                    let a = std::f32::consts::PI * (0.95 + i as f32 * 0.11);
                    let (x, y) = (
                        cx + a.cos() * head_rx * 1.0,
                        head_cy + a.sin() * head_ry * 0.95,
                    );
                    self.fill(PathBuilder::from_circle(x, y, s * 0.06), &hair);
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
                self.fill(pb.finish(), &hair);
                if style == Hair::Bun {
                    self.fill(
                        PathBuilder::from_circle(cx, top - s * 0.04, s * 0.07),
                        &hair,
                    );
                }
            }
        }
    }

    /// A hat: brim and crown.
    fn hat(&mut self) {
        let Geometry {
            s,
            cx,
            head_cy,
            head_rx,
            head_ry,
            ..
        } = self.g;
        let top = head_cy - head_ry;
        let f = self.f;
        let hat = solid(mix(f.clothes, [0, 0, 0], 0.3), 255);
        self.fill(
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
        self.fill(pb.finish(), &hat);
    }
}

/// Draws the portrait; `None` only if the canvas cannot be made.
pub(super) fn render(f: &Features, width: u32, height: u32) -> Option<Vec<u8>> {
    let mut canvas = Canvas::new(f, width, height)?;
    canvas.background()?;
    if f.look.hair == Hair::Long {
        canvas.long_hair();
    }
    canvas.body();
    canvas.ears();
    canvas.head();
    if f.look.beard {
        canvas.beard();
    }
    canvas.face();
    if f.look.glasses {
        canvas.glasses();
    }
    canvas.hair_on_top();
    if f.hat {
        canvas.hat();
    }
    canvas.pm.encode_png().ok()
}
