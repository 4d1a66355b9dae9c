//! The HTTP surface of a real server on port 0, on SQLite and on Postgres.

use crate::common::{api::Api, on_both, TestServer};
use backend::db::Dialect;
use reqwest::StatusCode;

#[tokio::test]
async fn health_and_readiness() {
    on_both(|dialect| async move {
        let server = TestServer::start(dialect).await;

        let res = server.get("/healthz").await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["status"], "ok");

        let res = server.get("/readyz").await;
        assert_eq!(res.status(), StatusCode::OK, "{dialect:?}");
        let body: model::Health = res.json().await.unwrap();
        assert_eq!(body.status, "ok");
        let names: Vec<&str> = body.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["database", "storage"]);
        assert!(body.checks.iter().all(|c| c.ok && c.error.is_none()));

        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn readiness_fails_when_storage_disappears() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let objects = server.config.storage_url.to_file_path().unwrap();
    std::fs::remove_dir_all(&objects).unwrap();

    let res = server.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: model::Health = res.json().await.unwrap();
    assert_eq!(body.status, "unavailable");
    let storage = body.checks.iter().find(|c| c.name == "storage").unwrap();
    assert!(!storage.ok);
    assert!(
        storage.error.as_deref().unwrap().contains("missing"),
        "{storage:?}"
    );
    let database = body.checks.iter().find(|c| c.name == "database").unwrap();
    assert!(database.ok);
    server.stop().await;
}

#[tokio::test]
async fn the_home_page_is_rendered_on_the_server() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let res = server.get("/").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    // Leptos marks text boundaries with <!> comments for hydration; a reader ignores them.
    let html = res.text().await.unwrap().replace("<!>", "");
    assert!(html.contains("<h1>Avatar Studio</h1>"), "{html}");
    assert!(html.contains("<title>Avatar Studio</title>"), "{html}");
    // The navigation (the sections, and a visitor's ways in), and the scripts that
    // hydrate the page.
    for label in [
        "Studio",
        "Characters",
        "Gallery",
        "Collections",
        "Sign in",
        "Create an account",
    ] {
        assert!(html.contains(&format!(">{label}</a>")), "nav link {label}");
    }
    assert!(html.contains("/pkg/avatar-studio.js"), "hydration script");
    assert!(html.contains("/pkg/avatar-studio.css"), "stylesheet");
    // The instance information comes from the server function, resolved during SSR and
    // streamed in order, so that it is in place without JavaScript (not in a <template>).
    let info = html
        .find("Ready to generate with: builtin")
        .expect("instance info");
    assert!(!html[..info].contains("<template"), "{html}");
    server.stop().await;
}

#[tokio::test]
async fn every_section_page_renders_with_its_title() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let cookie = server.sign_up("pages@example.com").await;
    for (path, title) in [
        ("/studio", "Studio"),
        ("/characters", "Characters"),
        ("/gallery", "Gallery"),
        ("/collections", "Collections"),
        ("/settings", "Settings"),
        ("/login", "Sign in"),
        ("/signup", "Create an account"),
        ("/forgot-password", "Forgot your password?"),
    ] {
        // The sections are private: anonymous visitors go to sign in first.
        if !["/login", "/signup", "/forgot-password"].contains(&path) {
            let anonymous = server.get(path).await;
            assert_eq!(anonymous.status(), StatusCode::SEE_OTHER, "{path}");
        }
        let res = server
            .client
            .get(server.url(path))
            .header("cookie", &cookie)
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: headers: {e}"));
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let html = match res.text().await {
            Ok(h) => h,
            Err(e) => panic!("{path}: body: {e}"),
        };
        // Without the empty comments the renderer leaves after some texts for hydration.
        let html = html.replace("<!>", "");
        assert!(html.contains(&format!(">{title}</h1>")), "{path}");
        assert!(
            html.contains(&format!("<title>{title} · Avatar Studio</title>")),
            "{path}"
        );
    }
    server.stop().await;
}

