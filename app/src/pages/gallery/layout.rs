//! Where each tile of the gallery goes: a justified layout (rows of images at their own
//! aspect ratio, each full row stretched to the width, like a photo app), grouped by the
//! day the images were made, each day under a heading. Plain arithmetic on numbers,
//! tested here; `grid` turns it into elements, and only the ones in view.

use std::ops::Range;

/// The narrowest and the widest aspect ratio a tile keeps: a panorama or a sliver is
/// shown cropped to these, so that no row is a strip and no tile a line.
pub const MIN_RATIO: f64 = 0.4;
pub const MAX_RATIO: f64 = 3.0;

/// One image, as the layout sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Item {
    /// Width over height (unknown sizes are square).
    pub ratio: f64,
    /// The day it was made, counted in days from 1970-01-01 in the viewer's time zone.
    pub day: i64,
}

impl Item {
    /// An image of `width` × `height` (either unknown or zero: square).
    pub fn new(width: Option<u32>, height: Option<u32>, day: i64) -> Self {
        let ratio = match (width, height) {
            (Some(w), Some(h)) if w > 0 && h > 0 => f64::from(w) / f64::from(h),
            _ => 1.0,
        };
        Self {
            ratio: ratio.clamp(MIN_RATIO, MAX_RATIO),
            day,
        }
    }
}

/// The space the layout fills, in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    pub width: f64,
    /// The height a row aims at: full rows come out near it, a day's last row is it.
    pub row_height: f64,
    pub gap: f64,
    /// The height of a day's heading (with its space below).
    pub heading: f64,
}

impl Metrics {
    /// The metrics for a grid `width` pixels wide: smaller rows on a phone.
    pub fn for_width(width: f64) -> Self {
        let row_height = if width < 600.0 {
            120.0
        } else if width < 1000.0 {
            170.0
        } else {
            210.0
        };
        Self {
            width: width.max(1.0),
            row_height,
            gap: if width < 600.0 { 4.0 } else { 8.0 },
            heading: 48.0,
        }
    }
}

/// A tile's place, relative to the grid's top left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
}

/// A day's heading, and the first tile under it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Heading {
    pub day: i64,
    pub y: f64,
    pub first: usize,
}

/// Every tile's place and every heading's, and how tall it all is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    pub cells: Vec<Rect>,
    pub headings: Vec<Heading>,
    pub height: f64,
}

/// Lays the items out in order: a heading at every change of day, then rows. A row takes
/// images until at the aimed height they would fill the width, then is scaled to fill
/// it exactly; a day's last row stays at the aimed height, left-aligned.
pub fn justify(items: &[Item], m: Metrics) -> Layout {
    let mut layout = Layout {
        cells: Vec::with_capacity(items.len()),
        headings: Vec::new(),
        height: 0.0,
    };
    let mut y = 0.0;
    let mut start = 0;
    while start < items.len() {
        let day = items[start].day;
        let end = items[start..]
            .iter()
            .position(|i| i.day != day)
            .map_or(items.len(), |n| start + n);
        layout.headings.push(Heading {
            day,
            y,
            first: start,
        });
        y += m.heading;
        y = place_rows(&items[start..end], m, y, &mut layout.cells);
        start = end;
    }
    layout.height = if items.is_empty() { 0.0 } else { y - m.gap };
    layout
}

/// Places one day's images in rows from `y`; returns where the next thing starts.
fn place_rows(items: &[Item], m: Metrics, mut y: f64, cells: &mut Vec<Rect>) -> f64 {
    let mut row_start = 0;
    let mut sum = 0.0;
    for (i, item) in items.iter().enumerate() {
        sum += item.ratio;
        let count = (i - row_start + 1) as f64;
        let natural = sum * m.row_height + m.gap * (count - 1.0);
        if natural >= m.width {
            let h = (m.width - m.gap * (count - 1.0)) / sum;
            put_row(&items[row_start..=i], h, y, m.gap, cells);
            y += h + m.gap;
            row_start = i + 1;
            sum = 0.0;
        }
    }
    if row_start < items.len() {
        put_row(&items[row_start..], m.row_height, y, m.gap, cells);
        y += m.row_height + m.gap;
    }
    y
}

