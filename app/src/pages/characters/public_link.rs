//! A character's public avatar link: made (and revoked) by its owner with plain forms that
//! work before hydration, shown with the snippet to embed it elsewhere.

use leptos::prelude::*;

use crate::{
    api::library::PublishAvatar,
    components::{form_error, FormAction, FormError, PostForm},
};

/// The `<img>` to paste into another site: the link at 256 px (any size of the ladder
/// works the same way).
pub(super) fn embed_snippet(url: &str, name: &str) -> String {
    let alt = name
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    format!(r#"<img src="{url}?w=256&amp;h=256" width="256" height="256" alt="{alt}">"#)
}

#[component(transparent)]
pub(super) fn PublicAvatarPanel(
    id: String,
    #[prop(into)] name: Signal<String>,
    /// The link while there is one.
    #[prop(into)]
    url: Signal<Option<String>>,
    #[prop(into)] has_avatar: Signal<bool>,
    action: FormAction<PublishAvatar>,
) -> impl IntoView {
    let id_revoke = id.clone();
    view! {
        <section class="card" aria-labelledby="public-avatar">
            <h2 id="public-avatar">"Public avatar link"</h2>
            <FormError error=form_error(action) />
            {move || {
                let (id, id_revoke) = (id.clone(), id_revoke.clone());
                match url.get() {
                None => view! {
                    <p class="muted">"Anyone with the link sees this character's avatar, whichever it is at the time (the link follows when you choose another),, in any size, without signing in. The link does not expire; you can revoke it at any time."</p>
                    <PostForm action=action>
                        <input type="hidden" name="id" value=id />
                        <input type="hidden" name="public" value="true" />
                        <button type="submit" class="button" disabled=move || action.pending().get()>"Make the avatar public"</button>
                    </PostForm>
                }.into_any(),
                Some(link) => {
                    let snippet = embed_snippet(&link, &name.get());
                    view! {
                        <div class="field">
                            <label for="public-avatar-url">"Link"</label>
                            <input id="public-avatar-url" type="url" readonly=true value=link.clone() data-testid="public-avatar-url" />
                            {(!has_avatar.get()).then(|| view! { <p class="field__hint">"There is no avatar yet: the link opens nothing until there is one."</p> })}
                        </div>
                        <div class="field">
                            <label for="public-avatar-embed">"To embed it"</label>
                            <textarea id="public-avatar-embed" readonly=true rows="2">{snippet}</textarea>
                        </div>
                        <p class="actions">
                            <a class="button" href=link.clone() target="_blank" rel="noopener">"Open the link"</a>
                        </p>
                        <PostForm action=action>
                            <input type="hidden" name="id" value=id_revoke />
                            <input type="hidden" name="public" value="false" />
                            <button type="submit" class="button button--danger" disabled=move || action.pending().get()>"Revoke the link"</button>
                        </PostForm>
                    }.into_any()
                }
            }}}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::embed_snippet;

    #[test]
    fn the_embed_snippet_uses_the_link_at_a_ladder_size_and_escapes_the_name() {
        let snippet = embed_snippet("https://studio.example/avatars/abc", "Ada \"the\" <Bold>");
        assert_eq!(
            snippet,
            r#"<img src="https://studio.example/avatars/abc?w=256&amp;h=256" width="256" height="256" alt="Ada &quot;the&quot; &lt;Bold>">"#
        );
    }
}
