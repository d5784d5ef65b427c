//! A worker of a shared crawl (`--frontier redis://... --job NAME`): joins
//! the job's frontier in Redis, where every worker of the job leases,
//! fetches and acknowledges with its records. The first worker's scope is
//! the job's; a later worker must crawl the same scope, and one that comes
//! without seeds takes the job's allowed domains.

use std::sync::Arc;

use crate::crawl::settings::CrawlSettings;
use crate::crawl::state::{Refused, scope_identity};
use crate::frontier::{RedisFrontier, SharedJob};

/// Connects to the job's Redis and joins the job, adjusting `settings`'
/// scope to the job's when this worker brought no seeds.
pub async fn join(
    settings: &mut CrawlSettings,
    job: &SharedJob,
) -> anyhow::Result<Arc<RedisFrontier>> {
    let frontier = RedisFrontier::connect(
        job,
        settings.limits,
        settings.limiter.per_host,
        settings.limiter.rate,
    )
    .await
    .map_err(Refused)?;
    let shown = crate::frontier::redis::shown(&job.url);
    if settings.scope.domains.is_empty() {
        let Some(known) = frontier.job_identity().await? else {
            return Err(Refused(format!(
                "job {} on {shown} has not begun: the first worker needs SEEDS",
                job.job
            ))
            .into());
        };
        settings.scope.domains = known
            .lines()
            .filter_map(|l| l.strip_prefix("domain "))
            .map(str::to_string)
            .collect();
    }
    let mine = scope_identity(settings);
    let known = frontier.join(&mine).await?;
    if known != mine {
        return Err(Refused(format!(
            "job {} on {shown} crawls another scope than this worker would:\n  the job's:   \
             {}\n  this worker: {}\ngive the same scope settings (allowed domains, \
             include/exclude, max depth, robots, nofollow), or another --job",
            job.job,
            known.replace('\n', "; "),
            mine.replace('\n', "; ")
        ))
        .into());
    }
    Ok(frontier)
}
