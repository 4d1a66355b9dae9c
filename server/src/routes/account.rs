//! `/api/v1` accounts, sessions, access tokens and provider keys (API.md). Each handler
//! reads the request, calls one `backend` service and shapes the answer.

use axum::{
    extract::{FromRequest, FromRequestParts, Path, Request},
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
    Json, Router,
};
use backend::{
    services::{accounts, accounts::ClientInfo, provider_keys, quotas, tokens},
    Backend,
};
use model::{
    ChangePasswordRequest, CreateTokenRequest, CreatedToken, DeleteAccountRequest,
    ForgotPasswordRequest, KeyProvider, KeyTestResult, LoginRequest, Page, ProviderKeyInfo,
    PutProviderKeyRequest, ResetPasswordRequest, SessionInfo, SignupAccepted, SignupRequest,
    TokenInfo, UpdateProfileRequest, Usage, User, VerifyEmailRequest,
};
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use crate::{auth::Authenticated, error::ApiErrorResponse, state::AppState};

type ApiResult<T> = Result<T, ApiErrorResponse>;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/signup", post(signup))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/forgot-password", post(forgot_password))
        .route("/auth/reset-password", post(reset_password))
        .route("/auth/verify-email", post(verify_email))
        .route("/auth/resend-verification", post(resend_verification))
        .route("/me", get(me).patch(update_me).delete(delete_me))
        .route("/me/usage", get(my_usage))
        .route("/me/password", post(change_password))
        .route("/sessions", get(list_sessions))
        .route("/sessions/revoke-others", post(revoke_other_sessions))
        .route("/sessions/{id}", delete(revoke_session))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
        .route("/provider-keys", get(list_keys))
        .route("/provider-keys/{provider}", put(put_key).delete(delete_key))
        .route("/provider-keys/{provider}/test", post(test_key))
}

/// A JSON body; a body that is not the JSON an endpoint takes is a 400 in the API's error
/// format, naming what is wrong.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiErrorResponse;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(ApiErrorResponse::bad_body(format!(
                "The request body is not what this endpoint takes: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// Where a request came from: the peer address and the browser's `User-Agent`.
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(client_info(&parts.extensions)))
    }
}

/// The request's client, as `crate::client::resolve` worked it out.
pub fn client_info(extensions: &http::Extensions) -> ClientInfo {
    extensions.get::<ClientInfo>().cloned().unwrap_or_default()
}

async fn establish(session: &Session, user_id: &str, client: &ClientInfo) -> ApiResult<()> {
    app::session::establish(session, user_id, client)
        .await
        .map_err(|e| ApiErrorResponse::internal(&e))
}

fn provider(raw: &str) -> ApiResult<KeyProvider> {
    raw.parse().map_err(|message: String| {
        ApiErrorResponse::new(StatusCode::NOT_FOUND, "not_found", message)
    })
}

/// Create an account and sign in.
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "accounts", request_body = SignupRequest,
    responses((status = 201, body = User, description = "Signed up and signed in; sets the session cookie"),
        (status = 202, body = SignupAccepted, description = "REQUIRE_EMAIL_VERIFICATION: the same answer for a new and a taken address; the mail says what to do"),
        (status = 400, body = model::ApiError),
        (status = 403, body = model::ApiError, description = "Sign-up is closed, or needs a valid invitation (SIGNUP)"),
        (status = 409, body = model::ApiError, description = "Email taken"),
        (status = 429, body = model::ApiError)))]
pub async fn signup(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Client(client): Client,
    session: Session,
    ApiJson(body): ApiJson<SignupRequest>,
) -> ApiResult<Response> {
    let signed_up = accounts::sign_up(
        &backend,
        &client,
        accounts::SignUp {
            email: &body.email,
            password: &body.password,
            display_name: body.display_name.as_deref(),
            invitation: body.invitation.as_deref(),
        },
    )
    .await?;
    match signed_up {
        accounts::SignedUp::Active(user) => {
            establish(&session, &user.id, &client).await?;
            Ok((StatusCode::CREATED, Json(user)).into_response())
        }
        accounts::SignedUp::CheckMail => Ok((
            StatusCode::ACCEPTED,
            Json(SignupAccepted {
                message: accounts::CHECK_MAIL.to_owned(),
            }),
        )
            .into_response()),
    }
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = User, description = "Signed in; sets the session cookie"),
        (status = 401, body = model::ApiError), (status = 429, body = model::ApiError)))]
pub async fn login(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Client(client): Client,
    session: Session,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Json<User>> {
    let user = accounts::sign_in(&backend, &client, &body.email, &body.password).await?;
    establish(&session, &user.id, &client).await?;
    Ok(Json(user))
}

/// End the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts",
    responses((status = 204, description = "Signed out; the session is ended server-side")))]
