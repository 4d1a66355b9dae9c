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
    pub created_at: DateTime<Utc>,
}

impl User {
    /// What the pages call the person: the display name, else the email address.
    pub fn name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.email)
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
        user.display_name = Some("Ada".into());
        assert_eq!(user.name(), "Ada");
    }
}
