//! OpenAI's Images API (shared/reference/providers.md, openai-images.openapi.json):
//! `/images/generations` for a prompt alone, `/images/edits` (multipart, `image[]`) when
//! there are reference images. `OPENAI_BASE_URL` points it at any compatible server.

use base64::Engine;
use bytes::Bytes;
use model::ProviderId;
use reqwest::{multipart, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use url::Url;

use super::{
    quoted, read_body, retry_after_header, Call, Failure, FileLedger, Output, Produced, Provider,
    ProviderError,
};

#[derive(Debug, Clone)]
pub struct OpenAi {
    http: reqwest::Client,
    base: Url,
}

impl OpenAi {
    pub fn new(http: reqwest::Client, base: Url) -> Self {
        Self { http, base }
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}/{path}", self.base.as_str().trim_end_matches('/'))
    }

    /// Whether the model is one of the DALL·E models (which take `response_format` and no
    /// reference images) rather than a GPT image model.
    fn is_dall_e(model: &str) -> bool {
        model.starts_with("dall-e")
    }

    /// The JSON body of `/images/generations` (schema `CreateImageRequest`).
    pub fn generation_body(call: &Call) -> Value {
        let mut body = json!({
            "model": call.model,
            "prompt": call.prompt,
            "n": 1,
            "size": call.size,
            "user": call.job_id,
        });
        if let Some(q) = &call.quality {
            body["quality"] = json!(q);
        }
        if Self::is_dall_e(&call.model) {
            body["response_format"] = json!("b64_json");
        } else {
            body["output_format"] = json!("png");
        }
        body
    }

    /// The multipart body of `/images/edits` (schema `CreateImageEditRequest`).
    fn edit_form(call: &Call) -> Result<multipart::Form, ProviderError> {
        let mut form = multipart::Form::new()
            .text("model", call.model.clone())
            .text("prompt", call.prompt.clone())
            .text("n", "1")
            .text("size", call.size.clone())
            .text("output_format", "png")
            .text("user", call.job_id.clone());
        if let Some(q) = &call.quality {
            form = form.text("quality", q.clone());
        }
        if call.model == "gpt-image-1" {
            // Keeps faces and features of the references.
            form = form.text("input_fidelity", "high");
        }
        for (i, r) in call.references.iter().enumerate() {
            let ext = r.mime_type.rsplit('/').next().unwrap_or("png");
            let part = multipart::Part::stream(reqwest::Body::from(r.data.clone()))
                .file_name(format!("reference-{}.{ext}", i + 1))
                .mime_str(&r.mime_type)
                .map_err(|e| ProviderError::new(Failure::BadRequest, e.to_string()))?;
            form = form.part("image[]", part);
        }
        Ok(form)
    }
}

impl Provider for OpenAi {
    async fn generate(
        &self,
        call: &Call,
        _files: &impl FileLedger,
    ) -> Result<Output, ProviderError> {
        let key = call.key.as_ref().ok_or_else(|| {
            ProviderError::new(Failure::InvalidKey, "An OpenAI API key is needed.")
        })?;
        let request = if call.references.is_empty() {
            self.http
                .post(self.endpoint("images/generations"))
                .json(&Self::generation_body(call))
        } else {
            self.http
                .post(self.endpoint("images/edits"))
                .multipart(Self::edit_form(call)?)
        };
        let response = request
            .bearer_auth(key.expose_secret())
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(ProviderId::Openai, &e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_body(ProviderId::Openai, response).await?;
        if !status.is_success() {
            let err = explain(status, &body).retry_after(retry_after_header(&headers));
            return Err(err.scrubbed(key));
        }
        let json: Value = serde_json::from_slice(&body).map_err(|_| {
            ProviderError::new(
                Failure::Unavailable,
                "OpenAI sent an answer that is not valid JSON.",
            )
        })?;
        let first = json.pointer("/data/0").ok_or_else(|| {
            ProviderError::new(Failure::NoImage, "OpenAI answered without an image.")
        })?;
        let image = if let Some(b64) = first.get("b64_json").and_then(Value::as_str) {
            let data = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| {
                    ProviderError::new(Failure::Unavailable, "OpenAI sent incomplete image data.")
                })?;
            Produced::Bytes(Bytes::from(data))
        } else if let Some(url) = first.get("url").and_then(Value::as_str) {
            Produced::Url(url.to_owned())
        } else {
            return Err(ProviderError::new(
                Failure::NoImage,
                "OpenAI answered without an image.",
            ));
        };
        Ok(Output {
            image,
            revised_prompt: first
                .get("revised_prompt")
                .and_then(Value::as_str)
                .map(str::to_owned),
            usage: json.get("usage").cloned(),
            request_id: headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        })
    }

