//! Images that come in from outside: uploads and imports from a URL. Both go through the
//! same checks ([`crate::imaging::prepare`]) before anything is stored, so a refused file
//! leaves nothing behind.

use bytes::Bytes;
use model::{ImageEventKind, ImageKind};

use super::{
    auth::Principal,
    images::{own_character, own_collection, parse_title},
    ServiceError,
};
use crate::{
    db::{characters, images, images::NewImage},
    domain::Id,
    imaging,
    storage::{self, ObjectKey},
    Backend,
};

/// Where incoming images go: a collection and/or a character, both checked to be the
/// caller's.
#[derive(Debug, Clone, Default)]
pub struct Destination {
    pub collection_id: Option<String>,
    pub character_id: Option<String>,
}

impl Destination {
    pub async fn resolve(
        backend: &Backend,
        principal: &Principal,
        collection_id: Option<&str>,
        character_id: Option<&str>,
    ) -> Result<Self, ServiceError> {
        let present = |s: Option<&str>| {
            s.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Ok(Self {
            collection_id: match present(collection_id) {
                Some(c) => Some(own_collection(backend, principal, &c).await?),
                None => None,
            },
            character_id: match present(character_id) {
                Some(c) => Some(own_character(backend, principal, &c).await?),
                None => None,
            },
        })
    }
}

/// A title from an uploaded file's name: the name without its extension, when it is a
/// sensible one. It is only ever shown as text, never used in a path.
pub fn title_from_filename(name: Option<&str>) -> Option<String> {
    let name = name?.rsplit(['/', '\\']).next()?;
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    };
    let clean: String = stem.chars().filter(|c| !c.is_control()).take(200).collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| clean.to_owned())
}

/// Checks, cleans and stores one incoming image, then records it. Blocking work runs on
/// the bounded image workers.
#[tracing::instrument(skip_all, fields(user_id = %owner, kind = %kind, bytes = data.len()))]
pub async fn store(
    backend: &Backend,
    owner: &str,
    data: Bytes,
    kind: ImageKind,
    destination: &Destination,
    title: Option<String>,
    source_url: Option<String>,
) -> Result<images::ImageRecord, ServiceError> {
    let limits = backend.config.image_limits;
    let prepared = backend
        .runtime
        .image_workers
        .run(move || imaging::prepare(data, &limits))
        .await?;
    super::quotas::check_storage(backend, owner, prepared.bytes.len() as u64).await?;
    let user = Id::parse(owner).ok_or_else(|| ServiceError::internal("a user id is not a UUID"))?;
    let id = Id::new();
    let key = storage::key(&ObjectKey::Upload {
        user: &user,
        image: &id,
        format: prepared.format,
    });
    backend.storage.write(&key, prepared.bytes.clone()).await?;
    let new = NewImage {
        collection_id: destination.collection_id.clone(),
        character_id: destination.character_id.clone(),
        title: parse_title(title.as_deref()).unwrap_or(None),
        width: Some(i64::from(prepared.width)),
        height: Some(i64::from(prepared.height)),
        mime_type: Some(prepared.format.mime().to_owned()),
        bytes: Some(prepared.bytes.len() as i64),
        sha256: Some(prepared.sha256.clone()),
        source_url,
        storage_key: Some(key.to_string()),
        ..NewImage::new(
            id.as_str().to_owned(),
            user.as_str().to_owned(),
            kind,
            model::ImageStatus::Completed,
        )
    };
    match images::insert(&backend.db, &new).await {
        Ok(record) => {
            tracing::info!(image_id = %record.id, width = prepared.width, height = prepared.height, "image stored");
            Ok(record)
        }
        Err(e) => {
            // Nothing refers to the object: remove it rather than leave an orphan.
            let _ = backend.storage.delete(&key).await;
            Err(e.into())
        }
    }
}

/// One upload request's images, all or nothing: each file is checked and stored as it
/// arrives; `finish` tells the owner's live connections about all of them, `discard`
/// removes every one already stored (a later file was refused, or the form was bad).
pub struct Upload<'a> {
    backend: &'a Backend,
    principal: &'a Principal,
    destination: Option<Destination>,
    stored: Vec<images::ImageRecord>,
}

impl<'a> Upload<'a> {
    pub fn new(backend: &'a Backend, principal: &'a Principal) -> Self {
        Self {
            backend,
            principal,
            destination: None,
            stored: Vec::new(),
        }
    }

    /// How many files are stored so far.
    pub fn len(&self) -> usize {
        self.stored.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stored.is_empty()
    }

    /// Room for the next file in memory (`UPLOAD_MEMORY_BYTES`): take it before reading
    /// the file's first byte, hold it until [`Upload::add`] has stored it.
    pub async fn room(&self) -> Result<crate::imaging::IntakePermit, ServiceError> {
        Ok(self
            .backend
            .runtime
            .intake
            .reserve(self.backend.config.image_limits.max_bytes)
            .await?)
    }

    /// Checks and stores one file. The destination (the caller's collection and/or
    /// character) is resolved with the first file and holds for the rest.
    pub async fn add(
        &mut self,
        collection_id: Option<&str>,
        character_id: Option<&str>,
        data: Bytes,
        filename: Option<&str>,
    ) -> Result<(), ServiceError> {
        let destination = match &self.destination {
            Some(d) => d,
            None => self.destination.insert(
                Destination::resolve(self.backend, self.principal, collection_id, character_id)
                    .await?,
            ),
        };
        let image = store(
            self.backend,
            self.principal.user_id(),
            data,
            ImageKind::Uploaded,
            destination,
            title_from_filename(filename),
            None,
        )
        .await?;
        self.stored.push(image);
        Ok(())
    }

