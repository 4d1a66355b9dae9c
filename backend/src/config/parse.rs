//! Reading single values: numbers and booleans within bounds, HTTP and storage URLs; each
//! failure names its variable.

use std::fmt;

use url::Url;

use super::*;

pub(super) fn parse_num<T>(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let Some(raw) = get(key) else {
        return Ok(default);
    };
    match raw.parse::<T>() {
        Ok(v) if v >= min && v <= max => Ok(v),
        _ => Err(ConfigError::new(
            key.to_owned(),
            format!("'{raw}' is not a whole number from {min} to {max}"),
        )),
    }
}

pub(super) fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(key).map(|v| v.to_ascii_lowercase()).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError::new(
            key.to_owned(),
            format!("'{other}' is not a boolean: use true or false"),
        )),
    }
}

pub(super) fn parse_http_url(key: &str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw).map_err(|e| {
        ConfigError::new(key.to_owned(), format!("'{raw}' is not a valid URL ({e})"))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::new(
            key.to_owned(),
            format!("'{raw}' must be an http:// or https:// URL with a host"),
        ));
    }
    Ok(url)
}

/// The variables of the S3 client (object_store's names, as in the AWS tools). Web
/// identity (`AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`) is read by object_store itself.
pub(super) const S3_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT",
    "AWS_ALLOW_HTTP",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
    "AWS_SKIP_SIGNATURE",
    "AWS_IMDSV1_FALLBACK",
    "AWS_METADATA_ENDPOINT",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CHECKSUM_ALGORITHM",
    "AWS_UNSIGNED_PAYLOAD",
];

pub(super) fn parse_storage_url(raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw).map_err(|e| {
        ConfigError::new("STORAGE_URL", format!("'{raw}' is not a valid URL ({e})"))
    })?;
    match url.scheme() {
        "file" => {
            if url.to_file_path().is_err() {
                return Err(ConfigError::new(
                    "STORAGE_URL",
                    format!("'{raw}' is not an absolute file:// path, e.g. file:///var/lib/avatar-studio/objects"),
                ));
            }
        }
        "memory" => {}
        "s3" => {
            if url.host_str().is_none_or(str::is_empty) {
                return Err(ConfigError::new(
                    "STORAGE_URL",
                    "an s3:// URL needs a bucket name, e.g. s3://my-bucket",
                ));
            }
        }
        other => {
            return Err(ConfigError::new(
                "STORAGE_URL",
                format!("unsupported scheme '{other}': use file://, s3:// or memory://"),
            ))
        }
    }
    Ok(url)
}

/// `SMTP_URL`: `smtp://` or `smtps://` (with credentials, so kept secret).
pub(super) fn parse_smtp_url(raw: &str) -> Result<SecretString, ConfigError> {
    let url = Url::parse(raw)
        .map_err(|e| ConfigError::new("SMTP_URL", format!("not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "smtp" | "smtps") {
        return Err(ConfigError::new(
            "SMTP_URL",
            format!(
                "unsupported scheme '{}': use smtp://user:pass@host:587 or smtps://…",
                url.scheme()
            ),
        ));
    }
    Ok(SecretString::from(raw.to_owned()))
}

/// `LOG_FORMAT`: `pretty` (the default) or `json`.
pub(super) fn parse_log_format(raw: Option<&str>) -> Result<LogFormat, ConfigError> {
    match raw {
        None | Some("pretty") => Ok(LogFormat::Pretty),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => Err(ConfigError::new(
            "LOG_FORMAT",
            format!("'{other}' is not a log format: use pretty or json"),
        )),
    }
}

/// `GEMINI_API_VERSION`: `v1`, `v1beta`, `v2alpha`…
pub(super) fn parse_api_version(v: String) -> Result<String, ConfigError> {
    let ok = v
        .strip_prefix('v')
        .map(|rest| rest.trim_end_matches("alpha").trim_end_matches("beta"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(v)
    } else {
        Err(ConfigError::new(
            "GEMINI_API_VERSION",
            format!("'{v}' is not an API version: use v1beta or v1"),
        ))
    }
}

/// A comma-separated list of networks (`10.0.0.0/8, 192.168.1.7, ::1`); a bare address is
/// a network of one.
pub(super) fn parse_cidrs(key: &str, raw: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .map(|net| net.trunc())
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        key.to_owned(),
                        format!(
                            "'{item}' is not an address or a network: use e.g. 127.0.0.1, \
                             10.0.0.0/8 or fd00::/8"
                        ),
                    )
                })
        })
        .collect()
}

/// One of an enum's values (`open`, `invite`, …), or `default` when unset.
pub(super) fn parse_choice<T>(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: T,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr<Err = String>,
{
    match get(key) {
        None => Ok(default),
        Some(raw) => raw
            .to_ascii_lowercase()
            .parse()
            .map_err(|message: String| ConfigError::new(key.to_owned(), message)),
    }
}
