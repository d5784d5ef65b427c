//! The output contract: one [`PageRecord`] per URL attempted, one
//! [`SkipRecord`] per URL found but not fetched, and the run's [`Summary`].
//! Field names and error kinds are stable; `schema/page-record.json`
//! describes a record.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use url::Url;

/// Why a URL produced no usable page. Stable names, written to records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Timeout,
    Connect,
    Tls,
    TooLarge,
    /// Elements nested too deep to build the page's tree: the rule set's
    /// fields were not extracted (links were).
    TooDeep,
    RedirectLoop,
    TooManyRedirects,
    /// A redirect whose `Location` is missing, empty or not a URL.
    BadRedirect,
    /// A redirect led out of scope; the target was not requested.
    RedirectOutOfScope,
    RobotsDenied,
    /// robots.txt answered 5xx or 429: RFC 9309 says to crawl nothing of
    /// that origin, and the pages asked for are failures.
    RobotsUnavailable,
    /// A final 5xx (or 429) after retries.
    HttpStatus,
    Decode,
    /// A scheme other than http/https (seed or redirect target).
    Scheme,
    /// The connection broke while the body was read.
    Body,
    /// Anything else the HTTP stack reported.
    Request,
}

impl ErrorKind {
    /// Every kind, in declaration order (`kind as usize` indexes it).
    pub const ALL: [ErrorKind; 16] = [
        Self::Timeout,
        Self::Connect,
        Self::Tls,
        Self::TooLarge,
        Self::TooDeep,
        Self::RedirectLoop,
        Self::TooManyRedirects,
        Self::BadRedirect,
        Self::RedirectOutOfScope,
        Self::RobotsDenied,
        Self::RobotsUnavailable,
        Self::HttpStatus,
        Self::Decode,
        Self::Scheme,
        Self::Body,
        Self::Request,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::TooLarge => "too_large",
            Self::TooDeep => "too_deep",
            Self::RedirectLoop => "redirect_loop",
            Self::TooManyRedirects => "too_many_redirects",
            Self::BadRedirect => "bad_redirect",
            Self::RedirectOutOfScope => "redirect_out_of_scope",
            Self::RobotsDenied => "robots_denied",
            Self::RobotsUnavailable => "robots_unavailable",
            Self::HttpStatus => "http_status",
            Self::Decode => "decode",
            Self::Scheme => "scheme",
            Self::Body => "body",
            Self::Request => "request",
        }
    }

    /// Whether a record with this error makes the run exit 1. Pages we chose
    /// not to follow (robots, scope, scheme) are not failures.
    pub fn is_failure(self) -> bool {
        !matches!(
            self,
            Self::RobotsDenied | Self::RedirectOutOfScope | Self::Scheme
        )
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PageError {
    pub kind: ErrorKind,
    pub message: String,
}

/// Read back by `collector export` from a shared crawl's stream.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PageRecord {
    pub url: String,
    pub final_url: String,
    pub status: Option<u16>,
    pub depth: u32,
    pub referrer: Option<Arc<str>>,
    pub content_type: Option<String>,
    pub bytes: u64,
    pub elapsed_ms: u64,
    pub fetched_at: String,
    pub title: Option<String>,
    /// In-scope links found on the page (before dedup against the frontier).
    pub links: u32,
    pub retries: u32,
    pub redirects: u32,
    pub error: Option<PageError>,
    /// The extraction rule set that applied to the page, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<Arc<str>>,
    /// The fields that rule set extracted, by name, in config order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Map<String, serde_json::Value>>,
    /// Required fields that did not match (the record is kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<Vec<String>>,
    /// A recrawl's conditional request was answered 304: the page is as
    /// the last run saw it, and its links are the ones stored then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_modified: bool,
    /// A recrawl found a page that had content before answering 404 or 410.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gone: bool,
}

impl PageRecord {
    /// The record of a visit of `url` starting now: nothing fetched yet.
    pub fn start(url: &Url, depth: u32, referrer: Option<Arc<str>>) -> Self {
        Self {
            url: url.to_string(),
            final_url: url.to_string(),
            status: None,
            depth,
            referrer,
            content_type: None,
            bytes: 0,
            elapsed_ms: 0,
            fetched_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            title: None,
            links: 0,
            retries: 0,
            redirects: 0,
            error: None,
            rule: None,
            data: None,
            incomplete: None,
            not_modified: false,
            gone: false,
        }
    }
}

