//! The image generators behind one interface: the built-in offline generator, OpenAI and
//! Google Gemini. The catalogue says what each model accepts, so a request is checked
//! before it is queued; a provider call answers with an image (bytes or a URL to fetch)
//! or a [`ProviderError`] that says whether trying again can help.

pub mod builtin;
pub mod gemini;
pub mod openai;

use std::{future::Future, time::Duration};

use bytes::Bytes;
use model::{ModelInfo, ProviderId};
use secrecy::SecretString;

use crate::{imaging::ImageWorkers, Config};

/// What one call asks for: one image.
#[derive(Debug, Clone)]
pub struct Call {
    pub model: String,
    pub prompt: String,
    pub size: String,
    pub quality: Option<String>,
    pub seed: i64,
    pub references: Vec<Reference>,
    /// The character the request names, from its sheet (the prompt already holds the
    /// appearance; the built-in generator draws the character's own features from this).
    pub identity: Option<Identity>,
    /// An edit of an image (the first reference): the prompt is the instruction.
    pub edit_of: Option<EditOf>,
    /// `None` only for the built-in provider.
    pub key: Option<SecretString>,
    /// An id for the provider's logs (`user` for OpenAI): the job id, never personal data.
    pub job_id: String,
}

/// Who a generation is of: a character, as its sheet describes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub character_id: String,
    pub appearance: Option<String>,
    /// What the person asked for, without the appearance.
    pub instruction: String,
    /// The references (among the call's) that show the character rather than guide the
    /// picture.
    #[serde(default)]
    pub reference_image_ids: Vec<String>,
}

/// The image an edit starts from: providers with an editing path get it as the first
/// reference; the built-in generator redraws its scene (prompt and seed) with the
/// instruction added.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EditOf {
    pub image_id: String,
    /// The source's own prompt, when it was generated.
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(default)]
    pub seed: Option<i64>,
}

/// A reference image, read from the library.
#[derive(Debug, Clone)]
pub struct Reference {
    pub image_id: String,
    pub mime_type: String,
    pub data: Bytes,
}

/// Where the provider put the image.
#[derive(Debug, Clone)]
pub enum Produced {
    Bytes(Bytes),
    /// To download (the `downloading` stage); such URLs expire.
    Url(String),
}

/// A provider's answer.
#[derive(Debug, Clone)]
pub struct Output {
    pub image: Produced,
    pub revised_prompt: Option<String>,
    pub usage: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

/// Why a call failed, in terms of what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 429 rate limits: wait (`retry_after` when the provider said how long) and retry.
    RateLimited,
    /// 5xx, a malformed or truncated answer: retry with backoff.
    Unavailable,
    /// The call took longer than the per-call timeout.
    Timeout,
    /// The connection failed.
    Network,
    /// The key was refused: fix it in Settings.
    InvalidKey,
    /// The provider's safety system refused the prompt or the image.
    Safety,
    /// A quota that will not clear soon (per day, or billing).
    QuotaExhausted,
    /// The request itself is wrong.
    BadRequest,
    /// The model answered without an image.
    NoImage,
    /// The month's spending cap would be passed: not sent to the provider.
    SpendingCap,
}

impl Failure {
    /// Whether another attempt may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::RateLimited | Self::Unavailable | Self::Timeout | Self::Network
        )
    }

    /// The stable code stored with the image and shown in the API.
    pub fn code(self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "provider_unavailable",
            Self::Timeout => "provider_timeout",
            Self::Network => "provider_unreachable",
            Self::InvalidKey => "invalid_key",
            Self::Safety => "safety_refusal",
            Self::QuotaExhausted => "quota_exhausted",
            Self::BadRequest => "bad_request",
            Self::SpendingCap => "spending_cap_reached",
            Self::NoImage => "no_image",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub failure: Failure,
    /// A sentence a person can act on (never the key, never a whole response body).
    pub message: String,
    /// How long the provider asked us to wait.
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    pub fn new(failure: Failure, message: impl Into<String>) -> Self {
        Self {
            failure,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, wait: Option<Duration>) -> Self {
        self.retry_after = wait;
        self
    }

    /// The error with `key` removed from its message.
    pub fn scrubbed(mut self, key: &SecretString) -> Self {
        self.message = scrub_key(&self.message, secrecy::ExposeSecret::expose_secret(key));
        self
    }

    /// A transport error of reqwest, classified.
    pub fn from_reqwest(provider: ProviderId, e: &reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::new(
                Failure::Timeout,
                format!("{} did not answer in time.", provider.label()),
            )
        } else if e.is_decode() || e.is_body() {
            Self::new(
                Failure::Unavailable,
                format!("{} sent an incomplete answer.", provider.label()),
            )
        } else {
            Self::new(
                Failure::Network,
                format!("{} could not be reached.", provider.label()),
            )
        }
    }
}

