//! Characters: the list with their avatars and a form to create one (here), and each
//! character's page (`page`: edit, the history of every image made for it, delete) with
//! its avatar maker (`avatar`). The forms work before hydration.

mod avatar;
mod history;
mod import;
mod page;
mod public_link;
mod variations;

pub use page::CharacterPage;

use leptos::prelude::*;
use leptos_meta::Title;
use model::Character;

use crate::{
    api::library::{CreateCharacter, ListCharacters},
    components::{
        field_error, form_error, Avatar, EmptyState, Field, FormAction, FormError, PageHeader,
        PostForm, Skeleton,
    },
};

#[component]
pub fn CharactersPage() -> impl IntoView {
    let create = FormAction::<CreateCharacter>::new();
    let list = crate::server_resource::server_resource(
        move || create.version().get(),
        |_| ListCharacters { cursor: None },
    );
    view! {
        <Title text="Characters" />
        <PageHeader
            title="Characters"
            lead="The subjects of your avatars: a description, a prompt, and every avatar made for them."
        />
        <section class="card" aria-labelledby="new-character">
            <h2 id="new-character">"New character"</h2>
            <FormError error=form_error(create) />
            <PostForm action=create class="form">
                <Field label="Name" name="name" required=true maxlength=100 error=field_error(create, "name") />
                <Field label="Description (optional)" name="description" maxlength=2000 error=field_error(create, "description") />
                <Field label="Appearance (optional)" name="appearance" kind="textarea" maxlength=2000 hint="Face, hair, build, distinguishing marks, usual clothes: added to every prompt for this character so that it stays recognisable." error=field_error(create, "appearance") />
                <Field label="Avatar prompt (optional)" name="avatar_prompt" maxlength=4000 hint="What the generator is asked to draw for this character." error=field_error(create, "avatar_prompt") />
                <div class="field field--check">
                    <input id="make-avatar" type="checkbox" name="make_avatar" value="on" checked=true />
                    <label for="make-avatar">"Make an avatar now"</label>
                </div>
                <button type="submit" class="button button--primary" disabled=move || create.pending().get()>"Create character"</button>
            </PostForm>
        </section>
        <Transition fallback=|| view! { <Skeleton /> }>
            {move || Suspend::new(async move {
                match crate::suspend::read(list).await {
                    Err(e) => view! { <p class="notice notice--error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! {
                        <EmptyState title="No characters yet." text="A character keeps a name, a look and every image of it. Create one above: its first avatar is made at once." />
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

#[component(transparent)]
fn CharacterRow(character: Character) -> impl IntoView {
    view! {
        <li class="card character">
            <Avatar image_id=character.avatar_image_id.clone() name=character.name.clone() size=64 />
            <div>
                <h2 class="character__name"><a href=format!("/characters/{}", character.id)>{character.name.clone()}</a></h2>
                {character.description.clone().map(|d| view! { <p class="muted">{d}</p> })}
            </div>
        </li>
    }
}
