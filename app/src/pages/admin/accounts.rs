//! The operations page's accounts: what each uses of its limits, and an administrator's
//! limits for one account (empty follows the instance's defaults; 0 is no limit). The
//! forms work before hydration.

use leptos::prelude::*;
use model::AccountUsage;

use crate::{
    api::admin::{ListAccounts, SetAccountQuota},
    components::{form_error, FormAction, FormError, PostForm, Skeleton, UsageMeters},
};

#[component]
pub fn Accounts() -> impl IntoView {
    let save = FormAction::<SetAccountQuota>::new();
    let accounts = crate::server_resource::server_resource(
        move || save.version().get(),
        |_| ListAccounts { cursor: None },
    );
    view! {
        <section class="card" aria-labelledby="accounts-heading">
            <h2 id="accounts-heading">"Accounts and their limits"</h2>
            <FormError error=form_error(save) />
            <Transition fallback=|| view! { <Skeleton /> }>
                {move || Suspend::new(async move {
                    match accounts.await {
                        Err(e) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                        Ok(page) => view! {
                            <ul class="item-list" aria-label="Accounts">
                                {page.items.into_iter().map(|a| view! { <AccountRow account=a save=save /> }).collect_view()}
                            </ul>
                            {page.next_cursor.is_some().then(|| view! {
                                <p class="muted">"The first 100 accounts are shown; `avatar-studio user list` lists all."</p>
                            })}
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component(transparent)]
fn AccountRow(account: AccountUsage, save: FormAction<SetAccountQuota>) -> impl IntoView {
    let s = account.settings;
    let show = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    let id = account.id.clone();
    let field = move |name: &'static str| format!("quota-{name}-{id}");
    view! {
        <li class="item-list__row account-row">
            <div>
                <strong>{account.email.clone()}</strong>
                {account.is_admin.then(|| view! { " " <span class="badge">"administrator"</span> })}
                <UsageMeters usage=account.usage />
            </div>
            <details>
                <summary>{if account.usage.custom { "Its own limits" } else { "Set its own limits" }}</summary>
                <PostForm action=save class="form form--inline">
                    <input type="hidden" name="id" value=account.id.clone() />
                    <label for=field("images")>"Images per 24 h"</label>
                    <input id=field("images") name="images_per_day" inputmode="numeric" placeholder="default" value=show(s.images_per_day.map(u64::from)) />
                    <label for=field("jobs")>"Jobs at once"</label>
                    <input id=field("jobs") name="active_jobs" inputmode="numeric" placeholder="default" value=show(s.active_jobs.map(u64::from)) />
                    <label for=field("storage")>"Storage (MB)"</label>
                    <input id=field("storage") name="storage_mb" inputmode="numeric" placeholder="default" value=show(s.storage_bytes.map(|b| b / 1_000_000)) />
                    <button type="submit" class="button">"Save limits"</button>
                </PostForm>
            </details>
        </li>
    }
}
