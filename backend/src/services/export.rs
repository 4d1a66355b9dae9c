//! Export a selection of images, or a collection, as a ZIP archive streamed while it is
//! written: each image's bytes and a JSON sidecar with its metadata. Memory stays bounded
//! by one image at a time, whatever the size of the selection.

use async_zip::{tokio::write::ZipFileWriter, Compression, ZipEntryBuilder};
use bytes::Bytes;
use futures::Stream;
use object_store::path::Path;
use tokio_util::io::ReaderStream;

use super::{auth::Principal, images::own_collection, ServiceError};
use crate::{
    db::images::{self, ImageRecord, ListQuery},
    domain::{FieldError, Id},
    imaging::ImageFormat,
    Backend,
};

/// The most images one export may hold.
pub const MAX_EXPORT: usize = 2000;

/// What to export: listed ids, or a whole collection.
#[derive(Debug, Clone)]
pub enum Selection {
    Ids(Vec<String>),
    Collection(String),
}

/// Parses `?ids=a,b,c` or `?collection_id=`.
pub fn selection(
    ids: Option<&str>,
    collection_id: Option<&str>,
) -> Result<Selection, ServiceError> {
    match (ids.map(str::trim).filter(|s| !s.is_empty()), collection_id) {
        (Some(ids), None) => {
            let parsed: Vec<String> = ids
                .split(',')
                .map(|raw| {
                    Id::parse(raw)
                        .map(|id| id.as_str().to_owned())
                        .ok_or_else(|| {
                            FieldError::new("ids", format!("'{}' is not an image id.", raw.trim()))
                        })
                })
                .collect::<Result<_, _>>()?;
            if parsed.len() > MAX_EXPORT {
                return Err(FieldError::new(
                    "ids",
                    format!("Export at most {MAX_EXPORT} images at a time."),
                )
                .into());
            }
            Ok(Selection::Ids(parsed))
        }
        (None, Some(c)) => Ok(Selection::Collection(c.to_owned())),
        _ => Err(FieldError::new(
            "ids",
            "Give either ids (comma-separated) or a collection_id.",
        )
        .into()),
    }
}

/// A file name from a person's title: letters, digits, spaces, dashes and underscores.
fn file_stem(image: &ImageRecord) -> String {
    let label = image.to_model().label();
    let clean: String = label
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let short_id = &image.id[image.id.len().saturating_sub(8)..];
    format!("{}-{short_id}", clean.trim())
}

/// Resolves the selection to the caller's finished images (others are left out, never
/// revealed), then answers the archive as a stream of bytes.
#[tracing::instrument(skip_all, fields(user_id = %principal.caller.id))]
pub async fn zip(
    backend: &Backend,
    principal: &Principal,
    selection: Selection,
) -> Result<impl Stream<Item = std::io::Result<Bytes>> + Send + 'static, ServiceError> {
    let records: Vec<ImageRecord> = match selection {
        Selection::Ids(ids) => images::get_many(&backend.db, principal.user_id(), &ids).await?,
        Selection::Collection(raw) => {
            let collection = own_collection(backend, principal, &raw).await?;
            let mut all = Vec::new();
            let mut before = None;
            loop {
                let query = ListQuery {
                    collection_id: Some(collection.clone()),
                    before: before.clone(),
                    limit: 200,
                    ..ListQuery::default()
                };
                let page = images::list(&backend.db, principal.user_id(), &query).await?;
                let done = page.len() < 200 || all.len() + page.len() >= MAX_EXPORT;
                before = page.last().map(|r| r.id.clone());
                all.extend(page);
                if done {
                    break;
                }
            }
            all.truncate(MAX_EXPORT);
            all
        }
    };
    let records: Vec<ImageRecord> = records
        .into_iter()
        .filter(|r| r.status == model::ImageStatus::Completed && r.storage_key.is_some())
        .collect();
    if records.is_empty() {
        return Err(ServiceError::NotFound);
    }

    let (reader, writer) = tokio::io::duplex(256 * 1024);
    let storage = backend.storage.clone();
    tokio::spawn(async move {
        let mut zip = ZipFileWriter::with_tokio(writer);
        let mut written = 0usize;
        for record in records {
            let stem = file_stem(&record);
            let mut sidecar = serde_json::to_value(record.to_model()).unwrap_or_default();
            let key = Path::from(record.storage_key.as_deref().unwrap_or_default());
            match storage.read(&key).await {
                Ok(Some(bytes)) => {
                    let ext = record
                        .mime_type
                        .as_deref()
                        .and_then(ImageFormat::from_mime)
                        .map_or("bin", ImageFormat::ext);
                    let entry =
                        ZipEntryBuilder::new(format!("{stem}.{ext}").into(), Compression::Stored);
                    if let Err(e) = zip.write_entry_whole(entry, &bytes).await {
                        // The client went away, or the archive cannot go on.
                        tracing::info!(error = %e, "export stopped");
                        return;
                    }
                }
                Ok(None) | Err(_) => {
                    tracing::warn!(image_id = %record.id, "an exported image's object is missing");
                    sidecar["missing"] = serde_json::Value::Bool(true);
                }
            }
            let json = serde_json::to_vec_pretty(&sidecar).unwrap_or_default();
            let entry = ZipEntryBuilder::new(format!("{stem}.json").into(), Compression::Deflate);
            if let Err(e) = zip.write_entry_whole(entry, &json).await {
                tracing::info!(error = %e, "export stopped");
                return;
            }
            written += 1;
        }
        if let Err(e) = zip.close().await {
            tracing::info!(error = %e, "export stopped");
            return;
        }
        tracing::info!(images = written, "export finished");
    });
    Ok(ReaderStream::new(reader))
}
