//! The fake Gemini API, under both `/v1beta/` and `/v1/`: `models/{model}:generateContent`
//! (snake_case and lowerCamelCase field names alike), the Files API (resumable upload,
//! `PROCESSING` then `ACTIVE`, get, list, delete) and `models` for key checks.
//!
//! Over 500 lines because it checks requests field by field as Gemini does; a fake that
//! accepts less than the real API would hide bugs.

use std::sync::{
    atomic::{AtomicU32, Ordering},
    Arc,
};

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use base64::Engine;
use serde_json::{json, Value};

use crate::{lock, png, Recorded, Reply, Shared};

static COUNTER: AtomicU32 = AtomicU32::new(1);

#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    pub(crate) name: String,
    pub(crate) mime_type: String,
    pub(crate) size: usize,
    pub(crate) polls_left: u32,
    /// An upload started but not finished: the session id.
    pub(crate) session: Option<String>,
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{version}/models", get(models))
        .route("/{version}/models/{model}", post(generate))
        .route("/upload/{version}/files", post(upload))
        .route("/{version}/files", get(list_files))
        .route("/{version}/files/{id}", get(get_file).delete(delete_file))
        .with_state(shared)
}

fn key(headers: &HeaderMap, query: &std::collections::HashMap<String, String>) -> bool {
    headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .or(query.get("key").map(String::as_str))
        .is_some_and(|k| !k.trim().is_empty())
}

fn error(status: StatusCode, state: &str, message: &str, details: Value) -> Response {
    let mut body = json!({"error": {"code": status.as_u16(), "message": message, "status": state}});
    body["error"]["details"] = details;
    (status, Json(body)).into_response()
}

fn version_ok(version: &str) -> bool {
    version == "v1beta" || version == "v1"
}

fn unregistered() -> Response {
    error(StatusCode::FORBIDDEN, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", json!([]))
}

type Q = Query<std::collections::HashMap<String, String>>;

async fn models(Path(version): Path<String>, headers: HeaderMap, Query(q): Q) -> Response {
    if !version_ok(&version) {
        return StatusCode::NOT_FOUND.into_response();
    }
    if !key(&headers, &q) {
        return unregistered();
    }
    Json(json!({"models": [{"name": "models/gemini-2.5-flash-image", "displayName": "Gemini 2.5 Flash Image"}]})).into_response()
}

/// A field in either spelling.
fn field<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel).or_else(|| v.get(snake))
}

fn file_view(shared: &Shared, version: &str, f: &StoredFile) -> Value {
    let id = f.name.trim_start_matches("files/");
    json!({
        "name": f.name,
        "displayName": id,
        "mimeType": f.mime_type,
        "sizeBytes": f.size.to_string(),
        "createTime": "2026-11-22T10:00:00.000000Z",
        "updateTime": "2026-11-22T10:00:00.000000Z",
        "expirationTime": "2026-11-24T10:00:00.000000Z",
        "sha256Hash": "ZmFrZQ==",
        "uri": format!("{}/{version}/{}", shared.base(), f.name),
        "state": if f.polls_left > 0 { "PROCESSING" } else { "ACTIVE" },
        "source": "UPLOADED",
    })
}

// Long because it follows the Files API's resumable protocol step by step
// (shared/reference), checking each header as Google does.
async fn upload(
    State(shared): State<Arc<Shared>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    Query(q): Q,
    body: Bytes,
) -> Response {
    if !version_ok(&version) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let authorized = key(&headers, &q);
    let command = headers
        .get("x-goog-upload-command")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    shared.record(Recorded {
        method: "POST".into(),
        path: format!("/upload/{version}/files"),
        body: json!({"command": command, "bytes": body.len()}),
        authorized,
    });
    // The session URL itself is the credential of the upload; starting one needs the key.
    if command == "start" && !authorized {
        return unregistered();
    }
    if command == "start" {
        let protocol = headers
            .get("x-goog-upload-protocol")
            .and_then(|v| v.to_str().ok());
        let length = headers
            .get("x-goog-upload-header-content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mime = headers
            .get("x-goog-upload-header-content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let (Some("resumable"), Some(size)) = (protocol, length) else {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                "A resumable upload needs X-Goog-Upload-Protocol and the content length.",
                json!([]),
            );
        };
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let session = format!("session-{n}");
        lock(&shared.files).push(StoredFile {
            name: format!("files/fake-{n}"),
            mime_type: mime,
            size,
            polls_left: *lock(&shared.processing_polls),
            session: Some(session.clone()),
        });
        let mut resp = StatusCode::OK.into_response();
        let url = format!(
            "{}/upload/{version}/files?upload_id={session}&upload_protocol=resumable",
            shared.base()
        );
        resp.headers_mut()
            .insert("x-goog-upload-url", url.parse().expect("a header value"));
        resp.headers_mut().insert(
            "x-goog-upload-status",
            "active".parse().expect("a header value"),
        );
        return resp;
    }
    if command.contains("upload") && command.contains("finalize") {
        let Some(session) = q.get("upload_id") else {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                "No upload session.",
                json!([]),
            );
        };
        let mut files = lock(&shared.files);
        let Some(file) = files
            .iter_mut()
            .find(|f| f.session.as_deref() == Some(session.as_str()))
        else {
            return error(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "No such upload session.",
                json!([]),
            );
        };
        if body.len() != file.size {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                "The upload's size differs from the announced one.",
                json!([]),
            );
        }
        file.session = None;
        let view = file_view(&shared, &version, file);
        drop(files);
        let mut resp = Json(json!({"file": view})).into_response();
        resp.headers_mut().insert(
            "x-goog-upload-status",
            "final".parse().expect("a header value"),
        );
        return resp;
    }
    error(
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        "Unknown X-Goog-Upload-Command.",
        json!([]),
    )
}

