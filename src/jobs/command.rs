//! `collector run`, `collector schedule` and `collector jobs`: their flags,
//! and each command from its flags to one [`Outcome`]. The jobs file is
//! read and validated whole before anything runs (exit 2 naming
//! `FILE: job.NAME.key`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;

use super::file::{self, JobsFile};
use super::metrics::JobStats;
use super::{list, run, schedule};
use crate::config::Origins;
use crate::metrics::{self, MetricsSettings};
use crate::outcome::Outcome;

/// Where runs go by default: `output/JOB/RUN-ID/`.
const DEFAULT_OUTPUT_ROOT: &str = "output";

/// `collector run FILE [--job NAME]... [--parallel N] [--output-root DIR]`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The jobs file ([job.NAME] tables)
    pub file: PathBuf,
    /// Run only this job (repeatable) [default: every job of the file]
    #[arg(long = "job", value_name = "NAME")]
    pub jobs: Vec<String>,
    /// Jobs run at once [default: 1, one after another]
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: u16,
    #[command(flatten)]
    pub root: RootFlag,
}

/// `collector schedule FILE [--run-now] [--output-root DIR]`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// The jobs file ([job.NAME] tables with a schedule)
    pub file: PathBuf,
    /// Also run every job once at start
    #[arg(long)]
    pub run_now: bool,
    /// Serve Prometheus metrics on http://ADDR/metrics while scheduling: runs by job
    /// and outcome, skipped starts, last run time and duration (e.g. 127.0.0.1:9100)
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
    #[command(flatten)]
    pub root: RootFlag,
}

/// `collector jobs FILE [--output-root DIR]`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The jobs file
    pub file: PathBuf,
    #[command(flatten)]
    pub root: RootFlag,
}

#[derive(Debug, Args)]
pub struct RootFlag {
    /// Where job outputs go: DIR/JOB/RUN-ID/, DIR/JOB/latest [default: output]
    #[arg(long, value_name = "DIR")]
    pub output_root: Option<PathBuf>,
}

impl RootFlag {
    fn dir(&self) -> &Path {
        self.output_root
            .as_deref()
            .unwrap_or(Path::new(DEFAULT_OUTPUT_ROOT))
    }
}

fn load(path: &Path) -> Result<JobsFile, Outcome> {
    file::load(path).map_err(|e| {
        eprintln!("collector: {e:#}");
        Outcome::BadInput
    })
}

/// Runs the chosen jobs once, `--parallel` at a time; the worst outcome.
pub async fn run_command(args: &RunArgs, stop: CancellationToken) -> Outcome {
    let file = match load(&args.file) {
        Ok(f) => f,
        Err(o) => return o,
    };
    let jobs = match file.select(&args.jobs) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("collector: {e:#}");
            return Outcome::BadInput;
        }
    };
    let root = args.root.dir();
    let reports: Vec<(String, run::JobReport)> = futures::stream::iter(jobs)
        .map(|job| {
            let stop = stop.clone();
            async move {
                if stop.is_cancelled() {
                    let report = run::JobReport {
                        outcome: Outcome::Interrupted,
                        run: None,
                    };
                    return (job.name.clone(), report);
                }
                (job.name.clone(), run::run(job, root, stop).await)
            }
        })
        .buffer_unordered(usize::from(args.parallel))
        .collect()
        .await;
    for (name, report) in &reports {
        if report.outcome == Outcome::Busy {
            // The log has the holder; the message users grep for stays on
            // standard error whatever the log settings.
            eprintln!("collector: job {name} is already running; nothing done");
        }
    }
    reports
        .iter()
        .map(|(_, r)| r.outcome)
        .fold(Outcome::Done, Outcome::worst)
}

/// Runs the schedule until SIGTERM or Ctrl-C; 0 then, 2 for a bad file.
pub async fn schedule_command(args: &ScheduleArgs, stop: CancellationToken) -> Outcome {
    let file = match load(&args.file) {
        Ok(f) => f,
        Err(o) => return o,
    };
    let wanted = match MetricsSettings::build(&Origins::default(), args.metrics.as_deref(), None) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("collector: {e:#}");
            return Outcome::BadInput;
        }
    };
    let stats = Arc::new(JobStats::new(file.jobs.iter().map(|j| j.name.as_str())));
    let server = match &wanted {
        Some(wanted) => match metrics::Server::start(wanted).await {
            Ok(server) => {
                let counted = stats.clone();
                server
                    .registry()
                    .register(move |e: &mut metrics::Encoder| counted.collect(e));
                Some(server)
            }
            Err(e) => {
                eprintln!("collector: {e:#}");
                return Outcome::Failed;
            }
        },
        None => None,
    };
    schedule::schedule(&file, args.root.dir(), args.run_now, &stats, stop.clone()).await;
    if let Some(server) = server {
        server.stop(&stop).await;
    }
    Outcome::Done
}

/// Prints the jobs of the file.
pub fn list_command(args: &ListArgs) -> Outcome {
    match load(&args.file) {
        Ok(file) => {
            let text = list::list(&file, args.root.dir(), chrono::Utc::now());
            match std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes()) {
                Ok(()) => Outcome::Done,
                Err(e) => {
                    eprintln!("collector: could not write to standard output: {e}");
                    Outcome::Failed
                }
            }
        }
        Err(o) => o,
    }
}
