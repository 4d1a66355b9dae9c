//! The main sections of the app. Each says what it is for; their features arrive with
//! the accounts, library and generation work (see the issues).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::components::PageHeader;

#[component]
fn EmptyState(
    message: &'static str,
    #[prop(optional)] action: Option<(&'static str, &'static str)>,
) -> impl IntoView {
    view! {
        <div class="card empty-state">
            <p>{message}</p>
            {action.map(|(href, label)| view! { <A href=href attr:class="button">{label}</A> })}
        </div>
    }
}

#[component]
pub fn StudioPage() -> impl IntoView {
    view! {
        <Title text="Studio" />
        <PageHeader
            title="Studio"
            lead="Describe an avatar, pick a generator and watch each job go from queued to finished."
        />
        <EmptyState
            message="Generation is not switched on in this build yet: add your provider keys in Settings meanwhile."
            action=("/settings", "Go to Settings")
        />
    }
}
