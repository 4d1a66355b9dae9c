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
    routes::{account, admin, generations, health, library, media, shares, spend},
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
        library::stats, media::serve, media::public_avatar, library::publish_avatar,
        library::unpublish_avatar, library::empty_trash,
        generations::list_providers, generations::create, generations::list_jobs,
        generations::get_job, generations::cancel, generations::character_avatar,
        generations::regenerate, generations::edit, generations::list_variations,
        generations::character_variations, admin::get_operations, admin::list_invitations,
        admin::create_invitation, admin::revoke_invitation, admin::list_accounts,
        admin::set_quota, account::my_usage, spend::prices, spend::my_spend, spend::set_cap,
        spend::instance_spend, spend::set_price, spend::delete_price,
    ),
    components(schemas(model::ApiError, model::ApiErrorBody, model::Health, model::HealthCheck)),
    modifiers(&CommonResponses),
    tags(
        (name = "accounts", description = "Sign-up, sign-in, email verification, password reset, the account"),
        (name = "sessions", description = "Signed-in browsers"),
        (name = "tokens", description = "Personal access tokens for scripts"),
        (name = "provider keys", description = "Your OpenAI and Gemini keys, encrypted at rest"),
        (name = "characters", description = "Avatar subjects, their avatars and settings"),
        (name = "collections", description = "Named groups of images"),
        (name = "images", description = "The library: uploads, imports, the trash, sharing, media and stats"),
        (name = "generations", description = "Providers and models, generation jobs: start, follow, cancel"),
        (name = "spend", description = "Prices, estimated costs, a month's spend and the spending caps"),
        (name = "operations", description = "Health, readiness, metrics and the administrator's overview"),
        (name = "meta", description = "This description")
    )
)]
pub struct ApiDoc;

/// The answers every operation of a kind can give, whatever its handler does, added to
/// each operation once here rather than repeated on every handler:
/// - 400 when it takes a body or query parameters (a body that is not JSON, a query
///   string that does not parse: `invalid_body`, `invalid_query`);
/// - 413 when it takes a body (more than the body limit);
/// - 401 and 403 when it needs a credential (none given; a token without the scope):
///   everything under `/api/v1/` but the sign-in flows (`/auth/…`) and this document;
/// - 403 when it changes something (a foreign `Origin`).
struct CommonResponses;

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            path::Operation, ContentBuilder, Ref, RefOr, Response, ResponseBuilder,
        };
        let error = |description: &str| -> RefOr<Response> {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ApiError")))
                        .build(),
                )
                .build()
                .into()
        };
        let add = |op: &mut Operation, authenticated: bool, changes: bool| {
            let responses = &mut op.responses.responses;
            let has_query = op.parameters.as_ref().is_some_and(|ps| {
                ps.iter()
                    .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query))
            });
            let has_body = op.request_body.is_some();
            if has_body || has_query {
                responses.entry("400".to_owned()).or_insert_with(|| {
                    error("The body or the query string is not what this operation takes")
                });
            }
            if has_body {
                responses
                    .entry("413".to_owned())
                    .or_insert_with(|| error("The body is larger than this operation accepts"));
            }
            if authenticated {
                responses
                    .entry("401".to_owned())
                    .or_insert_with(|| error("No valid session or token"));
            }
            if authenticated || changes {
                responses.entry("403".to_owned()).or_insert_with(|| {
                    error("A token without the scope this operation needs, or a request from another site")
                });
            }
        };
        for (path, item) in &mut openapi.paths.paths {
            let authenticated = path.starts_with("/api/v1/")
                && !path.starts_with("/api/v1/auth/")
                && path != "/api/v1/openapi.json";
            for (op, changes) in [
                (&mut item.get, false),
                (&mut item.head, false),
                (&mut item.post, true),
                (&mut item.put, true),
                (&mut item.patch, true),
                (&mut item.delete, true),
            ] {
                if let Some(op) = op.as_mut() {
                    add(op, authenticated, changes);
                }
            }
        }
    }
}

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
        .merge(spend::router())
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
