//! The Studio form's state and logic, as plain Rust beside the form (like
//! [`JobBook`]): [`FormState`] holds the form's signals (one `Copy` value for the form and
//! its parts), and what the form decides — the request it sends, which errors belong to a
//! field, how many images a model allows — is in pure functions tested here.
//!
//! [`JobBook`]: crate::live::JobBook

use leptos::prelude::*;
use model::{GenerationRequest, ModelInfo, ProviderInfo, Target};

use crate::{drafts::Draft, AppError};

/// The model chosen when the form opens.
pub const DEFAULT_MODEL: &str = "builtin/portrait-1";

/// The fields the form shows an error beside; an error about any other field (or none) is
/// shown above the form.
pub const FIELDS: [&str; 9] = [
    "prompt",
    "model",
    "size",
    "quality",
    "n",
    "seed",
    "reference_image_ids",
    "character_id",
    "collection_id",
];

/// What the person entered, as text (an empty choice is "the default" or "none").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormValues {
    pub prompt: String,
    pub size: String,
    pub quality: String,
    pub count: u8,
    pub seed: String,
    pub character: String,
    pub collection: String,
    pub references: Vec<String>,
}

/// The request the form sends for the chosen model, or the error to show beside a field.
/// The server checks everything again; this only catches what can be said at once.
pub fn build_request(
    values: FormValues,
    chosen: Option<&(ProviderInfo, ModelInfo)>,
) -> Result<GenerationRequest, AppError> {
    let invalid = |field: &str, message: &str| AppError::Validation {
        field: Some(field.to_owned()),
        message: message.to_owned(),
    };
    let Some((provider, model)) = chosen else {
        return Err(invalid("model", "Choose a model."));
    };
    let seed = match values.seed.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(v) if v >= 0 => Some(v),
            _ => return Err(invalid("seed", "A seed is a whole number, 0 or more.")),
        },
    };
    let blank = |v: String| Some(v).filter(|v| !v.trim().is_empty());
    Ok(GenerationRequest {
        prompt: values.prompt,
        provider: Some(provider.id),
        model: Some(model.id.clone()),
        size: blank(values.size),
        quality: blank(values.quality),
        n: Some(values.count),
        reference_image_ids: values.references,
        character_id: blank(values.character),
        collection_id: blank(values.collection),
        seed,
        targets: None,
    })
}

/// The most models one comparison sends the prompt to (the server's limit).
pub const MAX_COMPARED: usize = 6;

/// A comparison: the request sent to the chosen model and to each model in `compare`
/// (`provider/model` keys; the chosen one and unknown ones are left out), one image each
/// with one seed, as `targets`. Without models to compare, the request as it is.
pub fn with_targets(
    mut request: GenerationRequest,
    compare: &[String],
    catalogue: &[ProviderInfo],
    chosen: &str,
) -> Result<GenerationRequest, AppError> {
    let others: Vec<(ProviderInfo, ModelInfo)> = compare
        .iter()
        .filter(|k| k.as_str() != chosen)
        .filter_map(|k| crate::components::find_model(catalogue, k))
        .collect();
    if others.is_empty() {
        return Ok(request);
    }
    if others.len() + 1 > MAX_COMPARED {
        return Err(AppError::Validation {
            field: Some("model".to_owned()),
            message: format!("Compare at most {MAX_COMPARED} models at once."),
        });
    }
    let Some(provider) = request.provider else {
        return Ok(request);
    };
    let mut targets = vec![Target {
        provider,
        model: request.model.take(),
        size: request.size.take(),
        quality: request.quality.take(),
    }];
    targets.extend(others.into_iter().map(|(p, m)| Target {
        provider: p.id,
        model: Some(m.id),
        size: None,
        quality: None,
    }));
    request.provider = None;
    request.n = None;
    request.targets = Some(targets);
    Ok(request)
}

/// The sentence for an error that no field of the form shows.
pub fn general_error(error: &AppError) -> Option<String> {
    match error {
        AppError::Validation { field: Some(f), .. } if FIELDS.contains(&f.as_str()) => None,
        other => Some(other.to_string()),
    }
}

/// How many images to ask for once another model is chosen: no more than it allows.
pub fn count_for(count: u8, model: Option<&ModelInfo>) -> u8 {
    count.min(model.map_or(1, |m| m.max_n)).max(1)
}

