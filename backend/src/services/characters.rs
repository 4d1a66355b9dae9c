//! Characters, the avatar subjects: create, edit, delete, choose an avatar among one's
//! images (or import one), and the history of every image made for them.

use model::{
    AvatarSettings, Character, CreateCharacterRequest, Page, ProviderId, UpdateCharacterRequest,
};
use secrecy::ExposeSecret;

use super::{auth::Principal, into_page, page_cursor, page_limit, parse_id, ServiceError};
use crate::{
    db::{
        characters::{self, CharacterFields, CharacterRecord},
        images,
    },
    domain::{parse_label, parse_text, FieldError, Id},
    providers, Backend,
};

const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 2000;
/// The appearance is threaded into every prompt that names the character.
pub const MAX_APPEARANCE: usize = 2000;
/// Identity references sent with each generation (Gemini keeps identity best with a few).
pub const MAX_IDENTITY_REFERENCES: usize = 4;
/// Prompts are sent to providers; theirs are at most 4000 characters.
pub const MAX_PROMPT: usize = 4000;
/// The generation settings are a small JSON object.
const MAX_CONFIG_BYTES: usize = 4096;

/// Checks a character's generation settings against the catalogue: a known provider and
/// model, and a size and quality that model takes. Stored normalised.
pub fn parse_config(raw: Option<&serde_json::Value>) -> Result<Option<String>, ServiceError> {
    let invalid = |message: String| -> ServiceError {
        FieldError::new("avatar_generation_config", message).into()
    };
    let value = match raw {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(v @ serde_json::Value::Object(_)) => v,
        Some(_) => {
            return Err(invalid(
                "The settings must be a JSON object, e.g. {\"provider\": \"builtin\"}.".into(),
            ))
        }
    };
    if value.to_string().len() > MAX_CONFIG_BYTES {
        return Err(invalid(format!(
            "Keep the settings under {MAX_CONFIG_BYTES} bytes."
        )));
    }
    let settings: AvatarSettings = serde_json::from_value(value.clone())
        .map_err(|e| invalid(format!("These settings cannot be used: {e}.")))?;
    let provider = settings.provider.unwrap_or(ProviderId::Builtin);
    let model = providers::find_model(provider, settings.model.as_deref()).ok_or_else(|| {
        let known: Vec<String> = providers::models(provider)
            .into_iter()
            .map(|m| m.id)
            .collect();
        invalid(format!(
            "{} has no such model: use {}.",
            provider.label(),
            known.join(", ")
        ))
    })?;
    if let Some(size) = &settings.size {
        if !model.sizes.contains(size) {
            return Err(invalid(format!(
                "{} takes these sizes: {}.",
                model.label,
                model.sizes.join(", ")
            )));
        }
    }
    if let Some(quality) = &settings.quality {
        if !model.qualities.contains(quality) {
            return Err(invalid(if model.qualities.is_empty() {
                format!("{} has no quality setting.", model.label)
            } else {
                format!(
                    "{} takes these qualities: {}.",
                    model.label,
                    model.qualities.join(", ")
                )
            }));
        }
    }
    if settings.reference_image_ids.len() > usize::from(model.max_reference_images)
        || settings
            .reference_image_ids
            .iter()
            .any(|id| Id::parse(id).is_none())
    {
        return Err(invalid(format!(
            "{} takes at most {} reference images, each one of your images.",
            model.label, model.max_reference_images
        )));
    }
    if settings
        .seed
        .is_some_and(|s| !(0..=i64::from(u32::MAX)).contains(&s))
    {
        return Err(invalid("Use a seed from 0 to 4294967295.".into()));
    }
    serde_json::to_string(&settings)
        .map(Some)
        .map_err(ServiceError::internal)
}

/// The identity references: valid ids, each once, at most
/// [`MAX_IDENTITY_REFERENCES`], every one the caller's finished image outside the trash
/// (one query for all). Stored as a JSON array.
async fn parse_identity_references(
    backend: &Backend,
    principal: &Principal,
    ids: &[String],
) -> Result<String, ServiceError> {
    let invalid = |message: &str| -> ServiceError {
        FieldError::new("identity_reference_ids", message.to_owned()).into()
    };
    let mut chosen: Vec<String> = Vec::new();
    for id in ids {
        let id = Id::parse(id.trim())
            .ok_or_else(|| invalid("An identity reference does not exist, or it is not yours."))?;
        if !chosen.iter().any(|c| c == id.as_str()) {
            chosen.push(id.as_str().to_owned());
        }
    }
    if chosen.len() > MAX_IDENTITY_REFERENCES {
        return Err(invalid(&format!(
            "Choose at most {MAX_IDENTITY_REFERENCES} identity references."
        )));
    }
    if super::images::usable(backend, principal.user_id(), &chosen)
        .await?
        .len()
        != chosen.len()
    {
        return Err(invalid(
            "An identity reference does not exist, is not finished, or is in the trash.",
        ));
    }
    serde_json::to_string(&chosen).map_err(ServiceError::internal)
}

