//! Facts about this instance that anyone may see (the home page shows them).

use model::{InstanceInfo, ServerKeysFor};

use crate::Config;

/// The providers anyone who signs up can use without a personal key: `builtin` always,
/// OpenAI and Gemini when the operator configured a server-wide key for every account
/// (`SERVER_KEYS_FOR=all`); who may sign up, and with which identity providers. The keys themselves are never revealed.
pub fn info(config: &Config) -> InstanceInfo {
    let mut ready_providers = vec!["builtin".to_owned()];
    let for_everyone = config.server_keys_for == ServerKeysFor::All;
    if for_everyone && config.openai_api_key.is_some() {
        ready_providers.push("openai".to_owned());
    }
    if for_everyone && config.gemini_api_key.is_some() {
        ready_providers.push("gemini".to_owned());
    }
    InstanceInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ready_providers,
        signup: config.signup,
        identity_providers: config.identity.providers(),
        max_upload_bytes: config.image_limits.max_bytes,
        max_upload_files: u32::try_from(config.max_upload_files).unwrap_or(u32::MAX),
    }
}
