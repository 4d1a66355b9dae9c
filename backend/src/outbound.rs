//! SSRF-safe fetches of URLs that users (or providers' answers) supply.
//!
//! - only `http` and `https`;
//! - the host is resolved once, by our resolver, and refused when any of its addresses is
//!   loopback, private, link-local, unique-local, CGNAT, multicast, unspecified, reserved or
//!   an IPv4 address in IPv6 clothing; the connection goes to the addresses that were checked
//!   (reqwest connects to what the resolver returns: there is no second lookup);
//! - IP-literal hosts (`http://2130706433/`, `http://[::ffff:127.0.0.1]/`) are checked the
//!   same way before anything is sent;
//! - redirects are followed by hand, at most [`MAX_REDIRECTS`], each one checked again;
//! - one time limit for the whole fetch, and reading stops past the size limit.
//!
//! `OUTBOUND_ALLOW_PRIVATE=true` lifts the address checks, for local testing only.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use reqwest::{
    dns::{Name, Resolve, Resolving},
    header, StatusCode,
};
use url::{Host, Url};

pub const MAX_REDIRECTS: usize = 3;
const MAX_URL_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// 400: not a URL we may fetch.
    #[error("{0}")]
    BadUrl(String),
    /// 400: the address is in a private or special network.
    #[error("That address points into a private or special network, which imports may not reach.")]
    Forbidden,
    /// 413
    #[error("The file at that address is larger than the {limit} bytes we accept.")]
    TooLarge { limit: u64 },
    /// 422: the remote side failed.
    #[error("{0}")]
    Failed(String),
}

impl FetchError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUrl(_) => "invalid_url",
            Self::Forbidden => "url_not_allowed",
            Self::TooLarge { .. } => "file_too_large",
            Self::Failed(_) => "fetch_failed",
        }
    }
}

