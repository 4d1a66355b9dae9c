//! The gallery's state and logic, as plain Rust beside the page (like [`JobBook`]): the
//! filter read from the address, the live merge of what changed since the first page was
//! read, and the words after a bulk action. [`Gallery`] holds the page's signals (one `Copy`
//! value to hand to the parts); everything it decides is in the pure functions below, which
//! are tested here.
//!
//! [`JobBook`]: crate::live::JobBook

use leptos::prelude::*;
use model::{BulkAction, Character, Image, ImageFilter};

use crate::components::Notice;

/// Images read per page.
pub const PAGE_SIZE: u32 = 48;
/// The most images one page may ask for with `?limit=`.
pub const MAX_PAGE_SIZE: u32 = 100;

/// The filter in the address (`?q=&kind=&favorite=&collection=&view=trash&limit=&cursor=`),
/// so that a filtered gallery can be bookmarked and works before hydration (`cursor` is the
/// page to start from: how pages follow each other without JavaScript). Unknown or empty
/// values are no filter; a page size outside 1 to [`MAX_PAGE_SIZE`] is brought inside.
pub fn filter_from_query(get: impl Fn(&str) -> Option<String>) -> ImageFilter {
    ImageFilter {
        q: get("q").filter(|s| !s.trim().is_empty()),
        kind: get("kind").and_then(|k| k.parse().ok()),
        favorite: get("favorite").map(|f| f == "true" || f == "on"),
        collection_id: get("collection").filter(|s| !s.is_empty()),
        trashed: Some(get("view").as_deref() == Some("trash")),
        limit: Some(
            get("limit")
                .and_then(|l| l.trim().parse::<u32>().ok())
                .map_or(PAGE_SIZE, |l| l.clamp(1, MAX_PAGE_SIZE)),
        ),
        cursor: get("cursor").filter(|s| !s.is_empty()),
        ..ImageFilter::default()
    }
}

/// The address of the page of `filter` that starts at `cursor` (the same filters, the
/// page size only when not the default): the "Show more" link, which works without
/// JavaScript; without a cursor, the first page.
pub fn page_link(filter: &ImageFilter, cursor: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(q) = &filter.q {
        query.append_pair("q", q);
    }
    if let Some(kind) = filter.kind {
        query.append_pair("kind", kind.as_str());
    }
    if let Some(favorite) = filter.favorite {
        query.append_pair("favorite", if favorite { "true" } else { "false" });
    }
    if let Some(collection) = &filter.collection_id {
        query.append_pair("collection", collection);
    }
    if filter.trashed == Some(true) {
        query.append_pair("view", "trash");
    }
    if let Some(limit) = filter.limit.filter(|l| *l != PAGE_SIZE) {
        query.append_pair("limit", &limit.to_string());
    }
    if let Some(cursor) = cursor {
        query.append_pair("cursor", cursor);
    }
    let query = query.finish();
    if query.is_empty() {
        "/gallery".to_owned()
    } else {
        format!("/gallery?{query}")
    }
}

/// How a click picks images: one more or one less, or every image from the one clicked
/// before to this one (a click with Shift).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Toggle,
    Range,
}

/// The selection after picking `id` in `images` (in the grid's order), `anchor` being the
/// image picked before. A range selects everything between the two, both included, and
/// keeps what was selected; without an anchor still in the list it is a toggle.
pub fn pick(
    selected: &[String],
    images: &[Image],
    anchor: Option<&str>,
    id: &str,
    how: Pick,
) -> Vec<String> {
    let position = |x: &str| images.iter().position(|i| i.id == x);
    let mut out = selected.to_vec();
    match (how, anchor.and_then(position), position(id)) {
        (Pick::Range, Some(a), Some(b)) => {
            for image in &images[a.min(b)..=a.max(b)] {
                if !out.contains(&image.id) {
                    out.push(image.id.clone());
                }
            }
        }
        _ => match out.iter().position(|x| x == id) {
            Some(at) => {
                out.remove(at);
            }
            None => out.push(id.to_owned()),
        },
    }
    out
}

