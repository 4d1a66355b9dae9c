//! Collections: each with its cover and count, opening the gallery filtered to it; create,
//! rename and delete (the images stay). The forms work before hydration.

use leptos::prelude::*;
use leptos_meta::Title;
use model::Collection;

use crate::{
    api::library::{CreateCollection, DeleteCollection, ListCollections, RenameCollection},
    components::{
        field_error, form_error, EmptyState, Field, FormAction, FormError, PageHeader, Picture,
        PostForm, Skeleton,
    },
};

#[component]
pub fn CollectionsPage() -> impl IntoView {
    let create = FormAction::<CreateCollection>::new();
    let rename = FormAction::<RenameCollection>::new();
    let delete = FormAction::<DeleteCollection>::new();
    let list = crate::server_resource::server_resource(
        move || {
            (
                create.version().get(),
                rename.version().get(),
                delete.version().get(),
            )
        },
        |_| ListCollections { cursor: None },
    );
    view! {
        <Title text="Collections" />
        <PageHeader title="Collections" lead="Group images into collections, each with a cover. Deleting a collection keeps its images." />
        <section class="card" aria-labelledby="new-collection">
            <h2 id="new-collection">"New collection"</h2>
            <FormError error=form_error(create) />
            <PostForm action=create class="form form--inline">
                <Field label="Name" name="name" required=true maxlength=100 error=field_error(create, "name") />
                <Field label="Description (optional)" name="description" maxlength=2000 error=field_error(create, "description") />
                <button type="submit" class="button button--primary" disabled=move || create.pending().get()>"Create"</button>
            </PostForm>
        </section>
        <FormError error=form_error(rename) />
        <FormError error=form_error(delete) />
        <Transition fallback=|| view! { <Skeleton /> }>
            {move || Suspend::new(async move {
                match crate::suspend::read(list).await {
                    Err(e) => view! { <p class="notice notice--error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! {
                        <EmptyState title="No collections yet." text="Create one above, then move images into it from the gallery or the Studio." />
                    }.into_any(),
                    Ok(page) => view! {
                        <ul class="collection-grid" aria-label="Collections">
                            {page.items.into_iter().map(|c| view! { <CollectionCard collection=c rename=rename delete=delete /> }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component(transparent)]
fn CollectionCard(
    collection: Collection,
    rename: FormAction<RenameCollection>,
    delete: FormAction<DeleteCollection>,
) -> impl IntoView {
    let href = format!("/gallery?collection={}", collection.id);
    let count = match collection.image_count {
        1 => "1 image".to_owned(),
        n => format!("{n} images"),
    };
    let name = collection.name.clone();
    let (rename_id, delete_id) = (collection.id.clone(), collection.id.clone());
    let rename_label = format!("New name for {name}");
    let delete_label = format!("Delete “{name}”");
    let current_name = name.clone();
    view! {
        <li class="card collection">
            <a href=href.clone() class="collection__cover">
                {match collection.cover_image_id.clone() {
                    Some(id) => view! { <Picture image_id=id alt=format!("Cover of {}", collection.name) square=true sizes="(min-width: 40rem) 20rem, 90vw" /> }.into_any(),
                    None => view! { <span class="tile__placeholder">"Empty"</span> }.into_any(),
                }}
            </a>
            <h2 class="collection__name"><a href=href>{name}</a></h2>
            <p class="muted">{count}</p>
            {collection.description.clone().map(|d| view! { <p>{d}</p> })}
            <details>
                <summary>"Rename or delete"</summary>
                <PostForm action=rename class="form form--inline">
                    <input type="hidden" name="id" value=rename_id />
                    <label>
                        <span class="visually-hidden">{rename_label}</span>
                        <input type="text" name="name" required maxlength="100" value=current_name />
                    </label>
                    <button type="submit" class="button">"Rename"</button>
                </PostForm>
                <PostForm action=delete class="form form--inline">
                    <input type="hidden" name="id" value=delete_id />
                    <button type="submit" class="button button--danger">{delete_label}</button>
                </PostForm>
            </details>
        </li>
    }
}
