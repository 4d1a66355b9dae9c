//! The configuration contract: defaults, errors that name the variable, secrets that are
//! never shown, and reading that touches no file until `prepare`.

use std::collections::HashMap;

use secrecy::ExposeSecret;

use super::*;

fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::load(|k| map.get(k).cloned())
}

/// Loaded and prepared, as the process does at start-up.
fn start(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    load(vars)?.prepare()
}

#[test]
fn reading_the_configuration_touches_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = load(&[("DATA_DIR", data.to_str().unwrap())]).unwrap();
    assert!(!data.exists(), "load must not create DATA_DIR");
    assert_eq!(config.encryption_secret_source, SecretSource::Pending);
    assert!(config.encryption_secret.expose_secret().is_empty());

    let config = config.prepare().unwrap();
    assert!(data.is_dir());
    assert!(data.join(SECRET_FILE).is_file());
    assert_eq!(config.encryption_secret_source, SecretSource::Generated);
    assert!(config.encryption_secret.expose_secret().len() >= MIN_SECRET_LEN);
}

#[test]
fn zero_configuration_uses_the_data_dir_for_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = start(&[("DATA_DIR", data.to_str().unwrap())]).unwrap();
    assert_eq!(config.site_addr.to_string(), "127.0.0.1:3000");
    assert_eq!(
        config.database_url.expose(),
        format!("sqlite://{}/avatar-studio.db", data.display())
    );
    assert!(!config.database_url.is_postgres());
    assert_eq!(config.storage_url.scheme(), "file");
    assert!(config.storage_url.path().ends_with("/data/objects/"));
    assert_eq!(config.public_url.as_str(), "http://127.0.0.1:3000/");
    assert_eq!(config.encryption_secret_source, SecretSource::Generated);
    assert_eq!(config.log_format, LogFormat::Pretty);
    assert_eq!(config.builtin_delay, Duration::from_millis(1500));
    assert_eq!(config.auth_rate_limit_per_minute, 10);
    assert_eq!(config.cleanup_orphan_grace, Duration::from_secs(86_400));
    assert!(!config.outbound_allow_private);
    assert!(config.smtp_url.is_none());
    assert_eq!(config.signup, model::SignupMode::Open);
    assert_eq!(config.server_keys_for, model::ServerKeysFor::Admins);
    assert_eq!(config.openai_base_url.as_str(), "https://api.openai.com/v1");
}

#[test]
fn the_generated_secret_is_written_once_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let first = start(&[("DATA_DIR", data)]).unwrap();
    let second = start(&[("DATA_DIR", data)]).unwrap();
    assert_eq!(first.encryption_secret_source, SecretSource::Generated);
    assert_eq!(second.encryption_secret_source, SecretSource::DataDir);
    assert_eq!(
        first.encryption_secret.expose_secret(),
        second.encryption_secret.expose_secret()
    );
    assert!(first.encryption_secret.expose_secret().len() >= MIN_SECRET_LEN);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the secret file must be private to its owner"
        );
    }
}

#[test]
fn invalid_values_name_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let cases = [
        (
            "DATABASE_URL",
            "mysql://root@localhost/db",
            "unsupported scheme",
        ),
        ("DATABASE_URL", "sqlite://", "needs a file path"),
        ("STORAGE_URL", "ftp://example.com/x", "unsupported scheme"),
        ("STORAGE_URL", "s3://", "bucket"),
        ("LEPTOS_SITE_ADDR", "localhost", "not an IP address"),
        ("ENCRYPTION_SECRET", "short", "at least 32"),
        ("PUBLIC_URL", "example.com", "not a valid URL"),
        ("SMTP_URL", "http://mail.example.com", "unsupported scheme"),
        ("OPENAI_BASE_URL", "ftp://x", "http:// or https://"),
        ("LOG_FORMAT", "xml", "pretty or json"),
        ("BUILTIN_DELAY_MS", "-5", "whole number"),
        ("AUTH_RATE_LIMIT_PER_MINUTE", "0", "whole number from 1"),
        ("OUTBOUND_ALLOW_PRIVATE", "maybe", "boolean"),
        (
            "TRUSTED_PROXIES",
            "10.0.0.0/8, nginx",
            "'nginx' is not an address",
        ),
        (
            "TRUSTED_PROXIES",
            "10.0.0.0/33",
            "not an address or a network",
        ),
    ];
    for (key, value, expected) in cases {
        let err = load(&[("DATA_DIR", data), (key, value)]).unwrap_err();
        assert_eq!(err.variable, key, "{key}={value}");
        assert!(
            err.problem.contains(expected),
            "{key}={value}: '{}' should mention '{expected}'",
            err.problem
        );
    }
}

