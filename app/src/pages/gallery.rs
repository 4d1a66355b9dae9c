//! The gallery: every image, in a responsive grid with filters (in the address, so they
//! can be bookmarked and work before hydration), pages of results, a lightbox with
//! keyboard navigation and metadata, multi-select with bulk actions, the trash, and the
//! upload panel.
//!
//! Over 700 lines for now: it is to become a folder (`pages/gallery/{state, filters,
//! lightbox, bulk, share}.rs` with a `Copy` state struct and the live merge as a tested
//! pure function), the app part of the tidy-up issue, still open.

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::{
    components::{Form, A},
    hooks::use_query_map,
};
use model::{
    BulkAction, Character, Collection, Image, ImageEventKind, ImageFilter, ImageKind,
    UpdateCollectionRequest, UpdateImageRequest,
};

use crate::{
    api::library::{
        bulk_images, import_image, list_characters, list_collections, list_images,
        set_character_avatar, share_image, update_collection, update_image,
    },
    components::{PageHeader, Picture, UploadPanel},
    format::{file_size, when},
    live::{use_live, Change},
};

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
fn Filters(filter: Memo<ImageFilter>, collections: Signal<Vec<Collection>>) -> impl IntoView {
    let current = move || filter.get();
    view! {
        <Form method="GET" action="" attr:class="filters" attr:role="search">
            <input type="hidden" name="view" value=move || if current().trashed == Some(true) { "trash" } else { "" } />
            <label class="filters__search">
                <span class="visually-hidden">"Search prompts and titles"</span>
                <input type="search" name="q" placeholder="Search prompts and titles" value=move || current().q.unwrap_or_default() />
            </label>
            <label>
                <span class="filters__label">"Kind"</span>
                <select name="kind">
                    <option value="" selected=move || current().kind.is_none()>"All"</option>
                    {ImageKind::ALL.iter().map(|k| {
                        let k = *k;
                        view! { <option value=k.as_str() selected=move || current().kind == Some(k)>{k.as_str()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>
                <span class="filters__label">"Collection"</span>
                <select name="collection">
                    <option value="">"All"</option>
                    {move || {
                        let chosen = current().collection_id;
                        collections.get().into_iter().map(|c| {
                            let selected = chosen.as_deref() == Some(c.id.as_str());
                            view! { <option value=c.id.clone() selected=selected>{c.name.clone()}</option> }
                        }).collect_view()
                    }}
                </select>
            </label>
            <label class="filters__check">
                <input type="checkbox" name="favorite" value="true" checked=move || current().favorite == Some(true) />
                "Favourites"
            </label>
            <button type="submit" class="button">"Apply"</button>
        </Form>
    }
}

#[component]
fn Tile(
    image: Image,
    index: usize,
    selected: RwSignal<Vec<String>>,
    open: RwSignal<Option<usize>>,
) -> impl IntoView {
    let id = image.id.clone();
    let label = image.label();
    let is_selected = {
        let id = id.clone();
        Memo::new(move |_| selected.read().contains(&id))
    };
    let toggle = {
        let id = id.clone();
        move |_| {
            selected.update(|s| {
                if let Some(pos) = s.iter().position(|x| *x == id) {
                    s.remove(pos);
                } else {
                    s.push(id.clone());
                }
            })
        }
    };
    let picture = if image.has_media() {
        view! { <Picture image_id=id.clone() alt=label.clone() square=true width=256 height=256 /> }
            .into_any()
    } else {
        view! { <span class="tile__placeholder">{image.status.as_str()}</span> }.into_any()
    };
    view! {
        <li class="tile" class:tile--selected=move || is_selected.get()>
            <button type="button" class="tile__open" on:click=move |_| open.set(Some(index)) aria-label=format!("Open {label}")>
                {picture}
            </button>
            <label class="tile__select">
                <input type="checkbox" prop:checked=move || is_selected.get() on:change=toggle />
                <span class="visually-hidden">{format!("Select {}", image.label())}</span>
            </label>
            {image.favorite.then(|| view! { <span class="tile__favorite" title="Favourite" aria-label="Favourite">"★"</span> })}
            <span class="tile__caption">{image.label()}</span>
        </li>
    }
}

#[component]
fn BulkBar(
    selected: RwSignal<Vec<String>>,
    trash: Memo<bool>,
    collections: Signal<Vec<Collection>>,
    run: impl Fn(BulkAction, Vec<String>, Option<String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let target = RwSignal::new(String::new());
    view! {
        <Show when=move || !selected.read().is_empty()>
            <div class="bulk-bar" role="toolbar" aria-label="Selected images">
                <strong>{move || format!("{} selected", selected.read().len())}</strong>
                {move || if trash.get() {
                    view! {
                        <button type="button" class="button" on:click=move |_| run(BulkAction::Restore, selected.get(), None)>"Restore"</button>
                    }.into_any()
                } else {
                    view! {
                        <label>
                            <span class="visually-hidden">"Move to collection"</span>
                            <select on:change=move |ev| target.set(event_target_value(&ev)) prop:value=move || target.get()>
                                <option value="">"No collection"</option>
                                {move || collections.get().into_iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <button type="button" class="button" on:click=move |_| {
                            let to = Some(target.get()).filter(|t| !t.is_empty());
                            run(BulkAction::Move, selected.get(), to)
                        }>"Move"</button>
                        <button type="button" class="button button--danger" on:click=move |_| run(BulkAction::Delete, selected.get(), None)>"Delete"</button>
                    }.into_any()
                }}
                <a class="button" href=move || format!("/api/v1/images/export?ids={}", selected.read().join(",")) download="">"Export (ZIP)"</a>
                <button type="button" class="button button--small" on:click=move |_| selected.set(Vec::new())>"Clear selection"</button>
            </div>
        </Show>
    }
}

#[component]
fn Lightbox(
    images: Signal<Vec<Image>>,
    open: RwSignal<Option<usize>>,
    trash: Memo<bool>,
    collections: Signal<Vec<Collection>>,
    characters: Signal<Vec<Character>>,
    refresh: Callback<()>,
    message: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let make_avatar = move |character_id: String, image_id: String| {
        spawn_local(async move {
            match set_character_avatar(character_id, image_id).await {
                Ok(c) => message.set(Some((true, format!("Now the avatar of {}.", c.name)))),
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    let make_cover = move |collection_id: String, image_id: String| {
        spawn_local(async move {
            let change = UpdateCollectionRequest {
                cover_image_id: Some(Some(image_id)),
                ..UpdateCollectionRequest::default()
            };
            match update_collection(collection_id, change).await {
                Ok(c) => message.set(Some((true, format!("Now the cover of {}.", c.name)))),
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    let current = Memo::new(move |_| open.get().and_then(|i| images.read().get(i).cloned()));
    let count = move || images.read().len();
    let step = move |delta: isize| {
        if let Some(i) = open.get_untracked() {
            let n = count() as isize;
            if n > 0 {
                open.set(Some(((i as isize + delta).rem_euclid(n)) as usize));
            }
        }
    };
    let close_button = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if open.get().is_some() {
            if let Some(b) = close_button.get() {
                let _ = b.focus();
            }
        }
    });
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if open.get_untracked().is_none() {
            return;
        }
        match ev.key().as_str() {
            "Escape" => open.set(None),
            "ArrowRight" => step(1),
            "ArrowLeft" => step(-1),
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());

    // The last share link made, kept here rather than in the dialog: the dialog is drawn
    // again whenever the list is read again (after a change, or an event from another
    // tab), and the link must not vanish with it.
    let shared = RwSignal::new(None::<(String, String)>);
    let change = move |id: String, request: UpdateImageRequest, done: &'static str| {
        spawn_local(async move {
            match update_image(id, request).await {
                Ok(_) => {
                    message.set(Some((true, done.to_owned())));
                    refresh.run(());
                }
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    let remove = move |id: String, action: BulkAction| {
        spawn_local(async move {
            match bulk_images(action, vec![id], None).await {
                Ok(_) => {
                    message.set(Some((
                        true,
                        if action == BulkAction::Delete {
                            "Moved to the trash.".to_owned()
                        } else {
                            "Restored.".to_owned()
                        },
                    )));
                    open.set(None);
                    refresh.run(());
                }
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };

    view! {
        {move || current.get().map(|image| {
            let id = image.id.clone();
            let label = image.label();
            let (id_fav, id_move, id_del) = (id.clone(), id.clone(), id.clone());
            let favorite = image.favorite;
            view! {
                <div class="lightbox" role="dialog" aria-modal="true" aria-label=label.clone()>
                    <div class="lightbox__backdrop" on:click=move |_| open.set(None)></div>
                    <div class="lightbox__body">
                        <div class="lightbox__stage">
                            {if image.has_media() {
                                view! { <Picture image_id=id.clone() alt=label.clone() sizes="(min-width: 64rem) 60vw, 100vw" eager=true /> }.into_any()
                            } else {
                                view! { <p class="tile__placeholder">{image.status.as_str()}</p> }.into_any()
                            }}
                        </div>
                        <aside class="lightbox__meta">
                            <h2>{label.clone()}</h2>
                            {(!trash.get_untracked()).then(|| view! {
                                <RenameForm id=id.clone() title=image.title.clone().unwrap_or_default() change=change />
                            })}
                            <dl class="meta">
                                <dt>"Kind"</dt><dd>{image.kind.as_str()}</dd>
                                <dt>"Status"</dt><dd>{image.status.as_str()}</dd>
                                {image.width.zip(image.height).map(|(w, h)| view! { <dt>"Size"</dt><dd>{format!("{w} × {h} px")}</dd> })}
                                {image.bytes.map(|b| view! { <dt>"File"</dt><dd>{format!("{}, {}", image.mime_type.clone().unwrap_or_default(), file_size(b))}</dd> })}
                                {image.prompt.clone().map(|p| view! { <dt>"Prompt"</dt><dd>{p}</dd> })}
                                {image.provider.clone().map(|p| view! { <dt>"Provider"</dt><dd>{format!("{p} {}", image.model.clone().unwrap_or_default())}</dd> })}
                                {image.source_url.clone().map(|u| view! { <dt>"Source"</dt><dd class="meta__url">{u}</dd> })}
                                <dt>"Added"</dt><dd>{when(image.created_at)}</dd>
                                {image.deleted_at.map(|d| view! { <dt>"In the trash since"</dt><dd>{when(d)}</dd> })}
                            </dl>
                            <div class="lightbox__actions">
                                {move || if trash.get() {
                                    let id = id_del.clone();
                                    view! { <button type="button" class="button" on:click=move |_| remove(id.clone(), BulkAction::Restore)>"Restore"</button> }.into_any()
                                } else {
                                    let (fid, did, mid) = (id_fav.clone(), id_del.clone(), id_move.clone());
                                    view! {
                                        <button type="button" class="button" aria-pressed=favorite.to_string() on:click=move |_| change(fid.clone(), UpdateImageRequest { favorite: Some(!favorite), ..UpdateImageRequest::default() }, if favorite { "Removed from favourites." } else { "Added to favourites." })>
                                            {if favorite { "★ Favourite" } else { "☆ Favourite" }}
                                        </button>
                                        <label>
                                            <span class="filters__label">"Collection"</span>
                                            <select on:change=move |ev| {
                                                let value = event_target_value(&ev);
                                                change(mid.clone(), UpdateImageRequest { collection_id: Some(Some(value).filter(|v| !v.is_empty())), ..UpdateImageRequest::default() }, "Moved.")
                                            }>
                                                <option value="" selected=image.collection_id.is_none()>"No collection"</option>
                                                {collections.get().into_iter().map(|c| {
                                                    let selected = image.collection_id.as_deref() == Some(c.id.as_str());
                                                    view! { <option value=c.id.clone() selected=selected>{c.name.clone()}</option> }
                                                }).collect_view()}
                                            </select>
                                        </label>
                                        {image.has_media().then(|| {
                                            let aid = id_move.clone();
                                            view! {
                                                <label>
                                                    <span class="filters__label">"Use as avatar of"</span>
                                                    <select on:change=move |ev| {
                                                        let character = event_target_value(&ev);
                                                        if !character.is_empty() {
                                                            make_avatar(character, aid.clone());
                                                        }
                                                    }>
                                                        <option value="">"Choose a character"</option>
                                                        {characters.get().into_iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                                                    </select>
                                                </label>
                                            }
                                        })}
                                        {image.collection_id.clone().filter(|_| image.has_media()).map(|collection| {
                                            let cid = id_move.clone();
                                            view! {
                                                <button type="button" class="button" on:click=move |_| make_cover(collection.clone(), cid.clone())>"Make collection cover"</button>
                                            }
                                        })}
                                        <a class="button" href=format!("/media/{}", id_move) download="">"Download"</a>
                                        {image.has_media().then(|| view! { <ShareButton id=id_move.clone() shared=shared message=message /> })}
                                        <button type="button" class="button button--danger" on:click=move |_| remove(did.clone(), BulkAction::Delete)>"Delete"</button>
                                    }.into_any()
                                }}
                            </div>
                        </aside>
                        <div class="lightbox__nav">
                            <button type="button" class="button" on:click=move |_| step(-1) aria-label="Previous image">"←"</button>
                            <span>{move || format!("{} of {}", open.get().map_or(0, |i| i + 1), count())}</span>
                            <button type="button" class="button" on:click=move |_| step(1) aria-label="Next image">"→"</button>
                            <button type="button" class="button" node_ref=close_button on:click=move |_| open.set(None) aria-label="Close">"Close"</button>
                        </div>
                    </div>
                </div>
            }
        })}
    }
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

/// Import an image from a web address into the library.
#[component]
fn ImportForm(collection_id: Signal<Option<String>>, refresh: Callback<()>) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<(bool, String)>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let address = url.get_untracked();
        if address.trim().is_empty() {
            return;
        }
        busy.set(true);
        let collection = collection_id.get_untracked();
        spawn_local(async move {
            match import_image(address, collection).await {
                Ok(image) => {
                    result.set(Some((true, format!("Imported “{}”.", image.label()))));
                    url.set(String::new());
                    refresh.run(());
                }
                Err(e) => result.set(Some((false, e.to_string()))),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="form form--inline import-form" on:submit=submit>
            <div class="field">
                <label for="import-url">"Or import from a web address"</label>
                <input id="import-url" type="url" inputmode="url" placeholder="https://…" required
                    prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev)) />
            </div>
            <button type="submit" class="button" disabled=move || busy.get()>
                {move || if busy.get() { "Importing…" } else { "Import" }}
            </button>
        </form>
        {move || result.get().map(|(ok, text)| view! {
            <p class=if ok { "notice notice--ok" } else { "notice notice--error" } role="status">{text}</p>
        })}
    }
}

/// Rename an image (an empty title falls back to the prompt or the kind).
#[component]
fn RenameForm(
    id: String,
    title: String,
    change: impl Fn(String, UpdateImageRequest, &'static str) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let value = RwSignal::new(title);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = value.get_untracked();
        let title = Some(Some(t.trim().to_owned()).filter(|t| !t.is_empty()));
        change(
            id.clone(),
            UpdateImageRequest {
                title,
                ..UpdateImageRequest::default()
            },
            "Renamed.",
        );
    };
    view! {
        <form class="form form--inline" on:submit=submit>
            <label>
                <span class="filters__label">"Title"</span>
                <input type="text" maxlength="200" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
            </label>
            <button type="submit" class="button">"Rename"</button>
        </form>
    }
}

/// A link that opens the image without signing in, for a day. `shared` holds the last one
/// made, as `(image, url)`.
#[component]
fn ShareButton(
    id: String,
    shared: RwSignal<Option<(String, String)>>,
    message: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let share = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            spawn_local(async move {
                match share_image(id.clone(), 24).await {
                    Ok(l) => shared.set(Some((id, l.url))),
                    Err(e) => message.set(Some((false, e.to_string()))),
                }
            });
        }
    };
    let link = move || {
        shared.with(|s| {
            s.as_ref()
                .filter(|(image, _)| *image == id)
                .map(|(_, url)| url.clone())
        })
    };
    view! {
        <button type="button" class="button" on:click=share>"Share link"</button>
        {move || link().map(|url| view! {
            <label class="share-link">
                <span class="filters__label">"Anyone with this link can see the image for 24 hours"</span>
                <input type="text" readonly=true value=url aria-label="Share link" on:focus=move |ev| {
                    let input: web_sys::HtmlInputElement = event_target(&ev);
                    input.select();
                } />
            </label>
        })}
    }
}
