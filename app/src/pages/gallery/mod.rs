//! The gallery: every image, in a responsive grid with filters (in the address, so they
//! can be bookmarked and work before hydration), pages of results, a lightbox with
//! keyboard navigation and metadata, multi-select with bulk actions, the trash, and the
//! upload panel. The page is here; its state and logic (the filter, the live merge) are
//! in `state`, and its parts have a file each.

mod details;
mod filters;
mod first_page;
mod gesture;
mod grid;
mod import;
mod layout;
mod lightbox;
mod lineage;
#[cfg(feature = "ssr")]
mod server_tiles;
mod shares;
mod state;
mod tile;

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use model::{images_of, BulkAction, ImageEventKind, ImageFilter};

use crate::{
    api::{
        client::call,
        library::{BulkImages, EmptyTrash, ListCharacters, ListCollections, ListImageCards},
    },
    browser_resource::browser_resource,
    components::{handler, ConfirmButton, EmptyState, Notice, NoticeLine, PageHeader, UploadPanel},
    hydration_codec::QuotesSwappedJson,
    live::{use_live, Change},
};

use filters::Filters;
use first_page::{first_page, FirstPage};
use grid::{Grid, MorePages};
use import::ImportForm;
use lightbox::Lightbox;
use state::{bulk_notice, filter_from_query, Gallery, Pick, MAX_PAGE_SIZE};
use tile::{BulkBar, TileHooks};

