//! Pieces of the layout and forms shared by every page.

mod form;
mod layout;
mod picture;
mod upload;

pub use form::{field_error, form_error, succeeded, Field, FormError, Notice};
pub use layout::{Footer, Header, PageHeader};
pub use picture::{Avatar, Picture};
pub use upload::UploadPanel;
