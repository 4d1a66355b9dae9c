//! Columns of enumerated values (the enums of `model` and a few of our own): how a row
//! reads them, and the status sets queries use. Both are written from the enums' own
//! lists, so SQL follows the code; the migrations' CHECK constraints hold the same lists
//! (a test compares them).

use model::{ImageKind, ImageStatus, KeyProvider, ProviderId, UnknownValue};
use sqlx::{decode::Decode, error::BoxDynError, types::Type, Database};

use super::email_tokens::Purpose;

/// A column holding one of an enum's values as text, decoded through the enum's
/// `TryFrom<String>`: a row field reads it with `#[sqlx(try_from = "Enumerated<T>")]`.
/// An unknown value is an error naming the column and the value (sqlx's own `try_from =
/// "String"` loses the value's message), never a silent default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enumerated<T>(pub T);

impl<'r, DB, T> Decode<'r, DB> for Enumerated<T>
where
    DB: Database,
    String: Decode<'r, DB>,
    T: TryFrom<String, Error = UnknownValue>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <String as Decode<'r, DB>>::decode(value)?;
        Ok(Self(T::try_from(text)?))
    }
}

impl<DB, T> Type<DB> for Enumerated<T>
where
    DB: Database,
    String: Type<DB>,
{
    fn type_info() -> <DB as Database>::TypeInfo {
        <String as Type<DB>>::type_info()
    }

    fn compatible(ty: &<DB as Database>::TypeInfo) -> bool {
        <String as Type<DB>>::compatible(ty)
    }
}

macro_rules! enumerated {
    ($($ty:ty),+) => {$(
        impl From<Enumerated<$ty>> for $ty {
            fn from(value: Enumerated<$ty>) -> Self {
                value.0
            }
        }
    )+};
}

enumerated!(ImageStatus, ImageKind, ProviderId, KeyProvider, Purpose);

/// A set of image or job statuses in SQL, `('generating', 'downloading', 'uploading')`,
/// written from `ImageStatus::ALL` and one of its predicates: the one place a status set
/// in a query comes from, so that it follows the enum.
#[derive(Debug, Clone, Copy)]
pub struct StatusSet(pub fn(ImageStatus) -> bool);

/// The statuses of a job a worker is running.
pub const RUNNING: StatusSet = StatusSet(ImageStatus::is_running);
/// The final statuses.
pub const FINAL: StatusSet = StatusSet(ImageStatus::is_final);

impl std::fmt::Display for StatusSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(")?;
        for (i, status) in ImageStatus::ALL
            .iter()
            .filter(|s| (self.0)(**s))
            .enumerate()
        {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "'{}'", status.as_str())?;
        }
        f.write_str(")")
    }
}