    /// The stored images, announced to the owner's live connections.
    pub fn finish(self) -> Vec<model::Image> {
        let items: Vec<model::Image> = self.stored.iter().map(|i| i.to_model()).collect();
        for image in &items {
            self.backend.runtime.hub.image(
                self.principal.user_id(),
                ImageEventKind::Created,
                image,
            );
        }
        items
    }

    /// Removes what was stored: nothing of a refused upload is kept.
    pub async fn discard(self) {
        let ids: Vec<String> = self.stored.iter().map(|i| i.id.clone()).collect();
        if ids.is_empty() {
            return;
        }
        if let Err(e) = super::images::purge(self.backend, self.principal, &ids).await {
            tracing::error!(error = %e, "could not remove the files of a refused upload");
        }
    }
}

/// `POST /api/v1/images/import` and the UI's import: fetches a URL (SSRF-safe) into the
/// caller's collection and/or character, stored like an upload.
pub async fn import(
    backend: &Backend,
    principal: &Principal,
    url: &str,
    collection_id: Option<&str>,
    character_id: Option<&str>,
) -> Result<model::Image, ServiceError> {
    let destination = Destination::resolve(backend, principal, collection_id, character_id).await?;
    Ok(fetch_and_store(backend, principal, url, &destination)
        .await?
        .to_model())
}

/// Fetches a URL (SSRF-safe), stores it like an upload and tells the owner's live
/// connections.
#[tracing::instrument(skip_all, fields(user_id = %principal.caller.id))]
async fn fetch_and_store(
    backend: &Backend,
    principal: &Principal,
    url: &str,
    destination: &Destination,
) -> Result<images::ImageRecord, ServiceError> {
    let max_bytes = backend.config.image_limits.max_bytes;
    // Held until the image is stored: the fetched bytes count against UPLOAD_MEMORY_BYTES.
    let _room = backend.runtime.intake.reserve(max_bytes).await?;
    let fetched = backend.external.outbound.fetch(url, max_bytes).await?;
    let title = title_from_filename(
        fetched
            .final_url
            .path_segments()
            .and_then(|mut s| s.next_back()),
    );
    let record = store(
        backend,
        principal.user_id(),
        fetched.bytes,
        ImageKind::Imported,
        destination,
        title,
        Some(url.trim().to_owned()),
    )
    .await?;
    backend.runtime.hub.image(
        principal.user_id(),
        ImageEventKind::Created,
        &record.to_model(),
    );
    Ok(record)
}

/// `POST /api/v1/characters/{id}/avatar/import`: imports the URL for the character and
/// makes it the avatar.
pub async fn import_avatar(
    backend: &Backend,
    principal: &Principal,
    character_id: &str,
    url: &str,
) -> Result<model::Image, ServiceError> {
    let character = super::characters::record(backend, principal, character_id).await?;
    let destination = Destination {
        collection_id: None,
        character_id: Some(character.id.clone()),
    };
    let image = fetch_and_store(backend, principal, url, &destination).await?;
    characters::set_avatar(&backend.db, principal.user_id(), &character.id, &image.id).await?;
    Ok(image.to_model())
}

/// The outcome of migrating one character's external avatar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarImport {
    pub character_id: String,
    pub url: String,
    /// The stored image, or why it failed.
    pub result: Result<String, String>,
}

/// `avatar-studio import-urls`: every character avatar that still points outside our
/// storage (an expiring provider URL, an address from an older system) is fetched with the
/// same SSRF checks and content checks as an import, stored, and made the avatar. A
/// failure is reported and leaves that character as it was.
pub async fn import_external_avatars(backend: &Backend) -> Result<Vec<AvatarImport>, ServiceError> {
    let mut report = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let batch = characters::with_external_avatar(&backend.db, after.as_deref(), 100).await?;
        let Some(last) = batch.last() else { break };
        after = Some(last.id.clone());
        for character in batch {
            let url = character.avatar_external_url.clone().unwrap_or_default();
            let result = import_for(backend, &character, &url).await;
            match &result {
                Ok(image_id) => {
                    tracing::info!(character_id = %character.id, %image_id, "external avatar imported")
                }
                Err(reason) => {
                    tracing::warn!(character_id = %character.id, %reason, "external avatar not imported")
                }
            }
            report.push(AvatarImport {
                character_id: character.id,
                url,
                result,
            });
        }
    }
    Ok(report)
}

async fn import_for(
    backend: &Backend,
    character: &characters::CharacterRecord,
    url: &str,
) -> Result<String, String> {
    let fetched = backend
        .external
        .outbound
        .fetch(url, backend.config.image_limits.max_bytes)
        .await
        .map_err(|e| e.to_string())?;
    let destination = Destination {
        collection_id: None,
        character_id: Some(character.id.clone()),
    };
    let image = store(
        backend,
        &character.user_id,
        fetched.bytes,
        ImageKind::Imported,
        &destination,
        Some(format!("Avatar of {}", character.name)),
        Some(url.to_owned()),
    )
    .await
    .map_err(|e| e.to_string())?;
    characters::set_avatar(&backend.db, &character.user_id, &character.id, &image.id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(image.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_file_names_without_paths() {
        assert_eq!(
            title_from_filename(Some("Portrait of Ann.png")).as_deref(),
            Some("Portrait of Ann")
        );
        assert_eq!(
            title_from_filename(Some("C:\\photos\\me.jpg")).as_deref(),
            Some("me")
        );
        assert_eq!(
            title_from_filename(Some("../../etc/passwd")).as_deref(),
            Some("passwd")
        );
        assert_eq!(title_from_filename(Some(".png")).as_deref(), Some(".png"));
        assert_eq!(title_from_filename(Some("   ")), None);
        assert_eq!(title_from_filename(None), None);
    }
}
