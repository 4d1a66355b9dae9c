//! A character's page: its details (edited in place, without rebuilding the page), its
//! avatar and the avatar maker, new images for it, the history of every image made for it
//! (any of which can become the avatar), and deleting it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use model::{images_of, Character, Image, ImageFilter};

use super::{
    avatar::{becomes_avatar, AvatarMaker},
    history::history_row,
    import::ImportForCharacterForm,
    public_link::PublicAvatarPanel,
    variations::Variations,
};
use crate::{
    api::{
        client::call,
        generation::{GenerateAvatar, ListProviders, SaveAvatarSettings},
        library::{
            DeleteCharacter, GetCharacter, ImportForCharacter, ListImageCards, PublishAvatar,
            SaveCharacter, SetCharacterAvatar, SetIdentityReference,
        },
    },
    components::{
        field_error, form_error, show_when, succeeded, Avatar, EmptyState, Field, FormAction,
        FormError, NoticeLine, PageHeader, PostForm, Skeleton, UploadPanel,
    },
    live::{use_live, Change},
};

// Long because of its view: the character is read once and each section shows what the
// actions answer in place (see `latest`), which needs the sections together.
#[component]
pub fn CharacterPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let save = FormAction::<SaveCharacter>::new();
    let avatar = FormAction::<SetCharacterAvatar>::new();
    let delete = FormAction::<DeleteCharacter>::new();
    let generate = FormAction::<GenerateAvatar>::new();
    let settings = FormAction::<SaveAvatarSettings>::new();
    let identity = FormAction::<SetIdentityReference>::new();
    let publish = FormAction::<PublishAvatar>::new();
    let import = FormAction::<ImportForCharacter>::new();
    let uploads = RwSignal::new(0u32);
    // Bumped when one of this character's avatar jobs completes; the new avatar is shown
    // at once, without reading the whole character (and rebuilding the page) again.
    let avatar_made = RwSignal::new(0u32);
    let new_avatar = RwSignal::new(None::<String>);
    // When the request whose first image became the avatar was made (its other images
    // are candidates).
    let avatar_request = RwSignal::new(None::<chrono::DateTime<chrono::Utc>>);
    let live = use_live();
    live.on_change(move |change| {
        if let Change::Finished(job) = change {
            if job.status == model::ImageStatus::Completed
                && job.character_id.as_deref() == Some(id.get_untracked().as_str())
            {
                if becomes_avatar(&job, avatar_request.get_untracked()) {
                    new_avatar.set(Some(job.image_id.clone()));
                    avatar_request.set(Some(job.created_at));
                }
                avatar_made.update(|n| *n += 1);
                // The server decides which image is the avatar: what it says replaces the
                // guess above (a job's event may have arrived before this page listened,
                // or without the job's details). Only the avatar is read into the page.
                let character_id = id.get_untracked();
                let chosen = move || {
                    (
                        avatar.version().get_untracked(),
                        import.version().get_untracked(),
                    )
                };
                let before = chosen();
                leptos::task::spawn_local(async move {
                    if let Ok(c) = call(GetCharacter { id: character_id }).await {
                        // Unless the person chose an avatar meanwhile.
                        if let Some(a) = c.avatar_image_id.filter(|_| chosen() == before) {
                            new_avatar.set(Some(a));
                        }
                    }
                });
            }
        }
    });
    // Read once per character. What an action answers (saved details, settings, a chosen
    // avatar) is shown from `latest` instead of reading the character again: that would
    // rebuild the whole page, its forms and their state, under the person's hands (and a
    // click on the old page while the new one is being made would reach parts already
    // gone).
    let character =
        crate::server_resource::server_resource(move || id.get(), |id| GetCharacter { id });
    // Reference-counted, not in the arena: the title reads it, and on the server
    // leptos_meta formats the title outside the arena, where reading an arena signal panics.
    let latest = ArcRwSignal::new(None::<Character>);
    for value in [
        save.value(),
        avatar.value(),
        settings.value(),
        identity.value(),
        publish.value(),
        import.value(),
    ] {
        let latest = latest.clone();
        Effect::new(move |_| {
            if let Some(Ok(c)) = value.get() {
                latest.set(Some(c));
            }
        });
    }
    // A chosen (or imported) avatar replaces one made meanwhile.
    Effect::new(move |_| {
        avatar.version().track();
        import.version().track();
        new_avatar.set(None);
    });
    let providers = crate::server_resource::server_resource(|| (), |()| ListProviders {});
    // Every image of the character: read with the page (whole on the server and without
    // JavaScript), then read again in place when one may have been added or changed. The
    // rows are keyed, so a row that did not change keeps its elements — a click on one is
    // not lost because another job finished meanwhile.
    let of_character = |id: String| ImageFilter {
        character_id: Some(id),
        limit: Some(200),
        ..ImageFilter::default()
    };
    let history = crate::server_resource::server_resource(
        move || id.get(),
        move |id| ListImageCards {
            filter: of_character(id),
        },
    );
    let reread = RwSignal::new(None::<Vec<Image>>);
    Effect::new(move |seen: Option<String>| {
        let cid = id.get();
        avatar.version().track();
        uploads.track();
        avatar_made.track();
        import.version().track();
        if seen.as_deref() == Some(cid.as_str()) {
            let asked = cid.clone();
            leptos::task::spawn_local(async move {
                if let Ok(page) = call(ListImageCards {
                    filter: of_character(asked.clone()),
                })
                .await
                {
                    if id.get_untracked() == asked {
                        reread.set(Some(images_of(page.items)));
                    }
                }
            });
        } else {
            reread.set(None);
        }
        cid
    });
    view! {
        <Transition fallback=|| view! { <Skeleton /> }>
            {move || {
                let latest = latest.clone();
                Suspend::new(async move {
                    let catalogue = providers.await.unwrap_or_default();
                    let c = match character.await {
                        Ok(c) => c,
                        Err(e) => return view! {
                            <Title text="Character" />
                            <PageHeader title="Character" lead="" />
                            <p class="notice notice--error" role="alert">{e.to_string()}</p>
                            <p><a href="/characters">"All characters"</a></p>
                        }.into_any(),
                    };
                    let (id_save, id_upload, id_delete) = (c.id.clone(), c.id.clone(), c.id.clone());
                    let (id_public, id_import, id_variations) = (c.id.clone(), c.id.clone(), c.id.clone());
                    let (name_field, description_field, appearance_field, prompt_field) = (
                        c.name.clone(),
                        c.description.clone().unwrap_or_default(),
                        c.appearance.clone().unwrap_or_default(),
                        c.avatar_prompt.clone().unwrap_or_default(),
                    );
                    // The character as shown: what the last action answered, else what was read.
                    // A plain closure over `latest`, not a memo: the title reads it, outside
                    // the arena on the server (see `latest`).
                    let shown = {
                        let c = c.clone();
                        move || latest.with(|l| l.clone().filter(|l| l.id == c.id)).unwrap_or_else(|| c.clone())
                    };
                    let name = {
                        let shown = shown.clone();
                        move || shown().name
                    };
                    let cid = c.id.clone();
                    let current = {
                        let shown = shown.clone();
                        move || new_avatar.get().or_else(|| shown().avatar_image_id)
                    };
                    let has_prompt = Signal::derive({
                        let shown = shown.clone();
                        move || shown().avatar_prompt.is_some()
                    });
                    // Until some are chosen, the avatar (also one made while the page is open).
                    let identity_ids = {
                        let shown = shown.clone();
                        let current = current.clone();
                        move || {
                            let c = shown();
                            if c.identity_references_chosen { c.identity_reference_ids } else { current().into_iter().collect() }
                        }
                    };
                    let public_url = {
                        let shown = shown.clone();
                        Signal::derive(move || shown().public_avatar_url)
                    };
                    // An avatar that still lives at an outside address (not yet stored here).
                    let external = {
                        let shown = shown.clone();
                        Signal::derive(move || {
                            let c = shown();
                            c.avatar_url.filter(|_| c.avatar_image_id.is_none() && new_avatar.get().is_none())
                        })
                    };
                    let has_avatar = {
                        let current = current.clone();
                        Signal::derive(move || current().is_some())
                    };
                    let name_title = name.clone();
                    let name_public = Signal::derive(name.clone());
                    let name_h2 = name.clone();
                    let name_delete = name.clone();
                    let current_history = current.clone();
                    view! {
                        <Title text=name_title />
                        <p><a href="/characters">"← All characters"</a></p>
                        <div class="character-head">
                            {
                                let name = name.clone();
                                move || view! { <Avatar image_id=current() name=name() size=128 /> }
                            }
                            {move || view! { <PageHeader title=name() lead=shown().description.unwrap_or_default() /> }}
                        </div>
                        <section class="card" aria-labelledby="edit-character">
                            <h2 id="edit-character">"Details"</h2>
                            <FormError error=form_error(save) />
                            <PostForm action=save class="form">
                                <input type="hidden" name="id" value=id_save />
                                <Field label="Name" name="name" required=true maxlength=100 value=name_field error=field_error(save, "name") />
                                <Field label="Description" name="description" maxlength=2000 value=description_field error=field_error(save, "description") />
                                <Field label="Appearance" name="appearance" kind="textarea" maxlength=2000 value=appearance_field hint="Face, hair, build, distinguishing marks, usual clothes: added to every prompt for this character." error=field_error(save, "appearance") />
                                <Field label="Avatar prompt" name="avatar_prompt" maxlength=4000 value=prompt_field hint="Optional: without one, a portrait from the name, description and appearance." error=field_error(save, "avatar_prompt") />
                                <button type="submit" class="button" disabled=move || save.pending().get()>"Save"</button>
                            </PostForm>
                            <NoticeLine notice=succeeded(save, "Saved.") />
                        </section>
                        <AvatarMaker character=c.clone() has_prompt=has_prompt catalogue=catalogue generate=generate settings=settings made=avatar_made />
                        <Variations id=id_variations />
                        <section class="card" aria-labelledby="add-images">
                            <h2 id="add-images">"Add images"</h2>
                            <UploadPanel on_uploaded=Callback::new(move |()| uploads.update(|n| *n += 1)) character_id=Signal::stored(Some(id_upload)) />
                            <ImportForCharacterForm id=id_import external=external action=import />
                        </section>
                        <PublicAvatarPanel id=id_public name=name_public url=public_url has_avatar=has_avatar action=publish />
                        <section aria-labelledby="history">
                            <h2 id="history">{move || format!("Every image of {}", name_h2())}</h2>
                            <p class="muted">"Identity references (up to 4) go with every image made of this character, to the models that take reference images, so that it stays recognisable. Until you choose some, the avatar is one."</p>
                            <FormError error=form_error(avatar) />
                            <FormError error=form_error(identity) />
                            <NoticeLine notice=succeeded(avatar, "Avatar changed.") />
                            <Transition fallback=|| view! { <Skeleton /> }>
                                {
                                    move || {
                                        let (cid, current, chosen) = (cid.clone(), current_history.clone(), identity_ids.clone());
                                        Suspend::new(async move {
                                            match history.await {
                                                Err(e) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                                                Ok(page) => {
                                                    // As read with the page, until read again.
                                                    let first = images_of(page.items);
                                                    let list = Memo::new(move |_| reread.get().unwrap_or_else(|| first.clone()));
                                                    let empty = move || list.with(Vec::is_empty);
                                                    let rows = move || {
                                                        let (current, chosen) = (current(), chosen());
                                                        list.get().into_iter().map(|image| {
                                                            let is_avatar = current.as_deref() == Some(image.id.as_str());
                                                            let is_identity = chosen.contains(&image.id);
                                                            (image, is_avatar, is_identity)
                                                        }).collect::<Vec<_>>()
                                                    };
                                                    view! {
                                                        {show_when(empty, move || view! {
                                                            <EmptyState title="No images of this character yet." text="Make an avatar above, or give it one from the gallery." />
                                                        })}
                                                        <ul class="grid" hidden=empty>
                                                            <For
                                                                each=rows
                                                                key=|(image, is_avatar, is_identity)| (image.id.clone(), image.status, image.label(), *is_avatar, *is_identity)
                                                                children=move |(image, is_avatar, is_identity)| history_row(&cid, &image, is_avatar, is_identity, avatar, identity)
                                                            />
                                                        </ul>
                                                    }.into_any()
                                                }
                                            }
                                        })
                                    }
                                }
                            </Transition>
                        </section>
                        <section class="card settings-section--danger" aria-labelledby="delete-character">
                            <h2 id="delete-character">"Delete this character"</h2>
                            <p>"The images made for it stay in your gallery."</p>
                            <FormError error=form_error(delete) />
                            <PostForm action=delete>
                                <input type="hidden" name="id" value=id_delete />
                                <button type="submit" class="button button--danger">{move || format!("Delete {}", name_delete())}</button>
                            </PostForm>
                        </section>
                    }.into_any()
                })
            }}
        </Transition>
    }
}