pub async fn logout(
    axum::extract::State(backend): axum::extract::State<Backend>,
    session: Session,
) -> ApiResult<StatusCode> {
    app::session::end(&session, &backend)
        .await
        .map_err(|e| ApiErrorResponse::internal(&e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ask for a password reset link. Answers the same whether or not the account exists.
#[utoipa::path(post, path = "/api/v1/auth/forgot-password", tag = "accounts", request_body = ForgotPasswordRequest,
    responses((status = 202, description = "If the account exists, a link is on its way"),
        (status = 400, body = model::ApiError), (status = 429, body = model::ApiError)))]
pub async fn forgot_password(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Client(client): Client,
    ApiJson(body): ApiJson<ForgotPasswordRequest>,
) -> ApiResult<Response> {
    accounts::forgot_password(&backend, &client, &body.email).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({
            "message": "If an account exists for this address, a reset link is on its way."
        })),
    )
        .into_response())
}

/// Set a new password with the token from a reset link. Every other session ends.
#[utoipa::path(post, path = "/api/v1/auth/reset-password", tag = "accounts", request_body = ResetPasswordRequest,
    responses((status = 204, description = "Password changed"), (status = 400, body = model::ApiError)))]
pub async fn reset_password(
    axum::extract::State(backend): axum::extract::State<Backend>,
    principal: Option<Authenticated>,
    ApiJson(body): ApiJson<ResetPasswordRequest>,
) -> ApiResult<StatusCode> {
    let keep = principal
        .as_ref()
        .and_then(|Authenticated(p)| p.session_hash());
    accounts::reset_password(&backend, &body.token, &body.password, keep).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirm the email address with the token from the verification link.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "accounts", request_body = VerifyEmailRequest,
    responses((status = 204, description = "Verified"), (status = 400, body = model::ApiError)))]
pub async fn verify_email(
    axum::extract::State(backend): axum::extract::State<Backend>,
    ApiJson(body): ApiJson<VerifyEmailRequest>,
) -> ApiResult<StatusCode> {
    accounts::verify_email(&backend, &body.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a new verification link to the signed-in account.
#[utoipa::path(post, path = "/api/v1/auth/resend-verification", tag = "accounts",
    responses((status = 202, description = "Sent (nothing is sent when already verified)"), (status = 401, body = model::ApiError),
        (status = 429, body = model::ApiError, description = "Too many requests for this account or client")))]
pub async fn resend_verification(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Authenticated(principal): Authenticated,
    Client(client): Client,
) -> ApiResult<StatusCode> {
    accounts::resend_verification(&backend, &client, &principal.caller).await?;
    Ok(StatusCode::ACCEPTED)
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = User), (status = 401, body = model::ApiError)))]
pub async fn me(Authenticated(principal): Authenticated) -> Json<User> {
    Json(principal.caller.to_model())
}

/// What the account uses of its quota: images generated in the last 24 hours, jobs
/// queued or running, bytes stored, and the limits that apply.
#[utoipa::path(get, path = "/api/v1/me/usage", tag = "accounts",
    responses((status = 200, body = Usage), (status = 401, body = model::ApiError)))]
pub async fn my_usage(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Authenticated(principal): Authenticated,
) -> ApiResult<Json<Usage>> {
    Ok(Json(quotas::usage(&backend, &principal).await?))
}

/// Change the display name.
#[utoipa::path(patch, path = "/api/v1/me", tag = "accounts", request_body = UpdateProfileRequest,
    responses((status = 200, body = User), (status = 400, body = model::ApiError), (status = 401, body = model::ApiError)))]
pub async fn update_me(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<UpdateProfileRequest>,
) -> ApiResult<Json<User>> {
    let user = accounts::update_profile(&backend, &principal, body.display_name.as_deref()).await?;
    Ok(Json(user))
}

/// Delete the account with all its data and stored images. The password confirms it.
#[utoipa::path(delete, path = "/api/v1/me", tag = "accounts", request_body = DeleteAccountRequest,
    responses((status = 204, description = "Deleted"), (status = 400, body = model::ApiError), (status = 401, body = model::ApiError)))]