fn put_row(row: &[Item], h: f64, y: f64, gap: f64, cells: &mut Vec<Rect>) {
    let mut x = 0.0;
    for item in row {
        let w = item.ratio * h;
        cells.push(Rect { x, y, w, h });
        x += w + gap;
    }
}

impl Layout {
    /// The tiles that cross the band from `top` to `bottom` (rows only go down, so two
    /// binary searches find them).
    pub fn visible(&self, top: f64, bottom: f64) -> Range<usize> {
        let start = self.cells.partition_point(|c| c.bottom() < top);
        let end = self.cells.partition_point(|c| c.y <= bottom);
        start..end.max(start)
    }

    /// The headings that cross the band from `top` to `bottom`, `height` tall each.
    pub fn visible_headings(&self, top: f64, bottom: f64, height: f64) -> Range<usize> {
        let start = self.headings.partition_point(|h| h.y + height < top);
        let end = self.headings.partition_point(|h| h.y <= bottom);
        start..end.max(start)
    }
}

/// A day's heading: "Today", "Yesterday", else the date ("2 December 2026").
pub fn day_label(day: i64, today: i64) -> String {
    match today - day {
        0 => "Today".to_owned(),
        1 => "Yesterday".to_owned(),
        _ => {
            let (y, m, d) = civil_from_days(day);
            format!("{d} {} {y}", crate::format::MONTHS[(m - 1) as usize])
        }
    }
}

