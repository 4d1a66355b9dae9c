//! Characters: the list with their avatars, a form to create one, and each character's
//! page (edit, its avatar, the history of every image made for it, delete). The forms
//! work before hydration.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};
use model::{AvatarSettings, Character, ImageFilter, ProviderInfo};

use crate::{
    api::{
        generation::{list_providers, GenerateAvatar, SaveAvatarSettings},
        library::{
            get_character, list_characters, list_images, CreateCharacter, DeleteCharacter,
            SaveCharacter, SetCharacterAvatar,
        },
    },
    components::{
        field_error, find_model, form_error, succeeded, Avatar, Field, FormError, JobCard,
        ModelOptions, Notice, PageHeader, Picture, UploadPanel,
    },
    live::{use_live, Change},
};

#[component]
pub fn CharactersPage() -> impl IntoView {
    let create = ServerAction::<CreateCharacter>::new();
    let list = Resource::new(move || create.version().get(), |_| list_characters(None));
    view! {
        <Title text="Characters" />
        <PageHeader
            title="Characters"
            lead="The subjects of your avatars: a description, a prompt, and every avatar made for them."
        />
        <section class="card" aria-labelledby="new-character">
            <h2 id="new-character">"New character"</h2>
            <FormError error=form_error(create) />
            <ActionForm action=create attr:class="form">
                <Field label="Name" name="name" required=true maxlength=100 error=field_error(create, "name") />
                <Field label="Description (optional)" name="description" maxlength=2000 error=field_error(create, "description") />
                <Field label="Avatar prompt (optional)" name="avatar_prompt" maxlength=4000 hint="What the generator is asked to draw for this character." error=field_error(create, "avatar_prompt") />
                <button type="submit" class="button button--primary" disabled=move || create.pending().get()>"Create character"</button>
            </ActionForm>
        </section>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <p class="notice notice--error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! {
                        <div class="card empty-state"><p>"No characters yet. Create one above."</p></div>
                    }.into_any(),
                    Ok(page) => view! {
                        <ul class="character-list" aria-label="Characters">
                            {page.items.into_iter().map(|c| view! { <CharacterRow character=c /> }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CharacterRow(character: Character) -> impl IntoView {
    view! {
        <li class="card character">
            <Avatar image_id=character.avatar_image_id.clone() name=character.name.clone() size=64 />
            <div>
                <h2 class="character__name"><A href=format!("/characters/{}", character.id)>{character.name.clone()}</A></h2>
                {character.description.clone().map(|d| view! { <p class="muted">{d}</p> })}
            </div>
        </li>
    }
}

#[component]
pub fn CharacterPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let save = ServerAction::<SaveCharacter>::new();
    let avatar = ServerAction::<SetCharacterAvatar>::new();
    let delete = ServerAction::<DeleteCharacter>::new();
    let generate = ServerAction::<GenerateAvatar>::new();
    let settings = ServerAction::<SaveAvatarSettings>::new();
    let uploads = RwSignal::new(0u32);
    // Bumped when one of this character's avatar jobs completes; the new avatar is shown
    // at once, without reading the whole character (and rebuilding the page) again.
    let avatar_made = RwSignal::new(0u32);
    let new_avatar = RwSignal::new(None::<String>);
    let live = use_live();
    live.on_change(move |change| {
        if let Change::Finished(job) = change {
            if job.status == model::ImageStatus::Completed
                && job.character_id.as_deref() == Some(id.get_untracked().as_str())
            {
                new_avatar.set(Some(job.image_id.clone()));
                avatar_made.update(|n| *n += 1);
            }
        }
    });
    // Read once per character. What an action answers (saved details, settings, a chosen
    // avatar) is shown from `latest` instead of reading the character again: that would
    // rebuild the whole page, its forms and their state, under the person's hands (and a
    // click on the old page while the new one is being made would reach parts already
    // gone).
    let character = Resource::new(move || id.get(), get_character);
    let latest = RwSignal::new(None::<Character>);
    for value in [save.value(), avatar.value(), settings.value()] {
        Effect::new(move |_| {
            if let Some(Ok(c)) = value.get() {
                latest.set(Some(c));
            }
        });
    }
    // A chosen avatar replaces one made meanwhile.
    Effect::new(move |_| {
        avatar.version().track();
        new_avatar.set(None);
    });
    let providers = Resource::new(|| (), |()| list_providers());
    let history = Resource::new(
        move || {
            (
                id.get(),
                avatar.version().get(),
                uploads.get(),
                avatar_made.get(),
            )
        },
        |(id, ..)| {
            list_images(ImageFilter {
                character_id: Some(id),
                limit: Some(200),
                ..ImageFilter::default()
            })
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let catalogue = providers.await.unwrap_or_default();
                let c = match character.await {
                    Ok(c) => c,
                    Err(e) => return view! {
                        <Title text="Character" />
                        <PageHeader title="Character" lead="" />
                        <p class="notice notice--error" role="alert">{e.to_string()}</p>
                        <p><A href="/characters">"All characters"</A></p>
                    }.into_any(),
                };
                let (id_save, id_upload, id_delete) = (c.id.clone(), c.id.clone(), c.id.clone());
                let (name_field, description_field, prompt_field) = (
                    c.name.clone(),
                    c.description.clone().unwrap_or_default(),
                    c.avatar_prompt.clone().unwrap_or_default(),
                );
                let shown = {
                    let c = c.clone();
                    Memo::new(move |_| latest.get().filter(|l| l.id == c.id).unwrap_or_else(|| c.clone()))
                };
                let name = move || shown.with(|c| c.name.clone());
                let cid = c.id.clone();
                let current = Signal::derive(move || {
                    new_avatar.get().or_else(|| shown.with(|c| c.avatar_image_id.clone()))
                });
                let has_prompt = Signal::derive(move || shown.with(|c| c.avatar_prompt.is_some()));
                view! {
                    <Title text=name />
                    <p><A href="/characters">"← All characters"</A></p>
                    <div class="character-head">
                        {move || view! { <Avatar image_id=current.get() name=name() size=128 /> }}
                        {move || view! { <PageHeader title=name() lead=shown.with(|c| c.description.clone().unwrap_or_default()) /> }}
                    </div>
                    <section class="card" aria-labelledby="edit-character">
                        <h2 id="edit-character">"Details"</h2>
                        <FormError error=form_error(save) />
                        <ActionForm action=save attr:class="form">
                            <input type="hidden" name="id" value=id_save />
                            <Field label="Name" name="name" required=true maxlength=100 value=name_field error=field_error(save, "name") />
                            <Field label="Description" name="description" maxlength=2000 value=description_field error=field_error(save, "description") />
                            <Field label="Avatar prompt" name="avatar_prompt" maxlength=4000 value=prompt_field error=field_error(save, "avatar_prompt") />
                            <button type="submit" class="button" disabled=move || save.pending().get()>"Save"</button>
                        </ActionForm>
                        <Notice message=succeeded(save, "Saved.") />
                    </section>
                    <AvatarMaker character=c.clone() has_prompt=has_prompt catalogue=catalogue generate=generate settings=settings made=avatar_made />
                    <section class="card" aria-labelledby="add-images">
                        <h2 id="add-images">"Add images"</h2>
                        <UploadPanel on_uploaded=Callback::new(move |()| uploads.update(|n| *n += 1)) character_id=Signal::stored(Some(id_upload)) />
                    </section>
                    <section aria-labelledby="history">
                        <h2 id="history">{move || format!("Every image of {}", name())}</h2>
                        <FormError error=form_error(avatar) />
                        <Notice message=succeeded(avatar, "Avatar changed.") />
                        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                            {
                                move || {
                                    let (cid, current) = (cid.clone(), current.get());
                                    Suspend::new(async move {
                                        match history.await {
                                            Err(e) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                                            Ok(page) if page.items.is_empty() => view! { <p class="muted">"No images of this character yet."</p> }.into_any(),
                                            Ok(page) => view! {
                                                <ul class="grid">
                                                    {page.items.into_iter().map(|image| {
                                                        let cid = cid.clone();
                                                        let is_avatar = current.as_deref() == Some(image.id.as_str());
                                                        let label = image.label();
                                                        view! {
                                                            <li class="tile">
                                                                {image.has_media().then(|| view! { <Picture image_id=image.id.clone() alt=label.clone() square=true /> })}
                                                                <span class="tile__caption">{label.clone()}</span>
                                                                {if is_avatar {
                                                                    view! { <p class="tile__badge">"Current avatar"</p> }.into_any()
                                                                } else if image.has_media() {
                                                                    view! {
                                                                        <ActionForm action=avatar attr:class="tile__action">
                                                                            <input type="hidden" name="id" value=cid />
                                                                            <input type="hidden" name="image_id" value=image.id.clone() />
                                                                            <button type="submit" class="button button--small">"Use as avatar"</button>
                                                                        </ActionForm>
                                                                    }.into_any()
                                                                } else {
                                                                    ().into_any()
                                                                }}
                                                            </li>
                                                        }
                                                    }).collect_view()}
                                                </ul>
                                            }.into_any(),
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
                        <ActionForm action=delete>
                            <input type="hidden" name="id" value=id_delete />
                            <button type="submit" class="button button--danger">{move || format!("Delete {}", name())}</button>
                        </ActionForm>
                    </section>
                }.into_any()
            })}
        </Transition>
    }
}

/// Making an avatar: the button that generates one with the character's prompt and
/// settings, and the settings themselves (provider and model, size, quality), offered from
/// the catalogue. Works before hydration; with it, the sizes follow the chosen model.
#[component]
fn AvatarMaker(
    character: Character,
    /// Whether the character has an avatar prompt (it may be saved while the page is open).
    has_prompt: Signal<bool>,
    catalogue: Vec<ProviderInfo>,
    generate: ServerAction<GenerateAvatar>,
    settings: ServerAction<SaveAvatarSettings>,
    /// How many avatars were made while the page is open.
    made: RwSignal<u32>,
) -> impl IntoView {
    let live = use_live();
    // The jobs this page started, followed live until their avatar is in place.
    let started = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| {
        if let Some(Ok(jobs)) = generate.value().get() {
            started.set(jobs.iter().map(|j| j.id.clone()).collect());
            live.merge(jobs, Vec::new());
        }
    });
    let own_id = character.id.clone();
    let jobs = Memo::new(move |_| {
        live.book.with(|b| {
            b.jobs
                .iter()
                .filter(|j| j.character_id.as_deref() == Some(own_id.as_str()))
                .filter(|j| !j.status.is_final() || started.with(|s| s.contains(&j.id)))
                .map(|j| j.id.clone())
                .collect::<Vec<_>>()
        })
    });
    let making = Signal::derive(move || {
        generate.pending().get()
            || live.book.with(|b| {
                jobs.with(|ids| {
                    b.jobs
                        .iter()
                        .any(|j| ids.contains(&j.id) && !j.status.is_final())
                })
            })
    });
    let saved: AvatarSettings = character
        .avatar_generation_config
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let provider = saved.provider.unwrap_or(model::ProviderId::Builtin);
    let current = catalogue
        .iter()
        .find(|p| p.id == provider)
        .map(|p| {
            format!(
                "{}/{}",
                p.id,
                saved
                    .model
                    .clone()
                    .unwrap_or_else(|| p.default_model.clone())
            )
        })
        .unwrap_or_else(|| "builtin/portrait-1".to_owned());
    let chosen = RwSignal::new(current);
    let catalogue = StoredValue::new(catalogue);
    let model_of = move |key: &str| catalogue.with_value(|c| find_model(c, key).map(|(_, m)| m));
    let (saved_size, saved_quality) = (saved.size.clone(), saved.quality.clone());
    let id = character.id.clone();
    let id_settings = character.id.clone();
    view! {
        <section class="card" aria-labelledby="make-avatar">
            <h2 id="make-avatar">"Make an avatar"</h2>
            <Show when=move || !has_prompt.get()>
                <p class="muted">"Save an avatar prompt above first: it says what to draw."</p>
            </Show>
            <FormError error=form_error(generate) />
            <p class="field__error" role="alert">{move || field_error(generate, "prompt").get()}</p>
            <ActionForm action=generate attr:class="form form--inline">
                <input type="hidden" name="id" value=id />
                <button type="submit" class="button button--primary" disabled=move || making.get() || !has_prompt.get() aria-busy=move || making.get().to_string()>
                    {move || if making.get() { "Making the avatar…" } else { "Make a new avatar" }}
                </button>
            </ActionForm>
            <ul class="job-list job-list--compact" aria-label="Avatar jobs">
                <For each=move || jobs.get() key=|id| id.clone() let:id>
                    <JobCard id=id />
                </For>
            </ul>
            <Notice message=Signal::derive(move || (made.get() > 0 && !making.get()).then(|| "Done: the new avatar is in place.".to_owned())) />
            <details>
                <summary>"Avatar settings"</summary>
                <FormError error=form_error(settings) />
                <ActionForm action=settings attr:class="form">
                    <input type="hidden" name="id" value=id_settings />
                    <div class="field">
                        <label for="avatar-model">"Provider and model"</label>
                        <select id="avatar-model" name="model" on:change=move |ev| chosen.set(event_target_value(&ev))>
                            <ModelOptions catalogue=catalogue.get_value() selected=chosen.get_untracked() />
                        </select>
                    </div>
                    {move || model_of(&chosen.get()).map(|m| {
                        let (size, quality) = (saved_size.clone(), saved_quality.clone());
                        view! {
                            <div class="field">
                                <label for="avatar-size">{if m.sizes.iter().any(|s| s.contains(':')) { "Aspect ratio" } else { "Size" }}</label>
                                <select id="avatar-size" name="size">
                                    <option value="" selected=size.is_none()>{format!("Default ({})", m.default_size)}</option>
                                    {m.sizes.iter().map(|s| view! { <option value=s.clone() selected=size.as_deref() == Some(s.as_str())>{s.clone()}</option> }).collect_view()}
                                </select>
                            </div>
                            {(!m.qualities.is_empty()).then(|| view! {
                                <div class="field">
                                    <label for="avatar-quality">"Quality"</label>
                                    <select id="avatar-quality" name="quality">
                                        <option value="" selected=quality.is_none()>{format!("Default ({})", m.default_quality.clone().unwrap_or_default())}</option>
                                        {m.qualities.iter().map(|q| view! { <option value=q.clone() selected=quality.as_deref() == Some(q.as_str())>{q.clone()}</option> }).collect_view()}
                                    </select>
                                </div>
                            })}
                        }
                    })}
                    <button type="submit" class="button" disabled=move || settings.pending().get()>"Save settings"</button>
                </ActionForm>
                <Notice message=succeeded(settings, "Settings saved.") />
                <p class="field__error" role="alert">{move || field_error(settings, "avatar_generation_config").get()}</p>
            </details>
        </section>
    }
}
