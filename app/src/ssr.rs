//! Server-only helpers for the server functions and pages: the caller (put in the
//! request's extensions by the server's authentication middleware), the session, and the
//! mapping of service errors to [`AppError`].

use backend::services::{
    accounts::ClientInfo, auth::Principal, retry_after_secs, ErrorClass, ServiceError,
};
use leptos::prelude::*;

use crate::AppError;

/// The backend services, provided as context by the server for every request.
pub fn backend() -> Result<backend::Backend, AppError> {
    use_context::<backend::Backend>().ok_or_else(|| internal("backend context missing"))
}

pub(crate) fn parts() -> Option<http::request::Parts> {
    use_context::<http::request::Parts>()
}

/// Gives the page being rendered its Content-Security-Policy ([`crate::csp`]), with the
/// nonce leptos puts on its hydration and streaming scripts for this response.
pub fn content_security_policy() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    // HTTP/1 names the host in `Host`, HTTP/2 in the URI's authority.
    let host = parts().and_then(|p| {
        p.headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| p.uri.authority().map(ToString::to_string))
    });
    let form_targets = backend()
        .map(|b| b.external.identities.form_origins())
        .unwrap_or_default();
    let policy = crate::csp::policy(&nonce, host.as_deref(), &form_targets);
    if let (Some(options), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&policy),
    ) {
        options.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The signed-in caller, if any.
pub fn principal() -> Option<Principal> {
    parts()?.extensions.get::<Principal>().cloned()
}

/// The signed-in caller, or the error that asks to sign in. A server function called by
/// the browser then answers 401 (it was a 500); a page that asks while it renders keeps its
/// own status, and a form posted without JavaScript its redirect.
pub fn require_principal() -> Result<Principal, AppError> {
    principal().ok_or_else(|| {
        if is_server_function_call() && !is_plain_form_post() {
            set_status(http::StatusCode::UNAUTHORIZED);
        }
        AppError::sign_in_required()
    })
}

/// The request is a server function's own (`/api/…`), not a page being rendered.
fn is_server_function_call() -> bool {
    parts().is_some_and(|p| p.uri.path().starts_with("/api/"))
}

/// Where the request came from (for abuse limits and the sessions list).
pub fn client() -> ClientInfo {
    parts()
        .and_then(|p| p.extensions.get::<ClientInfo>().cloned())
        .unwrap_or_default()
}

/// The browser's sign-in cookie (a sign-in through an identity provider), if any.
pub fn signin_browser() -> Option<String> {
    let secure = backend().ok()?.config.is_https();
    parts().and_then(|p| crate::session::signin_browser(&p.headers, secure))
}

/// The browser's session (the session layer saves it after the response).
pub fn session() -> Result<tower_sessions::Session, AppError> {
    parts()
        .and_then(|p| p.extensions.get::<tower_sessions::Session>().cloned())
        .ok_or_else(|| internal("session layer missing"))
}

/// Logs the cause of an internal failure with a fresh reference id, and returns the
/// opaque error that the browser sees.
pub fn internal(cause: impl std::fmt::Display) -> AppError {
    let reference = uuid::Uuid::new_v4().simple().to_string();
    tracing::error!(%reference, %cause, "internal error in a server function");
    AppError::Internal { reference }
}

/// The UI's view of a service error; sets the status (and `Retry-After`) of the response.
pub fn service_error(e: ServiceError) -> AppError {
    let status = match e.class() {
        ErrorClass::Invalid => http::StatusCode::BAD_REQUEST,
        ErrorClass::Unauthenticated => http::StatusCode::UNAUTHORIZED,
        ErrorClass::NotFound => http::StatusCode::NOT_FOUND,
        ErrorClass::Conflict => http::StatusCode::CONFLICT,
        ErrorClass::Forbidden => http::StatusCode::FORBIDDEN,
        ErrorClass::TooLarge => http::StatusCode::PAYLOAD_TOO_LARGE,
        ErrorClass::Unsupported => http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorClass::Refused => http::StatusCode::UNPROCESSABLE_ENTITY,
        ErrorClass::RateLimited => http::StatusCode::TOO_MANY_REQUESTS,
        ErrorClass::PaymentRequired => http::StatusCode::PAYMENT_REQUIRED,
        ErrorClass::Internal => http::StatusCode::INTERNAL_SERVER_ERROR,
    };
    // A form posted without JavaScript is answered with a redirect back to the form,
    // carrying the error; a status here would turn that redirect into an error page.
    if !is_plain_form_post() {
        set_status(status);
    }
    match e {
        ServiceError::Invalid(f) => AppError::Validation {
            field: Some(f.field.to_owned()),
            message: f.message,
        },
        ServiceError::BadToken { message, .. } => AppError::Validation {
            field: Some("token".to_owned()),
            message,
        },
        ServiceError::Conflict {
            field: Some(field),
            message,
            ..
        } => AppError::Validation {
            field: Some(field.to_owned()),
            message,
        },
        ServiceError::Conflict { code, message, .. }
        | ServiceError::Refused { code, message }
        | ServiceError::Forbidden { code, message }
        | ServiceError::OverQuota { code, message } => AppError::Refused {
            code: code.to_owned(),
            message,
        },
        ServiceError::StorageFull(message) => AppError::Refused {
            code: "storage_quota_exceeded".to_owned(),
            message,
        },
        ServiceError::OverSpendingCap(message) => AppError::Refused {
            code: "spending_cap_reached".to_owned(),
            message,
        },
        ServiceError::Unauthenticated(message) => AppError::Unauthorized { message },
        ServiceError::NotFound => AppError::NotFound,
        ServiceError::RateLimited { retry_after } => {
            let secs = retry_after_secs(retry_after);
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                if let Ok(v) = http::HeaderValue::from_str(&secs.to_string()) {
                    response.insert_header(http::header::RETRY_AFTER, v);
                }
            }
            AppError::RateLimited {
                retry_after_secs: secs,
            }
        }
        ServiceError::Image(e) => match e {
            backend::imaging::ImageError::Internal(cause) => internal(cause),
            other => AppError::Validation {
                field: Some("file".to_owned()),
                message: other.to_string(),
            },
        },
        ServiceError::Fetch(e) => AppError::Validation {
            field: Some("url".to_owned()),
            message: e.to_string(),
        },
        ServiceError::Internal(cause) => internal(cause),
    }
}

/// A form posted by the browser itself (no JavaScript): it expects a page back.
pub fn is_plain_form_post() -> bool {
    parts().is_some_and(|p| {
        p.headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// Sets the HTTP status of the server-rendered response.
pub fn set_status(status: http::StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}

/// A path on this site to return to after signing in: only local paths are accepted, so
/// that a crafted link cannot send people elsewhere.
pub fn safe_next(next: Option<&str>) -> String {
    crate::safe_next(next)
}
