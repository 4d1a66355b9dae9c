//! `avatar-studio user create|list|disable|enable` through the real binary, against the
//! database of a running server: what an operator sees, and what the accounts can do after.

use std::io::Write as _;

use crate::common::{binary, TestServer};
use backend::db::Dialect;
use reqwest::StatusCode;
use serde_json::json;

/// Runs `avatar-studio user ARGS` on the server's database, with `stdin`; answers the exit
/// status, stdout and stderr.
async fn user(server: &TestServer, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut cmd = binary();
    cmd.arg("user")
        .args(args)
        .env("DATA_DIR", server.data_dir.path())
        .env("DATABASE_URL", server.config.database_url.expose())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let stdin = stdin.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn sign_in(server: &TestServer, email: &str, password: &str) -> StatusCode {
    server
        .client
        .post(server.url("/api/v1/auth/login"))
        .header("origin", &server.base)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn operators_create_list_disable_and_enable_accounts() {
    let server = TestServer::start(Dialect::Sqlite).await;

    // A generated password, printed once, that signs in.
    let (ok, out, err) = user(&server, &["create", "ops@example.com"], "").await;
    assert!(ok, "{err}");
    assert!(out.starts_with("created ops@example.com ("), "{out}");
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .and_then(|l| l.split(' ').next())
        .expect("the generated password is printed")
        .to_owned();
    assert!(password.len() >= 20, "{password}");
    assert_eq!(
        sign_in(&server, "ops@example.com", &password).await,
        StatusCode::OK
    );

    // An administrator with a password from standard input (never printed).
    let (ok, out, err) = user(
        &server,
        &[
            "create",
            "Admin@Example.com",
            "--admin",
            "--display-name",
            "Ada",
            "--password-stdin",
        ],
        "correct horse battery staple\n",
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains(", administrator"), "{out}");
    assert!(!out.contains("correct horse"), "{out}");
    assert_eq!(
        sign_in(&server, "admin@example.com", "correct horse battery staple").await,
        StatusCode::OK
    );

    // Refusals, each with a sentence and a non-zero exit.
    let (ok, _, err) = user(&server, &["create", "ops@example.com"], "").await;
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");
    let (ok, _, err) = user(&server, &["create", "not-an-address"], "").await;
    assert!(!ok);
    assert!(err.contains("avatar-studio:"), "{err}");
    let (ok, _, err) = user(
        &server,
        &["create", "short@example.com", "--password-stdin"],
        "short\n",
    )
    .await;
    assert!(!ok);
    assert!(err.to_lowercase().contains("password"), "{err}");
    let (ok, _, err) = user(&server, &["disable", "nobody@example.com"], "").await;
    assert!(!ok);
    assert!(err.contains("no account with this email address"), "{err}");

    let (ok, out, _) = user(&server, &["list"], "").await;
    assert!(ok);
    let admin_line = out
        .lines()
        .find(|l| l.contains("Admin@Example.com"))
        .expect(&out);
    assert!(admin_line.contains(" yes "), "{admin_line}");
    let ops_line = out
        .lines()
        .find(|l| l.contains("ops@example.com"))
        .expect(&out);
    assert!(ops_line.contains(" no "), "{ops_line}");
    assert!(out.trim_end().ends_with("2 account(s)"), "{out}");

    // Disabled: no sign-in; enabled again: it works.
    let (ok, out, err) = user(&server, &["disable", "ops@example.com"], "").await;
    assert!(ok, "{err}");
    assert!(out.starts_with("disabled ops@example.com"), "{out}");
    assert_ne!(
        sign_in(&server, "ops@example.com", &password).await,
        StatusCode::OK
    );
    let (ok, _, _) = user(&server, &["list"], "").await;
    assert!(ok);
    let (ok, _, err) = user(&server, &["enable", "ops@example.com"], "").await;
    assert!(ok, "{err}");
    assert_eq!(
        sign_in(&server, "ops@example.com", &password).await,
        StatusCode::OK
    );
    server.stop().await;
}

#[tokio::test]
async fn the_first_account_signed_up_is_the_administrator() {
    let server = TestServer::start(Dialect::Sqlite).await;
    for (name, _) in [("first", ()), ("second", ())] {
        let resp = server
            .client
            .post(server.url("/api/v1/auth/signup"))
            .header("origin", &server.base)
            .json(&json!({"email": format!("{name}@example.com"), "password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    let (ok, out, _) = user(&server, &["list"], "").await;
    assert!(ok);
    let admin = |who: &str| {
        out.lines()
            .find(|l| l.contains(who))
            .map(|l| l.contains(" yes "))
            .expect(&out)
    };
    assert!(admin("first@example.com"));
    assert!(!admin("second@example.com"));
    server.stop().await;
}

async fn check(vars: &[(&str, String)]) -> (bool, String, String) {
    let mut cmd = binary();
    cmd.arg("check");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let output = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn check_reports_each_part_and_fails_when_the_database_or_storage_does() {
    let server = TestServer::start(Dialect::Sqlite).await;
    // A provider that answers (our own server stands in) and one that does not.
    let base = vec![
        ("DATA_DIR", server.data_dir.path().display().to_string()),
        (
            "DATABASE_URL",
            server.config.database_url.expose().to_owned(),
        ),
        ("OPENAI_BASE_URL", format!("{}/healthz", server.base)),
        ("GEMINI_BASE_URL", "http://127.0.0.1:9".to_owned()),
    ];
    let (ok, out, err) = check(&base).await;
    assert!(ok, "{out}\n{err}");
    let line = |what: &str| {
        out.lines()
            .find(|l| l.starts_with(what))
            .unwrap_or_else(|| panic!("no {what} line in {out}"))
            .to_owned()
    };
    assert!(line("configuration").contains(" ok "), "{out}");
    assert!(line("database").contains("ok    sqlite, "), "{out}");
    assert!(line("database").contains("migrations applied"), "{out}");
    assert!(
        line("storage").contains("ok    file: written, read back and deleted"),
        "{out}"
    );
    assert!(
        line("provider openai").contains("ok    ") && line("provider openai").contains("HTTP 200"),
        "{out}"
    );
    assert!(line("provider gemini").contains("warn"), "{out}");
    assert!(out.trim_end().ends_with("0 failed, 1 warning(s)"), "{out}");
    // The probe leaves nothing behind.
    let leftovers: Vec<_> = std::fs::read_dir(server.data_dir.path().join("objects"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".check-"))
        .collect();
    assert!(leftovers.is_empty());

    // A database that cannot be reached fails the check, with the reason.
    let mut broken = base.clone();
    broken[1] = (
        "DATABASE_URL",
        "postgres://nobody@127.0.0.1:9/none".to_owned(),
    );
    let (ok, out, err) = check(&broken).await;
    assert!(!ok);
    assert!(
        out.lines()
            .any(|l| l.starts_with("database") && l.contains("FAIL") && l.contains("DATABASE_URL")),
        "{out}"
    );
    assert!(
        err.contains("the database check failed (see above)"),
        "{err}"
    );
    server.stop().await;
}

#[tokio::test]
async fn every_operator_command_has_help_and_fails_with_a_sentence_and_a_non_zero_exit() {
    for sub in [
        &["migrate", "--help"][..],
        &["rotate-secret", "--help"],
        &["import-urls", "--help"],
        &["cleanup", "--help"],
        &["check", "--help"],
        &["user", "--help"],
        &["user", "create", "--help"],
        &["user", "list", "--help"],
        &["user", "disable", "--help"],
        &["user", "enable", "--help"],
    ] {
        let output = binary().args(sub).output().unwrap();
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{sub:?}");
        assert!(help.contains("Usage: avatar-studio"), "{sub:?}: {help}");
    }

    // A database that does not answer: each command says so, on standard error, and exits
    // non-zero; nothing half-done is printed as a result.
    let data_dir = tempfile::tempdir().unwrap();
    for sub in [
        &["migrate"][..],
        &["rotate-secret"],
        &["import-urls"],
        &["cleanup"],
        &["cleanup", "--dry-run"],
        &["check"],
        &["user", "list"],
        &["user", "create", "someone@example.com"],
        &["user", "disable", "someone@example.com"],
    ] {
        let output = binary()
            .args(sub)
            .env("DATA_DIR", data_dir.path())
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:9/nothing")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{sub:?} succeeded");
        assert!(
            err.lines().any(|l| l.starts_with("avatar-studio: ")),
            "{sub:?}: {err}"
        );
        assert!(
            err.contains("DATABASE_URL") || err.contains("database"),
            "{sub:?}: {err}"
        );
    }
    // rotate-secret wrote nothing it could not use.
    assert!(!data_dir.path().join("encryption.secret.new").exists());

    // Usage mistakes are told apart from failures (clap's exit status 2).
    let output = binary().args(["user", "create"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("EMAIL"));
    let output = binary().arg("no-such-command").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}
