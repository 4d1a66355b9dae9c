//! `/api/v1` generations (API.md, "Generations"), the providers' catalogue, a character's
//! avatar generation (routed with the character's other avatar endpoints) and
//! regeneration and edits. Each handler calls the one `backend` pipeline.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::{get, post},
    Json, Router,
};
use backend::{
    services::{avatars, edits, generations, variations},
    Backend,
};
use model::{
    AvatarGenerationRequest, EditRequest, GenerationRequest, GenerationResponse, Job, Page,
    ProviderInfo, VariationPreset, VariationsRequest,
};
use serde::Deserialize;

use crate::{
    auth::Authenticated,
    error::ApiErrorResponse,
    routes::{
        account::ApiJson,
        library::{ApiQuery, PageQuery},
    },
    state::AppState,
};

type ApiResult<T> = Result<T, ApiErrorResponse>;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/providers", get(list_providers))
        .route("/generations", get(list_jobs).post(create))
        .route("/generations/{id}", get(get_job))
        .route("/generations/{id}/cancel", post(cancel))
        .route("/images/{id}/regenerate", post(regenerate))
        .route("/images/{id}/edit", post(edit))
        .route("/variations", get(list_variations))
        .route("/characters/{id}/variations", post(character_variations))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct WaitQuery {
    /// Answer 200 with the images once every job has finished, if that happens within the
    /// wait limit (`GENERATION_WAIT_SECONDS`); else 202 as without it.
    #[serde(default)]
    pub wait: bool,
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiErrorResponse> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => v.to_str().map(|s| Some(s.trim().to_owned())).map_err(|_| {
            ApiErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "invalid",
                "The Idempotency-Key header must be plain visible text.",
            )
        }),
    }
}

/// 202 with the jobs, or with `?wait=true` 200 and the images when all finished in time.
async fn answer(
    backend: &Backend,
    p: &backend::services::auth::Principal,
    jobs: Vec<Job>,
    wait: bool,
) -> ApiResult<(StatusCode, Json<GenerationResponse>)> {
    if !wait {
        return Ok((
            StatusCode::ACCEPTED,
            Json(GenerationResponse {
                jobs,
                images: Vec::new(),
            }),
        ));
    }
    let limit = backend.config.jobs.wait_limit;
    let (jobs, images, done) = generations::wait(backend, p, jobs, limit).await?;
    let status = if done {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(GenerationResponse { jobs, images })))
}

/// The providers and models, with whether you have a key for each.
#[utoipa::path(get, path = "/api/v1/providers", tag = "generations",
    responses((status = 200, body = Vec<ProviderInfo>), (status = 401, body = model::ApiError)))]
pub async fn list_providers(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
) -> ApiResult<Json<Vec<ProviderInfo>>> {
    Ok(Json(generations::catalogue(&backend, &p).await?))
}

/// Start a generation: one job per image. `Idempotency-Key` makes a repeat answer the
/// first request's jobs.
#[utoipa::path(post, path = "/api/v1/generations", tag = "generations", request_body = GenerationRequest,
    params(WaitQuery, ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key, up to 255 characters")),
    responses(
        (status = 202, body = GenerationResponse, description = "Queued (or still running after the wait)"),
        (status = 200, body = GenerationResponse, description = "`?wait=true`: every job finished"),
        (status = 400, body = model::ApiError), (status = 401, body = model::ApiError),
        (status = 404, body = model::ApiError, description = "The character or collection is not yours"),
        (status = 409, body = model::ApiError, description = "Idempotency-Key reused for another request"),
        (status = 413, body = model::ApiError, description = "The account's storage is full (storage_quota_exceeded)"),
        (status = 402, body = model::ApiError, description = "The month's spending cap would be passed (spending_cap_reached); nothing was sent to a provider"),
        (status = 429, body = model::ApiError, description = "Too many queued jobs or images today (quota_exceeded)"),
        (status = 422, body = model::ApiError, description = "No API key for this provider")))]
pub async fn create(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    ApiQuery(q): ApiQuery<WaitQuery>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<GenerationRequest>,
) -> ApiResult<(StatusCode, Json<GenerationResponse>)> {
    let opts = generations::Options {
        idempotency_key: idempotency_key(&headers)?,
        ..generations::Options::default()
    };
    let jobs = generations::start(&backend, &p, &body, &opts).await?;
    answer(&backend, &p, jobs, q.wait).await
}

/// Your jobs, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/generations", tag = "generations", params(PageQuery),
    responses((status = 200, body = Page<Job>), (status = 400, body = model::ApiError),
        (status = 401, body = model::ApiError)))]
pub async fn list_jobs(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Job>>> {
    Ok(Json(
        generations::list(&backend, &p, q.limit, q.cursor.as_deref()).await?,
    ))
}

/// One job.
#[utoipa::path(get, path = "/api/v1/generations/{id}", tag = "generations",
    responses((status = 200, body = Job), (status = 404, body = model::ApiError)))]
pub async fn get_job(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Job>> {
    Ok(Json(generations::get(&backend, &p, &id).await?))
}

/// Cancel a job: at once when queued, at the worker's next step when running.
#[utoipa::path(post, path = "/api/v1/generations/{id}/cancel", tag = "generations",
    responses((status = 200, body = Job), (status = 404, body = model::ApiError)))]
