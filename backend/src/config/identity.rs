//! Identity providers people may sign in with: any number of OpenID Connect providers
//! (`OIDC_PROVIDERS=google,corp` with `OIDC_<NAME>_ISSUER`, `_CLIENT_ID`,
//! `_CLIENT_SECRET`, `_DISPLAY_NAME`, `_SCOPES`, `_ALLOW_SIGNUP`) and GitHub's OAuth apps
//! (`GITHUB_CLIENT_ID`, `GITHUB_CLIENT_SECRET`, `GITHUB_ALLOW_SIGNUP`, and for GitHub
//! Enterprise `GITHUB_URL` and `GITHUB_API_URL`).

use secrecy::SecretString;
use url::Url;

use super::{
    parse::{parse_bool, parse_http_url},
    ConfigError,
};

/// The name GitHub is known by in paths (`/auth/github/start`); no OIDC provider may take it.
pub const GITHUB: &str = "github";
/// The longest provider name.
const MAX_NAME_LEN: usize = 32;

/// Every configured identity provider.
#[derive(Debug, Clone, Default)]
pub struct IdentitySettings {
    pub oidc: Vec<OidcSettings>,
    pub github: Option<GithubSettings>,
}

impl IdentitySettings {
    /// The name and display name of each provider, in the order they are configured
    /// (OIDC first, then GitHub).
    pub fn names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.oidc
            .iter()
            .map(|p| (p.name.as_str(), p.display_name.as_str()))
            .chain(
                self.github
                    .iter()
                    .map(|g| (GITHUB, g.display_name.as_str())),
            )
    }

    /// The providers as the pages and the API list them.
    pub fn providers(&self) -> Vec<model::IdentityProvider> {
        self.names()
            .map(|(name, display_name)| model::IdentityProvider {
                name: name.to_owned(),
                display_name: display_name.to_owned(),
            })
            .collect()
    }

    /// The origins people are sent to for signing in (each issuer's, GitHub's), as
    /// `scheme://host[:port]`: the pages' Content-Security-Policy lets forms lead there.
    pub fn origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = self
            .oidc
            .iter()
            .filter_map(|p| Url::parse(&p.issuer).ok())
            .chain(self.github.iter().map(|g| g.web_url.clone()))
            .map(|u| u.origin().ascii_serialization())
            .collect();
        let mut seen = std::collections::HashSet::new();
        origins.retain(|o| seen.insert(o.clone()));
        origins
    }

    pub fn is_empty(&self) -> bool {
        self.oidc.is_empty() && self.github.is_none()
    }
}

/// One OpenID Connect provider.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// Lower-case, as in `OIDC_PROVIDERS` and in the paths `/auth/{name}/…`.
    pub name: String,
    pub display_name: String,
    /// Discovery reads `{issuer}/.well-known/openid-configuration`. Kept as written: the
    /// discovery document must name exactly this issuer (a URL parser would add a `/`).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// What the authorization request asks for; always includes `openid`.
    pub scopes: Vec<String>,
    /// Whether this provider may create accounts when `SIGNUP` is `invite` or `closed`.
    pub allow_signup: bool,
}

/// GitHub's (or a GitHub Enterprise server's) OAuth app.
#[derive(Debug, Clone)]
pub struct GithubSettings {
    pub display_name: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Where people authorise the app (`GITHUB_URL`, default `https://github.com`).
    pub web_url: Url,
    /// The REST API (`GITHUB_API_URL`, default `https://api.github.com`).
    pub api_url: Url,
    pub allow_signup: bool,
}

fn var(name: &str, suffix: &str) -> String {
    format!("OIDC_{}_{suffix}", name.to_ascii_uppercase())
}

fn required(get: &impl Fn(&str) -> Option<String>, key: &str) -> Result<String, ConfigError> {
    get(key).ok_or_else(|| {
        ConfigError::new(
            key.to_owned(),
            "must be set for each provider named in OIDC_PROVIDERS",
        )
    })
}

/// A provider's name: letters, digits and `_`, as in an environment variable's name.
fn parse_name(raw: &str) -> Result<String, ConfigError> {
    let name = raw.trim().to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(ConfigError::new(
            "OIDC_PROVIDERS",
            format!(
                "'{raw}' is not a provider name: use up to {MAX_NAME_LEN} letters, digits \
                 and _, separated by commas (e.g. google,corp)"
            ),
        ));
    }
    if name == GITHUB {
        return Err(ConfigError::new(
            "OIDC_PROVIDERS",
            "'github' is GitHub's OAuth app (GITHUB_CLIENT_ID), not an OIDC provider: \
             choose another name",
        ));
    }
    Ok(name)
}