pub async fn create(
    backend: &Backend,
    principal: &Principal,
    request: &CreateCharacterRequest,
) -> Result<Character, ServiceError> {
    let identity_reference_ids = match &request.identity_reference_ids {
        Some(ids) => Some(parse_identity_references(backend, principal, ids).await?),
        None => None,
    };
    let fields = CharacterFields {
        name: parse_label("name", &request.name, MAX_NAME)?,
        description: parse_text(
            "description",
            request.description.as_deref(),
            MAX_DESCRIPTION,
        )?,
        avatar_prompt: parse_text(
            "avatar_prompt",
            request.avatar_prompt.as_deref(),
            MAX_PROMPT,
        )?,
        avatar_generation_config: parse_config(request.avatar_generation_config.as_ref())?,
        appearance: parse_text("appearance", request.appearance.as_deref(), MAX_APPEARANCE)?,
        identity_reference_ids,
    };
    let record = characters::insert(
        &backend.db,
        Id::new().as_str(),
        principal.user_id(),
        &fields,
    )
    .await?;
    Ok(record.to_model(&backend.config.public_url))
}

pub async fn list(
    backend: &Backend,
    principal: &Principal,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<Page<Character>, ServiceError> {
    let limit = page_limit(limit)?;
    let before = page_cursor(cursor)?;
    let rows = characters::list(
        &backend.db,
        principal.user_id(),
        before.as_deref(),
        limit + 1,
    )
    .await?;
    Ok(into_page(
        rows,
        limit,
        |r| r.id.clone(),
        |r| r.to_model(&backend.config.public_url),
    ))
}

pub(crate) async fn record(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<CharacterRecord, ServiceError> {
    let id = parse_id(id)?;
    characters::get(&backend.db, principal.user_id(), id.as_str())
        .await?
        .ok_or(ServiceError::NotFound)
}

pub async fn get(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<Character, ServiceError> {
    Ok(record(backend, principal, id)
        .await?
        .to_model(&backend.config.public_url))
}

pub async fn update(
    backend: &Backend,
    principal: &Principal,
    id: &str,
    request: &UpdateCharacterRequest,
) -> Result<Character, ServiceError> {
    let current = record(backend, principal, id).await?;
    let fields = CharacterFields {
        name: match &request.name {
            Some(n) => parse_label("name", n, MAX_NAME)?,
            None => current.name.clone(),
        },
        description: match &request.description {
            Some(d) => parse_text("description", d.as_deref(), MAX_DESCRIPTION)?,
            None => current.description.clone(),
        },
        avatar_prompt: match &request.avatar_prompt {
            Some(p) => parse_text("avatar_prompt", p.as_deref(), MAX_PROMPT)?,
            None => current.avatar_prompt.clone(),
        },
        avatar_generation_config: match &request.avatar_generation_config {
            Some(c) => parse_config(c.as_ref())?,
            None => current.avatar_generation_config.clone(),
        },
        appearance: match &request.appearance {
            Some(a) => parse_text("appearance", a.as_deref(), MAX_APPEARANCE)?,
            None => current.appearance.clone(),
        },
        identity_reference_ids: match &request.identity_reference_ids {
            Some(Some(ids)) => Some(parse_identity_references(backend, principal, ids).await?),
            Some(None) => None,
            None => current.identity_reference_ids.clone(),
        },
    };
    characters::update(&backend.db, principal.user_id(), &current.id, &fields)
        .await?
        .map(|r| r.to_model(&backend.config.public_url))
        .ok_or(ServiceError::NotFound)
}

/// The identity references with `image_id` added (`chosen`) or removed; `None` when a
/// fifth is added.
fn toggled(current: &[String], image_id: &str, chosen: bool) -> Option<Vec<String>> {
    if chosen && current.iter().any(|i| i == image_id) {
        return Some(current.to_vec());
    }
    let mut list: Vec<String> = current.iter().filter(|i| *i != image_id).cloned().collect();
    if chosen {
        if list.len() >= MAX_IDENTITY_REFERENCES {
            return None;
        }
        list.push(image_id.to_owned());
    }
    Some(list)
}

/// Adds one of the caller's images to the character's identity references, or takes it
/// out (the Character page's buttons; the API sets the whole list with PATCH).
pub async fn set_identity_reference(
    backend: &Backend,
    principal: &Principal,
    id: &str,
    image_id: &str,
    chosen: bool,
) -> Result<Character, ServiceError> {
    let current = record(backend, principal, id).await?;
    let image_id = parse_id(image_id)?;
    let list =
        toggled(&current.identity_references(), image_id.as_str(), chosen).ok_or_else(|| {
            FieldError::new(
                "identity_reference_ids",
                format!(
                "{} already has {MAX_IDENTITY_REFERENCES} identity references: take one out first.",
                current.name
            ),
            )
        })?;
    let change = UpdateCharacterRequest {
        identity_reference_ids: Some(Some(list)),
        ..UpdateCharacterRequest::default()
    };
    update(backend, principal, &current.id, &change).await
}

/// Deletes the character; the images made for it stay in the library.
pub async fn delete(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<(), ServiceError> {
    let id = parse_id(id)?;
    if characters::delete(&backend.db, principal.user_id(), id.as_str()).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound)
    }
}

/// `PUT /api/v1/characters/{id}/avatar`: one of the caller's finished images, not in the
/// trash, becomes the avatar.
pub async fn set_avatar(
    backend: &Backend,
    principal: &Principal,
    id: &str,
    image_id: &str,
) -> Result<Character, ServiceError> {
    let character = record(backend, principal, id).await?;
    let image_id = parse_id(image_id)?;
    let image = images::get(&backend.db, principal.user_id(), image_id.as_str())
        .await?
        .ok_or(ServiceError::NotFound)?;
    if image.deleted_at.is_some() || image.status != model::ImageStatus::Completed {
        return Err(FieldError::new(
            "image_id",
            "Choose a finished image that is not in the trash.",
        )
        .into());
    }
    characters::set_avatar(&backend.db, principal.user_id(), &character.id, &image.id)
        .await?
        .map(|r| r.to_model(&backend.config.public_url))
        .ok_or(ServiceError::NotFound)
}

/// `POST /api/v1/characters/{id}/public-avatar`: a link anyone may open, to the
/// character's current avatar (whatever it becomes), that does not expire. Asking again
/// answers the same link.
pub async fn publish_avatar(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<Character, ServiceError> {
    let character = record(backend, principal, id).await?;
    let token = crate::crypto::random_token("");
    characters::publish_avatar(
        &backend.db,
        principal.user_id(),
        &character.id,
        token.expose_secret(),
    )
    .await?
    .map(|r| r.to_model(&backend.config.public_url))
    .ok_or(ServiceError::NotFound)
}

/// `DELETE /api/v1/characters/{id}/public-avatar`: the link opens nothing from now on (a
/// new one can be made; it is a different address).
pub async fn unpublish_avatar(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<Character, ServiceError> {
    let character = record(backend, principal, id).await?;
    characters::unpublish_avatar(&backend.db, principal.user_id(), &character.id)
        .await?
        .map(|r| r.to_model(&backend.config.public_url))
        .ok_or(ServiceError::NotFound)
}

/// The avatar a public avatar link opens: a finished image outside the trash. Anything
/// else (no such link, revoked, no avatar) is 404, with no hint of which.
pub(super) async fn public_avatar(
    backend: &Backend,
    token: &str,
) -> Result<images::ImageRecord, ServiceError> {
    // Tokens are 43 base64url characters; anything else is not looked up.
    if token.len() != 43
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ServiceError::NotFound);
    }
    let character = characters::by_public_avatar_token(&backend.db, token)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let avatar = character
        .avatar_image_id
        .as_deref()
        .ok_or(ServiceError::NotFound)?;
    images::get(&backend.db, &character.user_id, avatar)
        .await?
        .filter(|i| i.deleted_at.is_none() && i.status == model::ImageStatus::Completed)
        .ok_or(ServiceError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::toggled;

    #[test]
    fn identity_references_are_added_once_removed_and_kept_to_four() {
        let list = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(toggled(&list(&["a"]), "b", true), Some(list(&["a", "b"])));
        assert_eq!(
            toggled(&list(&["a", "b"]), "a", true),
            Some(list(&["a", "b"]))
        );
        assert_eq!(toggled(&list(&["a", "b"]), "a", false), Some(list(&["b"])));
        assert_eq!(toggled(&list(&["a"]), "z", false), Some(list(&["a"])));
        assert_eq!(toggled(&list(&["a", "b", "c", "d"]), "e", true), None);
        // Choosing one already chosen is not a fifth.
        assert_eq!(
            toggled(&list(&["a", "b", "c", "d"]), "d", true),
            Some(list(&["a", "b", "c", "d"]))
        );
    }
}
