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
pub use home::HomePage;
pub(crate) use home::{dashboard_shown, load_dashboard};
pub use not_found::NotFound;
pub use settings::SettingsPage;
pub use studio::StudioPage;
