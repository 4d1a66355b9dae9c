//! The Studio's form: the prompt and every setting the chosen model takes, from the
//! catalogue (saying which providers have a key). Sending it uploads the reference images
//! still waiting in the browser first, then starts the jobs, which the page follows live.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};

use super::{
    references::References,
    state::{
        build_request, count_for, sheet_hint, uploading, with_targets, FormState, DEFAULT_MODEL,
    },
};
use crate::{
    api::{
        client::call,
        generation::{ListProviders, StartGeneration},
    },
    browser_resource::browser_resource,
    components::{find_model, handler, CardChoices, ModelOptions},
    drafts,
    live::use_live,
    AppError,
};

// Long because of its view (one field per setting); the logic is in `state`.
#[component]
pub(super) fn GenerationForm(choices: CardChoices) -> impl IntoView {
    let live = use_live();
    // The form needs JavaScript anyway: the catalogue is read in the browser.
    let providers = browser_resource(|| ListProviders {});
    let form = FormState::new();
    let FormState {
        chosen,
        prompt,
        size,
        quality,
        count,
        seed,
        character,
        collection,
        references,
        compare,
        drafts,
        busy,
        error,
    } = form;
    let catalogue =
        Signal::derive(move || providers.get().and_then(Result::ok).unwrap_or_default());
    let current = Memo::new(move |_| find_model(&catalogue.get(), &chosen.get()));

    // Once the catalogue is known, an untouched picker moves to the model chosen last in
    // this browser, else to the best one the person has a key for.
    Effect::new(move |settled: Option<bool>| {
        if settled == Some(true) {
            return true;
        }
        let cat = catalogue.get();
        if cat.is_empty() {
            return false;
        }
        if chosen.get_untracked() == DEFAULT_MODEL {
            let usable =
                |k: &String| find_model(&cat, k).is_some_and(|(p, _)| p.has_key || !p.needs_key);
            let key = remembered_model().filter(usable).unwrap_or_else(|| {
                let (p, m) = model::best_model(&cat);
                format!("{p}/{m}")
            });
            chosen.set(key);
        }
        true
    });
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
                *n = current.with_untracked(|m| count_for(*n, m.as_ref().map(|(_, m)| m)))
            });
        }
        now
    });

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked().is_some() {
            return;
        }
        error.set(None);
        let built = current
            .with_untracked(|c| build_request(form.values(), c.as_ref()))
            .and_then(|r| {
                with_targets(
                    r,
                    &compare.get_untracked(),
                    &catalogue.get_untracked(),
                    &chosen.get_untracked(),
                )
            });
        let mut request = match built {
            Ok(request) => request,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        let waiting: Vec<String> = drafts.get_untracked().into_iter().map(|d| d.id).collect();
        spawn_local(async move {
            if !waiting.is_empty() {
                busy.set(Some(uploading(waiting.len())));
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
            match call(StartGeneration { request }).await {
                Ok(jobs) => {
                    live.merge(jobs, Vec::new());
                    references.set(Vec::new());
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(None);
        });
    };

    let field_error = move |field: &'static str| form.field_error(field);
    let max_refs = Signal::derive(move || {
        current.with(|m| m.as_ref().map_or(0, |(_, m)| m.max_reference_images))
    });

    view! {
        <section class="card studio__form" aria-labelledby="new-generation">
            <h2 id="new-generation">"New generation"</h2>
            <form class="form" on:submit=handler(submit) novalidate>
                {move || form.general_error().map(|m| view! { <p class="notice notice--error" role="alert">{m}</p> })}
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
                        on:input=handler(move |ev| prompt.set(event_target_value(&ev)))
                        aria-describedby="studio-prompt-error"
                    ></textarea>
                    <p class="field__error" id="studio-prompt-error" role="alert">{field_error("prompt")}</p>
                </div>
                <div class="field">
                    <label for="studio-model">"Provider and model"</label>
                    <select id="studio-model" name="model" prop:value=move || chosen.get() on:change=handler(move |ev| {
                        let key = event_target_value(&ev);
                        remember_model(&key);
                        chosen.set(key);
                    })>
                        {move || view! { <ModelOptions catalogue=catalogue.get() selected=chosen.get_untracked() /> }}
                    </select>
                    {move || current.get().filter(|(p, _)| p.needs_key && !p.has_key).map(|(p, _)| view! {
                        <p class="field__hint">
                            {format!("{} needs an API key. ", p.label)}
                            <a href="/settings#keys">"Add one in Settings"</a>
                        </p>
                    })}
                    {move || {
                        let chosen_character = !character.get().is_empty();
                        current.with(|m| sheet_hint(chosen_character, m.as_ref().map(|(_, m)| m)))
                            .map(|hint| view! { <p class="field__hint" data-testid="sheet-hint">{hint}</p> })
                    }}
                    <p class="field__error" role="alert">{field_error("model")}</p>
                </div>
                {move || current.get().map(|(_, m)| {
                    let max_n = m.max_n;
                    view! {
                        <div class="field studio__count">
                            <label for="studio-n">"Images"</label>
                            <input id="studio-n" type="number" min="1" max=max_n.to_string() prop:value=move || count.get().to_string()
                                on:input=handler(move |ev| count.set(event_target_value(&ev).parse::<u8>().unwrap_or(1).clamp(1, max_n))) />
                            <p class="field__error" role="alert">{field_error("n")}</p>
                        </div>
                    }
                })}
                <details class="more-options">
                    <summary class="more-options__summary">"More options"<span class="more-options__hint">" size, seed, character, collection, reference images, comparison"</span></summary>
                    <div class="more-options__body">
                        <details class="compare-picker">
                        <summary>{move || match compare.read().iter().filter(|k| **k != chosen.get()).count() {
                            0 => "Compare with other models".to_owned(),
                            n => format!("Compare with {n} other model{}", if n == 1 { "" } else { "s" }),
                        }}</summary>
                        <p class="field__hint">"Each model ticked here makes one image of the same prompt, with the same seed, shown side by side."</p>
                        {move || {
                            let now = chosen.get();
                            catalogue.get().into_iter().flat_map(|p| {
                                let needs = p.needs_key && !p.has_key;
                                let now = now.clone();
                                p.models.into_iter().filter_map(move |m| {
                                    let key = format!("{}/{}", p.id, m.id);
                                    (key != now).then(|| {
                                        let field = format!("compare-{}", key.replace('/', "-"));
                                        let (k1, k2) = (key.clone(), key);
                                        let label = if needs { format!("{} (add a key in Settings)", m.label) } else { m.label };
                                        view! {
                                            <div class="field field--check">
                                                <input id=field.clone() type="checkbox" prop:checked=move || compare.read().contains(&k1)
                                                    on:change=handler(move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        compare.update(|c| {
                                                            c.retain(|x| *x != k2);
                                                            if on { c.push(k2.clone()); }
                                                        });
                                                    }) />
                                                <label for=field>{label}</label>
                                            </div>
                                        }
                                    })
                                })
                            }).collect_view()
                        }}
                    </details>
                {move || current.get().map(|(_, m)| {
                    let ratio = m.sizes.iter().any(|s| s.contains(':'));
                    view! {
                        <div class="form__row">
                            <div class="field">
                                <label for="studio-size">{if ratio { "Aspect ratio" } else { "Size" }}</label>
                                <select id="studio-size" on:change=handler(move |ev| size.set(event_target_value(&ev)))>
                                    <option value="" selected=move || size.get().is_empty()>{format!("Default ({})", m.default_size)}</option>
                                    {m.sizes.iter().map(|s| { let v = s.clone(); view! { <option value=s.clone() selected=move || size.get() == v>{s.clone()}</option> } }).collect_view()}
                                </select>
                                <p class="field__error" role="alert">{field_error("size")}</p>
                            </div>
                            {(!m.qualities.is_empty()).then(|| view! {
                                <div class="field">
                                    <label for="studio-quality">"Quality"</label>
                                    <select id="studio-quality" on:change=handler(move |ev| quality.set(event_target_value(&ev)))>
                                        <option value="" selected=move || quality.get().is_empty()>{format!("Default ({})", m.default_quality.clone().unwrap_or_default())}</option>
                                        {m.qualities.iter().map(|q| view! { <option value=q.clone()>{q.clone()}</option> }).collect_view()}
                                    </select>
                                </div>
                            })}
                            <div class="field">
                                <label for="studio-seed">"Seed (optional)"</label>
                                <input id="studio-seed" type="text" inputmode="numeric" placeholder="Random" prop:value=move || seed.get()
                                    on:input=handler(move |ev| seed.set(event_target_value(&ev))) />
                                <p class="field__error" role="alert">{field_error("seed")}</p>
                            </div>
                        </div>
                    }
                })}
                <div class="form__row">
                    <div class="field">
                        <label for="studio-character">"Character (optional)"</label>
                        <select id="studio-character" on:change=handler(move |ev| character.set(event_target_value(&ev)))>
                            <option value="">"None"</option>
                            {move || choices.characters.get().into_iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                        </select>
                        <p class="field__error" role="alert">{field_error("character_id")}</p>
                    </div>
                    <div class="field">
                        <label for="studio-collection">"Collection (optional)"</label>
                        <select id="studio-collection" on:change=handler(move |ev| collection.set(event_target_value(&ev)))>
                            <option value="">"None"</option>
                            {move || choices.collections.get().into_iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                        </select>
                        <p class="field__error" role="alert">{field_error("collection_id")}</p>
                    </div>
                </div>
                <References form=form max=max_refs />
                    </div>
                </details>
                <button type="submit" class="button button--primary" disabled=move || busy.get().is_some() aria-busy=move || busy.get().is_some().to_string()>
                    {move || busy.get().unwrap_or_else(|| "Generate".to_owned())}
                </button>
            </form>
        </section>
    }
    .into_any()
}

/// Where this browser keeps the Studio's last chosen model.
#[cfg(feature = "hydrate")]
const REMEMBERED: &str = "avatar-studio.model";

/// The model chosen last in this browser, if any.
fn remembered_model() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()?
            .local_storage()
            .ok()??
            .get_item(REMEMBERED)
            .ok()?
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}

/// Keeps the model chosen, for the next visit (nothing when storage is refused).
fn remember_model(key: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(REMEMBERED, key);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = key;
}