/// The largest answer read: a 4096² PNG in base64 is well under this.
const MAX_RESPONSE_BYTES: usize = 96 * 1024 * 1024;

/// Reads an answer up to [`MAX_RESPONSE_BYTES`].
pub(crate) async fn read_body(
    provider: ProviderId,
    mut response: reqwest::Response,
) -> Result<Vec<u8>, ProviderError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(ProviderError::new(
                        Failure::Unavailable,
                        "The provider's answer was larger than any image we accept.",
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(ProviderError::from_reqwest(provider, &e)),
        }
    }
}

/// The provider's own words, shortened, for quoting.
pub(crate) fn quoted(message: Option<&str>) -> String {
    match message {
        Some(m) if !m.trim().is_empty() => {
            let short: String = m.trim().chars().take(240).collect();
            format!(" It said: \"{short}\"")
        }
        _ => String::new(),
    }
}

/// `message` with `key` replaced by `***`, should a provider echo the key.
pub fn scrub_key(message: &str, key: &str) -> String {
    if key.is_empty() {
        message.to_owned()
    } else {
        message.replace(key, "***")
    }
}

/// Records the files a call uploads to a provider, before they are used, so that they are
/// deleted when the job ends even after a crash.
pub trait FileLedger: Send + Sync {
    fn uploaded(&self, name: &str) -> impl Future<Output = ()> + Send;
}

/// One provider.
pub trait Provider: Send + Sync {
    /// Makes one image.
    fn generate(
        &self,
        call: &Call,
        files: &impl FileLedger,
    ) -> impl Future<Output = Result<Output, ProviderError>> + Send;

    /// Deletes a file an earlier call uploaded (a file that is already gone counts as
    /// deleted).
    fn delete_file(
        &self,
        name: &str,
        key: &SecretString,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;
}

/// Every provider, configured.
#[derive(Debug, Clone)]
pub struct Providers {
    pub builtin: builtin::Builtin,
    pub openai: openai::OpenAi,
    pub gemini: gemini::Gemini,
}

impl Providers {
    pub fn new(config: &Config, http: reqwest::Client, workers: ImageWorkers) -> Self {
        Self {
            builtin: builtin::Builtin::new(config.builtin_delay, workers),
            openai: openai::OpenAi::new(http.clone(), config.openai_base_url.clone()),
            gemini: gemini::Gemini::new(
                http,
                config.gemini_base_url.clone(),
                config.gemini_api_version.clone(),
                config.gemini_inline_max_bytes,
            ),
        }
    }

    pub async fn generate(
        &self,
        provider: ProviderId,
        call: &Call,
        files: &impl FileLedger,
    ) -> Result<Output, ProviderError> {
        match provider {
            ProviderId::Builtin => self.builtin.generate(call, files).await,
            ProviderId::Openai => self.openai.generate(call, files).await,
            ProviderId::Gemini => self.gemini.generate(call, files).await,
        }
    }

