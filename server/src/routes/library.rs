//! `/api/v1` characters, collections, images, uploads, imports and stats (API.md). Each
//! handler reads the request, calls one `backend` service and shapes the answer.
//!
//! Over 500 lines because it holds one thin handler per route of the library (API.md); the
//! logic of each is in its service.

use axum::{
    extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Multipart, Path, Query, State},
    http::{request::Parts, StatusCode},
    routing::{delete, get, post, put},
    Json, Router,
};
use backend::{
    services::{characters, collections, images, ingest},
    Backend,
};
use model::{
    BulkRequest, BulkResult, Character, Collection, CreateCharacterRequest,
    CreateCollectionRequest, EmptyTrashResult, Image, ImageFilter, ImportRequest, ImportUrlRequest,
    Page, PublicAvatar, SetAvatarRequest, Stats, UpdateCharacterRequest, UpdateCollectionRequest,
    UpdateImageRequest, UploadResult,
};
use serde::{de::DeserializeOwned, Deserialize};

use crate::{
    auth::Authenticated, error::ApiErrorResponse, routes::account::ApiJson, state::AppState,
};

type ApiResult<T> = Result<T, ApiErrorResponse>;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/characters", get(list_characters).post(create_character))
        .route(
            "/characters/{id}",
            get(get_character)
                .patch(update_character)
                .delete(delete_character),
        )
        .route(
            "/characters/{id}/avatar",
            put(set_avatar).post(super::generations::character_avatar),
        )
        .route("/characters/{id}/avatar/import", post(import_avatar))
        .route(
            "/characters/{id}/public-avatar",
            post(publish_avatar).delete(unpublish_avatar),
        )
        .route("/trash", delete(empty_trash))
        .route(
            "/collections",
            get(list_collections).post(create_collection),
        )
        .route(
            "/collections/{id}",
            get(get_collection)
                .patch(update_collection)
                .delete(delete_collection),
        )
        .route(
            "/uploads",
            // Each file is limited while it streams in; the whole body is not.
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/images", get(list_images))
        .route("/images/import", post(import_image))
        .route("/images/bulk", post(bulk))
        .route("/images/export", get(export))
        .route(
            "/images/{id}",
            get(get_image).patch(update_image).delete(delete_image),
        )
        .route("/images/{id}/restore", post(restore_image))
        .route("/stats", get(stats))
}

/// Query parameters; a malformed query is a 400 in the API's error format.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiErrorResponse;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Self(v)),
            Err(rejection) => Err(ApiErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!(
                    "The query string is not what this endpoint takes: {}",
                    rejection.body_text()
                ),
            )),
        }
    }
}

/// A multipart body; a request that is not one is a 400 in the API's error format.
pub struct ApiMultipart(pub Multipart);

impl<S: Send + Sync> FromRequest<S> for ApiMultipart {
    type Rejection = ApiErrorResponse;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        Multipart::from_request(req, state)
            .await
            .map(Self)
            .map_err(|rejection| {
                ApiErrorResponse::bad_body(format!(
                    "Send the files as multipart/form-data: {}",
                    rejection.body_text()
                ))
            })
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

// ---------------------------------------------------------------------------- characters

/// Your characters, newest first.
#[utoipa::path(get, path = "/api/v1/characters", tag = "characters", params(PageQuery),
    responses((status = 200, body = Page<Character>), (status = 401, body = model::ApiError)))]
pub async fn list_characters(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Character>>> {
    Ok(Json(
        characters::list(&backend, &p, q.limit, q.cursor.as_deref()).await?,
    ))
}

/// Create a character.
#[utoipa::path(post, path = "/api/v1/characters", tag = "characters", request_body = CreateCharacterRequest,
    responses((status = 201, body = Character), (status = 400, body = model::ApiError), (status = 401, body = model::ApiError)))]
pub async fn create_character(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<CreateCharacterRequest>,
) -> ApiResult<(StatusCode, Json<Character>)> {
    Ok((
        StatusCode::CREATED,
        Json(characters::create(&backend, &p, &body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/characters/{id}", tag = "characters",
    responses((status = 200, body = Character), (status = 401, body = model::ApiError), (status = 404, body = model::ApiError)))]
pub async fn get_character(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Character>> {
    Ok(Json(characters::get(&backend, &p, &id).await?))
}

/// Change a character; absent fields stay, `null` clears.
#[utoipa::path(patch, path = "/api/v1/characters/{id}", tag = "characters", request_body = UpdateCharacterRequest,
    responses((status = 200, body = Character), (status = 400, body = model::ApiError), (status = 404, body = model::ApiError)))]
pub async fn update_character(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateCharacterRequest>,
) -> ApiResult<Json<Character>> {
    Ok(Json(characters::update(&backend, &p, &id, &body).await?))
}

/// Delete a character; its images stay in the library.
#[utoipa::path(delete, path = "/api/v1/characters/{id}", tag = "characters",
    responses((status = 204, description = "Deleted"), (status = 404, body = model::ApiError)))]