/// Why a found URL was not fetched. Stable names, written to the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    OutOfScope,
    RobotsDenied,
    MaxDepth,
    MaxPages,
    Duplicate,
    Nofollow,
    Scheme,
    /// Not picked by the page's rule set `follow` selectors.
    NotSelected,
}

impl SkipReason {
    pub const ALL: [SkipReason; 8] = [
        Self::OutOfScope,
        Self::RobotsDenied,
        Self::MaxDepth,
        Self::MaxPages,
        Self::Duplicate,
        Self::Nofollow,
        Self::Scheme,
        Self::NotSelected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OutOfScope => "out_of_scope",
            Self::RobotsDenied => "robots_denied",
            Self::MaxDepth => "max_depth",
            Self::MaxPages => "max_pages",
            Self::Duplicate => "duplicate",
            Self::Nofollow => "nofollow",
            Self::Scheme => "scheme",
            Self::NotSelected => "not_selected",
        }
    }
}

/// Counts of skipped URLs by reason, for one page or a whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SkipTally([u64; SkipReason::ALL.len()]);

impl SkipTally {
    pub fn add(&mut self, reason: SkipReason, n: u64) {
        if let Some(i) = SkipReason::ALL.iter().position(|r| *r == reason) {
            self.0[i] += n;
        }
    }

    pub fn merge(&mut self, other: &SkipTally) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    /// The counts as `summary.json` has them: every reason, by name.
    pub fn to_map(&self) -> BTreeMap<String, u64> {
        SkipReason::ALL
            .iter()
            .zip(self.0)
            .map(|(r, n)| (r.as_str().to_string(), n))
            .collect()
    }

    /// Back from [`SkipTally::to_map`]; unknown names are ignored.
    pub fn from_map(map: &BTreeMap<String, u64>) -> Self {
        let mut tally = Self::default();
        for reason in SkipReason::ALL {
            tally.add(reason, map.get(reason.as_str()).copied().unwrap_or(0));
        }
        tally
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct SkipRecord {
    pub url: String,
    pub reason: SkipReason,
    pub referrer: Option<Arc<str>>,
}

/// `summary.json`: what the run did, for people and for scripts. A
/// resumable crawl also keeps it with each checkpoint, to count on from.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Summary {
    pub started_at: String,
    pub finished_at: String,
    pub duration_s: f64,
    /// Records written (URLs attempted).
    pub pages: u64,
    /// Records with a failure (see `ErrorKind::is_failure`).
    pub failed: u64,
    pub bytes: u64,
    pub pages_per_s: f64,
    pub hosts: u64,
    pub by_status: BTreeMap<String, u64>,
    pub by_error: BTreeMap<String, u64>,
    pub skipped: BTreeMap<String, u64>,
    pub retries: u64,
    pub interrupted: bool,
    /// False when `--insecure` turned certificate checks off.
    pub tls_verified: bool,
    /// Records per extraction rule set that applied.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by_rule: BTreeMap<String, u64>,
    /// Records missing a required field.
    pub incomplete: u64,
    /// Pages a recrawl found unchanged (HTTP 304).
    #[serde(default)]
    pub not_modified: u64,
    /// Pages a recrawl found gone (404 or 410 after content before).
    #[serde(default)]
    pub gone: u64,
}

impl Summary {
    /// Interrupted outweighs failures: the run did not reach its end.
    pub fn outcome(&self) -> crate::outcome::Outcome {
        use crate::outcome::Outcome;
        if self.interrupted {
            Outcome::Interrupted
        } else if self.failed > 0 {
            Outcome::Failed
        } else {
            Outcome::Done
        }
    }
}

impl Summary {
    /// Folds one written record into the counts.
    pub fn count(&mut self, r: &PageRecord) {
        self.pages += 1;
        self.bytes += r.bytes;
        self.retries += u64::from(r.retries);
        let status = r
            .status
            .map_or_else(|| "none".to_string(), |s| s.to_string());
        *self.by_status.entry(status).or_default() += 1;
        if let Some(rule) = &r.rule {
            *self.by_rule.entry(rule.to_string()).or_default() += 1;
        }
        if r.incomplete.is_some() {
            self.incomplete += 1;
        }
        self.not_modified += u64::from(r.not_modified);
        self.gone += u64::from(r.gone);
        if let Some(e) = &r.error {
            *self
                .by_error
                .entry(e.kind.as_str().to_string())
                .or_default() += 1;
            if e.kind.is_failure() {
                self.failed += 1;
            }
        }
    }
}