// On a runtime with several threads, as in production. The character page used to stream
// its details after the head (which then had no title), and leptos_meta formatted the title
// from another thread while the details rendered: a value they owned was read there
// mid-recompute or after it was gone, which panicked the render (seen in the browser as a
// page that never showed its heading).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_character_page_is_whole_every_time() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let cookie = server.sign_up("merlin@example.com").await;
    let created = Api::for_session(&server.base, &server.client, &cookie)
        .await
        .expect(
            reqwest::Method::POST,
            "/api/v1/characters",
            Some(serde_json::json!({"name": "Merlin the Grey", "description": "A wizard"})),
            StatusCode::CREATED,
        )
        .await;
    let path = format!("/characters/{}", created["id"].as_str().expect("an id"));
    for round in 0..10 {
        let loads = (0..4).map(|_| async {
            let res = server
                .client
                .get(server.url(&path))
                .header("cookie", &cookie)
                .timeout(std::time::Duration::from_secs(10))
                .send()
                .await
                .unwrap_or_else(|e| panic!("round {round}: headers: {e}"));
            assert_eq!(res.status(), StatusCode::OK, "round {round}");
            res.text()
                .await
                .unwrap_or_else(|e| panic!("round {round}: body: {e}"))
                .replace("<!>", "")
        });
        for html in futures::future::join_all(loads).await {
            assert!(
                html.contains(">Merlin the Grey</h1>"),
                "round {round}: {html}"
            );
            assert!(
                html.contains("Delete Merlin the Grey"),
                "round {round}: {html}"
            );
            // Rendered whole before it is sent, so the head names the character too.
            assert!(
                html.contains("<title>Merlin the Grey · Avatar Studio</title>"),
                "round {round}: {html}"
            );
        }
    }
    server.stop().await;
}

// The gallery's first page is rendered on the server and handed to hydration as cards:
// what the grid and the lightbox read, not the API's whole record of each image (issue 17
// §5: the hydration data were half the page).
#[tokio::test]
async fn the_gallery_hands_hydration_its_images_as_cards() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let cookie = server.sign_up("cards@example.com").await;
    let api = Api::for_session(&server.base, &server.client, &cookie).await;
    let made = api
        .expect(
            reqwest::Method::POST,
            "/api/v1/generations?wait=true",
            Some(serde_json::json!({"prompt": "A lighthouse at dusk, seen from the sea", "provider": "builtin", "size": "256x256"})),
            StatusCode::OK,
        )
        .await;
    let image = &made["images"][0];
    let (id, sha256) = (
        image["id"].as_str().unwrap(),
        image["sha256"].as_str().unwrap(),
    );
    assert!(
        image["params"].is_object() && image["seed"].is_i64(),
        "{image}"
    );
    let gallery = || server.page("/gallery", &cookie);
    let html = gallery().await.replace("<!>", "");
    // The tile is there, with its picture, and the image is in the hydration data …
    assert!(
        html.contains("Open A lighthouse at dusk, seen from the sea"),
        "{html}"
    );
    assert!(html.contains(&format!("/media/{id}?")), "{html}");
    let data = &html[html.find("__RESOLVED_RESOURCES").expect("hydration data")..];
    assert!(data.contains(id), "{data}");
    // … without what only the API's clients read.
    for only_api in [sha256, "sha256", "revised_prompt", "params"] {
        assert!(!data.contains(only_api), "{only_api} in {data}");
    }

    // The server-rendered tiles are written by hand (`server_tiles`): a title meant to
    // break out of the markup stays text, in the tile's labels and its caption.
    let hostile = r#""><script>alert(1)</script><img src=x onerror=alert(2)>"#;
    api.expect(
        reqwest::Method::PATCH,
        &format!("/api/v1/images/{id}"),
        Some(serde_json::json!({"title": hostile})),
        StatusCode::OK,
    )
    .await;
    let html = gallery().await;
    let grid = &html[html.find("<ul aria-label=\"Images\"").expect("the grid")..];
    let grid = &grid[..grid.find("</ul>").expect("the grid's end")];
    assert!(
        !grid.contains("<script") && !grid.contains("onerror=alert(2)>"),
        "{grid}"
    );
    let escaped =
        "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;";
    for place in [
        format!("aria-label=\"Open {escaped}\""),
        format!("alt=\"{escaped}\""),
        format!("<span class=\"tile__caption\">{escaped}</span>"),
    ] {
        assert!(grid.contains(&place), "{place} in {grid}");
    }
    assert_eq!(grid.matches("<li ").count(), 1, "{grid}");
    server.stop().await;
}

#[tokio::test]
async fn unknown_pages_get_the_html_404_page() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let res = server.get("/no/such/page").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = res.text().await.unwrap();
    assert!(html.contains("Page not found"), "{html}");
    assert!(html.contains("/no/such/page"), "the page names the path");
    server.stop().await;
}

