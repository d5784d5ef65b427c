//! `collector fetch URL`: one page requested and extracted exactly as a
//! crawl with the same settings would (robots.txt, retries, redirects
//! re-checked hop by hop, rule sets, scope), reported instead of crawled.
//! Nothing is written to disk and no link is requested.

mod report;

use std::sync::Arc;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::crawl;
use crate::crawl::settings::CrawlSettings;
use crate::frontier::canonicalize;
use crate::politeness::OriginLimiter;

pub use report::{RedirectHop, Report, RobotsVerdict, SkippedLinks};

/// Visits `url` as a crawl seed and reports what came of it; `None` when
/// `stop` fired first.
pub async fn run(
    mut url: Url,
    settings: &CrawlSettings,
    stop: CancellationToken,
) -> anyhow::Result<Option<Report>> {
    let limiter = Arc::new(OriginLimiter::new(settings.limiter.clone()));
    let visitor = crawl::run::visitor(settings, limiter, stop.clone())?;
    canonicalize(&mut url, settings.query);
    let visiting = async {
        // The verdict is cached: the visit below asks again without a
        // second request for robots.txt, and does not fetch a denied URL.
        let robots = RobotsVerdict {
            checked: settings.respect_robots,
            allowed: if settings.respect_robots {
                Some(visitor.allowed(&url).await)
            } else {
                None
            },
        };
        let mut visit = visitor.visit(&url, 0, None).await;
        // Only a discovered link (one with a referrer) can come back
        // without a record.
        let record = visit
            .record
            .take()
            .context("internal: visiting a seed gave no record")?;
        anyhow::Ok(Report::new(record, robots, &visit))
    };
    tokio::select! {
        report = visiting => report.map(Some),
        () = stop.cancelled() => Ok(None),
    }
}