async fn get_file(
    State(shared): State<Arc<Shared>>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Q,
) -> Response {
    let authorized = key(&headers, &q);
    shared.record(Recorded {
        method: "GET".into(),
        path: format!("/{version}/files/{id}"),
        body: Value::Null,
        authorized,
    });
    if !authorized {
        return unregistered();
    }
    let name = format!("files/{id}");
    let mut files = lock(&shared.files);
    match files
        .iter_mut()
        .find(|f| f.name == name && f.session.is_none())
    {
        Some(f) => {
            let view = file_view(&shared, &version, f);
            f.polls_left = f.polls_left.saturating_sub(1);
            Json(view).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "File not found.",
            json!([]),
        ),
    }
}

async fn list_files(
    State(shared): State<Arc<Shared>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    Query(q): Q,
) -> Response {
    if !key(&headers, &q) {
        return unregistered();
    }
    let files: Vec<Value> = lock(&shared.files)
        .iter()
        .filter(|f| f.session.is_none())
        .map(|f| file_view(&shared, &version, f))
        .collect();
    Json(json!({"files": files})).into_response()
}

async fn delete_file(
    State(shared): State<Arc<Shared>>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Q,
) -> Response {
    let authorized = key(&headers, &q);
    shared.record(Recorded {
        method: "DELETE".into(),
        path: format!("/{version}/files/{id}"),
        body: Value::Null,
        authorized,
    });
    if !authorized {
        return unregistered();
    }
    {
        let mut failures = lock(&shared.delete_failures);
        if *failures > 0 {
            *failures -= 1;
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "The service is currently unavailable.",
                json!([]),
            );
        }
    }
    let name = format!("files/{id}");
    let mut files = lock(&shared.files);
    let before = files.len();
    files.retain(|f| f.name != name);
    if files.len() == before {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "File not found.",
            json!([]),
        );
    }
    lock(&shared.deleted).push(name);
    Json(json!({})).into_response()
}

/// Checks the parts of a request: text, inline data, or references to ACTIVE files.
fn check_parts(shared: &Shared, body: &Value) -> Result<(), String> {
    let contents = body
        .get("contents")
        .and_then(Value::as_array)
        .ok_or("contents is required")?;
    let mut texts = 0;
    for content in contents {
        for part in content
            .get("parts")
            .and_then(Value::as_array)
            .ok_or("parts is required")?
        {
            if part.get("text").and_then(Value::as_str).is_some() {
                texts += 1;
            } else if let Some(inline) = field(part, "inlineData", "inline_data") {
                let mime = field(inline, "mimeType", "mime_type")
                    .and_then(Value::as_str)
                    .ok_or("inline data needs a mime type")?;
                let data = inline
                    .get("data")
                    .and_then(Value::as_str)
                    .ok_or("inline data needs data")?;
                if !mime.starts_with("image/") {
                    return Err(format!("unsupported mime type {mime}"));
                }
                // The official SDK sends URL-safe base64; the documentation shows the standard one.
                let standard = base64::engine::general_purpose::STANDARD.decode(data);
                let url_safe = base64::engine::general_purpose::URL_SAFE.decode(data);
                if standard.is_err() && url_safe.is_err() {
                    return Err("inline data is not base64".into());
                }
            } else if let Some(file) = field(part, "fileData", "file_data") {
                let uri = field(file, "fileUri", "file_uri")
                    .and_then(Value::as_str)
                    .ok_or("file data needs a uri")?;
                let name = uri
                    .rsplit_once("/files/")
                    .map(|(_, id)| format!("files/{id}"))
                    .ok_or("not a file uri")?;
                let files = lock(&shared.files);
                let f = files
                    .iter()
                    .find(|f| f.name == name)
                    .ok_or_else(|| format!("File {name} does not exist"))?;
                if f.polls_left > 0 || f.session.is_some() {
                    return Err(format!("File {name} is not in an ACTIVE state"));
                }
            } else {
                return Err("a part needs text, inline data or file data".into());
            }
        }
    }
    if texts == 0 {
        return Err("the request has no text".into());
    }
    Ok(())
}

