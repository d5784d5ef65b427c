//! Visiting one leased URL: robots.txt verdict, the request with retries,
//! redirects re-checked hop by hop, link extraction and scoping. The result
//! is a record plus the links to hand to the frontier. Sitemaps are
//! visited by `sitemap.rs`, which streams the URLs they list.

mod sitemap;

use std::sync::Arc;
use std::time::Instant;

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::crawl::scope::Scope;
use crate::exchange::Exchange;
use crate::extract::{self, ExtractOptions, Page};
use crate::fetch::hops::{Capped, Fetched, Hops, Truncated};
use crate::fetch::redirect::Refused;
use crate::fetch::userinfo::Credentials;
use crate::fetch::{Fetcher, Response, Shown};
use crate::gate::HostPermit;

pub use crate::fetch::hops::Redirect;
use crate::frontier::{Candidate, Memo, QueryPolicy, UrlKind, canonicalize};
use crate::politeness::{
    OriginLimiter, ROBOTS_MAX_BYTES, RobotsCache, RobotsResponse, RobotsStore, origin_key,
    robots_share,
};
use crate::record::{ErrorKind, PageError, PageRecord, SkipReason};
use crate::rules::RuleSets;

/// Bodies larger than this are parsed on the blocking pool, so one huge page
/// does not stall the async workers.
const INLINE_PARSE_BYTES: usize = 256 * 1024;

pub struct Visitor {
    pub fetcher: Fetcher,
    pub limiter: Arc<OriginLimiter>,
    pub robots: RobotsCache,
    pub scope: Scope,
    pub extract: ExtractOptions,
    pub rules: Arc<RuleSets>,
    pub respect_robots: bool,
    pub query: QueryPolicy,
    pub stop: CancellationToken,
    /// Sitemaps named by robots.txt files read since the last
    /// [`Visitor::take_sitemaps`].
    pub found_sitemaps: std::sync::Mutex<Vec<Url>>,
    /// Origins whose robots.txt could not be read, and why.
    pub robots_failures: std::sync::Mutex<std::collections::HashMap<String, PageError>>,
    /// Keep each page's raw exchange in [`Visit::exchange`] (archival
    /// output); the fetcher must keep requests too.
    pub keep_exchanges: bool,
    /// The robots.txt answers of a shared crawl's workers.
    pub robots_store: Option<Arc<dyn RobotsStore>>,
    /// Basic auth from the seeds' userinfo, for their own origins only.
    pub credentials: Credentials,
}

/// What visiting one URL produced.
#[derive(Default)]
pub struct Visit {
    /// `None` when robots.txt denied the URL (a link, not a seed): it is
    /// reported as skipped rather than as a page.
    pub record: Option<PageRecord>,
    pub links: Vec<Candidate>,
    /// Links found on the page and left out, with the reason.
    pub skipped: Vec<(Url, SkipReason)>,
    /// The page the links were found on (its final URL), shared by them.
    pub found_on: Option<Arc<str>>,
    /// Links not followed because of rel=nofollow (no URL kept).
    pub nofollow: u64,
    /// Links with a scheme we never request (mailto:, javascript:, ...).
    pub other_scheme: u64,
    /// Links no `follow` selector of the page's rule set picked.
    pub not_selected: u64,
    /// The last hop's request and response, when exchanges are kept.
    pub exchange: Option<Box<Exchange>>,
    /// The redirects followed to reach the final URL, in order.
    pub redirects: Vec<Redirect>,
    /// The headers of the last response received (`None` when no response).
    pub headers: Option<HeaderMap>,
    /// The encoding an HTML page was decoded with (an `encoding_rs` name).
    pub charset: Option<&'static str>,
    /// A request was sent for the URL (not refused before by robots.txt).
    pub requested: bool,
}

/// What the request loop gave, into the record and the visit: the final
/// URL, status, retries, redirects followed and the error.
fn took<B>(record: &mut PageRecord, visit: &mut Visit, fetched: &mut Fetched<B>) {
    record.final_url = fetched.url.to_string();
    record.status = fetched.response.as_ref().map(|r| r.status);
    record.retries = fetched.retries;
    record.redirects = u32::try_from(fetched.chain.len()).unwrap_or(u32::MAX);
    record.error = fetched.error.take();
    visit.redirects = std::mem::take(&mut fetched.chain);
}

pub(crate) fn error(kind: ErrorKind, message: impl Into<String>) -> Option<PageError> {
    Some(PageError {
        kind,
        message: message.into(),
    })
}

