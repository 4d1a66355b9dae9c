//! Object storage through `object_store`: local files (the default), S3 (and compatible
//! servers, via `AWS_ENDPOINT_URL`) or memory (tests). One code path for all of them.

use std::{fmt, sync::Arc};

use object_store::{
    aws::AmazonS3Builder, local::LocalFileSystem, memory::InMemory, path::Path,
    prefix::PrefixStore, ObjectStore,
};
use url::Url;

use crate::{
    domain::Id,
    imaging::{ImageFormat, VariantSpec},
};

/// What an object is. [`key`] is the one function that turns it into a storage key
/// (DESIGN.md, "Storage layout"); every part is a validated id, a timestamp, a variant spec
/// or an extension we chose, never a string from a request.
#[derive(Debug, Clone, Copy)]
pub enum ObjectKey<'a> {
    /// `uploads/{user_id}/{image_id}.{ext}`: uploaded and imported images.
    Upload {
        user: &'a Id,
        image: &'a Id,
        format: ImageFormat,
    },
    /// `generated/{user_id}/images/{image_id}.{ext}`
    Generated {
        user: &'a Id,
        image: &'a Id,
        format: ImageFormat,
    },
    /// `generated/{user_id}/characters/{character_id}/avatar_{timestamp}_{image_id}.{ext}`
    CharacterAvatar {
        user: &'a Id,
        character: &'a Id,
        timestamp_ms: i64,
        image: &'a Id,
        format: ImageFormat,
    },
    /// `variants/{image_id}/{spec}.{ext}`
    Variant {
        image: &'a Id,
        spec: &'a VariantSpec,
    },
}

/// The storage key of an object.
pub fn key(object: &ObjectKey<'_>) -> Path {
    match *object {
        ObjectKey::Upload {
            user,
            image,
            format,
        } => Path::from_iter([
            "uploads",
            user.as_str(),
            &format!("{image}.{}", format.ext()),
        ]),
        ObjectKey::Generated {
            user,
            image,
            format,
        } => Path::from_iter([
            "generated",
            user.as_str(),
            "images",
            &format!("{image}.{}", format.ext()),
        ]),
        ObjectKey::CharacterAvatar {
            user,
            character,
            timestamp_ms,
            image,
            format,
        } => Path::from_iter([
            "generated",
            user.as_str(),
            "characters",
            character.as_str(),
            &format!("avatar_{timestamp_ms}_{image}.{}", format.ext()),
        ]),
        ObjectKey::Variant { image, spec } => Path::from_iter([
            "variants",
            image.as_str(),
            &format!("{}.{}", spec.key(), spec.format.ext()),
        ]),
    }
}

/// Where every variant of an image lives.
pub fn variant_prefix(image: &Id) -> Path {
    Path::from_iter(["variants", image.as_str()])
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("STORAGE_URL: {0}")]
    Config(String),
    #[error("the object store is unreachable: {0}")]
    Unreachable(#[source] object_store::Error),
}

/// The configured object store, shared by every part of the server.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    kind: StorageKind,
    /// For `file://`: the root directory, which must exist for the store to be usable.
    root_dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageKind {
    File,
    S3,
    Memory,
}

impl StorageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::S3 => "s3",
            Self::Memory => "memory",
        }
    }
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("kind", &self.kind)
            .field("store", &self.store.to_string())
            .finish()
    }
}

