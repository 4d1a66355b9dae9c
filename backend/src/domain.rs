//! Parse, don't validate: values that reach a repository or a service have already been
//! checked, because they can only be built through these constructors.

use std::fmt;

/// The longest email address we accept (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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

#[cfg(test)]
mod tests {
    use super::*;

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
