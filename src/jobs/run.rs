//! Running one job once: take its lock, pick its run directory (the
//! newest run again when it is incomplete, so an interrupted or killed
//! run resumes; a new one otherwise), run the crawl or the pulls into it
//! with the shared stop token, then mark it complete (`run.json`), point
//! `latest` at it and prune to `keep`. Start and end go to the log.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::file::{self, Job, Kind};
use super::lock::{JobLock, LockError};
use super::runs::{self, RunRecord};
use super::since;
use crate::api::resources;
use crate::crawl::settings::StateDir;
use crate::outcome::Outcome;
use crate::sink::Target;

/// How one run of a job ended.
#[derive(Debug)]
pub struct JobReport {
    pub outcome: Outcome,
    /// The run directory's name, when one was chosen.
    pub run: Option<String>,
}

/// `OUTPUT/JOB`.
pub fn job_dir(output_root: &Path, job: &str) -> PathBuf {
    output_root.join(job)
}

/// What the crawl or the pulls did.
struct Work {
    outcome: Outcome,
    count: u64,
    failed: u64,
    error: Option<String>,
}

/// Runs `job` once into `output_root`; never panics, every failure is in
/// the log and the outcome.
pub async fn run(job: &Job, output_root: &Path, stop: CancellationToken) -> JobReport {
    let name = job.name.as_str();
    let dir = job_dir(output_root, name);
    let _lock = match JobLock::acquire(name, &dir) {
        Ok(lock) => lock,
        Err(e @ LockError::Busy { .. }) => {
            tracing::warn!(job = name, "{e}");
            return JobReport {
                outcome: Outcome::Busy,
                run: None,
            };
        }
        Err(e) => {
            tracing::error!(job = name, "{e}");
            return JobReport {
                outcome: Outcome::Failed,
                run: None,
            };
        }
    };
    let started_at = Utc::now();
    let (run, resumed) = match runs::incomplete(&dir) {
        Some(run) => (run, true),
        None => match runs::create(&dir, started_at) {
            Ok(run) => (run, false),
            Err(e) => {
                tracing::error!(job = name, "job {name}: {e:#}");
                return JobReport {
                    outcome: Outcome::Failed,
                    run: None,
                };
            }
        },
    };
    let run_dir = dir.join(&run);
    tracing::info!(
        job = name,
        run = %run,
        resumed,
        "job {name} started: {} run {run}{} into {}",
        job.kind.label(),
        if resumed { " (resuming an interrupted run)" } else { "" },
        run_dir.display()
    );
    let clock = Instant::now();
    let work = match &job.kind {
        Kind::Crawl(settings) => {
            let recrawl = job.recrawl;
            crawl(settings, &dir, &run_dir, resumed, recrawl, stop).await
        }
        Kind::Api { file, path } => api(file, path, &dir, &run_dir, resumed, stop).await,
    };
    let duration_s = clock.elapsed().as_secs_f64();
    let unit = match job.kind {
        Kind::Crawl(_) => "pages",
        Kind::Api { .. } => "records",
    };
    tracing::info!(
        job = name,
        run = %run,
        outcome = outcome_name(work.outcome),
        duration_s,
        count = work.count,
        "job {name} ended: {}, {} {unit}{} in {duration_s:.1}s (run {run})",
        outcome_name(work.outcome),
        work.count,
        if work.failed > 0 { format!(", {} failed", work.failed) } else { String::new() },
    );
    if let Some(e) = &work.error {
        tracing::error!(job = name, "job {name}: {e}");
    }
    if work.outcome == Outcome::Interrupted {
        tracing::info!(
            job = name,
            "job {name}: run {run} is incomplete; its next start resumes it"
        );
        return JobReport {
            outcome: work.outcome,
            run: Some(run),
        };
    }
    let record = RunRecord {
        job: name.to_string(),
        run: run.clone(),
        kind: job.kind.label().to_string(),
        outcome: outcome_name(work.outcome).to_string(),
        started_at,
        finished_at: Utc::now(),
        duration_s,
        resumed,
        count: work.count,
        unit: unit.to_string(),
        failed: work.failed,
        error: work.error,
    };
    let finished = runs::finish(&dir, &record).and_then(|()| {
        if record.error.is_none() {
            runs::point_latest(&dir, &run)?;
        }
        if let Some(keep) = job.keep {
            for pruned in runs::prune(&dir, keep)? {
                tracing::info!(
                    job = name,
                    "job {name}: removed run {pruned} (keep = {keep})"
                );
            }
        }
        Ok(())
    });
    let outcome = match finished {
        Ok(()) => work.outcome,
        Err(e) => {
            tracing::error!(job = name, "job {name}: {e:#}");
            Outcome::Failed
        }
    };
    JobReport {
        outcome,
        run: Some(run),
    }
}

/// The words the log and `run.json` use for an outcome.
pub fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Done => "done",
        Outcome::Busy => "busy",
        Outcome::Interrupted => "interrupted",
        Outcome::Failed => "failed",
        Outcome::BadInput => "bad input",
    }
}

fn fatal(e: &anyhow::Error) -> Work {
    Work {
        outcome: Outcome::Failed,
        count: 0,
        failed: 0,
        error: Some(format!("{e:#}")),
    }
}

async fn crawl(
    settings: &crate::crawl::settings::CrawlSettings,
    job_dir: &Path,
    run_dir: &Path,
    resumed: bool,
    recrawl: bool,
    stop: CancellationToken,
) -> Work {
    let mut settings = settings.clone();
    settings.output.target = Target::Dir(run_dir.to_path_buf());
    // A recrawl job keeps its state from run to run; any other starts over
    // unless it resumes an interrupted run.
    settings.state = Some(StateDir {
        dir: job_dir.join("state"),
        fresh: !resumed && !recrawl,
        recrawl,
        replace_other: recrawl,
    });
    match crate::crawl::run(settings, stop).await {
        Ok(summary) => Work {
            outcome: summary.outcome(),
            count: summary.pages,
            failed: summary.failed,
            error: None,
        },
        Err(e) => fatal(&e),
    }
}

/// The pulls of an API job; its incremental pulls start where the job's
/// last finished ones ended (`since.rs`).
async fn api(
    file: &crate::api::options::ApiFile,
    path: &Path,
    job_dir: &Path,
    run_dir: &Path,
    resumed: bool,
    stop: CancellationToken,
) -> Work {
    let flags = file::api_flags(run_dir, resumed);
    let (out_dir, mut plans) = match resources::settings(file, path, &flags, &file::env) {
        Ok(p) => p,
        Err(e) => return fatal(&e),
    };
    let marks = match since::load(job_dir) {
        Ok(marks) => marks,
        Err(e) => return fatal(&e),
    };
    let states = since::start(&mut plans, &marks);
    let ran = resources::run(&out_dir, plans, &file::env, stop).await;
    let kept = since::finish(job_dir, &states);
    match ran.and_then(|summary| kept.map(|()| summary)) {
        Ok(summary) => {
            let outcomes: Vec<Outcome> = summary.resources.values().map(|s| s.outcome()).collect();
            Work {
                outcome: outcomes.iter().copied().fold(Outcome::Done, Outcome::worst),
                count: summary.resources.values().map(|s| s.records).sum(),
                failed: outcomes.iter().filter(|o| **o == Outcome::Failed).count() as u64,
                error: None,
            }
        }
        Err(e) => fatal(&e),
    }
}
