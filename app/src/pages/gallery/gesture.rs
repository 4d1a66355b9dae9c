//! The lightbox's touch gestures as plain Rust: one finger swiping sideways goes to the
//! next or previous image (on the original, it moves the picture about instead); two
//! fingers spreading apart zoom to the original, pinching together go back to the fitted
//! picture. The component feeds it pointer events and
//! does what each [`Step`] says; nothing here touches the page.

/// How far a finger must travel sideways to go to the next image, in CSS pixels.
pub(super) const SWIPE_PX: f64 = 60.0;
/// Spread this much (the fingers' distance grown by a quarter) and the original opens.
pub(super) const ZOOM_IN_AT: f64 = 1.25;
/// Pinch this much on the original and the fitted picture comes back.
pub(super) const ZOOM_OUT_AT: f64 = 0.8;
/// A press that moved the original less than this is still a click (back to the fit).
const CLICK_SLOP_PX: f64 = 6.0;
/// How far the picture follows the fingers while they move (it snaps after).
const SCALE_RANGE: (f64, f64) = (0.5, 4.0);

/// A point on the screen (client coordinates, CSS pixels).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Point {
    pub x: f64,
    pub y: f64,
}

impl Point {
    pub(super) fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }

    fn distance(self, other: Point) -> f64 {
        (self.x - other.x).hypot(self.y - other.y)
    }

    fn middle(self, other: Point) -> Point {
        Point::new((self.x + other.x) / 2.0, (self.y + other.y) / 2.0)
    }
}

/// What the lightbox should do after a pointer event.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Step {
    /// Nothing to show.
    Nothing,
    /// Two fingers are moving: show the picture scaled by `scale` about `around`.
    Scale { scale: f64, around: Point },
    /// A swipe ended: go this many images on (1 next, -1 previous).
    Go(isize),
    /// One finger moved on the original: scroll it by this much (the picture follows the
    /// finger, so the scroll goes the other way).
    Pan { dx: f64, dy: f64 },
    /// A spread ended: show the original, keeping the point at `around` under the fingers.
    ZoomIn { around: Point },
    /// A pinch on the original ended: back to the fitted picture.
    ZoomOut,
    /// A gesture ended short of anything: undo whatever `Scale` showed.
    Settle,
}

#[derive(Clone, Copy, Debug)]
struct Finger {
    id: i32,
    at: Point,
}

#[derive(Clone, Copy, Debug)]
struct Pinch {
    /// The fingers' distance when the second one came down.
    from: f64,
    around: Point,
    scale: f64,
}

/// One gesture's state, from the first finger down to the last one up.
#[derive(Debug, Default)]
pub(super) struct Gesture {
    fingers: Vec<Finger>,
    /// Where a one-finger swipe began (only on the fitted picture).
    swipe_from: Option<Point>,
    /// On the original: where the finger was last, and how far it has moved in all.
    pan: Option<(Point, f64)>,
    pinch: Option<Pinch>,
    /// A pinch ended while a finger stayed down: that finger swipes nothing.
    spent: bool,
}

impl Gesture {
    /// A finger (or the mouse) went down. `zoomed`: the original is shown, where one
    /// finger scrolls instead of swiping.
    pub(super) fn down(&mut self, id: i32, at: Point, zoomed: bool) -> Step {
        if self.fingers.iter().any(|f| f.id == id) || self.fingers.len() >= 2 {
            return Step::Nothing;
        }
        self.fingers.push(Finger { id, at });
        match self.fingers.as_slice() {
            [_] => {
                self.spent = false;
                self.swipe_from = (!zoomed).then_some(at);
                self.pan = zoomed.then_some((at, 0.0));
            }
            [a, b] => {
                self.swipe_from = None;
                self.pan = None;
                let from = a.at.distance(b.at);
                if from >= 1.0 {
                    self.pinch = Some(Pinch {
                        from,
                        around: a.at.middle(b.at),
                        scale: 1.0,
                    });
                }
            }
            _ => {}
        }
        Step::Nothing
    }