impl Storage {
    /// Opens the store named by `STORAGE_URL`. For `file://` the directory is created.
    /// For `s3://bucket[/prefix]` the credentials, region and endpoint come from the usual
    /// `AWS_*` variables, passed in `s3_options` (`AWS_ENDPOINT_URL` and
    /// `AWS_ALLOW_HTTP=true` for a local S3-compatible server).
    pub fn open(
        url: &Url,
        s3_options: &[(&'static str, secrecy::SecretString)],
    ) -> Result<Self, StorageError> {
        match url.scheme() {
            "file" => {
                let dir = url
                    .to_file_path()
                    .map_err(|()| StorageError::Config(format!("'{url}' is not a local path")))?;
                std::fs::create_dir_all(&dir).map_err(|e| {
                    StorageError::Config(format!("cannot create '{}': {e}", dir.display()))
                })?;
                let store = LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| StorageError::Config(e.to_string()))?
                    .with_automatic_cleanup(true);
                Ok(Self {
                    store: Arc::new(store),
                    kind: StorageKind::File,
                    root_dir: Some(dir),
                })
            }
            "memory" => Ok(Self::memory()),
            "s3" => {
                let bucket = url.host_str().unwrap_or_default();
                let mut builder = AmazonS3Builder::new().with_bucket_name(bucket);
                // As `AmazonS3Builder::from_env` does: the names object_store knows, lower-cased.
                for (name, value) in s3_options {
                    if let Ok(key) = name.to_ascii_lowercase().parse() {
                        builder =
                            builder.with_config(key, secrecy::ExposeSecret::expose_secret(value));
                    }
                }
                let store = builder
                    .build()
                    .map_err(|e| StorageError::Config(e.to_string()))?;
                let prefix = url.path().trim_matches('/');
                let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                    Arc::new(store)
                } else {
                    Arc::new(PrefixStore::new(store, prefix))
                };
                Ok(Self {
                    store,
                    kind: StorageKind::S3,
                    root_dir: None,
                })
            }
            other => Err(StorageError::Config(format!(
                "unsupported scheme '{other}': use file://, s3:// or memory://"
            ))),
        }
    }

    /// A fresh in-memory store (`memory://`).
    pub fn memory() -> Self {
        Self {
            store: Arc::new(InMemory::new()),
            kind: StorageKind::Memory,
            root_dir: None,
        }
    }

    pub fn kind(&self) -> StorageKind {
        self.kind
    }

    /// The underlying store, for the services that read and write objects.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The prefixes under which a person's own objects live (DESIGN.md, "Storage
    /// layout"). `user_id` is one of our UUIDs, never user input.
    pub fn user_prefixes(user_id: &str) -> [Path; 2] {
        [
            Path::from_iter(["uploads", user_id]),
            Path::from_iter(["generated", user_id]),
        ]
    }

