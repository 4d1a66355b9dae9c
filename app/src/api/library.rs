//! Server functions for the library pages (gallery, characters, collections, home
//! dashboard): each gets the caller, calls one `backend` service and maps the error.
//! Those that take structured values (filters, patches with `null`) take JSON.

use leptos::{prelude::*, server_fn::codec::Json};
use model::{
    BulkAction, BulkResult, Character, Collection, EmptyTrashResult, Image, ImageCard, ImageFilter,
    Page, ShareLink, Stats, UpdateCharacterRequest, UpdateCollectionRequest, UpdateImageRequest,
};

use crate::AppError;

#[cfg(feature = "ssr")]
use {
    crate::ssr::{backend, require_principal, service_error},
    backend::services::{characters, collections, images, ingest, shares},
    model::{BulkRequest, CreateCharacterRequest, CreateCollectionRequest},
};

#[server(endpoint = "list_images", input = Json)]
pub async fn list_images(filter: ImageFilter) -> Result<Page<Image>, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    images::list(&backend, &p, &filter)
        .await
        .map_err(service_error)
}

/// [`list_images`] for the gallery's pages: each image as an [`ImageCard`], what the grid
/// and the lightbox read (a third of an `Image`: the hydration data carry every image of
/// the first page), read from only the columns a card needs.
#[server(endpoint = "list_image_cards", input = Json)]
pub async fn list_image_cards(filter: ImageFilter) -> Result<Page<ImageCard>, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    images::list_cards(&backend, &p, &filter)
        .await
        .map_err(service_error)
}

#[server(endpoint = "get_image")]
pub async fn get_image(id: String) -> Result<Image, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    images::get(&backend, &p, &id).await.map_err(service_error)
}

#[server(endpoint = "update_image", input = Json)]
pub async fn update_image(id: String, change: UpdateImageRequest) -> Result<Image, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    images::update(&backend, &p, &id, &change)
        .await
        .map_err(service_error)
}

/// Delete (to the trash), restore or move several images.
#[server(endpoint = "bulk_images", input = Json)]
pub async fn bulk_images(
    action: BulkAction,
    ids: Vec<String>,
    collection_id: Option<String>,
) -> Result<BulkResult, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    let request = BulkRequest {
        action,
        ids,
        collection_id,
    };
    images::bulk(&backend, &p, &request)
        .await
        .map_err(service_error)
}

/// A signed link to an image that needs no sign-in until it expires or is revoked.
#[server(endpoint = "share_image")]
pub async fn share_image(id: String, expires_in_hours: u32) -> Result<ShareLink, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    shares::create(&backend, &p, &id, expires_in_hours)
        .await
        .map_err(service_error)
}

/// The image's share links, newest first (the first page: at most 50 are active at once).
#[server(endpoint = "image_shares")]
pub async fn image_shares(id: String) -> Result<Vec<ShareLink>, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    shares::list(&backend, &p, &id, None, None)
        .await
        .map(|page| page.items)
        .map_err(service_error)
}

/// Revokes a share link.
#[server(endpoint = "revoke_share")]
pub async fn revoke_share(id: String) -> Result<(), AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    shares::revoke(&backend, &p, &id)
        .await
        .map(|_| ())
        .map_err(service_error)
}

/// Imports an image from a URL into the library (the same checks as an upload).
#[server(endpoint = "import_image")]
pub async fn import_image(url: String, collection_id: Option<String>) -> Result<Image, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    ingest::import(&backend, &p, &url, collection_id.as_deref(), None)
        .await
        .map_err(service_error)
}

/// Deletes every image in the trash for good.
#[server(endpoint = "empty_trash")]
pub async fn empty_trash() -> Result<EmptyTrashResult, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    images::empty_trash(&backend, &p)
        .await
        .map_err(service_error)
}

/// Imports an image from a URL for a character (the character page's form): its avatar
/// when `as_avatar` (the checkbox) is ticked, else one more of its images. Answers the
/// character as it is now.
#[server(endpoint = "import_for_character")]
pub async fn import_for_character(
    id: String,
    url: String,
    as_avatar: Option<String>,
) -> Result<Character, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    if as_avatar.is_some() {
        ingest::import_avatar(&backend, &p, &id, &url).await
    } else {
        ingest::import(&backend, &p, &url, None, Some(&id)).await
    }
    .map_err(service_error)?;
    characters::get(&backend, &p, &id)
        .await
        .map_err(service_error)
}

/// Makes the character's avatar public (`public` is "true") or revokes its public link.
#[server(endpoint = "publish_avatar")]
pub async fn publish_avatar(id: String, public: bool) -> Result<Character, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    if public {
        characters::publish_avatar(&backend, &p, &id).await
    } else {
        characters::unpublish_avatar(&backend, &p, &id).await
    }
    .map_err(service_error)
}

