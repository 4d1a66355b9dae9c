//! Sign-in through an identity provider (issue 18), against a real, certified OpenID
//! Provider: panva's `oidc-provider`, started on a free loopback port by
//! `end2end/oidc/provider.mjs` (installed with the end-to-end tests' packages). The test
//! plays the browser: it follows the redirects between the app and the provider, keeps
//! each site's cookies, and fills in the provider's login form.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use backend::db::Dialect;
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{binary, on_both, wait_exit, RunningBinary, TestServer};

/// The address the app believes it has (`PUBLIC_URL`); the provider sends the browser
/// back there, and the test carries the request to wherever the server really listens.
const PUBLIC: &str = "http://avatar.test";
const CLIENT_ID: &str = "avatar-studio";
const CLIENT_SECRET: &str = "avatar-studio-test-secret";
const PASSWORD: &str = "correct horse battery";

/// The OpenID Provider, stopped when dropped.
struct OpenIdProvider {
    child: Child,
    issuer: String,
}

impl OpenIdProvider {
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// With more of the script's options (`--port N`, `--code-ttl SECONDS`).
    fn start_with(options: &[&str]) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/oidc/provider.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .args(["--redirect", &format!("{PUBLIC}/auth/corp/callback")])
            .args(options)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node runs end2end/oidc/provider.mjs (scripts/setup.sh --test installs it)");
        // Its errors are shown; its two warnings at start (Node.js 20 and the in-memory
        // store, both expected here) are not.
        let stderr = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if !line.starts_with("oidc-provider WARNING") {
                    eprintln!("oidc-provider: {line}");
                }
            }
        });
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        // Whatever else it prints is read and dropped, so that it never writes to a closed
        // pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let ready: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!("the OpenID Provider did not start ({e}): {line:?}; is end2end/node_modules installed?")
        });
        Self {
            child,
            issuer: ready["issuer"].as_str().unwrap().to_owned(),
        }
    }

    /// The app's variables for this provider, as `corp`.
    fn vars(&self) -> Vec<(&'static str, String)> {
        corp_vars(&self.issuer)
    }

    /// Makes the provider's next ID token wrong in the way `tamper` says.
    async fn tamper(&self, tamper: Value) {
        let resp = reqwest::Client::new()
            .post(format!("{}/__test/tamper", self.issuer))
            .json(&tamper)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
}