#[test]
fn an_unwritable_data_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let err = start(&[("DATA_DIR", file.join("data").to_str().unwrap())]).unwrap_err();
    assert_eq!(err.variable, "DATA_DIR");
    assert!(err.problem.contains("cannot be created"), "{}", err.problem);
}

#[test]
fn database_passwords_are_never_displayed() {
    let url = DatabaseUrl::parse("postgres://app:hunter2@db.internal:5432/studio").unwrap();
    assert!(url.is_postgres());
    assert_eq!(
        url.to_string(),
        "postgres://app:***@db.internal:5432/studio"
    );
    assert!(!format!("{url:?}").contains("hunter2"));
    let dir = tempfile::tempdir().unwrap();
    let config = load(&[
        ("DATA_DIR", dir.path().to_str().unwrap()),
        (
            "DATABASE_URL",
            "postgres://app:hunter2@db.internal:5432/studio",
        ),
        ("ENCRYPTION_SECRET", "0123456789abcdef0123456789abcdef-more"),
        ("OPENAI_API_KEY", "sk-very-secret"),
    ])
    .unwrap();
    let debug = format!("{config:?}");
    for secret in [
        "hunter2",
        "0123456789abcdef0123456789abcdef",
        "sk-very-secret",
    ] {
        assert!(!debug.contains(secret), "Debug output leaks {secret}");
    }
    assert_eq!(config.encryption_secret_source, SecretSource::Environment);
}

#[test]
fn empty_values_count_as_unset() {
    let dir = tempfile::tempdir().unwrap();
    let config = load(&[
        ("DATA_DIR", dir.path().to_str().unwrap()),
        ("DATABASE_URL", ""),
        ("LOG_FORMAT", " "),
    ])
    .unwrap();
    assert!(config.database_url.expose().starts_with("sqlite://"));
    assert_eq!(config.log_format, LogFormat::Pretty);
}

#[test]
fn trusted_proxies_are_networks_and_need_the_public_address() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let config = load(&[("DATA_DIR", data)]).unwrap();
    assert!(
        config.trusted_proxies.is_empty(),
        "nobody is trusted by default"
    );

    let config = load(&[
        ("DATA_DIR", data),
        ("TRUSTED_PROXIES", "127.0.0.1, 10.1.2.3/8 ,fd00::/8"),
        ("PUBLIC_URL", "https://avatars.example.com"),
    ])
    .unwrap();
    let nets: Vec<String> = config
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(nets, ["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"]);

    let err = load(&[("DATA_DIR", data), ("TRUSTED_PROXIES", "127.0.0.1")]).unwrap_err();
    assert_eq!(err.variable, "PUBLIC_URL");
    assert!(err.problem.contains("TRUSTED_PROXIES"), "{}", err.problem);
}

