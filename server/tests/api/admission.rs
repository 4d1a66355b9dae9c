//! Who may use the instance: `SIGNUP` (open, by invitation, closed) through the API and
//! the command line, and `SERVER_KEYS_FOR`, which keeps strangers from spending the
//! operator's provider credit.

use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{api::Api, binary, TestServer};
use backend::{db::Dialect, services::operators};

const PASSWORD: &str = "correct horse battery";

async fn signup(server: &TestServer, email: &str, invitation: Option<&str>) -> reqwest::Response {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(i) = invitation {
        body["invitation"] = json!(i);
    }
    server
        .client
        .post(server.url("/api/v1/auth/signup"))
        .header(header::ORIGIN, &server.base)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn code(resp: reqwest::Response) -> (StatusCode, String) {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// An account the operator made (verified), signed in through the API with a token.
async fn operator_made(server: &TestServer, name: &str, admin: bool) -> Api {
    let email = format!("{name}@example.com");
    operators::create_user(&server.backend, &email, Some(PASSWORD), None, admin)
        .await
        .unwrap();
    let resp = server
        .client
        .post(server.url("/api/v1/auth/login"))
        .header(header::ORIGIN, &server.base)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = crate::common::session_cookie(&resp);
    Api::for_session(&server.base, &server.client, &cookie).await
}

fn token_of(link: &str) -> String {
    let url = url::Url::parse(link).unwrap();
    assert_eq!(url.path(), "/signup");
    url.query_pairs()
        .find(|(k, _)| k == "invite")
        .map(|(_, v)| v.into_owned())
        .expect("the link carries its token")
}

#[tokio::test]
async fn with_signup_closed_only_the_operator_makes_accounts() {
    let server = TestServer::start_with(Dialect::Sqlite, &[("SIGNUP", "closed")]).await;
    let (status, code_) = code(signup(&server, "ann@example.com", None).await).await;
    assert_eq!(
        (status, code_.as_str()),
        (StatusCode::FORBIDDEN, "signup_closed")
    );
    // Even an invitation does not open it.
    let (status, _) = code(signup(&server, "ann@example.com", Some("anything")).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Signing in is unaffected.
    let ann = operator_made(&server, "ann", false).await;
    ann.expect(Method::GET, "/api/v1/me", None, StatusCode::OK)
        .await;
    server.stop().await;
}

#[tokio::test]
async fn with_signup_by_invitation_each_link_makes_one_account() {
    let server = TestServer::start_with(Dialect::Sqlite, &[("SIGNUP", "invite")]).await;
    let admin = operator_made(&server, "admin", true).await;

    let (status, code_) = code(signup(&server, "ann@example.com", None).await).await;
    assert_eq!(
        (status, code_.as_str()),
        (StatusCode::FORBIDDEN, "invitation_required")
    );
    let (status, code_) = code(signup(&server, "ann@example.com", Some("made-up")).await).await;
    assert_eq!(
        (status, code_.as_str()),
        (StatusCode::FORBIDDEN, "invitation_invalid")
    );

    let made = admin
        .expect(
            Method::POST,
            "/api/v1/admin/invitations",
            Some(json!({"note": "for Ann", "days": 3})),
            StatusCode::CREATED,
        )
        .await;
    let token = token_of(made["link"].as_str().unwrap());
    let listed = admin
        .expect(
            Method::GET,
            "/api/v1/admin/invitations",
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["note"], "for Ann");
    assert!(
        listed[0].get("link").is_none(),
        "the link is shown once: {listed}"
    );

    // A form with a mistake does not spend the invitation.
    let resp = server
        .client
        .post(server.url("/api/v1/auth/signup"))
        .header(header::ORIGIN, &server.base)
        .json(&json!({"email": "ann@example.com", "password": "short", "invitation": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        signup(&server, "ann@example.com", Some(&token))
            .await
            .status(),
        StatusCode::CREATED
    );
    // Single use.
    let (status, code_) = code(signup(&server, "bob@example.com", Some(&token)).await).await;
    assert_eq!(
        (status, code_.as_str()),
        (StatusCode::FORBIDDEN, "invitation_invalid")
    );
    assert_eq!(
        admin
            .expect(
                Method::GET,
                "/api/v1/admin/invitations",
                None,
                StatusCode::OK
            )
            .await,
        json!([])
    );

    // A withdrawn link no longer works.
    let made = admin
        .expect(
            Method::POST,
            "/api/v1/admin/invitations",
            Some(json!({})),
            StatusCode::CREATED,
        )
        .await;
    let id = made["id"].as_str().unwrap();
    admin
        .expect(
            Method::DELETE,
            &format!("/api/v1/admin/invitations/{id}"),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    let token = token_of(made["link"].as_str().unwrap());
    let (status, _) = code(signup(&server, "cy@example.com", Some(&token)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Invitations are the administrators' business only; bad requests say why.
    let member = operator_made(&server, "member", false).await;
    member
        .expect(
            Method::GET,
            "/api/v1/admin/invitations",
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    member
        .expect(
            Method::POST,
            "/api/v1/admin/invitations",
            Some(json!({})),
            StatusCode::NOT_FOUND,
        )
        .await;
    let err = admin
        .expect(
            Method::POST,
            "/api/v1/admin/invitations",
            Some(json!({"days": 365})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(err["error"]["field"], "days");
    server.stop().await;
}

#[tokio::test]
async fn the_command_line_makes_invitation_links() {
    let server = TestServer::start_with(Dialect::Sqlite, &[("SIGNUP", "invite")]).await;
    let out = binary()
        .env("DATABASE_URL", server.config.database_url.expose())
        .env("DATA_DIR", server.data_dir.path())
        .env("PUBLIC_URL", &server.base)
        .args(["invite", "create", "--days", "2", "--note", "for Dee"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = stdout
        .lines()
        .find(|l| l.contains("/signup?invite="))
        .unwrap_or_else(|| panic!("no link in: {stdout}"));
    let listed = binary()
        .env("DATABASE_URL", server.config.database_url.expose())
        .env("DATA_DIR", server.data_dir.path())
        .args(["invite", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        listed.contains("for Dee") && listed.contains("1 open invitation"),
        "{listed}"
    );
    assert_eq!(
        signup(&server, "dee@example.com", Some(&token_of(link)))
            .await
            .status(),
        StatusCode::CREATED
    );
    server.stop().await;
}

/// A generation with OpenAI, as far as the check before anything is queued.
async fn openai_generation(api: &Api) -> (StatusCode, Value) {
    let resp = api
        .send(
            Method::POST,
            "/api/v1/generations",
            Some(json!({"prompt": "a lighthouse keeper", "provider": "openai"})),
        )
        .await;
    (resp.status(), resp.json().await.unwrap_or(Value::Null))
}

async fn openai_ready(api: &Api) -> bool {
    let providers = api
        .expect(Method::GET, "/api/v1/providers", None, StatusCode::OK)
        .await;
    providers
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "openai")
        .map(|p| p["has_key"] == true)
        .unwrap()
}

#[tokio::test]
async fn the_server_wide_key_is_only_for_the_accounts_allowed_to_use_it() {
    // Nothing listens there: an allowed request is queued (202) and would fail later.
    let key = [
        ("OPENAI_API_KEY", "sk-operator"),
        ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"),
    ];
    let server = TestServer::start_with(Dialect::Sqlite, &key).await;
    let admin = Api::new_user(&server, "admin").await; // the first account administers
    let stranger = Api::new_user(&server, "stranger").await;
    let verified = operator_made(&server, "verified", false).await;
    assert!(openai_ready(&admin).await);
    assert_eq!(openai_generation(&admin).await.0, StatusCode::ACCEPTED);
    for who in [&stranger, &verified] {
        assert!(!openai_ready(who).await);
        let (status, body) = openai_generation(who).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["code"], "missing_key");
    }
    server.stop().await;

    let with = |v: &'static str| [key[0], key[1], ("SERVER_KEYS_FOR", v)];
    let server = TestServer::start_with(Dialect::Sqlite, &with("verified")).await;
    let _admin = Api::new_user(&server, "admin").await;
    let stranger = Api::new_user(&server, "stranger").await;
    let verified = operator_made(&server, "verified", false).await;
    assert_eq!(
        openai_generation(&stranger).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert!(openai_ready(&verified).await);
    assert_eq!(openai_generation(&verified).await.0, StatusCode::ACCEPTED);
    server.stop().await;

    let server = TestServer::start_with(Dialect::Sqlite, &with("none")).await;
    let admin = Api::new_user(&server, "admin").await;
    assert!(!openai_ready(&admin).await);
    assert_eq!(
        openai_generation(&admin).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    server.stop().await;

    let server = TestServer::start_with(Dialect::Sqlite, &with("all")).await;
    let _admin = Api::new_user(&server, "admin").await;
    let stranger = Api::new_user(&server, "stranger").await;
    assert_eq!(openai_generation(&stranger).await.0, StatusCode::ACCEPTED);
    server.stop().await;
}

#[tokio::test]
async fn with_verification_required_nobody_learns_who_has_an_account() {
    let server =
        TestServer::start_with(Dialect::Sqlite, &[("REQUIRE_EMAIL_VERIFICATION", "true")]).await;
    let outbox = || {
        std::fs::read_dir(server.data_dir.path().join("outbox"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let new = signup(&server, "ann@example.com", None).await;
    assert_eq!(new.status(), StatusCode::ACCEPTED);
    assert!(
        new.headers().get(header::SET_COOKIE).is_none(),
        "not signed in"
    );
    let new_body: Value = new.json().await.unwrap();
    let taken = signup(&server, "ann@example.com", None).await;
    assert_eq!(taken.status(), StatusCode::ACCEPTED);
    assert!(taken.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(
        taken.json::<Value>().await.unwrap(),
        new_body,
        "the same answer"
    );
    // The mailbox's owner hears of both (the mails go out in the background).
    for _ in 0..100 {
        if outbox().len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mails = outbox();
    assert!(
        mails.iter().any(|m| m.contains("Someone tried to sign up")),
        "{mails:?}"
    );

    // No sign-in before the address is confirmed; afterwards, yes.
    let login = || {
        server
            .client
            .post(server.url("/api/v1/auth/login"))
            .header(header::ORIGIN, &server.base)
            .json(&json!({"email": "ann@example.com", "password": PASSWORD}))
            .send()
    };
    let (status, code_) = code(login().await.unwrap()).await;
    assert_eq!(
        (status, code_.as_str()),
        (StatusCode::FORBIDDEN, "email_not_verified")
    );
    let token = crate::accounts::token_from_outbox(&server, "/verify-email", 0).await;
    let resp = server
        .client
        .post(server.url("/api/v1/auth/verify-email"))
        .header(header::ORIGIN, &server.base)
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(login().await.unwrap().status(), StatusCode::OK);
    server.stop().await;
}
