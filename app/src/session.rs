//! The session cookie's contents (server only): which account a browser is signed in to.
//! The HTTP API and the server functions both sign people in and out through these.

use tower_sessions::Session;

/// The signed-in account's id.
pub const USER_ID_KEY: &str = "user_id";
/// The browser the session was opened in, shown in Settings → Sessions.
pub const USER_AGENT_KEY: &str = "user_agent";
/// The session data key for the address it signed in from.
pub const IP_KEY: &str = "ip";

/// Signs the browser in: a new session id (no fixation of an id chosen before sign-in),
/// bound to the account. The session layer stores it and sets the cookie.
pub async fn establish(
    session: &Session,
    user_id: &str,
    client: &backend::services::accounts::ClientInfo,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(USER_ID_KEY, user_id).await?;
    if let Some(ip) = client.ip {
        session.insert(IP_KEY, ip.to_string()).await?;
    }
    if let Some(ua) = client.user_agent.as_deref() {
        let ua: String = ua.chars().take(300).collect();
        session.insert(USER_AGENT_KEY, ua).await?;
    }
    Ok(())
}

/// Signs the browser out: the session row is deleted and the cookie removed; the
/// account's live connections check their credentials at once (this session's closes).
pub async fn end(
    session: &Session,
    backend: &backend::Backend,
) -> Result<(), tower_sessions::session::Error> {
    let user_id = session.get::<String>(USER_ID_KEY).await?;
    session.flush().await?;
    if let Some(user_id) = user_id {
        backend.runtime.hub.recheck(&user_id);
    }
    Ok(())
}

/// The cookie that binds a sign-in through an identity provider to the browser that
/// started it (a random token; the server keeps only its hash). Over https it carries the
/// `__Host-` prefix, like the session cookie.
pub const SIGNIN_COOKIE: &str = "avatar_signin";
pub const SIGNIN_COOKIE_SECURE: &str = "__Host-avatar_signin";

/// The sign-in cookie's name: over https the `__Host-` one, which no other site (not even a
/// sibling subdomain) can set.
pub fn signin_cookie_name(secure: bool) -> &'static str {
    if secure {
        SIGNIN_COOKIE_SECURE
    } else {
        SIGNIN_COOKIE
    }
}

/// The browser's sign-in cookie, if it sent one (under the name [`signin_cookie_name`]
/// gives; the other one is ignored).
pub fn signin_browser(headers: &http::HeaderMap, secure: bool) -> Option<String> {
    let name = signin_cookie_name(secure);
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(tower_sessions::cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}
