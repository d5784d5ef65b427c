//! What a person watching the run sees on standard error: a live line on a
//! terminal (indicatif), a plain status line every few seconds otherwise,
//! and a short summary at the end.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::crawl::options::ProgressMode;
use crate::record::Summary;

/// Live counters, bumped by the crawl as records are produced.
#[derive(Debug, Default)]
pub struct Counters {
    pub pages: AtomicU64,
    pub failed: AtomicU64,
    pub bytes: AtomicU64,
}

/// A source of "queued" and "in flight" numbers (the frontier).
pub type QueueProbe = Arc<dyn Fn() -> (u64, u64) + Send + Sync>;

const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// Starts the display; it runs until `done` is cancelled.
pub fn start(
    mode: ProgressMode,
    quiet: bool,
    counters: Arc<Counters>,
    queue: QueueProbe,
    done: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let live = !quiet
        && match mode {
            ProgressMode::Always => true,
            ProgressMode::Auto => std::io::stderr().is_terminal(),
            ProgressMode::Never => false,
        };
    let plain = !quiet && !live && mode == ProgressMode::Auto;
    tokio::spawn(async move {
        let started = Instant::now();
        let bar = live.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(4));
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        });
        let tick = if live {
            Duration::from_millis(250)
        } else {
            PLAIN_EVERY
        };
        let mut interval = tokio::time::interval(tick);
        interval.tick().await;
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                () = done.cancelled() => break,
            }
            let line = status_line(&counters, &queue, started.elapsed());
            if let Some(bar) = &bar {
                bar.set_message(line);
                bar.tick();
            } else if plain {
                eprintln!("collector: {line}");
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
    })
}

fn status_line(c: &Counters, queue: &QueueProbe, elapsed: Duration) -> String {
    let pages = c.pages.load(Ordering::Relaxed);
    let (queued, in_flight) = queue();
    let rate = pages as f64 / elapsed.as_secs_f64().max(0.001);
    format!(
        "fetched {pages}, queued {queued}, in flight {in_flight}, errors {}, {:.0} pages/s, {:.1} MiB",
        c.failed.load(Ordering::Relaxed),
        rate,
        c.bytes.load(Ordering::Relaxed) as f64 / 1048576.0
    )
}

/// The closing summary for people.
pub fn print_summary(s: &Summary, out: &dyn std::fmt::Display) {
    let statuses: Vec<String> = s
        .by_status
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    eprintln!(
        "{} pages in {:.1}s ({:.0} pages/s), {:.1} MiB from {} hosts; {} failed{}",
        s.pages,
        s.duration_s,
        s.pages_per_s,
        s.bytes as f64 / 1048576.0,
        s.hosts,
        s.failed,
        if s.interrupted { "; interrupted" } else { "" }
    );
    if !statuses.is_empty() {
        eprintln!("  status  {}", statuses.join(", "));
    }
    if !s.by_error.is_empty() {
        let errors: Vec<String> = s
            .by_error
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        eprintln!("  errors  {}", errors.join(", "));
    }
    let skipped: Vec<String> = s
        .skipped
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    if !skipped.is_empty() {
        eprintln!("  not fetched  {}", skipped.join(", "));
    }
    if !s.by_rule.is_empty() {
        let rules: Vec<String> = s.by_rule.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        eprintln!(
            "  rule sets  {}; {} incomplete",
            rules.join(", "),
            s.incomplete
        );
    }
    eprintln!("  output  {out}");
}