impl Drop for OpenIdProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The app's variables for a provider `corp` at `issuer` (running or not).
fn corp_vars(issuer: &str) -> Vec<(&'static str, String)> {
    vec![
        ("PUBLIC_URL", PUBLIC.to_owned()),
        ("OIDC_PROVIDERS", "corp".to_owned()),
        ("OIDC_CORP_ISSUER", issuer.to_owned()),
        ("OIDC_CORP_CLIENT_ID", CLIENT_ID.to_owned()),
        ("OIDC_CORP_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("OIDC_CORP_DISPLAY_NAME", "Corp SSO".to_owned()),
    ]
}

async fn start_app(dialect: Dialect, op: &OpenIdProvider, extra: &[(&str, &str)]) -> TestServer {
    start_at(dialect, &op.issuer, extra).await
}

async fn start_at(dialect: Dialect, issuer: &str, extra: &[(&str, &str)]) -> TestServer {
    let vars = corp_vars(issuer);
    let mut all: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    TestServer::start_with(dialect, &all).await
}

/// A browser: one cookie jar per site, no automatic redirects.
struct Browser {
    app: String,
    http: reqwest::Client,
    jars: HashMap<String, HashMap<String, String>>,
}

fn site(url: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    format!(
        "{}:{}",
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap()
    )
}

impl Browser {
    fn new(server: &TestServer) -> Self {
        Self {
            app: server.base.clone(),
            http: server.client.clone(),
            jars: HashMap::new(),
        }
    }

    /// Where a URL of the app's public address really is.
    fn real(&self, url: &str) -> String {
        match url.strip_prefix(PUBLIC) {
            Some(path) => format!("{}{path}", self.app),
            None if url.starts_with('/') => format!("{}{url}", self.app),
            None => url.to_owned(),
        }
    }

    fn cookie(&self, url: &str, name: &str) -> Option<String> {
        self.jars.get(&site(url))?.get(name).cloned()
    }

    async fn send(
        &mut self,
        method: Method,
        url: &str,
        form: Option<&[(&str, &str)]>,
    ) -> reqwest::Response {
        let url = self.real(url);
        let jar = self.jars.entry(site(&url)).or_default();
        let mut req = self.http.request(method.clone(), &url);
        if !jar.is_empty() {
            let cookies: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header(header::COOKIE, cookies.join("; "));
        }
        if method != Method::GET {
            // A page of the site itself posts.
            let origin = url::Url::parse(&url)
                .unwrap()
                .origin()
                .ascii_serialization();
            req = req.header(header::ORIGIN, origin);
        }
        if let Some(form) = form {
            req = req.form(form);
        }
        let resp = req.send().await.unwrap();
        for value in resp.headers().get_all(header::SET_COOKIE) {
            let pair = value.to_str().unwrap().split(';').next().unwrap().trim();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() {
                jar.remove(k);
            } else {
                jar.insert(k.to_owned(), v.to_owned());
            }
        }
        resp
    }

    async fn get(&mut self, url: &str) -> reqwest::Response {
        self.send(Method::GET, url, None).await
    }

    /// Follows redirects from `url` until one leaves for `until`'s prefix (returned, not
    /// followed) or a page answers (returned as `Err`).
    async fn follow(&mut self, mut url: String, until: &str) -> Result<String, reqwest::Response> {
        for _ in 0..10 {
            let resp = self.get(&url).await;
            if !resp.status().is_redirection() {
                return Err(resp);
            }
            let location = resp.headers()[header::LOCATION]
                .to_str()
                .unwrap()
                .to_owned();
            let location = if location.starts_with('/')
                && !url.starts_with(&self.app)
                && !url.starts_with(PUBLIC)
            {
                // Relative to the provider.
                let base = url::Url::parse(&url).unwrap();
                base.join(&location).unwrap().to_string()
            } else {
                location
            };
            if location.starts_with(until) {
                return Ok(location);
            }
            url = location;
        }
        panic!("too many redirects");
    }

    /// Starts at the app's `start` (a GET path), signs in at the provider as `user`, and
    /// answers the URL the provider sends the browser back to (not followed).
    async fn authorize(&mut self, op: &OpenIdProvider, start: &str, user: &str) -> String {
        self.authorize_by(op, Method::GET, start, user).await
    }

    async fn authorize_by(
        &mut self,
        op: &OpenIdProvider,
        method: Method,
        start: &str,
        user: &str,
    ) -> String {
        let resp = self.send(method, start, None).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{start}");
        let to_provider = resp.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(to_provider.starts_with(&op.issuer), "{to_provider}");
        let login = self
            .follow(to_provider, &format!("{}/interaction/", op.issuer))
            .await
            .unwrap_or_else(|r| panic!("no login page: {}", r.status()));
        let form = self.get(&login).await;
        assert!(form
            .text()
            .await
            .unwrap()
            .contains("Test identity provider"));
        let resp = self
            .send(
                Method::POST,
                &format!("{login}/login"),
                Some(&[("login", user)]),
            )
            .await;
        assert!(resp.status().is_redirection(), "{}", resp.status());
        let resume = provider_url(&login, &resp);
        self.follow(resume, PUBLIC).await.unwrap_or_else(|r| {
            panic!("the provider did not send the browser back: {}", r.status())
        })
    }

    /// Opens the provider's callback and answers where the app sends the browser next.
    async fn back(&mut self, callback: &str) -> String {
        let resp = self.get(callback).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{callback}");
        resp.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned()
    }

    async fn sign_in_with(&mut self, op: &OpenIdProvider, start: &str, user: &str) -> String {
        let callback = self.authorize(op, start, user).await;
        self.back(&callback).await
    }

    fn session(&self) -> Option<String> {
        self.cookie(&self.app, "avatar_session")
    }

    async fn me(&mut self) -> Option<Value> {
        let resp = self.get("/api/v1/me").await;
        (resp.status() == StatusCode::OK).then_some(())?;
        Some(resp.json().await.unwrap())
    }

    /// Calls a server function as the page's script does.
    async fn call(&mut self, function: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.send(Method::POST, &format!("/api/{function}"), Some(form))
            .await
    }

    async fn sign_up_with_password(&mut self, email: &str) {
        let resp = self
            .call("sign_up", &[("email", email), ("password", PASSWORD)])
            .await;
        assert!(resp.status().is_success(), "{}", resp.status());
    }

    fn sign_out(&mut self) {
        if let Some(jar) = self.jars.get_mut(&site(&self.app)) {
            jar.remove("avatar_session");
        }
    }
}

/// A redirect of the provider's, as an absolute URL.
fn provider_url(from: &str, resp: &reqwest::Response) -> String {
    let location = resp.headers()[header::LOCATION].to_str().unwrap();
    url::Url::parse(from)
        .unwrap()
        .join(location)
        .unwrap()
        .to_string()
}

/// The browser's sign-in cookie (the one that binds a provider's sign-in to it).
fn owner_cookie(browser: &Browser) -> String {
    browser
        .cookie(&browser.app, "avatar_signin")
        .expect("the browser has a sign-in cookie")
}

async fn identities_of(server: &TestServer, email: &str) -> Vec<(String, String)> {
    let user = backend::db::users::find_by_email(
        server.db(),
        &backend::domain::Email::parse(email).unwrap(),
    )
    .await
    .unwrap()
    .expect("the account exists");
    backend::db::identities::list_for_user(server.db(), &user.id)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.provider, i.subject))
        .collect()
}

