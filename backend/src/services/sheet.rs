//! The character sheet inside a generation: every request that names a character is
//! built from the sheet. The appearance is threaded into the prompt by one documented
//! template (what the person typed stays the instruction), and the identity references go
//! with it as reference images, as far as the model takes them.

use model::{ModelInfo, SheetUse};

use super::ServiceError;
use crate::{db::characters::CharacterRecord, domain::FieldError, providers::Identity, Backend};

/// The template: `{prompt}. The character: {appearance}` (no second full stop when the
/// prompt already ends a sentence).
pub fn compose_prompt(prompt: &str, appearance: Option<&str>) -> String {
    let prompt = prompt.trim();
    match appearance.map(str::trim).filter(|a| !a.is_empty()) {
        None => prompt.to_owned(),
        Some(appearance) if prompt.ends_with(['.', '!', '?']) => {
            format!("{prompt} The character: {appearance}")
        }
        Some(appearance) => format!("{prompt}. The character: {appearance}"),
    }
}

/// The avatar prompt of a character that has none saved: a portrait from its name and
/// description (its appearance joins through [`compose_prompt`]).
pub fn default_avatar_prompt(name: &str, description: Option<&str>) -> String {
    match description.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => format!("A head-and-shoulders portrait of {}: {d}", name.trim()),
        None => format!("A head-and-shoulders portrait of {}", name.trim()),
    }
}

/// What the sheet adds to one request.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The prompt as sent.
    pub prompt: String,
    /// Every reference image sent: the request's own first, then the identity ones.
    pub reference_image_ids: Vec<String>,
    /// For the provenance.
    pub sheet: SheetUse,
    /// For the built-in generator, which draws the character's own features.
    pub identity: Identity,
}

/// Builds a request from the character's sheet: the prompt through the template, and the
/// identity references that are still usable (finished, not in the trash) added after the
/// request's own, up to what the model takes (none for a model without reference images).
/// An appearance that would make the prompt too long for the model is the request's
/// mistake, named in the `prompt` field.
pub async fn apply(
    backend: &Backend,
    character: &CharacterRecord,
    model: &ModelInfo,
    prompt: &str,
    explicit: &[String],
) -> Result<Applied, ServiceError> {
    let sent = compose_prompt(prompt, character.appearance.as_deref());
    let length = sent.chars().count();
    if length > model.max_prompt_chars as usize {
        return Err(FieldError::new(
            "prompt",
            format!(
                "With {}'s appearance the prompt is {length} characters, and {} takes at most {}: shorten the prompt or the appearance.",
                character.name, model.label, model.max_prompt_chars
            ),
        )
        .into());
    }
    let room = usize::from(model.max_reference_images).saturating_sub(explicit.len());
    let wanted: Vec<String> = character
        .identity_references()
        .into_iter()
        .filter(|id| !explicit.contains(id))
        .collect();
    let identity_ids = if room == 0 || wanted.is_empty() {
        Vec::new()
    } else {
        let mut usable = super::images::usable(backend, &character.user_id, &wanted).await?;
        usable.truncate(room);
        usable
    };
    let mut reference_image_ids = explicit.to_vec();
    reference_image_ids.extend(identity_ids.iter().cloned());
    Ok(Applied {
        sheet: SheetUse {
            character_id: character.id.clone(),
            version: character.sheet_version,
            appearance_in_prompt: sent != prompt.trim(),
            identity_reference_ids: identity_ids.clone(),
            prompt_sent: sent.clone(),
        },
        identity: Identity {
            character_id: character.id.clone(),
            appearance: character.appearance.clone(),
            instruction: prompt.trim().to_owned(),
            reference_image_ids: identity_ids,
        },
        prompt: sent,
        reference_image_ids,
    })
}

/// An edit of an image of the character: the image shows the character already, so the
/// instruction goes alone (the appearance would contradict "make the hair blue") and no
/// identity reference is added; the provenance still names the sheet.
pub fn for_edit(character: &CharacterRecord, prompt: &str, explicit: &[String]) -> Applied {
    let prompt = prompt.trim().to_owned();
    Applied {
        sheet: SheetUse {
            character_id: character.id.clone(),
            version: character.sheet_version,
            appearance_in_prompt: false,
            identity_reference_ids: Vec::new(),
            prompt_sent: prompt.clone(),
        },
        identity: Identity {
            character_id: character.id.clone(),
            appearance: character.appearance.clone(),
            instruction: prompt.clone(),
            reference_image_ids: Vec::new(),
        },
        prompt,
        reference_image_ids: explicit.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_appearance_follows_the_instruction() {
        assert_eq!(
            compose_prompt("Waving at the camera", Some("A tall woman with red hair")),
            "Waving at the camera. The character: A tall woman with red hair"
        );
        assert_eq!(
            compose_prompt(" In the rain! ", Some(" Short grey beard ")),
            "In the rain! The character: Short grey beard"
        );
        assert_eq!(compose_prompt("A fox", None), "A fox");
        assert_eq!(compose_prompt("A fox", Some("  ")), "A fox");
    }

    #[test]
    fn a_character_without_a_prompt_gets_a_portrait_of_itself() {
        assert_eq!(
            default_avatar_prompt("Ada", Some("a clockmaker from Prague")),
            "A head-and-shoulders portrait of Ada: a clockmaker from Prague"
        );
        assert_eq!(
            default_avatar_prompt(" Ada ", Some(" ")),
            "A head-and-shoulders portrait of Ada"
        );
    }
}
