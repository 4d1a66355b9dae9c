//! Parse, don't validate: values that reach a repository or a service have already been
//! checked, because they can only be built through these constructors.

use std::fmt;

/// The longest email address we accept (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter an email address.")]
    Empty,
    #[error("That email address is too long (at most {MAX_EMAIL_LEN} characters).")]
    TooLong,
    #[error("That does not look like an email address (name@example.com).")]
    Invalid,
}

/// A syntactically valid email address, trimmed. Accounts are unique by
/// [`Email::normalized`] (lower-cased), so `Ann@Example.com` and `ann@example.com` are
/// the same account, while the address is kept as the person typed it.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > MAX_EMAIL_LEN {
            return Err(EmailError::TooLong);
        }
        let parsed = email_address::EmailAddress::parse_with_options(
            s,
            email_address::Options::default()
                .without_display_text()
                .without_domain_literal(),
        )
        .map_err(|_| EmailError::Invalid)?;
        // A deliverable address has a dotted domain; "root@localhost" is refused.
        if !parsed.domain().contains('.') || s.chars().any(char::is_whitespace) {
            return Err(EmailError::Invalid);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

/// The shortest password we accept, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest: enough for any passphrase, small enough that hashing stays cheap.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// A new password that meets the rules. Never printed.
#[derive(Clone)]
pub struct NewPassword(secrecy::SecretString);

impl NewPassword {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(FieldError::new(
                "password",
                format!("Use at least {MIN_PASSWORD_CHARS} characters for your password."),
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(FieldError::new(
                "password",
                format!("Use at most {MAX_PASSWORD_CHARS} characters for your password."),
            ));
        }
        if raw.trim().is_empty() {
            return Err(FieldError::new(
                "password",
                "A password cannot be only spaces.",
            ));
        }
        Ok(Self(secrecy::SecretString::from(raw.to_owned())))
    }

    pub fn expose(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(&self.0)
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// A problem with one input field, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// One of our ids (a UUID, in its canonical lower-case hyphenated form). Ids that arrive
/// in a request are parsed into this before they reach a query or a storage key; anything
/// else is answered as "not found".
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(String);

impl Id {
    pub fn parse(raw: &str) -> Option<Self> {
        uuid::Uuid::try_parse(raw.trim())
            .ok()
            .map(|u| Self(u.hyphenated().to_string()))
    }

    /// A new time-ordered id.
    pub fn new() -> Self {
        Self(crate::new_id())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Id {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

/// Optional free text (descriptions, prompts): trimmed, empty means none, at most `max`
/// characters; line breaks and tabs are allowed, other control characters are not.
pub fn parse_text(
    field: &'static str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    let Some(s) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if s.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("Use at most {max} characters."),
        ));
    }
    if s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FieldError::new(field, "Remove the control characters."));
    }
    Ok(Some(s.to_owned()))
}

/// A short, single-line, human-given name (display names, token names): trimmed, no
/// control characters, between 1 and `max` characters.
pub fn parse_label(field: &'static str, raw: &str, max: usize) -> Result<String, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, "This cannot be empty."));
    }
    if s.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("Use at most {max} characters."),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "Use a single line without control characters.",
        ));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_need_ten_characters_and_are_never_printed() {
        assert_eq!(NewPassword::parse("short").unwrap_err().field, "password");
        assert!(NewPassword::parse("nine-char").is_err());
        assert!(NewPassword::parse("          ").is_err());
        let p = NewPassword::parse("ten-chars!").unwrap();
        assert_eq!(p.expose(), "ten-chars!");
        assert!(!format!("{p:?}").contains("ten-chars"));
        // characters, not bytes
        assert!(NewPassword::parse("ééééééééé").is_err());
        assert!(NewPassword::parse(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }

    #[test]
    fn labels_are_trimmed_single_lines() {
        assert_eq!(parse_label("name", "  CI token ", 100).unwrap(), "CI token");
        assert!(parse_label("name", "   ", 100).is_err());
        assert!(parse_label("name", "a\nb", 100).is_err());
        assert!(parse_label("name", &"x".repeat(101), 100).is_err());
    }

    #[test]
    fn ids_are_canonical_uuids_and_nothing_else() {
        let id = Id::parse(" 0192F0B2-7C1D-7000-8000-00000000ABCD ").unwrap();
        assert_eq!(id.as_str(), "0192f0b2-7c1d-7000-8000-00000000abcd");
        for bad in [
            "",
            "../../etc/passwd",
            "1",
            "0192f0b2-7c1d-7000-8000-00000000abc/",
        ] {
            assert!(Id::parse(bad).is_none(), "{bad}");
        }
        assert!(Id::parse(Id::new().as_str()).is_some());
    }

    #[test]
    fn free_text_is_trimmed_and_bounded() {
        assert_eq!(parse_text("d", Some("  "), 10).unwrap(), None);
        assert_eq!(
            parse_text("d", Some(" a\nb "), 10).unwrap().as_deref(),
            Some("a\nb")
        );
        assert!(parse_text("d", Some("x\u{7}"), 10).is_err());
        assert!(parse_text("d", Some(&"x".repeat(11)), 10).is_err());
    }

    #[test]
    fn accepts_ordinary_addresses_and_trims() {
        let e = Email::parse("  Ann.Lee+avatars@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "Ann.Lee+avatars@Example.COM");
        assert_eq!(e.normalized(), "ann.lee+avatars@example.com");
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
        for bad in [
            "ann",
            "ann@",
            "@example.com",
            "ann@localhost",
            "a b@example.com",
            "Ann <ann@example.com>",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Invalid), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }
}