    /// A finger moved.
    pub(super) fn moved(&mut self, id: i32, at: Point) -> Step {
        let Some(finger) = self.fingers.iter_mut().find(|f| f.id == id) else {
            return Step::Nothing;
        };
        finger.at = at;
        match (&mut self.pinch, self.fingers.as_slice()) {
            (Some(pinch), [a, b]) => {
                pinch.scale =
                    (a.at.distance(b.at) / pinch.from).clamp(SCALE_RANGE.0, SCALE_RANGE.1);
                Step::Scale {
                    scale: pinch.scale,
                    around: pinch.around,
                }
            }
            (None, [_]) => match &mut self.pan {
                Some((last, moved)) => {
                    let (dx, dy) = (last.x - at.x, last.y - at.y);
                    *moved += dx.hypot(dy);
                    *last = at;
                    Step::Pan { dx, dy }
                }
                None => Step::Nothing,
            },
            _ => Step::Nothing,
        }
    }

    /// A finger went up. The first finger up ends a pinch.
    pub(super) fn up(&mut self, id: i32, at: Point, zoomed: bool) -> Step {
        let Some(i) = self.fingers.iter().position(|f| f.id == id) else {
            return Step::Nothing;
        };
        self.fingers.remove(i);
        if let Some(pinch) = self.pinch.take() {
            self.spent = !self.fingers.is_empty();
            return if !zoomed && pinch.scale >= ZOOM_IN_AT {
                Step::ZoomIn {
                    around: pinch.around,
                }
            } else if zoomed && pinch.scale <= ZOOM_OUT_AT {
                Step::ZoomOut
            } else {
                Step::Settle
            };
        }
        if !self.fingers.is_empty() || std::mem::take(&mut self.spent) {
            return Step::Nothing;
        }
        if let Some((_, moved)) = self.pan.take() {
            // A drag is not also a click on the picture.
            return if moved >= CLICK_SLOP_PX {
                Step::Settle
            } else {
                Step::Nothing
            };
        }
        match self.swipe_from.take() {
            Some(from) if (at.x - from.x).abs() >= SWIPE_PX => {
                Step::Go(if at.x < from.x { 1 } else { -1 })
            }
            _ => Step::Nothing,
        }
    }

    /// The browser took the gesture over (or the pointer left): forget it.
    pub(super) fn cancel(&mut self) -> Step {
        let pinching = self.pinch.is_some();
        *self = Self::default();
        if pinching {
            Step::Settle
        } else {
            Step::Nothing
        }
    }
}

