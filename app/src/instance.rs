//! What this instance offers (its version, the providers ready without a key, who may sign
//! up, the identity providers, the upload limits), as every page knows it. It is the
//! instance's configuration, the same for every request: the server writes it into each
//! page it renders and the layout reads it back once, when the page hydrates, for the
//! whole visit. So no page asks a server function for it, and a page reached by a click
//! within the app has it too (a value read back in a page's own view exists only on the
//! page the server rendered).

use leptos::prelude::*;
use model::InstanceInfo;

/// The instance's details, provided by the layout to every page. `None` only if the server
/// could not tell (it always can once it is running).
#[derive(Clone)]
struct Instance(Option<InstanceInfo>);

/// Reads the details the server wrote into the page (on the server: from its
/// configuration) and provides them to every page. Called once, by the layout.
/// In miniserde's JSON: this is main-chunk code, and serde_json's would be there for it
/// alone (issue 17).
pub fn provide_instance() {
    provide_context(Instance(
        SharedValue::new_miniserde(crate::instance_info).into_inner(),
    ));
}

/// The instance's details, for any page under the layout.
pub fn use_instance() -> Option<InstanceInfo> {
    use_context::<Instance>().and_then(|Instance(info)| info)
}
