//! Google Gemini image generation (shared/reference/providers.md): `generateContent` with
//! the prompt and the reference images, inline when small and through the Files API
//! (resumable upload, wait for `ACTIVE`) when not. Every uploaded file is reported to the
//! caller's [`FileLedger`] before it is used, so that it is deleted when the job ends.

use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use model::ProviderId;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use url::Url;

use super::{
    quoted, read_body, retry_after_header, Call, Failure, FileLedger, Output, Produced, Provider,
    ProviderError, Reference,
};

/// How long an uploaded file may stay `PROCESSING`.
const FILE_READY_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Gemini {
    http: reqwest::Client,
    /// The base URL with the API version, e.g. `https://generativelanguage.googleapis.com`
    /// and `v1beta`.
    base: Url,
    version: String,
    /// References larger than this go through the Files API.
    inline_max_bytes: usize,
}

impl Gemini {
    pub fn new(http: reqwest::Client, base: Url, version: String, inline_max_bytes: usize) -> Self {
        Self {
            http,
            base,
            version,
            inline_max_bytes,
        }
    }

    fn root(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    fn api(&self, path: &str) -> String {
        format!("{}/{}/{path}", self.root(), self.version)
    }

    /// The `generateContent` body.
    pub fn request_body(call: &Call, parts_after_text: Vec<Value>) -> Value {
        let mut parts = vec![json!({"text": call.prompt})];
        parts.extend(parts_after_text);
        json!({
            "contents": [{"role": "user", "parts": parts}],
            "generationConfig": {
                "responseModalities": ["TEXT", "IMAGE"],
                "imageConfig": {"aspectRatio": call.size},
            },
        })
    }

    async fn reference_part(
        &self,
        index: usize,
        reference: &Reference,
        key: &SecretString,
        files: &impl FileLedger,
    ) -> Result<Value, ProviderError> {
        if reference.data.len() <= self.inline_max_bytes {
            return Ok(json!({"inline_data": {
                "mime_type": reference.mime_type,
                "data": base64::engine::general_purpose::STANDARD.encode(&reference.data),
            }}));
        }
        let file = self.upload(index, reference, key, files).await?;
        Ok(json!({"file_data": {"mime_type": reference.mime_type, "file_uri": file}}))
    }

    /// Uploads a reference through the resumable protocol and waits until it is `ACTIVE`;
    /// answers its `uri`.
    // Long because the Files API's resumable upload is two requests, each with its own
    // errors to classify (shared/reference).
    async fn upload(
        &self,
        index: usize,
        reference: &Reference,
        key: &SecretString,
        files: &impl FileLedger,
    ) -> Result<String, ProviderError> {
        let start = self
            .http
            .post(format!("{}/upload/{}/files", self.root(), self.version))
            .header("x-goog-api-key", key.expose_secret())
            .header("X-Goog-Upload-Protocol", "resumable")
            .header("X-Goog-Upload-Command", "start")
            .header("X-Goog-Upload-Header-Content-Length", reference.data.len())
            .header("X-Goog-Upload-Header-Content-Type", &reference.mime_type)
            .json(&json!({"file": {"display_name": format!("avatar-studio-reference-{}", index + 1)}}))
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(ProviderId::Gemini, &e))?;
        let status = start.status();
        let session = start
            .headers()
            .get("x-goog-upload-url")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let headers = start.headers().clone();
        let body = read_body(ProviderId::Gemini, start).await?;
        if !status.is_success() {
            return Err(explain(status, &body)
                .retry_after(retry_after_header(&headers))
                .scrubbed(key));
        }
        let session = session.ok_or_else(|| {
            ProviderError::new(
                Failure::Unavailable,
                "Gemini did not open an upload session.",
            )
        })?;
        // The key goes only to the configured host.
        let same_origin = Url::parse(&session)
            .map(|u| u.origin() == self.base.origin())
            .unwrap_or(false);
        if !same_origin {
            return Err(ProviderError::new(
                Failure::Unavailable,
                "Gemini's upload session is on another host; refusing to send the key there.",
            ));
        }
        let upload = self
            .http
            .post(&session)
            .header("x-goog-api-key", key.expose_secret())
            .header("X-Goog-Upload-Offset", "0")
            .header("X-Goog-Upload-Command", "upload, finalize")
            .header(reqwest::header::CONTENT_TYPE, &reference.mime_type)
            .body(reference.data.clone())
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(ProviderId::Gemini, &e))?;
        let status = upload.status();
        let body = read_body(ProviderId::Gemini, upload).await?;
        if !status.is_success() {
            return Err(explain(status, &body).scrubbed(key));
        }
        let json: Value = serde_json::from_slice(&body).map_err(|_| malformed())?;
        let mut file = json.get("file").cloned().ok_or_else(malformed)?;
        let name = file
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(malformed)?
            .to_owned();
        files.uploaded(&name).await;
        let deadline = tokio::time::Instant::now() + FILE_READY_TIMEOUT;
        loop {
            match file.get("state").and_then(Value::as_str) {
                Some("ACTIVE") | None => break,
                Some("FAILED") => {
                    return Err(ProviderError::new(
                        Failure::BadRequest,
                        format!(
                            "Gemini could not process a reference image.{}",
                            quoted(file.pointer("/error/message").and_then(Value::as_str))
                        ),
                    ))
                }
                Some(_) if tokio::time::Instant::now() >= deadline => {
                    return Err(ProviderError::new(
                        Failure::Timeout,
                        "Gemini took too long to process a reference image.",
                    ))
                }
                Some(_) => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    let got = self
                        .http
                        .get(self.api(&name))
                        .header("x-goog-api-key", key.expose_secret())
                        .send()
                        .await
                        .map_err(|e| ProviderError::from_reqwest(ProviderId::Gemini, &e))?;
                    let status = got.status();
                    let body = read_body(ProviderId::Gemini, got).await?;
                    if !status.is_success() {
                        return Err(explain(status, &body).scrubbed(key));
                    }
                    file = serde_json::from_slice(&body).map_err(|_| malformed())?;
                }
            }
        }
        file.get("uri")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(malformed)
    }
}

