//! The latest comparison, side by side: one prompt sent to several models at once (one
//! job each, sharing a `batch_id`), each result labelled by its model with the time it
//! took and what it cost; "Keep" on one (the character's avatar when the comparison named one, else
//! into the collection chosen beside it, or a favourite) and the others to the trash in one click. The logic is in plain functions
//! tested here; the jobs are the tab's live ones.

use leptos::{prelude::*, task::spawn_local};
use model::{BulkAction, Collection, Image, ImageStatus, Job, UpdateImageRequest};

use crate::{
    api::{
        client::call,
        library::{BulkImages, ListCollections, SetCharacterAvatar, UpdateImage},
    },
    components::{handler, show_when, Notice, NoticeLine, Picture},
    live::{duration, use_live},
};

/// The jobs of the newest comparison among `jobs`, in the order they were asked for.
pub fn latest_batch(jobs: &[Job]) -> Vec<Job> {
    let Some(newest) = jobs
        .iter()
        .filter(|j| j.batch_id.is_some())
        .max_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)))
        .and_then(|j| j.batch_id.clone())
    else {
        return Vec::new();
    };
    let mut batch: Vec<Job> = jobs
        .iter()
        .filter(|j| j.batch_id.as_deref() == Some(newest.as_str()))
        .cloned()
        .collect();
    // Job ids grow with time: made in the order of the targets.
    batch.sort_by(|a, b| a.id.cmp(&b.id));
    batch
}

/// What a result says under its picture: how long it took, or where it is.
pub fn outcome(job: &Job) -> String {
    match (job.status, job.started_at, job.finished_at) {
        (ImageStatus::Completed, Some(start), Some(end)) => {
            format!("Took {}", duration((end - start).num_seconds()))
        }
        (ImageStatus::Completed, ..) => "Done".to_owned(),
        (ImageStatus::Error, ..) => job
            .error
            .as_ref()
            .map_or_else(|| "Failed".to_owned(), |e| format!("Failed: {}", e.message)),
        (ImageStatus::Canceled, ..) => "Cancelled".to_owned(),
        (ImageStatus::Pending, ..) => "Waiting…".to_owned(),
        _ => "Making…".to_owned(),
    }
}

/// What a finished result cost, from its image's provenance: "About $0.17", "Free".
pub fn cost_text(image: Option<&Image>) -> Option<String> {
    let cost = image?.generation.as_ref()?.cost.as_ref()?;
    Some(if cost.usd > 0.0 {
        format!("About {}", model::format_usd(cost.usd))
    } else {
        "Free".to_owned()
    })
}

/// Where "Keep" puts an image that is no character's: into the collection `into` (by
/// id, among `collections`), else among the favourites. Answers the change and what to
/// say once it is made.
pub fn keep_change(into: &str, collections: &[Collection]) -> (UpdateImageRequest, String) {
    match collections.iter().find(|c| c.id == into) {
        Some(c) => (
            UpdateImageRequest {
                collection_id: Some(Some(c.id.clone())),
                ..UpdateImageRequest::default()
            },
            format!("Kept: in the collection {}.", c.name),
        ),
        None => (
            UpdateImageRequest {
                favorite: Some(true),
                ..UpdateImageRequest::default()
            },
            "Kept: marked as a favourite.".to_owned(),
        ),
    }
}

/// The images to trash once one is kept: every other one of the comparison.
pub fn others(batch: &[Job], kept_image: &str) -> Vec<String> {
    batch
        .iter()
        .map(|j| j.image_id.clone())
        .filter(|i| i != kept_image)
        .collect()
}

