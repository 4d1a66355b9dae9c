//! The one error type on the wire between the browser and the server functions. The
//! cause of an internal failure stays in the server log; the browser gets a reference id.

use leptos::server_fn::{
    error::{FromServerFnError, ServerFnErrorErr},
    Bytes, ContentType, Decodes, Encodes, Format, FormatType,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Bad input, with the field it is about.
    #[error("{message}")]
    Validation {
        field: Option<String>,
        message: String,
    },
    /// Not signed in, or the credentials are wrong.
    #[error("{message}")]
    Unauthorized { message: String },
    #[error("That does not exist, or it is not yours.")]
    NotFound,
    /// Well-formed but refused (a provider rejected a key, too many tokens, …).
    #[error("{message}")]
    Refused { code: String, message: String },
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    #[error(
        "Something went wrong on our side. If it keeps happening, quote reference {reference}."
    )]
    Internal { reference: String },
    /// The request did not reach the server function or its answer did not come back
    /// (network, encoding).
    #[error("The server could not be reached: {0}")]
    Transport(String),
}

impl AppError {
    pub fn sign_in_required() -> Self {
        Self::Unauthorized {
            message: "Please sign in to continue.".to_owned(),
        }
    }

    /// The message for one form field, when this error is about it.
    pub fn for_field(&self, field: &str) -> Option<String> {
        match self {
            Self::Validation {
                field: Some(f),
                message,
            } if f == field => Some(message.clone()),
            _ => None,
        }
    }

    /// The message for the form as a whole: every error that is not about one field.
    pub fn general(&self) -> Option<String> {
        match self {
            Self::Validation { field: Some(_), .. } => None,
            other => Some(other.to_string()),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = ErrorJson;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // A form posted with a missing or malformed field.
            ServerFnErrorErr::Args(message) => Self::Validation {
                field: None,
                message: format!("The form was incomplete: {message}"),
            },
            other => Self::Transport(other.to_string()),
        }
    }
}

/// How an [`AppError`] travels: the JSON serde writes for it (`"NotFound"`,
/// `{"Validation":{"field":…,"message":…}}`, …), as with server_fn's `JsonEncoding`, but read
/// with miniserde, whose parser every page already has (the header's signed-in person, the
/// instance's details). So a page whose only JSON is an error — the sign-in page — needs no
/// serde_json (issue 17 §2: `/login` 19.8 KiB less).
pub struct ErrorJson;

impl ContentType for ErrorJson {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for ErrorJson {
    const FORMAT_TYPE: Format = Format::Text;
}

impl Encodes<AppError> for ErrorJson {
    type Error = serde_json::Error;

    fn encode(error: &AppError) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(error).map(Bytes::from)
    }
}

impl Decodes<AppError> for ErrorJson {
    type Error = miniserde::Error;

    fn decode(bytes: Bytes) -> Result<AppError, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(|_| miniserde::Error)?;
        error_from_json(text).ok_or(miniserde::Error)
    }
}

/// An [`AppError`] from the JSON serde writes for it, or `None` if the text is not one.
fn error_from_json(text: &str) -> Option<AppError> {
    if let Ok(unit) = miniserde::json::from_str::<String>(text) {
        return (unit == "NotFound").then_some(AppError::NotFound);
    }
    miniserde::json::from_str::<Tagged>(text).ok()?.into_error()
}

/// serde's externally tagged form of [`AppError`]'s variants with fields, `{"Tag": body}`,
/// read as an object with one optional member per tag (miniserde's derive knows structs
/// only); exactly one must be there. Written out rather than read through
/// `miniserde::json::Value`, whose map code cost every signed-in page about 2 KiB more.
#[derive(miniserde::Deserialize)]
struct Tagged {
    #[serde(rename = "Validation")]
    validation: Option<ValidationBody>,
    #[serde(rename = "Unauthorized")]
    unauthorized: Option<MessageBody>,
    #[serde(rename = "Refused")]
    refused: Option<RefusedBody>,
    #[serde(rename = "RateLimited")]
    rate_limited: Option<RateLimitedBody>,
    #[serde(rename = "Internal")]
    internal: Option<InternalBody>,
    #[serde(rename = "Transport")]
    transport: Option<String>,
}

#[derive(miniserde::Deserialize)]
struct ValidationBody {
    field: Option<String>,
    message: String,
}

