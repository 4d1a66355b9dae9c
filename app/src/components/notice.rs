//! One kind of message for "what just happened": a [`Notice`] is a success or a failure
//! with its sentence, and [`NoticeLine`] shows the latest one in a polite live region, so
//! screen readers hear it without losing their place. Every page uses these instead of its
//! own `(bool, String)` pair and its own markup.

use std::fmt::Display;

use leptos::prelude::*;

/// The outcome of something the person did, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub ok: bool,
    pub text: String,
}

impl Notice {
    /// It worked.
    pub fn done(text: impl Into<String>) -> Self {
        Self {
            ok: true,
            text: text.into(),
        }
    }

    /// It did not: the error's own sentence.
    pub fn failed(error: &impl Display) -> Self {
        Self {
            ok: false,
            text: error.to_string(),
        }
    }

    /// Of a result: `done` says what a success means.
    pub fn of<T, E: Display>(result: &Result<T, E>, done: impl FnOnce(&T) -> String) -> Self {
        match result {
            Ok(value) => Self::done(done(value)),
            Err(e) => Self::failed(e),
        }
    }

    /// The stylesheet's class for it.
    pub fn class(&self) -> &'static str {
        if self.ok {
            "notice notice--ok"
        } else {
            "notice notice--error"
        }
    }
}

/// The latest notice, if any, in a polite live region (present even when empty, so the
/// first message is announced too).
#[component]
pub fn NoticeLine(#[prop(into)] notice: Signal<Option<Notice>>) -> impl IntoView {
    view! {
        <div role="status" aria-live="polite">
            {move || notice.get().map(|n| view! { <p class=n.class()>{n.text.clone()}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_becomes_the_right_kind_of_notice() {
        let worked: Result<u32, String> = Ok(3);
        let notice = Notice::of(&worked, |n| format!("{n} moved."));
        assert_eq!(notice, Notice::done("3 moved."));
        assert_eq!(notice.class(), "notice notice--ok");

        let refused: Result<u32, String> = Err("That collection is gone.".to_owned());
        let notice = Notice::of(&refused, |n| format!("{n} moved."));
        assert!(!notice.ok);
        assert_eq!(notice.text, "That collection is gone.");
        assert_eq!(notice.class(), "notice notice--error");
    }
}