/// An issuer must be HTTPS (OpenID Connect Discovery), except on this machine.
fn parse_issuer(key: &str, raw: &str) -> Result<Url, ConfigError> {
    let url = parse_http_url(key, raw)?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if url.scheme() != "https" && !loopback {
        return Err(ConfigError::new(
            key.to_owned(),
            format!("'{raw}' must be an https:// URL (http:// only on this machine)"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(
            key.to_owned(),
            format!("'{raw}' must have no query or fragment"),
        ));
    }
    Ok(url)
}

fn parse_scopes(key: &str, raw: Option<String>) -> Result<Vec<String>, ConfigError> {
    let raw = raw.unwrap_or_else(|| "openid email profile".to_owned());
    let mut scopes: Vec<String> = Vec::new();
    for scope in raw.split([' ', ',']).filter(|s| !s.is_empty()) {
        if !scope
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
        {
            return Err(ConfigError::new(
                key.to_owned(),
                format!("'{scope}' is not a scope"),
            ));
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".to_owned());
    }
    Ok(scopes)
}

fn display_name(raw: Option<String>, default: &str) -> String {
    raw.map(|d| d.chars().take(60).collect())
        .unwrap_or_else(|| default.to_owned())
}

fn load_oidc(
    get: &impl Fn(&str) -> Option<String>,
    name: String,
) -> Result<OidcSettings, ConfigError> {
    let issuer_key = var(&name, "ISSUER");
    let issuer = required(get, &issuer_key)?;
    parse_issuer(&issuer_key, &issuer)?;
    let client_id = required(get, &var(&name, "CLIENT_ID"))?;
    let client_secret = SecretString::from(required(get, &var(&name, "CLIENT_SECRET"))?);
    let scopes_key = var(&name, "SCOPES");
    let scopes = parse_scopes(&scopes_key, get(&scopes_key))?;
    let default_display = {
        let mut chars = name.chars();
        chars.next().map_or_else(String::new, |c| {
            c.to_ascii_uppercase().to_string() + chars.as_str()
        })
    };
    Ok(OidcSettings {
        display_name: display_name(get(&var(&name, "DISPLAY_NAME")), &default_display),
        allow_signup: parse_bool(get, &var(&name, "ALLOW_SIGNUP"), false)?,
        issuer,
        client_id,
        client_secret,
        scopes,
        name,
    })
}

fn load_github(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<GithubSettings>, ConfigError> {
    let (client_id, client_secret) = match (get("GITHUB_CLIENT_ID"), get("GITHUB_CLIENT_SECRET")) {
        (None, None) => return Ok(None),
        (Some(id), Some(secret)) => (id, SecretString::from(secret)),
        (Some(_), None) => {
            return Err(ConfigError::new(
                "GITHUB_CLIENT_SECRET",
                "must be set with GITHUB_CLIENT_ID",
            ))
        }
        (None, Some(_)) => {
            return Err(ConfigError::new(
                "GITHUB_CLIENT_ID",
                "must be set with GITHUB_CLIENT_SECRET",
            ))
        }
    };
    let url = |key: &str, default: &str| match get(key) {
        Some(v) => parse_issuer(key, &v),
        None => Ok(Url::parse(default).expect("valid default")),
    };
    Ok(Some(GithubSettings {
        display_name: display_name(get("GITHUB_DISPLAY_NAME"), "GitHub"),
        web_url: url("GITHUB_URL", "https://github.com")?,
        api_url: url("GITHUB_API_URL", "https://api.github.com")?,
        allow_signup: parse_bool(get, "GITHUB_ALLOW_SIGNUP", false)?,
        client_id,
        client_secret,
    }))
}

impl IdentitySettings {
    pub(super) fn load(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut names: Vec<String> = Vec::new();
        for raw in get("OIDC_PROVIDERS")
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.trim().is_empty())
        {
            let name = parse_name(raw)?;
            if names.contains(&name) {
                return Err(ConfigError::new(
                    "OIDC_PROVIDERS",
                    format!("'{name}' is named twice"),
                ));
            }
            names.push(name);
        }
        let oidc = names
            .into_iter()
            .map(|name| load_oidc(get, name))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            oidc,
            github: load_github(get)?,
        })
    }
}