impl Visitor {
    /// Visits `url`; with the `memo` a recrawl keeps of it, the request
    /// is conditional (`If-None-Match`, `If-Modified-Since`).
    pub async fn visit(
        &self,
        url: &Url,
        depth: u32,
        referrer: Option<Arc<str>>,
        memo: Option<&Memo>,
    ) -> Visit {
        let started = Instant::now();
        let mut record = PageRecord::start(url, depth, referrer.clone());
        let requested = self.allowed(url).await;
        let mut hop = if requested {
            let mut hops = self.hops(true);
            hops.conditional = memo.map(|m| (url, m));
            self.fetcher
                .fetch(
                    url.clone(),
                    &hops,
                    &Capped(self.fetcher.max_body()),
                    true,
                    &self.stop,
                )
                .await
        } else {
            let failure = self.robots_failure(url);
            tracing::debug!(
                url = %Shown(url),
                robots = if failure.is_some() { "unavailable" } else { "disallowed" },
                "not requested: robots.txt"
            );
            if failure.is_none() && referrer.is_some() {
                // Disallowed by the site's rules: a skip, not a page.
                return Visit::default();
            }
            // A seed the user named gets a record saying why it was not
            // fetched; any URL of an origin whose robots.txt could not be
            // read is a failure that says why.
            Fetched {
                url: url.clone(),
                chain: Vec::new(),
                retries: 0,
                response: None,
                error: failure
                    .or_else(|| error(ErrorKind::RobotsDenied, "robots.txt disallows this URL")),
                stopped: false,
            }
        };
        record.elapsed_ms = started.elapsed().as_millis() as u64;
        let mut visit = Visit {
            requested,
            ..Visit::default()
        };
        took(&mut record, &mut visit, &mut hop);
        if let Some(resp) = hop.response {
            record.bytes = resp.body.len() as u64;
            record.content_type = resp.header(CONTENT_TYPE).map(str::to_string);
            // Error pages (404s, soft 5xx) are recorded but their links are
            // not followed: they are the server's, not the site's.
            if record.error.is_none() && (200..300).contains(&resp.status) {
                self.extract_links(&resp, &hop.url, depth, &mut record, &mut visit)
                    .await;
            }
            if self.keep_exchanges {
                visit.headers = Some(resp.headers.clone());
                visit.exchange = Exchange::from_response(hop.url, resp).map(Box::new);
            } else {
                visit.headers = Some(resp.headers);
            }
        }
        visit.record = Some(record);
        visit
    }

