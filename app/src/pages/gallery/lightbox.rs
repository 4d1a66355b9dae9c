//! The lightbox: one image large, keyboard navigation, its details, renaming, editing,
//! sharing, its lineage, and in the trash restoring or deleting for good.

use leptos::{prelude::*, task::spawn_local};
use model::{
    BulkAction, Character, Collection, Image, UpdateCollectionRequest, UpdateImageRequest,
};

use crate::{
    api::library::{bulk_images, set_character_avatar, update_collection, update_image},
    components::{ConfirmButton, EditForm, Notice, Picture},
    format::{file_size, when},
};

use super::{lineage::Lineage, shares::SharePanel, state::avatar_offer};

// Long because of its view: the image, its details, and every action on it.
#[component]
pub(super) fn Lightbox(
    images: Signal<Vec<Image>>,
    open: RwSignal<Option<usize>>,
    trash: Memo<bool>,
    collections: Signal<Vec<Collection>>,
    characters: Signal<Vec<Character>>,
    refresh: Callback<()>,
    message: RwSignal<Option<Notice>>,
    /// Opens another image (one of the lineage).
    walk: Callback<Image>,
) -> impl IntoView {
    let make_avatar = move |character_id: String, image_id: String| {
        spawn_local(async move {
            match set_character_avatar(character_id, image_id).await {
                Ok(c) => message.set(Some(Notice::done(format!("Now the avatar of {}.", c.name)))),
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
        });
    };
    // Out of the trash, and the avatar of the character it was the avatar of again.
    let restore_as_avatar = move |character: Character, image_id: String| {
        spawn_local(async move {
            let restored = bulk_images(BulkAction::Restore, vec![image_id.clone()], None).await;
            let done = match restored {
                Ok(_) => set_character_avatar(character.id.clone(), image_id).await,
                Err(e) => Err(e),
            };
            match done {
                Ok(c) => {
                    message.set(Some(Notice::done(format!(
                        "Restored: the avatar of {} again.",
                        c.name
                    ))));
                    open.set(None);
                    refresh.run(());
                }
                Err(e) => message.set(Some(Notice::failed(&e))),
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
                Ok(c) => message.set(Some(Notice::done(format!("Now the cover of {}.", c.name)))),
                Err(e) => message.set(Some(Notice::failed(&e))),
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
        // Arrows move the caret in a field being typed in, not to another image.
        let typing = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        match ev.key().as_str() {
            "Escape" => open.set(None),
            "ArrowRight" if !typing => step(1),
            "ArrowLeft" if !typing => step(-1),
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());

    let change = move |id: String, request: UpdateImageRequest, done: &'static str| {
        spawn_local(async move {
            match update_image(id, request).await {
                Ok(_) => {
                    message.set(Some(Notice::done(done)));
                    refresh.run(());
                }
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
        });
    };
    let remove = move |id: String, action: BulkAction| {
        spawn_local(async move {
            match bulk_images(action, vec![id], None).await {
                Ok(_) => {
                    message.set(Some(Notice::done(match action {
                        BulkAction::Delete => "Moved to the trash.",
                        BulkAction::Purge => "Deleted for good.",
                        _ => "Restored.",
                    })));
                    open.set(None);
                    refresh.run(());
                }
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
        });
    };

    view! {
        {move || current.get().map(|image| {
            let id = image.id.clone();
            let label = image.label();
            let (id_fav, id_move, id_del) = (id.clone(), id.clone(), id.clone());
            let favorite = image.favorite;
            let (image_offer, image_lineage) = (image.clone(), image.clone());
            let shareable = image.has_media() && !trash.get_untracked();
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
                                    let (id, id_purge) = (id_del.clone(), id_del.clone());
                                    let offer = avatar_offer(&image_offer, &characters.get()).map(|c| {
                                        let id = id_del.clone();
                                        let text = format!("Restore as {}’s avatar", c.name);
                                        view! { <button type="button" class="button button--primary" on:click=move |_| restore_as_avatar(c.clone(), id.clone())>{text}</button> }
                                    });
                                    view! {
                                        {offer}
                                        <button type="button" class="button" on:click=move |_| remove(id.clone(), BulkAction::Restore)>"Restore"</button>
                                        <ConfirmButton
                                            label="Delete for good"
                                            question=Signal::derive(|| "Delete this image for good? This cannot be undone.".to_owned())
                                            confirm="Delete for good"
                                            on_confirm=Callback::new(move |()| remove(id_purge.clone(), BulkAction::Purge))
                                        />
                                    }.into_any()
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
                                        {image.has_media().then(|| view! { <EditForm image_id=id_move.clone() message=message /> })}
                                        <button type="button" class="button button--danger" on:click=move |_| remove(did.clone(), BulkAction::Delete)>"Delete"</button>
                                    }.into_any()
                                }}
                            </div>
                            {shareable.then(|| view! { <SharePanel image_id=id.clone() /> })}
                            <Lineage image=image_lineage walk=walk />
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
