use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

use crate::api::account::{current_user, SignOut};

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
                                        <A href=href>{label}</A>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </nav>
                <AccountMenu />
            </div>
        </header>
    }
}

/// Who is signed in, with the way out; or the ways in. The server renders it from the
/// request's session (no suspense: the header is never waiting on anything); in the
/// browser it is read again after each navigation, so it follows sign-in and sign-out.
#[component]
fn AccountMenu() -> impl IntoView {
    let location = use_location();
    let rendered = SharedValue::new(crate::signed_in_user).into_inner();
    // Browser only: asked again after every navigation (sign-in and sign-out redirect).
    let fresh = LocalResource::new(move || {
        location.pathname.track();
        current_user()
    });
    let user = move || match fresh.get() {
        Some(Ok(current)) => current,
        _ => rendered.clone(),
    };
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <div class="account-menu">
            {move || match user() {
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
