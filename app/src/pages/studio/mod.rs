//! The Studio, where avatars are made: the prompt and every setting the chosen model takes
//! (from the catalogue, saying which providers have a key), reference images picked from
//! the library or dropped in (kept in the browser until uploaded), and a card for every
//! job that follows it live until the finished image takes its place.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::components::A;
use model::{GenerationRequest, ImageFilter, ImageStatus};

use crate::{
    api::{
        generation::{list_providers, live_state, start_generation},
        library::{list_characters, list_collections, list_images},
    },
    components::{find_model, CardChoices, JobCard, ModelOptions, PageHeader, Picture},
    drafts::{self, Draft},
    live::use_live,
    AppError,
};

/// Jobs shown on the page (the newest).
const SHOWN: usize = 24;

#[component]
pub fn StudioPage() -> impl IntoView {
    let live = use_live();
    let initial = Resource::new(|| (), |()| live_state());
    let characters = LocalResource::new(|| list_characters(None));
    let collections = LocalResource::new(|| list_collections(None));
    let choices = CardChoices {
        collections: Signal::derive(move || {
            collections
                .get()
                .and_then(Result::ok)
                .map(|p| p.items)
                .unwrap_or_default()
        }),
        characters: Signal::derive(move || {
            characters
                .get()
                .and_then(Result::ok)
                .map(|p| p.items)
                .unwrap_or_default()
        }),
    };
    let shown = move || {
        live.book.with(|b| {
            b.jobs
                .iter()
                .take(SHOWN)
                .map(|j| j.id.clone())
                .collect::<Vec<_>>()
        })
    };
    view! {
        <Title text="Studio" />
        <PageHeader
            title="Studio"
            lead="Describe an avatar, pick a generator and watch each job go from queued to finished."
        />
        // Hidden once the page is interactive (see the stylesheet); a <noscript> would not
        // hydrate, as browsers with scripts read its content as text.
        <p class="notice notice--error needs-script">"The Studio needs JavaScript. Scripts can use the API (POST /api/v1/generations) instead."</p>
        <div class="studio">
            <GenerationForm choices=choices />
            <section class="studio__jobs" aria-labelledby="jobs-heading">
                <h2 id="jobs-heading">"Your jobs"</h2>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match initial.await {
                            Err(e) => view! { <p class="notice notice--error" role="alert">{e.to_string()}</p> }.into_any(),
                            Ok(state) => {
                                live.merge(state.jobs, state.images);
                                view! {
                                    <Show when=move || live.book.with(|b| b.jobs.is_empty())>
                                        <p class="muted">"Nothing made yet: your jobs appear here as soon as you start them."</p>
                                    </Show>
                                    <ul class="job-list" aria-label="Jobs">
                                        <For each=shown key=|id| id.clone() let:id>
                                            <JobCard id=id choices=choices />
                                        </For>
                                    </ul>
                                }.into_any()
                            }
                        }
                    })}
                </Transition>
            </section>
        </div>
    }
    .into_any()
}

