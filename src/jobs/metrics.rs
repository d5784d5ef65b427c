//! What `collector schedule --metrics ADDR` says about its jobs: runs by
//! job and outcome, starts skipped because the job was still running,
//! whether a job runs now, and when its last run ended and how long it
//! took. Updated by the scheduler at a run's start and end (never on a
//! request's path), read at scrape time.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::run::outcome_name;
use crate::metrics::{Encoder, Kind};
use crate::outcome::Outcome;

/// Outcomes a run can end with, each a series from the start (at 0).
const OUTCOMES: [Outcome; 5] = [
    Outcome::Done,
    Outcome::Failed,
    Outcome::Interrupted,
    Outcome::Busy,
    Outcome::BadInput,
];

#[derive(Debug, Default)]
struct Job {
    runs: BTreeMap<&'static str, u64>,
    skipped: u64,
    running: bool,
    last_end: Option<DateTime<Utc>>,
    last_duration: Option<Duration>,
}

/// The scheduler's counts, by job name.
#[derive(Debug, Default)]
pub struct JobStats {
    jobs: Mutex<BTreeMap<String, Job>>,
}

impl JobStats {
    /// Counts for `names`, every outcome at 0.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let jobs = names
            .into_iter()
            .map(|name| {
                let runs = OUTCOMES.iter().map(|o| (outcome_name(*o), 0)).collect();
                let job = Job {
                    runs,
                    ..Job::default()
                };
                (name.to_string(), job)
            })
            .collect();
        Self {
            jobs: Mutex::new(jobs),
        }
    }

    fn with(&self, name: &str, f: impl FnOnce(&mut Job)) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        f(jobs.entry(name.to_string()).or_default());
    }

    pub fn started(&self, name: &str) {
        self.with(name, |job| job.running = true);
    }

    pub fn skipped(&self, name: &str) {
        self.with(name, |job| job.skipped += 1);
    }

    /// A run of `name` ended at `at` after `took`.
    pub fn ended(&self, name: &str, outcome: Outcome, at: DateTime<Utc>, took: Duration) {
        self.with(name, |job| {
            job.running = false;
            *job.runs.entry(outcome_name(outcome)).or_default() += 1;
            job.last_end = Some(at);
            job.last_duration = Some(took);
        });
    }

    /// The job families of the metrics.
    pub fn collect(&self, e: &mut Encoder) {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        e.family(
            "collector_job_runs_total",
            "Runs of each job that ended, by outcome",
            Kind::Counter,
        );
        for (name, job) in jobs.iter() {
            for (outcome, n) in &job.runs {
                e.sample(&[("job", name), ("outcome", outcome)], *n as f64);
            }
        }
        e.family(
            "collector_job_skipped_starts_total",
            "Scheduled starts skipped because the job was still running",
            Kind::Counter,
        );
        for (name, job) in jobs.iter() {
            e.sample(&[("job", name)], job.skipped as f64);
        }
        e.family(
            "collector_job_running",
            "1 while a run of the job is under way",
            Kind::Gauge,
        );
        for (name, job) in jobs.iter() {
            e.sample(&[("job", name)], f64::from(u8::from(job.running)));
        }
        e.family(
            "collector_job_last_run_timestamp_seconds",
            "When the job's last run ended (Unix time)",
            Kind::Gauge,
        );
        for (name, job) in jobs.iter() {
            if let Some(at) = job.last_end {
                e.sample(&[("job", name)], at.timestamp_millis() as f64 / 1000.0);
            }
        }
        e.family(
            "collector_job_last_run_duration_seconds",
            "How long the job's last run took",
            Kind::Gauge,
        );
        for (name, job) in jobs.iter() {
            if let Some(took) = job.last_duration {
                e.sample(&[("job", name)], took.as_secs_f64());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_counted_by_job_and_outcome() {
        let stats = JobStats::new(["docs", "issues"]);
        stats.started("docs");
        let mut e = Encoder::default();
        stats.collect(&mut e);
        let text = e.finish();
        assert!(
            text.contains("collector_job_running{job=\"docs\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("collector_job_runs_total{job=\"issues\",outcome=\"done\"} 0"),
            "{text}"
        );
        assert!(
            !text.contains("collector_job_last_run_duration_seconds{"),
            "{text}"
        );
        stats.ended(
            "docs",
            Outcome::Failed,
            Utc::now(),
            Duration::from_millis(1500),
        );
        stats.skipped("docs");
        let mut e = Encoder::default();
        stats.collect(&mut e);
        let text = e.finish();
        assert!(
            text.contains("collector_job_runs_total{job=\"docs\",outcome=\"failed\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("collector_job_running{job=\"docs\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("collector_job_last_run_duration_seconds{job=\"docs\"} 1.5"),
            "{text}"
        );
        assert!(
            text.contains("collector_job_skipped_starts_total{job=\"docs\"} 1"),
            "{text}"
        );
    }
}
