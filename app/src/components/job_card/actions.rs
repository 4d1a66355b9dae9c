//! What can be done with a finished job's image, on its card: make it again with a new
//! seed, edit it with a prompt, favourite it, move it to a collection, make it a character's avatar. Each says
//! what happened in the card's notice.

use leptos::{prelude::*, task::spawn_local};
use model::{Image, ImageEventKind, ImageStatus, Job, UpdateImageRequest};

use super::CardChoices;
use crate::{
    api::{
        client::call,
        generation::RegenerateImage,
        library::{SetCharacterAvatar, UpdateImage},
    },
    components::{handler, EditForm, Notice},
    live::use_live,
};

#[component]
pub(super) fn FinishedActions(
    job: Memo<Option<Job>>,
    image: Memo<Option<Image>>,
    choices: CardChoices,
    message: RwSignal<Option<Notice>>,
) -> impl IntoView {
    let live = use_live();
    let regenerate = move |_| {
        let Some(image_id) = job.with_untracked(|j| j.as_ref().map(|j| j.image_id.clone())) else {
            return;
        };
        spawn_local(async move {
            match call(RegenerateImage { id: image_id }).await {
                Ok(jobs) => {
                    live.merge(jobs, Vec::new());
                    message.set(Some(Notice::done("Making it again with a new seed.")));
                }
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
        });
    };
    let change = move |change: UpdateImageRequest, done: &'static str| {
        let Some(image_id) = job.with_untracked(|j| j.as_ref().map(|j| j.image_id.clone())) else {
            return;
        };
        spawn_local(async move {
            match call(UpdateImage {
                id: image_id,
                change,
            })
            .await
            {
                Ok(updated) => {
                    live.apply_image(ImageEventKind::Updated, updated);
                    message.set(Some(Notice::done(done)));
                }
                Err(e) => message.set(Some(Notice::failed(&e))),
            }
        });
    };

    // Read again whenever the image changes (a favourite toggled here or elsewhere).
    move || {
        let favorite = image.with(|i| i.as_ref().is_some_and(|i| i.favorite));
        let completed = job.with(|j| j.as_ref().map(|j| j.status)) == Some(ImageStatus::Completed);
        view! {
            <button type="button" class="button button--small" on:click=handler(regenerate)>"Regenerate"</button>
            {completed.then(|| job.with_untracked(|j| j.as_ref().map(|j| j.image_id.clone()))).flatten().map(|id| view! {
                <EditForm image_id=id message=message />
            })}
            {completed.then(|| view! {
                <button type="button" class="button button--small" aria-pressed=favorite.to_string()
                    on:click=handler(move |_| change(UpdateImageRequest { favorite: Some(!favorite), ..Default::default() }, if favorite { "No longer a favourite." } else { "Added to your favourites." }))>
                    {if favorite { "★ Favourite" } else { "☆ Favourite" }}
                </button>
                <label class="job__choice">
                    <span class="visually-hidden">"Move to collection"</span>
                    <select on:change=handler(move |ev| {
                        let value = event_target_value(&ev);
                        let collection_id = Some(Some(value).filter(|v| !v.is_empty()));
                        change(UpdateImageRequest { collection_id, ..Default::default() }, "Moved.");
                    })>
                        <option value="" selected=true>"Move to…"</option>
                        {move || choices.collections.get().into_iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="job__choice">
                    <span class="visually-hidden">"Make the avatar of"</span>
                    <select on:change=handler(move |ev| {
                        let character_id = event_target_value(&ev);
                        let Some(image_id) = job.with_untracked(|j| j.as_ref().map(|j| j.image_id.clone())) else { return };
                        if character_id.is_empty() { return; }
                        spawn_local(async move {
                            match call(SetCharacterAvatar { id: character_id, image_id }).await {
                                Ok(c) => message.set(Some(Notice::done(format!("Now the avatar of {}.", c.name)))),
                                Err(e) => message.set(Some(Notice::failed(&e))),
                            }
                        });
                    })>
                        <option value="" selected=true>"Avatar of…"</option>
                        {move || choices.characters.get().into_iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                    </select>
                </label>
            })}
        }
    }
}
