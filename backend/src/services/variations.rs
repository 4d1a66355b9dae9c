//! Variations of a character (issue 19 §2): one click makes a set of pictures of it — a
//! smile, a profile, in winter clothes, as pixel art… — each a generation from its sheet.
//! The presets are data (`config::variations`: shipped, extended by `VARIATIONS_FILE`).

use model::{GenerationRequest, Job, VariationPreset, VariationsRequest};

use super::{
    auth::Principal,
    avatars::{avatar_model, saved_settings},
    generations::{check_spend_of_set, invalid, start, Options},
    ServiceError,
};
use crate::Backend;

/// `GET /api/v1/variations`: the presets this instance offers.
pub fn presets(backend: &Backend) -> Vec<VariationPreset> {
    backend.config.variation_presets.clone()
}

/// The presets asked for, in the instance's order: all of them when none are named; an
/// unknown id is the request's mistake, named.
fn chosen<'a>(
    all: &'a [VariationPreset],
    asked: Option<&[String]>,
) -> Result<Vec<&'a VariationPreset>, ServiceError> {
    let Some(asked) = asked else {
        return Ok(all.iter().collect());
    };
    if let Some(unknown) = asked.iter().find(|id| !all.iter().any(|p| &p.id == *id)) {
        let known: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
        return Err(invalid(
            "presets",
            format!(
                "There is no variation '{}': choose from {}.",
                unknown.chars().take(40).collect::<String>(),
                known.join(", ")
            ),
        ));
    }
    let picked: Vec<&VariationPreset> = all.iter().filter(|p| asked.contains(&p.id)).collect();
    if picked.is_empty() {
        return Err(invalid("presets", "Choose at least one variation."));
    }
    Ok(picked)
}

/// `POST /api/v1/characters/{id}/variations`: one job per chosen preset, each from the
/// character's sheet, with the character's saved settings (else the best model with a
/// key) unless the request names a provider or model. The whole set is checked against
/// the quotas and the spending caps first, so that it is started whole or not at all.
pub async fn start_set(
    backend: &Backend,
    principal: &Principal,
    character_id: &str,
    req: &VariationsRequest,
) -> Result<Vec<Job>, ServiceError> {
    let character = super::characters::record(backend, principal, character_id).await?;
    let all = presets(backend);
    let picked = chosen(&all, req.presets.as_deref())?;
    let count = u8::try_from(picked.len()).unwrap_or(u8::MAX);
    super::quotas::check_generation(backend, principal.user_id(), count).await?;
    let saved = saved_settings(&character);
    let (provider, model, size, quality) = if req.provider.is_some() || req.model.is_some() {
        (
            req.provider,
            req.model.clone(),
            req.size.clone(),
            req.quality.clone(),
        )
    } else {
        // The character's saved model, else the best one the person has a key for.
        let (provider, model) = avatar_model(backend, principal, None, None, &saved).await?;
        (
            provider,
            model,
            req.size.clone().or(saved.size),
            req.quality.clone().or(saved.quality),
        )
    };
    let requests: Vec<GenerationRequest> = picked
        .into_iter()
        .map(|preset| GenerationRequest {
            prompt: preset.prompt.clone(),
            provider,
            model: model.clone(),
            size: size.clone(),
            quality: quality.clone(),
            n: Some(1),
            reference_image_ids: Vec::new(),
            character_id: Some(character.id.clone()),
            collection_id: None,
            seed: None,
            targets: None,
        })
        .collect();
    if let Some(first) = requests.first() {
        let times = u32::try_from(requests.len()).unwrap_or(u32::MAX);
        check_spend_of_set(backend, principal, first, times).await?;
    }
    let mut jobs = Vec::new();
    for request in &requests {
        jobs.extend(start(backend, principal, request, &Options::default()).await?);
    }
    tracing::info!(jobs = jobs.len(), "variations queued");
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_chosen_by_id_in_the_instances_order() {
        let all = crate::config::variations::shipped();
        let ids = |v: Vec<&VariationPreset>| v.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
        assert_eq!(chosen(&all, None).unwrap().len(), all.len());
        let asked = vec!["pixel-art".to_owned(), "smiling".to_owned()];
        assert_eq!(
            ids(chosen(&all, Some(&asked)).unwrap()),
            ["smiling", "pixel-art"]
        );
        let unknown = vec!["smiling".to_owned(), "upside-down".to_owned()];
        let err = chosen(&all, Some(&unknown)).unwrap_err();
        assert!(
            err.to_string().contains("no variation 'upside-down'"),
            "{err}"
        );
        assert!(chosen(&all, Some(&[])).is_err());
    }
}
