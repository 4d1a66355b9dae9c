//! Media: the stored bytes of an image and its resized variants, who may read them (the
//! owner, or anyone holding a signed link), and the variant cache.
//!
//! A variant is rendered once, even when many requests ask for it at the same moment
//! (single-flight per image and spec), stored under `variants/{image_id}/`, recorded in
//! `image_variants`, and served from there afterwards.
//!
//! Over 500 lines because reading, authorising, rendering and caching a variant are one
//! flow whose steps share the single-flight state; each step is a function of its own.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use bytes::Bytes;
use futures::{stream::BoxStream, StreamExt, TryStreamExt};
use model::VARIANT_LADDER;
use object_store::path::Path;

use super::{auth::Principal, ServiceError};
use crate::{
    db::images::{self, ImageRecord, VariantRecord},
    domain::{FieldError, Id},
    imaging::{self, Fit, ImageFormat, VariantSpec},
    now_ms,
    storage::{self, ObjectKey},
    Backend,
};

/// The query of `/media/{id}`, as received.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct MediaQuery {
    pub w: Option<String>,
    pub h: Option<String>,
    pub fit: Option<String>,
    pub format: Option<String>,
    pub q: Option<String>,
    /// Shared links (`services::shares`): the link's id, its expiry (Unix seconds) and
    /// signature.
    pub share: Option<String>,
    pub exp: Option<String>,
    pub sig: Option<String>,
}

impl MediaQuery {
    fn wants_variant(&self) -> bool {
        self.w.is_some()
            || self.h.is_some()
            || self.fit.is_some()
            || self.format.is_some()
            || self.q.is_some()
    }
}

/// The qualities variants are made at: any `q` is rounded to the nearest (the higher on a
/// tie), so that one image has at most four encodings per size and format.
pub const QUALITY_LADDER: [u8; 4] = [50, 65, 80, 90];

/// `q` rounded to [`QUALITY_LADDER`].
pub fn quality_step(q: u8) -> u8 {
    QUALITY_LADDER
        .into_iter()
        .min_by_key(|step| (step.abs_diff(q), std::cmp::Reverse(*step)))
        .unwrap_or(80)
}

