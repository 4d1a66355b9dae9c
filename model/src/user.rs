use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A person's account as the API shows it (`GET /api/v1/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub email_verified: bool,
    /// An administrator of the instance: sees the operations page
    /// (`GET /api/v1/admin/operations`).
    #[serde(default)]
    pub is_admin: bool,
    #[serde(with = "crate::timestamp")]
    pub created_at: DateTime<Utc>,
}

impl User {
    /// What the pages call the person: the display name, else the email address.
    pub fn name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.email)
    }
}

/// The signed-in person as every page's header knows them: a [`User`] without its
/// timestamp. The browser's first chunk carries the header, and decoding a timestamp
/// brings in `chrono`'s parser, which the first visit to any page would download for a date
/// no header shows (issue 17: first-load bytes).
/// Also in miniserde's JSON: the page carries it that way and the header reads it so.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    miniserde::Serialize,
    miniserde::Deserialize,
)]
pub struct Viewer {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub email_verified: bool,
    pub is_admin: bool,
}

impl Viewer {
    /// What the pages call the person: the display name, else the email address.
    pub fn name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.email)
    }
}

impl From<User> for Viewer {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            email: user.email,
            display_name: user.display_name,
            email_verified: user.email_verified,
            is_admin: user.is_admin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_the_display_name_else_the_address() {
        let mut user = User {
            id: "u1".into(),
            email: "ada@example.com".into(),
            display_name: None,
            email_verified: false,
            is_admin: false,
            created_at: DateTime::<Utc>::default(),
        };
        assert_eq!(user.name(), "ada@example.com");
        assert_eq!(Viewer::from(user.clone()).name(), "ada@example.com");
        user.display_name = Some("Ada".into());
        assert_eq!(user.name(), "Ada");
        let viewer = Viewer::from(user);
        assert_eq!(viewer.name(), "Ada");
        assert_eq!((viewer.id.as_str(), viewer.is_admin), ("u1", false));
    }
}
