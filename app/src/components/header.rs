//! The site's header: the product, the sections, the live connection and the account, on
//! one row at every width. On a phone the sections and the account are behind "Menu"; on
//! wider screens the sections are in line and the menu is the account's (settings,
//! operations, sign out). The menu is a `<details>`: it opens without JavaScript, and
//! with it closes on Escape (focus back on its button), on a click or focus elsewhere and
//! after a navigation.

use leptos::{ev, prelude::*, server_fn::ServerFn};
use leptos_router::hooks::use_location;

use crate::{
    api::account::SignOut,
    components::{handler, show_when, CurrentUser},
    live::{use_live, Connection},
    routes,
};

/// The sections of the main navigation, in order.
pub const SECTIONS: [(&str, &str); 4] = [
    ("/studio", "Studio"),
    ("/characters", "Characters"),
    ("/gallery", "Gallery"),
    ("/collections", "Collections"),
];

#[component]
pub fn Header() -> impl IntoView {
    view! {
        <header class="site-header">
            <div class="site-header__inner">
                <a href="/" class="brand">
                    <svg class="brand__mark" viewBox="0 0 32 32" aria-hidden="true">
                        <circle cx="16" cy="12" r="6" />
                        <path d="M5 28c1.5-6 6-9 11-9s9.5 3 11 9" />
                    </svg>
                    <span class="brand__name">{model::PRODUCT_NAME}</span>
                </a>
                {sections("site-nav")}
                {live_status()}
                {site_menu()}
            </div>
        </header>
    }
}

// The parts below are plain functions, not components: with `erase_components` each
// component is compiled with a type-erased view of its own, in the main chunk every page
// downloads (README, "Bundle"); the header is erased once, as a whole.

/// The main navigation: in the header on wide screens, in the menu on a phone (the CSS
/// shows one of them; the other is not displayed, so never announced twice).
fn sections(class: &'static str) -> impl IntoView {
    view! {
        <nav class=class aria-label="Main">
            <ul>
                {SECTIONS
                    .into_iter()
                    .map(|(href, label)| view! { <li>{nav_link(href, label)}</li> })
                    .collect_view()}
            </ul>
        </nav>
    }
}

/// A header link that starts fetching its page's chunk when pointed at or focused, and says
/// when the page shown is in its section (`aria-current`, as the router's `<A>` would).
fn nav_link(href: &'static str, label: &'static str) -> impl IntoView {
    let pathname = use_location().pathname;
    view! {
        <a
            href=href
            aria-current=move || pathname.with(|path| in_section(href, path)).then_some("page")
            on:pointerenter=handler(move |_| routes::preload(href))
            on:focus=handler(move |_| routes::preload(href))
        >
            {label}
        </a>
    }
}

