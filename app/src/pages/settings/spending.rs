//! Settings' spending section: the month's estimated spend by key and the account's
//! monthly cap (issue 19 §4). The form posts to a server function, so it works before
//! hydration.

use leptos::prelude::*;

use crate::{
    api::spend::{MySpend, SetSpendingCap},
    components::{field_error, succeeded, Field, FormAction, NoticeLine, PostForm, SpendCard},
};

/// The cap as the form shows it: "12.50", or empty for none.
pub fn cap_value(cap: Option<f64>) -> String {
    cap.map(|c| format!("{c:.2}")).unwrap_or_default()
}

#[component]
pub fn SpendingSection() -> impl IntoView {
    let set = FormAction::<SetSpendingCap>::new();
    let version = set.version();
    let current =
        crate::server_resource::server_resource(move || version.get(), |_| MySpend { month: None });
    view! {
        <section class="card settings-section" id="spending" aria-labelledby="spending-title">
            <h2 id="spending-title">"Spending"</h2>
            <p class="muted">"What your images cost, estimated from the providers' published prices, by key. A monthly cap refuses new jobs that would pass it, before anything is sent to a provider; the built-in generator is free and never refused."</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let cap = current.await.ok().flatten().and_then(|s| s.account_cap).map(|c| c.monthly_usd);
                    view! {
                        <PostForm action=set class="form form--inline">
                            <Field label="Monthly cap in US dollars" name="monthly_usd" hint="Leave it empty for no cap." value=cap_value(cap) maxlength=12 error=field_error(set, "monthly_usd") />
                            <button type="submit" class="button">"Save the cap"</button>
                        </PostForm>
                    }
                })}
            </Transition>
            <NoticeLine notice=succeeded(set, "Saved.") />
            <SpendCard keys=true version=Signal::derive(move || version.get()) />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_shows_the_cap_in_dollars_and_cents() {
        assert_eq!(cap_value(Some(20.0)), "20.00");
        assert_eq!(cap_value(Some(0.126)), "0.13");
        assert_eq!(cap_value(None), "");
    }
}
