//! Accounts, sessions, access tokens and provider keys, through the HTTP API and the
//! pages, as a person and a script would use them — on SQLite and on Postgres.
//!
//! Over 500 lines because each behaviour of accounts is a test of its own.

use std::time::Duration;

use crate::common::{on_both, TestServer};
use backend::db::Dialect;
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery";

/// A browser: keeps the session cookie and sends the site's own `Origin`, as a page does.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookie: Option<String>,
    origin: Option<String>,
}

impl Browser {
    fn new(server: &TestServer) -> Self {
        Self {
            base: server.base.clone(),
            http: server.client.clone(),
            cookie: None,
            origin: Some(server.base.clone()),
        }
    }

    async fn send(&mut self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        if let Some(o) = &self.origin {
            req = req.header(header::ORIGIN, o);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        self.absorb(&resp);
        resp
    }

    fn absorb(&mut self, resp: &reqwest::Response) {
        for value in resp.headers().get_all(header::SET_COOKIE) {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap().trim();
            let (_, v) = pair.split_once('=').unwrap();
            // An emptied cookie (or Max-Age=0) signs the browser out.
            if v.is_empty() || value.contains("Max-Age=0") {
                self.cookie = None;
            } else {
                self.cookie = Some(pair.to_owned());
            }
        }
    }

    async fn get(&mut self, path: &str) -> reqwest::Response {
        self.send(Method::GET, path, None).await
    }

    async fn post(&mut self, path: &str, body: Value) -> reqwest::Response {
        self.send(Method::POST, path, Some(body)).await
    }

    async fn signup(&mut self, email: &str) -> Value {
        let resp = self
            .post(
                "/api/v1/auth/signup",
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.unwrap()
    }

    async fn login(&mut self, email: &str, password: &str) -> reqwest::Response {
        self.post(
            "/api/v1/auth/login",
            json!({"email": email, "password": password}),
        )
        .await
    }
}

async fn error_code(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    (status, body["error"].clone())
}

#[tokio::test]
async fn sign_up_in_and_out_through_the_api() {
    on_both(|dialect| async move {
        let server = TestServer::start(dialect).await;
        let mut ann = Browser::new(&server);

        let resp = ann
            .post(
                "/api/v1/auth/signup",
                json!({"email": "Ann@Example.com", "password": PASSWORD, "display_name": "Ann"}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let cookie = resp.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(cookie.starts_with("avatar_session="), "{cookie}");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(cookie.contains("Path=/"), "{cookie}");
        assert!(!cookie.contains("Secure"), "plain http: {cookie}");
        let user: Value = resp.json().await.unwrap();
        assert_eq!(user["email"], "Ann@Example.com");
        assert_eq!(user["email_verified"], false);
        assert!(user.get("password_hash").is_none());

        let me: Value = ann.get("/api/v1/me").await.json().await.unwrap();
        assert_eq!(me["id"], user["id"]);
        assert_eq!(me["display_name"], "Ann");

        // The same address in other letters is the same account.
        let mut bob = Browser::new(&server);
        let (status, err) = error_code(
            bob.post(
                "/api/v1/auth/signup",
                json!({"email": "ann@example.COM", "password": PASSWORD}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(err["code"], "email_taken");
        assert_eq!(err["field"], "email");
        let (status, err) = error_code(
            bob.post(
                "/api/v1/auth/signup",
                json!({"email": "bob@example.com", "password": "short"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(err["field"], "password");
        assert!(err["message"].as_str().unwrap().contains("10 characters"));
        let (status, err) = error_code(
            bob.post(
                "/api/v1/auth/signup",
                json!({"email": "not-an-address", "password": PASSWORD}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(err["field"], "email");
        let (status, err) =
            error_code(bob.post("/api/v1/auth/signup", json!({"email": 5})).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(err["code"], "invalid_body");

        let resp = ann.post("/api/v1/auth/logout", json!({})).await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert!(ann.cookie.is_none(), "the cookie is removed");
        assert_eq!(
            ann.get("/api/v1/me").await.status(),
            StatusCode::UNAUTHORIZED
        );

        let (status, err) = error_code(ann.login("ann@example.com", "wrong password!").await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(err["message"].as_str().unwrap().contains("not right"));
        let (status, _) = error_code(ann.login("nobody@example.com", PASSWORD).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let resp = ann.login("ANN@example.com", PASSWORD).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(ann.get("/api/v1/me").await.status(), StatusCode::OK);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_cookie_is_secure_when_the_site_is_https() {
    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[("PUBLIC_URL", "https://avatars.example")],
    )
    .await;
    let mut ann = Browser::new(&server);
    ann.origin = Some("https://avatars.example".to_owned());
    let resp = ann
        .post(
            "/api/v1/auth/signup",
            json!({"email": "ann@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let cookie = resp.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("__Host-avatar_session="), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/")
    );
    server.stop().await;
}

/// Reading pages and the API does not write the session each time: its row is written
/// when it changes and once a minute to slide its expiry (`TOUCH_INTERVAL_MS`), not on
/// every request. (The library keeps a session's data in a `HashMap`; written in the
/// order it iterates, the same three values read as changed on nearly every request.)
#[tokio::test]
async fn reading_pages_does_not_write_the_session_every_time() {
    on_both(|dialect| async move {
        let server = TestServer::start(dialect).await;
        let mut ann = Browser::new(&server);
        let user = ann.signup("ann@example.com").await;
        let user_id = user["id"].as_str().unwrap().to_owned();
        let row = || async {
            let rows = backend::db::sessions::list_for_user(server.db(), &user_id)
                .await
                .unwrap();
            assert_eq!(rows.len(), 1, "one session");
            rows.into_iter().next().unwrap()
        };
        let signed_in = row().await;
        // Time passes between requests, as it does for a person (the row keeps
        // milliseconds: a write would show).
        for path in [
            "/gallery",
            "/api/v1/me",
            "/",
            "/settings",
            "/api/v1/images",
            "/studio",
        ] {
            tokio::time::sleep(Duration::from_millis(5)).await;
            assert_eq!(ann.get(path).await.status(), StatusCode::OK, "{path}");
        }
        let after = row().await;
        assert_eq!(after.data, signed_in.data);
        assert_eq!(
            after.last_seen_at, signed_in.last_seen_at,
            "no write within a minute"
        );
        assert_eq!(after.expires_at, signed_in.expires_at);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_at_once() {
    on_both(|dialect| async move {
        let server = TestServer::start(dialect).await;
        let mut laptop = Browser::new(&server);
        laptop.signup("ann@example.com").await;
        let mut phone = Browser::new(&server);
        assert_eq!(
            phone.login("ann@example.com", PASSWORD).await.status(),
            StatusCode::OK
        );
        let mut tablet = Browser::new(&server);
        assert_eq!(
            tablet.login("ann@example.com", PASSWORD).await.status(),
            StatusCode::OK
        );

        let list: Value = laptop.get("/api/v1/sessions").await.json().await.unwrap();
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
        assert!(list["next_cursor"].is_null());

        // The phone's session, as the phone sees it.
        let phone_list: Value = phone.get("/api/v1/sessions").await.json().await.unwrap();
        let phone_id = phone_list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["current"] == true)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();

        // Someone else cannot end it, and cannot tell it exists.
        let mut mallory = Browser::new(&server);
        mallory.signup("mallory@example.com").await;
        let resp = mallory
            .send(
                Method::DELETE,
                &format!("/api/v1/sessions/{phone_id}"),
                None,
            )
            .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert_eq!(phone.get("/api/v1/me").await.status(), StatusCode::OK);

        let resp = laptop
            .send(
                Method::DELETE,
                &format!("/api/v1/sessions/{phone_id}"),
                None,
            )
            .await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            phone.get("/api/v1/me").await.status(),
            StatusCode::UNAUTHORIZED
        );

        let ended: Value = laptop
            .post("/api/v1/sessions/revoke-others", json!({}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(ended["ended"], 1);
        assert_eq!(
            tablet.get("/api/v1/me").await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(laptop.get("/api/v1/me").await.status(), StatusCode::OK);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn access_tokens_are_created_used_and_revoked() {
    on_both(|dialect| async move {
        let server = TestServer::start(dialect).await;
        let mut ann = Browser::new(&server);
        ann.signup("ann@example.com").await;

        let resp = ann
            .post(
                "/api/v1/tokens",
                json!({"name": "backup script", "expires_in_days": 30}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let created: Value = resp.json().await.unwrap();
        let token = created["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("avs_"));
        assert!(token.starts_with(created["prefix"].as_str().unwrap()));
        assert!(created["expires_at"].is_string());

        let (status, err) =
            error_code(ann.post("/api/v1/tokens", json!({"name": "  "})).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(err["field"], "name");
        let (status, err) = error_code(
            ann.post("/api/v1/tokens", json!({"name": "x", "expires_in_days": 0}))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(err["field"], "expires_in_days");

        // A script: no cookie, no Origin, just the token — state changes are allowed.
        let script = |method: Method, path: &str| {
            server
                .client
                .request(method, server.url(path))
                .bearer_auth(&token)
        };
        let me: Value = script(Method::GET, "/api/v1/me")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["email"], "ann@example.com");
        let resp = script(Method::PATCH, "/api/v1/me")
            .json(&json!({"display_name": "Ann from a script"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);

        let list: Value = ann.get("/api/v1/tokens").await.json().await.unwrap();
        let listed = &list["items"][0];
        assert_eq!(listed["name"], "backup script");
        assert!(listed["last_used_at"].is_string(), "{listed}");
        assert!(
            !list.to_string().contains(&token),
            "the token is shown once only"
        );

        let bad = server
            .client
            .get(server.url("/api/v1/me"))
            .bearer_auth("avs_not-a-real-token")
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);

        let id = created["id"].as_str().unwrap();
        let resp = ann
            .send(Method::DELETE, &format!("/api/v1/tokens/{id}"), None)
            .await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        let resp = script(Method::GET, "/api/v1/me").send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let resp = ann
            .send(Method::DELETE, &format!("/api/v1/tokens/{id}"), None)
            .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn cross_site_requests_with_a_cookie_are_refused() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let mut ann = Browser::new(&server);
    ann.signup("ann@example.com").await;

    ann.origin = Some("https://evil.example".to_owned());
    let (status, err) =
        error_code(ann.post("/api/v1/tokens", json!({"name": "stolen"})).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(err["code"], "cross_site_request");
    // Server functions too.
    let resp = ann.post("/api/sign_out", json!({})).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Neither Origin nor Referer, with a cookie: refused.
    ann.origin = None;
    assert_eq!(
        ann.post("/api/v1/tokens", json!({"name": "x"}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // A Referer from the site itself is enough.
    let resp = server
        .client
        .post(server.url("/api/v1/tokens"))
        .header(header::COOKIE, ann.cookie.clone().unwrap())
        .header(header::REFERER, server.url("/settings"))
        .json(&json!({"name": "from the page"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    // And the same request from the site's origin works.
    ann.origin = Some(server.base.clone());
    assert_eq!(
        ann.post("/api/v1/tokens", json!({"name": "mine"}))
            .await
            .status(),
        StatusCode::CREATED
    );
    // Reading is never refused for its origin.
    ann.origin = Some("https://evil.example".to_owned());
    assert_eq!(ann.get("/api/v1/me").await.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn an_address_taken_before_verification_comes_back_clean_to_its_owner() {
    // Mallory signs up with Ann's address (never verified), keeps a session, a token and a
    // provider key; Ann resets the password through her mailbox.
    let server = TestServer::start(Dialect::Sqlite).await;
    let mut mallory = Browser::new(&server);
    mallory.signup("ann@example.com").await;
    let token: Value = mallory
        .post("/api/v1/tokens", json!({"name": "backdoor"}))
        .await
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    let resp = mallory
        .send(
            Method::PUT,
            "/api/v1/provider-keys/openai",
            Some(json!({"api_key": "sk-mallorys-own-key-0123456789"})),
        )
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());

    let mut ann = Browser::new(&server);
    let resp = ann
        .post(
            "/api/v1/auth/forgot-password",
            json!({"email": "ann@example.com"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let reset = token_from_outbox(&server, "/reset-password", 0).await;
    let resp = ann
        .post(
            "/api/v1/auth/reset-password",
            json!({"token": reset, "password": "anns own passphrase"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    // Mallory's session and token are gone…
    assert_eq!(
        mallory.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let as_token = server
        .client
        .get(server.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(as_token.status(), StatusCode::UNAUTHORIZED);
    // …and so is the key Mallory left (Ann's generations must not spend Mallory's
    // account, nor Mallory read Ann's prompts through it).
    assert_eq!(
        ann.login("ann@example.com", "anns own passphrase")
            .await
            .status(),
        StatusCode::OK
    );
    let keys: Value = ann.get("/api/v1/provider-keys").await.json().await.unwrap();
    assert_eq!(keys, json!([]), "{keys}");
    let me: Value = ann.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["email_verified"], true);
    server.stop().await;
}

#[tokio::test]
async fn a_null_origin_cannot_sign_anyone_in_or_up() {
    // Login CSRF: a sandboxed frame on an attacker's page posts the attacker's
    // credentials; the browser sends `Origin: null` and no cookie of ours.
    let server = TestServer::start(Dialect::Sqlite).await;
    let mut mallory = Browser::new(&server);
    mallory.signup("mallory@example.com").await;
    let mut victim = Browser::new(&server);
    victim.origin = Some("null".to_owned());
    let (status, err) = error_code(
        victim
            .post(
                "/api/v1/auth/login",
                json!({"email": "mallory@example.com", "password": PASSWORD}),
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("cross_site_request"))
    );
    assert!(victim.cookie.is_none(), "no session was given");
    // The server functions the sign-in form posts to, too.
    let resp = server
        .client
        .post(server.url("/api/sign_in"))
        .header(header::ORIGIN, "null")
        .form(&[("email", "mallory@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.headers().get(header::SET_COOKIE).is_none());
    let resp = victim
        .post(
            "/api/v1/auth/signup",
            json!({"email": "planted@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    server.stop().await;
}

#[tokio::test]
async fn the_eleventh_wrong_password_in_a_minute_gets_429() {
    let server =
        TestServer::start_with(Dialect::Sqlite, &[("AUTH_RATE_LIMIT_PER_MINUTE", "10")]).await;
    let mut ann = Browser::new(&server);
    ann.signup("ann@example.com").await;
    let mut attacker = Browser::new(&server);
    for i in 0..10 {
        let status = attacker
            .login("ann@example.com", "guess-number-{i}")
            .await
            .status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let resp = attacker.login("ann@example.com", "guess-number-11").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After: {retry}");
    let (_, err) = error_code(resp).await;
    assert_eq!(err["code"], "rate_limited");
    // Even the right password waits: guessing stays slow.
    assert_eq!(
        attacker.login("ann@example.com", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    server.stop().await;
}

/// The newest message in the outbox that mentions `path`, waited for; returns its token.
pub(crate) async fn token_from_outbox(server: &TestServer, path: &str, after: usize) -> String {
    let outbox = server.data_dir.path().join("outbox");
    for _ in 0..100 {
        let mut files: Vec<_> = std::fs::read_dir(&outbox)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        // The messages are quoted-printable: undo the soft line breaks and `=3D`.
        let texts: Vec<String> = files
            .iter()
            .map(|f| {
                std::fs::read_to_string(f)
                    .unwrap()
                    .replace("=\r\n", "")
                    .replace("=3D", "=")
            })
            .filter(|t| t.contains(path))
            .collect();
        if texts.len() > after {
            let text = texts.last().unwrap();
            let start = text.find(&format!("{path}?token=")).unwrap() + path.len() + 7;
            return text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no message with {path} in {}", outbox.display());
}

pub(crate) fn outbox_count(server: &TestServer) -> usize {
    std::fs::read_dir(server.data_dir.path().join("outbox"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn verification_and_reset_work_end_to_end_through_the_outbox() {
    on_both(|dialect| async move {
        let server = TestServer::start(dialect).await;
        let mut ann = Browser::new(&server);
        ann.signup("ann@example.com").await;

        let token = token_from_outbox(&server, "/verify-email", 0).await;
        let resp = ann
            .post("/api/v1/auth/verify-email", json!({"token": token}))
            .await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        let me: Value = ann.get("/api/v1/me").await.json().await.unwrap();
        assert_eq!(me["email_verified"], true);
        let (status, err) = error_code(
            ann.post("/api/v1/auth/verify-email", json!({"token": token}))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(err["code"], "token_used");
        assert!(err["message"]
            .as_str()
            .unwrap()
            .contains("already been used"));
        let (_, err) = error_code(
            ann.post("/api/v1/auth/verify-email", json!({"token": "made-up"}))
                .await,
        )
        .await;
        assert_eq!(err["code"], "token_invalid");

        // Unknown address: the same answer, and no mail.
        let before = outbox_count(&server);
        let mut stranger = Browser::new(&server);
        let resp = stranger
            .post(
                "/api/v1/auth/forgot-password",
                json!({"email": "nobody@example.com"}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
        let unknown_body: Value = resp.json().await.unwrap();
        let resp = stranger
            .post(
                "/api/v1/auth/forgot-password",
                json!({"email": "ann@example.com"}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
        assert_eq!(resp.json::<Value>().await.unwrap(), unknown_body);
        let reset = token_from_outbox(&server, "/reset-password", 0).await;
        assert_eq!(
            outbox_count(&server),
            before + 1,
            "one message: for the real account only"
        );

        let (status, err) = error_code(
            stranger
                .post(
                    "/api/v1/auth/reset-password",
                    json!({"token": reset, "password": "short"}),
                )
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(err["field"], "password");
        let new_password = "a brand new passphrase";
        let resp = stranger
            .post(
                "/api/v1/auth/reset-password",
                json!({"token": reset, "password": new_password}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        // Every session of the account ended; the old password no longer works.
        assert_eq!(
            ann.get("/api/v1/me").await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            ann.login("ann@example.com", PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            ann.login("ann@example.com", new_password).await.status(),
            StatusCode::OK
        );
        let (_, err) = error_code(
            stranger
                .post(
                    "/api/v1/auth/reset-password",
                    json!({"token": reset, "password": "another passphrase"}),
                )
                .await,
        )
        .await;
        assert_eq!(err["code"], "token_used");

        // An expired link is refused with a clear message.
        stranger
            .post(
                "/api/v1/auth/forgot-password",
                json!({"email": "ann@example.com"}),
            )
            .await;
        let late = token_from_outbox(&server, "/reset-password", 1).await;
        backend::with_pool!(server.db(), |pool| {
            sqlx::query("UPDATE email_tokens SET expires_at = 0 WHERE used_at IS NULL")
                .execute(pool)
                .await
                .unwrap();
        });
        let (status, err) = error_code(
            stranger
                .post(
                    "/api/v1/auth/reset-password",
                    json!({"token": late, "password": "another passphrase"}),
                )
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(err["code"], "token_expired");
        assert!(err["message"].as_str().unwrap().contains("expired"));
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn deleting_the_account_removes_its_rows_and_objects() {
    on_both(|dialect| async move {
        let server = TestServer::start(dialect).await;
        let mut ann = Browser::new(&server);
        let user = ann.signup("ann@example.com").await;
        let user_id = user["id"].as_str().unwrap();
        let token: Value = ann
            .post("/api/v1/tokens", json!({"name": "t"}))
            .await
            .json()
            .await
            .unwrap();
        let resp = ann
            .send(
                Method::PUT,
                "/api/v1/provider-keys/openai",
                Some(json!({"api_key": "sk-test-abcdefgh1234"})),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let objects = server.data_dir.path().join("objects");
        let upload = objects.join(format!("uploads/{user_id}/image.png"));
        std::fs::create_dir_all(upload.parent().unwrap()).unwrap();
        std::fs::write(&upload, b"png").unwrap();
        let kept = objects.join("uploads/someone-else/image.png");
        std::fs::create_dir_all(kept.parent().unwrap()).unwrap();
        std::fs::write(&kept, b"png").unwrap();

        let (status, err) = error_code(
            ann.send(
                Method::DELETE,
                "/api/v1/me",
                Some(json!({"password": "not my password"})),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(err["field"], "password");
        assert!(upload.exists());

        let resp = ann
            .send(
                Method::DELETE,
                "/api/v1/me",
                Some(json!({"password": PASSWORD})),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            ann.get("/api/v1/me").await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            ann.login("ann@example.com", PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let resp = server
            .client
            .get(server.url("/api/v1/me"))
            .bearer_auth(token["token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert!(!upload.exists(), "the account's objects are deleted");
        assert!(kept.exists(), "nobody else's");
        for table in [
            "users",
            "sessions",
            "api_tokens",
            "provider_keys",
            "email_tokens",
        ] {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let n: i64 = backend::with_pool!(server.db(), |pool| sqlx::query_scalar(&sql)
                .fetch_one(pool)
                .await
                .unwrap());
            assert_eq!(n, 0, "{table}");
        }
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn private_pages_send_visitors_to_sign_in_and_back() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let resp = server.get("/settings?tab=keys").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()[header::LOCATION],
        "/login?next=%2Fsettings%3Ftab%3Dkeys"
    );
    let login = server.get("/login?next=%2Fsettings").await;
    assert_eq!(login.status(), StatusCode::OK);
    let html = login.text().await.unwrap();
    assert!(
        html.contains("action=\"/api/sign_in\""),
        "the form posts without JavaScript"
    );
    assert!(
        html.contains("value=\"/settings\""),
        "and carries where to go back to"
    );

    let mut ann = Browser::new(&server);
    ann.signup("ann@example.com").await;
    ann.post("/api/v1/auth/logout", json!({})).await;

    // The form as a browser without JavaScript posts it.
    let resp = server
        .client
        .post(server.url("/api/sign_in"))
        .header(header::ORIGIN, &server.base)
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, server.url("/login?next=%2Fsettings"))
        .form(&[
            ("email", "ann@example.com"),
            ("password", PASSWORD),
            ("next", "/settings"),
        ])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    assert_eq!(resp.headers()[header::LOCATION], "/settings");
    ann.absorb(&resp);
    assert!(ann.cookie.is_some());
    let page = ann.get("/settings").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Provider keys"));
    assert!(
        html.contains("ann@example.com"),
        "the header shows who is signed in"
    );

    // A wrong password without JavaScript comes back to the form with the error.
    let resp = server
        .client
        .post(server.url("/api/sign_in"))
        .header(header::ORIGIN, &server.base)
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, server.url("/login"))
        .form(&[
            ("email", "ann@example.com"),
            ("password", "wrong password"),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection());
    let back = resp.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(back.contains("/login") && back.contains("__err="), "{back}");
    let html = server
        .client
        .get(&back)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("not right"), "the error is shown on the page");
    server.stop().await;
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_and_profile_edits_are_checked() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let mut laptop = Browser::new(&server);
    laptop.signup("ann@example.com").await;
    let mut phone = Browser::new(&server);
    assert_eq!(
        phone.login("ann@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );

    let (status, err) = error_code(
        laptop
            .post(
                "/api/v1/me/password",
                json!({"current_password": "wrong one!", "new_password": "a new passphrase"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["field"], "current_password");
    let (_, err) = error_code(
        laptop
            .post(
                "/api/v1/me/password",
                json!({"current_password": PASSWORD, "new_password": "short"}),
            )
            .await,
    )
    .await;
    assert_eq!(err["field"], "new_password");
    let script_token: Value = laptop
        .post("/api/v1/tokens", json!({"name": "a script"}))
        .await
        .json()
        .await
        .unwrap();
    let script_token = script_token["token"].as_str().unwrap().to_owned();
    let as_script = || {
        server
            .client
            .get(server.url("/api/v1/me"))
            .bearer_auth(&script_token)
            .send()
    };
    assert_eq!(as_script().await.unwrap().status(), StatusCode::OK);
    let resp = laptop
        .post(
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "a new passphrase"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        as_script().await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "access tokens end with the old password"
    );
    assert_eq!(
        laptop.get("/api/v1/me").await.status(),
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        phone.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED,
        "the others end"
    );
    assert_eq!(
        phone
            .login("ann@example.com", "a new passphrase")
            .await
            .status(),
        StatusCode::OK
    );

    // Display names: trimmed, one line, at most 80 characters; empty clears it.
    let resp = laptop
        .send(
            Method::PATCH,
            "/api/v1/me",
            Some(json!({"display_name": "  Ann Lee  "})),
        )
        .await;
    assert_eq!(
        resp.json::<Value>().await.unwrap()["display_name"],
        "Ann Lee"
    );
    let (status, err) = error_code(
        laptop
            .send(
                Method::PATCH,
                "/api/v1/me",
                Some(json!({"display_name": "x".repeat(81)})),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["field"], "display_name");
    let resp = laptop
        .send(
            Method::PATCH,
            "/api/v1/me",
            Some(json!({"display_name": ""})),
        )
        .await;
    assert!(resp.json::<Value>().await.unwrap()["display_name"].is_null());

    // A new verification link replaces the old one.
    let first = token_from_outbox(&server, "/verify-email", 0).await;
    let resp = laptop
        .post("/api/v1/auth/resend-verification", json!({}))
        .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let second = token_from_outbox(&server, "/verify-email", 1).await;
    assert_ne!(first, second);
    let (_, err) = error_code(
        laptop
            .post("/api/v1/auth/verify-email", json!({"token": first}))
            .await,
    )
    .await;
    assert_eq!(err["code"], "token_expired");
    let resp = laptop
        .post("/api/v1/auth/verify-email", json!({"token": second}))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    server.stop().await;
}

/// The home page asks for the visitor's usage whether or not anyone is signed in: for a
/// visitor it is nothing (before, a 500 was logged on every signed-out visit).
#[tokio::test]
async fn the_usage_of_an_anonymous_visitor_is_nothing_not_an_error() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let mut visitor = Browser::new(&server);
    let resp = visitor.post("/api/my_usage", json!({})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap(), Value::Null);
    assert_eq!(visitor.get("/").await.status(), StatusCode::OK);

    visitor.signup("una@example.com").await;
    let resp = visitor.post("/api/my_usage", json!({})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let usage: Value = resp.json().await.unwrap();
    assert_eq!(usage["images_today"], 0, "{usage}");
    assert_eq!(
        usage["quota"]["active_jobs"], 50,
        "the default limit: {usage}"
    );
    server.stop().await;
}

/// A server function called without a session asks to sign in with a 401, not a 500 (which
/// was logged as a server failure each time a signed-out tab asked); the pages are as
/// they were (the home page for a visitor, the others a redirect to the sign-in page).
#[tokio::test]
async fn a_server_function_without_a_session_answers_401() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let mut visitor = Browser::new(&server);
    for function in [
        "/api/list_providers",
        "/api/list_provider_keys",
        "/api/live_state",
    ] {
        let resp = visitor.post(function, json!({})).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{function}");
        let body = resp.text().await.unwrap();
        assert!(
            body.contains("Please sign in to continue."),
            "{function}: {body}"
        );
    }
    assert_eq!(visitor.get("/").await.status(), StatusCode::OK);
    let studio = visitor.get("/studio").await;
    assert!(studio.status().is_redirection(), "{}", studio.status());
    assert_eq!(studio.headers()["location"], "/login?next=%2Fstudio");
    server.stop().await;
}
