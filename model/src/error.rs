use serde::{Deserialize, Serialize};

/// The JSON error body of every `/api/v1` error response:
/// `{"error": {"code": "...", "message": "...", "field": "...", "reference": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub error: ApiErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiErrorBody {
    /// A stable snake_case code that scripts can match on.
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
    /// The request field the error is about, for validation errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For internal failures: an opaque id that also appears in the server log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl ApiError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ApiErrorBody {
                code: code.into(),
                message: message.into(),
                field: None,
                reference: None,
            },
        }
    }

    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.error.field = Some(field.into());
        self
    }

    #[must_use]
    pub fn with_reference(mut self, reference: impl Into<String>) -> Self {
        self.error.reference = Some(reference.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_to_the_documented_shape_without_empty_fields() {
        let err = ApiError::new("not_found", "No such page.");
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            serde_json::json!({"error": {"code": "not_found", "message": "No such page."}})
        );
        let err = ApiError::new("invalid", "Too short.").with_field("password");
        assert_eq!(
            serde_json::to_value(&err).unwrap()["error"]["field"],
            "password"
        );
    }
}