pub async fn delete_character(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    characters::delete(&backend, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Use one of your finished images as the avatar.
#[utoipa::path(put, path = "/api/v1/characters/{id}/avatar", tag = "characters", request_body = SetAvatarRequest,
    responses((status = 200, body = Character), (status = 400, body = model::ApiError), (status = 404, body = model::ApiError)))]
pub async fn set_avatar(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetAvatarRequest>,
) -> ApiResult<Json<Character>> {
    Ok(Json(
        characters::set_avatar(&backend, &p, &id, &body.image_id).await?,
    ))
}

/// Import an image from a URL and make it the avatar.
#[utoipa::path(post, path = "/api/v1/characters/{id}/avatar/import", tag = "characters", request_body = ImportUrlRequest,
    responses((status = 201, body = Image), (status = 400, body = model::ApiError), (status = 404, body = model::ApiError),
        (status = 413, body = model::ApiError), (status = 415, body = model::ApiError), (status = 422, body = model::ApiError)))]
pub async fn import_avatar(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ImportUrlRequest>,
) -> ApiResult<(StatusCode, Json<Image>)> {
    let image = ingest::import_avatar(&backend, &p, &id, &body.url).await?;
    Ok((StatusCode::CREATED, Json(image)))
}

/// A public link to the character's current avatar, for embedding elsewhere: stable (asking
/// again answers the same link), unguessable, never expiring, revocable.
#[utoipa::path(post, path = "/api/v1/characters/{id}/public-avatar", tag = "characters",
    params(("id" = String, Path, description = "The character id")),
    responses((status = 200, body = PublicAvatar), (status = 404, body = model::ApiError)))]
pub async fn publish_avatar(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<PublicAvatar>> {
    let character = characters::publish_avatar(&backend, &p, &id).await?;
    Ok(Json(PublicAvatar {
        url: character.public_avatar_url.unwrap_or_default(),
    }))
}

/// Revokes the public avatar link: from now on it is 404 (also when there was none).
#[utoipa::path(delete, path = "/api/v1/characters/{id}/public-avatar", tag = "characters",
    params(("id" = String, Path, description = "The character id")),
    responses((status = 204, description = "Revoked"), (status = 404, body = model::ApiError)))]
pub async fn unpublish_avatar(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    characters::unpublish_avatar(&backend, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --------------------------------------------------------------------------- collections

#[utoipa::path(get, path = "/api/v1/collections", tag = "collections", params(PageQuery),
    responses((status = 200, body = Page<Collection>), (status = 401, body = model::ApiError)))]
