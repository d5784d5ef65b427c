//! The document `collector fetch` prints: what one visit gave, shaped for a
//! person developing extraction rules. Pure: built from a [`Visit`].

use std::collections::HashSet;
use std::sync::Arc;

use reqwest::header::HeaderMap;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::crawl::visit::Visit;
use crate::record::{PageError, PageRecord, SkipReason};

/// What a crawl would make of one page. Field order is the printed order.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The URL asked for, in canonical form (as a crawl queues it).
    pub url: String,
    /// The URL of the last response, after the redirects followed.
    pub final_url: String,
    /// The last response's status; `null` when none was received.
    pub status: Option<u16>,
    pub redirects: Vec<RedirectHop>,
    /// The last response's headers: lower-case name → every value, in the
    /// order received; `null` when no response was received.
    pub headers: Option<Map<String, Value>>,
    pub robots: RobotsVerdict,
    pub content_type: Option<String>,
    /// The encoding an HTML page was decoded with; `null` for other bodies.
    pub charset: Option<&'static str>,
    /// Body size after decompression.
    pub bytes: u64,
    pub elapsed_ms: u64,
    pub retries: u32,
    pub title: Option<String>,
    /// The rule set that applied to the page, if any.
    pub rule: Option<Arc<str>>,
    /// That rule set's fields, by name, in config order.
    pub data: Option<Map<String, Value>>,
    /// Required fields of the rule set that got no value.
    pub incomplete: Vec<String>,
    /// The links a crawl would queue: absolute, canonical, in scope, picked
    /// by the rule set's `follow` selectors, first appearance first.
    pub links: Vec<String>,
    /// Links found on the page and left out, counted by reason.
    pub skipped_links: SkippedLinks,
    /// The out-of-scope links, canonical, first appearance first.
    pub out_of_scope_links: Vec<String>,
    /// Why the page could not be fetched or used, as in a crawl record.
    pub error: Option<PageError>,
}

/// A redirect followed on the way to the final URL.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct RedirectHop {
    pub url: String,
    pub status: u16,
}

/// The robots.txt verdict for the URL asked for.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct RobotsVerdict {
    /// False with `--ignore-robots`: robots.txt was not read.
    pub checked: bool,
    /// `null` when not checked.
    pub allowed: Option<bool>,
}

/// Links on the page a crawl would not follow, by reason. Each occurrence
/// counts, as in a crawl's summary.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct SkippedLinks {
    pub out_of_scope: u64,
    /// `rel=nofollow`, or a `<meta name=robots>` saying nofollow.
    pub nofollow: u64,
    /// Not inside an element the rule set's `follow` selectors pick.
    pub not_selected: u64,
    /// Not http or https (`mailto:`, `javascript:`, ...).
    pub scheme: u64,
}

impl Report {
    /// The report of a visit whose record is `record` (taken out of it).
    pub fn new(record: PageRecord, robots: RobotsVerdict, visit: &Visit) -> Report {
        let mut skipped = SkippedLinks {
            nofollow: visit.nofollow,
            not_selected: visit.not_selected,
            scheme: visit.other_scheme,
            ..SkippedLinks::default()
        };
        let mut out_of_scope = Vec::new();
        for (link, reason) in &visit.skipped {
            match reason {
                SkipReason::Scheme => skipped.scheme += 1,
                _ => {
                    skipped.out_of_scope += 1;
                    out_of_scope.push(link.as_str());
                }
            }
        }
        let out_of_scope_links = first_appearances(out_of_scope);
        let links = first_appearances(visit.links.iter().map(|c| c.url.as_str()));
        let redirects = visit
            .redirects
            .iter()
            .map(|r| RedirectHop {
                url: r.url.to_string(),
                status: r.status,
            })
            .collect();
        let headers = visit.headers.as_ref().map(header_map);
        Report {
            url: record.url,
            final_url: record.final_url,
            status: record.status,
            redirects,
            headers,
            robots,
            content_type: record.content_type,
            charset: visit.charset,
            bytes: record.bytes,
            elapsed_ms: record.elapsed_ms,
            retries: record.retries,
            title: record.title,
            rule: record.rule,
            data: record.data,
            incomplete: record.incomplete.unwrap_or_default(),
            links,
            skipped_links: skipped,
            out_of_scope_links,
            error: record.error,
        }
    }

