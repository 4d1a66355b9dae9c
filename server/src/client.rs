//! Who is on the other end of a request: the client's address and whether it reached us
//! over HTTPS, worked out once per request (in [`resolve`]) and put in its extensions as a
//! [`ClientInfo`] for the rate limits, the sessions list and the logs.
//!
//! The TCP peer is the client, unless it is one of `TRUSTED_PROXIES`. Only then are the
//! proxy headers read: `Forwarded` (RFC 7239) when present, else `X-Forwarded-For`, walked
//! from the right (the hop the proxy itself added) past every trusted proxy to the first
//! address that is not one; and `X-Forwarded-Proto` (or `proto=`) for the scheme. A client
//! that sends these headers straight to the app is not believed: the headers are ignored.

use std::net::{IpAddr, SocketAddr};

use axum::{
    body::Body,
    extract::{ConnectInfo, State},
    http::{header, HeaderMap, HeaderValue, Request},
    middleware::Next,
    response::Response,
};
use backend::services::accounts::ClientInfo;
use ipnet::IpNet;

use crate::AppState;

/// Where a request came from, as far as it can be known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub ip: IpAddr,
    /// Reached over HTTPS (as the trusted proxy says; the app itself speaks plain HTTP).
    pub https: bool,
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&ip))
}

/// One hop of `Forwarded: for=` or `X-Forwarded-For`: an address, maybe quoted, in
/// brackets, or with a port. `None` for `unknown`, obfuscated names and garbage.
fn hop_address(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    // `[2001:db8::1]` without a port.
    s.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|r| r.parse().ok())
}

/// The `for=` and `proto=` of each element of every `Forwarded` header, in order.
fn forwarded_elements(headers: &HeaderMap) -> Vec<(Option<String>, Option<String>)> {
    let mut elements = Vec::new();
    for value in headers.get_all(header::FORWARDED) {
        let Ok(text) = value.to_str() else { continue };
        for element in text.split(',') {
            let (mut for_, mut proto) = (None, None);
            for pair in element.split(';') {
                let Some((name, value)) = pair.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"').to_owned();
                match name.trim().to_ascii_lowercase().as_str() {
                    "for" => for_ = Some(value),
                    "proto" => proto = Some(value),
                    _ => {}
                }
            }
            elements.push((for_, proto));
        }
    }
    elements
}