pub async fn cancel(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Job>> {
    Ok(Json(generations::cancel(&backend, &p, &id).await?))
}

/// Make an avatar for a character from its prompt and settings (each can be overridden);
/// the avatar is set when the job completes.
#[utoipa::path(post, path = "/api/v1/characters/{id}/avatar", tag = "characters", request_body = AvatarGenerationRequest,
    params(WaitQuery),
    responses((status = 202, body = GenerationResponse), (status = 200, body = GenerationResponse),
        (status = 400, body = model::ApiError), (status = 404, body = model::ApiError), (status = 422, body = model::ApiError),
        (status = 409, body = model::ApiError, description = "Idempotency-Key reused for another request"),
        (status = 413, body = model::ApiError, description = "The account's storage is full (storage_quota_exceeded)"),
        (status = 402, body = model::ApiError, description = "The month's spending cap would be passed (spending_cap_reached); nothing was sent to a provider"),
        (status = 429, body = model::ApiError, description = "Too many queued jobs or images today (quota_exceeded)")))]
pub async fn character_avatar(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<WaitQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<GenerationResponse>)> {
    // The body is optional: the character's own prompt and settings are the defaults.
    let body: AvatarGenerationRequest = if body.iter().all(u8::is_ascii_whitespace) {
        AvatarGenerationRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiErrorResponse::bad_body(format!(
                "The request body is not what this endpoint takes: {e}"
            ))
        })?
    };
    let key = idempotency_key(&headers)?;
    let jobs = avatars::character_avatar(&backend, &p, &id, &body, key).await?;
    answer(&backend, &p, jobs, q.wait).await
}

/// Make a new image with the same parameters and a new seed (`parent_id` set).
#[utoipa::path(post, path = "/api/v1/images/{id}/regenerate", tag = "images",
    params(WaitQuery),
    responses((status = 202, body = GenerationResponse), (status = 200, body = GenerationResponse),
        (status = 400, body = model::ApiError, description = "A reference image of the original is gone: deleted, or in the trash (reference_image_ids)"),
        (status = 404, body = model::ApiError), (status = 422, body = model::ApiError),
        (status = 409, body = model::ApiError, description = "Idempotency-Key reused, or the image was not generated"),
        (status = 413, body = model::ApiError, description = "The account's storage is full (storage_quota_exceeded)"),
        (status = 402, body = model::ApiError, description = "The month's spending cap would be passed (spending_cap_reached); nothing was sent to a provider"),
        (status = 429, body = model::ApiError, description = "Too many queued jobs or images today (quota_exceeded)")))]
pub async fn regenerate(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<WaitQuery>,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, Json<GenerationResponse>)> {
    let key = idempotency_key(&headers)?;
    let jobs = edits::regenerate(&backend, &p, &id, key).await?;
    answer(&backend, &p, jobs, q.wait).await
}

/// A new image made from this one by an instruction ("make the hair blue"), through the
/// provider's editing path; `parent_id` is the source.
#[utoipa::path(post, path = "/api/v1/images/{id}/edit", tag = "images", request_body = EditRequest,
    params(WaitQuery),
    responses((status = 202, body = GenerationResponse), (status = 200, body = GenerationResponse),
        (status = 400, body = model::ApiError, description = "No instruction, or a model that cannot edit (DALL·E 3)"),
        (status = 404, body = model::ApiError), (status = 422, body = model::ApiError),
        (status = 409, body = model::ApiError, description = "Idempotency-Key reused, or the image is not finished"),
        (status = 413, body = model::ApiError, description = "The account's storage is full (storage_quota_exceeded)"),
        (status = 402, body = model::ApiError, description = "The month's spending cap would be passed (spending_cap_reached); nothing was sent to a provider"),
        (status = 429, body = model::ApiError, description = "Too many queued jobs or images today (quota_exceeded)")))]
pub async fn edit(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<WaitQuery>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<EditRequest>,
) -> ApiResult<(StatusCode, Json<GenerationResponse>)> {
    let key = idempotency_key(&headers)?;
    let jobs = edits::edit(&backend, &p, &id, &body, key).await?;
    answer(&backend, &p, jobs, q.wait).await
}

/// The variation presets this instance offers (shipped, extended by `VARIATIONS_FILE`).
#[utoipa::path(get, path = "/api/v1/variations", tag = "generations",
    responses((status = 200, body = Vec<VariationPreset>)))]
pub async fn list_variations(
    State(backend): State<Backend>,
    _caller: Authenticated,
) -> Json<Vec<VariationPreset>> {
    Json(variations::presets(&backend))
}

/// Variations of a character: one job per preset (all by default), each from its sheet.
#[utoipa::path(post, path = "/api/v1/characters/{id}/variations", tag = "characters",
    request_body = VariationsRequest, params(WaitQuery),
    responses((status = 202, body = GenerationResponse), (status = 200, body = GenerationResponse),
        (status = 400, body = model::ApiError, description = "An unknown preset, or settings the model does not take"),
        (status = 404, body = model::ApiError), (status = 422, body = model::ApiError),
        (status = 413, body = model::ApiError, description = "The account's storage is full (storage_quota_exceeded)"),
        (status = 402, body = model::ApiError, description = "The month's spending cap would be passed (spending_cap_reached); nothing was sent to a provider"),
        (status = 429, body = model::ApiError, description = "Too many queued jobs or images today (quota_exceeded)")))]
pub async fn character_variations(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<WaitQuery>,
    ApiJson(body): ApiJson<VariationsRequest>,
) -> ApiResult<(StatusCode, Json<GenerationResponse>)> {
    let jobs = variations::start_set(&backend, &p, &id, &body).await?;
    answer(&backend, &p, jobs, q.wait).await
}