/// The calendar date of a day counted from 1970-01-01 (proleptic Gregorian; Howard
/// Hinnant's `civil_from_days`, so that the wasm needs no date library for it).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The day (from 1970-01-01) of a moment `ms` milliseconds after the epoch, for a viewer
/// `offset_minutes` ahead of UTC.
pub fn day_of(ms: i64, offset_minutes: i64) -> i64 {
    (ms + offset_minutes * 60_000).div_euclid(86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIDE: Metrics = Metrics {
        width: 1000.0,
        row_height: 200.0,
        gap: 10.0,
        heading: 40.0,
    };

    fn items(ratios: &[f64], day: i64) -> Vec<Item> {
        ratios.iter().map(|&ratio| Item { ratio, day }).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn full_rows_fill_the_width_and_keep_every_aspect_ratio() {
        let list = items(&[1.5, 1.0, 0.75, 2.0, 1.0, 1.0, 1.5, 0.5, 1.0, 1.2], 0);
        let layout = justify(&list, WIDE);
        assert_eq!(layout.cells.len(), list.len());
        // Every tile keeps its image's shape.
        for (c, i) in layout.cells.iter().zip(&list) {
            assert!(close(c.w / c.h, i.ratio), "{c:?} for {i:?}");
        }
        // Rows: tiles that share a top; every row but the last ends at the right edge.
        let mut rows: Vec<Vec<Rect>> = Vec::new();
        for c in &layout.cells {
            match rows.last_mut() {
                Some(row) if close(row[0].y, c.y) => row.push(*c),
                _ => rows.push(vec![*c]),
            }
        }
        assert!(rows.len() >= 2);
        for row in &rows[..rows.len() - 1] {
            let last = row.last().unwrap();
            assert!(close(last.x + last.w, WIDE.width), "{row:?}");
            // Near the aimed height: not stretched to more than double nor squashed.
            assert!(row[0].h > WIDE.row_height * 0.5 && row[0].h <= WIDE.row_height * 1.01);
            // The gap between neighbours.
            for pair in row.windows(2) {
                assert!(close(pair[1].x, pair[0].x + pair[0].w + WIDE.gap));
            }
        }
        // The last row stays at the aimed height and does not reach the edge.
        let last = rows.last().unwrap();
        assert!(close(last[0].h, WIDE.row_height));
        assert!(last.last().unwrap().x + last.last().unwrap().w < WIDE.width);
        // Rows follow each other with the gap; the height ends at the last row.
        for pair in rows.windows(2) {
            assert!(close(pair[1][0].y, pair[0][0].bottom() + WIDE.gap));
        }
        assert!(close(layout.height, last[0].bottom()));
        assert_eq!(layout.headings.len(), 1);
        assert!(close(layout.cells[0].y, WIDE.heading));
    }

    #[test]
    fn each_day_starts_under_its_own_heading() {
        let mut list = items(&[1.0, 1.0], 20_000);
        list.extend(items(&[1.0, 1.0, 1.0], 19_999));
        let layout = justify(&list, WIDE);
        assert_eq!(
            layout
                .headings
                .iter()
                .map(|h| (h.day, h.first))
                .collect::<Vec<_>>(),
            [(20_000, 0), (19_999, 2)]
        );
        // The second day's heading is under the first day's (short) row, its tiles under it.
        let second = layout.headings[1];
        assert!(second.y >= layout.cells[1].bottom());
        assert!(close(layout.cells[2].y, second.y + WIDE.heading));
        assert!(close(layout.cells[2].x, 0.0));
    }

    #[test]
    fn odd_sizes_are_brought_into_bounds() {
        assert!(close(Item::new(Some(4000), Some(100), 0).ratio, MAX_RATIO));
        assert!(close(Item::new(Some(10), Some(1000), 0).ratio, MIN_RATIO));
        assert!(close(Item::new(None, Some(100), 0).ratio, 1.0));
        assert!(close(Item::new(Some(0), Some(0), 0).ratio, 1.0));
        assert!(close(Item::new(Some(300), Some(200), 0).ratio, 1.5));
        // The widest image alone on a phone still fits the width.
        let phone = Metrics::for_width(360.0);
        let layout = justify(&[Item::new(Some(4000), Some(100), 0)], phone);
        assert!(layout.cells[0].w <= phone.width + 1e-6);
        assert!(justify(&[], phone).cells.is_empty());
        assert!(close(justify(&[], phone).height, 0.0));
    }

    #[test]
    fn only_the_tiles_in_view_are_found() {
        let list = items(&[1.0; 10_000], 0);
        let layout = justify(&list, WIDE);
        // Square tiles aimed at 200 px, 1000 px wide rows, 10 px gaps: five a row (192 px).
        let per_row = layout
            .cells
            .iter()
            .filter(|c| close(c.y, WIDE.heading))
            .count();
        assert_eq!(per_row, 5);
        let range = layout.visible(50_000.0, 50_800.0);
        // A screen of 800 px shows four or five rows: a few dozen tiles of ten thousand.
        assert!(
            range.len() >= 4 * per_row && range.len() <= 6 * per_row,
            "{range:?}"
        );
        for i in range.clone() {
            let c = layout.cells[i];
            assert!(c.bottom() >= 50_000.0 && c.y <= 50_800.0);
        }
        // The tiles just outside are not in it.
        assert!(layout.cells[range.start - 1].bottom() < 50_000.0);
        assert!(layout.cells[range.end].y > 50_800.0);
        // Above everything and below everything: nothing.
        assert!(layout.visible(-500.0, -1.0).is_empty());
        assert!(layout
            .visible(layout.height + 1.0, layout.height + 900.0)
            .is_empty());
        assert_eq!(layout.visible_headings(0.0, 10.0, WIDE.heading), 0..1);
        assert!(layout
            .visible_headings(5_000.0, 6_000.0, WIDE.heading)
            .is_empty());
    }

    #[test]
    fn days_read_as_people_say_them() {
        assert_eq!(day_label(20_000, 20_000), "Today");
        assert_eq!(day_label(19_999, 20_000), "Yesterday");
        // 2026-12-02 is day 20 789.
        assert_eq!(day_label(20_789, 20_800), "2 December 2026");
        assert_eq!(day_label(0, 20_800), "1 January 1970");
        assert_eq!(day_label(11_016, 20_800), "29 February 2000");
        // A viewer three hours behind UTC still sees the evening of the day before.
        let ms = 20_789 * 86_400_000 + 60 * 60_000; // 01:00 UTC on 2 December
        assert_eq!(day_of(ms, 0), 20_789);
        assert_eq!(day_of(ms, -180), 20_788);
        assert_eq!(day_of(ms, 60), 20_789);
    }
}
