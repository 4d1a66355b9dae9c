//! One module per page.

mod home;
mod not_found;
mod sections;

pub use home::HomePage;
pub use not_found::NotFound;
pub use sections::{CharactersPage, CollectionsPage, GalleryPage, SettingsPage, StudioPage};