// Long because it checks the request as Gemini does, field by field (shared/reference),
// before answering like it.
async fn generate(
    State(shared): State<Arc<Shared>>,
    Path((version, model)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Q,
    body: Bytes,
) -> Response {
    if !version_ok(&version) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some((model, "generateContent")) = model.split_once(':') else {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Unknown method.",
            json!([]),
        );
    };
    let authorized = key(&headers, &q);
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared.record(Recorded {
        method: "POST".into(),
        path: format!("/{version}/models/{model}:generateContent"),
        body: json.clone(),
        authorized,
    });
    if !authorized {
        return unregistered();
    }
    if let Err(problem) = check_parts(&shared, &json) {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            &problem,
            json!([]),
        );
    }
    let reply = match shared.next_reply() {
        Reply::Slow(wait) => {
            tokio::time::sleep(wait).await;
            Reply::Ok
        }
        other => other,
    };
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let usage =
        json!({"promptTokenCount": 10, "candidatesTokenCount": 1290, "totalTokenCount": 1300});
    let answer = |parts: Value, finish: &str| {
        Json(json!({
            "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}],
            "usageMetadata": usage,
            "modelVersion": model,
            "responseId": format!("fake-response-{n}"),
        }))
        .into_response()
    };
    let image = || base64::engine::general_purpose::STANDARD.encode(png(n));
    let quota = |quota_id: &str, delay: Option<String>| {
        let mut details = vec![
            json!({"@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": quota_id}]}),
        ];
        if let Some(d) = delay {
            details.push(
                json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": d}),
            );
        }
        error(
            StatusCode::TOO_MANY_REQUESTS,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.",
            Value::Array(details),
        )
    };
    match reply {
        Reply::Ok | Reply::Slow(_) | Reply::Url | Reply::UrlNotFound => answer(
            json!([{"text": "Here is your image."}, {"inlineData": {"mimeType": "image/png", "data": image()}}]),
            "STOP",
        ),
        Reply::TruncatedBase64 => {
            let full = image();
            answer(
                json!([{"inlineData": {"mimeType": "image/png", "data": &full[..full.len() / 2 + 1]}}]),
                "STOP",
            )
        }
        Reply::MalformedJson => (StatusCode::OK, "{\"candidates\": [").into_response(),
        Reply::TextOnly => answer(
            json!([{"text": "I can only describe this image in words."}]),
            "STOP",
        ),
        Reply::Safety => answer(json!([]), "IMAGE_SAFETY"),
        Reply::PromptBlocked => {
            Json(json!({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": usage}))
                .into_response()
        }
        Reply::RateLimited {
            retry_after_ms,
            retry_after_s,
        } => {
            let secs = retry_after_s
                .map(|s| s as f64)
                .or(retry_after_ms.map(|ms| ms as f64 / 1000.0))
                .unwrap_or(1.0);
            quota(
                "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                Some(format!("{secs}s")),
            )
        }
        Reply::RateLimitedBare => error(
            StatusCode::TOO_MANY_REQUESTS,
            "RESOURCE_EXHAUSTED",
            "Resource has been exhausted (e.g. check quota).",
            json!([]),
        ),
        Reply::QuotaExhausted => quota(
            "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
            Some("47.47s".into()),
        ),
        Reply::InvalidKey => error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"}}]),
        ),
        Reply::BadRequest => error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "Unsupported aspect ratio.",
            json!([]),
        ),
        Reply::ServerError(status) => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let state = if status == 503 {
                "UNAVAILABLE"
            } else {
                "INTERNAL"
            };
            error(
                code,
                state,
                "The model is overloaded. Please try again later.",
                json!([]),
            )
        }
    }
}