/// Whether an address must never be fetched (unless private addresses are allowed).
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()              // 127.0.0.0/8
        || ip.is_private()        // 10/8, 172.16/12, 192.168/16
        || ip.is_link_local()     // 169.254/16 (cloud metadata)
        || ip.is_multicast()      // 224/4
        || ip.is_broadcast()
        || ip.is_unspecified()
        || a == 0                 // "this network"
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (seg[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (seg[0] & 0xfe00) == 0xfc00 // unique-local fc00::/7
        || (seg[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        // IPv4-mapped ::ffff:0:0/96 and IPv4-compatible ::/96: an IPv4 address in disguise
        || (seg[..5] == [0, 0, 0, 0, 0] && (seg[5] == 0xffff || seg[5] == 0))
        || (seg[0] == 0x64 && seg[1] == 0xff9b) // NAT64
        || seg[0] == 0x2002 // 6to4
        || (seg[0] == 0x2001 && seg[1] == 0) // Teredo
}

/// Resolves host names and refuses those with any forbidden address.
#[derive(Debug, Clone)]
struct CheckedResolver {
    allow_private: bool,
    /// Addresses treated as public (tests only).
    public_overrides: Arc<Vec<IpAddr>>,
}

impl CheckedResolver {
    fn allowed(&self, ip: IpAddr) -> bool {
        self.allow_private || self.public_overrides.contains(&ip) || !is_forbidden(ip)
    }
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            // Refuse the host if any of its addresses is forbidden: a name that resolves to
            // both a public and a private address is not to be trusted.
            if let Some(bad) = addrs.iter().find(|a| !this.allowed(a.ip())) {
                tracing::warn!(host, address = %bad.ip(), "outbound fetch refused: private address");
                return Err(Box::new(Refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The resolver's refusal, recognised in the error chain.
#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the address is not allowed")
    }
}

impl std::error::Error for Refused {}

/// What a fetch brought back.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Bytes,
    /// The address the bytes came from, after redirects.
    pub final_url: Url,
}

/// The client for user-supplied URLs.
#[derive(Debug, Clone)]
pub struct Outbound {
    client: reqwest::Client,
    resolver: CheckedResolver,
    timeout: Duration,
}

impl Outbound {
    pub fn new(allow_private: bool, timeout: Duration) -> Result<Self, reqwest::Error> {
        Self::build(allow_private, timeout, Vec::new())
    }

    /// Like [`Outbound::new`], treating `addresses` as public: lets tests put an
    /// "external" server on a loopback address.
    #[cfg(any(test, feature = "testing"))]
    pub fn with_public_overrides(
        timeout: Duration,
        addresses: Vec<IpAddr>,
    ) -> Result<Self, reqwest::Error> {
        Self::build(false, timeout, addresses)
    }

    fn build(
        allow_private: bool,
        timeout: Duration,
        public_overrides: Vec<IpAddr>,
    ) -> Result<Self, reqwest::Error> {
        let resolver = CheckedResolver {
            allow_private,
            public_overrides: Arc::new(public_overrides),
        };
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(resolver.clone()))
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would make the address checks meaningless.
            .no_proxy()
            .connect_timeout(Duration::from_secs(5).min(timeout))
            .user_agent(concat!("avatar-studio/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            resolver,
            timeout,
        })
    }

    /// Checks a URL before any request: scheme, length, credentials and IP-literal hosts.
    pub fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::BadUrl(
                "Only http:// and https:// addresses can be imported.".to_owned(),
            ));
        }
        if url.as_str().len() > MAX_URL_LEN {
            return Err(FetchError::BadUrl(format!(
                "That address is longer than {MAX_URL_LEN} characters."
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::BadUrl(
                "Addresses with a user name or password cannot be imported.".to_owned(),
            ));
        }
        match url.host() {
            None => Err(FetchError::BadUrl("That address has no host.".to_owned())),
            Some(Host::Ipv4(ip)) if !self.resolver.allowed(IpAddr::V4(ip)) => {
                Err(FetchError::Forbidden)
            }
            Some(Host::Ipv6(ip)) if !self.resolver.allowed(IpAddr::V6(ip)) => {
                Err(FetchError::Forbidden)
            }
            Some(Host::Domain(d))
                if !self.resolver.allow_private
                    && (d.eq_ignore_ascii_case("localhost")
                        || d.to_ascii_lowercase().ends_with(".localhost")) =>
            {
                Err(FetchError::Forbidden)
            }
            Some(_) => Ok(()),
        }
    }

    /// Fetches `raw` (following at most [`MAX_REDIRECTS`] checked redirects), reading at
    /// most `max_bytes`.
    pub async fn fetch(&self, raw: &str, max_bytes: u64) -> Result<Fetched, FetchError> {
        let url = Url::parse(raw.trim())
            .map_err(|_| FetchError::BadUrl("That is not a web address (https://…).".to_owned()))?;
        match tokio::time::timeout(self.timeout, self.fetch_checked(url, max_bytes)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Failed(format!(
                "The server did not send the file within {} seconds.",
                self.timeout.as_secs()
            ))),
        }
    }

    async fn fetch_checked(&self, mut url: Url, max_bytes: u64) -> Result<Fetched, FetchError> {
        let mut redirects = 0;
        loop {
            self.check_url(&url)?;
            let response = self
                .client
                .get(url.clone())
                .header(
                    header::ACCEPT,
                    "image/png,image/jpeg,image/webp,image/*;q=0.8",
                )
                .send()
                .await
                .map_err(|e| describe(&e))?;
            let status = response.status();
            if status.is_redirection() {
                redirects += 1;
                if redirects > MAX_REDIRECTS {
                    return Err(FetchError::Failed(format!(
                        "The address redirects more than {MAX_REDIRECTS} times."
                    )));
                }
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| FetchError::Failed("A redirect had no Location.".to_owned()))?;
                url = url
                    .join(location)
                    .map_err(|_| FetchError::Failed("A redirect pointed nowhere.".to_owned()))?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Failed(format!(
                    "The server answered {}.",
                    describe_status(status)
                )));
            }
            if response.content_length().is_some_and(|n| n > max_bytes) {
                return Err(FetchError::TooLarge { limit: max_bytes });
            }
            let mut body = BytesMut::new();
            let mut stream = response.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| describe(&e))?;
                if (body.len() + chunk.len()) as u64 > max_bytes {
                    return Err(FetchError::TooLarge { limit: max_bytes });
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Fetched {
                bytes: body.freeze(),
                final_url: url,
            });
        }
    }
}