#[component]
pub(super) fn CompareBoard() -> impl IntoView {
    let live = use_live();
    let batch = Memo::new(move |_| live.book.with(|b| latest_batch(&b.jobs)));
    let kept = RwSignal::new(None::<String>);
    let trashed = RwSignal::new(Vec::<String>::new());
    let message = RwSignal::new(None::<Notice>);
    // Where a kept image goes when no character is named: "" for the favourites, or a
    // collection's id. The collections are read once the board shows.
    let keep_into = RwSignal::new(String::new());
    let collections = RwSignal::new(Vec::<Collection>::new());
    // A new comparison starts over.
    Effect::new(move |previous: Option<Option<String>>| {
        let now = batch.with(|b| b.first().and_then(|j| j.batch_id.clone()));
        if previous.is_some_and(|p| p != now) {
            kept.set(None);
            trashed.set(Vec::new());
            message.set(None);
        }
        now
    });
    let keep = move |job: Job| {
        spawn_local(async move {
            let image_id = job.image_id.clone();
            let done = match job.character_id.clone() {
                Some(character) => call(SetCharacterAvatar {
                    id: character,
                    image_id: image_id.clone(),
                })
                .await
                .map(|c| format!("Kept: now the avatar of {}.", c.name)),
                None => {
                    let (change, said) =
                        collections.with_untracked(|c| keep_change(&keep_into.get_untracked(), c));
                    call(UpdateImage {
                        id: image_id.clone(),
                        change,
                    })
                    .await
                    .map(|_| said)
                }
            };
            match done {
                Ok(text) => {
                    kept.set(Some(image_id));
                    message.set(Some(Notice::done(text)));
                }
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
        });
    };
    let trash_others = move |_| {
        let Some(kept_image) = kept.get_untracked() else {
            return;
        };
        let ids = batch.with_untracked(|b| others(b, &kept_image));
        spawn_local(async move {
            match call(BulkImages {
                action: BulkAction::Delete,
                ids: ids.clone(),
                collection_id: None,
            })
            .await
            {
                Ok(result) => {
                    trashed.set(ids);
                    message.set(Some(Notice::done(format!(
                        "{} moved to the trash.",
                        result.done.len()
                    ))));
                }
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
        });
    };
    let shown = move || {
        batch
            .get()
            .into_iter()
            .filter(|j| !trashed.read().contains(&j.image_id))
            .collect::<Vec<_>>()
    };
    let names_character = move || batch.with(|b| b.iter().any(|j| j.character_id.is_some()));
    // Read the collections when a comparison without a character first shows.
    Effect::new(move |asked: Option<bool>| {
        let wanted = !batch.read().is_empty() && !names_character();
        if wanted && asked != Some(true) {
            spawn_local(async move {
                if let Ok(page) = call(ListCollections { cursor: None }).await {
                    collections.set(page.items);
                }
            });
        }
        asked == Some(true) || wanted
    });
    view! {
        {show_when(move || !batch.read().is_empty(), move || view! {
            <section class="card compare" aria-labelledby="compare-heading">
                <h2 id="compare-heading">"Side by side"</h2>
                {show_when(move || !names_character(), move || view! {
                    <div class="field compare__keep">
                        <label for="keep-into">"Keep in"</label>
                        <select id="keep-into" on:change=handler(move |ev| keep_into.set(event_target_value(&ev))) prop:value=move || keep_into.get()>
                            <option value="">"Favourites"</option>
                            <For each=move || collections.get() key=|c| c.id.clone() let:c>
                                <option value=c.id.clone()>{c.name.clone()}</option>
                            </For>
                        </select>
                    </div>
                })}
                <ul class="compare__grid" aria-label="Compared models">
                    <For each=shown key=|j| (j.id.clone(), j.status, j.seq) let:job>
                        {
                            let label = format!("{} · {}", job.provider.label(), job.model);
                            let image_id = job.image_id.clone();
                            let is_kept = {
                                let image_id = image_id.clone();
                                Signal::derive(move || kept.read().as_deref() == Some(image_id.as_str()))
                            };
                            let done = job.status == ImageStatus::Completed;
                            let picture = done.then(|| view! {
                                <Picture image_id=image_id.clone() alt=label.clone() square=true width=256 height=256 />
                            });
                            let (job_keep, label_keep) = (job.clone(), label.clone());
                            let cost = {
                                let image_id = image_id.clone();
                                move || live.book.with(|b| cost_text(b.images.get(&image_id)))
                            };
                            view! {
                                <li class="compare__item" class:compare__item--kept=is_kept data-testid="compared">
                                    <h3>{label.clone()}</h3>
                                    {picture}
                                    <p class="muted">{outcome(&job)}</p>
                                    <p class="compare__cost">{cost}</p>
                                    {done.then(|| view! {
                                        <button type="button" class="button button--small" aria-pressed=move || is_kept.get().to_string()
                                            aria-label=format!("Keep the one from {label_keep}")
                                            on:click=handler(move |_| keep(job_keep.clone()))>"Keep"</button>
                                    })}
                                </li>
                            }
                        }
                    </For>
                </ul>
                <p class="actions">
                    <button type="button" class="button button--danger" on:click=handler(trash_others)
                        disabled=move || kept.read().is_none() || shown().len() < 2>
                        "Trash the others"
                    </button>
                </p>
                <NoticeLine notice=message />
            </section>
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, batch: Option<&str>, minute: u32, status: &str) -> Job {
        serde_json::from_value(serde_json::json!({
            "id": id, "image_id": format!("img-{id}"), "status": status, "seq": 1,
            "attempt": 1, "max_attempts": 3, "provider": "builtin", "model": "portrait-1",
            "created_at": format!("2026-12-04T10:{minute:02}:00Z"),
            "started_at": format!("2026-12-04T10:{minute:02}:01Z"),
            "finished_at": format!("2026-12-04T10:{minute:02}:05Z"),
            "batch_id": batch,
        }))
        .unwrap()
    }

    #[test]
    fn the_newest_comparison_is_shown_in_the_order_asked() {
        let jobs = vec![
            job("j5", None, 9, "completed"),
            job("j4", Some("b2"), 8, "generating"),
            job("j3", Some("b2"), 8, "completed"),
            job("j2", Some("b1"), 1, "completed"),
            job("j1", Some("b1"), 1, "completed"),
        ];
        let batch = latest_batch(&jobs);
        let ids: Vec<&str> = batch.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids, ["j3", "j4"]);
        assert_eq!(others(&batch, "img-j3"), ["img-j4"]);
        assert!(latest_batch(&jobs[..1]).is_empty());
    }

    #[test]
    fn a_kept_image_goes_into_the_chosen_collection_else_among_the_favourites() {
        let portraits: Collection = serde_json::from_value(serde_json::json!({
            "id": "c1", "name": "Portraits", "image_count": 0,
            "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z",
        }))
        .unwrap();
        let all = [portraits];
        let (change, said) = keep_change("c1", &all);
        assert_eq!(change.collection_id, Some(Some("c1".to_owned())));
        assert_eq!(change.favorite, None);
        assert_eq!(said, "Kept: in the collection Portraits.");
        // The favourites, and a collection deleted meanwhile, are the favourites.
        for into in ["", "gone"] {
            let (change, said) = keep_change(into, &all);
            assert_eq!((change.favorite, change.collection_id), (Some(true), None));
            assert_eq!(said, "Kept: marked as a favourite.");
        }
    }

    #[test]
    fn each_result_says_how_long_it_took_or_where_it_is() {
        assert_eq!(outcome(&job("a", None, 1, "completed")), "Took 4 s");
        assert_eq!(outcome(&job("a", None, 1, "pending")), "Waiting…");
        assert_eq!(outcome(&job("a", None, 1, "generating")), "Making…");
        assert_eq!(outcome(&job("a", None, 1, "error")), "Failed");
    }

    #[test]
    fn each_result_says_what_it_cost() {
        let image = |generation: serde_json::Value| -> Image {
            serde_json::from_value(serde_json::json!({
                "id": "i", "kind": "generated", "status": "completed", "url": "/media/i",
                "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z",
                "favorite": false, "generation": generation,
            }))
            .unwrap()
        };
        let priced = |usd: f64| {
            image(serde_json::json!({"attempts": 1, "reference_image_ids": [],
                "cost": {"usd": usd, "basis": "tokens", "pricing_version": "v"}}))
        };
        assert_eq!(
            cost_text(Some(&priced(0.16625))).as_deref(),
            Some("About $0.17")
        );
        assert_eq!(cost_text(Some(&priced(0.0))).as_deref(), Some("Free"));
        assert_eq!(
            cost_text(Some(&image(
                serde_json::json!({"attempts": 1, "reference_image_ids": []})
            ))),
            None
        );
        assert_eq!(cost_text(None), None);
    }
}