/// What a chosen character brings to the chosen model, said beside the model picker: its
/// appearance always, its identity images only to a model that takes reference images.
pub fn sheet_hint(character_chosen: bool, model: Option<&ModelInfo>) -> Option<String> {
    let model = model.filter(|_| character_chosen)?;
    Some(if model.max_reference_images == 0 {
        format!(
            "{} takes no reference images: it gets the character's description only, so it may not look like them.",
            model.label
        )
    } else {
        format!(
            "{} gets the character's appearance and up to {} of its identity images.",
            model.label,
            model.max_reference_images.min(4)
        )
    })
}

/// What the Generate button says while reference images are uploaded first.
pub fn uploading(n: usize) -> String {
    format!(
        "Uploading {n} reference image{}…",
        if n == 1 { "" } else { "s" }
    )
}

/// The form's signals.
#[derive(Clone, Copy)]
pub struct FormState {
    /// `provider/model`.
    pub chosen: RwSignal<String>,
    pub prompt: RwSignal<String>,
    pub size: RwSignal<String>,
    pub quality: RwSignal<String>,
    pub count: RwSignal<u8>,
    pub seed: RwSignal<String>,
    pub character: RwSignal<String>,
    pub collection: RwSignal<String>,
    /// Library images chosen as references.
    pub references: RwSignal<Vec<String>>,
    /// Other models (`provider/model`) the prompt goes to as well, to compare.
    pub compare: RwSignal<Vec<String>>,
    /// Files dropped in, kept in the browser until uploaded.
    pub drafts: RwSignal<Vec<Draft>>,
    /// What the form is doing, while it is busy.
    pub busy: RwSignal<Option<String>>,
    pub error: RwSignal<Option<AppError>>,
}

impl FormState {
    pub fn new() -> Self {
        Self {
            chosen: RwSignal::new(DEFAULT_MODEL.to_owned()),
            prompt: RwSignal::new(String::new()),
            size: RwSignal::new(String::new()),
            quality: RwSignal::new(String::new()),
            count: RwSignal::new(1),
            seed: RwSignal::new(String::new()),
            character: RwSignal::new(String::new()),
            collection: RwSignal::new(String::new()),
            references: RwSignal::new(Vec::new()),
            compare: RwSignal::new(Vec::new()),
            drafts: RwSignal::new(Vec::new()),
            busy: RwSignal::new(None),
            error: RwSignal::new(None),
        }
    }

    /// What is entered now (not tracked: read when the form is sent).
    pub fn values(self) -> FormValues {
        FormValues {
            prompt: self.prompt.get_untracked(),
            size: self.size.get_untracked(),
            quality: self.quality.get_untracked(),
            count: self.count.get_untracked(),
            seed: self.seed.get_untracked(),
            character: self.character.get_untracked(),
            collection: self.collection.get_untracked(),
            references: self.references.get_untracked(),
        }
    }

    /// The message for one field, from the last error.
    pub fn field_error(self, field: &'static str) -> impl Fn() -> Option<String> + Copy {
        move || {
            self.error
                .with(|e| e.as_ref().and_then(|e| e.for_field(field)))
        }
    }

    /// The error no field shows, if any.
    pub fn general_error(self) -> Option<String> {
        self.error.with(|e| e.as_ref().and_then(general_error))
    }
}

#[cfg(test)]
mod tests {
    use model::ProviderId;

    use super::*;

    fn gpt_image() -> (ProviderInfo, ModelInfo) {
        let model = ModelInfo {
            id: "gpt-image-1".to_owned(),
            label: "GPT Image".to_owned(),
            sizes: vec!["1024x1024".to_owned()],
            default_size: "1024x1024".to_owned(),
            qualities: vec!["low".to_owned(), "high".to_owned()],
            default_quality: Some("low".to_owned()),
            max_n: 4,
            max_reference_images: 4,
            max_prompt_chars: 32_000,
        };
        let provider = ProviderInfo {
            id: ProviderId::Openai,
            label: "OpenAI".to_owned(),
            needs_key: true,
            has_key: true,
            default_model: model.id.clone(),
            models: vec![model.clone()],
        };
        (provider, model)
    }

    fn values() -> FormValues {
        FormValues {
            prompt: "A fox in a scarf".to_owned(),
            count: 2,
            references: vec!["img-1".to_owned()],
            ..FormValues::default()
        }
    }