#[test]
fn identity_providers_are_read_and_their_mistakes_named() {
    let corp = [
        ("OIDC_PROVIDERS", "corp, google"),
        ("OIDC_CORP_ISSUER", "https://sso.example.com/realms/staff"),
        ("OIDC_CORP_CLIENT_ID", "avatar-studio"),
        ("OIDC_CORP_CLIENT_SECRET", "s3cret"),
        ("OIDC_CORP_DISPLAY_NAME", "Staff SSO"),
        ("OIDC_CORP_SCOPES", "email groups"),
        ("OIDC_GOOGLE_ISSUER", "https://accounts.google.com"),
        ("OIDC_GOOGLE_CLIENT_ID", "id.apps.googleusercontent.com"),
        ("OIDC_GOOGLE_CLIENT_SECRET", "g-secret"),
        ("OIDC_GOOGLE_ALLOW_SIGNUP", "true"),
        ("GITHUB_CLIENT_ID", "Iv1.abc"),
        ("GITHUB_CLIENT_SECRET", "gh-secret"),
    ];
    let config = load(&corp).unwrap();
    let names: Vec<(&str, &str)> = config.identity.names().collect();
    assert_eq!(
        names,
        [
            ("corp", "Staff SSO"),
            ("google", "Google"),
            ("github", "GitHub")
        ]
    );
    let staff = &config.identity.oidc[0];
    // As written: the discovery document must name exactly this issuer.
    assert_eq!(staff.issuer, "https://sso.example.com/realms/staff");
    assert_eq!(staff.scopes, ["openid", "email", "groups"]);
    assert!(!staff.allow_signup);
    assert_eq!(
        config.identity.oidc[1].scopes,
        ["openid", "email", "profile"]
    );
    assert!(config.identity.oidc[1].allow_signup);
    let github = config.identity.github.as_ref().unwrap();
    assert_eq!(github.api_url.as_str(), "https://api.github.com/");
    assert_eq!(
        config.identity.origins(),
        [
            "https://sso.example.com",
            "https://accounts.google.com",
            "https://github.com"
        ]
    );
    // Secrets stay secret in Debug output.
    let printed = format!("{config:?}");
    assert!(!printed.contains("s3cret") && !printed.contains("gh-secret"));
    // None configured: none offered.
    assert!(load(&[]).unwrap().identity.is_empty());

    // (variables, the variable named, what the problem says)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case<'_>] = &[
        (
            &[("OIDC_PROVIDERS", "corp")],
            "OIDC_CORP_ISSUER",
            "must be set",
        ),
        (
            &[
                ("OIDC_PROVIDERS", "corp"),
                ("OIDC_CORP_ISSUER", "https://sso.example.com"),
            ],
            "OIDC_CORP_CLIENT_ID",
            "must be set",
        ),
        (
            &[
                ("OIDC_PROVIDERS", "corp"),
                ("OIDC_CORP_ISSUER", "http://sso.example.com"),
            ],
            "OIDC_CORP_ISSUER",
            "must be an https:// URL",
        ),
        (
            &[("OIDC_PROVIDERS", "corp sso")],
            "OIDC_PROVIDERS",
            "not a provider name",
        ),
        (
            &[("OIDC_PROVIDERS", "github")],
            "OIDC_PROVIDERS",
            "GitHub's OAuth app",
        ),
        (
            &[("OIDC_PROVIDERS", "a,A")],
            "OIDC_PROVIDERS",
            "named twice",
        ),
        (
            &[("GITHUB_CLIENT_ID", "x")],
            "GITHUB_CLIENT_SECRET",
            "must be set",
        ),
        (
            &[
                ("GITHUB_CLIENT_ID", "x"),
                ("GITHUB_CLIENT_SECRET", "y"),
                ("GITHUB_ALLOW_SIGNUP", "perhaps"),
            ],
            "GITHUB_ALLOW_SIGNUP",
            "boolean",
        ),
    ];
    for (vars, variable, expected) in cases {
        let err = load(vars).unwrap_err();
        assert_eq!(err.variable, *variable, "{vars:?}");
        assert!(err.problem.contains(expected), "{vars:?}: {}", err.problem);
    }
    // On this machine an http:// issuer is fine (a provider run beside the app).
    let local = load(&[
        ("OIDC_PROVIDERS", "dev"),
        ("OIDC_DEV_ISSUER", "http://127.0.0.1:9000"),
        ("OIDC_DEV_CLIENT_ID", "x"),
        ("OIDC_DEV_CLIENT_SECRET", "y"),
    ])
    .unwrap();
    assert_eq!(local.identity.oidc[0].issuer, "http://127.0.0.1:9000");
}
