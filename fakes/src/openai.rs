//! The fake OpenAI Images API: `POST /v1/images/generations` (JSON, checked against the
//! OpenAPI schema), `POST /v1/images/edits` (multipart, `image` or `image[]`), the files
//! its `url` answers point at, and `GET /v1/models`.

use std::sync::{
    atomic::{AtomicU32, Ordering},
    Arc, OnceLock,
};

use axum::{
    body::Bytes,
    extract::{Multipart, Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use base64::Engine;
use serde_json::{json, Value};

use crate::{lock, png, Recorded, Reply, Shared};

static COUNTER: AtomicU32 = AtomicU32::new(1);

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/images/generations", post(generations))
        .route("/v1/images/edits", post(edits))
        .route("/v1/models", get(models))
        .route("/files/{name}", get(file))
        .with_state(shared)
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|k| !k.trim().is_empty())
}

fn error(status: StatusCode, code: Option<&str>, kind: &str, message: &str) -> Response {
    let mut resp = (
        status,
        Json(json!({"error": {"message": message, "type": kind, "param": null, "code": code}})),
    )
        .into_response();
    resp.headers_mut().insert(
        "x-request-id",
        "req_fake_error".parse().expect("a header value"),
    );
    resp
}

/// The `CreateImageRequest` schema of OpenAI's document, compiled once.
fn schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut doc: Value =
            serde_json::from_str(include_str!("../reference/openai-images.openapi.json"))
                .expect("the reference document is JSON");
        doc["$ref"] = json!("#/components/schemas/CreateImageRequest");
        jsonschema::draft202012::new(&doc).expect("the reference schema compiles")
    })
}

async fn models(headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            Some("invalid_api_key"),
            "invalid_request_error",
            "Incorrect API key provided.",
        );
    }
    Json(json!({"object": "list", "data": [{"id": "dall-e-3", "object": "model", "created": 1, "owned_by": "system"}]})).into_response()
}

async fn file(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    let _ = shared;
    match name
        .strip_suffix(".png")
        .and_then(|n| n.parse::<u32>().ok())
    {
        Some(n) => ([(header::CONTENT_TYPE, "image/png")], png(n)).into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

async fn generations(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorized = authorized(&headers);
    let json: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            shared.record(Recorded {
                method: "POST".into(),
                path: "/v1/images/generations".into(),
                body: Value::Null,
                authorized,
            });
            return error(
                StatusCode::BAD_REQUEST,
                None,
                "invalid_request_error",
                &format!("We could not parse the JSON body of your request. ({e})"),
            );
        }
    };
    shared.record(Recorded {
        method: "POST".into(),
        path: "/v1/images/generations".into(),
        body: json.clone(),
        authorized,
    });
    if !authorized {
        return error(
            StatusCode::UNAUTHORIZED,
            Some("invalid_api_key"),
            "invalid_request_error",
            "You didn't provide an API key.",
        );
    }
    let problems: Vec<String> = schema()
        .iter_errors(&json)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    if !problems.is_empty() {
        let message = problems.join("; ");
        lock(&shared.schema_violations).push(message.clone());
        return error(
            StatusCode::BAD_REQUEST,
            None,
            "invalid_request_error",
            &message,
        );
    }
    if json
        .get("prompt")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return error(
            StatusCode::BAD_REQUEST,
            None,
            "invalid_request_error",
            "Missing required parameter: 'prompt'.",
        );
    }
    let model = json
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("dall-e-2")
        .to_owned();
    let wants_url = model.starts_with("dall-e")
        && json.get("response_format").and_then(Value::as_str) != Some("b64_json");
    answer(&shared, &model, wants_url).await
}

async fn edits(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let authorized = authorized(&headers);
    let mut fields = serde_json::Map::new();
    let mut images = Vec::new();
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let file_name = field.file_name().map(str::to_owned);
                let content_type = field.content_type().map(str::to_owned);
                let Ok(data) = field.bytes().await else {
                    return error(
                        StatusCode::BAD_REQUEST,
                        None,
                        "invalid_request_error",
                        "The multipart body is incomplete.",
                    );
                };
                if name == "image" || name == "image[]" {
                    images.push(json!({"field": name, "file": file_name, "content_type": content_type, "bytes": data.len()}));
                } else {
                    fields.insert(name, json!(String::from_utf8_lossy(&data)));
                }
            }
            Ok(None) => break,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    None,
                    "invalid_request_error",
                    &format!("The multipart body is malformed: {e}"),
                )
            }
        }
    }
    fields.insert("images".into(), Value::Array(images.clone()));
    shared.record(Recorded {
        method: "POST".into(),
        path: "/v1/images/edits".into(),
        body: Value::Object(fields.clone()),
        authorized,
    });
    if !authorized {
        return error(
            StatusCode::UNAUTHORIZED,
            Some("invalid_api_key"),
            "invalid_request_error",
            "You didn't provide an API key.",
        );
    }
    if images.is_empty()
        || fields
            .get("prompt")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        return error(
            StatusCode::BAD_REQUEST,
            None,
            "invalid_request_error",
            "An edit needs 'image' (or 'image[]') and 'prompt'.",
        );
    }
    if images.len() > 16 {
        return error(
            StatusCode::BAD_REQUEST,
            Some("too_many_images"),
            "invalid_request_error",
            "At most 16 images.",
        );
    }
    let model = fields
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("gpt-image-1")
        .to_owned();
    answer(&shared, &model, false).await
}

