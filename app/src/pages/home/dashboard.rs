//! The home page's dashboard, for a signed-in person: what their library holds, their
//! limits and their spend with its chart. Its code is a chunk of its own (`#[lazy]`), so a
//! signed-out visit to the home page, which does not show it, never fetches it (issue 17).
//! When the server rendered it, the route fetches the chunk before the page is hydrated
//! (`load_dashboard`; the home page's own code is in the main chunk): the router hydrates a
//! route's view in one go once its chunks are in, so the dashboard's code must be in place
//! by then, or the part would be hydrated empty against the server's HTML and hydration
//! would fail.

use leptos::prelude::*;

use crate::{
    api::{account::MyUsage, library::LibraryStats},
    components::{show_when, CurrentUser, SpendCard, UsageMeters},
    format::file_size,
};

/// Fetches the dashboard's chunk when it will be shown, that is when someone is signed in
/// (read from the reactive owner it runs in; the home route's preload awaits it before the
/// page is hydrated); nothing otherwise. The browser's only: the server has no chunks.
#[cfg(feature = "hydrate")]
pub(crate) async fn load_dashboard() {
    if use_context::<CurrentUser>()
        .is_some_and(|CurrentUser(user)| user.with_untracked(Option::is_some))
    {
        __preload_dashboard_panels().await;
    }
}

#[component]
pub(crate) fn Dashboard() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    view! {
        {show_when(move || user.with(Option::is_some), move || view! {
            <Suspense fallback=|| ()>{move || Suspend::new(dashboard_panels())}</Suspense>
        })}
    }
}

#[leptos::lazy]
fn dashboard_panels() -> AnyView {
    view! { <LibraryCard /> <SpendSection /> }.into_any()
}

/// What the person's library holds and their limits.
#[component(transparent)]
fn LibraryCard() -> impl IntoView {
    let stats = crate::server_resource::server_resource(|| (), |_| LibraryStats {});
    let usage = crate::server_resource::server_resource(|| (), |()| MyUsage {});
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let usage = usage.await.ok().flatten();
                stats.await.ok().flatten().map(|s| {
                    let providers = s.by_provider.iter().map(|(p, n)| format!("{p}: {n}")).collect::<Vec<_>>().join(", ");
                    view! {
                        <section class="card dashboard" aria-labelledby="dashboard-title">
                            <h2 id="dashboard-title">"Your library"</h2>
                            <dl class="dashboard__numbers">
                                <div><dt>"Images"</dt><dd>{s.images.total}</dd></div>
                                <div><dt>"Generated"</dt><dd>{s.images.generated}</dd></div>
                                <div><dt>"Uploaded"</dt><dd>{s.images.uploaded}</dd></div>
                                <div><dt>"Imported"</dt><dd>{s.images.imported}</dd></div>
                                <div><dt>"Storage used"</dt><dd>{file_size(s.bytes_used)}</dd></div>
                                <div><dt>"Characters with an avatar"</dt><dd>{format!("{} of {}", s.characters.with_avatar, s.characters.total)}</dd></div>
                            </dl>
                            {(!providers.is_empty()).then(|| view! { <p class="muted">"By provider: " {providers}</p> })}
                            {usage.map(|u| view! { <h3>"Your limits"</h3> <UsageMeters usage=u /> })}
                            <p class="actions">
                                <a href="/gallery" class="button">"Open the gallery"</a>
                                <a href="/characters" class="button">"Characters"</a>
                            </p>
                        </section>
                    }
                })
            })}
        </Transition>
    }
}

/// The month's spend with its chart.
#[component(transparent)]
fn SpendSection() -> impl IntoView {
    view! {
        <section class="card dashboard" aria-labelledby="spend-title">
            <h2 id="spend-title">"Spending"</h2>
            <SpendCard />
            <p><a href="/settings#spending">"Set a monthly cap, or see it by key"</a></p>
        </section>
    }
}