/// Whether an image belongs in the gallery as filtered (for images that changed live; the
/// server applies the same filter to what it reads).
pub fn shows(f: &ImageFilter, image: &Image) -> bool {
    let text = format!(
        "{} {}",
        image.prompt.as_deref().unwrap_or_default(),
        image.title.as_deref().unwrap_or_default()
    )
    .to_lowercase();
    (f.trashed == Some(true)) == image.deleted_at.is_some()
        && f.kind.is_none_or(|k| k == image.kind)
        && f.favorite.is_none_or(|fav| fav == image.favorite)
        && f.collection_id
            .as_ref()
            .is_none_or(|c| image.collection_id.as_ref() == Some(c))
        && f.character_id
            .as_ref()
            .is_none_or(|c| image.character_id.as_ref() == Some(c))
        && f.parent_id
            .as_ref()
            .is_none_or(|p| image.parent_id.as_ref() == Some(p))
        && f.q.as_deref().is_none_or(|q| {
            q.split_whitespace()
                .all(|w| text.contains(&w.to_lowercase()))
        })
}

/// What changed live since the first page was read: images made, changed or deleted
/// elsewhere (another tab, a job, a script).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveChanges {
    /// The newest state of each changed image, newest first.
    changed: Vec<Image>,
    /// Images deleted for good.
    removed: Vec<String>,
}

impl LiveChanges {
    /// Keeps the newest state of a changed image.
    pub fn upsert(&mut self, image: Image) {
        self.changed.retain(|c| c.id != image.id);
        self.changed.insert(0, image);
    }

    pub fn remove(&mut self, id: String) {
        self.removed.push(id);
    }

    /// What the gallery shows: images that changed and now match the filter but were not
    /// read come first (newest first); the images read keep their order, in their newest
    /// state, unless they no longer match or are gone.
    pub fn merge(&self, filter: &ImageFilter, read: Vec<Image>) -> Vec<Image> {
        if self.changed.is_empty() && self.removed.is_empty() {
            return read;
        }
        let mut shown: Vec<Image> = self
            .changed
            .iter()
            .filter(|c| shows(filter, c) && !read.iter().any(|a| a.id == c.id))
            .cloned()
            .collect();
        for image in read {
            if self.removed.contains(&image.id) {
                continue;
            }
            match self.changed.iter().find(|c| c.id == image.id) {
                Some(changed) if shows(filter, changed) => shown.push(changed.clone()),
                Some(_) => {}
                None => shown.push(image),
            }
        }
        shown
    }
}

/// What the page says after a bulk action: how many were done, and how many not.
pub fn bulk_notice(action: BulkAction, done: usize, failed: usize) -> Notice {
    let text = match action {
        BulkAction::Delete => format!("{done} moved to the trash."),
        BulkAction::Restore => format!("{done} restored."),
        BulkAction::Move => format!("{done} moved."),
        BulkAction::Purge => format!("{done} deleted for good."),
    };
    if failed == 0 {
        Notice::done(text)
    } else {
        Notice {
            ok: false,
            text: format!("{text} {failed} could not be changed."),
        }
    }
}

/// The character to offer an image in the trash back to: the one it was the avatar of
/// when it went there, while that character still exists. (An image in the trash is no
/// one's avatar, whatever an older copy of the character says.)
pub fn avatar_offer(image: &Image, characters: &[Character]) -> Option<Character> {
    let of = image.was_avatar_of.as_deref()?;
    image.deleted_at?;
    characters.iter().find(|c| c.id == of).cloned()
}

