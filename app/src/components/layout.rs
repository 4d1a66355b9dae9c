use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};
use model::{ImageStatus, User};

use crate::{
    api::account::{current_user, SignOut},
    live::{remedy, use_live, Change, Connection, Live},
    routes,
};

/// The signed-in account, as the pages know it.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Signal<Option<User>>);

/// Who is signed in: the server renders it from the request's session (no suspense: the
/// header is never waiting on anything); in the browser it is read again after each
/// navigation, so it follows sign-in and sign-out.
pub fn provide_current_user() -> Signal<Option<User>> {
    let location = use_location();
    let rendered = SharedValue::new(crate::signed_in_user).into_inner();
    // Browser only: asked again after every navigation (sign-in and sign-out redirect).
    let fresh = LocalResource::new(move || {
        location.pathname.track();
        current_user()
    });
    let user = Signal::derive(move || match fresh.get() {
        Some(Ok(current)) => current,
        _ => rendered.clone(),
    });
    provide_context(CurrentUser(user));
    user
}

/// The navigation entries of the header, in order.
pub const NAV: [(&str, &str); 5] = [
    ("/studio", "Studio"),
    ("/characters", "Characters"),
    ("/gallery", "Gallery"),
    ("/collections", "Collections"),
    ("/settings", "Settings"),
];

#[component]
pub fn Header() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let admin = move || user.with(|u| u.as_ref().is_some_and(|u| u.is_admin));
    view! {
        <header class="site-header">
            <div class="site-header__inner">
                <A href="/" attr:class="brand">
                    <svg class="brand__mark" viewBox="0 0 32 32" aria-hidden="true">
                        <circle cx="16" cy="12" r="6" />
                        <path d="M5 28c1.5-6 6-9 11-9s9.5 3 11 9" />
                    </svg>
                    <span class="brand__name">{model::PRODUCT_NAME}</span>
                </A>
                <nav class="site-nav" aria-label="Main">
                    <ul>
                        {NAV
                            .into_iter()
                            .map(|(href, label)| {
                                view! {
                                    <li>
                                        <NavLink href=href>{label}</NavLink>
                                    </li>
                                }
                            })
                            .collect_view()}
                        <Show when=admin>
                            <li>
                                <NavLink href="/admin">"Operations"</NavLink>
                            </li>
                        </Show>
                    </ul>
                </nav>
                <LiveStatus />
                <AccountMenu />
            </div>
        </header>
    }
}

/// A header link that starts fetching its page's chunk when pointed at or focused.
#[component]
fn NavLink(href: &'static str, children: Children) -> impl IntoView {
    view! {
        <A
            href=href
            on:pointerenter=move |_| routes::preload(href)
            on:focus=move |_| routes::preload(href)
        >
            {children()}
        </A>
    }
}

/// Who is signed in, with the way out; or the ways in.
#[component]
fn AccountMenu() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <div class="account-menu">
            {move || match user.get() {
                Some(u) => {
                    let name = u.display_name.clone().unwrap_or_else(|| u.email.clone());
                    view! {
                        <span class="account-menu__who" title=u.email.clone()>
                            <span class="visually-hidden">"Signed in as "</span>
                            {name}
                        </span>
                        <ActionForm action=sign_out attr:class="form form--inline">
                            <button type="submit" class="button button--small">"Sign out"</button>
                        </ActionForm>
                    }
                    .into_any()
                }
                None => view! {
                    <A href="/login" attr:class="button button--small">"Sign in"</A>
                    <A href="/signup" attr:class="button button--small button--primary">"Sign up"</A>
                }
                .into_any(),
            }}
        </div>
    }
}

#[component]
pub fn Footer() -> impl IntoView {
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

/// The live connection's state and the jobs under way, on every page (browser only: the
/// server's render has no connection).
#[component]
fn LiveStatus() -> impl IntoView {
    let live = use_live();
    let state = move || live.connection.get();
    view! {
        <div class="live-status" aria-live="polite">
            {move || (state() != Connection::Idle).then(|| {
                let s = state();
                let class = match s {
                    Connection::Live => "live-status__dot live-status__dot--live",
                    Connection::Polling => "live-status__dot live-status__dot--polling",
                    _ => "live-status__dot",
                };
                let title = match s {
                    Connection::Reconnecting(n) if n > 0 => format!("Reconnecting in {n} s"),
                    other => other.label().to_owned(),
                };
                let label = title.clone();
                view! {
                    <span class="live-status__state" data-state=format!("{s:?}") title=title>
                        <span class=class aria-hidden="true"></span>
                        <span class="live-status__label">{label}</span>
                    </span>
                }
            })}
            {move || {
                let n = live.running();
                (n > 0 && state() != Connection::Idle).then(|| view! {
                    <A href="/studio" attr:class="live-status__jobs" attr:data-testid="running-jobs">
                        {format!("{n} running")}
                    </A>
                })
            }}
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
#[component]
pub fn Toasts() -> impl IntoView {
    let live = use_live();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || live.toasts.get() key=|t| t.id let:toast>
                <div class=if toast.ok { "toast toast--ok" } else { "toast toast--error" }>
                    <p>{toast.text.clone()}</p>
                    {toast.link.clone().map(|(href, words)| view! { <A href=href>{words}</A> })}
                    <button type="button" class="toast__close" aria-label="Dismiss" on:click=move |_| live.dismiss(toast.id)>"×"</button>
                </div>
            </For>
        </div>
    }
}
