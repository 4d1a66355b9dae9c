//! One row of a character's history (on its page): the image, "Current avatar" or "Use as
//! avatar", and whether it is one of the character's identity references. Plain forms, so
//! they work before hydration and without JavaScript.

use leptos::prelude::*;
use model::Image;

use crate::{
    api::library::{SetCharacterAvatar, SetIdentityReference},
    components::{FormAction, Picture, PostForm},
};

pub(super) fn history_row(
    character_id: &str,
    image: &Image,
    is_avatar: bool,
    is_identity: bool,
    avatar: FormAction<SetCharacterAvatar>,
    identity: FormAction<SetIdentityReference>,
) -> impl IntoView {
    let label = image.label();
    let has_media = image.has_media();
    let (cid, cid_identity) = (character_id.to_owned(), character_id.to_owned());
    let (image_avatar, image_identity) = (image.id.clone(), image.id.clone());
    view! {
        <li class="tile">
            {has_media.then(|| view! { <Picture image_id=image.id.clone() alt=label.clone() square=true /> })}
            <span class="tile__caption">{label.clone()}</span>
            {if is_avatar {
                view! { <p class="tile__badge">"Current avatar"</p> }.into_any()
            } else if has_media {
                view! {
                    <PostForm action=avatar class="tile__action">
                        <input type="hidden" name="id" value=cid />
                        <input type="hidden" name="image_id" value=image_avatar />
                        <button type="submit" class="button button--small">"Use as avatar"</button>
                    </PostForm>
                }
                .into_any()
            } else {
                ().into_any()
            }}
            {has_media.then(|| view! {
                <PostForm action=identity class="tile__action">
                    <input type="hidden" name="id" value=cid_identity />
                    <input type="hidden" name="image_id" value=image_identity />
                    <input type="hidden" name="chosen" value=(!is_identity).to_string() />
                    <button type="submit" class="button button--small" aria-pressed=is_identity.to_string()>"Identity reference"</button>
                </PostForm>
            })}
        </li>
    }
}