/// The page's signals, one `Copy` value for the page and its parts.
#[derive(Clone, Copy)]
pub struct Gallery {
    pub filter: Memo<ImageFilter>,
    /// Whether the trash is shown.
    pub trash: Memo<bool>,
    /// Bumped after every change, to read the first page again.
    pub version: RwSignal<u32>,
    /// Pages after the first, loaded with "Show more".
    pub extra: RwSignal<Vec<Image>>,
    pub cursor: RwSignal<Option<String>>,
    pub loading_more: RwSignal<bool>,
    pub selected: RwSignal<Vec<String>>,
    /// The image picked last, where a range picked with Shift starts.
    pub anchor: RwSignal<Option<String>>,
    /// The index of the image open in the lightbox.
    pub open: RwSignal<Option<usize>>,
    pub message: RwSignal<Option<Notice>>,
    pub show_upload: RwSignal<bool>,
    /// Whether the page is interactive (hydrated): the grid is virtual from then on.
    pub interactive: RwSignal<bool>,
    pub live: RwSignal<LiveChanges>,
}

impl Gallery {
    pub fn new(filter: Memo<ImageFilter>) -> Self {
        Self {
            filter,
            trash: Memo::new(move |_| filter.read().trashed == Some(true)),
            version: RwSignal::new(0),
            extra: RwSignal::new(Vec::new()),
            cursor: RwSignal::new(None),
            loading_more: RwSignal::new(false),
            selected: RwSignal::new(Vec::new()),
            anchor: RwSignal::new(None),
            open: RwSignal::new(None),
            message: RwSignal::new(None),
            show_upload: RwSignal::new(false),
            interactive: RwSignal::new(false),
            live: RwSignal::new(LiveChanges::default()),
        }
    }

    /// Reads the first page again.
    pub fn reread(self) {
        self.version.update(|v| *v += 1);
    }

    /// What the gallery shows: the first page (`first`), the pages read after it, and what
    /// changed live since, as filtered.
    pub fn merged(self, first: Vec<Image>) -> Vec<Image> {
        let mut read = first;
        self.extra.with(|extra| read.extend(extra.iter().cloned()));
        self.live.with(|l| self.filter.with(|f| l.merge(f, read)))
    }

    /// Picks an image of `images` (the grid's list).
    pub fn pick(self, images: &[Image], id: &str, how: Pick) {
        let anchor = self.anchor.get_untracked();
        self.selected
            .update(|s| *s = pick(s, images, anchor.as_deref(), id, how));
        self.anchor.set(Some(id.to_owned()));
    }

    /// Selects every image read so far.
    pub fn select_all(self, images: &[Image]) {
        self.selected
            .set(images.iter().map(|i| i.id.clone()).collect());
    }

