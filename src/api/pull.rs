//! The fetch loop of `collector api`: request a page, write its records,
//! work out the next request, until the API says there is no more. Uses the
//! crawler's fetcher (one retry policy), limiter and atomic files.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use std::time::SystemTime;

use reqwest::header::{HeaderMap, LINK};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::plan::remaining_pages;
use super::recorder::Recorder;
use super::records::paging_pointers_found;
pub use super::settings::{Auth, Output, PullSettings, Since};
use super::{
    LoopGuard, Next, PaginateError, StopReason, Strategy, detect, next_request, parallel, records,
    with_query_param,
};
use crate::fetch::hops::{Capped, Hops};
use crate::fetch::{Fetcher, retry};
use crate::gate::HostPermit;
use crate::politeness::OriginLimiter;
use crate::politeness::origin_key;
use crate::sink::part_file;

/// `summary.json` of a pull.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PullSummary {
    pub url: String,
    pub strategy: String,
    pub pages: u64,
    pub records: u64,
    pub retries: u64,
    /// Pauses for `X-RateLimit-Remaining: 0` until `X-RateLimit-Reset`.
    pub rate_limit_waits: u64,
    /// Why the pull ended.
    pub stopped: Stopped,
    pub error: Option<PullError>,
    pub duration_s: f64,
    /// False when `--insecure` turned certificate checks off.
    pub tls_verified: bool,
}

impl PullSummary {
    /// Failed when stopped by an error, interrupted by a signal, else done.
    pub fn outcome(&self) -> crate::outcome::Outcome {
        use crate::outcome::Outcome;
        if self.error.is_some() {
            Outcome::Failed
        } else if self.stopped == Stopped::Interrupted {
            Outcome::Interrupted
        } else {
            Outcome::Done
        }
    }
}

/// Why a pull ended, written to the summary by its stable name: a stop
/// reason of the strategy (`no_next_link`, `last_page`, ...), `max_pages`,
/// `interrupted` or `error`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stopped {
    /// Not ended yet (a summary being built).
    #[default]
    Running,
    /// The API said there is no more.
    Done(StopReason),
    MaxPages,
    Interrupted,
    Error,
}

impl Stopped {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done(reason) => reason.as_str(),
            Self::MaxPages => "max_pages",
            Self::Interrupted => "interrupted",
            Self::Error => "error",
        }
    }
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Stopped {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct PullError {
    pub kind: String,
    pub page: u64,
    pub url: String,
    pub message: String,
}

/// One fetched page as it came: its body bytes and `Link` headers.
pub(super) struct Raw {
    pub body: bytes::Bytes,
    links: Vec<String>,
    retries: u32,
    rate_limited: bool,
}

/// One page, its body parsed.
pub(super) struct Fetched {
    pub body: serde_json::Value,
    /// The body's length as it came.
    pub bytes: u64,
    pub links: Vec<String>,
    pub retries: u32,
    pub rate_limited: bool,
}

/// Why a page could not be had: an error kind and message.
pub(super) struct Failed {
    kind: String,
    message: String,
    retries: u32,
}

/// A UTF-8 byte order mark, which some APIs put before their JSON
/// (RFC 8259 §8.1 lets a parser ignore it).
const BOM: &[u8] = b"\xEF\xBB\xBF";

impl Raw {
    /// The body as JSON (a leading byte order mark skipped).
    pub(super) fn parse(self) -> Result<Fetched, Failed> {
        let text = self.body.strip_prefix(BOM).unwrap_or(&self.body);
        match serde_json::from_slice(text) {
            Ok(body) => Ok(Fetched {
                body,
                bytes: self.body.len() as u64,
                links: self.links,
                retries: self.retries,
                rate_limited: self.rate_limited,
            }),
            Err(e) => Err(Failed {
                kind: "decode".to_string(),
                message: format!("the body is not JSON: {e}"),
                retries: self.retries,
            }),
        }
    }
}

pub(super) struct Puller {
    fetcher: Fetcher,
    limiter: OriginLimiter,
    pub stop: CancellationToken,
    auth: Option<Auth>,
    /// The only origin credentials are sent to.
    auth_origin: String,
}

impl Puller {
    /// Fetches one page and parses it.
    async fn page(&self, url: &Url) -> Result<Fetched, Option<Failed>> {
        self.fetch(url).await?.parse().map_err(Some)
    }

    /// Fetches one page through the shared request loop (the limiter
    /// admits each hop's origin, one retry policy, redirects followed);
    /// credentials go only to the API's own origin.
    pub(super) async fn fetch(&self, url: &Url) -> Result<Raw, Option<Failed>> {
        let hops = PageHops {
            puller: self,
            rate_limited: AtomicBool::new(false),
        };
        let fetched = self
            .fetcher
            .fetch(
                url.clone(),
                &hops,
                &Capped(self.fetcher.max_body()),
                false,
                &self.stop,
            )
            .await;
        let retries = fetched.retries;
        let fail = |kind: &str, message: String| {
            Some(Failed {
                kind: kind.to_string(),
                message,
                retries,
            })
        };
        if fetched.stopped || (fetched.error.is_some() && self.stop.is_cancelled()) {
            return Err(None);
        }
        if let Some(e) = fetched.error {
            return Err(fail(e.kind.as_str(), redact(&e.message, &self.auth)));
        }
        let Some(resp) = fetched.response else {
            return Err(None);
        };
        if !(200..300).contains(&resp.status) {
            let message = format!("HTTP {} after {retries} retries", resp.status);
            return Err(fail("http_status", message));
        }
        let links = resp
            .headers
            .get_all(LINK)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        Ok(Raw {
            body: resp.body,
            links,
            retries,
            rate_limited: hops.rate_limited.load(Ordering::Relaxed),
        })
    }

    /// The URL to request and the headers to add: the credentials only when
    /// `origin` is the API's own.
    fn with_auth(&self, url: &Url, origin: &str) -> (Url, HeaderMap) {
        let mut headers = HeaderMap::new();
        match &self.auth {
            Some(Auth::Header(name, value)) if origin == self.auth_origin => {
                headers.insert(name.clone(), value.clone());
                (url.clone(), headers)
            }
            Some(Auth::Query(name, value)) if origin == self.auth_origin => {
                (with_query_param(url, name, value), headers)
            }
            _ => (url.clone(), headers),
        }
    }
}

/// The request loop's view of one API page.
struct PageHops<'a> {
    puller: &'a Puller,
    /// A response said the quota is used up (`X-RateLimit-*`).
    rate_limited: AtomicBool,
}

