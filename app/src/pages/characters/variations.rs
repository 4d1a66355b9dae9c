//! Variations of a character: the instance's presets (smiling, profile, in winter clothes,
//! as pixel art…) as checkboxes, one click to make the chosen ones, each a job from the
//! character's sheet, and their progress, followed live.

use leptos::{prelude::*, task::spawn_local};
use model::{ImageStatus, Job};

use crate::{
    api::{
        client::call,
        generation::{list_variations, MakeVariations},
    },
    browser_data::fetched,
    components::{handler, Notice, NoticeLine},
    live::use_live,
};

/// How a set of variations is getting on: (finished, failed, total) among the jobs started.
pub(super) fn progress(jobs: &[Job], started: &[String]) -> (usize, usize, usize) {
    let mine = jobs.iter().filter(|j| started.contains(&j.id));
    let (mut done, mut failed) = (0, 0);
    for job in mine {
        match job.status {
            ImageStatus::Completed => done += 1,
            ImageStatus::Error | ImageStatus::Canceled => failed += 1,
            _ => {}
        }
    }
    (done, failed, started.len())
}

/// What the section says while (and after) a set is made.
pub(super) fn progress_text((done, failed, total): (usize, usize, usize)) -> Option<String> {
    if total == 0 {
        return None;
    }
    let finished = done + failed;
    Some(match (finished == total, failed) {
        (false, _) => format!("Making {total} variations: {finished} of {total} finished."),
        (true, 0) => format!("Done: {done} new pictures below."),
        (true, f) => format!("Done: {done} new pictures below; {f} could not be made."),
    })
}

// A component's props are owned: #[component] builds a props struct from them.
#[allow(clippy::needless_pass_by_value)]
#[component(transparent)]
pub(super) fn Variations(id: String) -> impl IntoView {
    let live = use_live();
    // Read in the browser only: the choices need the page to be running anyway.
    let presets = fetched(list_variations);
    // Unticked presets (so that every preset is ticked when they arrive).
    let unticked = RwSignal::new(Vec::<String>::new());
    let started = RwSignal::new(Vec::<String>::new());
    let busy = RwSignal::new(false);
    let message = RwSignal::new(None::<Notice>);
    let chosen = move || {
        presets
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.id)
            .filter(|p| !unticked.read().contains(p))
            .collect::<Vec<_>>()
    };
    let make = {
        let id = id.clone();
        move |_| {
            let picked = chosen();
            if picked.is_empty() {
                return;
            }
            let id = id.clone();
            busy.set(true);
            message.set(None);
            spawn_local(async move {
                match call(MakeVariations {
                    id,
                    presets: picked,
                })
                .await
                {
                    Ok(jobs) => {
                        started.set(jobs.iter().map(|j| j.id.clone()).collect());
                        live.merge(jobs, Vec::new());
                    }
                    Err(e) => message.set(Some(Notice::failed(&e))),
                }
                busy.set(false);
            });
        }
    };
    let status = move || {
        let started = started.get();
        live.book
            .with(|b| progress_text(progress(&b.jobs, &started)))
    };
    view! {
        <section class="card" aria-labelledby="variations">
            <h2 id="variations">"Variations"</h2>
            <p class="muted">"The same character in other poses, moods and styles: one picture per choice, each made from the character's appearance and identity references, with the provider and model saved for its avatar."</p>
            <fieldset class="variations">
                <legend class="visually-hidden">"Variations to make"</legend>
                {move || presets.get().map(|r| match r {
                    Err(e) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                    Ok(list) => list.into_iter().map(|p| {
                        let (pid, pid_change) = (p.id.clone(), p.id.clone());
                        let field = format!("variation-{}", p.id);
                        view! {
                            <div class="field field--check">
                                <input id=field.clone() type="checkbox" title=p.prompt.clone()
                                    prop:checked=move || !unticked.read().contains(&pid)
                                    on:change=handler(move |ev| {
                                        let on = event_target_checked(&ev);
                                        unticked.update(|u| {
                                            u.retain(|x| *x != pid_change);
                                            if !on { u.push(pid_change.clone()); }
                                        });
                                    }) />
                                <label for=field>{p.label.clone()}</label>
                            </div>
                        }
                    }).collect_view().into_any(),
                })}
            </fieldset>
            <p class="actions">
                <button type="button" class="button button--primary" on:click=handler(make)
                    disabled=move || busy.get() || chosen().is_empty()>
                    {move || match chosen().len() {
                        1 => "Make 1 variation".to_owned(),
                        n => format!("Make {n} variations"),
                    }}
                </button>
            </p>
            <p role="status" aria-live="polite" data-testid="variations-progress">{status}</p>
            <NoticeLine notice=message />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, status: &str) -> Job {
        serde_json::from_value(serde_json::json!({
            "id": id, "image_id": "i", "status": status, "seq": 1, "attempt": 1, "max_attempts": 3,
            "provider": "builtin", "model": "portrait-1", "created_at": "2026-12-04T10:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn the_progress_of_a_set_counts_only_its_own_jobs() {
        let jobs = vec![
            job("a", "completed"),
            job("b", "generating"),
            job("c", "error"),
            job("other", "completed"),
        ];
        let started: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(progress(&jobs, &started), (1, 1, 3));
        assert_eq!(
            progress_text((1, 1, 3)).as_deref(),
            Some("Making 3 variations: 2 of 3 finished.")
        );
        assert_eq!(
            progress_text((3, 0, 3)).as_deref(),
            Some("Done: 3 new pictures below.")
        );
        assert_eq!(
            progress_text((2, 1, 3)).as_deref(),
            Some("Done: 2 new pictures below; 1 could not be made.")
        );
        assert_eq!(progress_text((0, 0, 0)), None);
    }
}
