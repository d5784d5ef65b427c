//! Fetching over HTTP: one pooled client, a size cap on bodies, and the
//! one request loop (`hops`) with retries, the status verdict and
//! redirects, each hop re-checked by the caller (scope, robots.txt).

pub mod body;
pub mod client;
pub mod cookies;
pub mod hops;
pub mod redirect;
pub mod retry;
pub mod sent;
pub mod stats;
pub mod userinfo;
pub mod verdict;

use std::error::Error as _;
use std::sync::Arc;

use bytes::Bytes;
use reqwest::cookie::CookieStore as _;
use reqwest::header::HeaderMap;
use url::Url;

use crate::record::ErrorKind;
pub use client::{FetchConfig, TlsConfig};
use cookies::Jar;
use retry::Backoff;

#[derive(Clone, Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("body larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The response head is past the HTTP client's limits (hyper's 100
    /// header fields, which reqwest 0.12 does not let us raise).
    #[error(
        "response head too large: more than 100 header fields, or a head over the \
         client's buffer ({0})"
    )]
    HeadTooLarge(String),
    #[error("could not decode the body: {0}")]
    Decode(String),
    #[error("connection broke while reading the body: {0}")]
    Body(String),
    #[error("only http and https are fetched, not {0}")]
    Scheme(String),
    #[error("request failed: {0}")]
    Request(String),
    /// The server closed a pooled connection before answering: the
    /// request is sent again on a new one.
    #[error("the connection was closed before an answer: {0}")]
    Stale(String),
}

impl FetchError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Timeout(_) => ErrorKind::Timeout,
            Self::Connect(_) => ErrorKind::Connect,
            Self::Tls(_) => ErrorKind::Tls,
            Self::TooLarge { .. } | Self::HeadTooLarge(_) => ErrorKind::TooLarge,
            Self::Decode(_) => ErrorKind::Decode,
            Self::Body(_) => ErrorKind::Body,
            Self::Scheme(_) => ErrorKind::Scheme,
            Self::Request(_) | Self::Stale(_) => ErrorKind::Request,
        }
    }
}

/// The full error chain in one line: reqwest's top message alone ("error
/// sending request") does not say what went wrong.
fn describe(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// A TLS failure in words a user knows; `None` for a kind we do not word.
fn tls_words(e: &rustls::Error) -> Option<String> {
    use rustls::CertificateError as C;
    let rustls::Error::InvalidCertificate(cert) = e else {
        return None;
    };
    Some(match cert {
        C::Expired | C::ExpiredContext { .. } => "certificate has expired".to_string(),
        C::NotValidYet | C::NotValidYetContext { .. } => "certificate is not valid yet".to_string(),
        C::UnknownIssuer => "certificate signed by an unknown authority".to_string(),
        C::BadSignature => "certificate has a bad signature".to_string(),
        C::Revoked => "certificate has been revoked".to_string(),
        C::NotValidForNameContext {
            expected,
            presented,
        } => format!(
            "certificate is for {}, not {}",
            if presented.is_empty() {
                "no name".to_string()
            } else {
                presented
                    .iter()
                    .map(|p| presented_name(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            expected.to_str()
        ),
        C::NotValidForName => "certificate is for another name".to_string(),
        C::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
            "the server presented a CA certificate as its own".to_string()
        }
        other => format!("certificate not accepted: {other:?}"),
    })
}

/// rustls lists a certificate's names in their debug form
/// (`DnsName("localhost")`, `IpAddress(127.0.0.1)`): the name alone.
fn presented_name(p: &str) -> &str {
    let inner = p
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(p);
    inner.trim_matches('"')
}

/// The rustls error inside `e`, through any depth of `io::Error` wrapping
/// (the connector nests them, and `io::Error::source` skips the wrapped
/// error).
fn rustls_error(e: &reqwest::Error) -> Option<&rustls::Error> {
    let mut source = e.source();
    while let Some(s) = source {
        let mut err: &(dyn std::error::Error + 'static) = s;
        loop {
            if let Some(r) = err.downcast_ref::<rustls::Error>() {
                return Some(r);
            }
            match err
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
            {
                Some(inner) => err = inner,
                None => break,
            }
        }
        source = s.source();
    }
    None
}

fn is_tls(e: &reqwest::Error) -> bool {
    rustls_error(e).is_some()
}

/// The HTTP stack's own error inside `e`: the connection, not the content.
fn transport(e: &reqwest::Error) -> Option<&hyper::Error> {
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            return Some(h);
        }
        source = s.source();
    }
    None
}

/// Maps reqwest's error to our stable kinds.
pub fn classify(e: &reqwest::Error) -> FetchError {
    let msg = describe(e);
    // A request on a pooled connection that the server had closed: hyper
    // reports the message as incomplete before any byte of an answer.
    if e.is_request() && transport(e).is_some_and(hyper::Error::is_incomplete_message) {
        FetchError::Stale(msg)
    } else if transport(e).is_some_and(hyper::Error::is_parse_too_large) {
        FetchError::HeadTooLarge(msg)
    } else if e.is_timeout() {
        FetchError::Timeout(msg)
    } else if is_tls(e) {
        FetchError::Tls(rustls_error(e).and_then(tls_words).unwrap_or(msg))
    } else if e.is_connect() {
        FetchError::Connect(msg)
    } else if e.is_body() || (e.is_decode() && transport(e).is_some()) {
        // reqwest calls a body cut short by the connection a decode error.
        FetchError::Body(msg)
    } else if e.is_decode() {
        FetchError::Decode(msg)
    } else {
        FetchError::Request(msg)
    }
}

/// A URL as logs show it: a password in it is replaced by `***`.
pub struct Shown<'a>(pub &'a Url);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.password().is_none() {
            return f.write_str(self.0.as_str());
        }
        let mut url = self.0.clone();
        let _ = url.set_password(Some("***"));
        f.write_str(url.as_str())
    }
}