    /// A new first page was read: it starts the list over.
    pub fn start_over(self, next_cursor: Option<String>) {
        self.extra.set(Vec::new());
        self.cursor.set(next_cursor);
        self.live.set(LiveChanges::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ImageKind;

    fn image(id: &str, prompt: &str) -> Image {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "kind": "generated",
            "status": "completed",
            "prompt": prompt,
            "url": format!("/media/{id}"),
            "created_at": "2026-12-01T10:00:00Z",
            "updated_at": "2026-12-01T10:00:00Z",
            "favorite": false,
        }))
        .expect("a valid image")
    }

    fn ids(images: &[Image]) -> Vec<&str> {
        images.iter().map(|i| i.id.as_str()).collect()
    }

    #[test]
    fn the_address_becomes_the_filter() {
        let query = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let f = filter_from_query(query(&[
            ("q", "red hair"),
            ("kind", "uploaded"),
            ("favorite", "on"),
            ("collection", "c1"),
            ("view", "trash"),
        ]));
        assert_eq!(f.q.as_deref(), Some("red hair"));
        assert_eq!(f.kind, Some(ImageKind::Uploaded));
        assert_eq!(f.favorite, Some(true));
        assert_eq!(f.collection_id.as_deref(), Some("c1"));
        assert_eq!(f.trashed, Some(true));
        assert_eq!(f.limit, Some(PAGE_SIZE));

        // Blank and unknown values filter nothing; the trash is shown only when asked.
        let f = filter_from_query(query(&[
            ("q", "  "),
            ("kind", "painted"),
            ("collection", ""),
        ]));
        assert_eq!((f.q, f.kind, f.collection_id), (None, None, None));
        assert_eq!(f.trashed, Some(false));

        // The page size: asked for within bounds, else the nearest bound, else the default.
        let limit = |v: &'static [(&'static str, &'static str)]| filter_from_query(query(v)).limit;
        assert_eq!(limit(&[("limit", "100")]), Some(100));
        assert_eq!(limit(&[("limit", "7")]), Some(7));
        assert_eq!(limit(&[("limit", "100000")]), Some(MAX_PAGE_SIZE));
        assert_eq!(limit(&[("limit", "0")]), Some(1));
        assert_eq!(limit(&[("limit", "-3")]), Some(PAGE_SIZE));
        assert_eq!(limit(&[("limit", "many")]), Some(PAGE_SIZE));
    }

    #[test]
    fn search_words_match_prompt_or_title_in_any_case_and_order() {
        let f = ImageFilter {
            q: Some("HAIR red".to_owned()),
            trashed: Some(false),
            ..ImageFilter::default()
        };
        assert!(shows(&f, &image("a", "A girl with red hair")));
        assert!(!shows(&f, &image("b", "A girl with red eyes")));
        let mut titled = image("c", "portrait");
        titled.title = Some("Red hair study".to_owned());
        assert!(shows(&f, &titled));
        // A trashed image is only in the trash.
        let mut trashed = image("d", "red hair");
        trashed.deleted_at = Some(trashed.created_at);
        assert!(!shows(&f, &trashed));
    }

    #[test]
    fn live_changes_merge_into_what_was_read() {
        let f = ImageFilter {
            trashed: Some(false),
            ..ImageFilter::default()
        };
        let read = vec![image("a", "one"), image("b", "two"), image("c", "three")];
        let mut live = LiveChanges::default();
        // Made elsewhere: shown first, newest first.
        live.upsert(image("n1", "new"));
        live.upsert(image("n2", "newer"));
        // Renamed: in place, in its new state.
        let mut renamed = image("b", "two");
        renamed.title = Some("Renamed".to_owned());
        live.upsert(renamed);
        // Moved to the trash: gone from the gallery.
        let mut trashed = image("c", "three");
        trashed.deleted_at = Some(trashed.created_at);
        live.upsert(trashed);
        // Deleted for good.
        live.remove("a".to_owned());

        let shown = live.merge(&f, read);
        assert_eq!(ids(&shown), ["n2", "n1", "b"]);
        assert_eq!(shown[2].title.as_deref(), Some("Renamed"));

        // The trash shows the trashed one, and nothing that is not in the trash.
        let trash = ImageFilter {
            trashed: Some(true),
            ..ImageFilter::default()
        };
        assert_eq!(ids(&live.merge(&trash, Vec::new())), ["c"]);
    }

    #[test]
    fn with_nothing_changed_the_images_read_are_shown_as_read() {
        let read = vec![image("a", "one"), image("b", "two")];
        let trash = ImageFilter {
            trashed: Some(true),
            ..ImageFilter::default()
        };
        // The server chose them by the filter: they are not filtered again.
        assert_eq!(LiveChanges::default().merge(&trash, read.clone()), read);
    }

    #[test]
    fn a_change_seen_twice_is_one_image() {
        let mut live = LiveChanges::default();
        live.upsert(image("x", "first"));
        live.upsert(image("x", "second"));
        let shown = live.merge(&ImageFilter::default(), Vec::new());
        assert_eq!(ids(&shown), ["x"]);
        assert_eq!(shown[0].prompt.as_deref(), Some("second"));
    }

    #[test]
    fn show_more_links_keep_the_filters() {
        let f = ImageFilter {
            q: Some("red & blue hair".to_owned()),
            kind: Some(ImageKind::Uploaded),
            favorite: Some(true),
            collection_id: Some("c1".to_owned()),
            trashed: Some(true),
            limit: Some(PAGE_SIZE),
            cursor: Some("old".to_owned()),
            ..ImageFilter::default()
        };
        let link = page_link(&f, Some("abc+/="));
        assert_eq!(
            link,
            "/gallery?q=red+%26+blue+hair&kind=uploaded&favorite=true&collection=c1&view=trash&cursor=abc%2B%2F%3D"
        );
        // Read back, the link is the same filter at the new cursor.
        let query = link.split_once('?').unwrap().1;
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let back =
            filter_from_query(|k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()));
        assert_eq!(back.cursor.as_deref(), Some("abc+/="));
        assert_eq!(
            ImageFilter {
                cursor: None,
                ..back
            },
            ImageFilter { cursor: None, ..f }
        );
        // A plain gallery: only the cursor (and a page size that is not the default).
        let plain = ImageFilter {
            trashed: Some(false),
            limit: Some(100),
            ..ImageFilter::default()
        };
        assert_eq!(page_link(&plain, Some("c")), "/gallery?limit=100&cursor=c");
        // Back to the newest: no cursor at all.
        assert_eq!(page_link(&ImageFilter::default(), None), "/gallery");
    }

    #[test]
    fn shift_picks_a_range_and_a_plain_pick_toggles() {
        let images: Vec<Image> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|id| image(id, "x"))
            .collect();
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        // One, then another.
        let one = pick(&[], &images, None, "b", Pick::Toggle);
        assert_eq!(one, s(&["b"]));
        // Shift from b to d: b, c and d, whichever way round.
        let range = pick(&one, &images, Some("b"), "d", Pick::Range);
        assert_eq!(range, s(&["b", "c", "d"]));
        let back = pick(&s(&["e"]), &images, Some("e"), "c", Pick::Range);
        assert_eq!(back, s(&["e", "c", "d"]));
        // A plain pick of a selected image lets it go.
        assert_eq!(
            pick(&range, &images, Some("d"), "c", Pick::Toggle),
            s(&["b", "d"])
        );
        // A range from an image no longer listed is a toggle.
        assert_eq!(
            pick(&[], &images, Some("gone"), "a", Pick::Range),
            s(&["a"])
        );
        assert_eq!(pick(&[], &images, None, "a", Pick::Range), s(&["a"]));
    }

    #[test]
    fn bulk_results_in_words() {
        assert_eq!(
            bulk_notice(BulkAction::Delete, 3, 0),
            Notice::done("3 moved to the trash.")
        );
        let partly = bulk_notice(BulkAction::Move, 2, 1);
        assert!(!partly.ok);
        assert_eq!(partly.text, "2 moved. 1 could not be changed.");
        assert_eq!(bulk_notice(BulkAction::Restore, 1, 0).text, "1 restored.");
        assert_eq!(
            bulk_notice(BulkAction::Purge, 2, 1).text,
            "2 deleted for good. 1 could not be changed."
        );
    }

    #[test]
    fn a_trashed_avatar_is_offered_back_to_its_character_while_it_exists() {
        let mut trashed = image("i", "a portrait");
        trashed.deleted_at = Some(chrono::Utc::now());
        let mut ada = serde_json::from_value::<model::Character>(serde_json::json!({
            "id": "c1", "name": "Ada", "description": null, "avatar_image_id": null,
            "avatar_url": null, "avatar_prompt": null, "avatar_generation_config": null,
            "created_at": "2026-12-01T00:00:00Z", "updated_at": "2026-12-01T00:00:00Z"
        }))
        .unwrap();
        let characters = vec![ada.clone()];
        // Not an avatar before it went to the trash: nothing to offer.
        assert!(avatar_offer(&trashed, &characters).is_none());
        trashed.was_avatar_of = Some("c1".to_owned());
        assert_eq!(
            avatar_offer(&trashed, &characters).map(|c| c.name),
            Some("Ada".to_owned())
        );
        // Even when the list read before it went to the trash still names it the avatar.
        ada.avatar_image_id = Some("i".to_owned());
        assert!(avatar_offer(&trashed, &[ada]).is_some());
        // Out of the trash: nothing to offer.
        let mut restored = trashed.clone();
        restored.deleted_at = None;
        assert!(avatar_offer(&restored, &characters).is_none());
        // The character is gone.
        assert!(avatar_offer(&trashed, &[]).is_none());
    }
}