/// Whether the page at `path` is in the section at `section`: its page or one below it.
fn in_section(section: &str, path: &str) -> bool {
    path.strip_prefix(section)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The menu: on a phone every section and the account; on a wide screen the account.
/// Signed out, the ways in (on a wide screen as buttons beside it).
fn site_menu() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let signed_in = move || user.with(|u| u.is_some());
    let details = NodeRef::<leptos::html::Details>::new();
    let summary = NodeRef::<leptos::html::Summary>::new();
    let close = move |refocus: bool| {
        if let Some(d) = details.get_untracked() {
            if d.open() {
                d.set_open(false);
                if refocus {
                    if let Some(s) = summary.get_untracked() {
                        let _ = s.focus();
                    }
                }
            }
        }
    };
    let location = use_location();
    // After a navigation (not on the first run: a menu opened before the page was
    // interactive stays open).
    Effect::new(move |first: Option<()>| {
        location.pathname.track();
        location.search.track();
        if first.is_some() {
            close(false);
        }
    });
    let outside = move |target: Option<web_sys::EventTarget>| {
        let node = target.and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Node>(t).ok());
        details
            .get_untracked()
            .is_some_and(|d| node.is_none_or(|n| !d.contains(Some(&n))))
    };
    let clicks = window_event_listener(ev::click, move |e| {
        if outside(e.target()) {
            close(false);
        }
    });
    on_cleanup(move || clicks.remove());
    view! {
        {show_when(move || !signed_in(), move || view! {
            <div class="guest-actions">
                <a href="/login" class="button button--small">"Sign in"</a>
                <a href="/signup" class="button button--small button--primary guest-actions__signup">"Sign up"</a>
            </div>
        })}
        <details
            class=move || if signed_in() { "site-menu" } else { "site-menu site-menu--guest" }
            node_ref=details
            on:keydown=handler(move |e: leptos::ev::KeyboardEvent| {
                if e.key() == "Escape" {
                    close(true);
                }
            })
            on:focusout=handler(move |e: ev::FocusEvent| {
                if e.related_target().is_some() && outside(e.related_target()) {
                    close(false);
                }
            })
        >
            <summary class="site-menu__button" node_ref=summary>
                <svg class="site-menu__icon" viewBox="0 0 24 24" aria-hidden="true">
                    <path d="M4 7h16M4 12h16M4 17h16" />
                </svg>
                <span class="visually-hidden">"Menu"</span>
                {move || user.get().map(|u| {
                    let name = u.name().to_owned();
                    // Shown in capitals by the stylesheet (`text-transform`), which knows every
                    // script's case rules: `char::to_uppercase` would put Unicode's case tables
                    // (12 KB) into the code every first visit downloads.
                    let initial = name.chars().next().map(String::from).unwrap_or_default();
                    view! {
                        <span class="site-menu__initial" aria-hidden="true">{initial}</span>
                        <span class="site-menu__who account-menu" title=u.email.clone()>{name}</span>
                    }
                })}
            </summary>
            <div class="site-menu__panel">
                {sections("site-menu__sections")}
                {move || match user.get() {
                    Some(u) => view! {
                        <p class="site-menu__account">
                            "Signed in as "
                            <strong>{u.name().to_owned()}</strong>
                            {u.display_name.is_some().then(|| view! { <span class="site-menu__email">{u.email.clone()}</span> })}
                        </p>
                        <ul class="site-menu__links">
                            <li>{nav_link("/settings", "Settings")}</li>
                            {u.is_admin.then(|| view! { <li>{nav_link("/admin", "Operations")}</li> })}
                        </ul>
                        // A plain form: signing out loads the home page afresh, so nothing of
                        // the account stays in the tab's memory, and the header needs no
                        // server-function client (code every first visit would download).
                        <form method="post" action=SignOut::PATH class="site-menu__sign-out">
                            <button type="submit" class="button button--small">"Sign out"</button>
                        </form>
                    }
                    .into_any(),
                    None => view! {
                        <ul class="site-menu__links">
                            <li><a href="/login">"Sign in"</a></li>
                            <li><a href="/signup">"Create an account"</a></li>
                        </ul>
                    }
                    .into_any(),
                }}
            </div>
        </details>
    }
}

/// The live connection's state and the jobs under way, on every page (browser only: the
/// server's render has no connection).
fn live_status() -> impl IntoView {
    let live = use_live();
    let state = move || live.connection.get();
    view! {
        <div class="live-status">
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
                    <a href="/studio" class="live-status__jobs" data-testid="running-jobs">
                        {format!("{n} running")}
                    </a>
                })
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::in_section;

    #[test]
    fn a_section_is_current_on_its_page_and_below_it() {
        assert!(in_section("/characters", "/characters"));
        assert!(in_section("/characters", "/characters/"));
        assert!(in_section("/characters", "/characters/01J9Z"));
        assert!(in_section("/gallery", "/gallery/trash"));
        assert!(!in_section("/characters", "/"));
        assert!(!in_section("/characters", "/characters-archive"));
        assert!(!in_section("/collections", "/gallery"));
        assert!(!in_section("/studio", "/stud"));
    }
}
