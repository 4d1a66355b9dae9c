//! The `avatar-studio` binary, run as an operator would run it.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

use crate::common::{binary, sigterm, wait_exit, RunningBinary};

/// How many migrations the repository holds for a backend: all are applied on a new
/// database.
fn migrations_in(backend: &str) -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(backend);
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count()
}

#[test]
fn help_lists_the_subcommands() {
    let out = binary().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("Usage: avatar-studio"), "{help}");
    assert!(help.contains("serve"), "{help}");
    assert!(help.contains("Run the web server (the default)"), "{help}");
    assert!(help.contains("migrate"), "{help}");
}

#[test]
fn migrate_applies_the_migrations_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        binary()
            .env("DATA_DIR", dir.path())
            .env("RUST_LOG", "warn")
            .arg("migrate")
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stdout = String::from_utf8(first.stdout).unwrap();
    let known = migrations_in("sqlite");
    assert!(
        stdout.starts_with(&format!("{known} migration(s) applied")),
        "{stdout}"
    );
    assert!(dir.path().join("avatar-studio.db").is_file());

    let second = run();
    assert!(second.status.success());
    let stdout = String::from_utf8(second.stdout).unwrap();
    assert!(
        stdout.starts_with(&format!("0 migration(s) applied; {known} in total")),
        "{stdout}"
    );
}

#[test]
fn a_bad_database_url_stops_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = binary()
        .env("DATA_DIR", dir.path())
        .env("DATABASE_URL", "mysql://root@localhost/db")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("invalid configuration: DATABASE_URL: unsupported scheme 'mysql'"),
        "{stderr}"
    );

    // Well-formed, but nothing listens there: named, with the password hidden.
    let out = binary()
        .env("DATA_DIR", dir.path())
        .env("DATABASE_URL", "postgres://app:s3cret@127.0.0.1:1/avatar")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(
            "DATABASE_URL: cannot connect to the database at postgres://app:***@127.0.0.1:1/avatar"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn a_bad_database_is_reported_before_a_taken_listen_address() {
    // The address is taken (as by the app a person started from the README) and the
    // database cannot be reached: the database is the problem to fix, so it is named.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = binary()
        .env("DATA_DIR", dir.path())
        .env("LEPTOS_SITE_ADDR", &addr)
        .env("DATABASE_URL", "postgres://app:s3cret@127.0.0.1:1/avatar")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("DATABASE_URL: cannot connect to the database"),
        "{stderr}"
    );
    assert!(!stderr.contains("LEPTOS_SITE_ADDR"), "{stderr}");

    // With the database fine, the taken address is what is reported.
    let out = binary()
        .env("DATA_DIR", dir.path())
        .env("LEPTOS_SITE_ADDR", &addr)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!("LEPTOS_SITE_ADDR: cannot listen on {addr}")),
        "{stderr}"
    );
    drop(taken);
}

#[test]
fn an_unwritable_data_dir_stops_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, b"x").unwrap();
    let out = binary()
        .env("DATA_DIR", file.join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("invalid configuration: DATA_DIR:"),
        "{stderr}"
    );
    assert!(stderr.contains("cannot be created"), "{stderr}");
}

#[test]
fn other_invalid_settings_name_their_variable() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value) in [
        ("LOG_FORMAT", "xml"),
        ("RUST_LOG", "[[["),
        ("STORAGE_URL", "ftp://x/y"),
    ] {
        let out = binary()
            .env("DATA_DIR", dir.path())
            .env(key, value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{key}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.contains(&format!("invalid configuration: {key}:")),
            "{key}: {stderr}"
        );
    }
}

#[test]
fn a_dotenv_file_in_the_working_directory_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "DATA_DIR={}\nLOG_FORMAT=xml\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let out = binary()
        .current_dir(dir.path())
        .arg("migrate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("LOG_FORMAT: 'xml' is not a log format"),
        "{stderr}"
    );
    // An invalid configuration touches nothing: DATA_DIR is made only once it is valid.
    assert!(!dir.path().join("data").exists());

    // The environment wins over .env.
    let out = binary()
        .current_dir(dir.path())
        .env("LOG_FORMAT", "json")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("data").is_dir(), "DATA_DIR came from .env");
}