fn malformed() -> ProviderError {
    ProviderError::new(
        Failure::Unavailable,
        "Gemini sent an answer we could not read.",
    )
}

/// A field in either spelling (responses are lowerCamelCase; be lenient anyway).
fn field<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel).or_else(|| v.get(snake))
}

impl Provider for Gemini {
    async fn generate(
        &self,
        call: &Call,
        files: &impl FileLedger,
    ) -> Result<Output, ProviderError> {
        let key = call.key.as_ref().ok_or_else(|| {
            ProviderError::new(Failure::InvalidKey, "A Gemini API key is needed.")
        })?;
        let mut parts = Vec::with_capacity(call.references.len());
        for (i, r) in call.references.iter().enumerate() {
            parts.push(self.reference_part(i, r, key, files).await?);
        }
        let response = self
            .http
            .post(self.api(&format!("models/{}:generateContent", call.model)))
            .header("x-goog-api-key", key.expose_secret())
            .json(&Self::request_body(call, parts))
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(ProviderId::Gemini, &e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_body(ProviderId::Gemini, response).await?;
        if !status.is_success() {
            let err = explain(status, &body);
            let err = if err.retry_after.is_none() {
                err.retry_after(retry_after_header(&headers))
            } else {
                err
            };
            return Err(err.scrubbed(key));
        }
        let json: Value = serde_json::from_slice(&body).map_err(|_| malformed())?;
        parse_answer(&json)
    }

    async fn delete_file(&self, name: &str, key: &SecretString) -> Result<(), ProviderError> {
        if !name.starts_with("files/") || name.contains("..") {
            return Err(ProviderError::new(
                Failure::BadRequest,
                "not a Gemini file name",
            ));
        }
        let response = self
            .http
            .delete(self.api(name))
            .header("x-goog-api-key", key.expose_secret())
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(ProviderId::Gemini, &e))?;
        let status = response.status();
        if status.is_success() || status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        let body = read_body(ProviderId::Gemini, response).await?;
        Err(explain(status, &body).scrubbed(key))
    }
}

