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
