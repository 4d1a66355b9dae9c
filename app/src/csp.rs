//! The Content-Security-Policy of every HTML page: the app's own scripts (the hydration
//! script by the response's nonce, the module and its WebAssembly from this origin),
//! styles and images from this origin only (uploads previewed as `blob:`), requests to
//! this origin and its WebSocket, no frames around it, no `<base>`, forms to itself (and
//! the redirect that follows Settings' "Link" form: to the identity providers' origins).

/// The policy for a page rendered with `nonce`, reached at `host` (the request's `Host`,
/// for the WebSocket's `ws://`/`wss://` origin; left out unless it is a plain host name).
/// `form_targets` are the identity providers' origins (from the configuration, as
/// `scheme://host[:port]`), which a form's redirect may reach.
pub fn policy(nonce: &str, host: Option<&str>, form_targets: &[String]) -> String {
    let socket = host
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .map(|h| format!(" ws://{h} wss://{h}"))
        .unwrap_or_default();
    let forms: String = form_targets
        .iter()
        .filter(|o| {
            o.starts_with("http")
                && o.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:/[]".contains(&b))
        })
        .map(|o| format!(" {o}"))
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: blob:; font-src 'self'; \
         connect-src 'self'{socket}; object-src 'none'; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'self'{forms}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_nonce_and_the_websocket_of_a_plain_host() {
        let p = policy("abc123", Some("avatars.example.com:8443"), &[]);
        assert!(
            p.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"),
            "{p}"
        );
        assert!(
            p.contains(
                "connect-src 'self' ws://avatars.example.com:8443 wss://avatars.example.com:8443;"
            ),
            "{p}"
        );
        for directive in [
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
        ] {
            assert!(p.contains(directive), "{directive} in {p}");
        }
        assert!(!p.contains("unsafe-inline"), "{p}");
    }

    #[test]
    fn a_host_header_cannot_add_sources() {
        for host in ["evil.com; script-src *", "a b", "", "x'y"] {
            let p = policy("n", Some(host), &[]);
            assert!(p.contains("connect-src 'self';"), "{host:?}: {p}");
        }
        assert!(policy("n", None, &[]).contains("connect-src 'self';"));
    }

    #[test]
    fn forms_may_lead_to_the_identity_providers_only() {
        let p = policy(
            "n",
            None,
            &[
                "https://sso.example.com".to_owned(),
                "http://127.0.0.1:9000".to_owned(),
                "https://x; script-src *".to_owned(),
            ],
        );
        assert!(
            p.ends_with("form-action 'self' https://sso.example.com http://127.0.0.1:9000"),
            "{p}"
        );
    }
}