#[derive(Debug)]
pub struct Response<B = Bytes> {
    pub status: u16,
    pub version: reqwest::Version,
    /// The server's address, when the connection reported it.
    pub remote_addr: Option<std::net::SocketAddr>,
    pub headers: HeaderMap,
    pub body: B,
    /// The request as sent, when the fetcher keeps requests
    /// ([`Fetcher::keep_requests`]).
    pub sent: Option<Sent>,
}

/// A request as it went over the wire (see [`sent`]).
#[derive(Debug)]
pub struct Sent {
    /// When it was sent.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Every header, in the order sent.
    pub headers: HeaderMap,
}

impl<B> Response<B> {
    pub fn header(&self, name: impl reqwest::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub struct Fetcher {
    client: reqwest::Client,
    max_body: u64,
    retries: u32,
    backoff: Backoff,
    /// The client's default headers and cookie jar, to tell what a request
    /// carried.
    defaults: HeaderMap,
    jar: Option<Arc<Jar>>,
    keep_requests: bool,
    stats: Arc<stats::RequestStats>,
}

impl Fetcher {
    pub fn new(config: &FetchConfig) -> anyhow::Result<Self> {
        let jar = config.cookies.then(|| Arc::new(Jar::default()));
        if !config.tls.verify {
            tracing::warn!("TLS certificates are not verified (--insecure)");
        }
        Ok(Self {
            client: client::build(config, jar.clone())?,
            max_body: config.max_body,
            retries: config.retries,
            backoff: config.backoff,
            defaults: client::default_headers(config)?,
            jar,
            keep_requests: false,
            stats: Arc::default(),
        })
    }

    /// Keeps each request's headers and time in [`Response::sent`], for
    /// archival output.
    pub fn keep_requests(mut self, keep: bool) -> Self {
        self.keep_requests = keep;
        self
    }

    /// One GET with `headers` added to the client's defaults, its body
    /// read by `read`; no retry, no redirect.
    async fn once<R: hops::Read>(
        &self,
        url: &Url,
        headers: &HeaderMap,
        read: &R,
    ) -> Result<Response<R::Body>, FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Scheme(url.scheme().to_string()));
        }
        let mut sent = self.keep_requests.then(|| Sent {
            at: chrono::Utc::now(),
            headers: sent::before_send(headers, &self.defaults, || {
                self.jar.as_ref().and_then(|jar| jar.cookies(url))
            }),
        });
        let resp = self
            .client
            .get(url.as_str())
            .headers(headers.clone())
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let status = resp.status().as_u16();
        let version = resp.version();
        if let Some(sent) = &mut sent {
            sent::add_host(&mut sent.headers, url, version);
        }
        let remote_addr = resp.remote_addr();
        let headers = resp.headers().clone();
        let body = read.read(resp).await?;
        Ok(Response {
            status,
            version,
            remote_addr,
            headers,
            body,
            sent,
        })
    }

    /// Counts into `stats` (shared by several fetchers, e.g. the pulls of
    /// one `collector api` run) instead of its own.
    pub fn with_stats(mut self, stats: Arc<stats::RequestStats>) -> Self {
        self.stats = stats;
        self
    }

    /// The counts of every request this fetcher made, for the metrics.
    pub fn stats(&self) -> Arc<stats::RequestStats> {
        self.stats.clone()
    }

    /// The body cap of page requests.
    pub fn max_body(&self) -> u64 {
        self.max_body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_urls_hide_passwords() {
        let url = Url::parse("http://user:secret@127.0.0.1:8/a?b=c").expect("url");
        assert_eq!(Shown(&url).to_string(), "http://user:***@127.0.0.1:8/a?b=c");
        let plain = Url::parse("http://127.0.0.1:8/a").expect("url");
        assert_eq!(Shown(&plain).to_string(), "http://127.0.0.1:8/a");
    }
}