    async fn delete_file(&self, _name: &str, _key: &SecretString) -> Result<(), ProviderError> {
        // This client uploads no files: references travel in the edit request itself.
        Ok(())
    }
}

/// What an error answer means (shared/reference/providers.md, "Errors").
fn explain(status: StatusCode, body: &[u8]) -> ProviderError {
    let json: Value = serde_json::from_slice(body).unwrap_or_default();
    let code = json
        .pointer("/error/code")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let said = quoted(json.pointer("/error/message").and_then(Value::as_str));
    match status.as_u16() {
        400 if code == "content_policy_violation" || code == "moderation_blocked" => {
            ProviderError::new(
                Failure::Safety,
                format!("OpenAI's safety system refused this request. Change the prompt or the reference images and try again.{said}"),
            )
        }
        401 => ProviderError::new(
            Failure::InvalidKey,
            format!("OpenAI did not accept your API key. Check it in Settings.{said}"),
        ),
        403 => ProviderError::new(
            Failure::InvalidKey,
            format!("OpenAI refused this key access to the model (the organisation may need verifying, or the key is restricted). Check it in Settings.{said}"),
        ),
        429 if code == "insufficient_quota" || code == "billing_hard_limit_reached" => {
            ProviderError::new(
                Failure::QuotaExhausted,
                format!("Your OpenAI account has no quota left. Add credit in OpenAI's billing settings, then try again.{said}"),
            )
        }
        429 => ProviderError::new(
            Failure::RateLimited,
            format!("OpenAI is limiting requests right now.{said}"),
        ),
        408 | 409 => ProviderError::new(
            Failure::Unavailable,
            format!("OpenAI could not finish the request (HTTP {status}).{said}"),
        ),
        s if s >= 500 => ProviderError::new(
            Failure::Unavailable,
            format!("OpenAI had a problem answering (HTTP {s}).{said}"),
        ),
        s => ProviderError::new(
            Failure::BadRequest,
            format!("OpenAI refused the request (HTTP {s}).{said}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_classified_as_the_reference_says() {
        let body = |code: &str| {
            serde_json::to_vec(
                &json!({"error": {"message": "m", "type": "t", "param": null, "code": code}}),
            )
            .unwrap()
        };
        let cases = [
            (400, "content_policy_violation", Failure::Safety),
            (400, "moderation_blocked", Failure::Safety),
            (400, "invalid_size", Failure::BadRequest),
            (401, "invalid_api_key", Failure::InvalidKey),
            (429, "rate_limit_exceeded", Failure::RateLimited),
            (429, "insufficient_quota", Failure::QuotaExhausted),
            (500, "", Failure::Unavailable),
            (503, "", Failure::Unavailable),
        ];
        for (status, code, want) in cases {
            let got = explain(StatusCode::from_u16(status).unwrap(), &body(code));
            assert_eq!(got.failure, want, "{status} {code}");
            assert_eq!(
                got.failure.is_retryable(),
                matches!(want, Failure::RateLimited | Failure::Unavailable)
            );
        }
        // A body that is not JSON still gets a sentence.
        let got = explain(StatusCode::BAD_GATEWAY, b"<html>");
        assert_eq!(got.failure, Failure::Unavailable);
        assert!(got.message.contains("502"));
    }

    #[test]
    fn a_key_echoed_by_the_provider_is_scrubbed() {
        let key = SecretString::from("sk-secret-123");
        let err = ProviderError::new(Failure::InvalidKey, "bad key sk-secret-123 given");
        assert_eq!(err.scrubbed(&key).message, "bad key *** given");
    }
}
