//! Facts about this instance that anyone may see (the home page shows them).

use model::InstanceInfo;

use crate::Config;

/// The providers usable without a personal key: `builtin` always, OpenAI and Gemini when
/// the operator configured a server-wide key. The keys themselves are never revealed.
pub fn info(config: &Config) -> InstanceInfo {
    let mut ready_providers = vec!["builtin".to_owned()];
    if config.openai_api_key.is_some() {
        ready_providers.push("openai".to_owned());
    }
    if config.gemini_api_key.is_some() {
        ready_providers.push("gemini".to_owned());
    }
    InstanceInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ready_providers,
    }
}
