//! The one request loop, used for pages, robots.txt, sitemaps and API
//! pages: admission by the origin's limiter, the request, retries with
//! back-off (honouring `Retry-After` and pausing the origin on 429/503),
//! the status verdict, and redirects hop by hop. What a hop may do (scope,
//! robots.txt, credentials) is the caller's, through [`Hops`].

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use reqwest::header::{HeaderMap, LOCATION, RETRY_AFTER};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::redirect::{Refused, next_hop};
use super::retry::{self, Attempt};
use super::verdict::{Verdict, is_slow_down, verdict};
use super::{FetchError, Fetcher, Response, body};
use crate::gate::HostPermit;
use crate::record::{ErrorKind, PageError};

/// One redirect followed: the URL requested and the 3xx status it answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    pub url: Url,
    pub status: u16,
}

/// What the caller decides for each hop.
#[async_trait]
pub trait Hops: Send + Sync {
    /// Waits until a request to `url`'s origin may start; `None` when the
    /// run is stopping. Asked for the first URL unless its permit is held
    /// already, and for every redirect to another origin.
    async fn admit(&self, url: &Url) -> Option<HostPermit>;

    /// Whether a redirect target may be requested (scope, robots.txt).
    async fn allow(&self, _next: &Url) -> Result<(), Refused> {
        Ok(())
    }

    /// The origin of `url` asked to slow down; returns the wait to apply.
    fn pause(&self, url: &Url, wait: Duration) -> Duration;

    /// Puts a redirect target in the caller's canonical form.
    fn canonical(&self, _url: &mut Url) {}

    /// The URL to send and headers for this request only (credentials
    /// that must reach their own origin alone).
    fn prepare(&self, url: &Url) -> (Url, HeaderMap) {
        (url.clone(), HeaderMap::new())
    }

    /// Sees every response's headers (API rate-limit headers).
    fn observe(&self, _url: &Url, _headers: &HeaderMap) {}
}

/// How the final response's body is read.
#[async_trait]
pub trait Read: Send + Sync {
    type Body: Send;
    async fn read(&self, resp: reqwest::Response) -> Result<Self::Body, FetchError>;

    /// The body's length for the request log, when it was read.
    fn size(_body: &Self::Body) -> Option<u64> {
        None
    }
}

/// The whole body, failing with `too_large` past the limit.
pub struct Capped(pub u64);

#[async_trait]
impl Read for Capped {
    type Body = Bytes;
    async fn read(&self, resp: reqwest::Response) -> Result<Bytes, FetchError> {
        body::read_capped(resp, self.0).await
    }

    fn size(body: &Bytes) -> Option<u64> {
        Some(body.len() as u64)
    }
}

/// At most this many bytes, the rest left unread (robots.txt: RFC 9309
/// section 2.5 asks for at least 500 KiB to be parsed).
pub struct Truncated(pub u64);

#[async_trait]
impl Read for Truncated {
    type Body = Bytes;
    async fn read(&self, resp: reqwest::Response) -> Result<Bytes, FetchError> {
        body::read_truncated(resp, self.0).await
    }

    fn size(body: &Bytes) -> Option<u64> {
        Some(body.len() as u64)
    }
}

/// The body left to the caller to stream (sitemaps).
pub struct Unread;

#[async_trait]
impl Read for Unread {
    type Body = reqwest::Response;
    async fn read(&self, resp: reqwest::Response) -> Result<reqwest::Response, FetchError> {
        Ok(resp)
    }
}

/// What the loop ended with.
#[derive(Debug)]
pub struct Fetched<B> {
    /// The last URL requested.
    pub url: Url,
    /// The redirects followed to reach it, in order.
    pub chain: Vec<Redirect>,
    /// Retries over all hops.
    pub retries: u32,
    /// The last response, when one came.
    pub response: Option<Response<B>>,
    /// Why the result is a failure: a transport error, a status after
    /// retries, a redirect not followed.
    pub error: Option<PageError>,
    /// Stopped (shutdown) before the work was done.
    pub stopped: bool,
}

/// The `-v` line of one request (one hop, its retries included): every
/// request collector makes (pages, robots.txt, sitemaps, API pages) ends
/// here. A disabled event costs a relaxed atomic load.
fn log_request<R: Read>(
    url: &Url,
    result: &Result<Response<R::Body>, FetchError>,
    retries: u32,
    started: Instant,
) {
    let ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(r) => tracing::debug!(
            method = "GET",
            url = %super::Shown(url),
            status = r.status,
            ms,
            bytes = R::size(&r.body),
            retries,
            "request"
        ),
        Err(e) => tracing::debug!(
            method = "GET",
            url = %super::Shown(url),
            error = e.kind().as_str(),
            ms,
            retries,
            "request failed: {e}"
        ),
    }
}

