//! A script's view of the API: a signed-in account with a personal access token.

use reqwest::{header, multipart, Method, StatusCode};
use serde_json::{json, Value};

use super::TestServer;

/// A signed-in script: a personal access token.
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub token: Option<String>,
}

impl Api {
    /// Signs a new account up and creates a token for it.
    pub async fn new_user(server: &TestServer, name: &str) -> Self {
        Self::sign_up(&server.base, &server.client, name).await
    }

    /// Like [`Api::new_user`], against any running server.
    pub async fn sign_up(base: &str, client: &reqwest::Client, name: &str) -> Self {
        // Every test has its own database: the name is enough to be unique.
        let cookie = super::sign_up(base, client, &format!("{name}@example.com")).await;
        Self::for_session(base, client, &cookie).await
    }

    /// A token for the account signed in with the session `cookie`, with every scope the
    /// account may have (`admin` too for an administrator).
    pub async fn for_session(base: &str, client: &reqwest::Client, cookie: &str) -> Self {
        let me: Value = client
            .get(format!("{base}/api/v1/me"))
            .header(header::COOKIE, cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut scopes = vec!["read", "generate", "write"];
        if me["is_admin"] == true {
            scopes.push("admin");
        }
        let token: Value = client
            .post(format!("{base}/api/v1/tokens"))
            .header(header::ORIGIN, base)
            .header(header::COOKIE, cookie)
            .json(&json!({"name": "tests", "scopes": scopes}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Self {
            base: base.to_owned(),
            http: client.clone(),
            token: Some(token["token"].as_str().unwrap().to_owned()),
        }
    }

    /// The same account, on a server at another address (sharing the database).
    pub fn at(&self, addr: std::net::SocketAddr) -> Self {
        Self {
            base: format!("http://{addr}"),
            http: self.http.clone(),
            token: self.token.clone(),
        }
    }

    pub fn anonymous(server: &TestServer) -> Self {
        Self {
            base: server.base.clone(),
            http: server.client.clone(),
            token: None,
        }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut req = self.request(method, path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    /// Sends and expects `status`; answers the JSON body (or null).
    pub async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: StatusCode,
    ) -> Value {
        let resp = self.send(method.clone(), path, body).await;
        let got = resp.status();
        let text = resp.text().await.unwrap();
        assert_eq!(got, status, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn upload(
        &self,
        files: Vec<(&str, Vec<u8>)>,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form = multipart::Form::new();
        for (k, v) in fields {
            form = form.text((*k).to_owned(), (*v).to_owned());
        }
        for (name, data) in files {
            // The declared type is a lie on purpose: only the content counts.
            let part = multipart::Part::bytes(data)
                .file_name(name.to_owned())
                .mime_str("image/png")
                .unwrap();
            form = form.part("file", part);
        }
        self.request(Method::POST, "/api/v1/uploads")
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn upload_one(&self, name: &str, data: Vec<u8>) -> Value {
        let resp = self.upload(vec![(name, data)], &[]).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let body: Value = resp.json().await.unwrap();
        body["items"][0].clone()
    }
}