#[component]
fn GenerationForm(choices: CardChoices) -> impl IntoView {
    let live = use_live();
    // The form needs JavaScript anyway: the catalogue is read in the browser.
    let providers = LocalResource::new(list_providers);
    let chosen = RwSignal::new("builtin/portrait-1".to_owned());
    let prompt = RwSignal::new(String::new());
    let size = RwSignal::new(String::new());
    let quality = RwSignal::new(String::new());
    let count = RwSignal::new(1u8);
    let seed = RwSignal::new(String::new());
    let character = RwSignal::new(String::new());
    let collection = RwSignal::new(String::new());
    let references = RwSignal::new(Vec::<String>::new());
    let drafts = RwSignal::new(Vec::<Draft>::new());
    let busy = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<AppError>);
    let dragging = RwSignal::new(false);
    let picking = RwSignal::new(false);
    let catalogue =
        Signal::derive(move || providers.get().and_then(Result::ok).unwrap_or_default());
    let current = Memo::new(move |_| find_model(&catalogue.get(), &chosen.get()));

    // Files dropped before a reload are still waiting in the browser.
    Effect::new(move |_| {
        spawn_local(async move {
            let kept = drafts::list().await;
            if !kept.is_empty() {
                drafts.set(kept);
            }
        });
    });
    // Another model: its own defaults.
    Effect::new(move |previous: Option<String>| {
        let now = chosen.get();
        if previous.is_some_and(|p| p != now) {
            size.set(String::new());
            quality.set(String::new());
            count.update(|n| {
                *n = (*n).min(current.with_untracked(|m| m.as_ref().map_or(1, |(_, m)| m.max_n)))
            });
        }
        now
    });

    let add_files = move |files: Vec<web_sys::File>| {
        for file in files {
            spawn_local(async move {
                match drafts::save(file).await {
                    Ok(d) => drafts.update(|list| list.push(d)),
                    Err(message) => error.set(Some(AppError::Refused {
                        code: "draft".to_owned(),
                        message,
                    })),
                }
            });
        }
    };
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(list) = ev.data_transfer().and_then(|dt| dt.files()) {
            add_files((0..list.length()).filter_map(|i| list.get(i)).collect());
        }
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(list) = input.files() {
            add_files((0..list.length()).filter_map(|i| list.get(i)).collect());
        }
        input.set_value("");
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked().is_some() {
            return;
        }
        error.set(None);
        let Some((provider, model)) = current.get_untracked() else {
            error.set(Some(AppError::Validation {
                field: Some("model".to_owned()),
                message: "Choose a model.".to_owned(),
            }));
            return;
        };
        let seed_text = seed.get_untracked();
        let seed_value = match seed_text.trim() {
            "" => None,
            s => match s.parse::<i64>() {
                Ok(v) if v >= 0 => Some(v),
                _ => {
                    error.set(Some(AppError::Validation {
                        field: Some("seed".to_owned()),
                        message: "A seed is a whole number, 0 or more.".to_owned(),
                    }));
                    return;
                }
            },
        };
        let blank = |v: String| Some(v).filter(|v| !v.trim().is_empty());
        let mut request = GenerationRequest {
            prompt: prompt.get_untracked(),
            provider: Some(provider.id),
            model: Some(model.id.clone()),
            size: blank(size.get_untracked()),
            quality: blank(quality.get_untracked()),
            n: Some(count.get_untracked()),
            reference_image_ids: references.get_untracked(),
            character_id: blank(character.get_untracked()),
            collection_id: blank(collection.get_untracked()),
            seed: seed_value,
        };
        let waiting: Vec<String> = drafts.get_untracked().into_iter().map(|d| d.id).collect();
        spawn_local(async move {
            if !waiting.is_empty() {
                busy.set(Some(format!(
                    "Uploading {} reference image{}…",
                    waiting.len(),
                    if waiting.len() == 1 { "" } else { "s" }
                )));
                match drafts::upload(waiting).await {
                    Ok(images) => {
                        let ids: Vec<String> = images.into_iter().map(|i| i.id).collect();
                        // Uploaded: from now on they are library images, chosen as references.
                        references.update(|r| r.extend(ids.iter().cloned()));
                        request.reference_image_ids.extend(ids);
                        drafts.set(Vec::new());
                    }
                    Err(message) => {
                        busy.set(None);
                        error.set(Some(AppError::Refused {
                            code: "upload_failed".to_owned(),
                            message,
                        }));
                        return;
                    }
                }
            }
            busy.set(Some("Starting…".to_owned()));
            match start_generation(request).await {
                Ok(jobs) => {
                    live.merge(jobs, Vec::new());
                    references.set(Vec::new());
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(None);
        });
    };

    let field_error = move |field: &'static str| {
        move || error.with(|e| e.as_ref().and_then(|e| e.for_field(field)))
    };
    let general_error = move || {
        error.with(|e| {
            e.as_ref().and_then(|e| match e {
                AppError::Validation { field: Some(f), .. }
                    if [
                        "prompt",
                        "model",
                        "size",
                        "quality",
                        "n",
                        "seed",
                        "reference_image_ids",
                        "character_id",
                        "collection_id",
                    ]
                    .contains(&f.as_str()) =>
                {
                    None
                }
                other => Some(other.to_string()),
            })
        })
    };
    let max_refs = move || current.with(|m| m.as_ref().map_or(0, |(_, m)| m.max_reference_images));
    let refs_used = move || references.with(Vec::len) + drafts.with(Vec::len);

    view! {
        <section class="card studio__form" aria-labelledby="new-generation">
            <h2 id="new-generation">"New generation"</h2>
            <form class="form" on:submit=submit novalidate>
                {move || general_error().map(|m| view! { <p class="notice notice--error" role="alert">{m}</p> })}
                <div class="field" class:field--invalid=move || field_error("prompt")().is_some()>
                    <label for="studio-prompt">"Prompt"</label>
                    <textarea
                        id="studio-prompt"
                        name="prompt"
                        rows="4"
                        required
                        maxlength=move || current.with(|m| m.as_ref().map(|(_, m)| m.max_prompt_chars.to_string()))
                        placeholder="A friendly astronaut with curly red hair, studio lighting"
                        prop:value=move || prompt.get()
                        on:input=move |ev| prompt.set(event_target_value(&ev))
                        aria-describedby="studio-prompt-error"
                    ></textarea>
                    <p class="field__error" id="studio-prompt-error" role="alert">{field_error("prompt")}</p>
                </div>
                <div class="field">
                    <label for="studio-model">"Provider and model"</label>
                    <select id="studio-model" name="model" on:change=move |ev| chosen.set(event_target_value(&ev))>
                        {move || view! { <ModelOptions catalogue=catalogue.get() selected=chosen.get_untracked() /> }}
                    </select>
                    {move || current.get().filter(|(p, _)| p.needs_key && !p.has_key).map(|(p, _)| view! {
                        <p class="field__hint">
                            {format!("{} needs an API key. ", p.label)}
                            <A href="/settings#keys">"Add one in Settings"</A>
                        </p>
                    })}
                    <p class="field__error" role="alert">{field_error("model")}</p>
                </div>
                {move || current.get().map(|(_, m)| {
                    let ratio = m.sizes.iter().any(|s| s.contains(':'));
                    let max_n = m.max_n;
                    view! {
                        <div class="form__row">
                            <div class="field">
                                <label for="studio-size">{if ratio { "Aspect ratio" } else { "Size" }}</label>
                                <select id="studio-size" on:change=move |ev| size.set(event_target_value(&ev))>
                                    <option value="" selected=move || size.get().is_empty()>{format!("Default ({})", m.default_size)}</option>
                                    {m.sizes.iter().map(|s| { let v = s.clone(); view! { <option value=s.clone() selected=move || size.get() == v>{s.clone()}</option> } }).collect_view()}
                                </select>
                                <p class="field__error" role="alert">{field_error("size")}</p>
                            </div>
                            {(!m.qualities.is_empty()).then(|| view! {
                                <div class="field">
                                    <label for="studio-quality">"Quality"</label>
                                    <select id="studio-quality" on:change=move |ev| quality.set(event_target_value(&ev))>
                                        <option value="" selected=move || quality.get().is_empty()>{format!("Default ({})", m.default_quality.clone().unwrap_or_default())}</option>
                                        {m.qualities.iter().map(|q| view! { <option value=q.clone()>{q.clone()}</option> }).collect_view()}
                                    </select>
                                </div>
                            })}
                            <div class="field">
                                <label for="studio-n">"Images"</label>
                                <input id="studio-n" type="number" min="1" max=max_n.to_string() prop:value=move || count.get().to_string()
                                    on:input=move |ev| count.set(event_target_value(&ev).parse::<u8>().unwrap_or(1).clamp(1, max_n)) />
                                <p class="field__error" role="alert">{field_error("n")}</p>
                            </div>
                            <div class="field">
                                <label for="studio-seed">"Seed (optional)"</label>
                                <input id="studio-seed" type="text" inputmode="numeric" placeholder="Random" prop:value=move || seed.get()
                                    on:input=move |ev| seed.set(event_target_value(&ev)) />
                                <p class="field__error" role="alert">{field_error("seed")}</p>
                            </div>
                        </div>
                    }
                })}
                <div class="form__row">
                    <div class="field">
                        <label for="studio-character">"Character (optional)"</label>
                        <select id="studio-character" on:change=move |ev| character.set(event_target_value(&ev))>
                            <option value="">"None"</option>
                            {move || choices.characters.get().into_iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                        </select>
                        <p class="field__error" role="alert">{field_error("character_id")}</p>
                    </div>
                    <div class="field">
                        <label for="studio-collection">"Collection (optional)"</label>
                        <select id="studio-collection" on:change=move |ev| collection.set(event_target_value(&ev))>
                            <option value="">"None"</option>
                            {move || choices.collections.get().into_iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                        </select>
                        <p class="field__error" role="alert">{field_error("collection_id")}</p>
                    </div>
                </div>
                <fieldset class="references">
                    <legend>{move || format!("Reference images ({} of at most {})", refs_used(), max_refs())}</legend>
                    <Show when=move || max_refs() == 0>
                        <p class="muted">"This model takes no reference images."</p>
                    </Show>
                    <ul class="references__list" aria-label="Chosen reference images">
                        <For each=move || references.get() key=|id| id.clone() let:id>
                            <li class="references__item">
                                <Picture image_id=id.clone() alt="Reference image" square=true sizes="5rem" />
                                <button type="button" class="button button--small" on:click={
                                    let id = id.clone();
                                    move |_| references.update(|r| r.retain(|x| *x != id))
                                }>"Remove"</button>
                            </li>
                        </For>
                        <For each=move || drafts.get() key=|d| d.id.clone() let:draft>
                            <li class="references__item references__item--draft" data-testid="reference-draft">
                                <img src=draft.preview.clone() alt=format!("Waiting to upload: {}", draft.name) />
                                <span class="muted">"Not uploaded yet"</span>
                                <button type="button" class="button button--small" on:click={
                                    let id = draft.id.clone();
                                    move |_| {
                                        let id = id.clone();
                                        drafts.update(|d| d.retain(|x| x.id != id));
                                        spawn_local(drafts::remove(id));
                                    }
                                }>"Remove"</button>
                            </li>
                        </For>
                    </ul>
                    <div
                        class="dropzone dropzone--small"
                        class:dropzone--active=move || dragging.get()
                        on:dragenter=move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging.set(true); }
                        on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging.set(true); }
                        on:dragleave=move |_| dragging.set(false)
                        on:drop=on_drop
                        data-testid="reference-dropzone"
                    >
                        <p>"Drop reference images here, or"</p>
                        <label class="button button--small">
                            "choose files"
                            <input type="file" class="visually-hidden" multiple accept="image/png,image/jpeg,image/webp" on:change=on_pick />
                        </label>
                        <button type="button" class="button button--small" aria-expanded=move || picking.get().to_string() on:click=move |_| picking.update(|p| *p = !*p)>
                            "Pick from your library"
                        </button>
                    </div>
                    <Show when=move || picking.get()>
                        <LibraryPicker references=references />
                    </Show>
                    <p class="field__error" role="alert">{field_error("reference_image_ids")}</p>
                </fieldset>
                <button type="submit" class="button button--primary" disabled=move || busy.get().is_some() aria-busy=move || busy.get().is_some().to_string()>
                    {move || busy.get().unwrap_or_else(|| "Generate".to_owned())}
                </button>
            </form>
        </section>
    }
    .into_any()
}

