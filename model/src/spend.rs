//! What generations cost (issue 19 §4): the price list, the estimated cost kept with each
//! image, a month's spend and the spending caps. Amounts are US dollars; sums are kept in
//! millionths of a dollar ("micros") so that adding many small costs is exact.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ProviderId;

/// Where a model's price comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    /// The providers' published prices, shipped with this version.
    Shipped,
    /// The administrator's `PRICING_FILE`.
    File,
    /// Set by an administrator on the operations page (or `PUT /api/v1/admin/prices`).
    Administrator,
}

/// What one model costs. With token prices and the usage the provider reported, a job
/// costs its tokens; otherwise (and for the estimate before a job runs) the per-image
/// price for its quality and size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelPrice {
    pub provider: ProviderId,
    pub model: String,
    /// Per image, when nothing in `per_image_by` matches.
    pub per_image_usd: f64,
    /// Per image for a quality and size ("high 1024x1536"), a quality ("hd") or a size
    /// ("1792x1024"), tried in that order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_image_by: BTreeMap<String, f64>,
    /// Per million text input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_text_per_mtok_usd: Option<f64>,
    /// Per million image input tokens (the text price when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_image_per_mtok_usd: Option<f64>,
    /// Per million output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_per_mtok_usd: Option<f64>,
    #[serde(default = "shipped")]
    pub source: PriceSource,
}

fn shipped() -> PriceSource {
    PriceSource::Shipped
}

/// `GET /api/v1/prices`: the prices in force and their version (which every cost names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceList {
    pub version: String,
    pub prices: Vec<ModelPrice>,
}

impl PriceList {
    pub fn find(&self, provider: ProviderId, model: &str) -> Option<&ModelPrice> {
        self.prices
            .iter()
            .find(|p| p.provider == provider && p.model == model)
    }
}

/// How a cost was worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CostBasis {
    /// From the tokens the provider reported.
    Tokens,
    /// From the per-image price (no usage reported, or a model billed per image).
    PerImage,
    /// No price is known for the model: counted as nothing.
    Unpriced,
}

/// The estimated cost of one image, kept with it (`generation.cost`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cost {
    pub usd: f64,
    pub basis: CostBasis,
    /// The `PriceList` version that priced it.
    pub pricing_version: String,
}

/// Millionths of a dollar, rounded, never negative.
pub fn micros(usd: f64) -> i64 {
    if usd.is_finite() && usd > 0.0 {
        (usd * 1_000_000.0).round() as i64
    } else {
        0
    }
}

pub fn usd(micros: i64) -> f64 {
    micros as f64 / 1_000_000.0
}

/// "$0.04", "$12.50", "$0.0025" (small amounts keep two significant digits).
pub fn format_usd(usd: f64) -> String {
    if usd > 0.0 && usd < 0.01 {
        let text = format!("{usd:.4}");
        let text = text.trim_end_matches('0');
        format!("${text}")
    } else {
        format!("${usd:.2}")
    }
}

impl ModelPrice {
    /// The price of one image of this quality and size, before any usage is known.
    pub fn per_image(&self, size: Option<&str>, quality: Option<&str>) -> f64 {
        let both = match (quality, size) {
            (Some(q), Some(s)) => Some(format!("{q} {s}")),
            _ => None,
        };
        let found = [both.as_deref(), quality, size]
            .into_iter()
            .flatten()
            .find_map(|k| self.per_image_by.get(k))
            .copied();
        found.unwrap_or(self.per_image_usd)
    }

    /// The cost of one job from the usage the provider reported (OpenAI's `usage`,
    /// Gemini's `usageMetadata`), else its per-image price.
    pub fn cost(
        &self,
        size: Option<&str>,
        quality: Option<&str>,
        usage: Option<&serde_json::Value>,
    ) -> (f64, CostBasis) {
        if let (Some(tokens), Some(text), Some(output)) = (
            usage.and_then(Tokens::read),
            self.input_text_per_mtok_usd,
            self.output_per_mtok_usd,
        ) {
            let image = self.input_image_per_mtok_usd.unwrap_or(text);
            let usd = (tokens.input_text as f64 * text
                + tokens.input_image as f64 * image
                + tokens.output as f64 * output)
                / 1_000_000.0;
            return (usd, CostBasis::Tokens);
        }
        (self.per_image(size, quality), CostBasis::PerImage)
    }
}

/// The tokens of one provider answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tokens {
    pub input_text: u64,
    pub input_image: u64,
    pub output: u64,
}

impl Tokens {
    /// Reads OpenAI's `{input_tokens, output_tokens, input_tokens_details: {text_tokens,
    /// image_tokens}}` or Gemini's `{promptTokenCount, candidatesTokenCount,
    /// thoughtsTokenCount, promptTokensDetails: [{modality, tokenCount}]}`.
    pub fn read(usage: &serde_json::Value) -> Option<Self> {
        let n = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_u64);
        if let Some(output) = n(usage, "output_tokens") {
            let input = n(usage, "input_tokens").unwrap_or(0);
            let details = usage.get("input_tokens_details");
            let image = details.and_then(|d| n(d, "image_tokens")).unwrap_or(0);
            let text = details
                .and_then(|d| n(d, "text_tokens"))
                .unwrap_or(input.saturating_sub(image));
            return Some(Self {
                input_text: text,
                input_image: image,
                output,
            });
        }
        let output = n(usage, "candidatesTokenCount")?;
        let thoughts = n(usage, "thoughtsTokenCount").unwrap_or(0);
        let prompt = n(usage, "promptTokenCount").unwrap_or(0);
        let image = usage
            .get("promptTokensDetails")
            .and_then(serde_json::Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter(|p| p.get("modality").and_then(|m| m.as_str()) == Some("IMAGE"))
                    .filter_map(|p| n(p, "tokenCount"))
                    .sum::<u64>()
            })
            .unwrap_or(0);
        Some(Self {
            input_text: prompt.saturating_sub(image),
            input_image: image,
            output: output + thoughts,
        })
    }
}