fn ladder_text() -> String {
    VARIANT_LADDER
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn side(field: &'static str, raw: Option<&str>) -> Result<Option<u32>, ServiceError> {
    let Some(raw) = raw else { return Ok(None) };
    match raw.parse::<u32>() {
        Ok(v) if VARIANT_LADDER.contains(&v) => Ok(Some(v)),
        _ => Err(FieldError::new(
            field,
            format!(
                "'{raw}' is not an allowed size; use one of {}.",
                ladder_text()
            ),
        )
        .into()),
    }
}

/// Parses a variant request; `None` when the original is wanted. `accept` is the request's
/// `Accept` header, for `format=auto` (WebP when the client takes it, else JPEG).
pub fn parse_spec(
    query: &MediaQuery,
    accept: Option<&str>,
) -> Result<Option<VariantSpec>, ServiceError> {
    if !query.wants_variant() {
        return Ok(None);
    }
    let width = side("w", query.w.as_deref())?;
    let height = side("h", query.h.as_deref())?;
    if width.is_none() && height.is_none() {
        return Err(FieldError::new(
            "w",
            format!("Give a width (w) or a height (h), from {}.", ladder_text()),
        )
        .into());
    }
    let fit = match query.fit.as_deref().unwrap_or("cover") {
        "cover" => Fit::Cover,
        "contain" => Fit::Contain,
        "fill" => Fit::Fill,
        other => {
            return Err(FieldError::new(
                "fit",
                format!("'{other}' is not a fit; use cover, contain or fill."),
            )
            .into())
        }
    };
    let format = match query.format.as_deref().unwrap_or("auto") {
        "webp" => ImageFormat::Webp,
        "jpeg" | "jpg" => ImageFormat::Jpeg,
        "png" => ImageFormat::Png,
        "auto" => {
            if accept.is_some_and(|a| a.contains("image/webp")) {
                ImageFormat::Webp
            } else {
                ImageFormat::Jpeg
            }
        }
        other => {
            return Err(FieldError::new(
                "format",
                format!("'{other}' is not a format; use webp, jpeg, png or auto."),
            )
            .into())
        }
    };
    let quality = match query.q.as_deref() {
        None => 80,
        Some(raw) => match raw.parse::<u8>() {
            Ok(q @ 1..=100) => quality_step(q),
            _ => {
                return Err(
                    FieldError::new("q", "The quality (q) is a number from 1 to 100.").into(),
                )
            }
        },
    };
    Ok(Some(VariantSpec {
        width,
        height,
        fit,
        format,
        quality,
    }))
}

/// Who asks for a media file.
pub enum Viewer<'a> {
    Principal(&'a Principal),
    Anonymous,
}

/// An image a media request was found allowed to read (by [`authorize`]): what
/// [`etag`], [`original`] and [`variant`] serve. Opaque to the transports.
#[derive(Debug, Clone)]
pub struct Readable(ImageRecord);

/// Finds the image a media request may read: the owner's (even in the trash), or any
/// finished image outside the trash through a valid, unexpired signed link. Anonymous
/// requests without a link are 401; everything else that fails is 404.
pub async fn authorize(
    backend: &Backend,
    viewer: Viewer<'_>,
    id: &str,
    query: &MediaQuery,
) -> Result<Readable, ServiceError> {
    find_readable(backend, viewer, id, query)
        .await
        .map(Readable)
}

async fn find_readable(
    backend: &Backend,
    viewer: Viewer<'_>,
    id: &str,
    query: &MediaQuery,
) -> Result<ImageRecord, ServiceError> {
    if let (Some(share), Some(exp), Some(sig)) = (
        query.share.as_deref(),
        query.exp.as_deref(),
        query.sig.as_deref(),
    ) {
        return super::shares::open(backend, id, super::shares::SignedLink { share, exp, sig })
            .await;
    }
    if query.sig.is_some() || query.exp.is_some() || query.share.is_some() {
        // An incomplete link, or one from before links were recorded.
        return Err(ServiceError::NotFound);
    }
    match viewer {
        Viewer::Principal(p) => super::images::record(backend, p, id).await,
        Viewer::Anonymous => Err(ServiceError::Unauthenticated(
            "Sign in to see this image, or use a shared link.".to_owned(),
        )),
    }
}

/// The current avatar behind a public avatar link (`/avatars/{token}`): anyone may read
/// it while the owner keeps the link; otherwise 404.
pub async fn public_avatar(backend: &Backend, token: &str) -> Result<Readable, ServiceError> {
    super::characters::public_avatar(backend, token)
        .await
        .map(Readable)
}

/// The entity tag of the original or a variant: derived from the content hash, so a 304
/// needs neither storage nor rendering.
pub fn etag(image: &Readable, spec: Option<&VariantSpec>) -> Option<String> {
    let sha = image.0.sha256.as_deref()?;
    let short = &sha[..sha.len().min(32)];
    Some(match spec {
        None => format!("\"{short}\""),
        Some(s) => format!("\"{short}-{}.{}\"", s.key(), s.format.ext()),
    })
}

/// Bytes to send.
pub enum Body {
    Bytes(Bytes),
    Stream(BoxStream<'static, Result<Bytes, std::io::Error>>),
}

pub struct Media {
    pub mime: String,
    pub length: u64,
    pub body: Body,
}

fn not_ready() -> ServiceError {
    ServiceError::Conflict {
        code: "not_ready",
        field: None,
        message: "This image has no picture yet: it is still being made, or it failed.".to_owned(),
    }
}

fn missing(image: &ImageRecord) -> ServiceError {
    tracing::warn!(image_id = %image.id, "an image's object is missing from storage");
    ServiceError::NotFound
}

/// Streams an object from storage.
async fn stream(backend: &Backend, key: &Path) -> Result<Option<(u64, Body)>, ServiceError> {
    match backend.storage.store().get(key).await {
        Ok(got) => {
            let length = got.meta.size;
            let stream = got
                .into_stream()
                .map_err(|e| std::io::Error::other(e.to_string()))
                .boxed();
            Ok(Some((length, Body::Stream(stream))))
        }
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The stored original, streamed.
pub async fn original(backend: &Backend, image: &Readable) -> Result<Media, ServiceError> {
    let image = &image.0;
    let (Some(key), Some(mime)) = (image.storage_key.as_deref(), image.mime_type.as_deref()) else {
        return Err(not_ready());
    };
    if image.status != model::ImageStatus::Completed {
        return Err(not_ready());
    }
    let (length, body) = stream(backend, &Path::from(key))
        .await?
        .ok_or_else(|| missing(image))?;
    Ok(Media {
        mime: mime.to_owned(),
        length,
        body,
    })
}

/// Renders variants once per (image, spec), however many requests want them at once.
#[derive(Debug, Default)]
pub struct VariantCache {
    in_flight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    renders: AtomicU64,
}

impl VariantCache {
    /// How many variants this process has rendered (not served from the cache).
    pub fn renders(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }

    fn lock_for(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(key.to_owned()).or_default().clone()
    }

    fn release(&self, key: &str, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut map = self
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        drop(lock);
        // Only the map's reference left (nobody can take one while we hold the map):
        // nobody else waits on it.
        if map.get(key).is_some_and(|l| Arc::strong_count(l) == 1) {
            map.remove(key);
        }
    }
}

/// A variant: from the cache when it is there, else rendered (once) and cached.
pub async fn variant(
    backend: &Backend,
    image: &Readable,
    spec: &VariantSpec,
) -> Result<Media, ServiceError> {
    let image = &image.0;
    if image.status != model::ImageStatus::Completed || image.storage_key.is_none() {
        return Err(not_ready());
    }
    let spec_key = format!("{}.{}", spec.key(), spec.format.ext());
    if let Some(media) = cached(backend, image, &spec_key).await? {
        return Ok(media);
    }
    let flight_key = format!("{}/{spec_key}", image.id);
    let lock = backend.runtime.variants.lock_for(&flight_key);
    let result = async {
        let _guard = lock.lock().await;
        // Someone else may have rendered it while we waited.
        if let Some(media) = cached(backend, image, &spec_key).await? {
            return Ok(media);
        }
        render_and_store(backend, image, spec, &spec_key).await
    }
    .await;
    backend.runtime.variants.release(&flight_key, lock);
    result
}

async fn cached(
    backend: &Backend,
    image: &ImageRecord,
    spec_key: &str,
) -> Result<Option<Media>, ServiceError> {
    let Some(record) = images::variant(&backend.db, &image.id, spec_key).await? else {
        return Ok(None);
    };
    match stream(backend, &Path::from(record.storage_key.as_str())).await? {
        Some((length, body)) => {
            if let Err(e) = images::touch_variant(&backend.db, &image.id, spec_key).await {
                tracing::warn!(error = %e, "could not note a variant's use");
            }
            Ok(Some(Media {
                mime: record.mime_type,
                length,
                body,
            }))
        }
        // The object went missing: forget the row and render again.
        None => {
            images::delete_variants_by_spec(&backend.db, &image.id, spec_key).await?;
            Ok(None)
        }
    }
}

async fn render_and_store(
    backend: &Backend,
    image: &ImageRecord,
    spec: &VariantSpec,
    spec_key: &str,
) -> Result<Media, ServiceError> {
    let source_key = Path::from(image.storage_key.as_deref().unwrap_or_default());
    // The worker first: at most IMAGE_WORKERS sources are in memory at once, however many
    // variants are asked for.
    let worker = backend.runtime.image_workers.permit().await?;
    let source = backend
        .storage
        .read(&source_key)
        .await?
        .ok_or_else(|| missing(image))?;
    let limits = backend.config.image_limits;
    let spec_copy = *spec;
    let rendered = worker
        .run(move || imaging::render(&source, &spec_copy, &limits))
        .await?;
    backend
        .runtime
        .variants
        .renders
        .fetch_add(1, Ordering::Relaxed);
    metrics::counter!("image_variants_rendered_total", "format" => spec.format.name()).increment(1);

    let image_id =
        Id::parse(&image.id).ok_or_else(|| ServiceError::internal("an image id is not a UUID"))?;
    let key = storage::key(&ObjectKey::Variant {
        image: &image_id,
        spec,
    });
    backend.storage.write(&key, rendered.bytes.clone()).await?;
    let now = now_ms();
    images::insert_variant(
        &backend.db,
        &VariantRecord {
            image_id: image.id.clone(),
            spec: spec_key.to_owned(),
            storage_key: key.to_string(),
            mime_type: rendered.format.mime().to_owned(),
            width: i64::from(rendered.width),
            height: i64::from(rendered.height),
            bytes: rendered.bytes.len() as i64,
            created_at: now,
            last_used_at: now,
        },
    )
    .await?;
    keep_cache_within_limit(backend, key.as_ref()).await?;
    Ok(Media {
        mime: rendered.format.mime().to_owned(),
        length: rendered.bytes.len() as u64,
        body: Body::Bytes(rendered.bytes),
    })
}

/// At most this many variants are evicted after one write (the cleanup catches up with
/// anything left, which only a limit lowered between runs can cause).
const EVICT_PER_WRITE: i64 = 64;

/// Keeps the variant cache under `VARIANT_CACHE_MAX_BYTES` as it is written to: the least
/// recently used variants (never `just_written`) go until it fits.
async fn keep_cache_within_limit(
    backend: &Backend,
    just_written: &str,
) -> Result<(), ServiceError> {
    let limit = i64::try_from(backend.config.variant_cache_max_bytes).unwrap_or(i64::MAX);
    let mut total = crate::db::maintenance::variant_bytes(&backend.db).await?;
    if total <= limit {
        return Ok(());
    }
    for old in crate::db::maintenance::least_used_variants(&backend.db, EVICT_PER_WRITE).await? {
        if total <= limit {
            break;
        }
        if old.storage_key == just_written {
            continue;
        }
        images::delete_variants_by_spec(&backend.db, &old.image_id, &old.spec).await?;
        if let Err(e) = backend
            .storage
            .delete(&Path::from(old.storage_key.as_str()))
            .await
        {
            // The row is gone: what is left is an orphan for the cleanup.
            tracing::warn!(error = %e, key = %old.storage_key, "could not delete an evicted variant");
        }
        total -= old.bytes;
        metrics::counter!("image_variants_evicted_total").increment(1);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> MediaQuery {
        let mut q = MediaQuery::default();
        for (k, v) in pairs {
            let v = Some((*v).to_owned());
            match *k {
                "w" => q.w = v,
                "h" => q.h = v,
                "fit" => q.fit = v,
                "format" => q.format = v,
                "q" => q.q = v,
                _ => unreachable!(),
            }
        }
        q
    }

    #[test]
    fn variant_requests_are_validated_against_the_ladder() {
        assert_eq!(parse_spec(&query(&[]), None).unwrap(), None);
        let spec = parse_spec(
            &query(&[("w", "256"), ("h", "256"), ("format", "webp")]),
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(spec.key(), "w256-h256-cover-q80");
        let err = parse_spec(&query(&[("w", "250")]), None).unwrap_err();
        assert_eq!(err.field(), Some("w"));
        assert!(err.to_string().contains("16, 32, 48"), "{err}");
        assert!(
            parse_spec(&query(&[("fit", "cover")]), None).is_err(),
            "a size is needed"
        );
        assert!(parse_spec(&query(&[("w", "64"), ("fit", "stretch")]), None).is_err());
        assert!(parse_spec(&query(&[("w", "64"), ("q", "0")]), None).is_err());
        assert!(parse_spec(&query(&[("w", "64"), ("format", "gif")]), None).is_err());
    }

    #[test]
    fn any_quality_is_rounded_to_the_ladder() {
        let q = |raw: &str| {
            parse_spec(&query(&[("w", "64"), ("format", "webp"), ("q", raw)]), None)
                .unwrap()
                .unwrap()
                .quality
        };
        assert_eq!(q("1"), 50);
        assert_eq!(q("57"), 50);
        assert_eq!(q("58"), 65, "a tie goes up");
        assert_eq!(q("72"), 65);
        assert_eq!(q("73"), 80);
        assert_eq!(q("85"), 90, "a tie goes up");
        assert_eq!(q("100"), 90);
        // So the space of variants of one image is small and fixed.
        let keys: std::collections::HashSet<String> = (1..=100u8)
            .map(|n| {
                parse_spec(
                    &query(&[("w", "64"), ("format", "webp"), ("q", &n.to_string())]),
                    None,
                )
                .unwrap()
                .unwrap()
                .key()
            })
            .collect();
        assert_eq!(keys.len(), QUALITY_LADDER.len());
    }

    #[test]
    fn auto_format_follows_accept() {
        let q = query(&[("w", "64"), ("format", "auto")]);
        let webp = parse_spec(&q, Some("image/avif,image/webp,*/*"))
            .unwrap()
            .unwrap();
        assert_eq!(webp.format, ImageFormat::Webp);
        let jpeg = parse_spec(&q, Some("image/png,*/*")).unwrap().unwrap();
        assert_eq!(jpeg.format, ImageFormat::Jpeg);
    }
}