#[async_trait::async_trait]
impl Hops for PageHops<'_> {
    async fn admit(&self, url: &Url) -> Option<HostPermit> {
        let p = self.puller;
        p.limiter.admit(&origin_key(url), &p.stop).await
    }

    fn pause(&self, url: &Url, wait: Duration) -> Duration {
        self.puller.limiter.pause(&origin_key(url), wait)
    }

    fn prepare(&self, url: &Url) -> (Url, HeaderMap) {
        self.puller.with_auth(url, &origin_key(url))
    }

    fn observe(&self, url: &Url, headers: &HeaderMap) {
        let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(wait) = retry::rate_limit_wait(
            header("x-ratelimit-remaining"),
            header("x-ratelimit-reset"),
            SystemTime::now(),
        ) {
            self.puller.limiter.pause(&origin_key(url), wait);
            self.rate_limited.store(true, Ordering::Relaxed);
        }
    }
}

/// Takes a query-parameter secret out of a message (reqwest errors quote
/// the URL they were sending).
fn redact(message: &str, auth: &Option<Auth>) -> String {
    match auth {
        Some(Auth::Query(_, value)) if !value.is_empty() => {
            message.replace(value.as_str(), "REDACTED")
        }
        _ => message.to_string(),
    }
}

/// Pulls every page. Records already written are kept whatever happens;
/// the summary says whether the pull was complete. When the first page
/// tells how many pages there are, the rest are fetched `concurrency` at a
/// time and still written in page order.
pub async fn run(
    mut settings: PullSettings,
    stop: CancellationToken,
) -> anyhow::Result<PullSummary> {
    let started = Instant::now();
    let fetcher = match &settings.requests {
        Some(stats) => Fetcher::new(&settings.fetch)?.with_stats(stats.clone()),
        None => Fetcher::new(&settings.fetch)?,
    };
    let (mut recorder, begin) = Recorder::open(&settings)?;
    if let Some(concurrency) = begin.concurrency {
        // A resumed pull fetches as the stopped one did.
        settings.concurrency = concurrency;
        settings.limiter.per_host = u32::try_from(concurrency).unwrap_or(u32::MAX);
    }
    let puller = Puller {
        fetcher,
        limiter: OriginLimiter::new(settings.limiter.clone()),
        stop: stop.clone(),
        auth: settings.auth.clone(),
        auth_origin: origin_key(&settings.url),
    };
    let mut summary = PullSummary {
        url: settings.url.to_string(),
        pages: begin.pages,
        records: begin.records,
        tls_verified: settings.fetch.tls.verify,
        ..PullSummary::default()
    };
    let mut strategy = begin.strategy;
    let mut guard = LoopGuard::new(&begin.url);
    let mut url = begin.url;
    let run_starts_at = summary.pages;
    if begin.done {
        summary.stopped = Stopped::Done(StopReason::LastPage);
    } else {
        loop {
            let page = match puller.page(&url).await {
                Ok(p) => p,
                Err(failed) => {
                    stopped_by(&mut summary, failed, &url);
                    break;
                }
            };
            summary.retries += u64::from(page.retries);
            summary.rate_limit_waits += u64::from(page.rate_limited);
            let links: Vec<&str> = page.links.iter().map(String::as_str).collect();
            let strat = match &strategy {
                Some(s) => s.clone(),
                None => match detect(&url, &links, &page.body) {
                    Ok(s) => {
                        if !settings.quiet {
                            tracing::info!(url = %url, strategy = %s, "paginating by {s}");
                        }
                        strategy = Some(s.clone());
                        s
                    }
                    Err(PaginateError::Undetected { keys }) if settings.records.is_some() => {
                        tracing::warn!(
                            url = %url,
                            "no pagination found in the first page (top-level keys: [{}]); \
                             pulling this one page (--paginate none does so without this warning)",
                            keys.join(", ")
                        );
                        strategy = Some(Strategy::Single);
                        Strategy::Single
                    }
                    Err(e) => {
                        fail(&mut summary, e.kind(), &url, e.to_string());
                        break;
                    }
                },
            };
            summary.strategy = strat.to_string();
            let first = summary.pages == 0;
            if first
                && settings.strategy.is_some()
                && let Err(e) = paging_pointers_found(&strat, &page.body)
            {
                fail(&mut summary, e.kind(), &url, e.to_string());
                break;
            }
            let found = match records(&page.body, settings.records.as_deref()) {
                Ok(r) => r,
                Err(e) => {
                    fail(&mut summary, e.kind(), &url, e.to_string());
                    break;
                }
            };
            recorder.write(found)?;
            summary.pages += 1;
            summary.records += found.len() as u64;
            let next = match next_request(&strat, &url, &links, &page.body, found.len()) {
                Ok(Next::Done(reason)) => Err(Stopped::Done(reason)),
                Ok(Next::Fetch(next)) => match guard.check(&next, found) {
                    Ok(()) => Ok(next),
                    Err(e) => {
                        fail(&mut summary, e.kind(), &next, e.to_string());
                        Err(Stopped::Error)
                    }
                },
                Err(e) => {
                    fail(&mut summary, e.kind(), &url, e.to_string());
                    Err(Stopped::Error)
                }
            };
            // The rest side by side, when the first page of this run (of
            // the pull, or of a resumed pull) tells how much there is.
            let plan = match (&next, summary.pages == run_starts_at + 1) {
                (Ok(_), true) if settings.concurrency > 1 => {
                    remaining_pages(&strat, &url, &page.body).ok().flatten()
                }
                _ => None,
            };
            recorder.checkpoint(
                Some(&strat),
                next.as_ref().ok(),
                summary.pages,
                summary.records,
            )?;
            let next = match next {
                Ok(next) => next,
                Err(reason) => {
                    summary.stopped = reason;
                    break;
                }
            };
            if settings.max_pages.is_some_and(|max| summary.pages >= max) {
                summary.stopped = Stopped::MaxPages;
                break;
            }
            if stop.is_cancelled() {
                summary.stopped = Stopped::Interrupted;
                break;
            }
            if let Some(rest) = plan {
                let first_bytes = page.bytes;
                drop(page);
                parallel::pages(
                    &puller,
                    rest,
                    first_bytes,
                    &settings,
                    &strat,
                    &mut recorder,
                    &mut summary,
                )
                .await?;
                break;
            }
            url = next;
        }
    }
    let complete = summary.error.is_none() && summary.stopped != Stopped::Interrupted;
    recorder.finish(complete)?;
    summary.duration_s = started.elapsed().as_secs_f64();
    if let Output::File(path) = &settings.output {
        let target = summary_path(path);
        part_file::write_json(&target, &summary)
            .with_context(|| format!("could not write {}", target.display()))?;
    }
    Ok(summary)
}

pub(super) fn fail(summary: &mut PullSummary, kind: &str, url: &Url, message: String) {
    summary.stopped = Stopped::Error;
    summary.error = Some(PullError {
        kind: kind.to_string(),
        page: summary.pages + 1,
        url: url.to_string(),
        message,
    });
}

/// A page that could not be had: an error, or `None` when interrupted.
pub(super) fn stopped_by(summary: &mut PullSummary, failed: Option<Failed>, url: &Url) {
    match failed {
        Some(f) => {
            summary.retries += u64::from(f.retries);
            fail(summary, &f.kind, url, f.message);
        }
        None => summary.stopped = Stopped::Interrupted,
    }
}

/// `issues.jsonl` → `issues.summary.json`, beside the records.
pub fn summary_path(output: &std::path::Path) -> PathBuf {
    super::state::beside(output, "summary")
}