    /// The request loop's view of this visit: admission by the origin's
    /// limiter, its pauses, canonical URLs, and (with `checked`) scope and
    /// robots.txt for every redirect target.
    fn hops(&self, checked: bool) -> VisitHops<'_> {
        VisitHops {
            visitor: self,
            checked,
            conditional: None,
        }
    }

    async fn extract_links(
        &self,
        resp: &Response,
        final_url: &Url,
        depth: u32,
        record: &mut PageRecord,
        visit: &mut Visit,
    ) {
        let content_type = record.content_type.as_deref();
        if !extract::is_html(content_type, &resp.body) {
            return;
        }
        let found = if resp.body.len() <= INLINE_PARSE_BYTES {
            extract::extract_with(
                &Page {
                    body: &resp.body,
                    content_type,
                    url: final_url,
                },
                &self.extract,
                Some(&self.rules),
            )
        } else {
            let body = resp.body.clone();
            let ct = record.content_type.clone();
            let url = final_url.clone();
            let opts = self.extract.clone();
            let rules = self.rules.clone();
            let job = tokio::task::spawn_blocking(move || {
                extract::extract_with(
                    &Page {
                        body: &body,
                        content_type: ct.as_deref(),
                        url: &url,
                    },
                    &opts,
                    Some(&rules),
                )
            });
            match job.await {
                Ok(found) => found,
                Err(_) => return,
            }
        };
        visit.charset = Some(found.charset);
        record.title = found.title;
        record.rule = found.rule;
        if let Some(message) = found.fields_refused {
            record.error = error(ErrorKind::TooDeep, message);
        }
        if let Some(fields) = found.fields {
            record.data = Some(fields.data);
            record.incomplete = (!fields.missing.is_empty()).then_some(fields.missing);
        }
        let referrer: Arc<str> = final_url.as_str().into();
        visit.found_on = Some(referrer.clone());
        for mut link in found.links {
            canonicalize(&mut link, self.query);
            match self.scope.check(&link) {
                Ok(()) => visit.links.push(Candidate {
                    url: link,
                    kind: UrlKind::Page,
                    depth: depth + 1,
                    referrer: Some(referrer.clone()),
                }),
                Err(reason) => visit.skipped.push((link, reason)),
            }
        }
        record.links = u32::try_from(visit.links.len()).unwrap_or(u32::MAX);
        visit.nofollow = found.nofollow as u64;
        visit.other_scheme = found.other_scheme as u64;
        visit.not_selected = found.not_selected as u64;
    }

    /// The robots.txt verdict for `url`, fetching the origin's file once;
    /// always true when robots.txt is not respected.
    pub async fn allowed(&self, url: &Url) -> bool {
        if !self.respect_robots {
            return true;
        }
        let origin = origin_key(url);
        let (rules, fetched) = self
            .robots
            .get(&origin, || self.shared_robots(url, &origin))
            .await;
        if fetched {
            if let Some(delay) = rules.crawl_delay() {
                self.limiter.set_spacing(&origin, delay);
            }
            let found = url
                .join("/robots.txt")
                .map(|base| rules.sitemap_urls(&base))
                .unwrap_or_default();
            if !found.is_empty() {
                lock(&self.found_sitemaps).extend(found);
            }
        }
        rules.allows(url.as_str())
    }

    /// The sitemaps robots.txt files named since the last call.
    pub fn take_sitemaps(&self) -> Vec<Url> {
        std::mem::take(&mut *lock(&self.found_sitemaps))
    }

    /// [`Self::fetch_robots`], or in a shared crawl what another worker
    /// fetched (it is then stored for the others).
    async fn shared_robots(&self, url: &Url, origin: &str) -> RobotsResponse {
        let Some(store) = &self.robots_store else {
            return self.fetch_robots(url).await;
        };
        if let Some((resp, failure)) = store
            .get_or_claim(origin)
            .await
            .as_deref()
            .and_then(robots_share::decode)
        {
            if let Some(failure) = failure {
                lock(&self.robots_failures).insert(origin.to_string(), failure);
            }
            return resp;
        }
        let resp = self.fetch_robots(url).await;
        let failure = lock(&self.robots_failures).get(origin).cloned();
        store
            .put(origin, robots_share::encode(&resp, failure.as_ref()))
            .await;
        resp
    }

    async fn fetch_robots(&self, url: &Url) -> RobotsResponse {
        let Ok(target) = url.join("/robots.txt") else {
            return RobotsResponse::Unreachable;
        };
        let fetched = self
            .fetcher
            .fetch(
                target,
                &self.hops(false),
                &Truncated(ROBOTS_MAX_BYTES),
                true,
                &self.stop,
            )
            .await;
        let failure = match (&fetched.response, &fetched.error) {
            (Some(resp), _) if resp.status >= 500 || resp.status == 429 => Some(PageError {
                kind: ErrorKind::RobotsUnavailable,
                message: format!(
                    "robots.txt answered HTTP {}: nothing on this site is fetched (RFC 9309 2.3.1.3)",
                    resp.status
                ),
            }),
            (None, Some(e)) => Some(PageError {
                kind: e.kind,
                message: format!("robots.txt unreachable: {}", e.message),
            }),
            _ => None,
        };
        if let Some(failure) = failure {
            lock(&self.robots_failures).insert(origin_key(url), failure);
        }
        match fetched.response {
            Some(resp) if fetched.error.is_none() && (200..300).contains(&resp.status) => {
                if resp.body.len() as u64 >= ROBOTS_MAX_BYTES {
                    RobotsResponse::Truncated(resp.body.to_vec())
                } else {
                    RobotsResponse::Body(resp.body.to_vec())
                }
            }
            Some(resp) => RobotsResponse::Status(resp.status),
            None => RobotsResponse::Unreachable,
        }
    }

    /// Why robots.txt of `url`'s origin could not be read, when it could not.
    pub(crate) fn robots_failure(&self, url: &Url) -> Option<PageError> {
        lock(&self.robots_failures).get(&origin_key(url)).cloned()
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// See [`Visitor::hops`].
struct VisitHops<'a> {
    visitor: &'a Visitor,
    checked: bool,
    /// The URL asked for and its stored memo: its request (not a
    /// redirect target's) carries the memo's validators.
    conditional: Option<(&'a Url, &'a Memo)>,
}

#[async_trait::async_trait]
impl Hops for VisitHops<'_> {
    async fn admit(&self, url: &Url) -> Option<HostPermit> {
        let v = self.visitor;
        v.limiter.admit(&origin_key(url), &v.stop).await
    }

    async fn allow(&self, next: &Url) -> Result<(), Refused> {
        if !self.checked {
            return Ok(());
        }
        let refused = |kind, message| Err(Refused { kind, message });
        match self.visitor.scope.check(next) {
            Err(SkipReason::Scheme) => refused(
                ErrorKind::Scheme,
                format!("redirect to {next}: not http(s)"),
            ),
            Err(_) => refused(
                ErrorKind::RedirectOutOfScope,
                format!("redirect to {next}: out of scope, not followed"),
            ),
            Ok(()) if !self.visitor.allowed(next).await => refused(
                ErrorKind::RobotsDenied,
                format!("redirect to {next}: disallowed by robots.txt"),
            ),
            Ok(()) => Ok(()),
        }
    }

    fn pause(&self, url: &Url, wait: std::time::Duration) -> std::time::Duration {
        self.visitor.limiter.pause(&origin_key(url), wait)
    }

    fn canonical(&self, url: &mut Url) {
        canonicalize(url, self.visitor.query);
    }

    /// A seed's credentials go to its origin alone, never to the origin of
    /// a redirect target.
    fn prepare(&self, url: &Url) -> (Url, HeaderMap) {
        let mut headers = HeaderMap::new();
        if let Some(auth) = self.visitor.credentials.for_url(url) {
            headers.insert(reqwest::header::AUTHORIZATION, auth.clone());
        }
        if let Some((first, memo)) = self.conditional
            && first == url
        {
            crate::crawl::recrawl::conditional(memo, &mut headers);
        }
        (url.clone(), headers)
    }
}
