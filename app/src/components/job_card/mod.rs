//! One generation job as a card that follows it live: the stage, a progress bar, elapsed
//! time, the attempt, when the next retry is due, a cancel button, and on failure the
//! reason with what fixes it. Once finished, the image replaces the placeholder, with what
//! can be done with it (regenerate, favourite, move, make a character's avatar).

use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;
use model::{Character, Collection, ImageEventKind, ImageStatus, UpdateImageRequest};

use crate::{
    api::{
        generation::{cancel_generation, regenerate_image},
        library::{set_character_avatar, update_image},
    },
    components::Picture,
    live::{duration, progress, remedy, stage_label, use_live},
};

/// What the image of a finished job can be moved to or made the avatar of.
#[derive(Clone, Copy)]
pub struct CardChoices {
    pub collections: Signal<Vec<Collection>>,
    pub characters: Signal<Vec<Character>>,
}

#[component]
pub fn JobCard(
    #[prop(into)] id: String,
    /// Offer the image's actions once it is done (the Studio); without, the card only
    /// reports progress (a character's page).
    #[prop(optional)]
    choices: Option<CardChoices>,
) -> impl IntoView {
    let live = use_live();
    let job_id = id.clone();
    let job = Memo::new(move |_| {
        live.book
            .with(|b| b.jobs.iter().find(|j| j.id == job_id).cloned())
    });
    let image = Memo::new(move |_| {
        let image_id = job.with(|j| j.as_ref().map(|j| j.image_id.clone()))?;
        live.book.with(|b| b.images.get(&image_id).cloned())
    });
    let message = RwSignal::new(None::<(bool, String)>);
    let status = move || job.with(|j| j.as_ref().map(|j| j.status));
    let running = move || status().is_some_and(|s| !s.is_final());

    let cancel = move |_| {
        let id = id.clone();
        spawn_local(async move {
            match cancel_generation(id).await {
                Ok(j) => live.merge(vec![j], Vec::new()),
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    let regenerate = move |_| {
        let Some(image_id) = job.with_untracked(|j| j.as_ref().map(|j| j.image_id.clone())) else {
            return;
        };
        spawn_local(async move {
            match regenerate_image(image_id).await {
                Ok(jobs) => {
                    live.merge(jobs, Vec::new());
                    message.set(Some((true, "Making it again with a new seed.".to_owned())));
                }
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    let change = move |change: UpdateImageRequest, done: &'static str| {
        let Some(image_id) = job.with_untracked(|j| j.as_ref().map(|j| j.image_id.clone())) else {
            return;
        };
        spawn_local(async move {
            match update_image(image_id, change).await {
                Ok(updated) => {
                    live.apply_image(ImageEventKind::Updated, updated);
                    message.set(Some((true, done.to_owned())));
                }
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };

    let text = move |f: fn(&model::Job, Option<&model::Image>) -> String| {
        move || {
            job.with(|j| {
                j.as_ref()
                    .map(|j| image.with(|i| f(j, i.as_ref())))
                    .unwrap_or_default()
            })
        }
    };
    view! {
        <li
            class="card job"
            data-status=move || status().map(ImageStatus::as_str).unwrap_or_default()
            aria-label=text(|j, i| format!("{}: {}", i.map(model::Image::label).unwrap_or_else(|| "New image".to_owned()), stage_label(j)))
        >
            <div class="job__media">
                {move || job.get().map(|j| {
                    let label = image.with(|i| i.as_ref().map(model::Image::label)).unwrap_or_else(|| "New image".to_owned());
                    if j.status == ImageStatus::Completed {
                        view! { <Picture image_id=j.image_id.clone() alt=label square=true eager=true /> }.into_any()
                    } else {
                        view! { <div class="job__placeholder" class:job__placeholder--busy=!j.status.is_final() aria-hidden="true"></div> }.into_any()
                    }
                })}
            </div>
            <div class="job__body">
                {move || job.get().map(|j| {
                    let label = image.with(|i| i.as_ref().map(model::Image::label)).unwrap_or_else(|| "New image".to_owned());
                    let stage = stage_label(&j);
                    let elapsed = {
                        let start = j.started_at.unwrap_or(j.created_at);
                        let end = j.finished_at.unwrap_or_else(|| live.now.get());
                        duration((end - start).num_seconds())
                    };
                    let retry = j.next_attempt_at.filter(|_| j.status == ImageStatus::Pending).map(|at| {
                        let wait = (at - live.now.get()).num_seconds().max(0);
                        format!("Next attempt in {}", duration(wait))
                    });
                    let failure = j.error.clone().filter(|_| j.status == ImageStatus::Error);
                    view! {
                        <p class="job__title">{label.clone()}</p>
                        <p class="job__stage" role="status">{stage}</p>
                        <progress max="100" value=progress(j.status) aria-label=format!("Progress of {label}")></progress>
                        <p class="job__meta muted">
                            <span>{elapsed}</span>
                            {(j.attempt > 0).then(|| view! { <span>{format!("Attempt {} of {}", j.attempt, j.max_attempts)}</span> })}
                            {(!j.model.is_empty()).then(|| view! { <span>{format!("{} · {}", j.provider.label(), j.model)}</span> })}
                        </p>
                        {retry.map(|r| view! { <p class="job__retry">{r}</p> })}
                        {failure.map(|f| {
                            let fix = remedy(&f.code);
                            view! {
                                <p class="notice notice--error" role="alert">
                                    {f.message.clone()}
                                    {fix.map(|(href, words)| view! { " " <A href=href>{words}</A> })}
                                </p>
                            }
                        })}
                    }
                })}
                <div class="job__actions">
            <Show when=running>
                <button type="button" class="button button--small" on:click=cancel.clone()>"Cancel"</button>
            </Show>
            {move || (choices.is_some() && status().is_some_and(ImageStatus::is_final)).then(|| {
                let favorite = image.with(|i| i.as_ref().is_some_and(|i| i.favorite));
                let completed = status() == Some(ImageStatus::Completed);
                let choices = choices.expect("checked above");
                view! {
                    <button type="button" class="button button--small" on:click=regenerate>"Regenerate"</button>
                    {completed.then(|| view! {
                        <button type="button" class="button button--small" aria-pressed=favorite.to_string()
                            on:click=move |_| change(UpdateImageRequest { favorite: Some(!favorite), ..Default::default() }, if favorite { "No longer a favourite." } else { "Added to your favourites." })>
                            {if favorite { "★ Favourite" } else { "☆ Favourite" }}
                        </button>
                        <label class="job__choice">
                            <span class="visually-hidden">"Move to collection"</span>
                            <select on:change=move |ev| {
                                let value = event_target_value(&ev);
                                let collection_id = Some(Some(value).filter(|v| !v.is_empty()));
                                change(UpdateImageRequest { collection_id, ..Default::default() }, "Moved.");
                            }>
                                <option value="" selected=true>"Move to…"</option>
                                {move || choices.collections.get().into_iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label class="job__choice">
                            <span class="visually-hidden">"Make the avatar of"</span>
                            <select on:change=move |ev| {
                                let character_id = event_target_value(&ev);
                                let Some(image_id) = job.with_untracked(|j| j.as_ref().map(|j| j.image_id.clone())) else { return };
                                if character_id.is_empty() { return; }
                                spawn_local(async move {
                                    match set_character_avatar(character_id, image_id).await {
                                        Ok(c) => message.set(Some((true, format!("Now the avatar of {}.", c.name)))),
                                        Err(e) => message.set(Some((false, e.to_string()))),
                                    }
                                });
                            }>
                                <option value="" selected=true>"Avatar of…"</option>
                                {move || choices.characters.get().into_iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                    })}
                }
            })}
                </div>
                {move || message.get().map(|(ok, text)| view! {
                    <p class=if ok { "notice notice--ok" } else { "notice notice--error" } role="status">{text}</p>
                })}
            </div>
        </li>
    }
    .into_any()
}
