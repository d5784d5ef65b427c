//! Fetching one URL over HTTP: a pooled client, a size cap on bodies,
//! retries with back-off. Redirects are not followed here: the caller
//! re-checks every hop against scope and robots.txt first.

pub mod body;
pub mod client;
pub mod cookies;
pub mod retry;
pub mod sent;

use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::cookie::CookieStore as _;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::record::ErrorKind;
pub use client::FetchConfig;
use cookies::Jar;
use retry::{Attempt, Backoff};

#[derive(Clone, Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("body larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("could not decode the body: {0}")]
    Decode(String),
    #[error("connection broke while reading the body: {0}")]
    Body(String),
    #[error("only http and https are fetched, not {0}")]
    Scheme(String),
    #[error("request failed: {0}")]
    Request(String),
}

impl FetchError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Timeout(_) => ErrorKind::Timeout,
            Self::Connect(_) => ErrorKind::Connect,
            Self::Tls(_) => ErrorKind::Tls,
            Self::TooLarge { .. } => ErrorKind::TooLarge,
            Self::Decode(_) => ErrorKind::Decode,
            Self::Body(_) => ErrorKind::Body,
            Self::Scheme(_) => ErrorKind::Scheme,
            Self::Request(_) => ErrorKind::Request,
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

fn is_tls(e: &reqwest::Error) -> bool {
    /// The error itself or, through any depth of `io::Error` wrapping (the
    /// connector nests them, and `io::Error::source` skips the wrapped
    /// error), the rustls error inside.
    fn holds_rustls(mut err: &(dyn std::error::Error + 'static)) -> bool {
        loop {
            if err.downcast_ref::<rustls::Error>().is_some() {
                return true;
            }
            match err
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
            {
                Some(inner) => err = inner,
                None => return false,
            }
        }
    }
    let mut source = e.source();
    while let Some(s) = source {
        if holds_rustls(s) {
            return true;
        }
        source = s.source();
    }
    false
}

/// Maps reqwest's error to our stable kinds.
pub fn classify(e: &reqwest::Error) -> FetchError {
    let msg = describe(e);
    if e.is_timeout() {
        FetchError::Timeout(msg)
    } else if is_tls(e) {
        FetchError::Tls(msg)
    } else if e.is_connect() {
        FetchError::Connect(msg)
    } else if e.is_decode() {
        FetchError::Decode(msg)
    } else if e.is_body() {
        FetchError::Body(msg)
    } else {
        FetchError::Request(msg)
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub version: reqwest::Version,
    /// The server's address, when the connection reported it.
    pub remote_addr: Option<std::net::SocketAddr>,
    pub headers: HeaderMap,
    pub body: Bytes,
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

impl Response {
    pub fn header(&self, name: impl reqwest::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The last attempt's outcome and how many retries it took.
#[derive(Debug)]
pub struct Fetched {
    pub result: Result<Response, FetchError>,
    pub retries: u32,
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
}

impl Fetcher {
    pub fn new(config: &FetchConfig) -> anyhow::Result<Self> {
        let jar = config.cookies.then(|| Arc::new(Jar::default()));
        Ok(Self {
            client: client::build(config, jar.clone())?,
            max_body: config.max_body,
            retries: config.retries,
            backoff: config.backoff,
            defaults: client::default_headers(config)?,
            jar,
            keep_requests: false,
        })
    }

    /// Keeps each request's headers and time in [`Response::sent`], for
    /// archival output.
    pub fn keep_requests(mut self, keep: bool) -> Self {
        self.keep_requests = keep;
        self
    }

    /// One GET, no retry, no redirect.
    pub async fn get_once(&self, url: &Url) -> Result<Response, FetchError> {
        self.get_once_capped(url, self.max_body).await
    }

    pub async fn get_once_capped(&self, url: &Url, max_body: u64) -> Result<Response, FetchError> {
        self.request(url, max_body, &HeaderMap::new()).await
    }

    /// One GET with `headers` added to the client's defaults.
    async fn request(
        &self,
        url: &Url,
        max_body: u64,
        headers: &HeaderMap,
    ) -> Result<Response, FetchError> {
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
        let body = body::read_capped(resp, max_body).await?;
        Ok(Response {
            status,
            version,
            remote_addr,
            headers,
            body,
            sent,
        })
    }

    /// One GET whose body is left to the caller to stream (sitemaps).
    pub async fn get_streaming(&self, url: &Url) -> Result<reqwest::Response, FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Scheme(url.scheme().to_string()));
        }
        self.client
            .get(url.as_str())
            .send()
            .await
            .map_err(|e| classify(&e))
    }

    /// GET with retries on transient failures. When the server says slow
    /// down (429/503), `on_slow_down` gets the wait it asked for (or the
    /// back-off) and returns the wait to apply, so the caller can pause the
    /// whole origin. Stops retrying when `stop` fires.
    pub async fn get(
        &self,
        url: &Url,
        stop: &CancellationToken,
        on_slow_down: impl FnMut(Duration) -> Duration,
    ) -> Fetched {
        self.get_with(url, &HeaderMap::new(), stop, on_slow_down)
            .await
    }

    /// [`Fetcher::get`] with extra headers for this request only (API
    /// credentials, which must not go to every host).
    pub async fn get_with(
        &self,
        url: &Url,
        headers: &HeaderMap,
        stop: &CancellationToken,
        mut on_slow_down: impl FnMut(Duration) -> Duration,
    ) -> Fetched {
        let mut retries = 0;
        loop {
            let result = self.request(url, self.max_body, headers).await;
            let attempt = match &result {
                Ok(r) => Attempt::Status(r.status),
                Err(e) => Attempt::Failed(e),
            };
            if retries >= self.retries || !retry::is_retryable(attempt) {
                return Fetched { result, retries };
            }
            let mut wait = self.backoff.delay(retries);
            if let Ok(r) = &result
                && retry::is_slow_down(r.status)
            {
                if let Some(asked) = r
                    .header(RETRY_AFTER)
                    .and_then(|v| retry::retry_after(v, SystemTime::now()))
                {
                    wait = asked;
                }
                wait = on_slow_down(wait);
            }
            let deadline = Instant::now() + wait;
            tokio::select! {
                () = tokio::time::sleep_until(deadline.into()) => {}
                () = stop.cancelled() => return Fetched { result, retries },
            }
            retries += 1;
        }
    }
}
