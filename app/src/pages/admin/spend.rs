//! The operations page's spending: every account's estimated spend this month (or another,
//! with the month switcher), by provider, against the instance's cap (issue 19 §4).

use leptos::prelude::*;
use model::{format_usd, AccountSpend, InstanceSpend};

use crate::{
    api::spend::SpendByAccount,
    components::{
        handler,
        spend::{month_name, month_step, SpendTable},
        Skeleton,
    },
};

/// An account's row: who, what it spent, of which cap.
pub fn account_line(a: &AccountSpend) -> (String, String) {
    let who = a
        .email
        .clone()
        .unwrap_or_else(|| "A deleted account".to_owned());
    let cap = a
        .monthly_cap_usd
        .map(|c| format!(" of a {} cap", format_usd(c)))
        .unwrap_or_default();
    let images = if a.images == 1 {
        "1 image".to_owned()
    } else {
        format!("{} images", a.images)
    };
    (who, format!("{}{cap}, {images}", format_usd(a.usd)))
}

#[component]
pub fn Spending() -> impl IntoView {
    let month = RwSignal::new(None::<String>);
    let spend = crate::server_resource::server_resource(
        move || month.get(),
        |month| SpendByAccount { month },
    );
    view! {
        <section class="card" aria-labelledby="spending-heading">
            <h2 id="spending-heading">"Spending by account"</h2>
            <Transition fallback=|| view! { <Skeleton /> }>
                {move || Suspend::new(async move {
                    match spend.await {
                        Err(e) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                        Ok(s) => view! { <InstanceMonth spend=s month=month /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component(transparent)]
fn InstanceMonth(spend: InstanceSpend, month: RwSignal<Option<String>>) -> impl IntoView {
    let (prev, next) = (month_step(&spend.month, -1), month_step(&spend.month, 1));
    let (prev_name, next_name) = (month_name(&prev), month_name(&next));
    let cap = spend.instance_cap.map(|c| {
        format!(
            "This server's cap: {} of {} spent.",
            format_usd(c.spent_usd),
            format_usd(c.monthly_usd)
        )
    });
    view! {
        <nav class="spend__months" aria-label="Month">
            <button type="button" class="button button--small" on:click=handler(move |_| month.set(Some(prev.clone())))>{format!("← {prev_name}")}</button>
            <button type="button" class="button button--small" on:click=handler(move |_| month.set(Some(next.clone())))>{format!("{next_name} →")}</button>
        </nav>
        <p class="spend__total"><strong>{format_usd(spend.total_usd)}</strong>{format!(" in {}, all accounts", month_name(&spend.month))}</p>
        {cap.map(|c| view! { <p>{c}</p> })}
        <SpendTable caption="By provider" lines=spend.by_provider />
        {if spend.accounts.is_empty() {
            view! { <p class="muted">"No priced images this month."</p> }.into_any()
        } else {
            view! {
                <table class="spend-table spend-table--accounts">
                    <caption>"By account"</caption>
                    <thead><tr><th scope="col">"Account"</th><th scope="col">"Spend"</th></tr></thead>
                    <tbody>
                        {spend.accounts.iter().map(|a| {
                            let (who, what) = account_line(a);
                            view! { <tr><th scope="row">{who}</th><td>{what}</td></tr> }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_reads_as_spend_of_cap() {
        let mut a = AccountSpend {
            user_id: "u".into(),
            email: Some("ann@example.com".into()),
            usd: 1.5,
            images: 3,
            monthly_cap_usd: Some(5.0),
        };
        assert_eq!(
            account_line(&a),
            (
                "ann@example.com".into(),
                "$1.50 of a $5.00 cap, 3 images".into()
            )
        );
        a.email = None;
        a.monthly_cap_usd = None;
        a.images = 1;
        assert_eq!(
            account_line(&a),
            ("A deleted account".into(), "$1.50, 1 image".into())
        );
    }
}