async fn accounts(server: &TestServer) -> i64 {
    backend::db::users::count(server.db()).await.unwrap()
}

#[tokio::test]
async fn a_new_identity_makes_an_account_and_a_returning_one_signs_in_to_it() {
    let op = OpenIdProvider::start();
    let op = &op;
    on_both(|dialect| async move {
        let server = start_app(dialect, op, &[]).await;
        let mut browser = Browser::new(&server);
        // The sign-in page offers the provider, as a plain link.
        let page = browser
            .get("/login?next=/gallery")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Sign in with Corp SSO"), "no provider button");
        assert!(page.contains("href=\"/auth/corp/start?next=/gallery\""));

        let next = browser
            .sign_in_with(op, "/auth/corp/start?next=/gallery", "alice")
            .await;
        assert_eq!(next, "/gallery");
        let me = browser.me().await.expect("signed in");
        assert_eq!(me["email"], "alice@example.com");
        assert_eq!(me["display_name"], "Alice Example");
        // The provider vouched for the address.
        assert_eq!(me["email_verified"], true);
        // The first account of the instance administers it, however it was made.
        assert_eq!(me["is_admin"], true);
        // Listed in Sessions like any other sign-in.
        let sessions: Value = browser.get("/api/v1/sessions").await.json().await.unwrap();
        assert_eq!(
            sessions["items"].as_array().map(Vec::len),
            Some(1),
            "{sessions}"
        );

        // Again, from another browser: the same account, a new session.
        let mut other = Browser::new(&server);
        assert_eq!(
            other.sign_in_with(op, "/auth/corp/start", "alice").await,
            "/studio"
        );
        assert_eq!(other.me().await.unwrap()["id"], me["id"]);
        assert_ne!(other.session(), browser.session());
        assert_eq!(accounts(&server).await, 1);
        assert_eq!(
            identities_of(&server, "alice@example.com").await,
            vec![("corp".to_owned(), "alice".to_owned())]
        );
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn an_account_with_the_address_is_linked_only_after_its_password() {
    let op = OpenIdProvider::start();
    let op = &op;
    on_both(|dialect| async move {
        let server = start_app(dialect, op, &[]).await;
        let mut owner = Browser::new(&server);
        owner.sign_up_with_password("alice@example.com").await;
        owner.sign_out();

        // Someone signs in at the provider as alice (verified address): not signed in, not
        // linked; the sign-in page asks for the account's password.
        let next = owner
            .sign_in_with(op, "/auth/corp/start?next=/gallery", "alice")
            .await;
        assert_eq!(next, "/login?link=corp&next=%2Fgallery");
        assert_eq!(owner.session(), None);
        assert!(identities_of(&server, "alice@example.com").await.is_empty());
        let page = owner.get(&next).await.text().await.unwrap();
        assert!(
            page.contains("Sign in to it with your password to link Corp SSO"),
            "{page}"
        );
        let browser_hash = backend::crypto::token_hash(&owner_cookie(&owner));
        let waiting = || backend::db::identity_flows::offer(server.db(), &browser_hash);
        assert_eq!(
            waiting().await.unwrap().unwrap().email.as_deref(),
            Some("alice@example.com")
        );

        // Another browser that signs in to the account with the password links nothing:
        // the offer belongs to the browser that brought the identity.
        let mut elsewhere = Browser::new(&server);
        let resp = elsewhere
            .call(
                "sign_in",
                &[("email", "alice@example.com"), ("password", PASSWORD)],
            )
            .await;
        assert!(resp.status().is_success());
        assert!(identities_of(&server, "alice@example.com").await.is_empty());

        // A wrong password links nothing either.
        let resp = owner
            .call(
                "sign_in",
                &[
                    ("email", "alice@example.com"),
                    ("password", "not the password"),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert!(identities_of(&server, "alice@example.com").await.is_empty());

        // The password, in this browser: linked.
        let resp = owner
            .call(
                "sign_in",
                &[("email", "alice@example.com"), ("password", PASSWORD)],
            )
            .await;
        assert!(resp.status().is_success());
        assert_eq!(
            identities_of(&server, "alice@example.com").await,
            vec![("corp".to_owned(), "alice".to_owned())]
        );
        assert_eq!(waiting().await.unwrap(), None, "the offer is used once");

        // From now on the provider signs in to that account directly.
        let mut later = Browser::new(&server);
        assert_eq!(
            later.sign_in_with(op, "/auth/corp/start", "alice").await,
            "/studio"
        );
        assert_eq!(later.me().await.unwrap()["email"], "alice@example.com");
        assert_eq!(accounts(&server).await, 1);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn an_address_the_provider_does_not_vouch_for_is_never_linked() {
    let op = OpenIdProvider::start();
    let server = start_app(Dialect::Sqlite, &op, &[]).await;
    let mut owner = Browser::new(&server);
    owner.sign_up_with_password("bob@example.com").await;
    owner.sign_out();
    // bob's address is not verified at the provider.
    let next = owner.sign_in_with(&op, "/auth/corp/start", "bob").await;
    assert_eq!(next, "/login?error=address_taken");
    assert_eq!(owner.session(), None);
    // Signing in with the password afterwards does not link it either.
    let resp = owner
        .call(
            "sign_in",
            &[("email", "bob@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert!(resp.status().is_success());
    assert!(identities_of(&server, "bob@example.com").await.is_empty());
    // The page says why, in words.
    let page = Browser::new(&server).get(&next).await.text().await.unwrap();
    assert!(page.contains("has not verified the address"), "{page}");

    // A provider that gives no address cannot make an account.
    let mut nobody = Browser::new(&server);
    assert_eq!(
        nobody
            .sign_in_with(&op, "/auth/corp/start", "noemail")
            .await,
        "/login?error=no_email"
    );
    assert_eq!(accounts(&server).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_tampered_replayed_or_foreign_callback_signs_nobody_in() {
    let op = OpenIdProvider::start();
    let op = &op;
    on_both(|dialect| async move {
        let server = start_app(dialect, op, &[]).await;

        // A tampered state.
        let mut browser = Browser::new(&server);
        let callback = browser.authorize(op, "/auth/corp/start", "carol").await;
        let tampered = callback.replace("state=", "state=x");
        assert_eq!(browser.back(&tampered).await, "/login?error=expired");
        assert_eq!(browser.session(), None);

        // The real one still works once; replayed, it finds nothing.
        let mut browser = Browser::new(&server);
        let callback = browser.authorize(op, "/auth/corp/start", "carol").await;
        assert_eq!(browser.back(&callback).await, "/studio");
        assert!(browser.session().is_some());
        browser.sign_out();
        assert_eq!(browser.back(&callback).await, "/login?error=expired");
        assert_eq!(browser.session(), None);

        // A callback carried to another browser: one with no cookie, and one with its own
        // (it started a sign-in of its own).
        let mut attacker = Browser::new(&server);
        let callback = attacker.authorize(op, "/auth/corp/start", "mallory").await;
        let mut victim = Browser::new(&server);
        victim.get("/auth/corp/start").await;
        assert!(victim.cookie(&victim.app, "avatar_signin").is_some());
        assert_eq!(victim.back(&callback).await, "/login?error=expired");
        assert_eq!(victim.session(), None);
        let mut bare = Browser::new(&server);
        let mut attacker = Browser::new(&server);
        let callback2 = attacker.authorize(op, "/auth/corp/start", "mallory").await;
        assert_eq!(bare.back(&callback2).await, "/login?error=expired");
        // A repeated parameter is no error page either.
        assert_eq!(
            bare.back("/auth/corp/callback?state=a&state=b").await,
            "/login?error=expired"
        );
        // It is used up by that attempt, too.
        assert_eq!(attacker.back(&callback).await, "/login?error=expired");

        // No callback at all, and the provider's own refusal.
        let mut browser = Browser::new(&server);
        assert_eq!(
            browser.back("/auth/corp/callback").await,
            "/login?error=expired"
        );
        assert_eq!(
            accounts(&server).await,
            1,
            "only carol's sign-in made an account"
        );
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_provider_saying_no_ends_on_the_sign_in_page() {
    let op = OpenIdProvider::start();
    let server = start_app(Dialect::Sqlite, &op, &[]).await;
    let mut browser = Browser::new(&server);
    let resp = browser.send(Method::GET, "/auth/corp/start", None).await;
    let to_provider = resp.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let login = browser
        .follow(to_provider, &format!("{}/interaction/", op.issuer))
        .await
        .unwrap();
    let resp = browser
        .send(Method::POST, &format!("{login}/abort"), None)
        .await;
    let resume = provider_url(&login, &resp);
    let callback = browser.follow(resume, PUBLIC).await.unwrap();
    assert!(callback.contains("error=access_denied"), "{callback}");
    assert_eq!(browser.back(&callback).await, "/login?error=denied");
    let page = browser
        .get("/login?error=denied")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("The sign-in was cancelled at the identity provider"));
    assert_eq!(accounts(&server).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn an_id_token_for_another_audience_or_expired_is_refused() {
    let op = OpenIdProvider::start();
    let op = &op;
    on_both(|dialect| async move {
        let server = start_app(dialect, op, &[]).await;
        for tamper in [json!({"aud": "another-app"}), json!({"expired": true})] {
            let mut browser = Browser::new(&server);
            let callback = browser.authorize(op, "/auth/corp/start", "carol").await;
            op.tamper(tamper.clone()).await;
            assert_eq!(
                browser.back(&callback).await,
                "/login?error=failed",
                "{tamper}"
            );
            assert_eq!(browser.session(), None, "{tamper}");
        }
        assert_eq!(accounts(&server).await, 0);
        // The same provider, untampered, works.
        let mut browser = Browser::new(&server);
        assert_eq!(
            browser.sign_in_with(op, "/auth/corp/start", "carol").await,
            "/studio"
        );
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn next_is_followed_only_to_this_site() {
    let op = OpenIdProvider::start();
    let server = start_app(Dialect::Sqlite, &op, &[]).await;
    for (next, expected) in [
        ("https://evil.example/", "/studio"),
        ("//evil.example/x", "/studio"),
        ("/characters", "/characters"),
    ] {
        let mut browser = Browser::new(&server);
        let start = format!("/auth/corp/start?next={}", urlencoded(next));
        assert_eq!(
            browser.sign_in_with(&op, &start, "carol").await,
            expected,
            "{next}"
        );
    }
    server.stop().await;
}

fn urlencoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn a_closed_instance_makes_no_account_unless_the_provider_may() {
    let op = OpenIdProvider::start();
    let server = start_app(Dialect::Sqlite, &op, &[("SIGNUP", "closed")]).await;
    let mut browser = Browser::new(&server);
    assert_eq!(
        browser.sign_in_with(&op, "/auth/corp/start", "carol").await,
        "/login?error=signup_closed"
    );
    assert_eq!(accounts(&server).await, 0);
    server.stop().await;

    let server = start_app(
        Dialect::Sqlite,
        &op,
        &[("SIGNUP", "invite"), ("OIDC_CORP_ALLOW_SIGNUP", "true")],
    )
    .await;
    let mut browser = Browser::new(&server);
    assert_eq!(
        browser.sign_in_with(&op, "/auth/corp/start", "carol").await,
        "/studio"
    );
    assert_eq!(accounts(&server).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_signed_in_account_links_sets_a_password_and_unlinks() {
    let op = OpenIdProvider::start();
    let op = &op;
    on_both(|dialect| async move {
        let server = start_app(dialect, op, &[]).await;
        // An account made by the provider has no password.
        let mut browser = Browser::new(&server);
        browser.sign_in_with(op, "/auth/corp/start", "carol").await;
        let methods: Value = browser
            .call("list_sign_in_methods", &[])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(methods["has_password"], false);
        let id = methods["identities"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(methods["identities"][0]["display_name"], "Corp SSO");
        // Its last way in cannot be unlinked.
        let resp = browser.call("unlink_identity", &[("id", &id)]).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(resp.text().await.unwrap().contains("only way to sign in"));
        // It sets a password without a current one.
        let resp = browser
            .call(
                "change_password",
                &[("current_password", ""), ("new_password", PASSWORD)],
            )
            .await;
        assert!(resp.status().is_success(), "{}", resp.status());
        // Now the identity may go, and the password signs in.
        let resp = browser.call("unlink_identity", &[("id", &id)]).await;
        assert!(resp.status().is_success());
        assert!(identities_of(&server, "carol@example.com").await.is_empty());
        let mut other = Browser::new(&server);
        let resp = other
            .call(
                "sign_in",
                &[("email", "carol@example.com"), ("password", PASSWORD)],
            )
            .await;
        assert!(resp.status().is_success());

        // Linked again from Settings, while signed in (a form post to the app).
        let callback = other
            .authorize_by(op, Method::POST, "/auth/corp/link", "carol")
            .await;
        assert_eq!(
            other.back(&callback).await,
            "/settings?linked=corp#sign-in-methods"
        );
        assert_eq!(identities_of(&server, "carol@example.com").await.len(), 1);

        // An identity linked to another account is not moved.
        let mut dave = Browser::new(&server);
        dave.sign_up_with_password("dave@example.com").await;
        let callback = dave
            .authorize_by(op, Method::POST, "/auth/corp/link", "carol")
            .await;
        assert_eq!(dave.back(&callback).await, "/settings?error=identity_taken");
        assert!(identities_of(&server, "dave@example.com").await.is_empty());

        // Someone else's identity is not theirs to unlink: the same answer as none.
        let carols = backend::db::identities::list_for_user(
            server.db(),
            other.me().await.unwrap()["id"].as_str().unwrap(),
        )
        .await
        .unwrap();
        let resp = dave.call("unlink_identity", &[("id", &carols[0].id)]).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);

        // Linking needs a session, and a post from the site itself.
        let resp = Browser::new(&server)
            .send(Method::POST, "/auth/corp/link", None)
            .await;
        assert_eq!(resp.headers()[header::LOCATION], "/login?next=%2Fsettings");
        let foreign = server
            .client
            .post(format!("{}/auth/corp/link", server.base))
            .header(
                header::COOKIE,
                format!("avatar_session={}", dave.session().unwrap()),
            )
            .header(header::ORIGIN, "https://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_provider_that_was_down_is_discovered_once_it_is_up() {
    // A free port, for a provider that is not running yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let issuer = format!("http://127.0.0.1:{port}");
    let server = start_at(Dialect::Sqlite, &issuer, &[]).await;
    let mut browser = Browser::new(&server);
    let resp = browser.get("/auth/corp/start").await;
    assert_eq!(resp.headers()[header::LOCATION], "/login?error=unavailable");
    // It comes up: the next sign-in discovers it (no restart).
    let op = OpenIdProvider::start_with(&["--port", &port.to_string()]);
    assert_eq!(op.issuer, issuer);
    assert_eq!(
        browser.sign_in_with(&op, "/auth/corp/start", "carol").await,
        "/studio"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_provider_slower_than_the_request_limit_ends_on_the_sign_in_page() {
    let op = OpenIdProvider::start();
    // The provider's calls get the request's limit less 5 s: here 1 s.
    let server = start_app(Dialect::Sqlite, &op, &[("REQUEST_TIMEOUT_SECONDS", "6")]).await;
    let mut browser = Browser::new(&server);
    let callback = browser.authorize(&op, "/auth/corp/start", "carol").await;
    op.tamper(json!({"delay_ms": 3000})).await;
    // Not the request's 503: the sign-in page, with a sentence.
    assert_eq!(browser.back(&callback).await, "/login?error=unavailable");
    assert_eq!(browser.session(), None);
    server.stop().await;
}

#[tokio::test]
async fn an_expired_code_signs_nobody_in() {
    let op = OpenIdProvider::start_with(&["--code-ttl", "1"]);
    let server = start_app(Dialect::Sqlite, &op, &[]).await;
    let mut browser = Browser::new(&server);
    let callback = browser.authorize(&op, "/auth/corp/start", "carol").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(browser.back(&callback).await, "/login?error=failed");
    assert_eq!(browser.session(), None);
    assert_eq!(accounts(&server).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn a_provider_that_is_down_fails_its_sign_ins_not_the_server() {
    let op = OpenIdProvider::start();
    let issuer = op.issuer.clone();
    drop(op);
    let server = start_at(Dialect::Sqlite, &issuer, &[]).await;
    let mut browser = Browser::new(&server);
    let resp = browser.get("/auth/corp/start").await;
    assert_eq!(resp.headers()[header::LOCATION], "/login?error=unavailable");
    let page = browser
        .get("/login?error=unavailable")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("cannot be reached right now"));
    // An unknown provider is no error page either.
    let resp = browser.get("/auth/nobody/start").await;
    assert_eq!(resp.headers()[header::LOCATION], "/login?error=expired");
    server.stop().await;
}

#[test]
fn check_reports_each_providers_discovery_and_keys_and_no_secret_is_logged() {
    let op = OpenIdProvider::start();
    let data = tempfile::tempdir().unwrap();
    let migrate = binary()
        .arg("migrate")
        .env("DATA_DIR", data.path())
        .output()
        .unwrap();
    assert!(migrate.status.success());
    let mut check = binary();
    check.arg("check").env("DATA_DIR", data.path());
    for (k, v) in op.vars() {
        check.env(k, v);
    }
    let out = check.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("identity corp"))
        .unwrap();
    assert!(
        line.contains(" ok ") && line.contains("1 signing key(s)"),
        "{line}"
    );
    assert!(!stdout.contains(CLIENT_SECRET));

    // A provider that cannot be reached fails the check.
    let mut check = binary();
    check.arg("check").env("DATA_DIR", data.path());
    for (k, v) in op.vars() {
        check.env(
            k,
            if k == "OIDC_CORP_ISSUER" {
                "http://127.0.0.1:9".to_owned()
            } else {
                v
            },
        );
    }
    let out = check.output().unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("identity corp") && l.contains("FAIL")),
        "{stdout}"
    );

    // Invalid configuration stops the process with exit 2, naming the variable.
    let mut serve = binary();
    serve
        .env("DATA_DIR", data.path())
        .env("OIDC_PROVIDERS", "corp");
    let out = serve.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("OIDC_CORP_ISSUER"));

    // The server's whole log of a sign-in holds no client secret, code or token.
    let mut serve = binary();
    serve.env("DATA_DIR", data.path()).env("RUST_LOG", "debug");
    for (k, v) in op.vars() {
        serve.env(k, v);
    }
    let mut running = RunningBinary::spawn(serve);
    let addr = running.wait_listening();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let callback = rt.block_on(async {
        let server_like = TestServerAddress(format!("http://{addr}"));
        let mut browser = server_like.browser();
        // One that fails a check (another audience), then one that works.
        let refused = browser.authorize(&op, "/auth/corp/start", "erin").await;
        op.tamper(json!({"aud": "another-app"})).await;
        assert_eq!(browser.back(&refused).await, "/login?error=failed");
        let mut browser = server_like.browser();
        let callback = browser.authorize(&op, "/auth/corp/start", "erin").await;
        assert_eq!(browser.back(&callback).await, "/studio");
        vec![refused, callback]
    });
    crate::common::sigterm(&running.child);
    wait_exit(&mut running.child, Duration::from_secs(30));
    let mut log = String::new();
    while let Ok(line) = running.lines.recv_timeout(Duration::from_secs(2)) {
        log.push_str(&line.to_string());
        log.push('\n');
    }
    // Every code and state the provider handed out.
    let mut handed_out: Vec<String> = Vec::new();
    for url in &callback {
        for (k, v) in url::Url::parse(url).unwrap().query_pairs() {
            if k == "code" || k == "state" {
                handed_out.push(v.into_owned());
            }
        }
    }
    assert_eq!(handed_out.len(), 4);
    assert!(
        log.contains("signed in with an identity")
            || log.contains("account created with an identity"),
        "the log has the sign-in"
    );
    assert!(log.contains("failed a check"), "the refusal is logged");
    for secret in handed_out
        .iter()
        .map(String::as_str)
        .chain([CLIENT_SECRET, "eyJ"])
    {
        assert!(!log.contains(secret), "the log holds {secret}");
    }
}

/// A server started as the binary, for [`Browser`].
struct TestServerAddress(String);

impl TestServerAddress {
    fn browser(&self) -> Browser {
        Browser {
            app: self.0.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jars: HashMap::new(),
        }
    }
}

/// The GitHub OAuth app against the fake GitHub (an Enterprise-style `/api/v3`).
async fn start_with_github(github: &fakes::github::FakeGithub) -> TestServer {
    TestServer::start_with(
        Dialect::Sqlite,
        &[
            ("PUBLIC_URL", PUBLIC),
            ("GITHUB_CLIENT_ID", "gh-client"),
            ("GITHUB_CLIENT_SECRET", "gh-secret"),
            ("GITHUB_URL", &github.web_url()),
            ("GITHUB_API_URL", &github.api_url()),
        ],
    )
    .await
}

async fn through_github(browser: &mut Browser, start: &str) -> String {
    let resp = browser.get(start).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to_github = resp.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        to_github.contains("code_challenge_method=S256"),
        "{to_github}"
    );
    assert!(
        to_github.contains("scope=read%3Auser+user%3Aemail"),
        "{to_github}"
    );
    let callback = browser
        .follow(to_github, PUBLIC)
        .await
        .unwrap_or_else(|r| panic!("GitHub did not send the browser back: {}", r.status()));
    browser.back(&callback).await
}

#[tokio::test]
async fn github_signs_in_with_its_verified_primary_address() {
    use fakes::github::{FakeGithub, GithubUser};
    let github = FakeGithub::start("gh-client", "gh-secret").await;
    github.add_user(GithubUser {
        id: 583_231,
        login: "octocat".to_owned(),
        name: Some("The Octocat".to_owned()),
        emails: vec![
            ("octo@old.example".to_owned(), false, true),
            ("octocat@example.com".to_owned(), true, true),
        ],
    });
    github.add_user(GithubUser {
        id: 7,
        login: "sneaky".to_owned(),
        name: None,
        // Claims an address it has not verified.
        emails: vec![("owner@example.com".to_owned(), true, false)],
    });
    let server = start_with_github(&github).await;
    let page = Browser::new(&server)
        .get("/login")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Sign in with GitHub"));

    github.approve_as(Some("octocat"));
    let mut browser = Browser::new(&server);
    assert_eq!(
        through_github(&mut browser, "/auth/github/start?next=/gallery").await,
        "/gallery"
    );
    let me = browser.me().await.expect("signed in");
    assert_eq!(me["email"], "octocat@example.com");
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["display_name"], "The Octocat");
    assert_eq!(
        identities_of(&server, "octocat@example.com").await,
        vec![("github".to_owned(), "583231".to_owned())]
    );
    // Returning: the same account.
    let mut again = Browser::new(&server);
    assert_eq!(
        through_github(&mut again, "/auth/github/start").await,
        "/studio"
    );
    assert_eq!(again.me().await.unwrap()["id"], me["id"]);

    // An unverified address never reaches an account that has it.
    let mut owner = Browser::new(&server);
    owner.sign_up_with_password("owner@example.com").await;
    owner.sign_out();
    github.approve_as(Some("sneaky"));
    assert_eq!(
        through_github(&mut owner, "/auth/github/start").await,
        "/login?error=address_taken"
    );
    assert!(identities_of(&server, "owner@example.com").await.is_empty());

    // Cancelled at GitHub.
    github.approve_as(None);
    let mut browser = Browser::new(&server);
    assert_eq!(
        through_github(&mut browser, "/auth/github/start").await,
        "/login?error=denied"
    );
    assert_eq!(accounts(&server).await, 2);
    server.stop().await;
}

#[tokio::test]
async fn the_mailboxs_owner_takes_over_an_account_an_unverified_identity_made() {
    let op = OpenIdProvider::start();
    let server = start_app(Dialect::Sqlite, &op, &[]).await;
    // bob's address is not verified at the provider: an account is made, unverified.
    let mut mallory = Browser::new(&server);
    assert_eq!(
        mallory.sign_in_with(&op, "/auth/corp/start", "bob").await,
        "/studio"
    );
    assert_eq!(mallory.me().await.unwrap()["email_verified"], false);
    assert_eq!(identities_of(&server, "bob@example.com").await.len(), 1);

    // The mailbox's owner resets the password: the identity goes with the rest.
    let resp = server
        .client
        .post(server.url("/api/v1/auth/forgot-password"))
        .json(&json!({"email": "bob@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let token = crate::accounts::token_from_outbox(&server, "/reset-password", 0).await;
    let resp = server
        .client
        .post(server.url("/api/v1/auth/reset-password"))
        .json(&json!({"token": token, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(identities_of(&server, "bob@example.com").await.is_empty());
    assert_eq!(mallory.me().await, None);
    // And the identity cannot come back: its address is the owner's, verified now.
    let mut again = Browser::new(&server);
    assert_eq!(
        again.sign_in_with(&op, "/auth/corp/start", "bob").await,
        "/login?error=address_taken"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_first_password_needs_a_fresh_browser_sign_in() {
    let op = OpenIdProvider::start();
    let server = start_app(Dialect::Sqlite, &op, &[]).await;
    let mut browser = Browser::new(&server);
    browser.sign_in_with(&op, "/auth/corp/start", "carol").await;
    // An access token of the account cannot set it.
    let resp = browser
        .call("create_token", &[("name", "script"), ("scope_write", "on")])
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let token: String = resp.json().await.unwrap();
    let resp = server
        .client
        .post(server.url("/api/v1/me/password"))
        .bearer_auth(&token)
        .json(&json!({"current_password": "", "new_password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Nor a session opened more than 10 minutes ago.
    let sql = "UPDATE sessions SET created_at = created_at - 660000";
    match server.db() {
        backend::Db::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        backend::Db::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
    }
    .unwrap();
    let resp = browser
        .call(
            "change_password",
            &[("current_password", ""), ("new_password", PASSWORD)],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.text().await.unwrap().contains("sign in again"));
    // Signed in again just now: it may.
    let mut fresh = Browser::new(&server);
    fresh.sign_in_with(&op, "/auth/corp/start", "carol").await;
    let resp = fresh
        .call(
            "change_password",
            &[("current_password", ""), ("new_password", PASSWORD)],
        )
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    server.stop().await;
}

#[tokio::test]
async fn a_link_goes_only_to_the_account_that_asked_for_it() {
    let op = OpenIdProvider::start();
    let server = start_app(Dialect::Sqlite, &op, &[]).await;
    let mut browser = Browser::new(&server);
    browser.sign_up_with_password("first@example.com").await;
    let callback = browser
        .authorize_by(&op, Method::POST, "/auth/corp/link", "linkme")
        .await;
    // Meanwhile the browser signed out and in to another account.
    browser.sign_out();
    browser.sign_up_with_password("second@example.com").await;
    assert_eq!(browser.back(&callback).await, "/settings?error=expired");
    assert!(identities_of(&server, "first@example.com").await.is_empty());
    assert!(identities_of(&server, "second@example.com")
        .await
        .is_empty());
    server.stop().await;
}

#[tokio::test]
async fn starting_sign_ins_is_limited_per_client() {
    let op = OpenIdProvider::start();
    let server = start_app(Dialect::Sqlite, &op, &[("AUTH_RATE_LIMIT_PER_MINUTE", "3")]).await;
    let mut browser = Browser::new(&server);
    for _ in 0..3 {
        let resp = browser.get("/auth/corp/start").await;
        let location = resp.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(location.starts_with(&op.issuer), "{location}");
    }
    let resp = browser.get("/auth/corp/start").await;
    assert_eq!(resp.headers()[header::LOCATION], "/login?error=too_many");
    server.stop().await;
}
