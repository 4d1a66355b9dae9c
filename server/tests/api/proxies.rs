//! Behind a reverse proxy, and the abuse limits a public instance needs: the client is the
//! one the trusted proxy names (and nobody else's forged header is believed), each client
//! has its own allowance, successful sign-ins never lock anyone out, verification mails
//! are limited, and with PostgreSQL the limits hold across server processes.

use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::common::TestServer;
use backend::db::Dialect;

const PASSWORD: &str = "correct horse battery";
const PUBLIC_URL: &str = "https://avatars.example.com";

/// A client of the API that may claim to come from somewhere through proxy headers.
struct Client {
    base: String,
    http: reqwest::Client,
    forwarded_for: Option<String>,
    proto: Option<&'static str>,
    cookie: Option<String>,
}

impl Client {
    fn new(server: &TestServer, forwarded_for: Option<&str>) -> Self {
        Self {
            base: server.base.clone(),
            http: server.client.clone(),
            forwarded_for: forwarded_for.map(str::to_owned),
            proto: None,
            cookie: None,
        }
    }

    async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            // A page of the site itself.
            .header(header::ORIGIN, &self.base);
        if let Some(f) = &self.forwarded_for {
            req = req.header("x-forwarded-for", f);
        }
        if let Some(p) = self.proto {
            req = req.header("x-forwarded-proto", p);
        }
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        if let Some(set) = resp.headers().get(header::SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            self.cookie = Some(pair);
        }
        resp
    }

    async fn login(&mut self, email: &str, password: &str) -> StatusCode {
        self.send(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            Some(json!({"email": email, "password": password})),
        )
        .await
        .status()
    }

    /// `GET /api/v1/sessions`: the caller's sessions, as JSON.
    async fn sessions(&mut self) -> Value {
        self.send(reqwest::Method::GET, "/api/v1/sessions", None)
            .await
            .json()
            .await
            .unwrap()
    }

    async fn signup(&mut self, email: &str) -> reqwest::Response {
        self.send(
            reqwest::Method::POST,
            "/api/v1/auth/signup",
            Some(json!({"email": email, "password": PASSWORD})),
        )
        .await
    }
}