#[tokio::test]
async fn unknown_api_paths_get_a_json_404() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let res = server.get("/api/v1/no-such-thing").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: model::ApiError = res.json().await.unwrap();
    assert_eq!(body.error.code, "not_found");
    assert!(
        body.error.message.contains("GET /api/v1/no-such-thing"),
        "{body:?}"
    );

    let res = server
        .client
        .delete(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: model::ApiError = res.json().await.unwrap();
    assert_eq!(body.error.code, "method_not_allowed");
    server.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let res = server.get("/api/v1/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: serde_json::Value = res.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "Avatar Studio API");
    for path in ["/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"] {
        assert!(
            doc["paths"][path]["get"].is_object(),
            "{path} is documented"
        );
    }
    assert!(doc["components"]["schemas"]["ApiError"].is_object());
    // Every schema the document refers to is in it (a type that became an enum, say).
    fn refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v.as_str()) {
                        ("$ref", Some(r)) => out.push(r),
                        _ => refs(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 20, "{found:?}");
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("a reference outside the schemas: {r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} is referred to but not defined"
        );
    }
    for (path, method) in [
        ("/api/v1/auth/signup", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/me", "delete"),
        ("/api/v1/sessions/{id}", "delete"),
        ("/api/v1/tokens", "post"),
        ("/api/v1/provider-keys/{provider}", "put"),
        ("/api/v1/provider-keys/{provider}/test", "post"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
    }
    // Every documented GET path answers a signed-in script (no stale entries), and the
    // private ones refuse an anonymous caller with 401.
    let cookie = server.sign_up("doc@example.com").await;
    let token: serde_json::Value = server
        .client
        .post(server.url("/api/v1/tokens"))
        .header("cookie", cookie)
        .header("origin", &server.base)
        // The first account administers: its token may read everything.
        .json(&serde_json::json!({"name": "docs", "scopes": ["read", "admin"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if item["get"].is_object() && !path.contains('{') {
            let signed_in = server
                .client
                .get(server.url(path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            // An endpoint that takes a selection in its query (the ZIP export) says what is
            // missing with a 400; every other one answers.
            let needs_input = item["get"]["parameters"]
                .as_array()
                .is_some_and(|p| !p.is_empty())
                && signed_in.status() == StatusCode::BAD_REQUEST;
            assert!(
                signed_in.status().is_success() || needs_input,
                "{path}: {}",
                signed_in.status()
            );
            let anonymous = server.get(path).await.status();
            assert!(
                anonymous.is_success() || anonymous == StatusCode::UNAUTHORIZED,
                "{path}: {anonymous}"
            );
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn metrics_are_exposed_in_prometheus_format() {
    let server = TestServer::start(Dialect::Sqlite).await;
    server.get("/healthz").await;
    server.get("/api/v1/nothing-here").await;
    let res = server.get("/metrics").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = res.text().await.unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("http_requests_total{")
            && l.contains(r#"route="/healthz""#)
            && l.contains(r#"status="200""#)),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("http_requests_total{")
            && l.contains(r#"route="/api/v1""#)
            && l.contains(r#"status="404""#)),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("db_pool_connections"), "{text}");
    assert!(text.contains("avatar_studio_build_info"), "{text}");
    server.stop().await;
}

#[tokio::test]
async fn metrics_can_require_a_token() {
    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[("METRICS_TOKEN", "scrape-me-0123456789")],
    )
    .await;
    for auth in [
        None,
        Some("Bearer wrong-token"),
        Some("scrape-me-0123456789"),
    ] {
        let mut req = server.client.get(server.url("/metrics"));
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated");
        assert!(
            !body.to_string().contains("scrape-me"),
            "the token is never echoed"
        );
    }
    let res = server
        .client
        .get(server.url("/metrics"))
        .header("authorization", "Bearer scrape-me-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("avatar_jobs{"));
    // The health endpoints stay open for load balancers.
    assert_eq!(server.get("/healthz").await.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn answers_carry_a_request_id_and_safe_headers() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let res = server.get("/healthz").await;
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["x-frame-options"], "DENY");

    // A caller's own request id is kept, so that it can follow its request in our logs.
    let res = server
        .client
        .get(server.url("/healthz"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-123");
    // …but only a short, plain one: anything else (log forging, megabyte ids) is replaced.
    let long = "a".repeat(65);
    for odd in [
        "two words",
        "line\tbreak",
        "ünïcode",
        long.as_str(),
        "x;y=z",
    ] {
        let Ok(value) = reqwest::header::HeaderValue::from_bytes(odd.as_bytes()) else {
            continue;
        };
        let res = server
            .client
            .get(server.url("/healthz"))
            .header("x-request-id", value)
            .send()
            .await
            .unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap();
        assert!(
            uuid::Uuid::parse_str(id).is_ok(),
            "{odd:?} was kept as {id:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn server_functions_answer() {
    let server =
        TestServer::start_with(Dialect::Sqlite, &[("OPENAI_API_KEY", "sk-server-wide")]).await;
    let info = |server: &TestServer| {
        let (client, url) = (server.client.clone(), server.url("/api/instance_info"));
        async move {
            let res = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.text().await.unwrap()
        }
    };
    // The key is for administrators (the default): a stranger who signs up cannot use it.
    let body = info(&server).await;
    let parsed: model::InstanceInfo = serde_json::from_str(&body).unwrap();
    assert_eq!(parsed.ready_providers, ["builtin"]);
    assert_eq!(parsed.signup, model::SignupMode::Open);
    server.stop().await;

    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[
            ("OPENAI_API_KEY", "sk-server-wide"),
            ("SERVER_KEYS_FOR", "all"),
            ("SIGNUP", "invite"),
        ],
    )
    .await;
    let res = server
        .client
        .post(server.url("/api/instance_info"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    let info: model::InstanceInfo = serde_json::from_str(&body).unwrap();
    assert_eq!(info.ready_providers, ["builtin", "openai"]);
    assert_eq!(info.signup, model::SignupMode::Invite);
    assert!(
        !body.contains("sk-server-wide"),
        "a server-wide key is never revealed"
    );
    server.stop().await;
}

/// The sign-up page says, in the page the server sends (so also without JavaScript), who may
/// sign up on this instance.
#[tokio::test]
async fn the_sign_up_page_says_who_may_sign_up() {
    let notice = "data-testid=\"signup-mode\"";
    let server = TestServer::start(Dialect::Sqlite).await;
    let html = server.get("/signup").await.text().await.unwrap();
    assert!(html.contains("Create an account"), "{html}");
    assert!(
        !html.contains(notice),
        "open sign-up needs no notice: {html}"
    );
    server.stop().await;

    let server = TestServer::start_with(Dialect::Sqlite, &[("SIGNUP", "invite")]).await;
    let html = server.get("/signup").await.text().await.unwrap();
    assert!(html.contains(notice), "{html}");
    assert!(
        html.contains("New accounts here need an invitation"),
        "{html}"
    );
    let html = server.get("/signup?invite=abc").await.text().await.unwrap();
    assert!(html.contains("You were invited"), "{html}");
    server.stop().await;

    let server = TestServer::start_with(Dialect::Sqlite, &[("SIGNUP", "closed")]).await;
    let html = server.get("/signup").await.text().await.unwrap();
    assert!(
        html.contains("This instance does not take new accounts"),
        "{html}"
    );
    server.stop().await;
}

/// The `nonce` of the page's module script (the hydration script).
fn script_nonce(html: &str) -> Option<String> {
    let at =
        html.find("<script type=\"module\" nonce=\"")? + "<script type=\"module\" nonce=\"".len();
    Some(html[at..].split('"').next()?.to_owned())
}

/// The page names the wasm and JS files `cargo leptos build` makes (`[workspace.metadata.leptos]
/// name`), whichever build of the server renders it: the browser tests serve pages from
/// the binary `cargo test` builds.
#[tokio::test]
async fn pages_load_the_files_the_front_end_build_makes() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let html = server.get("/login").await.text().await.unwrap();
    for file in ["/pkg/avatar-studio.js\"", "/pkg/avatar-studio.wasm\""] {
        assert!(html.contains(file), "{file} not named in {html}");
    }
    assert!(!html.contains("_bg.wasm"), "{html}");
    server.stop().await;
}

#[tokio::test]
async fn pages_carry_a_content_security_policy_with_a_fresh_nonce_and_hsts_follows_public_url() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let mut nonces = Vec::new();
    for path in ["/login", "/login", "/signup", "/no-such-page"] {
        let res = server.get(path).await;
        let policy = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            res.headers().get("strict-transport-security").is_none(),
            "http PUBLIC_URL"
        );
        let html = res.text().await.unwrap();
        let nonce = script_nonce(&html).unwrap_or_else(|| panic!("no module script in {path}"));
        assert!(nonce.len() >= 16, "{nonce}");
        assert!(
            policy.contains(&format!(
                "script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval';"
            )),
            "{path}: {policy}"
        );
        for directive in [
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "style-src 'self';",
        ] {
            assert!(
                policy.contains(directive),
                "{path}: {directive} in {policy}"
            );
        }
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        // Every inline script on the page carries the response's nonce.
        assert_eq!(
            html.matches("<script").count(),
            html.matches(&format!("nonce=\"{nonce}\"")).count(),
            "{path}: a script without the nonce"
        );
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 4, "a nonce is used once");
    server.stop().await;

    let server = TestServer::start_with(
        Dialect::Sqlite,
        &[("PUBLIC_URL", "https://avatars.example.com")],
    )
    .await;
    for path in ["/login", "/healthz", "/api/v1/openapi.json"] {
        let res = server.get(path).await;
        assert_eq!(
            res.headers()["strict-transport-security"],
            "max-age=63072000",
            "{path}"
        );
    }
    server.stop().await;
}
