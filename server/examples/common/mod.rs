//! What the benchmarks share: the real server binary started on SQLite, its memory, and
//! an account with a personal access token on it.

// Each benchmark uses some of these.
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use anyhow::Context as _;
use serde_json::{json, Value};

/// A process's resident memory now (`VmRSS`), in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    status_kib(pid, "VmRSS:")
}

/// A process's highest resident memory so far (`VmHWM`), in KiB.
pub fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    status_kib(pid, "VmHWM:")
}

fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

/// The server binary, running on a fresh SQLite database in a temporary directory;
/// stopped when dropped.
pub struct Server {
    pub child: std::process::Child,
    pub base: String,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `bin` with a clean environment, generous sign-in limits and `env` on top, and
/// waits until it listens.
pub fn start_server(bin: &str, env: &[(&str, &str)]) -> anyhow::Result<Server> {
    let data = tempfile::tempdir()?;
    let mut command = Command::new(bin);
    command.env_clear();
    // Allocator settings and memory bounds to compare with (MALLOC_ARENA_MAX=…,
    // UPLOAD_MEMORY_BYTES=…, IMAGE_WORKERS=…), when given.
    let compared =
        |k: &str| k.starts_with("MALLOC_") || k == "UPLOAD_MEMORY_BYTES" || k == "IMAGE_WORKERS";
    for (k, v) in std::env::vars().filter(|(k, _)| compared(k)) {
        command.env(k, v);
    }
    command
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", data.path())
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "warn,server=info")
        .env(
            "ENCRYPTION_SECRET",
            "bench-secret-bench-secret-bench-secret-0123",
        )
        .env("AUTH_RATE_LIMIT_PER_MINUTE", "100000");
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {bin}"))?;
    let base = wait_listening(&mut child)?;
    Ok(Server {
        child,
        base,
        _data: data,
    })
}

/// Waits (a minute at most) for a server started with its standard output piped and
/// `LOG_FORMAT=json` to log "listening on", and answers its base URL.
pub fn wait_listening(child: &mut std::process::Child) -> anyhow::Result<String> {
    wait_listening_within(child, Duration::from_secs(60))
}

/// [`wait_listening`], for `limit` at most (a server under valgrind starts slowly).
pub fn wait_listening_within(
    child: &mut std::process::Child,
    limit: Duration,
) -> anyhow::Result<String> {
    let stdout = child.stdout.take().context("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if v["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("listening on"))
                {
                    let _ = tx.send(v["addr"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
    });
    let addr = rx.recv_timeout(limit).context("the server did not start")?;
    Ok(format!("http://{addr}"))
}

/// Signs `email` up on the server at `base` and answers the session cookie
/// (`name=value`).
pub async fn sign_up(http: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<String> {
    let signup = http
        .post(format!("{base}/api/v1/auth/signup"))
        .header("origin", base)
        .json(&json!({"email": email, "password": "correct horse battery"}))
        .send()
        .await?
        .error_for_status()?;
    let cookie = signup
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("no session cookie")?;
    Ok(cookie.to_owned())
}

/// Signs `bench@example.com` up on the server at `base` and answers a new access token.
pub async fn bench_token(http: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let cookie = sign_up(http, base, "bench@example.com").await?;
    let token: Value = http
        .post(format!("{base}/api/v1/tokens"))
        .header("origin", base)
        .header("cookie", cookie)
        .json(&json!({"name": "bench"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(token["token"].as_str().unwrap_or_default().to_owned())
}