pub async fn list_collections(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Collection>>> {
    Ok(Json(
        collections::list(&backend, &p, q.limit, q.cursor.as_deref()).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/collections", tag = "collections", request_body = CreateCollectionRequest,
    responses((status = 201, body = Collection), (status = 400, body = model::ApiError), (status = 401, body = model::ApiError)))]
pub async fn create_collection(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<CreateCollectionRequest>,
) -> ApiResult<(StatusCode, Json<Collection>)> {
    Ok((
        StatusCode::CREATED,
        Json(collections::create(&backend, &p, &body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/collections/{id}", tag = "collections",
    responses((status = 200, body = Collection), (status = 404, body = model::ApiError)))]
pub async fn get_collection(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Collection>> {
    Ok(Json(collections::get(&backend, &p, &id).await?))
}

/// Rename, describe or choose the cover; absent fields stay, `null` clears.
#[utoipa::path(patch, path = "/api/v1/collections/{id}", tag = "collections", request_body = UpdateCollectionRequest,
    responses((status = 200, body = Collection), (status = 400, body = model::ApiError), (status = 404, body = model::ApiError)))]
pub async fn update_collection(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateCollectionRequest>,
) -> ApiResult<Json<Collection>> {
    Ok(Json(collections::update(&backend, &p, &id, &body).await?))
}

/// Delete a collection; its images stay in the library.
#[utoipa::path(delete, path = "/api/v1/collections/{id}", tag = "collections",
    responses((status = 204, description = "Deleted"), (status = 404, body = model::ApiError)))]
pub async fn delete_collection(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    collections::delete(&backend, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// -------------------------------------------------------------------------------- images

/// Upload images: one or more `file` parts, with optional `collection_id` and
/// `character_id` parts sent before the files. PNG, JPEG or WebP, decided by the content.
/// If one file is refused, none is kept.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "images",
    request_body(content_type = "multipart/form-data", description = "`file` parts (+ `collection_id`, `character_id` first)"),
    responses((status = 201, body = UploadResult), (status = 400, body = model::ApiError, description = "Damaged image or bad form"),
        (status = 401, body = model::ApiError), (status = 413, body = model::ApiError, description = "File or image too large"),
        (status = 415, body = model::ApiError, description = "Not a PNG, JPEG or WebP image")))]
pub async fn upload(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    ApiMultipart(mut multipart): ApiMultipart,
) -> ApiResult<(StatusCode, Json<UploadResult>)> {
    let max_files = backend.config.max_upload_files;
    let max_bytes = backend.config.image_limits.max_bytes;
    let mut collection_id: Option<String> = None;
    let mut character_id: Option<String> = None;
    let mut upload = ingest::Upload::new(&backend, &p);

    let outcome: ApiResult<()> = async {
        while let Some(mut field) = multipart.next_field().await.map_err(|e| bad_form(&e))? {
            let name = field.name().unwrap_or_default().to_owned();
            match name.as_str() {
                "collection_id" | "character_id" => {
                    if !upload.is_empty() {
                        return Err(ApiErrorResponse::bad_body(
                            "Send collection_id and character_id before the files.",
                        ));
                    }
                    let value = read_text(&mut field).await?;
                    if name == "collection_id" {
                        collection_id = Some(value);
                    } else {
                        character_id = Some(value);
                    }
                }
                "file" => {
                    if upload.len() >= max_files {
                        return Err(ApiErrorResponse::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "too_many_files",
                            format!("Upload at most {max_files} files at a time."),
                        ));
                    }
                    let filename = field.file_name().map(str::to_owned);
                    // Memory for the file is taken before its first byte is read.
                    let room = upload.room().await?;
                    let data = read_limited(&mut field, max_bytes).await.map_err(|e| named(e, filename.as_deref()))?;
                    upload
                        .add(collection_id.as_deref(), character_id.as_deref(), data, filename.as_deref())
                        .await
                        .map_err(|e| named(e.into(), filename.as_deref()))?;
                    drop(room);
                }
                other => {
                    return Err(ApiErrorResponse::bad_body(format!(
                        "Unexpected form field '{}': send `file` parts, and optionally collection_id and character_id.",
                        other.chars().take(40).collect::<String>()
                    )))
                }
            }
        }
        if upload.is_empty() {
            return Err(ApiErrorResponse::bad_body("Attach at least one file as a `file` part."));
        }
        Ok(())
    }
    .await;

    match outcome {
        Ok(()) => Ok((
            StatusCode::CREATED,
            Json(UploadResult {
                items: upload.finish(),
            }),
        )),
        Err(e) => {
            // All or nothing: what was stored before the refusal goes again.
            upload.discard().await;
            Err(e)
        }
    }
}

fn bad_form(e: &axum::extract::multipart::MultipartError) -> ApiErrorResponse {
    ApiErrorResponse::bad_body(format!(
        "The upload is not a valid multipart form: {}",
        e.body_text()
    ))
}

/// Prefixes an error about one file with its name, so that a person knows which one.
fn named(mut e: ApiErrorResponse, filename: Option<&str>) -> ApiErrorResponse {
    if let Some(name) = filename.filter(|n| !n.is_empty()) {
        let name: String = name.chars().filter(|c| !c.is_control()).take(100).collect();
        e.body.error.message = format!("{name}: {}", e.body.error.message);
    }
    e
}

async fn read_text(field: &mut axum::extract::multipart::Field<'_>) -> ApiResult<String> {
    let bytes = read_limited(field, 1024).await?;
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiErrorResponse::bad_body("A form field is not text."))
}

/// Reads a part, refusing it (413) as soon as it passes `limit`.
async fn read_limited(
    field: &mut axum::extract::multipart::Field<'_>,
    limit: u64,
) -> ApiResult<bytes::Bytes> {
    let mut data = bytes::BytesMut::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| bad_form(&e))? {
        if (data.len() + chunk.len()) as u64 > limit {
            return Err(backend::services::ServiceError::from(
                backend::imaging::ImageError::TooLarge { limit },
            )
            .into());
        }
        data.extend_from_slice(&chunk);
    }
    Ok(data.freeze())
}

/// Your images, newest first, filtered; `trashed=true` lists the trash.
#[utoipa::path(get, path = "/api/v1/images", tag = "images", params(ImageFilter),
    responses((status = 200, body = Page<Image>), (status = 400, body = model::ApiError), (status = 401, body = model::ApiError)))]
