//! Types shared by every crate, including the wasm build: they carry data only
//! (serde), never behaviour that needs the server.

/// `as_str`, `Display`, `FromStr` and `TryFrom<String>` (with an error that lists the
/// allowed values) and `ALL` for an enum of fixed strings. `TryFrom<String>` is what the
/// database rows decode through (`#[sqlx(try_from = "String")]`), so an unknown value
/// read back is an error naming the column and the value, never a silent default.
macro_rules! string_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    other => Err(format!(
                        "'{other}' is not {}: use {}",
                        $what,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl ::std::convert::TryFrom<String> for $ty {
            type Error = $crate::UnknownValue;

            fn try_from(s: String) -> Result<Self, $crate::UnknownValue> {
                s.parse().map_err($crate::UnknownValue)
            }
        }
    };
}

/// A text that is none of an enum's values (the message says which are allowed): what
/// reading such a value back from the database fails with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue(pub String);

impl std::fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnknownValue {}

pub mod account;
pub mod card;
pub mod error;
pub mod generation;
pub mod health;
pub mod identity;
pub mod library;
pub mod operations;
pub mod spend;
pub mod timestamp;
pub mod user;

pub use account::*;
pub use card::{images_of, ImageCard};
pub use error::{ApiError, ApiErrorBody};
pub use generation::*;
pub use health::{Health, HealthCheck, InstanceInfo, ServerKeysFor, SignupMode};
pub use identity::{IdentityProvider, LinkedIdentity, SignInMethods, SignInProblem};
pub use library::*;
pub use operations::*;
pub use spend::*;
pub use user::{User, Viewer};

/// The product's name, as shown in the UI and in the server-rendered HTML.
pub const PRODUCT_NAME: &str = "Avatar Studio";
