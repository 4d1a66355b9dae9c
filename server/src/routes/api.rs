//! `/api/v1`: the versioned JSON API for scripts (API.md), described by `openapi.json`.

use axum::{
    extract::OriginalUri,
    http::{Method, StatusCode},
    routing::get,
    Json, Router,
};
use utoipa::OpenApi;

use crate::{
    error::ApiErrorResponse,
    routes::{account, admin, generations, health, library, media, shares},
    state::AppState,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Avatar Studio API",
        description = "The public HTTP API of Avatar Studio. Authenticate with the session cookie or `Authorization: Bearer <personal access token>`. Errors are `{\"error\": {\"code\", \"message\", \"field\"?, \"reference\"?}}`.",
    ),
    paths(
        health::healthz, health::readyz, health::metrics, openapi_json,
        account::signup, account::login, account::logout, account::forgot_password,
        account::reset_password, account::verify_email, account::resend_verification,
        account::me, account::update_me, account::delete_me, account::change_password,
        account::list_sessions, account::revoke_session, account::revoke_other_sessions,
        account::list_tokens, account::create_token, account::revoke_token,
        account::list_keys, account::put_key, account::delete_key, account::test_key,
        library::list_characters, library::create_character, library::get_character,
        library::update_character, library::delete_character, library::set_avatar,
        library::import_avatar, library::list_collections, library::create_collection,
        library::get_collection, library::update_collection, library::delete_collection,
        library::upload, library::list_images, library::import_image, library::bulk,
        library::export,
        library::get_image, library::update_image, library::delete_image,
        library::restore_image, shares::create, shares::list, shares::revoke,
        library::stats, media::serve,
        generations::list_providers, generations::create, generations::list_jobs,
        generations::get_job, generations::cancel, generations::character_avatar,
        generations::regenerate, admin::get_operations, admin::list_invitations,
        admin::create_invitation, admin::revoke_invitation, admin::list_accounts,
        admin::set_quota, account::my_usage,
    ),
    components(schemas(model::ApiError, model::ApiErrorBody, model::Health, model::HealthCheck)),
    tags(
        (name = "accounts", description = "Sign-up, sign-in, email verification, password reset, the account"),
        (name = "sessions", description = "Signed-in browsers"),
        (name = "tokens", description = "Personal access tokens for scripts"),
        (name = "provider keys", description = "Your OpenAI and Gemini keys, encrypted at rest"),
        (name = "characters", description = "Avatar subjects, their avatars and settings"),
        (name = "collections", description = "Named groups of images"),
        (name = "images", description = "The library: uploads, imports, the trash, sharing, media and stats"),
        (name = "generations", description = "Providers and models, generation jobs: start, follow, cancel"),
        (name = "operations", description = "Health, readiness, metrics and the administrator's overview"),
        (name = "meta", description = "This description")
    )
)]
pub struct ApiDoc;

/// The OpenAPI 3.1 description of this API, generated from the code.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json"))
)]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .merge(account::router())
        .merge(library::router())
        .merge(shares::router())
        .merge(generations::router())
        .merge(admin::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn not_found(method: Method, OriginalUri(uri): OriginalUri) -> ApiErrorResponse {
    ApiErrorResponse::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "There is no API endpoint at {method} {}. See /api/v1/openapi.json for the ones there are.",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiErrorResponse {
    ApiErrorResponse::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not accept {method}.", uri.path()),
    )
}
