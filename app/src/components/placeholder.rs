//! What a list shows before it has anything to show: a skeleton while its data is on its
//! way (the shape of what is coming, not a blank), and a designed empty state once it is
//! known to be empty (what goes here, and the way to put something there).

use leptos::prelude::*;

/// Grey bars in the shape of a few rows, announced as loading.
#[component]
pub fn Skeleton(
    /// How many rows.
    #[prop(default = 3)]
    rows: usize,
) -> impl IntoView {
    view! {
        <div class="skeleton" role="status" aria-busy="true">
            <span class="visually-hidden">"Loading…"</span>
            {(0..rows).map(|i| view! { <span class=format!("skeleton__row skeleton__row--{}", i % 3)></span> }).collect_view()}
        </div>
    }
}

/// A list that has nothing in it yet: a picture, what would be here, and what to do.
#[component]
pub fn EmptyState(
    #[prop(into)] title: String,
    #[prop(into, optional)] text: String,
    /// The way to fill it (a link or a button), if there is one.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="card empty-state">
            <svg class="empty-state__art" viewBox="0 0 64 64" aria-hidden="true">
                <rect x="8" y="14" width="48" height="36" rx="6" />
                <circle cx="24" cy="28" r="5" />
                <path d="M12 46l14-12 10 8 8-6 8 10" />
            </svg>
            <p class="empty-state__title">{title}</p>
            {(!text.is_empty()).then(|| view! { <p class="empty-state__text">{text}</p> })}
            {children.map(|c| view! { <div class="empty-state__actions">{c()}</div> })}
        </div>
    }
}