#[derive(miniserde::Deserialize)]
struct MessageBody {
    message: String,
}

#[derive(miniserde::Deserialize)]
struct RefusedBody {
    code: String,
    message: String,
}

#[derive(miniserde::Deserialize)]
struct RateLimitedBody {
    retry_after_secs: u64,
}

#[derive(miniserde::Deserialize)]
struct InternalBody {
    reference: String,
}

impl Tagged {
    /// The one variant present, or `None` when there is none or more than one.
    fn into_error(self) -> Option<AppError> {
        let Tagged {
            validation,
            unauthorized,
            refused,
            rate_limited,
            internal,
            transport,
        } = self;
        let errors = [
            validation.map(|b| AppError::Validation {
                field: b.field,
                message: b.message,
            }),
            unauthorized.map(|b| AppError::Unauthorized { message: b.message }),
            refused.map(|b| AppError::Refused {
                code: b.code,
                message: b.message,
            }),
            rate_limited.map(|b| AppError::RateLimited {
                retry_after_secs: b.retry_after_secs,
            }),
            internal.map(|b| AppError::Internal {
                reference: b.reference,
            }),
            transport.map(AppError::Transport),
        ];
        let mut present = errors.into_iter().flatten();
        let error = present.next()?;
        present.next().is_none().then_some(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(json: &str) -> Option<AppError> {
        ErrorJson::decode(Bytes::copy_from_slice(json.as_bytes())).ok()
    }

    /// Every error the server writes comes back as it was, whatever its text holds.
    #[test]
    fn every_error_comes_back_as_the_server_wrote_it() {
        let tricky = "Quote \"this\", a \\ backslash, </script>, café 東京 🦊\n".to_owned();
        for error in [
            AppError::Validation {
                field: Some("email".into()),
                message: tricky.clone(),
            },
            AppError::Validation {
                field: None,
                message: "The form was incomplete".into(),
            },
            AppError::Unauthorized {
                message: "Wrong email or password.".into(),
            },
            AppError::NotFound,
            AppError::Refused {
                code: "quota_exceeded".into(),
                message: tricky.clone(),
            },
            AppError::RateLimited {
                retry_after_secs: 42,
            },
            AppError::Internal {
                reference: "req_01J".into(),
            },
            AppError::Transport(tricky.clone()),
        ] {
            let bytes = ErrorJson::encode(&error).expect("encodes");
            assert_eq!(
                ErrorJson::decode(bytes).ok(),
                Some(error.clone()),
                "{error:?}"
            );
            // The same JSON serde writes, so the server's other readers agree.
            let json = serde_json::to_string(&error).expect("encodes");
            assert_eq!(decode(&json), Some(error.clone()));
            // And inside a resource's answer, read by serde_json.
            let answer: Result<u32, AppError> = Err(error.clone());
            let json = serde_json::to_string(&answer).expect("encodes");
            let back: Result<u32, AppError> =
                serde_json::from_slice(json.as_bytes()).expect("decodes");
            assert_eq!(back, answer);
        }
    }

    /// Anything else is a decoding error (which the client reports as one), never a wrong error.
    #[test]
    fn what_is_not_an_error_is_refused() {
        for json in [
            "",
            "not json",
            "null",
            "42",
            "\"Found\"",
            "[\"NotFound\"]",
            "{}",
            r#"{"Validation":{"field":"email"}}"#,
            r#"{"Validation":{"field":7,"message":"x"}}"#,
            r#"{"Unauthorized":{"message":1}}"#,
            r#"{"RateLimited":{"retry_after_secs":-1}}"#,
            r#"{"RateLimited":{"retry_after_secs":"soon"}}"#,
            r#"{"Transport":{"message":"x"}}"#,
            r#"{"Internal":{"reference":"a"},"Transport":"b"}"#,
            r#"{"Teapot":{"message":"x"}}"#,
        ] {
            assert_eq!(decode(json), None, "{json}");
            if !json.is_empty() && json != "not json" {
                let inside = format!(r#"{{"Err":{json}}}"#);
                assert!(
                    serde_json::from_str::<Result<u32, AppError>>(&inside).is_err(),
                    "{inside}"
                );
            }
        }
        assert_eq!(
            decode(r#"{"Validation":{"field":null,"message":"Too long."}}"#),
            Some(AppError::Validation {
                field: None,
                message: "Too long.".into()
            })
        );
    }
}