/// The comma-separated values of every instance of a header, in order.
fn list(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// Works out the client of a request that arrived from `peer`.
pub fn origin(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> Origin {
    let peer = peer.to_canonical();
    if !trusted(peer, proxies) {
        return Origin {
            ip: peer,
            https: false,
        };
    }
    let forwarded = forwarded_elements(headers);
    let (hops, protos): (Vec<String>, Vec<String>) = if forwarded.is_empty() {
        (
            list(headers, "x-forwarded-for"),
            list(headers, "x-forwarded-proto"),
        )
    } else {
        (
            forwarded.iter().filter_map(|(f, _)| f.clone()).collect(),
            forwarded.iter().filter_map(|(_, p)| p.clone()).collect(),
        )
    };
    // From the right: the hop our proxy added first, then the ones before it.
    let mut ip = peer;
    for hop in hops.iter().rev() {
        match hop_address(hop).map(|a| a.to_canonical()) {
            Some(addr) if trusted(addr, proxies) => ip = addr,
            Some(addr) => {
                ip = addr;
                break;
            }
            // Unknown or garbled: nothing further left can be believed.
            None => break,
        }
    }
    // The scheme the nearest proxy saw.
    let https = protos
        .last()
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    Origin { ip, https }
}

/// The middleware: puts the request's [`ClientInfo`] in its extensions, records the
/// address in the request's log span, and marks the session cookie `Secure` when the
/// client reached us over HTTPS through a trusted proxy.
pub async fn resolve(
    State(state): State<AppState>,
    mut request: Request<Body>,
    next: Next,
) -> Response {
    let proxies = &state.backend.config.trusted_proxies;
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let origin = peer.map(|p| origin(p, request.headers(), proxies));
    if let Some(o) = origin {
        tracing::Span::current().record("client", tracing::field::display(o.ip));
    }
    let info = ClientInfo {
        ip: origin.map(|o| o.ip),
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    request.extensions_mut().insert(info);
    let mut response = next.run(request).await;
    if origin.is_some_and(|o| o.https) {
        secure_cookies(response.headers_mut());
    }
    response
}

/// Adds `Secure` to every cookie the response sets without it.
fn secure_cookies(headers: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    if cookies.is_empty() {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        let secured = cookie.to_str().ok().and_then(|c| {
            let has = c
                .split(';')
                .skip(1)
                .any(|attr| attr.trim().eq_ignore_ascii_case("secure"));
            (!has)
                .then(|| HeaderValue::from_str(&format!("{c}; Secure")).ok())
                .flatten()
        });
        headers.append(header::SET_COOKIE, secured.unwrap_or(cookie));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_headers_say() {
        let forged = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=198.51.100.1;proto=https"),
            ("x-forwarded-proto", "https"),
        ]);
        let o = origin(ip("192.0.2.10"), &forged, &[]);
        assert_eq!(
            o,
            Origin {
                ip: ip("192.0.2.10"),
                https: false
            }
        );
        // A peer that is not the trusted proxy is not believed either.
        let o = origin(ip("192.0.2.10"), &forged, &nets(&["127.0.0.1/32"]));
        assert_eq!(o.ip, ip("192.0.2.10"));
        assert!(!o.https);
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let proxies = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        // The client forged a first hop; the proxy appended the real one.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6, 203.0.113.7"),
            ("x-forwarded-for", "10.1.1.1"),
            ("x-forwarded-proto", "https"),
        ]);
        let o = origin(ip("127.0.0.1"), &h, &proxies);
        assert_eq!(
            o,
            Origin {
                ip: ip("203.0.113.7"),
                https: true
            }
        );
        // No header: the proxy itself.
        let o = origin(ip("127.0.0.1"), &HeaderMap::new(), &proxies);
        assert_eq!(o.ip, ip("127.0.0.1"));
        // Only trusted hops: the leftmost of them.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]);
        assert_eq!(origin(ip("127.0.0.1"), &h, &proxies).ip, ip("10.9.9.9"));
        // A garbled hop stops the walk: what is left of it cannot be believed.
        let h = headers(&[("x-forwarded-for", "203.0.113.7, nonsense")]);
        assert_eq!(origin(ip("127.0.0.1"), &h, &proxies).ip, ip("127.0.0.1"));
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_takes_every_spelling_of_an_address() {
        let proxies = nets(&["::1/128", "127.0.0.1/32"]);
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.1"),
            (
                "forwarded",
                "for=192.0.2.43, for=\"[2001:db8:cafe::17]:4711\";proto=https;by=127.0.0.1",
            ),
        ]);
        let o = origin(ip("::1"), &h, &proxies);
        assert_eq!(
            o,
            Origin {
                ip: ip("2001:db8:cafe::17"),
                https: true
            }
        );
        let h = headers(&[("forwarded", "for=\"192.0.2.60:8080\";proto=http")]);
        let o = origin(ip("127.0.0.1"), &h, &proxies);
        assert_eq!(
            o,
            Origin {
                ip: ip("192.0.2.60"),
                https: false
            }
        );
        // An IPv4 client seen through an IPv6 socket is the IPv4 address.
        let o = origin(ip("::ffff:192.0.2.1"), &HeaderMap::new(), &[]);
        assert_eq!(o.ip, ip("192.0.2.1"));
    }

    #[test]
    fn cookies_become_secure_once() {
        let mut h = headers(&[
            ("set-cookie", "id=abc; Path=/; HttpOnly"),
            ("set-cookie", "other=1; Secure; Path=/"),
        ]);
        secure_cookies(&mut h);
        let all: Vec<&str> = h
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(
            all,
            [
                "id=abc; Path=/; HttpOnly; Secure",
                "other=1; Secure; Path=/"
            ]
        );
    }
}
