//! Visiting a sitemap: stream it, hand the URLs it lists to the frontier in
//! batches (pages at the sitemap's depth, child sitemaps of an index as
//! sitemaps), and record the visit like any other URL.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures::TryStreamExt as _;
use reqwest::header::CONTENT_TYPE;
use tokio::sync::mpsc;
use tokio_util::io::{ReaderStream, StreamReader};
use url::Url;

use super::{Visit, Visitor};
use crate::extract::sitemap::{Entry, SitemapReader};
use crate::fetch::hops::Unread;
use crate::frontier::{Candidate, UrlKind, canonicalize};
use crate::record::{ErrorKind, PageRecord};

/// URLs handed to the frontier at a time while a sitemap streams in.
const BATCH: usize = 500;

impl Visitor {
    /// Streams the sitemap at `url`, sending the URLs it lists to `urls` in
    /// batches. The returned visit has the record and the entries that were
    /// out of scope; its `links` stay empty.
    pub async fn visit_sitemap(
        &self,
        url: &Url,
        depth: u32,
        referrer: Option<Arc<str>>,
        urls: mpsc::Sender<Vec<Candidate>>,
    ) -> Visit {
        let started = Instant::now();
        let mut record = PageRecord::start(url, depth, referrer);
        let mut visit = Visit::default();
        if !self.allowed(url).await {
            record.error = self.robots_failure(url).or_else(|| {
                super::error(ErrorKind::RobotsDenied, "robots.txt disallows this sitemap")
            });
            visit.record = Some(record);
            return visit;
        }
        visit.requested = true;
        let mut fetched = self
            .fetcher
            .fetch(url.clone(), &self.hops(true), &Unread, true, &self.stop)
            .await;
        super::took(&mut record, &mut visit, &mut fetched);
        if let Some(resp) = fetched.response {
            record.content_type = resp.header(CONTENT_TYPE).map(str::to_string);
            if record.error.is_none() && (200..300).contains(&resp.status) {
                let bytes = Arc::new(AtomicU64::new(0));
                let counted = bytes.clone();
                let found = match crate::fetch::body::decoded(resp.body).await {
                    Ok(decoded) => {
                        let body = ReaderStream::new(decoded).inspect_ok(move |chunk| {
                            counted.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                        });
                        let final_url = fetched.url.clone();
                        self.stream_entries(
                            StreamReader::new(body),
                            &final_url,
                            depth,
                            &mut visit,
                            &urls,
                        )
                        .await
                    }
                    Err(e) => (0, Some(e.to_string())),
                };
                record.bytes = bytes.load(Ordering::Relaxed);
                record.links = u32::try_from(found.0).unwrap_or(u32::MAX);
                record.error = found.1.map(|message| crate::record::PageError {
                    kind: ErrorKind::Decode,
                    message,
                });
            }
        }
        record.elapsed_ms = started.elapsed().as_millis() as u64;
        visit.record = Some(record);
        visit
    }

    /// Reads entries until the end or a parse error; returns how many URLs
    /// were handed on and the error message, if any.
    async fn stream_entries(
        &self,
        body: impl tokio::io::AsyncRead + Send + 'static,
        sitemap: &Url,
        depth: u32,
        visit: &mut Visit,
        urls: &mpsc::Sender<Vec<Candidate>>,
    ) -> (usize, Option<String>) {
        let referrer: Arc<str> = sitemap.as_str().into();
        visit.found_on = Some(referrer.clone());
        let mut reader = match SitemapReader::open(body).await {
            Ok(r) => r,
            Err(e) => return (0, Some(e.to_string())),
        };
        let mut batch = Vec::with_capacity(BATCH);
        let mut handed_on = 0;
        let problem = loop {
            let entry = match reader.next().await {
                Ok(Some(entry)) => entry,
                Ok(None) => break None,
                Err(e) => break Some(e.to_string()),
            };
            let (loc, kind) = match entry {
                Entry::Page(loc) => (loc, UrlKind::Page),
                Entry::Sitemap(loc) => (loc, UrlKind::Sitemap),
            };
            // Sitemap locations are absolute; a relative one is resolved
            // against the sitemap rather than dropped.
            let Ok(mut url) = sitemap.join(&loc) else {
                continue;
            };
            canonicalize(&mut url, self.query);
            let verdict = match kind {
                UrlKind::Page => self.scope.check(&url),
                // An index may point at sitemaps on a storage host; only the
                // pages they list must be in scope.
                UrlKind::Sitemap => Ok(()),
            };
            if let Err(reason) = verdict {
                visit.skipped.push((url, reason));
                continue;
            }
            batch.push(Candidate {
                url,
                kind,
                depth,
                referrer: Some(referrer.clone()),
            });
            if batch.len() >= BATCH {
                handed_on += batch.len();
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if urls.send(full).await.is_err() {
                    // Nobody takes URLs any more: the crawl is stopping.
                    return (handed_on, None);
                }
            }
        };
        handed_on += batch.len();
        if !batch.is_empty() && urls.send(batch).await.is_err() {
            return (handed_on, None);
        }
        let (kept, count) = reader.problems();
        let problem = match (problem, kept.first()) {
            (None, Some(first)) => Some(format!(
                "{count} entries with a bad entity or character reference, kept as written; the first: {first}"
            )),
            (problem, _) => problem,
        };
        (handed_on, problem)
    }
}
