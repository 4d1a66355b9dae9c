//! One module per page.
//!
//! A component used in one place on the administrators', settings, character, collections
//! and home pages is `#[component(transparent)]`: without the type-erased view that
//! `erase_components` gives every other component, its page downloads less (measured in
//! README "Bundle"; on the gallery and the Studio it measured more, so theirs are not).
//! Such a component reads no signal outside a closure, since transparency also leaves out
//! the `untrack` around its body.

mod admin;
mod auth;
mod characters;
mod collections;
mod gallery;
mod home;
mod not_found;
mod settings;
mod studio;

pub use admin::AdminPage;
pub use auth::{ForgotPasswordPage, ResetPasswordPage, SignInPage, SignUpPage, VerifyEmailPage};
pub use characters::{CharacterPage, CharactersPage};
pub use collections::CollectionsPage;
pub use gallery::GalleryPage;
#[cfg(feature = "hydrate")]
pub(crate) use home::load_dashboard;
pub use home::HomePage;
pub use not_found::NotFound;
pub use settings::SettingsPage;
pub use studio::StudioPage;