pub async fn list_images(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    ApiQuery(filter): ApiQuery<ImageFilter>,
) -> ApiResult<Json<Page<Image>>> {
    Ok(Json(images::list(&backend, &p, &filter).await?))
}

/// Import an image from a URL (http or https; private addresses are refused).
#[utoipa::path(post, path = "/api/v1/images/import", tag = "images", request_body = ImportRequest,
    responses((status = 201, body = Image), (status = 400, body = model::ApiError), (status = 401, body = model::ApiError),
        (status = 404, body = model::ApiError, description = "The destination collection or character is not yours"),
        (status = 413, body = model::ApiError), (status = 415, body = model::ApiError), (status = 422, body = model::ApiError)))]
pub async fn import_image(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<ImportRequest>,
) -> ApiResult<(StatusCode, Json<Image>)> {
    let image = ingest::import(
        &backend,
        &p,
        &body.url,
        body.collection_id.as_deref(),
        body.character_id.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(image)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// Comma-separated image ids.
    pub ids: Option<String>,
    /// Or a whole collection.
    pub collection_id: Option<String>,
}

/// A ZIP archive of the selected images (or a collection), each with a JSON sidecar of
/// its metadata, streamed as it is written.
#[utoipa::path(get, path = "/api/v1/images/export", tag = "images", params(ExportQuery),
    responses((status = 200, description = "The archive", content_type = "application/zip"),
        (status = 400, body = model::ApiError), (status = 401, body = model::ApiError),
        (status = 404, body = model::ApiError, description = "Nothing of yours to export")))]
pub async fn export(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::{http::header, response::IntoResponse};
    let selection =
        backend::services::export::selection(q.ids.as_deref(), q.collection_id.as_deref())?;
    let stream = backend::services::export::zip(&backend, &p, selection).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"avatar-studio-export.zip\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

/// Delete (to the trash), restore or move many images at once.
#[utoipa::path(post, path = "/api/v1/images/bulk", tag = "images", request_body = BulkRequest,
    responses((status = 200, body = BulkResult), (status = 400, body = model::ApiError), (status = 401, body = model::ApiError),
        (status = 404, body = model::ApiError, description = "The destination collection is not yours")))]
pub async fn bulk(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<BulkRequest>,
) -> ApiResult<Json<BulkResult>> {
    Ok(Json(images::bulk(&backend, &p, &body).await?))
}

/// Deletes every image in your trash for good, with its files and variants (one image or
/// a selection: `POST /images/bulk` with `"action": "purge"`).
#[utoipa::path(delete, path = "/api/v1/trash", tag = "images",
    responses((status = 200, body = EmptyTrashResult)))]
pub async fn empty_trash(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
) -> ApiResult<Json<EmptyTrashResult>> {
    Ok(Json(images::empty_trash(&backend, &p).await?))
}

#[utoipa::path(get, path = "/api/v1/images/{id}", tag = "images",
    responses((status = 200, body = Image), (status = 401, body = model::ApiError), (status = 404, body = model::ApiError)))]
pub async fn get_image(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Image>> {
    Ok(Json(images::get(&backend, &p, &id).await?))
}

/// Rename, favourite or move; absent fields stay, `null` clears.
#[utoipa::path(patch, path = "/api/v1/images/{id}", tag = "images", request_body = UpdateImageRequest,
    responses((status = 200, body = Image), (status = 400, body = model::ApiError), (status = 404, body = model::ApiError)))]
pub async fn update_image(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateImageRequest>,
) -> ApiResult<Json<Image>> {
    Ok(Json(images::update(&backend, &p, &id, &body).await?))
}

/// Move to the trash (its variants are deleted).
#[utoipa::path(delete, path = "/api/v1/images/{id}", tag = "images",
    responses((status = 204, description = "In the trash"), (status = 404, body = model::ApiError)))]
pub async fn delete_image(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    images::delete(&backend, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take an image out of the trash.
#[utoipa::path(post, path = "/api/v1/images/{id}/restore", tag = "images",
    responses((status = 200, body = Image), (status = 404, body = model::ApiError)))]
pub async fn restore_image(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Image>> {
    Ok(Json(images::restore(&backend, &p, &id).await?))
}

/// Counts by kind, status and provider, bytes used, characters with an avatar.
#[utoipa::path(get, path = "/api/v1/stats", tag = "images",
    responses((status = 200, body = Stats), (status = 401, body = model::ApiError)))]
pub async fn stats(
    State(backend): State<Backend>,
    Authenticated(p): Authenticated,
) -> ApiResult<Json<Stats>> {
    Ok(Json(images::stats(&backend, &p).await?))
}