    /// Deletes every object under `prefix`, streaming (bounded memory whatever the
    /// number); returns how many were deleted.
    pub async fn delete_prefix(&self, prefix: &Path) -> Result<usize, object_store::Error> {
        use futures::{StreamExt, TryStreamExt};
        let locations = self
            .store
            .list(Some(prefix))
            .map_ok(|meta| meta.location)
            .boxed();
        let mut deleted = self.store.delete_stream(locations);
        let mut count = 0;
        while let Some(result) = deleted.next().await {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => count += 1,
                Err(e) => return Err(e),
            }
        }
        Ok(count)
    }

    /// Writes an object through the store's streaming writer (one request for small
    /// objects, a multipart upload for large ones).
    pub async fn write(&self, path: &Path, data: bytes::Bytes) -> Result<(), object_store::Error> {
        use tokio::io::AsyncWriteExt;
        let mut writer = object_store::buffered::BufWriter::new(self.store.clone(), path.clone());
        let result = async {
            writer.write_all(&data).await?;
            writer.shutdown().await
        }
        .await;
        if let Err(e) = result {
            let _ = writer.abort().await;
            return Err(object_store::Error::Generic {
                store: "storage",
                source: Box::new(e),
            });
        }
        Ok(())
    }

    /// The whole object, or `None` when it does not exist.
    pub async fn read(&self, path: &Path) -> Result<Option<bytes::Bytes>, object_store::Error> {
        match self.store.get(path).await {
            Ok(got) => Ok(Some(got.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes an object; one that is already gone counts as deleted.
    pub async fn delete(&self, path: &Path) -> Result<(), object_store::Error> {
        match self.store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Proves that the store answers: a metadata request for a key that need not exist.
    pub async fn check(&self) -> Result<(), StorageError> {
        if let Some(dir) = &self.root_dir {
            if !dir.is_dir() {
                return Err(StorageError::Unreachable(object_store::Error::NotFound {
                    path: dir.display().to_string(),
                    source: "the storage directory is missing".into(),
                }));
            }
        }
        match self.store.head(&Path::from(".readyz")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StorageError::Unreachable(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use object_store::PutPayload;

    use super::*;

    #[tokio::test]
    async fn file_storage_creates_its_directory_and_round_trips_objects() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("objects");
        let storage = Storage::open(&Url::from_directory_path(&root).unwrap(), &[]).unwrap();
        assert_eq!(storage.kind(), StorageKind::File);
        assert!(root.is_dir());
        storage.check().await.unwrap();

        let key = Path::from("uploads/u1/i1.png");
        storage
            .store()
            .put(&key, PutPayload::from_static(b"png bytes"))
            .await
            .unwrap();
        assert_eq!(
            std::fs::read(root.join("uploads/u1/i1.png")).unwrap(),
            b"png bytes"
        );
        let got = storage
            .store()
            .get(&key)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(&got[..], b"png bytes");

        std::fs::remove_dir_all(&root).unwrap();
        assert!(
            storage.check().await.is_err(),
            "a vanished directory is not ready"
        );
    }

    #[tokio::test]
    async fn deleting_a_prefix_removes_only_what_is_under_it() {
        let storage = Storage::memory();
        for key in [
            "uploads/u1/a.png",
            "uploads/u1/b.png",
            "uploads/u10/c.png",
            "generated/u1/x/y.png",
        ] {
            storage
                .store()
                .put(&Path::from(key), PutPayload::from_static(b"x"))
                .await
                .unwrap();
        }
        let mut deleted = 0;
        for prefix in Storage::user_prefixes("u1") {
            deleted += storage.delete_prefix(&prefix).await.unwrap();
        }
        assert_eq!(deleted, 3);
        assert!(storage
            .store()
            .head(&Path::from("uploads/u10/c.png"))
            .await
            .is_ok());
        assert!(storage
            .store()
            .head(&Path::from("uploads/u1/a.png"))
            .await
            .is_err());
    }

    #[test]
    fn keys_follow_the_documented_layout() {
        let user = Id::parse("0192f0b2-7c1d-7000-8000-000000000001").unwrap();
        let image = Id::parse("0192f0b2-7c1d-7000-8000-000000000002").unwrap();
        let character = Id::parse("0192f0b2-7c1d-7000-8000-000000000003").unwrap();
        let format = ImageFormat::Png;
        assert_eq!(
            key(&ObjectKey::Upload {
                user: &user,
                image: &image,
                format
            })
            .as_ref(),
            format!("uploads/{user}/{image}.png")
        );
        assert_eq!(
            key(&ObjectKey::Generated {
                user: &user,
                image: &image,
                format: ImageFormat::Jpeg
            })
            .as_ref(),
            format!("generated/{user}/images/{image}.jpg")
        );
        assert_eq!(
            key(&ObjectKey::CharacterAvatar {
                user: &user,
                character: &character,
                timestamp_ms: 1_700_000_000_000,
                image: &image,
                format: ImageFormat::Webp
            })
            .as_ref(),
            format!("generated/{user}/characters/{character}/avatar_1700000000000_{image}.webp")
        );
        let spec = VariantSpec {
            width: Some(256),
            height: None,
            fit: crate::imaging::Fit::Cover,
            format: ImageFormat::Webp,
            quality: 80,
        };
        assert_eq!(
            key(&ObjectKey::Variant {
                image: &image,
                spec: &spec
            })
            .as_ref(),
            format!("variants/{image}/w256-cover-q80.webp")
        );
    }

    #[tokio::test]
    async fn written_objects_read_back_and_deletes_are_idempotent() {
        let storage = Storage::memory();
        let path = Path::from("uploads/u/i.png");
        assert_eq!(storage.read(&path).await.unwrap(), None);
        storage
            .write(&path, bytes::Bytes::from_static(b"data"))
            .await
            .unwrap();
        assert_eq!(
            storage.read(&path).await.unwrap().as_deref(),
            Some(&b"data"[..])
        );
        storage.delete(&path).await.unwrap();
        storage.delete(&path).await.unwrap();
        assert_eq!(storage.read(&path).await.unwrap(), None);
    }

    #[tokio::test]
    async fn memory_storage_is_ready_and_unknown_schemes_are_refused() {
        let storage = Storage::open(&Url::parse("memory://").unwrap(), &[]).unwrap();
        assert_eq!(storage.kind(), StorageKind::Memory);
        storage.check().await.unwrap();
        let err = Storage::open(&Url::parse("ftp://host/x").unwrap(), &[]).unwrap_err();
        assert!(err.to_string().contains("unsupported scheme 'ftp'"));
    }
}
