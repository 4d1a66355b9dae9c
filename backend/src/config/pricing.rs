//! The price list (issue 19 §4): the providers' published prices, shipped with this
//! version, overridden per model by the administrator's `PRICING_FILE` (a JSON array of
//! [`ModelPrice`] without `source`) and, at run time, by administrators on the operations
//! page. Checked at start-up, so a mistake in the file stops the server with the entry
//! named.

use std::collections::BTreeMap;

use model::{ModelPrice, PriceSource, ProviderId};
use sha2::Digest;

use super::ConfigError;

/// The date of the shipped prices: the start of every price list's version.
pub const SHIPPED_VERSION: &str = "providers-2026-12-01";

/// The most any one image may be priced at, to catch a misplaced decimal point.
pub const MAX_PER_IMAGE_USD: f64 = 100.0;
/// The most a million tokens may be priced at.
pub const MAX_PER_MTOK_USD: f64 = 1_000.0;

fn by(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn tokens(
    provider: ProviderId,
    model: &str,
    per_image_usd: f64,
    per_image_by: BTreeMap<String, f64>,
    (text, image, output): (f64, f64, f64),
) -> ModelPrice {
    ModelPrice {
        provider,
        model: model.to_owned(),
        per_image_usd,
        per_image_by,
        input_text_per_mtok_usd: Some(text),
        input_image_per_mtok_usd: Some(image),
        output_per_mtok_usd: Some(output),
        source: PriceSource::Shipped,
    }
}

/// The providers' published prices (USD): OpenAI's image generation pricing (GPT Image 1
/// and mini by tokens, with its per-image table for estimates; DALL·E 3 per image) and
/// Google's Gemini 2.5 Flash Image ($30 per million output tokens, 1290 tokens an image).
/// The built-in generator costs nothing unless the file prices it.
pub fn shipped() -> Vec<ModelPrice> {
    vec![
        ModelPrice {
            provider: ProviderId::Builtin,
            model: "portrait-1".into(),
            per_image_usd: 0.0,
            per_image_by: BTreeMap::new(),
            input_text_per_mtok_usd: None,
            input_image_per_mtok_usd: None,
            output_per_mtok_usd: None,
            source: PriceSource::Shipped,
        },
        ModelPrice {
            provider: ProviderId::Openai,
            model: "dall-e-3".into(),
            per_image_usd: 0.04,
            per_image_by: by(&[
                ("standard 1792x1024", 0.08),
                ("standard 1024x1792", 0.08),
                ("hd 1024x1024", 0.08),
                ("hd 1792x1024", 0.12),
                ("hd 1024x1792", 0.12),
            ]),
            input_text_per_mtok_usd: None,
            input_image_per_mtok_usd: None,
            output_per_mtok_usd: None,
            source: PriceSource::Shipped,
        },
        tokens(
            ProviderId::Openai,
            "gpt-image-1",
            0.042,
            by(&[
                ("low 1024x1024", 0.011),
                ("low 1024x1536", 0.016),
                ("low 1536x1024", 0.016),
                ("medium 1024x1536", 0.063),
                ("medium 1536x1024", 0.063),
                ("high 1024x1024", 0.167),
                ("high 1024x1536", 0.25),
                ("high 1536x1024", 0.25),
                ("low", 0.016),
                ("high", 0.25),
            ]),
            (5.0, 10.0, 40.0),
        ),
        tokens(
            ProviderId::Openai,
            "gpt-image-1-mini",
            0.011,
            by(&[
                ("low 1024x1024", 0.005),
                ("low 1024x1536", 0.006),
                ("low 1536x1024", 0.006),
                ("medium 1024x1536", 0.015),
                ("medium 1536x1024", 0.015),
                ("high 1024x1024", 0.036),
                ("high 1024x1536", 0.052),
                ("high 1536x1024", 0.052),
                ("low", 0.006),
                ("high", 0.052),
            ]),
            (2.0, 2.5, 8.0),
        ),
        tokens(
            ProviderId::Gemini,
            "gemini-2.5-flash-image",
            0.039,
            BTreeMap::new(),
            (0.30, 0.30, 30.0),
        ),
    ]
}

/// The entries of a price file, checked: known providers, sane amounts, no model twice.
pub fn parse(file: &str) -> Result<Vec<ModelPrice>, String> {
    let entries: Vec<ModelPrice> =
        serde_json::from_str(file).map_err(|e| format!("not a JSON array of prices: {e}"))?;
    let mut seen = Vec::new();
    for mut entry in entries.iter().cloned() {
        entry.source = PriceSource::File;
        check(&entry)?;
        let key = (entry.provider, entry.model.clone());
        if seen.contains(&key) {
            return Err(format!(
                "{} {} is priced twice",
                entry.provider, entry.model
            ));
        }
        seen.push(key);
    }
    Ok(entries
        .into_iter()
        .map(|e| ModelPrice {
            source: PriceSource::File,
            ..e
        })
        .collect())
}

/// One price, checked (the file's entries and the administrators' alike).
pub fn check(price: &ModelPrice) -> Result<(), String> {
    let name = format!("{} {}", price.provider, price.model);
    if price.model.trim().is_empty() || price.model.len() > 100 {
        return Err("a price needs a model id of 1 to 100 characters".into());
    }
    let per_image = |v: f64| v.is_finite() && (0.0..=MAX_PER_IMAGE_USD).contains(&v);
    if !per_image(price.per_image_usd) {
        return Err(format!(
            "the per-image price of {name} must be from 0 to {MAX_PER_IMAGE_USD} dollars"
        ));
    }
    if let Some((k, _)) = price.per_image_by.iter().find(|(_, v)| !per_image(**v)) {
        return Err(format!(
            "the '{k}' price of {name} must be from 0 to {MAX_PER_IMAGE_USD} dollars"
        ));
    }
    if price.per_image_by.len() > 40 || price.per_image_by.keys().any(|k| k.len() > 40) {
        return Err(format!(
            "{name} has too many per-image prices (at most 40, keys up to 40 characters)"
        ));
    }
    let tokens = [
        price.input_text_per_mtok_usd,
        price.input_image_per_mtok_usd,
        price.output_per_mtok_usd,
    ];
    if tokens
        .iter()
        .flatten()
        .any(|v| !v.is_finite() || !(0.0..=MAX_PER_MTOK_USD).contains(v))
    {
        return Err(format!(
            "the token prices of {name} must be from 0 to {MAX_PER_MTOK_USD} dollars a million"
        ));
    }
    if price.output_per_mtok_usd.is_some() != price.input_text_per_mtok_usd.is_some() {
        return Err(format!(
            "{name}: give both the text input and the output token price, or neither"
        ));
    }
    Ok(())
}

/// The price file's entries and its part of the price list's version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceFile {
    pub prices: Vec<ModelPrice>,
    /// `file:` and the first 8 hex digits of the file's SHA-256, or empty without a file.
    pub version: String,
}