fn describe_status(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// Turns a transport error into a sentence, recognising our own refusal.
fn describe(e: &reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<Refused>() {
            return FetchError::Forbidden;
        }
        source = err.source();
    }
    if e.is_timeout() {
        FetchError::Failed("The server took too long to answer.".to_owned())
    } else if e.is_connect() {
        FetchError::Failed("We could not connect to that server.".to_owned())
    } else {
        FetchError::Failed("The download failed part-way.".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::{io::AsyncWriteExt, net::TcpListener};

    use super::*;

    #[test]
    fn special_addresses_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::a00:1",
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip} must be forbidden");
        }
        for ip in ["8.8.8.8", "93.184.216.34", "2606:4700::1111"] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip} is public");
        }
    }

    /// A listener that counts the connections it accepts.
    async fn counting_listener(ip: &str) -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                let mut request = [0u8; 2048];
                let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request).await;
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi",
                    )
                    .await;
            }
        });
        (addr, count)
    }

    #[tokio::test]
    async fn private_targets_are_refused_without_a_connection() {
        let (addr, count) = counting_listener("127.0.0.1").await;
        let port = addr.port();
        let outbound = Outbound::new(false, Duration::from_secs(5)).unwrap();
        for url in [
            format!("http://127.0.0.1:{port}/a.png"),
            format!("http://localhost:{port}/a.png"),
            format!("http://[::1]:{port}/a.png"),
            format!("http://0.0.0.0:{port}/a.png"),
            format!("http://2130706433:{port}/a.png"),
            format!("http://[::ffff:127.0.0.1]:{port}/a.png"),
            format!("http://0x7f.1:{port}/a.png"),
            "http://10.0.0.1/a.png".to_owned(),
            "http://169.254.169.254/latest/meta-data/".to_owned(),
        ] {
            assert_eq!(
                outbound.fetch(&url, 1000).await.unwrap_err(),
                FetchError::Forbidden,
                "{url}"
            );
        }
        assert_eq!(count.load(Ordering::SeqCst), 0, "no connection was made");

        for url in [
            "file:///etc/passwd",
            "ftp://example.com/a.png",
            "gopher://x/",
        ] {
            assert!(matches!(
                outbound.fetch(url, 1000).await.unwrap_err(),
                FetchError::BadUrl(_)
            ));
        }
    }

    #[tokio::test]
    async fn a_redirect_to_a_private_address_is_refused() {
        // The private target, on another loopback address; the "public" server redirects
        // to it. 127.0.0.2 is treated as public for this test only.
        let (private, count) = counting_listener("127.0.0.1").await;
        let public = TcpListener::bind(("127.0.0.2", 0)).await.unwrap();
        let public_addr = public.local_addr().unwrap();
        let target = format!("http://127.0.0.1:{}/secret", private.port());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = public.accept().await {
                let response = format!(
                    "HTTP/1.1 302 Found\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let mut buf = [0u8; 1024];
                let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await;
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        let outbound =
            Outbound::with_public_overrides(Duration::from_secs(5), vec![public_addr.ip()])
                .unwrap();
        let err = outbound
            .fetch(&format!("http://{public_addr}/start"), 1000)
            .await
            .unwrap_err();
        assert_eq!(err, FetchError::Forbidden);
        assert_eq!(
            count.load(Ordering::SeqCst),
            0,
            "the private address was never contacted"
        );
    }

    #[tokio::test]
    async fn bodies_past_the_limit_are_refused_and_allowed_fetches_work() {
        let (addr, _) = counting_listener("127.0.0.1").await;
        let outbound =
            Outbound::with_public_overrides(Duration::from_secs(5), vec![addr.ip()]).unwrap();
        let got = outbound
            .fetch(&format!("http://{addr}/"), 10)
            .await
            .unwrap();
        assert_eq!(&got.bytes[..], b"hi");
        assert_eq!(
            outbound
                .fetch(&format!("http://{addr}/"), 1)
                .await
                .unwrap_err(),
            FetchError::TooLarge { limit: 1 }
        );
    }
}
