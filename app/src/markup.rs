//! HTML written by hand, handed to an element's `inner_html` without a copy.
//!
//! Leptos takes a `String` for `inner_html` by copying it into an `Arc<str>` (a value a
//! view may clone). The gallery's server-rendered tiles are 110 KB of such HTML
//! (`pages::gallery::server_tiles`): [`Markup`] shares the `String` they were written into
//! instead (issue 17 §5). Everything else is as for a `String`.

use std::sync::Arc;

use leptos::{
    prelude::IntoAttributeValue,
    tachys::{
        html::element::InnerHtmlValue,
        renderer::{types::Element, Rndr},
    },
};

/// HTML for `inner_html`, shared; see the module's documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Markup(Arc<String>);

impl From<String> for Markup {
    fn from(html: String) -> Self {
        Self(Arc::new(html))
    }
}

/// What the `view!` macro asks of an attribute's value (`inner_html=…`): the value itself.
impl IntoAttributeValue for Markup {
    type Output = Self;

    fn into_attribute_value(self) -> Self {
        self
    }
}

impl InnerHtmlValue for Markup {
    type AsyncOutput = Self;
    type State = (Element, Self);
    type Cloneable = Self;
    type CloneableOwned = Self;

    fn html_len(&self) -> usize {
        self.0.len()
    }

    fn to_html(self, buf: &mut String) {
        buf.push_str(&self.0);
    }

    fn to_template(_buf: &mut String) {}

    fn hydrate<const FROM_SERVER: bool>(self, el: &Element) -> Self::State {
        // What the server wrote is in the page already.
        if !FROM_SERVER {
            Rndr::set_inner_html(el, &self.0);
        }
        (el.clone(), self)
    }

    fn build(self, el: &Element) -> Self::State {
        Rndr::set_inner_html(el, &self.0);
        (el.clone(), self)
    }

    fn rebuild(self, state: &mut Self::State) {
        if self != state.1 {
            Rndr::set_inner_html(&state.0, &self.0);
            state.1 = self;
        }
    }

    fn into_cloneable(self) -> Self {
        self
    }

    fn into_cloneable_owned(self) -> Self {
        self
    }

    fn dry_resolve(&mut self) {}

    async fn resolve(self) -> Self {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_html_is_written_as_it_is_and_shared_not_copied() {
        let markup = Markup::from("<li class=\"tile\">a &amp; b</li>".to_owned());
        let shared = markup.clone().into_cloneable();
        assert!(Arc::ptr_eq(&markup.0, &shared.0));
        let mut page = String::from("<ul>");
        shared.to_html(&mut page);
        assert_eq!(page, "<ul><li class=\"tile\">a &amp; b</li>");
    }
}
