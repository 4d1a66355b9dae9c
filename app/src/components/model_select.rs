//! Choosing a provider and model from the catalogue: the options of a `<select>` whose
//! values are `provider/model`, each saying when its provider still needs a key.

use leptos::prelude::*;
use model::{ModelInfo, ProviderInfo};

/// The provider and model a `provider/model` value names.
pub fn find_model(catalogue: &[ProviderInfo], key: &str) -> Option<(ProviderInfo, ModelInfo)> {
    let (p, m) = key.split_once('/')?;
    let provider = catalogue.iter().find(|x| x.id.as_str() == p)?;
    let model = provider.models.iter().find(|x| x.id == m)?;
    Some((provider.clone(), model.clone()))
}

/// One `<optgroup>` per provider, `selected` chosen.
#[allow(clippy::needless_pass_by_value)] // component properties are owned
#[component]
pub fn ModelOptions(catalogue: Vec<ProviderInfo>, #[prop(into)] selected: String) -> impl IntoView {
    catalogue
        .into_iter()
        .map(|p| {
            let needs = p.needs_key && !p.has_key;
            view! {
                <optgroup label=p.label.clone()>
                    {p.models.iter().map(|m| {
                        let value = format!("{}/{}", p.id, m.id);
                        let is_selected = selected == value;
                        let label = if needs { format!("{} (add a key in Settings)", m.label) } else { m.label.clone() };
                        view! { <option value=value selected=is_selected>{label}</option> }
                    }).collect_view()}
                </optgroup>
            }
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use model::ProviderId;

    use super::*;

    #[test]
    fn models_are_found_by_provider_and_id() {
        let catalogue = vec![ProviderInfo {
            id: ProviderId::Builtin,
            label: "Built-in".to_owned(),
            needs_key: false,
            has_key: true,
            default_model: "portrait-1".to_owned(),
            models: vec![ModelInfo {
                id: "portrait-1".to_owned(),
                label: "Portrait".to_owned(),
                sizes: vec!["256x256".to_owned()],
                default_size: "256x256".to_owned(),
                qualities: vec![],
                default_quality: None,
                max_n: 4,
                max_reference_images: 4,
                max_prompt_chars: 4000,
            }],
        }];
        assert_eq!(
            find_model(&catalogue, "builtin/portrait-1")
                .unwrap()
                .1
                .max_n,
            4
        );
        assert!(find_model(&catalogue, "builtin/other").is_none());
        assert!(find_model(&catalogue, "nonsense").is_none());
    }
}