// Long because of its view: the logic is in `state`, the parts in their own files.
#[component]
pub fn GalleryPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.read();
        filter_from_query(|name| q.get(name))
    });
    let g = Gallery::new(filter);
    let Gallery {
        filter,
        trash,
        version,
        extra,
        cursor,
        loading_more,
        selected,
        open,
        message,
        show_upload,
        ..
    } = g;
    // Cards, not whole images: the first page is also the hydration data (`ImageCard`),
    // handed over with its quotes swapped (the page's largest literal, `hydration_codec`).
    let first = Resource::<_, QuotesSwappedJson>::new_with_options(
        move || (filter.get(), version.get()),
        |(f, _)| call(ListImageCards { filter: f }),
        false,
    );
    // Choices for the selects, read in the browser only: they are not part of the
    // server-rendered page, so hydration never sees them differ.
    let collections = browser_resource(move || {
        version.track();
        ListCollections { cursor: None }
    });
    let characters = browser_resource(|| ListCharacters { cursor: None });

    let live = use_live();
    live.on_change(move |change| match change {
        Change::Image(ImageEventKind::Deleted, image) if image.deleted_at.is_none() => {
            g.live.update(|l| l.remove(image.id));
        }
        Change::Image(_, image) => g.live.update(|l| l.upsert(*image)),
        Change::Finished(job) => {
            match live
                .book
                .with_untracked(|b| b.images.get(&job.image_id).cloned())
            {
                Some(image) => g.live.update(|l| l.upsert(image)),
                None => g.reread(),
            }
        }
        Change::Reread => g.reread(),
    });

    Effect::new(move |_| g.interactive.set(true));
    // A new first page starts the list over.
    Effect::new(move |_| {
        if let Some(Ok(page)) = first.get() {
            g.start_over(page.next_cursor.clone());
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
    // The list the lightbox and the picks go by (derived: read when needed). The grid
    // makes its own from the page it was drawn with, inside the <Transition>.
    let images = Signal::derive(move || {
        g.merged(
            first
                .get()
                .and_then(Result::ok)
                .map(|p| images_of(p.items))
                .unwrap_or_default(),
        )
    });

    // The next page (when there is one and it is not on its way already), of the most a
    // page may hold: people who scroll want many.
    let load_more = Callback::new(move |()| {
        if loading_more.get_untracked() {
            return;
        }
        let Some(next) = cursor.get_untracked() else {
            return;
        };
        loading_more.set(true);
        let mut f = filter.get_untracked();
        f.cursor = Some(next);
        f.limit = Some(MAX_PAGE_SIZE);
        spawn_local(async move {
            match call(ListImageCards { filter: f }).await {
                Ok(page) => {
                    extra.update(|list| list.extend(images_of(page.items)));
                    cursor.set(page.next_cursor);
                }
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
            loading_more.set(false);
        });
    });
    let hooks = TileHooks {
        selected,
        open,
        pick: Callback::new(move |(id, how): (String, Pick)| {
            images.with_untracked(|list| g.pick(list, &id, how));
        }),
    };
    let select_all = Callback::new(move |()| images.with_untracked(|list| g.select_all(list)));

    let refresh = Callback::new(move |()| g.reread());
    let run_bulk = move |action: BulkAction, ids: Vec<String>, collection_id: Option<String>| {
        spawn_local(async move {
            match call(BulkImages {
                action,
                ids,
                collection_id,
            })
            .await
            {
                Ok(result) => {
                    selected.set(Vec::new());
                    message.set(Some(bulk_notice(
                        action,
                        result.done.len(),
                        result.failed.len(),
                    )));
                    refresh.run(());
                }
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
        });
    };
    let empty_all = move || {
        spawn_local(async move {
            match call(EmptyTrash {}).await {
                Ok(result) => {
                    selected.set(Vec::new());
                    message.set(Some(Notice::done(format!(
                        "The trash is empty: {} deleted for good.",
                        tile::images_word(usize::try_from(result.deleted).unwrap_or(usize::MAX))
                    ))));
                    refresh.run(());
                }
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
        });
    };
    // Opens an image of the lineage: where it is in the list, else added after it.
    let walk = Callback::new(move |image: model::Image| {
        let find = |id: &str| images.with_untracked(|list| list.iter().position(|i| i.id == id));
        let id = image.id.clone();
        if find(&id).is_none() {
            extra.update(|list| list.push(image));
        }
        if let Some(i) = find(&id) {
            open.set(Some(i));
        }
    });
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
                on:click=handler(move |_| show_upload.update(|s| *s = !*s))
            >
                "Upload images"
            </button>
            {move || if trash.get() {
                view! {
                    <a href="/gallery" class="button">"Back to the gallery"</a>
                    <ConfirmButton
                        label="Empty the trash"
                        question=Signal::derive(|| "Delete every image in the trash for good? This cannot be undone.".to_owned())
                        confirm="Empty the trash"
                        on_confirm=Callback::new(move |()| empty_all())
                    />
                }.into_any()
            } else {
                view! { <a href="/gallery?view=trash" class="button">"Trash"</a> }.into_any()
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
        <NoticeLine notice=message />
        <BulkBar selected=selected trash=trash collections=collection_options run=run_bulk />
        <Transition fallback=|| view! { <GridSkeleton /> }>
            {move || Suspend::new(async move {
                match first_page(first).await {
                    Err(e) => view! {
                        <div class="card empty-state" role="alert">
                            <p>"The gallery could not be loaded: " {e.to_string()}</p>
                            <button type="button" class="button" on:click=handler(move |_| refresh.run(()))>"Try again"</button>
                        </div>
                    }.into_any(),
                    Ok(FirstPage::Empty) => view! { <EmptyGallery trash=trash.get_untracked() filtered=filter.get_untracked() /> }.into_any(),
                    Ok(FirstPage::Images { next_cursor, tiles, read }) => {
                        view! {
                        <Grid images=Signal::derive(move || g.merged(read.clone())) tiles=tiles hooks=hooks select_all=select_all near_end=load_more interactive=g.interactive />
                        <MorePages first=next_cursor g=g load_more=load_more />
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <Lightbox images=images open=open trash=trash collections=collection_options characters=character_options refresh=refresh message=message walk=walk />
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
    let (title, text) = if trash {
        (
            "The trash is empty.",
            "Images you delete wait here, to be restored, until the cleanup deletes them for good.",
        )
    } else if narrowed {
        (
            "No image matches these filters.",
            "Try other words, or another kind or collection.",
        )
    } else {
        (
            "No images yet.",
            "Upload some, import one from the web, or make your first avatar in the Studio.",
        )
    };
    view! {
        <EmptyState title=title text=text>
            {(narrowed && !trash).then(|| view! { <a href="/gallery" class="button">"Clear the filters"</a> })}
            {(!narrowed && !trash).then(|| view! { <a href="/studio" class="button button--primary">"Go to the Studio"</a> })}
        </EmptyState>
    }
}
