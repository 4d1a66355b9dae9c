//! `/api/v1` spend (issue 19 §4): the price list, a month's estimated spend, the account's
//! monthly cap; for administrators, the instance's month by account and their prices.

use axum::{
    extract::{Path, State},
    routing::{delete, get, put},
    Json, Router,
};
use backend::{services::spend, Backend};
use model::{InstanceSpend, ModelPrice, PriceList, ProviderId, SpendSummary, SpendingCapRequest};
use serde::Deserialize;

use crate::{
    auth::Authenticated,
    error::ApiErrorResponse,
    routes::{account::ApiJson, library::ApiQuery},
    state::AppState,
};

type ApiResult<T> = Result<Json<T>, ApiErrorResponse>;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/prices", get(prices))
        .route("/spend", get(my_spend))
        .route("/me/spending-cap", put(set_cap))
        .route("/admin/spend", get(instance_spend))
        .route("/admin/prices", put(set_price))
        .route("/admin/prices/{provider}/{model}", delete(delete_price))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct MonthQuery {
    /// The calendar month (UTC) as `YYYY-MM`; this month when left out.
    pub month: Option<String>,
}

/// The prices in force (shipped, `PRICING_FILE`, administrators') and their version.
#[utoipa::path(get, path = "/api/v1/prices", tag = "spend",
    responses((status = 200, body = PriceList)))]
pub async fn prices(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
) -> ApiResult<PriceList> {
    Ok(Json(spend::prices(&backend, &p).await?))
}

/// The caller's estimated spend in a month, by provider, model, key and day, with the
/// caps that apply.
#[utoipa::path(get, path = "/api/v1/spend", tag = "spend", params(MonthQuery),
    responses((status = 200, body = SpendSummary),
        (status = 400, body = model::ApiError, description = "A month that is not YYYY-MM")))]
pub async fn my_spend(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> ApiResult<SpendSummary> {
    Ok(Json(
        spend::summary(&backend, &p, q.month.as_deref()).await?,
    ))
}

/// Set (or, with `null`, remove) the caller's monthly spending cap in dollars. Jobs that
/// would take the month past it are refused with 402 `spending_cap_reached` before anything
/// is sent to a provider. Answers this month's spend.
#[utoipa::path(put, path = "/api/v1/me/spending-cap", tag = "spend",
    request_body = SpendingCapRequest,
    responses((status = 200, body = SpendSummary), (status = 400, body = model::ApiError)))]
pub async fn set_cap(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<SpendingCapRequest>,
) -> ApiResult<SpendSummary> {
    Ok(Json(spend::set_cap(&backend, &p, &body).await?))
}

/// Every account's estimated spend in a month, most first (administrators only).
#[utoipa::path(get, path = "/api/v1/admin/spend", tag = "spend", params(MonthQuery),
    responses((status = 200, body = InstanceSpend), (status = 400, body = model::ApiError),
        (status = 404, description = "The caller is not an administrator", body = model::ApiError)))]
pub async fn instance_spend(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> ApiResult<InstanceSpend> {
    Ok(Json(
        spend::instance(&backend, &p, q.month.as_deref()).await?,
    ))
}

/// Price one model of the catalogue, over the shipped and file prices (administrators
/// only). Costs from now on name the new price list version.
#[utoipa::path(put, path = "/api/v1/admin/prices", tag = "spend", request_body = ModelPrice,
    responses((status = 200, body = PriceList), (status = 400, body = model::ApiError),
        (status = 404, description = "The caller is not an administrator", body = model::ApiError)))]
pub async fn set_price(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<ModelPrice>,
) -> ApiResult<PriceList> {
    Ok(Json(spend::set_price(&backend, &p, body).await?))
}

/// Remove an administrator's price: the file's or the shipped one applies again.
#[utoipa::path(delete, path = "/api/v1/admin/prices/{provider}/{model}", tag = "spend",
    params(("provider" = ProviderId, Path), ("model" = String, Path)),
    responses((status = 200, body = PriceList),
        (status = 404, description = "No administrator's price for it, or the caller is not an administrator", body = model::ApiError)))]
pub async fn delete_price(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path((provider, model)): Path<(String, String)>,
) -> ApiResult<PriceList> {
    let provider: ProviderId = provider
        .parse()
        .map_err(|_| ApiErrorResponse::from(backend::services::ServiceError::NotFound))?;
    Ok(Json(
        spend::delete_price(&backend, &p, provider, &model).await?,
    ))
}