pub(super) fn load(get: &impl Fn(&str) -> Option<String>) -> Result<PriceFile, ConfigError> {
    const KEY: &str = "PRICING_FILE";
    let Some(path) = get(KEY).filter(|p| !p.trim().is_empty()) else {
        return Ok(PriceFile::default());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ConfigError::new(KEY, format!("cannot read '{path}': {e}")))?;
    let prices =
        parse(&text).map_err(|problem| ConfigError::new(KEY, format!("{path}: {problem}")))?;
    let digest = sha2::Sha256::digest(text.as_bytes());
    Ok(PriceFile {
        prices,
        version: format!(
            "file:{}",
            digest[..4]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ),
    })
}

/// `MONTHLY_SPEND_CAP_USD`: the most all accounts together may spend in a month.
pub(super) fn instance_cap(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<f64>, ConfigError> {
    const KEY: &str = "MONTHLY_SPEND_CAP_USD";
    let Some(raw) = get(KEY).filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    match raw.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
        _ => Err(ConfigError::new(
            KEY,
            format!("'{raw}' is not an amount of dollars (for example 50 or 12.5)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_model_of_the_catalogue_has_a_valid_price() {
        let prices = shipped();
        for provider in ProviderId::ALL {
            for m in crate::providers::models(*provider) {
                let price = prices
                    .iter()
                    .find(|p| p.provider == *provider && p.model == m.id)
                    .unwrap_or_else(|| panic!("{provider} {} has no price", m.id));
                check(price).unwrap();
            }
        }
    }

    #[test]
    fn the_file_is_checked_entry_by_entry() {
        let ok =
            parse(r#"[{"provider": "builtin", "model": "portrait-1", "per_image_usd": 0.01}]"#)
                .unwrap();
        assert_eq!(ok[0].source, PriceSource::File);
        assert_eq!(ok[0].per_image_usd, 0.01);
        let bad = |text: &str| parse(text).unwrap_err();
        assert!(bad(r#"{"provider": "openai"}"#).contains("JSON array"));
        assert!(
            bad(r#"[{"provider": "acme", "model": "x", "per_image_usd": 1}]"#)
                .contains("JSON array")
        );
        assert!(
            bad(r#"[{"provider": "openai", "model": "dall-e-3", "per_image_usd": 400}]"#)
                .contains("per-image price of openai dall-e-3")
        );
        assert!(bad(
            r#"[{"provider": "openai", "model": "x", "per_image_usd": 1, "output_per_mtok_usd": 3}]"#
        )
        .contains("both"));
        assert!(bad(
            r#"[{"provider": "openai", "model": "x", "per_image_usd": 1},
                {"provider": "openai", "model": "x", "per_image_usd": 2}]"#
        )
        .contains("twice"));
    }

    #[test]
    fn the_instance_cap_is_an_amount() {
        let env =
            |v: &'static str| move |k: &str| (k == "MONTHLY_SPEND_CAP_USD").then(|| v.to_owned());
        assert_eq!(instance_cap(&env("50")).unwrap(), Some(50.0));
        assert_eq!(instance_cap(&env("")).unwrap(), None);
        assert!(instance_cap(&env("-3")).is_err());
        assert!(instance_cap(&env("lots")).is_err());
    }
}
