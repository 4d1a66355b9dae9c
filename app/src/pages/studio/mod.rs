//! The Studio, where avatars are made: the prompt and every setting the chosen model takes
//! (from the catalogue, saying which providers have a key), reference images picked from
//! the library or dropped in (kept in the browser until uploaded), and a card for every
//! job that follows it live until the finished image takes its place; a comparison of
//! several models side by side (`compare`). The page is here; the form, its reference
//! images and its state have a file each.

mod compare;
mod form;
mod references;
mod state;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{
        client::call,
        generation::LiveState,
        library::{ListCharacters, ListCollections},
    },
    browser_data::fetched,
    components::{show_when, CardChoices, EmptyState, JobCard, PageHeader, Skeleton},
    live::use_live,
};

use compare::CompareBoard;
use form::GenerationForm;

/// Jobs shown on the page (the newest).
const SHOWN: usize = 24;

#[component]
pub fn StudioPage() -> impl IntoView {
    let live = use_live();
    let initial = crate::server_resource::server_resource(|| (), |()| LiveState {});
    // Choices for the form's and the finished cards' selects, read in the browser only:
    // plain signals, not local resources, since the cards read them inside the jobs'
    // `<Transition>`, and a local resource read there on the server makes Leptos give the
    // whole list up for its fallback (the Studio of someone with a finished job was sent as
    // a skeleton, and the `<Transition>`'s effect, left walking the cards, panicked once
    // the page was done).
    let characters = fetched(|| call(ListCharacters { cursor: None }));
    let collections = fetched(|| call(ListCollections { cursor: None }));
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
                <CompareBoard />
                <h2 id="jobs-heading">"Your jobs"</h2>
                <Transition fallback=|| view! { <Skeleton /> }>
                    {move || Suspend::new(async move {
                        match initial.await {
                            Err(e) => view! { <p class="notice notice--error" role="alert">{e.to_string()}</p> }.into_any(),
                            Ok(state) => {
                                live.merge(state.jobs, state.images);
                                view! {
                                    {show_when(move || live.book.with(|b| b.jobs.is_empty()), move || view! {
                                        <EmptyState title="Nothing made yet." text="Your jobs appear here as soon as you start them, and you can watch each one live." />
                                    })}
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
