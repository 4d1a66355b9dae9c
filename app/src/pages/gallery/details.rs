//! What the lightbox says about its image and what it can do with it: the title line
//! (renamed in place), the facts, and the actions (favourite, collection, avatar, cover,
//! download, edit, delete; in the trash restore or delete for good).

use leptos::{prelude::*, task::spawn_local};
use model::{
    BulkAction, Character, Collection, Image, UpdateCollectionRequest, UpdateImageRequest,
};

use crate::{
    api::{
        client::call,
        library::{BulkImages, SetCharacterAvatar, UpdateCollection, UpdateImage},
    },
    components::{handler, ConfirmButton, EditForm, Notice},
    format::{file_size, when},
};

use super::state::avatar_offer;

/// The title line: the image's title, else its whole prompt, else what it is.
pub(super) fn title_line(image: &Image) -> String {
    image
        .title
        .clone()
        .filter(|t| !t.is_empty())
        .or_else(|| image.prompt.clone().filter(|p| !p.is_empty()))
        .unwrap_or_else(|| image.label())
}

/// The lightbox's title, with "Rename" beside it that turns it into a field in place.
// A component's props are owned: #[component] builds a props struct from them.
#[allow(clippy::needless_pass_by_value)]
#[component]
pub(super) fn TitleLine(
    image: Image,
    /// Renaming is offered (not in the trash).
    editable: bool,
    message: RwSignal<Option<Notice>>,
    refresh: Callback<()>,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let value = RwSignal::new(image.title.clone().unwrap_or_default());
    let field = NodeRef::<leptos::html::Input>::new();
    let rename_button = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |was: Option<bool>| {
        let now = editing.get();
        if now {
            if let Some(f) = field.get() {
                let _ = f.focus();
                f.select();
            }
        } else if was == Some(true) {
            if let Some(b) = rename_button.get() {
                let _ = b.focus();
            }
        }
        now
    });
    let id = image.id.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = value.get_untracked();
        let request = UpdateImageRequest {
            title: Some(Some(t.trim().to_owned()).filter(|t| !t.is_empty())),
            ..UpdateImageRequest::default()
        };
        let id = id.clone();
        spawn_local(async move {
            match call(UpdateImage {
                id,
                change: request,
            })
            .await
            {
                Ok(_) => {
                    message.set(Some(Notice::done("Renamed.")));
                    editing.set(false);
                    refresh.run(());
                }
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
        });
    };
    let heading = title_line(&image);
    view! {
        <Show
            when=move || editing.get()
            fallback=move || view! {
                <div class="title-line">
                    <h2 class="title-line__text" title=heading.clone()>{heading.clone()}</h2>
                    {editable.then(|| view! {
                        <button type="button" class="button button--small" node_ref=rename_button on:click=handler(move |_| editing.set(true))>"Rename"</button>
                    })}
                </div>
            }
        >
            <form class="title-line title-line--editing" on:submit=handler(save.clone()) on:keydown=handler(move |ev: leptos::ev::KeyboardEvent| {
                if ev.key() == "Escape" {
                    // Only the field: not the lightbox around it.
                    ev.stop_propagation();
                    editing.set(false);
                }
            })>
                <label class="title-line__field">
                    <span class="visually-hidden">"Title"</span>
                    <input type="text" maxlength="200" placeholder="A title (empty: the prompt)" node_ref=field prop:value=move || value.get() on:input=handler(move |ev| value.set(event_target_value(&ev))) />
                </label>
                <button type="submit" class="button button--small button--primary">"Save"</button>
                <button type="button" class="button button--small" on:click=handler(move |_| editing.set(false))>"Cancel"</button>
            </form>
        </Show>
    }
}

/// The facts: kind, status, size, file, prompt, provider, source, dates.
#[allow(clippy::needless_pass_by_value)]
#[component]
pub(super) fn Facts(image: Image) -> impl IntoView {
    view! {
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
    }
}