pub async fn delete_me(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Authenticated(principal): Authenticated,
    session: Session,
    ApiJson(body): ApiJson<DeleteAccountRequest>,
) -> ApiResult<StatusCode> {
    accounts::delete_account(&backend, &principal, &body.password).await?;
    session
        .flush()
        .await
        .map_err(|e| ApiErrorResponse::internal(&e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change the password; every other session ends.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "accounts", request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed"), (status = 400, body = model::ApiError), (status = 401, body = model::ApiError)))]
pub async fn change_password(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    accounts::change_password(
        &backend,
        &principal,
        &body.current_password,
        &body.new_password,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in browsers of this account.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions",
    responses((status = 200, body = Page<SessionInfo>), (status = 401, body = model::ApiError)))]
pub async fn list_sessions(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Authenticated(principal): Authenticated,
) -> ApiResult<Json<Page<SessionInfo>>> {
    let items = accounts::list_sessions(&backend, &principal).await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// End one session (signs that browser out at once).
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "Session id")),
    responses((status = 204, description = "Ended"), (status = 404, body = model::ApiError)))]
pub async fn revoke_session(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    accounts::revoke_session(&backend, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sign out everywhere else: end every session but the current one.
#[utoipa::path(post, path = "/api/v1/sessions/revoke-others", tag = "sessions",
    responses((status = 200, description = "`{\"ended\": n}`"), (status = 401, body = model::ApiError)))]
pub async fn revoke_other_sessions(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Authenticated(principal): Authenticated,
) -> ApiResult<Json<serde_json::Value>> {
    let ended = accounts::revoke_other_sessions(&backend, &principal).await?;
    Ok(Json(serde_json::json!({ "ended": ended })))
}

/// Personal access tokens (never the tokens themselves).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = Page<TokenInfo>), (status = 401, body = model::ApiError)))]
pub async fn list_tokens(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Authenticated(principal): Authenticated,
) -> ApiResult<Json<Page<TokenInfo>>> {
    let items = tokens::list(&backend, &principal).await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Create a token: the answer is the only time it is shown.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 400, body = model::ApiError), (status = 401, body = model::ApiError)))]
pub async fn create_token(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let created = tokens::create(
        &backend,
        &principal,
        &body.name,
        body.expires_in_days,
        body.scopes.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revoke a token: it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"), (status = 404, body = model::ApiError)))]
pub async fn revoke_token(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    tokens::revoke(&backend, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The stored provider keys, by their last four characters.
#[utoipa::path(get, path = "/api/v1/provider-keys", tag = "provider keys",
    responses((status = 200, body = Vec<ProviderKeyInfo>), (status = 401, body = model::ApiError)))]
pub async fn list_keys(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Authenticated(principal): Authenticated,
) -> ApiResult<Json<Vec<ProviderKeyInfo>>> {
    Ok(Json(provider_keys::list(&backend, &principal).await?))
}

/// Store (or replace) the key for a provider; it is encrypted at rest.
#[utoipa::path(put, path = "/api/v1/provider-keys/{provider}", tag = "provider keys",
    params(("provider" = KeyProvider, Path, description = "openai or gemini")),
    request_body = PutProviderKeyRequest,
    responses((status = 200, body = ProviderKeyInfo), (status = 400, body = model::ApiError), (status = 404, body = model::ApiError)))]
pub async fn put_key(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Authenticated(principal): Authenticated,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<PutProviderKeyRequest>,
) -> ApiResult<Json<ProviderKeyInfo>> {
    let provider = provider(&raw)?;
    Ok(Json(
        provider_keys::put(&backend, &principal, provider, &body.api_key).await?,
    ))
}

/// Remove the key for a provider.
#[utoipa::path(delete, path = "/api/v1/provider-keys/{provider}", tag = "provider keys",
    params(("provider" = KeyProvider, Path, description = "openai or gemini")),
    responses((status = 204, description = "Removed"), (status = 404, body = model::ApiError)))]
pub async fn delete_key(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Authenticated(principal): Authenticated,
    Path(raw): Path<String>,
) -> ApiResult<StatusCode> {
    provider_keys::delete(&backend, &principal, provider(&raw)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ask the provider whether it accepts the stored key (its cheapest authenticated call).
#[utoipa::path(post, path = "/api/v1/provider-keys/{provider}/test", tag = "provider keys",
    params(("provider" = KeyProvider, Path, description = "openai or gemini")),
    responses((status = 200, body = KeyTestResult), (status = 404, body = model::ApiError, description = "No key stored"),
        (status = 422, body = model::ApiError, description = "The provider refused; the message says why")))]
pub async fn test_key(
    axum::extract::State(backend): axum::extract::State<Backend>,
    Authenticated(principal): Authenticated,
    Path(raw): Path<String>,
) -> ApiResult<Json<KeyTestResult>> {
    provider_keys::test(&backend, &principal, provider(&raw)?).await?;
    Ok(Json(KeyTestResult { ok: true }))
}
