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

use super::options::FetchArgs;
use crate::outcome::Outcome;

/// `collector fetch URL`: the report on standard output, pretty-printed;
/// failed when it has an error (robots.txt denial included), done whatever
/// the status of a response received (a 404 page is a page).
pub async fn command(args: &FetchArgs, stop: CancellationToken) -> Outcome {
    let (url, settings) = match super::settings::resolve_fetch(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("collector: {e:#}");
            return Outcome::BadInput;
        }
    };
    let report = match run(url, &settings, stop).await {
        Ok(Some(report)) => report,
        Ok(None) => return Outcome::Interrupted,
        Err(e) => {
            eprintln!("collector: {e:#}");
            return Outcome::Failed;
        }
    };
    let printed = serde_json::to_string_pretty(&report)
        .map_err(std::io::Error::from)
        .and_then(|json| {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{json}").and_then(|()| out.flush())
        });
    if let Err(e) = printed {
        eprintln!("collector: could not print the report: {e}");
        return Outcome::Failed;
    }
    if report.failed() {
        Outcome::Failed
    } else {
        Outcome::Done
    }
}

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
        let mut visit = visitor.visit(&url, 0, None, None).await;
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
