//! One generation job as a card that follows it live: the stage, a progress bar, elapsed
//! time, the attempt, when the next retry is due, a cancel button, and on failure the
//! reason with what fixes it. Once finished, the image replaces the placeholder, with what
//! can be done with it (regenerate, favourite, move, make a character's avatar). The card
//! is here; its words are worked out in `describe`, its finished image's actions are in
//! `actions`.

mod actions;
mod describe;

use leptos::{prelude::*, task::spawn_local};
use model::{Character, Collection, ImageStatus};

use crate::{
    api::{client::call, generation::CancelGeneration},
    components::{handler, show_when, Notice, NoticeLine, Picture},
    live::{progress, remedy, stage_label, use_live},
};
use actions::FinishedActions;
use describe::{describe, title};

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
    let message = RwSignal::new(None::<Notice>);
    let status = move || job.with(|j| j.as_ref().map(|j| j.status));
    let running = move || status().is_some_and(|s| !s.is_final());

    let cancel = move |_| {
        let id = id.clone();
        spawn_local(async move {
            match call(CancelGeneration { id }).await {
                Ok(j) => live.merge(vec![j], Vec::new()),
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
        });
    };
    let heading = move || {
        job.with(|j| {
            j.as_ref()
                .map(|j| image.with(|i| format!("{}: {}", title(i.as_ref()), stage_label(j))))
                .unwrap_or_default()
        })
    };
    view! {
        <li
            class="card job"
            data-status=move || status().map(ImageStatus::as_str).unwrap_or_default()
            aria-label=heading
        >
            <div class="job__media">
                {move || job.get().map(|j| {
                    let label = image.with(|i| title(i.as_ref()));
                    if j.status == ImageStatus::Completed {
                        view! { <Picture image_id=j.image_id.clone() alt=label square=true eager=true /> }.into_any()
                    } else {
                        view! { <div class="job__placeholder" class:job__placeholder--busy=!j.status.is_final() aria-hidden="true"></div> }.into_any()
                    }
                })}
            </div>
            <div class="job__body">
                {move || job.get().map(|j| {
                    let text = image.with(|i| describe(&j, i.as_ref(), live.now.get()));
                    view! {
                        <p class="job__title">{text.label.clone()}</p>
                        <p class="job__stage" role="status">{text.stage}</p>
                        <progress max="100" value=progress(j.status) aria-label=format!("Progress of {}", text.label)></progress>
                        <p class="job__meta muted">
                            <span>{text.elapsed}</span>
                            {text.attempt.map(|a| view! { <span>{a}</span> })}
                            {text.model.map(|m| view! { <span>{m}</span> })}
                        </p>
                        {text.retry.map(|r| view! { <p class="job__retry">{r}</p> })}
                        {text.failure.map(|f| {
                            let fix = remedy(&f.code);
                            view! {
                                <p class="notice notice--error" role="alert">
                                    {f.message.clone()}
                                    {fix.map(|(href, words)| view! { " " <a href=href>{words}</a> })}
                                </p>
                            }
                        })}
                    }
                })}
                <div class="job__actions">
                    {show_when(running, move || view! {
                        <button type="button" class="button button--small" on:click=handler(cancel.clone())>"Cancel"</button>
                    })}
                    {move || choices.filter(|_| status().is_some_and(ImageStatus::is_final)).map(|choices| view! {
                        <FinishedActions job=job image=image choices=choices message=message />
                    })}
                </div>
                <NoticeLine notice=message />
            </div>
        </li>
    }
    .into_any()
}
