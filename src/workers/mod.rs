//! The commands over a crawl that several workers share through Redis
//! (`collector crawl --frontier URL --job NAME` on each worker):
//! `collector status` shows how the job stands, `collector export` writes
//! its merged output, every acknowledged page exactly once.

mod export;

use std::path::PathBuf;

use clap::Args;

use crate::frontier::redis::inspect::{JobStatus, JobView};
use crate::outcome::Outcome;

pub use export::export_command;

/// Which shared job: its Redis and its name.
#[derive(Debug, Args)]
pub struct JobArgs {
    /// The Redis (or Valkey) server the job's workers share: `redis://[:PASSWORD@]HOST:PORT/DB`
    #[arg(
        long,
        value_name = "URL",
        env = "COLLECTOR_FRONTIER",
        hide_env_values = true
    )]
    pub frontier: String,
    /// The shared job's name, as its workers' --job
    #[arg(long, value_name = "NAME")]
    pub job: String,
}

/// `collector status --frontier URL --job NAME [--json]`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub job: JobArgs,
    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

/// `collector export --frontier URL --job NAME --out DIR`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub job: JobArgs,
    /// Output directory (its files are written as .part and renamed when complete)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Output formats, comma-separated: jsonl, json, csv [default: jsonl]
    #[arg(long, value_name = "FORMATS")]
    pub format: Option<String>,
    /// Keep exporting while the job runs, and end when it is finished
    #[arg(long)]
    pub follow: bool,
    /// No summary on standard error
    #[arg(short, long)]
    pub quiet: bool,
}

pub async fn status_command(args: &StatusArgs) -> Outcome {
    let view = match JobView::open(&args.job.frontier, &args.job.job).await {
        Ok(v) => v,
        Err(e) => {
            eprintln!("collector: {e}");
            return Outcome::BadInput;
        }
    };
    let status = match view.status().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("collector: {e}");
            return Outcome::Failed;
        }
    };
    let text = if args.json {
        serde_json::to_string_pretty(&status).map(|mut s| {
            s.push('\n');
            s
        })
    } else {
        Ok(status_text(&status))
    };
    match text {
        Ok(t) => {
            print!("{t}");
            if status.begun {
                Outcome::Done
            } else {
                eprintln!(
                    "collector: job {} on {} has not begun (no worker queued seeds)",
                    status.job, status.redis
                );
                Outcome::BadInput
            }
        }
        Err(e) => {
            eprintln!("collector: {e}");
            Outcome::Failed
        }
    }
}

fn status_text(s: &JobStatus) -> String {
    use std::fmt::Write as _;
    let state = match (s.begun, s.finished) {
        (false, _) => "not begun",
        (true, true) => "finished",
        (true, false) => "running",
    };
    let mut t = String::new();
    let _ = writeln!(t, "job {} on {}: {state}", s.job, s.redis);
    let _ = writeln!(
        t,
        "queued {}, leased {}, done {} ({} failed), seen {}, reclaimed {}",
        s.queued, s.leased, s.done, s.failed, s.seen, s.reclaimed
    );
    let _ = writeln!(
        t,
        "seen set: {} bytes in Redis, {:.1} per URL",
        s.seen_bytes, s.seen_bytes_per_url
    );
    if !s.origins.is_empty() {
        let _ = writeln!(t, "origins:");
        for o in &s.origins {
            let _ = writeln!(
                t,
                "  {}  queued {}  in flight {}  done {}  failed {}",
                o.origin, o.queued, o.in_flight, o.done, o.failed
            );
        }
    }
    if !s.workers.is_empty() {
        let _ = writeln!(t, "workers:");
        for w in &s.workers {
            let live = if w.live { "live" } else { "silent" };
            let _ = writeln!(
                t,
                "  {}  last heartbeat {:.1} s ago ({live})",
                w.worker, w.last_seen_s
            );
        }
    }
    t
}
