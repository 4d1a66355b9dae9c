//! Pieces of the layout shared by every page.

mod layout;

pub use layout::{Footer, Header, PageHeader};