/// Reads a `generateContent` answer: the image, or why there is none.
fn parse_answer(json: &Value) -> Result<Output, ProviderError> {
    let usage = field(json, "usageMetadata", "usage_metadata").cloned();
    let request_id = field(json, "responseId", "response_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let Some(candidate) = json.pointer("/candidates/0") else {
        let reason = json
            .pointer("/promptFeedback/blockReason")
            .or_else(|| json.pointer("/prompt_feedback/block_reason"))
            .and_then(Value::as_str);
        return Err(match reason {
            Some(r) => ProviderError::new(
                Failure::Safety,
                format!("Gemini blocked this prompt ({r}). Change the prompt and try again."),
            ),
            None => ProviderError::new(Failure::NoImage, "Gemini answered without an image."),
        });
    };
    let finish = field(candidate, "finishReason", "finish_reason")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let parts = candidate
        .pointer("/content/parts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let text: Vec<&str> = parts
        .iter()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect();
    let image = parts
        .iter()
        .find_map(|p| field(p, "inlineData", "inline_data"))
        .and_then(|d| d.get("data").and_then(Value::as_str));
    if let Some(data) = image {
        // Standard base64, or the URL-safe alphabet that Google's libraries also use.
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(data.trim()))
            .map_err(|_| {
                ProviderError::new(Failure::Unavailable, "Gemini sent incomplete image data.")
            })?;
        return Ok(Output {
            image: Produced::Bytes(Bytes::from(bytes)),
            revised_prompt: (!text.is_empty()).then(|| text.join("\n")),
            usage,
            request_id,
        });
    }
    if matches!(
        finish,
        "SAFETY" | "PROHIBITED_CONTENT" | "IMAGE_SAFETY" | "BLOCKLIST" | "SPII"
    ) {
        return Err(ProviderError::new(
            Failure::Safety,
            format!("Gemini's safety system refused this request ({finish}). Change the prompt or the reference images and try again."),
        ));
    }
    Err(ProviderError::new(
        Failure::NoImage,
        format!(
            "Gemini answered with text only, no image.{}",
            quoted(Some(&text.join(" ")))
        ),
    ))
}