// Long because of its view: every action on an image, in and out of the trash.
#[component]
pub(super) fn Actions(
    image: Image,
    trash: Memo<bool>,
    collections: Signal<Vec<Collection>>,
    characters: Signal<Vec<Character>>,
    refresh: Callback<()>,
    message: RwSignal<Option<Notice>>,
    /// Closes the lightbox (after the image left the list).
    close: Callback<()>,
) -> impl IntoView {
    let make_avatar = move |character_id: String, image_id: String| {
        spawn_local(async move {
            match call(SetCharacterAvatar {
                id: character_id,
                image_id,
            })
            .await
            {
                Ok(c) => message.set(Some(Notice::done(format!("Now the avatar of {}.", c.name)))),
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
        });
    };
    // Out of the trash, and the avatar of the character it was the avatar of again.
    let restore_as_avatar = move |character: Character, image_id: String| {
        spawn_local(async move {
            let restored = call(BulkImages {
                action: BulkAction::Restore,
                ids: vec![image_id.clone()],
                collection_id: None,
            })
            .await;
            let done = match restored {
                Ok(_) => {
                    call(SetCharacterAvatar {
                        id: character.id.clone(),
                        image_id,
                    })
                    .await
                }
                Err(e) => Err(e),
            };
            match done {
                Ok(c) => {
                    message.set(Some(Notice::done(format!(
                        "Restored: the avatar of {} again.",
                        c.name
                    ))));
                    close.run(());
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
            match call(UpdateCollection {
                id: collection_id,
                change,
            })
            .await
            {
                Ok(c) => message.set(Some(Notice::done(format!("Now the cover of {}.", c.name)))),
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
        });
    };
    let change = move |id: String, request: UpdateImageRequest, done: &'static str| {
        spawn_local(async move {
            match call(UpdateImage {
                id,
                change: request,
            })
            .await
            {
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
            match call(BulkImages {
                action,
                ids: vec![id],
                collection_id: None,
            })
            .await
            {
                Ok(_) => {
                    message.set(Some(Notice::done(match action {
                        BulkAction::Delete => "Moved to the trash.",
                        BulkAction::Purge => "Deleted for good.",
                        _ => "Restored.",
                    })));
                    close.run(());
                    refresh.run(());
                }
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
        });
    };
    let id = image.id.clone();
    let favorite = image.favorite;
    view! {
        <div class="lightbox__actions">
            {move || if trash.get() {
                let (rid, pid) = (id.clone(), id.clone());
                let offer = avatar_offer(&image, &characters.get()).map(|c| {
                    let id = id.clone();
                    let text = format!("Restore as {}’s avatar", c.name);
                    view! { <button type="button" class="button button--primary" on:click=handler(move |_| restore_as_avatar(c.clone(), id.clone()))>{text}</button> }
                });
                view! {
                    {offer}
                    <button type="button" class="button" on:click=handler(move |_| remove(rid.clone(), BulkAction::Restore))>"Restore"</button>
                    <ConfirmButton
                        label="Delete for good"
                        question=Signal::derive(|| "Delete this image for good? This cannot be undone.".to_owned())
                        confirm="Delete for good"
                        on_confirm=Callback::new(move |()| remove(pid.clone(), BulkAction::Purge))
                    />
                }.into_any()
            } else {
                let (fid, did, mid, aid, cid) = (id.clone(), id.clone(), id.clone(), id.clone(), id.clone());
                let has_media = image.has_media();
                let current_collection = image.collection_id.clone();
                view! {
                    <button type="button" class="button" aria-pressed=favorite.to_string() on:click=handler(move |_| change(fid.clone(), UpdateImageRequest { favorite: Some(!favorite), ..UpdateImageRequest::default() }, if favorite { "Removed from favourites." } else { "Added to favourites." }))>
                        {if favorite { "★ Favourite" } else { "☆ Favourite" }}
                    </button>
                    <label>
                        <span class="filters__label">"Collection"</span>
                        <select on:change=handler(move |ev| {
                            let value = event_target_value(&ev);
                            change(mid.clone(), UpdateImageRequest { collection_id: Some(Some(value).filter(|v| !v.is_empty())), ..UpdateImageRequest::default() }, "Moved.")
                        })>
                            <option value="" selected=current_collection.is_none()>"No collection"</option>
                            {collections.get().into_iter().map(|c| {
                                let selected = current_collection.as_deref() == Some(c.id.as_str());
                                view! { <option value=c.id.clone() selected=selected>{c.name.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    {has_media.then(|| view! {
                        <label>
                            <span class="filters__label">"Use as avatar of"</span>
                            <select on:change=handler(move |ev| {
                                let character = event_target_value(&ev);
                                if !character.is_empty() {
                                    make_avatar(character, aid.clone());
                                }
                            })>
                                <option value="">"Choose a character"</option>
                                {characters.get().into_iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                    })}
                    {current_collection.clone().filter(|_| has_media).map(|collection| {
                        let cid = cid.clone();
                        view! {
                            <button type="button" class="button" on:click=handler(move |_| make_cover(collection.clone(), cid.clone()))>"Make collection cover"</button>
                        }
                    })}
                    <a class="button" href=format!("/media/{}", id) download="">"Download"</a>
                    {has_media.then(|| view! { <EditForm image_id=id.clone() message=message /> })}
                    <button type="button" class="button button--danger" on:click=handler(move |_| remove(did.clone(), BulkAction::Delete))>"Delete"</button>
                }.into_any()
            }}
        </div>
    }
}
