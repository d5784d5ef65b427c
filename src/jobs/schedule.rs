//! `collector schedule`: stays in the foreground and starts each job at
//! its cron times (UTC), never two runs of one job at once (a start that
//! falls while the job still runs is skipped, and logged as skipped). On
//! the stop token (SIGTERM, Ctrl-C) it starts nothing more, lets the
//! running jobs stop cleanly (their state saved for the next start), and
//! returns.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use tokio_util::sync::CancellationToken;

use super::file::{Job, JobsFile};
use super::metrics::JobStats;
use super::run;

/// Runs the schedule until `stop`; `run_now` starts every job at once too.
/// Runs and skipped starts are counted in `stats` (`--metrics`).
pub async fn schedule(
    file: &JobsFile,
    output_root: &Path,
    run_now: bool,
    stats: &JobStats,
    stop: CancellationToken,
) {
    let mut next: BTreeMap<&str, DateTime<Utc>> = BTreeMap::new();
    let now = Utc::now();
    for job in &file.jobs {
        match job.schedule.as_ref().and_then(|s| s.next_after(now)) {
            Some(at) => {
                next.insert(&job.name, at);
            }
            None if job.schedule.is_some() => {
                tracing::warn!(
                    job = job.name,
                    "job {}: its schedule never comes again",
                    job.name
                );
            }
            None => tracing::info!(
                job = job.name,
                "job {}: no schedule{}",
                job.name,
                if run_now {
                    "; runs once now"
                } else {
                    ": not started (run it with collector run)"
                }
            ),
        }
    }
    tracing::info!(
        "scheduling {} jobs from {} (times in UTC)",
        file.jobs.len(),
        file.path.display()
    );
    let mut running = FuturesUnordered::new();
    let mut busy: BTreeSet<String> = BTreeSet::new();
    // `Job`s live as long as `file`; the futures are polled only here.
    let jobs: Vec<&Job> = file.jobs.iter().collect();
    if run_now {
        for job in &jobs {
            busy.insert(job.name.clone());
            running.push(start_job(job, output_root, stats, &stop));
        }
    }
    loop {
        let wake = next.values().min().copied();
        let sleep = async {
            match wake {
                Some(at) => {
                    let wait = (at - Utc::now()).to_std().unwrap_or_default();
                    tokio::time::sleep(wait).await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = stop.cancelled() => break,
            Some((name, report)) = running.next(), if !running.is_empty() => {
                busy.remove(&name);
                tracing::debug!(job = name, "job {name} finished ({:?})", report.outcome);
            }
            () = sleep => {
                let now = Utc::now();
                for job in &jobs {
                    let Some(at) = next.get(job.name.as_str()).copied() else { continue };
                    if at > now {
                        continue;
                    }
                    if busy.contains(&job.name) {
                        stats.skipped(&job.name);
                        tracing::info!(
                            job = job.name,
                            "job {} skipped: the start at {} fell while it was still running",
                            job.name,
                            at.format("%H:%M:%S")
                        );
                    } else {
                        busy.insert(job.name.clone());
                        running.push(start_job(job, output_root, stats, &stop));
                    }
                    // Missed starts (a late wake-up) are not made up for.
                    match job.schedule.as_ref().and_then(|s| s.next_after(now.max(at))) {
                        Some(then) => { next.insert(&job.name, then); }
                        None => { next.remove(job.name.as_str()); }
                    }
                }
            }
        }
    }
    if !running.is_empty() {
        tracing::info!(
            "stopping: waiting for {} running job(s) to stop cleanly",
            running.len()
        );
    }
    while let Some((name, report)) = running.next().await {
        tracing::debug!(job = name, "job {name} stopped ({:?})", report.outcome);
    }
    tracing::info!("scheduler stopped");
}

fn start_job<'a>(
    job: &'a Job,
    output_root: &'a Path,
    stats: &'a JobStats,
    stop: &CancellationToken,
) -> impl std::future::Future<Output = (String, run::JobReport)> + 'a {
    let stop = stop.clone();
    async move {
        stats.started(&job.name);
        let clock = std::time::Instant::now();
        let report = run::run(job, output_root, stop).await;
        stats.ended(&job.name, report.outcome, Utc::now(), clock.elapsed());
        (job.name.clone(), report)
    }
}