    fn field_of(result: Result<GenerationRequest, AppError>) -> Option<String> {
        match result {
            Err(AppError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn the_request_carries_what_was_entered_for_the_chosen_model() {
        let chosen = gpt_image();
        let request = build_request(
            FormValues {
                size: "1024x1024".to_owned(),
                seed: " 42 ".to_owned(),
                character: "char-1".to_owned(),
                ..values()
            },
            Some(&chosen),
        )
        .expect("a valid form");
        assert_eq!(request.prompt, "A fox in a scarf");
        assert_eq!(request.provider, Some(ProviderId::Openai));
        assert_eq!(request.model.as_deref(), Some("gpt-image-1"));
        assert_eq!(request.size.as_deref(), Some("1024x1024"));
        assert_eq!(request.n, Some(2));
        assert_eq!(request.seed, Some(42));
        assert_eq!(request.reference_image_ids, ["img-1"]);
        assert_eq!(request.character_id.as_deref(), Some("char-1"));
        // Empty choices are the model's defaults and "none", not empty strings.
        assert_eq!((request.quality, request.collection_id), (None, None));
    }

    #[test]
    fn what_can_be_said_at_once_is_said_beside_its_field() {
        let chosen = gpt_image();
        assert_eq!(
            field_of(build_request(values(), None)).as_deref(),
            Some("model")
        );
        for seed in ["-1", "1.5", "many", "99999999999999999999"] {
            let result = build_request(
                FormValues {
                    seed: seed.to_owned(),
                    ..values()
                },
                Some(&chosen),
            );
            assert_eq!(field_of(result).as_deref(), Some("seed"), "seed {seed:?}");
        }
    }

    #[test]
    fn errors_of_the_forms_fields_are_not_repeated_above_it() {
        let beside = AppError::Validation {
            field: Some("prompt".to_owned()),
            message: "Describe what to draw.".to_owned(),
        };
        assert_eq!(general_error(&beside), None);
        let elsewhere = AppError::Validation {
            field: Some("api_key".to_owned()),
            message: "No key.".to_owned(),
        };
        assert_eq!(general_error(&elsewhere).as_deref(), Some("No key."));
        assert_eq!(
            general_error(&AppError::RateLimited {
                retry_after_secs: 5
            })
            .as_deref(),
            Some("Too many attempts. Try again in 5 seconds.")
        );
    }

    #[test]
    fn another_model_keeps_the_count_within_what_it_allows() {
        let (_, mut model) = gpt_image();
        assert_eq!(count_for(3, Some(&model)), 3);
        model.max_n = 1;
        assert_eq!(count_for(3, Some(&model)), 1);
        assert_eq!(count_for(3, None), 1);
        assert_eq!(uploading(1), "Uploading 1 reference image…");
        assert_eq!(uploading(3), "Uploading 3 reference images…");
    }

    #[test]
    fn a_model_without_references_is_said_to_get_the_description_only() {
        let (_, mut model) = gpt_image();
        assert_eq!(sheet_hint(false, Some(&model)), None);
        let said = sheet_hint(true, Some(&model)).unwrap();
        assert!(
            said.contains("appearance and up to 4 of its identity images"),
            "{said}"
        );
        model.max_reference_images = 0;
        model.label = "DALL·E 3".into();
        assert_eq!(
            sheet_hint(true, Some(&model)).as_deref(),
            Some("DALL·E 3 takes no reference images: it gets the character's description only, so it may not look like them.")
        );
        assert_eq!(sheet_hint(true, None), None);
    }

    #[test]
    fn a_comparison_sends_one_image_to_each_model_as_targets() {
        let (openai, gpt) = gpt_image();
        let mut builtin = openai.clone();
        builtin.id = ProviderId::Builtin;
        builtin.models[0].id = "portrait-1".to_owned();
        let catalogue = vec![builtin, openai];
        let values = FormValues {
            prompt: "A fox".to_owned(),
            quality: "high".to_owned(),
            count: 3,
            ..FormValues::default()
        };
        let request = build_request(values, Some(&(catalogue[1].clone(), gpt))).unwrap();
        // Nothing to compare: the request as it is.
        let same = with_targets(request.clone(), &[], &catalogue, "openai/gpt-image-1").unwrap();
        assert_eq!(same, request);
        let keys = ["builtin/portrait-1", "openai/gpt-image-1", "nobody/x"].map(String::from);
        let compared = with_targets(request, &keys, &catalogue, "openai/gpt-image-1").unwrap();
        let targets = compared.targets.unwrap();
        assert_eq!(
            targets.len(),
            2,
            "the chosen one once, the unknown one left out"
        );
        assert_eq!(targets[0].provider, ProviderId::Openai);
        assert_eq!(
            targets[0].quality.as_deref(),
            Some("high"),
            "the chosen model keeps its settings"
        );
        assert_eq!(targets[1].provider, ProviderId::Builtin);
        assert_eq!(targets[1].model.as_deref(), Some("portrait-1"));
        assert_eq!(compared.n, None);
        assert_eq!(compared.provider, None);
    }
}