/// A wheel turned with Ctrl held, which is how a trackpad's pinch reaches the page: up
/// (a spread) opens the original around the pointer, down goes back to the fitted picture.
pub(super) fn wheel(ctrl: bool, delta_y: f64, at: Point, zoomed: bool) -> Step {
    match (ctrl, zoomed) {
        (true, false) if delta_y < 0.0 => Step::ZoomIn { around: at },
        (true, true) if delta_y > 0.0 => Step::ZoomOut,
        _ => Step::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: f64, y: f64) -> Point {
        Point::new(x, y)
    }

    #[test]
    fn a_swipe_goes_on_or_back_by_its_direction_and_a_short_one_does_nothing() {
        let mut g = Gesture::default();
        g.down(1, p(300.0, 200.0), false);
        assert_eq!(g.up(1, p(200.0, 210.0), false), Step::Go(1));
        g.down(2, p(100.0, 200.0), false);
        assert_eq!(g.up(2, p(200.0, 200.0), false), Step::Go(-1));
        g.down(3, p(100.0, 200.0), false);
        assert_eq!(g.up(3, p(150.0, 200.0), false), Step::Nothing);
    }

    #[test]
    fn one_finger_on_the_original_moves_it_and_a_drag_is_no_click() {
        let mut g = Gesture::default();
        g.down(1, p(300.0, 200.0), true);
        // The picture follows the finger: the scroll goes the other way.
        assert_eq!(
            g.moved(1, p(280.0, 230.0)),
            Step::Pan {
                dx: 20.0,
                dy: -30.0
            }
        );
        assert_eq!(
            g.moved(1, p(100.0, 230.0)),
            Step::Pan { dx: 180.0, dy: 0.0 }
        );
        // No swipe to another image, and the press that moved is not a click.
        assert_eq!(g.up(1, p(100.0, 230.0), true), Step::Settle);
        // A press that hardly moved is a click (back to the fit, by the button).
        g.down(2, p(300.0, 200.0), true);
        g.moved(2, p(302.0, 201.0));
        assert_eq!(g.up(2, p(302.0, 201.0), true), Step::Nothing);
        // The mouse moving with no button down moves nothing.
        assert_eq!(g.moved(3, p(0.0, 0.0)), Step::Nothing);
    }

    #[test]
    fn spreading_two_fingers_zooms_in_around_where_they_started() {
        let mut g = Gesture::default();
        g.down(1, p(100.0, 100.0), false);
        g.down(2, p(200.0, 100.0), false);
        assert_eq!(
            g.moved(2, p(250.0, 100.0)),
            Step::Scale {
                scale: 1.5,
                around: p(150.0, 100.0)
            }
        );
        assert_eq!(
            g.moved(1, p(50.0, 100.0)),
            Step::Scale {
                scale: 2.0,
                around: p(150.0, 100.0)
            }
        );
        assert_eq!(
            g.up(1, p(50.0, 100.0), false),
            Step::ZoomIn {
                around: p(150.0, 100.0)
            }
        );
        // The finger left down swipes nothing when it goes up, however far it went.
        g.moved(2, p(600.0, 100.0));
        assert_eq!(g.up(2, p(600.0, 100.0), false), Step::Nothing);
        // And the next gesture is a gesture again.
        g.down(3, p(300.0, 100.0), false);
        assert_eq!(g.up(3, p(100.0, 100.0), false), Step::Go(1));
    }

    #[test]
    fn a_small_spread_settles_back_and_a_pinch_on_the_original_zooms_out() {
        let mut g = Gesture::default();
        g.down(1, p(100.0, 100.0), false);
        g.down(2, p(200.0, 100.0), false);
        g.moved(2, p(210.0, 100.0));
        assert_eq!(g.up(2, p(210.0, 100.0), false), Step::Settle);
        g.up(1, p(100.0, 100.0), false);

        g.down(1, p(100.0, 100.0), true);
        g.down(2, p(300.0, 100.0), true);
        assert_eq!(
            g.moved(2, p(220.0, 100.0)),
            Step::Scale {
                scale: 0.6,
                around: p(200.0, 100.0)
            }
        );
        assert_eq!(g.up(2, p(220.0, 100.0), true), Step::ZoomOut);
        // Spreading on the original is already as far as it goes.
        g.up(1, p(100.0, 100.0), true);
        g.down(1, p(100.0, 100.0), true);
        g.down(2, p(200.0, 100.0), true);
        g.moved(2, p(400.0, 100.0));
        assert_eq!(g.up(2, p(400.0, 100.0), true), Step::Settle);
    }

    #[test]
    fn the_scale_shown_is_held_within_its_range_and_a_third_finger_is_ignored() {
        let mut g = Gesture::default();
        g.down(1, p(100.0, 100.0), false);
        g.down(2, p(110.0, 100.0), false);
        assert_eq!(g.down(3, p(500.0, 500.0), false), Step::Nothing);
        assert_eq!(g.moved(3, p(900.0, 900.0)), Step::Nothing);
        assert!(matches!(g.moved(2, p(1000.0, 100.0)), Step::Scale { scale, .. } if scale == 4.0));
        assert!(matches!(g.moved(2, p(101.0, 100.0)), Step::Scale { scale, .. } if scale == 0.5));
        assert_eq!(g.up(3, p(0.0, 0.0), false), Step::Nothing);
    }

    #[test]
    fn a_cancelled_gesture_is_forgotten_and_undoes_a_scale() {
        let mut g = Gesture::default();
        g.down(1, p(100.0, 100.0), false);
        assert_eq!(g.cancel(), Step::Nothing);
        assert_eq!(g.up(1, p(0.0, 100.0), false), Step::Nothing);
        g.down(1, p(100.0, 100.0), false);
        g.down(2, p(200.0, 100.0), false);
        g.moved(2, p(300.0, 100.0));
        assert_eq!(g.cancel(), Step::Settle);
        assert_eq!(g.up(2, p(300.0, 100.0), false), Step::Nothing);
    }

    #[test]
    fn a_trackpad_pinch_zooms_in_at_the_pointer_and_out_again() {
        let at = p(40.0, 30.0);
        assert_eq!(wheel(true, -3.0, at, false), Step::ZoomIn { around: at });
        assert_eq!(wheel(true, -3.0, at, true), Step::Nothing);
        assert_eq!(wheel(true, 3.0, at, true), Step::ZoomOut);
        assert_eq!(wheel(true, 3.0, at, false), Step::Nothing);
        // A plain wheel scrolls.
        assert_eq!(wheel(false, -3.0, at, false), Step::Nothing);
        assert_eq!(wheel(false, 3.0, at, true), Step::Nothing);
    }
}