#[tokio::test]
async fn zero_configuration_serves_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = binary();
    cmd.env("DATA_DIR", dir.path());
    let server = RunningBinary::spawn(cmd);
    let warning = server.wait_for("ENCRYPTION_SECRET is not set", Duration::from_secs(30));
    assert_eq!(warning["level"], "WARN");
    let addr = server.wait_listening();

    let ready = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let home = reqwest::get(format!("http://{addr}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Avatar Studio"));

    assert!(dir.path().join("avatar-studio.db").is_file());
    assert!(dir.path().join("objects").is_dir());
    assert!(dir.path().join("encryption.secret").is_file());

    // Each request's log line carries its request id.
    let res = reqwest::Client::new()
        .get(format!("http://{addr}/healthz"))
        .header("x-request-id", "follow-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let line = server.wait_answered("/healthz");
    assert_eq!(line["span"]["request_id"], "follow-me-42", "{line}");
}

/// The application's files (`/pkg/`) are served as files: their type, `nosniff`, `Vary`,
/// and none of a document's headers, `Accept-Ranges` nor the request id, which a first
/// visit would otherwise receive once per chunk (issue 17); pages keep them all. The file's
/// request is still logged with its id, and a request for a part gets that part.
#[tokio::test]
async fn application_files_carry_a_files_headers_and_pages_a_documents() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let chunk = b"\0asm\x01\0\0\0 a chunk".to_vec();
    std::fs::write(site.join("pkg/chunk.wasm"), &chunk).unwrap();
    let mut cmd = binary();
    cmd.env("DATA_DIR", dir.path().join("data"))
        .env("LEPTOS_SITE_ROOT", &site);
    let server = RunningBinary::spawn(cmd);
    let addr = server.wait_listening();
    let client = reqwest::Client::new();

    let res = client
        .get(format!("http://{addr}/pkg/chunk.wasm"))
        .header("x-request-id", "chunk-request-7")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert_eq!(res.bytes().await.unwrap().as_ref(), chunk.as_slice());
    assert_eq!(headers["content-type"], "application/wasm");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["vary"], "accept-encoding");
    assert_eq!(headers["cache-control"], "no-cache");
    for left_off in [
        "x-frame-options",
        "referrer-policy",
        "x-request-id",
        "accept-ranges",
    ] {
        assert!(headers.get(left_off).is_none(), "{left_off}: {headers:?}");
    }
    let line = server.wait_answered("/pkg/chunk.wasm");
    assert_eq!(line["span"]["request_id"], "chunk-request-7", "{line}");

    // A request for a part is still answered with that part.
    let res = client
        .get(format!("http://{addr}/pkg/chunk.wasm"))
        .header("range", "bytes=0-3")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &chunk[..4]);

    // A file that is not there is answered as a file too.
    let res = client
        .get(format!("http://{addr}/pkg/missing.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.headers().get("x-frame-options").is_none());

    // Pages and the API keep a document's headers and the request id.
    for path in ["/login", "/api/v1/me"] {
        let res = client
            .get(format!("http://{addr}{path}"))
            .header("x-request-id", "page-request-8")
            .send()
            .await
            .unwrap();
        let headers = res.headers();
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(
            headers["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
        assert_eq!(headers["x-request-id"], "page-request-8", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
    }
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_then_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = binary();
    cmd.env("DATA_DIR", dir.path());
    let mut server = RunningBinary::spawn(cmd);
    let addr = server.wait_listening();

    // A slow client: the headers and half of the body now, the rest after SIGTERM.
    let body = "client=slow&extra=1";
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /api/instance_info HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..8]
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    sigterm(&server.child);
    server.wait_for("shutting down", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "it must wait for the request"
    );
    // New connections are no longer accepted.
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1))
            .map(|mut s| {
                let _ = write!(s, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
                let mut buf = [0u8; 16];
                s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                s.read(&mut buf).unwrap_or(0)
            })
            .unwrap_or(0)
            == 0
    );

    stream.write_all(&body.as_bytes()[8..]).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("builtin"), "{response}");

    let status = wait_exit(&mut server.child, Duration::from_secs(15));
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn serves_on_a_new_postgres_database() {
    if backend::testing::skip_postgres() {
        return;
    }
    let name = backend::testing::unique_database_name();
    let url = backend::testing::postgres_url(&name);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = binary();
    cmd.env("DATA_DIR", dir.path()).env("DATABASE_URL", &url);
    let mut server = RunningBinary::spawn(cmd);
    let ready_line = server.wait_for("database ready", Duration::from_secs(30));
    assert_eq!(ready_line["dialect"], "postgres");
    assert_eq!(ready_line["applied"], migrations_in("postgres"));
    let addr = server.wait_listening();
    let ready = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    sigterm(&server.child);
    assert_eq!(
        wait_exit(&mut server.child, Duration::from_secs(15)).code(),
        Some(0)
    );

    backend::testing::drop_postgres_database(&name).await;
}
