use leptos::prelude::*;
use leptos_router::components::A;

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
            </div>
        </header>
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
pub fn PageHeader(title: &'static str, #[prop(optional)] lead: &'static str) -> impl IntoView {
    view! {
        <div class="page-header">
            <h1>{title}</h1>
            {(!lead.is_empty()).then(|| view! { <p class="lead">{lead}</p> })}
        </div>
    }
}
