//! Fake OpenAI and Gemini servers for the tests (and a fake GitHub for sign-in, `github`). They are real HTTP servers on a loopback
//! port, speak the providers' wire formats (shared/reference/providers.md, copied
//! OpenAPI schema in `reference/`), accept the official Python SDKs, and answer each
//! generation request with the next scripted [`Reply`] (success when none is queued).
//! Every request is recorded, so a test can check what a client sent.

pub mod gemini;
pub mod github;
pub mod openai;

use std::{
    collections::VecDeque,
    io::Cursor,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

/// What the fake answers to the next generation request.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// An image (base64, or a URL for DALL·E when asked for one).
    Ok,
    /// OpenAI: a `url` answer whatever was asked (the image is downloadable there).
    Url,
    /// OpenAI: a `url` answer whatever was asked, pointing at a file that is not there.
    UrlNotFound,
    /// 429 with `retry-after-ms` and/or `retry-after` (OpenAI), or with a `RetryInfo` of
    /// `retry_after` seconds and a per-minute quota (Gemini).
    RateLimited {
        retry_after_ms: Option<u64>,
        retry_after_s: Option<u64>,
    },
    /// 429 without any hint.
    RateLimitedBare,
    /// OpenAI `insufficient_quota`; Gemini a per-day quota.
    QuotaExhausted,
    /// OpenAI 401 `invalid_api_key`; Gemini 400 `API_KEY_INVALID`.
    InvalidKey,
    /// A safety refusal: OpenAI 400 `content_policy_violation`/`moderation_blocked`,
    /// Gemini `finishReason: IMAGE_SAFETY`.
    Safety,
    /// Gemini: no candidates, `promptFeedback.blockReason`.
    PromptBlocked,
    /// Gemini: text and no image.
    TextOnly,
    /// A 400 about the request itself.
    BadRequest,
    /// A server error with this status (500, 502, 503).
    ServerError(u16),
    /// Waits this long, then answers like `Ok`.
    Slow(Duration),
    /// 200 with a body that is not JSON.
    MalformedJson,
    /// 200 with image data cut short.
    TruncatedBase64,
}

/// One request the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The JSON body, or the fields of a multipart form (files as `{"file": name,
    /// "content_type": ..., "bytes": n}`).
    pub body: serde_json::Value,
    /// Whether it carried an API key.
    pub authorized: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Shared {
    script: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    /// Gemini files: name, mime type, bytes, polls left before ACTIVE.
    pub(crate) files: Mutex<Vec<gemini::StoredFile>>,
    pub(crate) deleted: Mutex<Vec<String>>,
    /// How many `GET files/{id}` a new file answers PROCESSING before ACTIVE.
    pub(crate) processing_polls: Mutex<u32>,
    /// How many of the next `DELETE files/{id}` answer 503 (the file stays).
    pub(crate) delete_failures: Mutex<u32>,
    /// Request bodies that broke the OpenAPI schema, with the reasons.
    pub(crate) schema_violations: Mutex<Vec<String>>,
    pub(crate) base: Mutex<String>,
}

impl Shared {
    pub(crate) fn next_reply(&self) -> Reply {
        lock(&self.script).pop_front().unwrap_or(Reply::Ok)
    }

    pub(crate) fn record(&self, r: Recorded) {
        lock(&self.requests).push(r);
    }

    pub(crate) fn base(&self) -> String {
        lock(&self.base).clone()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Serves `router` on a free loopback port: its address, and the task to abort.
pub(crate) async fn listen(router: axum::Router) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("an address");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (addr, task)
}

/// A running fake; stops when dropped.
#[derive(Debug)]
pub struct Fake {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fake {
    async fn serve(router: axum::Router, shared: Arc<Shared>) -> Self {
        let (addr, task) = listen(router).await;
        *lock(&shared.base) = format!("http://{addr}");
        Self { addr, shared, task }
    }

    /// The fake OpenAI; its base URL (for `OPENAI_BASE_URL`) is [`Fake::openai_base`].
    pub async fn openai() -> Self {
        let shared = Arc::new(Shared::default());
        Self::serve(openai::router(shared.clone()), shared).await
    }

    /// The fake Gemini; its base URL (for `GEMINI_BASE_URL`) is [`Fake::base`].
    pub async fn gemini() -> Self {
        let shared = Arc::new(Shared::default());
        Self::serve(gemini::router(shared.clone()), shared).await
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn openai_base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues the answers to the next generation requests, in order.
    pub fn push(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.shared.script).extend(replies);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }

    /// The generation requests so far (not file uploads, polls or deletions).
    pub fn generation_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.contains("/images/") || r.path.contains(":generateContent"))
            .collect()
    }

    /// Gemini files that exist now.
    pub fn live_files(&self) -> Vec<String> {
        lock(&self.shared.files)
            .iter()
            .map(|f| f.name.clone())
            .collect()
    }

    /// Gemini files deleted so far.
    pub fn deleted_files(&self) -> Vec<String> {
        lock(&self.shared.deleted).clone()
    }

    /// Gemini: how many polls a new file stays `PROCESSING`.
    pub fn set_processing_polls(&self, polls: u32) {
        *lock(&self.shared.processing_polls) = polls;
    }

    /// Gemini: the next `failures` file deletions answer 503 UNAVAILABLE and keep the file.
    pub fn fail_deletes(&self, failures: u32) {
        *lock(&self.shared.delete_failures) = failures;
    }

    /// OpenAI: request bodies that the OpenAPI schema refused (each also got a 400).
    pub fn schema_violations(&self) -> Vec<String> {
        lock(&self.shared.schema_violations).clone()
    }
}

/// A small PNG, different for each `n`.
pub fn png(n: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 64, |x, y| {
        image::Rgb([
            (x * 4) as u8,
            (y * 4) as u8,
            (n.wrapping_mul(37) % 256) as u8,
        ])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode a PNG");
    out.into_inner()
}