    /// Whether the page could not be fetched or used: the exit status is 1.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }
}

/// Each string once, where it first appeared.
fn first_appearances<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|s| seen.insert(*s))
        .map(str::to_string)
        .collect()
}

/// Header name → array of its values. Values that are not UTF-8 are shown
/// with U+FFFD in place of the bad bytes.
fn header_map(headers: &HeaderMap) -> Map<String, Value> {
    headers
        .keys()
        .map(|name| {
            let values = headers
                .get_all(name)
                .iter()
                .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            (name.as_str().to_string(), Value::Array(values))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderValue, SET_COOKIE};
    use url::Url;

    use super::*;
    use crate::crawl::visit::Redirect;
    use crate::frontier::{Candidate, UrlKind};

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    fn record() -> PageRecord {
        PageRecord {
            url: "http://a.test/".into(),
            final_url: "http://a.test/b".into(),
            status: Some(200),
            depth: 0,
            referrer: None,
            content_type: Some("text/html".into()),
            bytes: 10,
            elapsed_ms: 1,
            fetched_at: String::new(),
            title: Some("T".into()),
            links: 3,
            retries: 0,
            redirects: 1,
            error: None,
            rule: None,
            data: None,
            incomplete: None,
            not_modified: false,
            gone: false,
        }
    }

    #[test]
    fn links_once_each_skips_counted_headers_kept_whole() {
        let page = |s: &str| Candidate {
            url: url(s),
            kind: UrlKind::Page,
            depth: 1,
            referrer: None,
        };
        let mut headers = HeaderMap::new();
        headers.append(SET_COOKIE, HeaderValue::from_static("a=1"));
        headers.append(SET_COOKIE, HeaderValue::from_static("b=2"));
        headers.append(
            "x-raw",
            HeaderValue::from_bytes(b"caf\xe9").expect("opaque bytes are a valid value"),
        );
        let visit = Visit {
            links: vec![
                page("http://a.test/2"),
                page("http://a.test/1"),
                page("http://a.test/2"),
            ],
            skipped: vec![
                (url("http://b.test/"), SkipReason::OutOfScope),
                (url("http://b.test/"), SkipReason::OutOfScope),
                (url("ftp://a.test/"), SkipReason::Scheme),
            ],
            nofollow: 2,
            other_scheme: 1,
            not_selected: 4,
            redirects: vec![Redirect {
                url: url("http://a.test/"),
                status: 301,
            }],
            headers: Some(headers),
            charset: Some("UTF-8"),
            ..Visit::default()
        };
        let robots = RobotsVerdict {
            checked: true,
            allowed: Some(true),
        };
        let report = Report::new(record(), robots, &visit);
        assert_eq!(report.links, ["http://a.test/2", "http://a.test/1"]);
        assert_eq!(report.out_of_scope_links, ["http://b.test/"]);
        assert_eq!(
            report.skipped_links,
            SkippedLinks {
                out_of_scope: 2,
                nofollow: 2,
                not_selected: 4,
                scheme: 2,
            }
        );
        assert_eq!(
            report.redirects,
            [RedirectHop {
                url: "http://a.test/".into(),
                status: 301
            }]
        );
        assert_eq!(
            Value::Object(report.headers.clone().expect("headers")),
            serde_json::json!({"set-cookie": ["a=1", "b=2"], "x-raw": ["caf\u{fffd}"]})
        );
        assert!(report.incomplete.is_empty());
        assert!(!report.failed());
    }
}
