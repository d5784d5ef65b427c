//! What a person watching the run sees on standard error: a live line on a
//! terminal (indicatif), a plain status line (an `info` log event) every
//! few seconds otherwise, and a short summary at the end. With
//! `--log-format json` neither display nor human summary is shown: the
//! summary is a final JSON log event.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::crawl::options::ProgressMode;
use crate::fetch::stats;
use crate::logging;
use crate::metrics::{Encoder, Kind};
use crate::record::{ErrorKind, PageRecord, Summary};

/// Live counters, bumped by the crawl as records are produced; the
/// progress line and the metrics read them.
#[derive(Debug, Default)]
pub struct Counters {
    pub pages: AtomicU64,
    pub failed: AtomicU64,
    pub bytes: AtomicU64,
    /// Records by their final status's class ([`stats::CLASSES`]).
    pub by_class: [AtomicU64; stats::CLASSES.len()],
    /// Records by error kind, as `summary.json`'s `by_error`.
    pub by_error: [AtomicU64; ErrorKind::ALL.len()],
}

impl Counters {
    /// Counts one record written.
    pub fn record(&self, record: &PageRecord) {
        self.pages.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(record.bytes, Ordering::Relaxed);
        self.by_class[stats::class_index(record.status)].fetch_add(1, Ordering::Relaxed);
        if let Some(e) = &record.error {
            self.by_error[e.kind as usize].fetch_add(1, Ordering::Relaxed);
            if e.kind.is_failure() {
                self.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The crawl's families: records by class and error, bytes, the queue.
    pub fn collect(&self, e: &mut Encoder, queue: &QueueProbe, elapsed: Duration) {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        e.family(
            "collector_pages_total",
            "Records written (URLs attempted), by the final status's class",
            Kind::Counter,
        );
        for (class, n) in stats::CLASSES.iter().zip(&self.by_class) {
            e.sample(&[("class", class)], load(n));
        }
        e.family(
            "collector_page_errors_total",
            "Records with an error, by kind (summary.json by_error)",
            Kind::Counter,
        );
        for (kind, n) in ErrorKind::ALL.iter().zip(&self.by_error) {
            e.sample(&[("kind", kind.as_str())], load(n));
        }
        e.single(
            "collector_pages_failed_total",
            "Records counted as failures (the run exits 1)",
            Kind::Counter,
            load(&self.failed),
        );
        e.single(
            "collector_page_bytes_total",
            "Body bytes of the records written (summary.json bytes)",
            Kind::Counter,
            load(&self.bytes),
        );
        let (queued, in_flight) = queue();
        e.single(
            "collector_urls_queued",
            "URLs in the frontier waiting to be fetched",
            Kind::Gauge,
            queued as f64,
        );
        e.single(
            "collector_urls_in_flight",
            "URLs leased and being fetched",
            Kind::Gauge,
            in_flight as f64,
        );
        e.single(
            "collector_pages_per_second",
            "Records written per second since the crawl started",
            Kind::Gauge,
            load(&self.pages) / elapsed.as_secs_f64().max(0.001),
        );
    }
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
        && !logging::json()
        && match mode {
            ProgressMode::Always => true,
            ProgressMode::Auto => std::io::stderr().is_terminal(),
            ProgressMode::Never => false,
        };
    let plain = !quiet && !live && mode == ProgressMode::Auto && !logging::json();
    tokio::spawn(async move {
        let started = Instant::now();
        let bar = live.then(|| {
            // indicatif hides its stderr target when stderr is not a
            // terminal; `always` draws anyway (CI logs, `script`-less runs).
            let target = match mode {
                ProgressMode::Always => ProgressDrawTarget::term_like_with_hz(Box::new(Stderr), 4),
                _ => ProgressDrawTarget::stderr_with_hz(4),
            };
            let bar = ProgressBar::with_draw_target(None, target);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            logging::console().show(bar.clone());
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
            if let Some(bar) = &bar {
                bar.set_message(status_line(&counters, &queue, started.elapsed()));
                bar.tick();
            } else if plain {
                tracing::info!("{}", status_line(&counters, &queue, started.elapsed()));
            }
        }
        if let Some(bar) = bar {
            logging::console().hide();
            bar.finish_and_clear();
        }
    })
}

/// Standard error as a terminal whatever it is (`--progress always`):
/// ANSI cursor moves and line clears, 80 columns.
#[derive(Debug)]
struct Stderr;

impl Stderr {
    fn put(&self, s: &str) -> std::io::Result<()> {
        use std::io::Write as _;
        std::io::stderr().lock().write_all(s.as_bytes())
    }
}

impl indicatif::TermLike for Stderr {
    fn width(&self) -> u16 {
        80
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.put(&format!("\x1b[{n}A"))
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.put(&format!("\x1b[{n}B"))
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.put(&format!("\x1b[{n}C"))
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.put(&format!("\x1b[{n}D"))
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.put(&format!("{s}\n"))
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.put(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.put("\r\x1b[2K")
    }
    fn flush(&self) -> std::io::Result<()> {
        use std::io::Write as _;
        std::io::stderr().flush()
    }
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

/// The closing summary: for people, or with `--log-format json` one
/// `info` event (`target` `collector::summary`) whose fields are
/// `summary.json`'s numbers, its counts by status, error and skip reason
/// as JSON text.
pub fn print_summary(s: &Summary, out: &dyn std::fmt::Display) {
    if logging::json() {
        log_summary(s, out);
        return;
    }
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

fn log_summary(s: &Summary, out: &dyn std::fmt::Display) {
    let text = |map: &std::collections::BTreeMap<String, u64>| {
        serde_json::to_string(map).unwrap_or_default()
    };
    tracing::info!(
        target: "collector::summary",
        pages = s.pages,
        failed = s.failed,
        bytes = s.bytes,
        duration_s = s.duration_s,
        pages_per_s = s.pages_per_s,
        hosts = s.hosts,
        retries = s.retries,
        interrupted = s.interrupted,
        tls_verified = s.tls_verified,
        incomplete = s.incomplete,
        by_status = text(&s.by_status),
        by_error = text(&s.by_error),
        skipped = text(&s.skipped),
        by_rule = text(&s.by_rule),
        output = %out,
        "crawl finished"
    );
}