/// Parses a protobuf duration like `47s` or `47.47s`.
fn parse_delay(raw: &str) -> Option<Duration> {
    let secs: f64 = raw.trim().strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// What an error answer means (shared/reference/providers.md, "Errors").
fn explain(status: StatusCode, body: &[u8]) -> ProviderError {
    let json: Value = serde_json::from_slice(body).unwrap_or_default();
    let said = quoted(json.pointer("/error/message").and_then(Value::as_str));
    let details = json
        .pointer("/error/details")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let of_type = |suffix: &str| {
        details.iter().find(|d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with(suffix))
        })
    };
    let reason = of_type("google.rpc.ErrorInfo")
        .and_then(|d| d.get("reason"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    match status.as_u16() {
        400 if reason == "API_KEY_INVALID" => ProviderError::new(
            Failure::InvalidKey,
            format!("Gemini did not accept your API key. Check it in Settings.{said}"),
        ),
        401 | 403 => ProviderError::new(
            Failure::InvalidKey,
            format!("Gemini refused your API key. Check it in Settings.{said}"),
        ),
        429 => {
            let per_day = of_type("google.rpc.QuotaFailure")
                .and_then(|d| d.get("violations"))
                .and_then(Value::as_array)
                .is_some_and(|v| {
                    v.iter().any(|v| {
                        v.get("quotaId")
                            .and_then(Value::as_str)
                            .is_some_and(|q| q.contains("PerDay"))
                    })
                });
            if per_day {
                return ProviderError::new(
                    Failure::QuotaExhausted,
                    format!("Your Gemini key has used its quota for today. Try again tomorrow, or use a key with a higher quota.{said}"),
                );
            }
            let wait = of_type("google.rpc.RetryInfo")
                .and_then(|d| d.get("retryDelay"))
                .and_then(Value::as_str)
                .and_then(parse_delay);
            ProviderError::new(
                Failure::RateLimited,
                format!("Gemini is limiting requests right now.{said}"),
            )
            .retry_after(wait)
        }
        s if s >= 500 || s == 408 => ProviderError::new(
            Failure::Unavailable,
            format!("Gemini had a problem answering (HTTP {s}).{said}"),
        ),
        s => ProviderError::new(
            Failure::BadRequest,
            format!("Gemini refused the request (HTTP {s}).{said}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, body: &Value) -> ProviderError {
        explain(
            StatusCode::from_u16(status).unwrap(),
            &serde_json::to_vec(body).unwrap(),
        )
    }

    #[test]
    fn quota_errors_tell_a_daily_limit_from_a_minute_one() {
        let daily = error(
            429,
            &json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "47s"}]}}),
        );
        assert_eq!(daily.failure, Failure::QuotaExhausted);
        let minute = error(
            429,
            &json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "47.47s"}]}}),
        );
        assert_eq!(minute.failure, Failure::RateLimited);
        assert_eq!(minute.retry_after, Some(Duration::from_secs_f64(47.47)));
        let bare = error(
            429,
            &json!({"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}),
        );
        assert_eq!(
            (bare.failure, bare.retry_after),
            (Failure::RateLimited, None)
        );
    }

    #[test]
    fn key_and_server_errors_are_classified() {
        let invalid = error(
            400,
            &json!({"error": {"code": 400, "message": "API key not valid", "status": "INVALID_ARGUMENT", "details": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}),
        );
        assert_eq!(invalid.failure, Failure::InvalidKey);
        let bad = error(
            400,
            &json!({"error": {"code": 400, "message": "bad aspect ratio", "status": "INVALID_ARGUMENT"}}),
        );
        assert_eq!(bad.failure, Failure::BadRequest);
        assert!(bad.message.contains("bad aspect ratio"));
        for s in [500, 503] {
            assert_eq!(error(s, &json!({})).failure, Failure::Unavailable);
        }
    }

    #[test]
    fn answers_without_an_image_say_why() {
        let blocked =
            parse_answer(&json!({"promptFeedback": {"blockReason": "SAFETY"}})).unwrap_err();
        assert_eq!(blocked.failure, Failure::Safety);
        let refused = parse_answer(
            &json!({"candidates": [{"content": {"parts": []}, "finishReason": "IMAGE_SAFETY"}]}),
        )
        .unwrap_err();
        assert_eq!(refused.failure, Failure::Safety);
        let text = parse_answer(&json!({"candidates": [{"content": {"parts": [{"text": "I cannot draw that"}]}, "finishReason": "STOP"}]})).unwrap_err();
        assert_eq!(text.failure, Failure::NoImage);
        assert!(text.message.contains("I cannot draw that"));
        let truncated = parse_answer(&json!({"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo*"}}]}}]})).unwrap_err();
        assert_eq!(truncated.failure, Failure::Unavailable);
        let ok = parse_answer(&json!({"candidates": [{"content": {"parts": [{"text": "Here"}, {"inlineData": {"mimeType": "image/png", "data": "aGVsbG8="}}]}, "finishReason": "STOP"}],
            "usageMetadata": {"totalTokenCount": 1300}, "responseId": "r1"})).unwrap();
        assert!(matches!(ok.image, Produced::Bytes(ref b) if &b[..] == b"hello"));
        assert_eq!(ok.revised_prompt.as_deref(), Some("Here"));
        assert_eq!(ok.request_id.as_deref(), Some("r1"));
    }
}
