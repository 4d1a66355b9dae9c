//! One module per page.

mod auth;
mod home;
mod not_found;
mod sections;
mod settings;

pub use auth::{ForgotPasswordPage, ResetPasswordPage, SignInPage, SignUpPage, VerifyEmailPage};
pub use home::HomePage;
pub use not_found::NotFound;
pub use sections::{CharactersPage, CollectionsPage, GalleryPage, StudioPage};
pub use settings::SettingsPage;
