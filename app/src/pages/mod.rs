//! One module per page.

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
