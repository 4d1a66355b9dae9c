//! Making a character's avatar: the button, the jobs it started (followed live until the
//! avatar is in place), and the saved settings (provider and model, size, quality).

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use model::{AvatarSettings, Character, Job, ProviderInfo};

use crate::{
    api::generation::{GenerateAvatar, SaveAvatarSettings},
    components::{
        field_error, find_model, form_error, handler, show_when, succeeded, FormAction, FormError,
        JobCard, ModelOptions, Notice, NoticeLine, PostForm,
    },
    live::use_live,
};

/// Whether a finished job of the character made its avatar: it was to set the avatar,
/// and it is the first of its request to complete (the server's rule; `avatar_request` is
/// when the request that last set the avatar here was made).
pub(super) fn becomes_avatar(job: &Job, avatar_request: Option<DateTime<Utc>>) -> bool {
    job.status == model::ImageStatus::Completed
        && job.set_avatar
        && avatar_request != Some(job.created_at)
}

/// The model chosen when a character has no saved settings.
const DEFAULT_MODEL: &str = "builtin/portrait-1";

/// The character's saved avatar settings (none saved, or unreadable: the defaults).
fn saved_settings(character: &Character) -> AvatarSettings {
    character
        .avatar_generation_config
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// The `provider/model` the settings name, in the catalogue; the provider's default model
/// when none is saved; the best model the person has a key for when nothing is saved; the
/// built-in generator when the provider is not offered.
fn model_key(saved: &AvatarSettings, catalogue: &[ProviderInfo]) -> String {
    if saved.provider.is_none() && saved.model.is_none() {
        let (p, m) = model::best_model(catalogue);
        return format!("{p}/{m}");
    }
    let provider = saved.provider.unwrap_or(model::ProviderId::Builtin);
    catalogue.iter().find(|p| p.id == provider).map_or_else(
        || DEFAULT_MODEL.to_owned(),
        |p| {
            let model = saved.model.as_deref().unwrap_or(&p.default_model);
            format!("{}/{model}", p.id)
        },
    )
}

/// Making an avatar: the button that generates one with the character's prompt and
/// settings, and the settings themselves (provider and model, size, quality), offered from
/// the catalogue. Works before hydration; with it, the sizes follow the chosen model.
#[allow(clippy::needless_pass_by_value)] // component properties are owned
#[component(transparent)]
pub(super) fn AvatarMaker(
    character: Character,
    /// Whether the character has an avatar prompt (it may be saved while the page is open).
    has_prompt: Signal<bool>,
    catalogue: Vec<ProviderInfo>,
    generate: FormAction<GenerateAvatar>,
    settings: FormAction<SaveAvatarSettings>,
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
    let saved = saved_settings(&character);
    let current = model_key(&saved, &catalogue);
    let chosen = RwSignal::new(current);
    let catalogue = StoredValue::new(catalogue);
    let model_of = move |key: &str| catalogue.with_value(|c| find_model(c, key).map(|(_, m)| m));
    let (saved_size, saved_quality) = (saved.size.clone(), saved.quality.clone());
    let id = character.id.clone();
    let id_settings = character.id.clone();
    view! {
        <section class="card" aria-labelledby="make-avatar">
            <h2 id="make-avatar">"Make an avatar"</h2>
            {show_when(move || !has_prompt.get(), move || view! {
                <p class="muted">"No avatar prompt saved: the avatar is a portrait from the name, description and appearance."</p>
            })}
            <FormError error=form_error(generate) />
            <p class="field__error" role="alert">{move || field_error(generate, "prompt").get()}</p>
            <PostForm action=generate class="form form--inline">
                <input type="hidden" name="id" value=id />
                <button type="submit" class="button button--primary" disabled=move || making.get() aria-busy=move || making.get().to_string()>
                    {move || if making.get() { "Making the avatar…" } else { "Make a new avatar" }}
                </button>
            </PostForm>
            <ul class="job-list job-list--compact" aria-label="Avatar jobs">
                <For each=move || jobs.get() key=|id| id.clone() let:id>
                    <JobCard id=id />
                </For>
            </ul>
            <NoticeLine notice=Signal::derive(move || (made.get() > 0 && !making.get()).then(|| Notice::done("Done: the new avatar is in place."))) />
            <details>
                <summary>"Avatar settings"</summary>
                <FormError error=form_error(settings) />
                <PostForm action=settings class="form">
                    <input type="hidden" name="id" value=id_settings />
                    <div class="field">
                        <label for="avatar-model">"Provider and model"</label>
                        <select id="avatar-model" name="model" on:change=handler(move |ev| chosen.set(event_target_value(&ev)))>
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
                </PostForm>
                <NoticeLine notice=succeeded(settings, "Settings saved.") />
                <p class="field__error" role="alert">{move || field_error(settings, "avatar_generation_config").get()}</p>
            </details>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use model::{ModelInfo, ProviderId};

    use super::*;

    fn provider(id: ProviderId, default_model: &str) -> ProviderInfo {
        ProviderInfo {
            id,
            label: id.label().to_owned(),
            needs_key: false,
            has_key: true,
            default_model: default_model.to_owned(),
            models: Vec::<ModelInfo>::new(),
        }
    }

    #[test]
    fn the_saved_model_is_chosen_else_the_providers_default_else_the_builtin_one() {
        let catalogue = [
            provider(ProviderId::Builtin, "portrait-1"),
            provider(ProviderId::Gemini, "gemini-2.5-flash-image"),
        ];
        let saved = AvatarSettings {
            provider: Some(ProviderId::Gemini),
            model: Some("imagen-4".to_owned()),
            ..AvatarSettings::default()
        };
        assert_eq!(model_key(&saved, &catalogue), "gemini/imagen-4");
        let no_model = AvatarSettings {
            model: None,
            ..saved.clone()
        };
        assert_eq!(
            model_key(&no_model, &catalogue),
            "gemini/gemini-2.5-flash-image"
        );
        // OpenAI is not offered here: the built-in generator.
        let elsewhere = AvatarSettings {
            provider: Some(ProviderId::Openai),
            ..saved
        };
        assert_eq!(model_key(&elsewhere, &catalogue), DEFAULT_MODEL);
        assert_eq!(
            model_key(&AvatarSettings::default(), &catalogue),
            "builtin/portrait-1"
        );
        // Nothing saved and a Gemini key: the best model with a key.
        let mut keyed = catalogue.clone();
        keyed[1].models = vec![ModelInfo {
            id: "gemini-2.5-flash-image".to_owned(),
            ..ModelInfo::default()
        }];
        assert_eq!(
            model_key(&AvatarSettings::default(), &keyed),
            "gemini/gemini-2.5-flash-image"
        );
        keyed[1].has_key = false;
        assert_eq!(
            model_key(&AvatarSettings::default(), &keyed),
            "builtin/portrait-1"
        );
    }

    #[test]
    fn unreadable_settings_are_the_defaults() {
        let mut character: Character = serde_json::from_value(serde_json::json!({
            "id": "c1",
            "name": "Ada",
            "created_at": "2026-12-01T10:00:00Z",
            "updated_at": "2026-12-01T10:00:00Z",
        }))
        .expect("a valid character");
        assert_eq!(saved_settings(&character), AvatarSettings::default());
        character.avatar_generation_config =
            Some(serde_json::json!({"provider": "gemini", "size": "1:1"}));
        let saved = saved_settings(&character);
        assert_eq!(saved.provider, Some(ProviderId::Gemini));
        assert_eq!(saved.size.as_deref(), Some("1:1"));
        character.avatar_generation_config = Some(serde_json::json!({"provider": "nobody"}));
        assert_eq!(saved_settings(&character), AvatarSettings::default());
    }

    #[test]
    fn the_first_image_of_a_request_becomes_the_avatar_and_the_rest_are_candidates() {
        let at = |minute: u32| {
            chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 3, 10, minute, 0).unwrap()
        };
        let job = |set_avatar: bool, minute: u32| -> Job {
            serde_json::from_value(serde_json::json!({
                "id": "j", "image_id": "i", "character_id": "c", "set_avatar": set_avatar,
                "status": "completed", "seq": 4, "attempt": 1, "max_attempts": 3,
                "provider": "builtin", "model": "portrait-1", "error": null,
                "created_at": at(minute), "started_at": null, "finished_at": null,
                "next_attempt_at": null,
            }))
            .expect("a valid job")
        };
        assert!(becomes_avatar(&job(true, 1), None));
        // Its sibling (same request) is a candidate; the next request's first is the avatar.
        assert!(!becomes_avatar(&job(true, 1), Some(at(1))));
        assert!(becomes_avatar(&job(true, 2), Some(at(1))));
        // An image of the character made in the Studio is not its avatar.
        assert!(!becomes_avatar(&job(false, 3), None));
        let mut failed = job(true, 4);
        failed.status = model::ImageStatus::Error;
        assert!(!becomes_avatar(&failed, None));
    }
}
