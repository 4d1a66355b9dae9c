//! The gallery: every image, in a responsive grid with filters (in the address, so they
//! can be bookmarked and work before hydration), pages of results, a lightbox with
//! keyboard navigation and metadata, multi-select with bulk actions, the trash, and the
//! upload panel. The page and its live merge are here; its parts have a file each.

mod filters;
mod import;
mod lightbox;
mod tile;

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};
use model::{BulkAction, Image, ImageEventKind, ImageFilter};

use crate::{
    api::library::{bulk_images, list_characters, list_collections, list_images},
    components::{PageHeader, UploadPanel},
    live::{use_live, Change},
};

use filters::Filters;
use import::ImportForm;
use lightbox::Lightbox;
use tile::{BulkBar, Tile};

/// Keeps the newest state of a changed image (newest first).
fn upsert(changes: RwSignal<Vec<Image>>, image: Image) {
    changes.update(|list| {
        list.retain(|c| c.id != image.id);
        list.insert(0, image);
    });
}

/// Whether an image belongs in the gallery as filtered (for images that changed live).
fn shows(f: &ImageFilter, image: &Image) -> bool {
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
        && f.q.as_deref().is_none_or(|q| {
            q.split_whitespace()
                .all(|w| text.contains(&w.to_lowercase()))
        })
}

const PAGE_SIZE: u32 = 48;

