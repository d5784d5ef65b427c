//! Incremental recrawls (`--recrawl` with `--state`). Every commit of a
//! crawl with a state keeps, for each page fetched with content, a memo
//! (`frontier/memo.rs`): its validators and the links it led to. A recrawl
//! queues those pages again and asks for each with `If-None-Match` /
//! `If-Modified-Since`:
//!
//! - 304: the record says `status: 304, not_modified: true`, and the stored
//!   links are followed as if the page had been read again, so the crawl
//!   still reaches pages that are new elsewhere;
//! - 404 or 410: the page is `gone: true`, and its memo is forgotten;
//! - 2xx: the page is read as in any crawl, and its memo replaced;
//! - anything else (a 5xx, a timeout): the memo is kept for the next run.

use std::sync::Arc;

use reqwest::header::{
    ETAG, HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use url::Url;

use crate::crawl::visit::{Visit, Visitor};
use crate::frontier::{Candidate, Memo, PageMemo, UrlKind, canonicalize, fingerprint, memo};

/// Adds the memo's validators to a request's headers. A validator that is
/// not a valid header value (it came from a header, so it should be) is
/// left out: the request is then plain.
pub fn conditional(memo: &Memo, headers: &mut HeaderMap) {
    let mut put = |name, value: &Option<String>| {
        if let Some(v) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(name, v);
        }
    };
    put(IF_NONE_MATCH, &memo.etag);
    put(IF_MODIFIED_SINCE, &memo.last_modified);
}

/// Settles a visit of `url` (leased with `memo`, at `depth`): marks a 304
/// or a page gone in its record, puts the stored links of a 304 into
/// `visit.links`, and returns what the commit keeps of the page (with
/// `keep`: the frontier stores memos).
pub fn settle(
    visitor: &Visitor,
    url: &Url,
    depth: u32,
    memo: Option<&Memo>,
    visit: &mut Visit,
    keep: bool,
) -> Option<PageMemo> {
    let record = visit.record.as_mut()?;
    let answered = record.error.is_none().then_some(record.status).flatten();
    let fp = || fingerprint(url);
    let header = |name| {
        visit
            .headers
            .as_ref()
            .and_then(|h| h.get(name))
            .and_then(|v| v.to_str().ok())
    };
    match (answered, memo) {
        (Some(304), Some(memo)) => {
            record.not_modified = true;
            let found_on: Arc<str> = record.final_url.as_str().into();
            for link in &memo.links {
                let Ok(mut link) = Url::parse(link) else {
                    continue;
                };
                canonicalize(&mut link, visitor.query);
                if let Err(reason) = visitor.scope.check(&link) {
                    visit.skipped.push((link, reason));
                    continue;
                }
                visit.links.push(Candidate {
                    url: link,
                    kind: UrlKind::Page,
                    depth: depth + 1,
                    referrer: Some(found_on.clone()),
                });
            }
            record.links = u32::try_from(visit.links.len()).unwrap_or(u32::MAX);
            visit.found_on = Some(found_on);
            // A 304 may carry fresher validators; the links stay.
            let etag = header(ETAG).or(memo.etag.as_deref());
            let modified = header(LAST_MODIFIED).or(memo.last_modified.as_deref());
            let links = memo.links.iter().map(String::as_str);
            keep.then(|| PageMemo::Keep {
                fp: fp(),
                memo: memo::encode(etag, modified, links),
            })
        }
        (Some(404 | 410), Some(_)) => {
            record.gone = true;
            keep.then(|| PageMemo::Forget { fp: fp() })
        }
        (Some(200..=299), _) if keep => {
            // Validators belong to the URL that answered: after a redirect,
            // the next run asks again in full.
            let direct = record.redirects == 0;
            let etag = header(ETAG).filter(|_| direct);
            let modified = header(LAST_MODIFIED).filter(|_| direct);
            let links = visit.links.iter().map(|c| c.url.as_str());
            Some(PageMemo::Keep {
                fp: fp(),
                memo: memo::encode(etag, modified, links),
            })
        }
        _ => None,
    }
}