/// Clients connecting straight to the app, each claiming another address in
/// `X-Forwarded-For`: all of them are the one peer, so `allowance` wrong guesses spend it.
async fn forgers_share_one_allowance(server: &TestServer, allowance: usize) {
    for i in 0..allowance {
        let mut forger = Client::new(server, Some(&format!("192.0.2.{i}")));
        assert_eq!(
            forger.login(&format!("f{i}@example.com"), "guess").await,
            StatusCode::UNAUTHORIZED,
            "guess {i}"
        );
    }
    // A fresh made-up address: still the same client.
    let mut forger = Client::new(server, Some("192.0.2.200"));
    assert_eq!(
        forger.login("f-last@example.com", "guess").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// A server allowing `per_minute` attempts, and Ann, signed up on it.
async fn with_ann(per_minute: &str) -> (TestServer, Client) {
    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[("AUTH_RATE_LIMIT_PER_MINUTE", per_minute)],
    )
    .await;
    let mut ann = Client::new(&server, None);
    assert_eq!(
        ann.signup("ann@example.com").await.status(),
        StatusCode::CREATED
    );
    (server, ann)
}

async fn behind_proxy(dialect: Dialect, per_minute: &str) -> TestServer {
    TestServer::start_with(
        dialect,
        &[
            ("AUTH_RATE_LIMIT_PER_MINUTE", per_minute),
            ("TRUSTED_PROXIES", "127.0.0.1/32, ::1/128"),
            ("PUBLIC_URL", PUBLIC_URL),
        ],
    )
    .await
}

#[tokio::test]
async fn behind_a_trusted_proxy_one_guesser_does_not_lock_everybody_out() {
    let server = behind_proxy(Dialect::Sqlite, "5").await;
    let mut ann = Client::new(&server, Some("198.51.100.20"));
    assert_eq!(
        ann.signup("ann@example.com").await.status(),
        StatusCode::CREATED
    );

    // A guesser behind the same proxy spends its own allowance (on made-up accounts, so
    // that only the per-client limit is in play)…
    let mut guesser = Client::new(&server, Some("203.0.113.66"));
    for i in 0..5 {
        assert_eq!(
            guesser
                .login(&format!("nobody{i}@example.com"), "guess")
                .await,
            StatusCode::UNAUTHORIZED,
            "attempt {i}"
        );
    }
    assert_eq!(
        guesser.login("nobody9@example.com", "guess").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // …and everybody else still signs in, or is told their password is wrong.
    let mut office = Client::new(&server, Some("198.51.100.21"));
    assert_eq!(
        office.login("bob@example.com", "wrong").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(ann.login("ann@example.com", PASSWORD).await, StatusCode::OK);
    // The guesser cannot get out by adding a hop of its own in front: the proxy appends
    // the real address, and that is the one believed.
    guesser.forwarded_for = Some("192.0.2.1, 203.0.113.66".to_owned());
    assert_eq!(
        guesser.login("nobody10@example.com", "guess").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    server.stop().await;
}

#[tokio::test]
async fn a_forged_forwarded_header_is_not_believed_without_a_trusted_proxy() {
    let server =
        TestServer::start_with(Dialect::Sqlite, &[("AUTH_RATE_LIMIT_PER_MINUTE", "3")]).await;
    forgers_share_one_allowance(&server, 3).await;
    server.stop().await;
}

#[tokio::test]
async fn successful_sign_ins_never_lock_a_busy_office_out_but_failures_do() {
    let (server, _ann) = with_ann("3").await;
    for i in 0..10 {
        let mut colleague = Client::new(&server, None);
        assert_eq!(
            colleague.login("ann@example.com", PASSWORD).await,
            StatusCode::OK,
            "sign-in {i}"
        );
    }
    let mut guesser = Client::new(&server, None);
    for i in 0..3 {
        assert_eq!(
            guesser.login("ann@example.com", "guess").await,
            StatusCode::UNAUTHORIZED,
            "guess {i}"
        );
    }
    assert_eq!(
        guesser.login("ann@example.com", "guess").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    server.stop().await;
}

#[tokio::test]
async fn verification_mails_are_limited_per_account() {
    let (server, mut ann) = with_ann("3").await;
    for i in 0..3 {
        let status = ann
            .send(
                reqwest::Method::POST,
                "/api/v1/auth/resend-verification",
                None,
            )
            .await
            .status();
        assert_eq!(status, StatusCode::ACCEPTED, "mail {i}");
    }
    let resp = ann
        .send(
            reqwest::Method::POST,
            "/api/v1/auth/resend-verification",
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key(header::RETRY_AFTER));
    server.stop().await;
}

#[tokio::test]
async fn the_sessions_list_and_the_cookie_follow_what_the_proxy_says() {
    let server = behind_proxy(Dialect::Sqlite, "100").await;
    let mut ann = Client::new(&server, Some("198.51.100.7"));
    ann.proto = Some("https");
    let resp = ann.signup("ann@example.com").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let cookie = resp.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("Secure"),
        "an HTTPS visitor's cookie is Secure: {cookie}"
    );

    let sessions = ann.sessions().await;
    assert_eq!(sessions["items"][0]["ip"], "198.51.100.7", "{sessions}");

    // Straight to the app (no trusted proxy in between), the same headers mean nothing.
    let plain = TestServer::start_with(Dialect::Sqlite, &[]).await;
    let mut bob = Client::new(&plain, Some("198.51.100.8"));
    bob.proto = Some("https");
    let resp = bob.signup("bob@example.com").await;
    let cookie = resp.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!cookie.contains("Secure"), "{cookie}");
    let sessions = bob.sessions().await;
    assert_eq!(sessions["items"][0]["ip"], "127.0.0.1", "{sessions}");
    plain.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn with_postgres_the_limits_hold_across_server_processes() {
    let first =
        TestServer::start_with(Dialect::Postgres, &[("AUTH_RATE_LIMIT_PER_MINUTE", "4")]).await;
    let second = first
        .start_beside(&[("AUTH_RATE_LIMIT_PER_MINUTE", "4")])
        .await;
    let mut a = Client::new(&first, None);
    let mut b = Client::new(&second, None);
    // Four guesses at one account, spread over both processes, spend the allowance…
    for i in 0..2 {
        assert_eq!(
            a.login("ann@example.com", "guess").await,
            StatusCode::UNAUTHORIZED,
            "a {i}"
        );
        assert_eq!(
            b.login("ann@example.com", "guess").await,
            StatusCode::UNAUTHORIZED,
            "b {i}"
        );
    }
    // …for both of them.
    assert_eq!(
        a.login("ann@example.com", "guess").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        b.login("ann@example.com", "guess").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    second.stop().await;
    first.stop().await;
}

/// A real nginx from Debian in front of the app, on loopback ports.
struct Nginx {
    child: std::process::Child,
    base: String,
    _dir: tempfile::TempDir,
}

/// A free TCP port on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Nginx {
    /// Configured as the README's "Deploying" section says, over plain HTTP. It reaches the
    /// app from 127.0.0.2 (`proxy_bind`), the one trusted proxy, so that a client
    /// connecting straight to the app from 127.0.0.1 is an untrusted peer.
    fn start(app: std::net::SocketAddr) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let d = dir.path().display();
        let conf = format!(
            r#"daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 110m;
        location / {{
            proxy_pass http://{app};
            proxy_bind 127.0.0.2;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1h;
        }}
    }}
}}
"#
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        Self::run(dir, port, format!("http://127.0.0.1:{port}"))
    }

    /// The README's own site, as written (TLS with a self-signed certificate, HTTP/2, the
    /// redirect from plain HTTP), made runnable here by `scripts/nginx-site.sh`, which
    /// changes only the ports, the certificate's paths, the server name and the app's
    /// address.
    fn readme_site(app: std::net::SocketAddr, https_port: u16, http_port: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/nginx-site.sh");
        let out = std::process::Command::new(script)
            .arg(dir.path())
            .arg(app.to_string())
            .arg(https_port.to_string())
            .arg(http_port.to_string())
            .output()
            .expect("scripts/nginx-site.sh runs");
        assert!(
            out.status.success(),
            "scripts/nginx-site.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self::run(dir, https_port, format!("https://127.0.0.1:{https_port}"))
    }

    /// Starts nginx on `dir/nginx.conf` and waits until it listens on `port`.
    fn run(dir: tempfile::TempDir, port: u16, base: String) -> Self {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("nginx is not installed: run ./scripts/setup.sh --test (Debian's nginx-light)");
        let child = std::process::Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nginx starts");
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "nginx did not start: {}",
                std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Self {
            child,
            base,
            _dir: dir,
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn through_a_real_nginx_each_client_has_its_own_limit_and_forgers_are_not_believed() {
    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[
            ("AUTH_RATE_LIMIT_PER_MINUTE", "3"),
            ("TRUSTED_PROXIES", "127.0.0.2/32"),
            ("PUBLIC_URL", PUBLIC_URL),
        ],
    )
    .await;
    let nginx = Nginx::start(server.addr);
    // A visitor of nginx from its own address (loopback has all of 127/8), sending
    // whatever `X-Forwarded-For` it likes: nginx appends the address it really came from.
    let through = |from: &str, forged: &str| {
        let mut c = Client::new(&server, Some(forged));
        c.base.clone_from(&nginx.base);
        c.http = reqwest::Client::builder()
            .local_address(Some(from.parse().unwrap()))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        c
    };
    // Two clients of nginx spend separate allowances, whatever they claim to be.
    for i in 0..3 {
        let mut one = through("127.0.0.11", &format!("198.51.100.{i}"));
        assert_eq!(
            one.login(&format!("a{i}@example.com"), "guess").await,
            StatusCode::UNAUTHORIZED,
            "attempt {i}"
        );
    }
    let mut one = through("127.0.0.11", "198.51.100.99");
    assert_eq!(
        one.login("a9@example.com", "guess").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let mut two = through("127.0.0.12", "198.51.100.1");
    assert_eq!(
        two.login("b@example.com", "guess").await,
        StatusCode::UNAUTHORIZED
    );
    // Signing up through nginx works, and the session remembers where from.
    let mut ann = through("127.0.0.13", "203.0.113.50");
    assert_eq!(
        ann.signup("ann@example.com").await.status(),
        StatusCode::CREATED
    );
    let sessions = ann.sessions().await;
    assert_eq!(sessions["items"][0]["ip"], "127.0.0.13", "{sessions}");

    // Straight to the app from 127.0.0.1 (not the proxy): the header is not believed, so
    // every forged address is the same client.
    forgers_share_one_allowance(&server, 3).await;
    drop(nginx);
    server.stop().await;
}

#[tokio::test]
async fn the_readmes_nginx_site_as_written_serves_the_app_over_tls_http2_and_websocket() {
    let (https_port, http_port) = (free_port(), free_port());
    let public_url = format!("https://127.0.0.1:{https_port}");
    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[
            ("TRUSTED_PROXIES", "127.0.0.1/32"),
            ("PUBLIC_URL", public_url.as_str()),
        ],
    )
    .await;
    let nginx = Nginx::readme_site(server.addr, https_port, http_port);
    assert_eq!(nginx.base, public_url);
    // The certificate is self-signed; the client comes from an address of its own.
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .local_address(Some("127.0.0.13".parse().unwrap()))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Plain HTTP is sent to HTTPS.
    let resp = http
        .get(format!(
            "http://127.0.0.1:{http_port}/login?next=%2Fgallery"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        resp.headers()[header::LOCATION],
        "https://127.0.0.1/login?next=%2Fgallery"
    );

    // The sign-in page, over TLS.
    let resp = http
        .get(format!("{public_url}/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("<form"));

    // Signing up: the cookie is `Secure`, and the session remembers the client nginx saw.
    let mut ann = Client {
        base: public_url.clone(),
        http: http.clone(),
        forwarded_for: Some("198.51.100.7".into()),
        proto: None,
        cookie: None,
    };
    let resp = ann.signup("ann@example.com").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let cookie = resp.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
    let sessions = ann.sessions().await;
    assert_eq!(sessions["items"][0]["ip"], "127.0.0.13", "{sessions}");

    // HTTP/2, as a browser asks for it (ALPN).
    let out = curl(
        &[
            "--http2",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version} %{http_code}",
        ],
        &format!("{public_url}/login"),
    )
    .await;
    assert_eq!(out, "2 200");

    // The live progress WebSocket is upgraded through it (as a signed-in page of the site
    // asks for it; curl stops after the handshake, at its --max-time).
    let cookie = format!("Cookie: {}", ann.cookie.clone().unwrap());
    let origin = format!("Origin: {public_url}");
    let out = curl(
        &[
            "--http1.1",
            "-i",
            "--max-time",
            "3",
            "-H",
            "Connection: Upgrade",
            "-H",
            "Upgrade: websocket",
            "-H",
            "Sec-WebSocket-Version: 13",
            "-H",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "-H",
            &cookie,
            "-H",
            &origin,
        ],
        &format!("{public_url}/ws"),
    )
    .await;
    assert!(out.starts_with("HTTP/1.1 101"), "{out}");
    assert!(
        out.to_ascii_lowercase()
            .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{out}"
    );

    drop(nginx);
    server.stop().await;
}

/// What curl prints for `url` with `args` (TLS not verified: the certificate is
/// self-signed), run off the async runtime.
async fn curl(args: &[&str], url: &str) -> String {
    let mut command = std::process::Command::new("curl");
    command.arg("-sk").args(args).arg(url);
    let out = tokio::task::spawn_blocking(move || command.output().expect("curl runs"))
        .await
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}
