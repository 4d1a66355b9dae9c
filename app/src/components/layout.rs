use leptos::prelude::*;
use leptos_router::hooks::use_location;
use model::{ImageStatus, Viewer};

use crate::{
    browser_resource::browser_resource_of,
    components::handler,
    live::{remedy, use_live, Change, Live},
    AppError,
};

/// The signed-in account, as the pages know it.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Signal<Option<Viewer>>);

/// Who is signed in: the server renders it from the request's session (no suspense: the
/// header is never waiting on anything); in the browser it is read again after each
/// navigation, so it follows a sign-in within the app. (Signing out loads a page afresh.)
pub fn provide_current_user() -> Signal<Option<Viewer>> {
    let location = use_location();
    // In miniserde's JSON, like the instance's details (`crate::instance`).
    let rendered = SharedValue::new_miniserde(crate::signed_in_user).into_inner();
    // Browser only, and not for the page as loaded: the server's answer is fresh then.
    let first = std::cell::Cell::new(true);
    let fresh = browser_resource_of(move || {
        location.pathname.track();
        let ask = !first.replace(false);
        async move { Ok::<_, AppError>(if ask { ask_current_user().await } else { None }) }
    });
    let user = Signal::derive(move || match fresh.get() {
        Some(Ok(Some(current))) => current,
        _ => rendered.clone(),
    });
    provide_context(CurrentUser(user));
    user
}

/// Who is signed in, asked of the server (the `current_user` server function); `None` when
/// it could not be asked. A plain request to the server function's address, not its
/// generated client: that client (the server-function machinery) would otherwise be
/// main-chunk code that a first visit to a public page downloads for nothing (issue 17).
#[cfg(feature = "hydrate")]
async fn ask_current_user() -> Option<Option<Viewer>> {
    use leptos::server_fn::ServerFn;
    let response = gloo_net::http::Request::post(crate::api::account::CurrentUser::PATH)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .ok()?
        .send()
        .await
        .ok()?;
    if !response.ok() {
        return None;
    }
    // Decoded with miniserde, not `response.json()` (serde_json): see `provide_current_user`.
    miniserde::json::from_str(&response.text().await.ok()?).ok()
}

/// The server's render never asks: it knows.
#[cfg(not(feature = "hydrate"))]
async fn ask_current_user() -> Option<Option<Viewer>> {
    None
}

/// The page's foot. This and [`toasts`] are plain functions, not components: with
/// `erase_components` each component is compiled with a type-erased view of its own, in the
/// main chunk every page downloads (README, "Bundle").
pub fn footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>
                {model::PRODUCT_NAME}
                " — self-hosted, your keys and your images stay on your server."
            </p>
        </footer>
    }
}

/// The title block at the top of a page.
#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(into, optional)] lead: String,
) -> impl IntoView {
    view! {
        <div class="page-header">
            <h1>{title}</h1>
            {(!lead.is_empty()).then(|| view! { <p class="lead">{lead}</p> })}
        </div>
    }
}

/// Tells a person when a job finishes or fails while they are on a page that does not show
/// it.
pub fn notify_finished_jobs(live: Live) {
    let location = use_location();
    live.on_change(move |change| {
        let Change::Finished(job) = change else {
            return;
        };
        let path = location.pathname.get_untracked();
        let character_page = job
            .character_id
            .as_ref()
            .map(|c| format!("/characters/{c}"));
        if path == "/studio" || character_page.as_deref() == Some(path.as_str()) {
            // The page shows the job; a screen reader is told in a word.
            live.announce(match (&job.status, &job.error) {
                (ImageStatus::Completed, _) => format!("An image from {} is ready.", job.model),
                (ImageStatus::Error, Some(e)) => format!("A generation failed: {}", e.message),
                (ImageStatus::Error, None) => "A generation failed.".to_owned(),
                _ => return,
            });
            return;
        }
        let link = character_page.map_or_else(
            || ("/studio".to_owned(), "Open the Studio".to_owned()),
            |p| (p, "See the character".to_owned()),
        );
        match job.status {
            ImageStatus::Completed => {
                live.toast(true, "Your new image is ready.".to_owned(), Some(link))
            }
            ImageStatus::Error => {
                let (message, fix) = job.error.as_ref().map_or_else(
                    || ("A generation failed.".to_owned(), None),
                    |e| {
                        (
                            format!("A generation failed: {}", e.message),
                            remedy(&e.code),
                        )
                    },
                );
                let link = fix.map_or(link, |(href, words)| (href.to_owned(), words.to_owned()));
                live.toast(false, message, Some(link));
            }
            _ => {}
        }
    });
}

/// The notifications, announced to screen readers.
pub fn toasts() -> impl IntoView {
    let live = use_live();
    view! {
        <div class="visually-hidden" role="status" aria-live="polite" data-testid="announcer">
            {move || live.announcement.get()}
        </div>
        <div class="toasts" role="status" aria-live="polite">
            // By position, not keyed: a notification that leaves is hidden in place
            // (`live::ToastList`), so no other moves and none is read out twice.
            {move || {
                live.toasts
                    .with(|t| t.items().to_vec())
                    .into_iter()
                    .map(|toast| view! {
                        <div class=if toast.ok { "toast toast--ok" } else { "toast toast--error" } hidden=!toast.shown>
                            <p>{toast.text}</p>
                            {toast.link.map(|(href, words)| view! { <a href=href>{words}</a> })}
                            <button type="button" class="toast__close" aria-label="Dismiss" on:click=handler(move |_| live.dismiss(toast.id))>"×"</button>
                        </div>
                    })
                    .collect_view()
            }}
        </div>
    }
}
