//! The operations page's prices (issue 19 §4): what each model costs, shipped, from
//! `PRICING_FILE` or set here; an administrator's price can be set per model and taken back.
//! Images already made keep the cost their prices gave them. The forms work before
//! hydration.

use leptos::prelude::*;
use model::{ModelPrice, PriceSource};

use crate::{
    api::spend::{PriceList, ResetModelPrice, SetModelPrice},
    components::{form_error, FormAction, FormError, PostForm, Skeleton},
};

/// Where a price comes from, in words.
pub fn source_text(source: PriceSource) -> &'static str {
    match source {
        PriceSource::Shipped => "the providers' published price",
        PriceSource::File => "from PRICING_FILE",
        PriceSource::Administrator => "set by an administrator",
    }
}

/// An amount as the form shows it ("0.04", or empty for none).
pub fn amount(v: Option<f64>) -> String {
    v.map(|v| {
        let text = format!("{v:.6}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    })
    .unwrap_or_default()
}

#[component]
pub fn Prices() -> impl IntoView {
    let save = FormAction::<SetModelPrice>::new();
    let reset = FormAction::<ResetModelPrice>::new();
    let list = crate::server_resource::server_resource(
        move || (save.version().get(), reset.version().get()),
        |_| PriceList {},
    );
    view! {
        <section class="card" aria-labelledby="prices-heading">
            <h2 id="prices-heading">"Prices"</h2>
            <p class="muted">"What each model costs, in US dollars: a price per image, and for models billed by tokens the prices per million tokens (used when the provider reports its usage). Images already made keep their cost."</p>
            <FormError error=form_error(save) />
            <FormError error=form_error(reset) />
            <Transition fallback=|| view! { <Skeleton /> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                        Ok(list) => view! {
                            <p class="muted spend__note">{format!("Prices {}", list.version)}</p>
                            <ul class="item-list" aria-label="Model prices">
                                {list.prices.into_iter().map(|p| view! { <PriceRow price=p save=save reset=reset /> }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component(transparent)]
fn PriceRow(
    price: ModelPrice,
    save: FormAction<SetModelPrice>,
    reset: FormAction<ResetModelPrice>,
) -> impl IntoView {
    let key = format!("{}-{}", price.provider, price.model);
    let field = move |name: &str| format!("price-{name}-{key}");
    let title = format!("{} · {}", price.provider.label(), price.model);
    let (provider, model) = (price.provider.to_string(), price.model.clone());
    let (provider_r, model_r) = (provider.clone(), model.clone());
    view! {
        <li class="item-list__row price-row">
            <div>
                <strong>{title.clone()}</strong>
                <span class="muted">{format!(" — {}: {} an image", source_text(price.source), model::format_usd(price.per_image_usd))}</span>
            </div>
            <details>
                <summary>{format!("Change the price of {}", price.model)}</summary>
                <PostForm action=save class="form form--inline">
                    <input type="hidden" name="provider" value=provider />
                    <input type="hidden" name="model" value=model />
                    <label for=field("image")>"Per image"</label>
                    <input id=field("image") name="per_image_usd" inputmode="decimal" value=amount(Some(price.per_image_usd)) />
                    <label for=field("text")>"Text input, per million tokens"</label>
                    <input id=field("text") name="input_text_per_mtok_usd" inputmode="decimal" placeholder="none" value=amount(price.input_text_per_mtok_usd) />
                    <label for=field("picture")>"Image input, per million tokens"</label>
                    <input id=field("picture") name="input_image_per_mtok_usd" inputmode="decimal" placeholder="none" value=amount(price.input_image_per_mtok_usd) />
                    <label for=field("output")>"Output, per million tokens"</label>
                    <input id=field("output") name="output_per_mtok_usd" inputmode="decimal" placeholder="none" value=amount(price.output_per_mtok_usd) />
                    <button type="submit" class="button">"Save the price"</button>
                </PostForm>
                {(price.source == PriceSource::Administrator).then(|| view! {
                    <PostForm action=reset class="form form--inline">
                        <input type="hidden" name="provider" value=provider_r />
                        <input type="hidden" name="model" value=model_r />
                        <button type="submit" class="button">"Back to the default price"</button>
                    </PostForm>
                })}
            </details>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_show_without_trailing_zeros() {
        assert_eq!(amount(Some(0.04)), "0.04");
        assert_eq!(amount(Some(40.0)), "40");
        assert_eq!(amount(Some(0.3)), "0.3");
        assert_eq!(amount(None), "");
        assert_eq!(source_text(PriceSource::File), "from PRICING_FILE");
    }
}