/// The numbers of the home page's dashboard; nothing for an anonymous visitor.
#[server(endpoint = "library_stats")]
pub async fn library_stats() -> Result<Option<Stats>, AppError> {
    let backend = backend()?;
    let Some(p) = crate::ssr::principal() else {
        return Ok(None);
    };
    images::stats(&backend, &p)
        .await
        .map(Some)
        .map_err(service_error)
}

#[server(endpoint = "list_collections")]
pub async fn list_collections(cursor: Option<String>) -> Result<Page<Collection>, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    collections::list(&backend, &p, Some(200), cursor.as_deref())
        .await
        .map_err(service_error)
}

#[server(endpoint = "create_collection")]
pub async fn create_collection(
    name: String,
    description: Option<String>,
) -> Result<Collection, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    let request = CreateCollectionRequest { name, description };
    collections::create(&backend, &p, &request)
        .await
        .map_err(service_error)
}

/// Renames a collection (a form: works before hydration).
#[server(endpoint = "rename_collection")]
pub async fn rename_collection(id: String, name: String) -> Result<Collection, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    let change = UpdateCollectionRequest {
        name: Some(name),
        ..UpdateCollectionRequest::default()
    };
    collections::update(&backend, &p, &id, &change)
        .await
        .map_err(service_error)
}

#[server(endpoint = "update_collection", input = Json)]
pub async fn update_collection(
    id: String,
    change: UpdateCollectionRequest,
) -> Result<Collection, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    collections::update(&backend, &p, &id, &change)
        .await
        .map_err(service_error)
}

#[server(endpoint = "delete_collection")]
pub async fn delete_collection(id: String) -> Result<(), AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    collections::delete(&backend, &p, &id)
        .await
        .map_err(service_error)
}

#[server(endpoint = "list_characters")]
pub async fn list_characters(cursor: Option<String>) -> Result<Page<Character>, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    characters::list(&backend, &p, Some(200), cursor.as_deref())
        .await
        .map_err(service_error)
}

#[server(endpoint = "get_character")]
pub async fn get_character(id: String) -> Result<Character, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    characters::get(&backend, &p, &id)
        .await
        .map_err(service_error)
}

#[server(endpoint = "create_character")]
pub async fn create_character(
    name: String,
    description: Option<String>,
    appearance: Option<String>,
    avatar_prompt: Option<String>,
    /// The "Make an avatar now" checkbox.
    make_avatar: Option<String>,
) -> Result<Character, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    let request = CreateCharacterRequest {
        name,
        description,
        appearance,
        avatar_prompt,
        ..CreateCharacterRequest::default()
    };
    let character = characters::create(&backend, &p, &request)
        .await
        .map_err(service_error)?;
    // "Make an avatar now": the character exists whatever happens next; should the jobs
    // be refused (a quota), its page's "Make a new avatar" says why.
    if make_avatar.is_some() {
        if let Err(e) = backend::services::avatars::first_avatar(&backend, &p, &character.id).await
        {
            tracing::info!(error = %e, "the new character's first avatar was not started");
        }
    }
    leptos_axum::redirect(&format!("/characters/{}", character.id));
    Ok(character)
}

/// Saves the details form of a character page (blank fields clear).
#[server(endpoint = "save_character")]
pub async fn save_character(
    id: String,
    name: String,
    description: Option<String>,
    appearance: Option<String>,
    avatar_prompt: Option<String>,
) -> Result<Character, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    let change = UpdateCharacterRequest {
        name: Some(name),
        description: Some(description),
        appearance: Some(appearance),
        avatar_prompt: Some(avatar_prompt),
        ..UpdateCharacterRequest::default()
    };
    characters::update(&backend, &p, &id, &change)
        .await
        .map_err(service_error)
}

/// Adds an image to a character's identity references (`chosen`), or takes it out.
#[server(endpoint = "set_identity_reference")]
pub async fn set_identity_reference(
    id: String,
    image_id: String,
    chosen: bool,
) -> Result<Character, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    characters::set_identity_reference(&backend, &p, &id, &image_id, chosen)
        .await
        .map_err(service_error)
}

#[server(endpoint = "update_character", input = Json)]
pub async fn update_character(
    id: String,
    change: UpdateCharacterRequest,
) -> Result<Character, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    characters::update(&backend, &p, &id, &change)
        .await
        .map_err(service_error)
}

#[server(endpoint = "delete_character")]
pub async fn delete_character(id: String) -> Result<(), AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    characters::delete(&backend, &p, &id)
        .await
        .map_err(service_error)?;
    leptos_axum::redirect("/characters");
    Ok(())
}

#[server(endpoint = "set_character_avatar")]
pub async fn set_character_avatar(id: String, image_id: String) -> Result<Character, AppError> {
    let (backend, p) = (backend()?, require_principal()?);
    characters::set_avatar(&backend, &p, &id, &image_id)
        .await
        .map_err(service_error)
}