/// The scripted answer to a generation or edit.
async fn answer(shared: &Shared, model: &str, wants_url: bool) -> Response {
    let gpt = !model.starts_with("dall-e");
    let reply = shared.next_reply();
    let reply = match reply {
        Reply::Slow(wait) => {
            tokio::time::sleep(wait).await;
            Reply::Ok
        }
        other => other,
    };
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let b64 = || base64::engine::general_purpose::STANDARD.encode(png(n));
    let success = |data: Value| {
        let mut body = json!({"created": 1_713_833_628, "data": [data]});
        if gpt {
            body["output_format"] = json!("png");
            body["size"] = json!("1024x1024");
            body["quality"] = json!("high");
            body["usage"] = json!({"total_tokens": 4200, "input_tokens": 50, "output_tokens": 4150,
                "input_tokens_details": {"text_tokens": 50, "image_tokens": 0}});
        }
        let mut resp = Json(body).into_response();
        resp.headers_mut().insert(
            "x-request-id",
            format!("req_fake_{n}").parse().expect("a header value"),
        );
        resp.headers_mut().insert(
            "x-ratelimit-remaining-requests",
            "49".parse().expect("a header value"),
        );
        resp
    };
    match reply {
        Reply::Url | Reply::Ok | Reply::Slow(_) if wants_url || reply == Reply::Url => success(json!({
            "url": format!("{}/files/{n}.png", shared.base()),
            "revised_prompt": "A revised prompt, as DALL·E 3 writes them.",
        })),
        Reply::Url | Reply::Ok | Reply::Slow(_) => {
            let mut data = json!({"b64_json": b64()});
            if !gpt {
                data["revised_prompt"] = json!("A revised prompt, as DALL·E 3 writes them.");
            }
            success(data)
        }
        Reply::UrlNotFound => success(json!({"url": format!("{}/files/expired.png", shared.base())})),
        Reply::TruncatedBase64 => {
            let full = b64();
            success(json!({"b64_json": &full[..full.len() / 2 + 1]}))
        }
        Reply::MalformedJson => (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "{\"created\": 1713833628, \"data\": [{\"b64_json\": ").into_response(),
        Reply::RateLimited { retry_after_ms, retry_after_s } => {
            let mut resp = error(StatusCode::TOO_MANY_REQUESTS, Some("rate_limit_exceeded"), "requests", "Rate limit reached for images per minute. Please try again in 1s.");
            if let Some(ms) = retry_after_ms {
                resp.headers_mut().insert("retry-after-ms", ms.to_string().parse().expect("a header value"));
            }
            if let Some(s) = retry_after_s {
                resp.headers_mut().insert(header::RETRY_AFTER, s.to_string().parse().expect("a header value"));
            }
            resp
        }
        Reply::RateLimitedBare => error(StatusCode::TOO_MANY_REQUESTS, Some("rate_limit_exceeded"), "requests", "Rate limit reached."),
        Reply::QuotaExhausted => error(StatusCode::TOO_MANY_REQUESTS, Some("insufficient_quota"), "insufficient_quota", "You exceeded your current quota, please check your plan and billing details."),
        Reply::InvalidKey => error(StatusCode::UNAUTHORIZED, Some("invalid_api_key"), "invalid_request_error", "Incorrect API key provided: sk-***. You can find your API key at https://platform.openai.com/account/api-keys."),
        Reply::Safety | Reply::PromptBlocked => {
            let code = if gpt { "moderation_blocked" } else { "content_policy_violation" };
            error(StatusCode::BAD_REQUEST, Some(code), "image_generation_user_error", "Your request was rejected as a result of our safety system.")
        }
        Reply::TextOnly | Reply::BadRequest => error(StatusCode::BAD_REQUEST, Some("invalid_value"), "invalid_request_error", "Invalid value for 'size'."),
        Reply::ServerError(status) => error(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), None, "server_error", "The server had an error while processing your request. Sorry about that!"),
    }
}
