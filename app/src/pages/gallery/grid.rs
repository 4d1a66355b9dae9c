//! The gallery's grid. Server-rendered (and without JavaScript) it is a plain grid of
//! square tiles, the first page. Once the page is interactive it becomes a photo app's
//! grid: justified rows that keep each image's shape, a heading for each day, and only
//! the tiles near the screen in the page (`layout` says where every tile goes; this file
//! keeps the few in view as elements), so that ten thousand images scroll like ten.
//! Nearing the end of what was read asks for the next page.
//!
//! Keyboard: Ctrl/⌘+A selects every image read, Escape lets the selection go; a tile's
//! checkbox picks with Space (a range with Shift+Space).

use std::hash::{DefaultHasher, Hash, Hasher};

use leptos::{ev, prelude::*};
use model::{Image, ImageFilter};

use super::{
    layout::{day_label, day_of, justify, Item, Layout, Metrics, Rect},
    state::{page_link, Gallery},
    tile::{tile_parts, TileHooks},
};
use crate::components::handler;
use crate::markup::Markup;

/// How much beyond the screen, above and below, is kept in the page, in screens: enough
/// that a fast flick never shows an empty row.
const OVERSCAN: f64 = 1.0;
/// How many images a block of the virtual grid holds (see `tiles` in [`VirtualGrid`]).
const BLOCK: usize = 24;
/// How close to the end of what was read (in images) the next page is asked for.
const READ_AHEAD: usize = 60;

/// The grid of the gallery: the plain one until the page is interactive, then the
/// virtual one.
#[component]
pub(super) fn Grid(
    /// The list the grid shows (`Gallery::merged`); read only in the browser.
    images: Signal<Vec<Image>>,
    /// The plain grid's tiles as the server wrote them (`first_page`); empty in the browser.
    tiles: Markup,
    hooks: TileHooks,
    /// Selects every image read.
    select_all: Callback<()>,
    /// Asks for the next page (it knows whether there is one, and whether it is on its way).
    near_end: Callback<()>,
    /// Whether the page is interactive (the page's: a grid drawn again after that is
    /// virtual at once).
    interactive: RwSignal<bool>,
) -> impl IntoView {
    // Merged once per change, not once per reader (the page's list is derived). A grid
    // being replaced (the list read again) can still be asked once after the page it was
    // drawn with is gone: then it is empty.
    let images = Memo::new(move |_| images.try_get().unwrap_or_default());
    let selected = hooks.selected;
    let on_keydown = move |e: ev::KeyboardEvent| {
        let key = e.key();
        if (e.ctrl_key() || e.meta_key()) && key.eq_ignore_ascii_case("a") {
            e.prevent_default();
            select_all.run(());
        } else if key == "Escape" && !selected.read_untracked().is_empty() {
            e.prevent_default();
            selected.set(Vec::new());
        }
    };
    view! {
        <Show
            when=move || interactive.get()
            fallback=move || view! {
                // Shown before the page is interactive (or without JavaScript): the plain
                // grid of the first page, written by the server (`server_tiles`). The
                // browser hydrates the list and keeps the tiles as they came, and the
                // virtual grid replaces them once the page is interactive.
                <ul class="grid" aria-label="Images" on:keydown=handler(on_keydown) inner_html=tiles.clone()></ul>
            }
        >
            <VirtualGrid images=images hooks=hooks near_end=near_end on_keydown=on_keydown />
        </Show>
    }
}

/// Where the screen is, relative to the grid's top, and how wide the grid is.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct View {
    top: f64,
    bottom: f64,
    width: f64,
}

