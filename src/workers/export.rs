//! `collector export`: the merged output of a shared crawl. The records
//! are read from the job's stream in commit order; a record is in the
//! stream only if its lease was acknowledged with it (in the same Redis
//! step), so the export holds every done page exactly once, whichever
//! worker wrote it and whichever died.

use std::time::Duration;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::ExportArgs;
use crate::frontier::redis::inspect::JobView;
use crate::outcome::Outcome;
use crate::record::{PageRecord, Summary};
use crate::sink;
use crate::sink::format::{self, Format, Output, Target};

/// Records read from Redis at once.
const BATCH: usize = 1000;
/// How often `--follow` asks for new records while the job runs.
const FOLLOW_POLL: Duration = Duration::from_millis(300);

pub async fn export_command(args: &ExportArgs, stop: CancellationToken) -> Outcome {
    let formats = match formats(args.format.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("collector: {e:#}");
            return Outcome::BadInput;
        }
    };
    let view = match JobView::open(&args.job.frontier, &args.job.job).await {
        Ok(v) => v,
        Err(e) => {
            eprintln!("collector: {e}");
            return Outcome::BadInput;
        }
    };
    match export(args, formats, &view, &stop).await {
        Ok((summary, finished)) => {
            if !args.quiet {
                let state = if finished {
                    "the job is finished"
                } else {
                    "the job is still running"
                };
                eprintln!(
                    "collector: exported {} pages of job {} ({} failed) into {}; {state}",
                    summary.pages,
                    args.job.job,
                    summary.failed,
                    args.out.display()
                );
            }
            if stop.is_cancelled() {
                Outcome::Interrupted
            } else {
                Outcome::Done
            }
        }
        Err(e) => {
            eprintln!("collector: {e:#}");
            Outcome::Failed
        }
    }
}

fn formats(names: Option<&str>) -> anyhow::Result<Vec<Format>> {
    let formats = match names {
        None => vec![Format::Jsonl],
        Some(list) => format::parse_list(&[list]).context("--format")?,
    };
    if formats.contains(&Format::Warc) {
        anyhow::bail!(
            "--format warc: a shared job keeps records, not the raw exchanges a WARC file \
             holds; give jsonl, json or csv (each worker's own --format warc output has them)"
        );
    }
    Ok(formats)
}

/// Writes every record committed so far (with `--follow`, until the job is
/// finished); returns their counts and whether the job was finished.
async fn export(
    args: &ExportArgs,
    formats: Vec<Format>,
    view: &JobView,
    stop: &CancellationToken,
) -> anyhow::Result<(Summary, bool)> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("could not create output directory {}", args.out.display()))?;
    let (mut first, mut after) = view.records_after(None, BATCH).await?;
    let mut output = Output::new(Target::Dir(args.out.clone()), formats);
    output.columns = columns(&first);
    let mut sinks = sink::open(&output, None).context("could not create the output")?;
    let mut summary = Summary::default();
    let mut finished = false;
    loop {
        for bytes in first.drain(..) {
            let record: PageRecord = serde_json::from_slice(&bytes).with_context(|| {
                format!("a record of job {} is not a page record", args.job.job)
            })?;
            for (_, s) in &mut sinks {
                s.write(&record, None)?;
            }
            summary.count(&record);
        }
        let (next, last) = view.records_after(after.as_deref(), BATCH).await?;
        if !next.is_empty() {
            first = next;
            after = last;
            continue;
        }
        if finished || stop.is_cancelled() {
            break;
        }
        // Every record of a finished job is in the stream: one more read
        // after seeing it finished takes the last of them.
        finished = view.status().await?.finished;
        if !args.follow && !finished {
            break;
        }
        if !finished {
            for (_, s) in &mut sinks {
                s.flush()?;
            }
            tokio::select! {
                () = tokio::time::sleep(FOLLOW_POLL) => {}
                () = stop.cancelled() => {}
            }
        }
    }
    for (_, s) in sinks {
        s.finish()?;
    }
    Ok((summary, finished))
}

/// CSV columns: the extracted fields of the first records, in the order
/// they appear.
fn columns(records: &[Vec<u8>]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for bytes in records {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
            continue;
        };
        if let Some(data) = value.get("data").and_then(|d| d.as_object()) {
            for key in data.keys() {
                if !columns.contains(key) {
                    columns.push(key.clone());
                }
            }
        }
    }
    columns
}