    pub async fn delete_file(
        &self,
        provider: ProviderId,
        name: &str,
        key: &SecretString,
    ) -> Result<(), ProviderError> {
        match provider {
            ProviderId::Builtin => self.builtin.delete_file(name, key).await,
            ProviderId::Openai => self.openai.delete_file(name, key).await,
            ProviderId::Gemini => self.gemini.delete_file(name, key).await,
        }
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The models of a provider; the first is its default.
pub fn models(provider: ProviderId) -> Vec<ModelInfo> {
    match provider {
        ProviderId::Builtin => vec![ModelInfo {
            id: "portrait-1".into(),
            label: "Portrait (offline)".into(),
            sizes: strings(&["256x256", "512x512", "1024x1024"]),
            default_size: "1024x1024".into(),
            qualities: Vec::new(),
            default_quality: None,
            max_n: 4,
            max_reference_images: 4,
            max_prompt_chars: 4000,
        }],
        ProviderId::Openai => vec![
            ModelInfo {
                id: "dall-e-3".into(),
                label: "DALL·E 3".into(),
                sizes: strings(&["1024x1024", "1792x1024", "1024x1792"]),
                default_size: "1024x1024".into(),
                qualities: strings(&["standard", "hd"]),
                default_quality: Some("standard".into()),
                max_n: 1,
                max_reference_images: 0,
                max_prompt_chars: 4000,
            },
            ModelInfo {
                id: "gpt-image-1".into(),
                label: "GPT Image 1".into(),
                sizes: strings(&["1024x1024", "1536x1024", "1024x1536", "auto"]),
                default_size: "1024x1024".into(),
                qualities: strings(&["low", "medium", "high", "auto"]),
                default_quality: Some("auto".into()),
                max_n: 4,
                max_reference_images: 16,
                max_prompt_chars: 32000,
            },
            ModelInfo {
                id: "gpt-image-1-mini".into(),
                label: "GPT Image 1 mini".into(),
                sizes: strings(&["1024x1024", "1536x1024", "1024x1536", "auto"]),
                default_size: "1024x1024".into(),
                qualities: strings(&["low", "medium", "high", "auto"]),
                default_quality: Some("auto".into()),
                max_n: 4,
                max_reference_images: 16,
                max_prompt_chars: 32000,
            },
        ],
        ProviderId::Gemini => vec![ModelInfo {
            id: "gemini-2.5-flash-image".into(),
            label: "Gemini 2.5 Flash Image".into(),
            sizes: strings(&[
                "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
            ]),
            default_size: "1:1".into(),
            qualities: Vec::new(),
            default_quality: None,
            max_n: 4,
            max_reference_images: 3,
            max_prompt_chars: 32000,
        }],
    }
}

/// A model of the catalogue, by provider and id (the provider's default when `None`).
pub fn find_model(provider: ProviderId, model: Option<&str>) -> Option<ModelInfo> {
    let all = models(provider);
    match model {
        None => all.into_iter().next(),
        Some(id) => all.into_iter().find(|m| m.id == id),
    }
}

/// The key a provider needs, which providers take one.
pub fn key_provider(provider: ProviderId) -> Option<model::KeyProvider> {
    match provider {
        ProviderId::Builtin => None,
        ProviderId::Openai => Some(model::KeyProvider::Openai),
        ProviderId::Gemini => Some(model::KeyProvider::Gemini),
    }
}

/// Reads a `Retry-After`-style wait: `retry-after-ms` (milliseconds) first, then
/// `retry-after` (seconds, or an HTTP date).
pub fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    let raw = text("retry-after")?.trim();
    if let Ok(secs) = raw.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_has_a_default_model_that_takes_its_defaults() {
        for provider in ProviderId::ALL {
            let model = find_model(*provider, None).expect("a default model");
            assert!(model.sizes.contains(&model.default_size), "{}", model.id);
            if let Some(q) = &model.default_quality {
                assert!(model.qualities.contains(q), "{}", model.id);
            }
            assert!((1..=4).contains(&model.max_n));
        }
        assert_eq!(find_model(ProviderId::Openai, None).unwrap().id, "dall-e-3");
        assert!(find_model(ProviderId::Openai, Some("dall-e-2")).is_none());
    }

    #[test]
    fn retry_hints_are_read_in_order_of_precision() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after_header(&h), Some(Duration::from_secs(7)));
        h.insert("retry-after-ms", "1500".parse().unwrap());
        assert_eq!(retry_after_header(&h), Some(Duration::from_millis(1500)));
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after_header(&h), None);
        let later = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        h.insert("retry-after", later.parse().unwrap());
        let wait = retry_after_header(&h).unwrap();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30));
    }
}