#[component]
fn VirtualGrid(
    images: Memo<Vec<Image>>,
    hooks: TileHooks,
    near_end: Callback<()>,
    on_keydown: impl Fn(ev::KeyboardEvent) + Copy + 'static,
) -> impl IntoView {
    let container = NodeRef::<leptos::html::Div>::new();
    let seen = RwSignal::new(View::default());
    // Also called after the grid is gone (a scroll, a deferred call): then it does nothing.
    let measure = move || {
        let Some(Some(el)) = container.try_get_untracked() else {
            return;
        };
        let rect = el.get_bounding_client_rect();
        let screen = window()
            .inner_height()
            .ok()
            .and_then(|h| h.as_f64())
            .unwrap_or(800.0);
        let _ = seen.try_set(View {
            top: -rect.top(),
            bottom: screen - rect.top(),
            width: f64::from(el.client_width()),
        });
    };
    let scrolled = window_event_listener(ev::scroll, move |_| measure());
    let resized = window_event_listener(ev::resize, move |_| measure());
    on_cleanup(move || {
        scrolled.remove();
        resized.remove();
    });

    let offset = crate::live::utc_offset_minutes();
    let today = day_of(crate::live::now().timestamp_millis(), offset);
    let items = Memo::new(move |_| {
        images.with(|list| {
            list.iter()
                .map(|i| {
                    Item::new(
                        i.width,
                        i.height,
                        day_of(i.created_at.timestamp_millis(), offset),
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    let metrics = Memo::new(move |_| Metrics::for_width(seen.read().width));
    let layout: Memo<Layout> = Memo::new(move |_| items.with(|list| justify(list, metrics.get())));
    // Measured once the grid is in the page, and again whenever its height changed (a
    // scroll bar may have come or gone, and with it some width).
    Effect::new(move |_| {
        container.track();
        layout.track();
        crate::live::defer(measure);
    });
    let band = move || {
        let v = seen.try_get().unwrap_or_default();
        let over = (v.bottom - v.top) * OVERSCAN;
        (v.top - over, v.bottom + over)
    };
    let range = Memo::new(move |_| {
        let (top, bottom) = band();
        layout.with(|l| l.visible(top, bottom))
    });
    let heads = Memo::new(move |_| {
        let (top, bottom) = band();
        let height = metrics.read().heading;
        layout.with(|l| l.visible_headings(top, bottom, height))
    });
    // The end of what was read is near: the next page.
    Effect::new(move |_| {
        let (Some(r), Some(count)) = (range.try_get(), images.try_with(Vec::len)) else {
            return;
        };
        if count > 0 && r.end + READ_AHEAD >= count {
            near_end.run(());
        }
    });
    // The lightbox went to an image away from the screen: the grid follows, so that its
    // tile is there to take the focus back when the lightbox closes.
    Effect::new(move |_| {
        let Some(i) = hooks.open.get() else { return };
        let Some(cell) = layout
            .try_with_untracked(|l| l.cells.get(i).copied())
            .flatten()
        else {
            return;
        };
        let Some(v) = seen.try_get_untracked() else {
            return;
        };
        if cell.y >= v.top && cell.bottom() <= v.bottom {
            return;
        }
        let w = window();
        // Where the grid starts in the page: `v.top` is how far the screen is below it.
        let page_top = w.scroll_y().unwrap_or(0.0) - v.top;
        let screen = v.bottom - v.top;
        w.scroll_to_with_x_and_y(0.0, page_top + cell.y - (screen - cell.h) / 2.0);
        measure();
    });

    // The tiles in view, by blocks of BLOCK images: the list changes when a block comes
    // or goes, not with every row, and a block put before the others moves them all in
    // the document (how a keyed list puts an item first), so that is rare.
    let blocks = Memo::new(move |_| {
        let r = range.get();
        (r.start / BLOCK)..r.end.div_ceil(BLOCK)
    });
    // (Read with `try_`: while a grid drawn again waits to replace this one, this one's
    // memos may be gone and its view still asked.)
    let tiles = move || {
        let b = blocks.try_get().unwrap_or_default();
        images.with(|list| {
            layout.with(|l| {
                b.map(|k| {
                    let tiles: Vec<Placed> = (k * BLOCK..((k + 1) * BLOCK).min(list.len()))
                        .filter_map(|i| Some((i, list.get(i)?.clone(), *l.cells.get(i)?)))
                        .collect();
                    (k, signature(&tiles), tiles)
                })
                .collect::<Vec<_>>()
            })
        })
    };
    let headings = move || {
        let r = heads.try_get().unwrap_or_default();
        layout.with(|l| l.headings.get(r).map(<[_]>::to_vec).unwrap_or_default())
    };
    view! {
        <div class="photo-grid" node_ref=container style:height=move || px(layout.try_with(|l| l.height).unwrap_or_default())>
            // A day or two in view: drawn whole when they change.
            {move || headings().into_iter().map(|h| view! {
                <h2 class="photo-grid__day" style:transform=format!("translateY({})", px(h.y))>
                    {day_label(h.day, today)}
                </h2>
            }).collect_view()}
            <ul class="photo-grid__list" aria-label="Images" on:keydown=handler(on_keydown)>
                <For each=tiles key=|(k, sig, _)| (*k, *sig) let:block>
                    {block.2.into_iter().map(|(index, image, cell)| placed(index, &image, cell, hooks)).collect_view()}
                </For>
            </ul>
        </div>
    }
}

/// A tile of the virtual grid: its image, where it is in the list, and its place.
type Placed = (usize, Image, Rect);

/// What a block shows, in one number: it is drawn again when any of its tiles changed
/// (another image there, renamed, a favourite, another place).
fn signature(tiles: &[Placed]) -> u64 {
    let mut h = DefaultHasher::new();
    for (i, image, cell) in tiles {
        (i, &image.id, image.updated_at, image.favorite).hash(&mut h);
        [cell.x, cell.y, cell.w, cell.h]
            .map(f64::to_bits)
            .hash(&mut h);
    }
    h.finish()
}

/// Whole pixels (no float formatting in the wasm): edges are rounded, not sizes, so
/// that neighbours keep their gap and rows their right edge.
fn px(v: f64) -> String {
    format!("{}px", v.round() as i64)
}

fn placed(index: usize, image: &Image, cell: Rect, hooks: TileHooks) -> impl IntoView {
    let (left, top) = (cell.x.round(), cell.y.round());
    let (width, height) = (
        (cell.x + cell.w).round() - left,
        (cell.y + cell.h).round() - top,
    );
    let (is_selected, parts) = tile_parts(image, index, hooks, px(width));
    view! {
        <li
            class="tile tile--placed"
            class:tile--selected=move || is_selected.try_get().unwrap_or(false)
            data-index=index
            style:transform=format!("translate({}, {})", px(left), px(top))
            style:width=px(width)
            style:height=px(height)
        >
            {parts}
        </li>
    }
}

/// After the grid: "Show more", a link to the next page that works without JavaScript
/// (and loads it in place with), what is on its way, and the way back to the newest from
/// a later page.
#[allow(clippy::needless_pass_by_value)] // component properties are owned
#[component]
pub(super) fn MorePages(
    /// The next page after the first, as read with it.
    first: Option<String>,
    g: Gallery,
    load_more: Callback<()>,
) -> impl IntoView {
    // Until the page is interactive, the first page's; then the latest page's.
    let next = move || {
        if g.interactive.get() {
            g.cursor.get()
        } else {
            first.clone()
        }
    };
    let later_page = move || g.filter.read().cursor.is_some();
    let newest = move || {
        let f = g.filter.get();
        page_link(&ImageFilter { cursor: None, ..f }, None)
    };
    view! {
        <p class="actions actions--center more-pages">
            {move || later_page().then(|| view! { <a class="button" href=newest>"Newest first"</a> })}
            {move || next().map(|cursor| view! {
                <a
                    class="button"
                    href=page_link(&g.filter.get_untracked(), Some(&cursor))
                    aria-disabled=move || g.loading_more.get().then_some("true")
                    on:click=handler(move |e: leptos::ev::MouseEvent| {
                        e.prevent_default();
                        load_more.run(());
                    })
                >
                    "Show more"
                </a>
            })}
        </p>
        <p class="more-pages__status" role="status">
            {move || g.loading_more.get().then_some("Loading more images…")}
        </p>
    }
}
