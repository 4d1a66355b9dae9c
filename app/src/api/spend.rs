//! Server functions for what generations cost (issue 19 §4): the person's month and cap,
//! and the administrators' view of every account.

use leptos::prelude::*;
use model::{InstanceSpend, SpendSummary};

use crate::AppError;

/// The caller's estimated spend in a month (`YYYY-MM`; this month without one). Nothing
/// for a visitor who is not signed in.
#[server(endpoint = "my_spend")]
pub async fn my_spend(month: Option<String>) -> Result<Option<SpendSummary>, AppError> {
    use crate::ssr::{backend, service_error};
    let backend = backend()?;
    let Some(p) = crate::ssr::principal() else {
        return Ok(None);
    };
    backend::services::spend::summary(&backend, &p, month.as_deref())
        .await
        .map(Some)
        .map_err(service_error)
}

/// Sets the caller's monthly cap from the form's text (empty: no cap).
#[server(endpoint = "set_spending_cap")]
pub async fn set_spending_cap(monthly_usd: String) -> Result<SpendSummary, AppError> {
    use crate::ssr::{backend, require_principal, service_error};
    let (backend, p) = (backend()?, require_principal()?);
    let text = monthly_usd.trim().trim_start_matches('$').replace(',', "");
    let monthly_usd = if text.is_empty() {
        None
    } else {
        Some(text.parse::<f64>().map_err(|_| {
            service_error(
                backend::domain::FieldError::new(
                    "monthly_usd",
                    "Give the cap in dollars, for example 20 or 12.50, or leave it empty for none.",
                )
                .into(),
            )
        })?)
    };
    let request = model::SpendingCapRequest { monthly_usd };
    backend::services::spend::set_cap(&backend, &p, &request)
        .await
        .map_err(service_error)
}

/// Every account's spend in a month (administrators only).
#[server(endpoint = "spend_by_account")]
pub async fn spend_by_account(month: Option<String>) -> Result<InstanceSpend, AppError> {
    use crate::ssr::{backend, require_principal, service_error};
    let (backend, p) = (backend()?, require_principal()?);
    backend::services::spend::instance(&backend, &p, month.as_deref())
        .await
        .map_err(service_error)
}

/// The prices in force and their version (anyone signed in).
#[server(endpoint = "price_list")]
pub async fn price_list() -> Result<model::PriceList, AppError> {
    use crate::ssr::{backend, require_principal, service_error};
    let (backend, p) = (backend()?, require_principal()?);
    backend::services::spend::prices(&backend, &p)
        .await
        .map_err(service_error)
}

/// An administrator's price for one model, from the operations page's form: the amounts
/// as typed (an empty token price: none); the per-size prices stay as they are.
#[server(endpoint = "set_model_price")]
pub async fn set_model_price(
    provider: String,
    model: String,
    per_image_usd: String,
    input_text_per_mtok_usd: String,
    input_image_per_mtok_usd: String,
    output_per_mtok_usd: String,
) -> Result<model::PriceList, AppError> {
    use crate::ssr::{backend, require_principal, service_error};
    let (backend, p) = (backend()?, require_principal()?);
    let provider: model::ProviderId = provider.parse().map_err(|_| AppError::NotFound)?;
    let amount = |field: &'static str, text: &str| -> Result<Option<f64>, AppError> {
        let text = text.trim().trim_start_matches('$');
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<f64>().map(Some).map_err(|_| {
            service_error(
                backend::domain::FieldError::new(
                    field,
                    "Give an amount in dollars, for example 0.04.",
                )
                .into(),
            )
        })
    };
    let current = backend::services::spend::prices(&backend, &p)
        .await
        .map_err(service_error)?;
    let per_image_by = current
        .find(provider, &model)
        .map(|c| c.per_image_by.clone())
        .unwrap_or_default();
    let price = model::ModelPrice {
        provider,
        model,
        per_image_usd: amount("per_image_usd", &per_image_usd)?.unwrap_or(0.0),
        per_image_by,
        input_text_per_mtok_usd: amount("input_text_per_mtok_usd", &input_text_per_mtok_usd)?,
        input_image_per_mtok_usd: amount("input_image_per_mtok_usd", &input_image_per_mtok_usd)?,
        output_per_mtok_usd: amount("output_per_mtok_usd", &output_per_mtok_usd)?,
        source: model::PriceSource::Administrator,
    };
    backend::services::spend::set_price(&backend, &p, price)
        .await
        .map_err(service_error)
}

/// Removes an administrator's price for one model.
#[server(endpoint = "reset_model_price")]
pub async fn reset_model_price(
    provider: String,
    model: String,
) -> Result<model::PriceList, AppError> {
    use crate::ssr::{backend, require_principal, service_error};
    let (backend, p) = (backend()?, require_principal()?);
    let provider: model::ProviderId = provider.parse().map_err(|_| AppError::NotFound)?;
    backend::services::spend::delete_price(&backend, &p, provider, &model)
        .await
        .map_err(service_error)
}
