//! An image's lineage in the lightbox: the image it was made from (an edit's source, a
//! regeneration's original) and the images made from it, each a button that opens it, so
//! that the person can walk the family both ways.

use leptos::prelude::*;
use model::{Image, ImageFilter};

use crate::{
    api::{
        client::call,
        library::{GetImage, ListImageCards},
    },
    browser_data::fetched,
    components::{handler, Picture},
};

/// How many children are listed.
const CHILDREN: u32 = 24;

// A component's props are owned: #[component] builds a props struct from them.
#[allow(clippy::needless_pass_by_value)]
#[component]
pub(super) fn Lineage(
    image: Image,
    /// Opens an image in the lightbox.
    walk: Callback<Image>,
) -> impl IntoView {
    let parent_id = image.parent_id.clone();
    let id = image.id.clone();
    // Read in the browser only (the lightbox is never server-rendered).
    let parent = fetched(move || {
        let parent_id = parent_id.clone();
        async move {
            match parent_id {
                Some(p) => call(GetImage { id: p }).await.ok(),
                None => None,
            }
        }
    });
    // Cards, like the grid's: the lightbox reads nothing else of an image.
    let children = fetched(move || {
        call(ListImageCards {
            filter: ImageFilter {
                parent_id: Some(id.clone()),
                limit: Some(CHILDREN),
                ..ImageFilter::default()
            },
        })
    });
    let node = move |image: Image, relation: &'static str| {
        let label = image.label();
        let text = format!("{relation}: {label}");
        let picture = image.has_media().then(|| {
            view! { <Picture image_id=image.id.clone() alt=String::new() square=true width=64 height=64 /> }
        });
        view! {
            <li>
                <button type="button" class="lineage__node" aria-label=text.clone() title=text on:click=handler(move |_| walk.run(image.clone()))>
                    {picture}
                    <span>{label}</span>
                </button>
            </li>
        }
    };
    view! {
        <section class="lineage" aria-label="Lineage">
            {move || parent.get().flatten().map(|p| view! {
                <h3>"Made from"</h3>
                <ul class="lineage__list">{node(p, "Open the image this was made from")}</ul>
            })}
            {move || {
                let kids = children.get().and_then(Result::ok).map(|p| p.items).unwrap_or_default();
                let kids: Vec<Image> = kids.into_iter().map(Image::from).collect();
                (!kids.is_empty()).then(|| view! {
                    <h3>"Made from this"</h3>
                    <ul class="lineage__list">
                        {kids.into_iter().map(|k| node(k, "Open an image made from this")).collect_view()}
                    </ul>
                })
            }}
        </section>
    }
}