#[component]
pub fn GalleryPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.read();
        ImageFilter {
            q: q.get("q").filter(|s| !s.trim().is_empty()),
            kind: q.get("kind").and_then(|k| k.parse().ok()),
            favorite: q.get("favorite").map(|f| f == "true" || f == "on"),
            collection_id: q.get("collection").filter(|s| !s.is_empty()),
            trashed: Some(q.get("view").as_deref() == Some("trash")),
            limit: Some(PAGE_SIZE),
            ..ImageFilter::default()
        }
    });
    let trash = Memo::new(move |_| filter.read().trashed == Some(true));
    // Bumped after every change, to read the first page again.
    let version = RwSignal::new(0u32);
    let first = Resource::new(
        move || (filter.get(), version.get()),
        |(f, _)| list_images(f),
    );
    // Choices for the selects, read in the browser only: they are not part of the
    // server-rendered page, so hydration never sees them differ.
    let collections = LocalResource::new(move || {
        version.track();
        list_collections(None)
    });
    let characters = LocalResource::new(|| list_characters(None));

    // Pages after the first, loaded with "Show more".
    let extra = RwSignal::new(Vec::<Image>::new());
    let cursor = RwSignal::new(None::<String>);
    let loading_more = RwSignal::new(false);
    let selected = RwSignal::new(Vec::<String>::new());
    let open = RwSignal::new(None::<usize>);
    let message = RwSignal::new(None::<(bool, String)>);
    let show_upload = RwSignal::new(false);

    // Changes seen live since the first page was read: images made, changed or deleted
    // elsewhere (another tab, a job, a script), newest first.
    let live_changes = RwSignal::new(Vec::<Image>::new());
    let live_removed = RwSignal::new(Vec::<String>::new());
    let live = use_live();
    live.on_change(move |change| match change {
        Change::Image(ImageEventKind::Deleted, image) if image.deleted_at.is_none() => {
            live_removed.update(|r| r.push(image.id));
        }
        Change::Image(_, image) => upsert(live_changes, *image),
        Change::Finished(job) => {
            match live
                .book
                .with_untracked(|b| b.images.get(&job.image_id).cloned())
            {
                Some(image) => upsert(live_changes, image),
                None => version.update(|v| *v += 1),
            }
        }
        Change::Reread => version.update(|v| *v += 1),
    });

    // A new first page starts the list over.
    Effect::new(move |_| {
        if let Some(Ok(page)) = first.get() {
            extra.set(Vec::new());
            cursor.set(page.next_cursor.clone());
            live_changes.set(Vec::new());
            live_removed.set(Vec::new());
        }
    });
    // Other filters: nothing stays selected or open. (Not on the first run: a click made
    // right after hydration must not be undone.)
    Effect::new(move |previous: Option<ImageFilter>| {
        let now = filter.get();
        if previous.is_some_and(|p| p != now) {
            selected.set(Vec::new());
            open.set(None);
        }
        now
    });
    let images = Signal::derive(move || {
        let mut all = first
            .get()
            .and_then(Result::ok)
            .map(|p| p.items)
            .unwrap_or_default();
        all.extend(extra.get());
        let f = filter.get();
        let (changes, removed) = (live_changes.get(), live_removed.get());
        let mut shown: Vec<Image> = changes
            .iter()
            .filter(|c| shows(&f, c) && !all.iter().any(|a| a.id == c.id))
            .cloned()
            .collect();
        for image in all {
            if removed.contains(&image.id) {
                continue;
            }
            match changes.iter().find(|c| c.id == image.id) {
                Some(changed) if shows(&f, changed) => shown.push(changed.clone()),
                Some(_) => {}
                None => shown.push(image),
            }
        }
        shown
    });

    let load_more = move |_| {
        let Some(next) = cursor.get_untracked() else {
            return;
        };
        loading_more.set(true);
        let mut f = filter.get_untracked();
        f.cursor = Some(next);
        spawn_local(async move {
            match list_images(f).await {
                Ok(page) => {
                    extra.update(|list| list.extend(page.items));
                    cursor.set(page.next_cursor);
                }
                Err(e) => message.set(Some((false, e.to_string()))),
            }
            loading_more.set(false);
        });
    };

    let refresh = Callback::new(move |()| version.update(|v| *v += 1));
    let run_bulk = move |action: BulkAction, ids: Vec<String>, collection_id: Option<String>| {
        spawn_local(async move {
            match bulk_images(action, ids, collection_id).await {
                Ok(result) => {
                    selected.set(Vec::new());
                    let done = result.done.len();
                    let text = match action {
                        BulkAction::Delete => format!("{done} moved to the trash."),
                        BulkAction::Restore => format!("{done} restored."),
                        BulkAction::Move => format!("{done} moved."),
                    };
                    let failed = result.failed.len();
                    message.set(Some((
                        failed == 0,
                        if failed == 0 {
                            text
                        } else {
                            format!("{text} {failed} could not be changed.")
                        },
                    )));
                    refresh.run(());
                }
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    let collection_options = Signal::derive(move || {
        collections
            .get()
            .and_then(Result::ok)
            .map(|p| p.items)
            .unwrap_or_default()
    });

    let character_options = Signal::derive(move || {
        characters
            .get()
            .and_then(Result::ok)
            .map(|p| p.items)
            .unwrap_or_default()
    });

    view! {
        <Title text=move || if trash.get() { "Trash" } else { "Gallery" } />
        <PageHeader
            title="Gallery"
            lead="Every image you generated, uploaded or imported, searchable and filterable."
        />
        <div class="toolbar">
            <button
                type="button"
                class="button button--primary"
                aria-expanded=move || show_upload.get().to_string()
                aria-controls="upload-panel"
                on:click=move |_| show_upload.update(|s| *s = !*s)
            >
                "Upload images"
            </button>
            {move || if trash.get() {
                view! { <A href="/gallery" attr:class="button">"Back to the gallery"</A> }.into_any()
            } else {
                view! { <A href="/gallery?view=trash" attr:class="button">"Trash"</A> }.into_any()
            }}
            {move || filter.read().collection_id.clone().map(|c| view! {
                <a class="button" href=format!("/api/v1/images/export?collection_id={c}") download="">"Export this collection (ZIP)"</a>
            })}
        </div>
        <section id="upload-panel" class="card upload-panel" hidden=move || !show_upload.get() aria-label="Upload images">
            <UploadPanel
                on_uploaded=refresh
                collection_id=Signal::derive(move || filter.read().collection_id.clone())
            />
            <ImportForm collection_id=Signal::derive(move || filter.read().collection_id.clone()) refresh=refresh />
        </section>
        <Filters filter=filter collections=collection_options />
        {move || message.get().map(|(ok, text)| view! {
            <p class=if ok { "notice notice--ok" } else { "notice notice--error" } role="status">{text}</p>
        })}
        <BulkBar selected=selected trash=trash collections=collection_options run=run_bulk />
        <Transition fallback=|| view! { <GridSkeleton /> }>
            {move || Suspend::new(async move {
                match first.await {
                    Err(e) => view! {
                        <div class="card empty-state" role="alert">
                            <p>"The gallery could not be loaded: " {e.to_string()}</p>
                            <button type="button" class="button" on:click=move |_| refresh.run(())>"Try again"</button>
                        </div>
                    }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <EmptyGallery trash=trash.get_untracked() filtered=filter.get_untracked() /> }.into_any(),
                    Ok(_) => view! {
                        <ul class="grid" aria-label="Images">
                            <For
                                each=move || images.get().into_iter().enumerate()
                                key=|(_, image)| (image.id.clone(), image.updated_at, image.favorite)
                                let:entry
                            >
                                <Tile image=entry.1.clone() index=entry.0 selected=selected open=open />
                            </For>
                        </ul>
                    }.into_any(),
                }
            })}
        </Transition>
        <Show when=move || cursor.get().is_some()>
            <p class="actions actions--center">
                <button type="button" class="button" on:click=load_more disabled=move || loading_more.get()>
                    {move || if loading_more.get() { "Loading…" } else { "Show more" }}
                </button>
            </p>
        </Show>
        <Lightbox images=images open=open trash=trash collections=collection_options characters=character_options refresh=refresh message=message />
    }
    // A type-erased view: the page's full view type is deep enough to hit the compiler's
    // query depth limit in the wasm build.
    .into_any()
}

#[component]
fn GridSkeleton() -> impl IntoView {
    view! {
        <ul class="grid grid--loading" aria-busy="true" aria-label="Loading images">
            {(0..8).map(|_| view! { <li class="tile tile--skeleton"></li> }).collect_view()}
        </ul>
    }
}

#[component]
fn EmptyGallery(trash: bool, filtered: ImageFilter) -> impl IntoView {
    let narrowed = filtered.q.is_some()
        || filtered.kind.is_some()
        || filtered.favorite.is_some()
        || filtered.collection_id.is_some();
    let text = if trash {
        "The trash is empty."
    } else if narrowed {
        "No image matches these filters."
    } else {
        "No images yet. Upload some, or make your first avatar in the Studio."
    };
    view! {
        <div class="card empty-state">
            <p>{text}</p>
            {(narrowed && !trash).then(|| view! { <A href="/gallery" attr:class="button">"Clear the filters"</A> })}
            {(!narrowed && !trash).then(|| view! { <A href="/studio" attr:class="button">"Go to the Studio"</A> })}
        </div>
    }
}