/// Whose key paid for a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// The person's own key (its last four characters at the time).
    Own,
    /// The server's key, shared by the administrator.
    Server,
    /// No key: the built-in generator.
    None,
}

string_enum!(KeySource, "a key source", {
    Own => "own",
    Server => "server",
    None => "none",
});

/// One row of a spend breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpendLine {
    /// The provider, `provider/model`, `provider:own:…abcd` / `provider:server`, or the
    /// day (`2026-12-04`), as the breakdown is by.
    pub key: String,
    /// What to show for it ("OpenAI", "GPT Image 1", "Your OpenAI key …abcd").
    pub label: String,
    pub usd: f64,
    pub images: u64,
}

/// A spending cap and where the month stands against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CapStatus {
    pub monthly_usd: f64,
    pub spent_usd: f64,
    pub left_usd: f64,
}

/// `GET /api/v1/spend?month=2026-12`: one account's estimated spend in a calendar month
/// (UTC), by provider, model, key and day, with its caps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpendSummary {
    /// `YYYY-MM`.
    pub month: String,
    pub total_usd: f64,
    pub images: u64,
    pub by_provider: Vec<SpendLine>,
    pub by_model: Vec<SpendLine>,
    pub by_key: Vec<SpendLine>,
    /// Every day of the month, zeros included: the chart's bars.
    pub by_day: Vec<SpendLine>,
    /// The account's own cap, when set.
    pub account_cap: Option<CapStatus>,
    /// The instance's cap (`MONTHLY_SPEND_CAP_USD`), when set: all accounts together.
    pub instance_cap: Option<CapStatus>,
    pub pricing_version: String,
}

/// `PUT /api/v1/me/spending-cap`: the account's monthly cap; `null` removes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpendingCapRequest {
    pub monthly_usd: Option<f64>,
}

/// One account's month, for administrators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountSpend {
    pub user_id: String,
    /// `None` for an account deleted since (its spend still counts for the instance).
    pub email: Option<String>,
    pub usd: f64,
    pub images: u64,
    pub monthly_cap_usd: Option<f64>,
}

/// `GET /api/v1/admin/spend?month=2026-12`: every account's spend, most first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceSpend {
    pub month: String,
    pub total_usd: f64,
    pub accounts: Vec<AccountSpend>,
    pub by_provider: Vec<SpendLine>,
    pub instance_cap: Option<CapStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn gpt_image_1() -> ModelPrice {
        ModelPrice {
            provider: ProviderId::Openai,
            model: "gpt-image-1".into(),
            per_image_usd: 0.042,
            per_image_by: [
                ("high 1024x1536".to_owned(), 0.25),
                ("high".to_owned(), 0.167),
            ]
            .into_iter()
            .collect(),
            input_text_per_mtok_usd: Some(5.0),
            input_image_per_mtok_usd: Some(10.0),
            output_per_mtok_usd: Some(40.0),
            source: PriceSource::Shipped,
        }
    }

    #[test]
    fn tokens_are_read_from_both_providers_usage() {
        let openai = json!({"total_tokens": 4200, "input_tokens": 250, "output_tokens": 4150,
            "input_tokens_details": {"text_tokens": 50, "image_tokens": 200}});
        assert_eq!(
            Tokens::read(&openai),
            Some(Tokens {
                input_text: 50,
                input_image: 200,
                output: 4150
            })
        );
        let gemini = json!({"promptTokenCount": 268, "candidatesTokenCount": 1290,
            "thoughtsTokenCount": 10, "totalTokenCount": 1568,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 10},
                                    {"modality": "IMAGE", "tokenCount": 258}]});
        assert_eq!(
            Tokens::read(&gemini),
            Some(Tokens {
                input_text: 10,
                input_image: 258,
                output: 1300
            })
        );
        assert_eq!(Tokens::read(&json!({"seconds": 3})), None);
    }

    #[test]
    fn a_job_costs_its_tokens_else_its_per_image_price() {
        let price = gpt_image_1();
        let usage = json!({"input_tokens": 50, "output_tokens": 4150,
            "input_tokens_details": {"text_tokens": 50, "image_tokens": 0}});
        let (usd, basis) = price.cost(Some("1024x1024"), Some("high"), Some(&usage));
        assert_eq!(basis, CostBasis::Tokens);
        // 50 × $5/M + 4150 × $40/M
        assert_eq!(micros(usd), 166_250);
        let (usd, basis) = price.cost(Some("1024x1536"), Some("high"), None);
        assert_eq!((micros(usd), basis), (250_000, CostBasis::PerImage));
        assert_eq!(
            micros(price.per_image(Some("1024x1024"), Some("high"))),
            167_000
        );
        assert_eq!(
            micros(price.per_image(Some("1024x1024"), Some("low"))),
            42_000
        );
        assert_eq!(micros(price.per_image(None, None)), 42_000);
    }

    #[test]
    fn amounts_read_like_money() {
        assert_eq!(format_usd(0.04), "$0.04");
        assert_eq!(format_usd(12.5), "$12.50");
        assert_eq!(format_usd(0.0025), "$0.0025");
        assert_eq!(format_usd(0.0), "$0.00");
        assert_eq!(micros(-1.0), 0);
        assert_eq!(micros(f64::NAN), 0);
        assert_eq!(usd(166_250), 0.16625);
    }
}