/// The library's finished images, to choose references from.
#[component]
fn LibraryPicker(references: RwSignal<Vec<String>>) -> impl IntoView {
    let images = LocalResource::new(|| {
        list_images(ImageFilter {
            status: Some(ImageStatus::Completed),
            limit: Some(48),
            ..ImageFilter::default()
        })
    });
    view! {
        <div class="picker" role="group" aria-label="Your library">
            {move || match images.get() {
                None => view! { <p class="muted">"Loading your images…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                Some(Ok(page)) if page.items.is_empty() => view! { <p class="muted">"Your library is empty: drop a file instead."</p> }.into_any(),
                Some(Ok(page)) => view! {
                    <ul class="picker__grid">
                        {page.items.into_iter().map(|image| {
                            let id = image.id.clone();
                            let checked = {
                                let id = id.clone();
                                move || references.with(|r| r.contains(&id))
                            };
                            let label = image.label();
                            view! {
                                <li>
                                    <label class="picker__item">
                                        <input type="checkbox" prop:checked=checked on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            let id = id.clone();
                                            references.update(|r| {
                                                r.retain(|x| *x != id);
                                                if on { r.push(id); }
                                            });
                                        } />
                                        <Picture image_id=image.id.clone() alt=label square=true sizes="6rem" />
                                    </label>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </div>
    }
}