fn page_error(kind: ErrorKind, message: String) -> Option<PageError> {
    Some(PageError { kind, message })
}

impl Fetcher {
    /// Requests `url` and follows its redirects. `held` says the caller
    /// already holds the first origin's permit (a crawl lease).
    pub async fn fetch<R: Read>(
        &self,
        url: Url,
        hops: &dyn Hops,
        read: &R,
        held: bool,
        stop: &CancellationToken,
    ) -> Fetched<R::Body> {
        let mut done = Fetched {
            url,
            chain: Vec::new(),
            retries: 0,
            response: None,
            error: None,
            stopped: false,
        };
        let mut permit = None;
        if !held {
            permit = hops.admit(&done.url).await;
            if permit.is_none() {
                done.stopped = true;
                return done;
            }
        }
        let mut seen = HashSet::new();
        loop {
            seen.insert(done.url.as_str().to_string());
            let started = Instant::now();
            self.stats.started();
            let (result, retries) = self.attempts(&done.url, hops, read, stop).await;
            self.stats.finished(
                result.as_ref().map(|r| r.status).map_err(FetchError::kind),
                retries,
                result.as_ref().ok().and_then(|r| R::size(&r.body)),
            );
            log_request::<R>(&done.url, &result, retries, started);
            done.retries += retries;
            let resp = match result {
                Ok(r) => r,
                Err(e) => {
                    done.error = page_error(e.kind(), e.to_string());
                    return done;
                }
            };
            let status = resp.status;
            match verdict(status) {
                Verdict::Page => {}
                Verdict::Retry | Verdict::Failure => {
                    done.error = page_error(
                        ErrorKind::HttpStatus,
                        format!("HTTP {status} after {retries} retries"),
                    );
                }
                Verdict::Redirect => {
                    let location = resp.headers.get(LOCATION).map(|v| v.as_bytes());
                    let next = next_hop(&done.url, location, done.chain.len(), &seen, |u| {
                        hops.canonical(u)
                    });
                    let next = match next {
                        Ok(next) => match hops.allow(&next).await {
                            Ok(()) => next,
                            Err(r) => {
                                done.error = page_error(r.kind, r.message);
                                done.response = Some(resp);
                                return done;
                            }
                        },
                        Err(r) => {
                            done.error = page_error(r.kind, r.message);
                            done.response = Some(resp);
                            return done;
                        }
                    };
                    let from = std::mem::replace(&mut done.url, next);
                    if from.origin() != done.url.origin() {
                        // Another origin's limiter admits the next hop.
                        drop(permit.take());
                        permit = hops.admit(&done.url).await;
                        if permit.is_none() {
                            done.stopped = true;
                            done.chain.push(Redirect { url: from, status });
                            return done;
                        }
                    }
                    done.chain.push(Redirect { url: from, status });
                    continue;
                }
            }
            done.response = Some(resp);
            return done;
        }
    }

    /// One hop: the request, tried again on transient failures. Returns
    /// the last attempt's outcome and the retries it took.
    async fn attempts<R: Read>(
        &self,
        url: &Url,
        hops: &dyn Hops,
        read: &R,
        stop: &CancellationToken,
    ) -> (Result<Response<R::Body>, FetchError>, u32) {
        let (target, headers) = hops.prepare(url);
        let mut retries = 0;
        let mut resent = false;
        loop {
            let result = self.once(&target, &headers, read).await;
            // A pooled connection the server had closed while idle fails
            // before any byte of the answer: sent again on a new
            // connection, once, as browsers do; not a retry.
            if let Err(FetchError::Stale(_)) = &result
                && !resent
            {
                resent = true;
                continue;
            }
            let attempt = match &result {
                Ok(r) => {
                    hops.observe(url, &r.headers);
                    Attempt::Status(r.status)
                }
                Err(e) => Attempt::Failed(e),
            };
            if retries >= self.retries || !retry::is_retryable(attempt) {
                return (result, retries);
            }
            let mut wait = self.backoff.delay(retries);
            if let Ok(r) = &result
                && is_slow_down(r.status)
            {
                if let Some(asked) = r
                    .header(RETRY_AFTER)
                    .and_then(|v| retry::retry_after(v, SystemTime::now()))
                {
                    wait = asked;
                }
                wait = hops.pause(url, wait);
            }
            tracing::trace!(
                url = %super::Shown(url),
                attempt = retries + 1,
                delay_ms = wait.as_millis() as u64,
                "retry after {}",
                match &result {
                    Ok(r) => format!("HTTP {}", r.status),
                    Err(e) => e.kind().as_str().to_string(),
                }
            );
            let deadline = Instant::now() + wait;
            tokio::select! {
                () = tokio::time::sleep_until(deadline.into()) => {}
                () = stop.cancelled() => return (result, retries),
            }
            retries += 1;
        }
    }
}
