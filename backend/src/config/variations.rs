//! The variation presets (issue 19 §2): the shipped list, extended by the administrator's
//! file (`VARIATIONS_FILE`, a JSON array of `{id, label, prompt}`; an entry with a shipped
//! id replaces it, `"prompt": ""` removes it). Checked at start-up, so a mistake in the file
//! stops the server with the entry named instead of failing later.

use model::VariationPreset;

use super::ConfigError;

/// How many presets there may be, shipped and added together.
pub const MAX_PRESETS: usize = 40;
const MAX_LABEL: usize = 60;
const MAX_PROMPT: usize = 500;

/// The shipped presets: (id, label, prompt). Each prompt is the instruction of one
/// generation of the character (its sheet adds the appearance).
const SHIPPED: [(&str, &str, &str); 8] = [
    ("smiling", "Smiling", "A portrait, smiling warmly"),
    ("serious", "Serious", "A portrait with a serious expression"),
    (
        "three-quarter",
        "Three-quarter view",
        "A three-quarter view portrait",
    ),
    ("profile", "Profile", "A portrait in profile, facing left"),
    ("full-body", "Full body", "A full-body picture, standing"),
    (
        "winter",
        "In winter clothes",
        "A portrait in warm winter clothes, a scarf and a woolly hat, in the snow",
    ),
    (
        "watercolour",
        "As a watercolour",
        "A portrait as a loose watercolour painting",
    ),
    (
        "pixel-art",
        "As pixel art",
        "A portrait as 16-bit pixel art",
    ),
];

pub fn shipped() -> Vec<VariationPreset> {
    SHIPPED
        .iter()
        .map(|(id, label, prompt)| VariationPreset {
            id: (*id).to_owned(),
            label: (*label).to_owned(),
            prompt: (*prompt).to_owned(),
        })
        .collect()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    #[serde(default)]
    label: Option<String>,
    prompt: String,
}

fn valid_id(id: &str) -> bool {
    (1..=40).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The shipped presets merged with the file's entries (JSON text).
pub fn merge(file: &str) -> Result<Vec<VariationPreset>, String> {
    let entries: Vec<Entry> =
        serde_json::from_str(file).map_err(|e| format!("not a JSON array of presets: {e}"))?;
    let mut presets = shipped();
    for entry in entries {
        let id = entry.id.trim();
        if !valid_id(id) {
            return Err(format!(
                "'{id}' is not a preset id: use 1 to 40 of a-z, 0-9 and -"
            ));
        }
        let prompt = entry.prompt.trim();
        if prompt.chars().count() > MAX_PROMPT {
            return Err(format!(
                "the prompt of '{id}' is longer than {MAX_PROMPT} characters"
            ));
        }
        let position = presets.iter().position(|p| p.id == id);
        if prompt.is_empty() {
            // Removes a shipped (or earlier) preset.
            if let Some(i) = position {
                presets.remove(i);
            }
            continue;
        }
        let label = entry.label.as_deref().map(str::trim).unwrap_or(id);
        if label.is_empty() || label.chars().count() > MAX_LABEL {
            return Err(format!(
                "the label of '{id}' must be 1 to {MAX_LABEL} characters"
            ));
        }
        let preset = VariationPreset {
            id: id.to_owned(),
            label: label.to_owned(),
            prompt: prompt.to_owned(),
        };
        match position {
            Some(i) => presets[i] = preset,
            None => presets.push(preset),
        }
    }
    if presets.len() > MAX_PRESETS {
        return Err(format!(
            "at most {MAX_PRESETS} presets, shipped ones included"
        ));
    }
    Ok(presets)
}

/// The presets this instance offers.
pub(super) fn load(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Vec<VariationPreset>, ConfigError> {
    const KEY: &str = "VARIATIONS_FILE";
    let Some(path) = get(KEY).filter(|p| !p.trim().is_empty()) else {
        return Ok(shipped());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ConfigError::new(KEY, format!("cannot read '{path}': {e}")))?;
    merge(&text).map_err(|problem| ConfigError::new(KEY, format!("{path}: {problem}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(presets: &[VariationPreset]) -> Vec<&str> {
        presets.iter().map(|p| p.id.as_str()).collect()
    }

    #[test]
    fn the_file_adds_replaces_and_removes_presets() {
        let merged = merge(
            r#"[
                {"id": "armour", "label": "In armour", "prompt": "In shining plate armour"},
                {"id": "smiling", "label": "Laughing", "prompt": "Laughing out loud"},
                {"id": "pixel-art", "prompt": ""}
            ]"#,
        )
        .unwrap();
        assert_eq!(
            ids(&merged),
            [
                "smiling",
                "serious",
                "three-quarter",
                "profile",
                "full-body",
                "winter",
                "watercolour",
                "armour"
            ]
        );
        assert_eq!(merged[0].label, "Laughing");
        assert_eq!(merged[0].prompt, "Laughing out loud");
        assert_eq!(merged[7].label, "In armour");
        // Without a label, the id.
        assert_eq!(
            merge(r#"[{"id": "x", "prompt": "y"}]"#).unwrap()[8].label,
            "x"
        );
        assert_eq!(ids(&merge("[]").unwrap()), ids(&shipped()));
    }

    #[test]
    fn a_mistake_in_the_file_is_named() {
        for (file, says) in [
            ("{}", "not a JSON array"),
            (
                r#"[{"id": "Bad Id", "prompt": "x"}]"#,
                "'Bad Id' is not a preset id",
            ),
            (
                r#"[{"id": "a", "prompt": "x", "colour": 1}]"#,
                "unknown field",
            ),
            (
                r#"[{"id": "a", "label": "", "prompt": "x"}]"#,
                "the label of 'a'",
            ),
        ] {
            let problem = merge(file).unwrap_err();
            assert!(problem.contains(says), "{file}: {problem}");
        }
        let long = format!(r#"[{{"id": "a", "prompt": "{}"}}]"#, "x".repeat(501));
        assert!(merge(&long).unwrap_err().contains("longer than 500"));
        let many: Vec<String> = (0..40)
            .map(|i| format!(r#"{{"id": "p{i}", "prompt": "x"}}"#))
            .collect();
        assert!(merge(&format!("[{}]", many.join(",")))
            .unwrap_err()
            .contains("at most 40"));
    }

    #[test]
    fn without_a_file_the_shipped_presets() {
        let none = |_: &str| None;
        assert_eq!(load(&none).unwrap().len(), 8);
        let missing = |_: &str| Some("/nonexistent/variations.json".to_owned());
        let error = load(&missing).unwrap_err();
        assert_eq!(error.variable, "VARIATIONS_FILE");
        assert!(error.problem.contains("cannot read"), "{}", error.problem);
    }
}
