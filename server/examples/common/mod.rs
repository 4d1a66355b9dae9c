//! What the benchmarks share: an account and a personal access token on a running server.

use serde_json::{json, Value};

/// Signs `bench@example.com` up on the server at `base` and answers a new access token.
pub async fn bench_token(http: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let signup = http
        .post(format!("{base}/api/v1/auth/signup"))
        .header("origin", base)
        .json(&json!({"email": "bench@example.com", "password": "correct horse battery"}))
        .send()
        .await?
        .error_for_status()?;
    let cookie = signup
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_owned();
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
