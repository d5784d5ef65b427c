//! The fetch loop of `collector api`: request a page, write its records,
//! work out the next request, until the API says there is no more. Uses the
//! crawler's fetcher (one retry policy), limiter and atomic files.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use reqwest::header::LINK;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::{LoopGuard, Next, Strategy, detect, next_request, records};
use crate::fetch::{FetchConfig, Fetcher};
use crate::frontier::origin_key;
use crate::gate::{HostGate, HostPermit, Wait};
use crate::politeness::{LimiterConfig, OriginLimiter};
use crate::sink::jsonl::JsonlWriter;
use crate::sink::part_file;

/// Where records go.
#[derive(Clone, Debug)]
pub enum Output {
    /// A JSONL file, written as `.part` and renamed when the pull ends.
    File(PathBuf),
    /// JSON lines on standard output.
    Stdout,
}

#[derive(Clone, Debug)]
pub struct PullSettings {
    pub url: Url,
    /// `None`: detect from the first response.
    pub strategy: Option<Strategy>,
    pub records: Option<String>,
    pub output: Output,
    pub max_pages: Option<u64>,
    pub fetch: FetchConfig,
    pub limiter: LimiterConfig,
    pub quiet: bool,
}

/// `summary.json` of a pull.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PullSummary {
    pub url: String,
    pub strategy: String,
    pub pages: u64,
    pub records: u64,
    pub retries: u64,
    /// Why the pull ended: a stop reason of the strategy, `max_pages`,
    /// `interrupted` or `error`.
    pub stopped: String,
    pub error: Option<PullError>,
    pub duration_s: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct PullError {
    pub kind: String,
    pub page: u64,
    pub url: String,
    pub message: String,
}

/// Waits until the limiter lets a request to `origin` start.
async fn start(
    limiter: &OriginLimiter,
    origin: &str,
    stop: &CancellationToken,
) -> Option<HostPermit> {
    loop {
        let wait = match limiter.try_start(origin) {
            Ok(permit) => return Some(permit),
            Err(Wait::Until(t)) => t.saturating_duration_since(Instant::now()),
            Err(Wait::Busy) => Duration::from_millis(10),
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stop.cancelled() => return None,
        }
    }
}

enum Sink {
    File(JsonlWriter),
    Stdout(std::io::BufWriter<std::io::Stdout>),
}

impl Sink {
    fn write(&mut self, record: &serde_json::Value) -> std::io::Result<()> {
        use std::io::Write as _;
        match self {
            Sink::File(w) => w.write(record),
            Sink::Stdout(out) => {
                serde_json::to_writer(&mut *out, record).map_err(std::io::Error::other)?;
                out.write_all(b"\n")
            }
        }
    }

    fn finish(self) -> std::io::Result<()> {
        use std::io::Write as _;
        match self {
            Sink::File(w) => w.commit(),
            Sink::Stdout(mut out) => out.flush(),
        }
    }
}

/// Pulls every page. Records already written are kept whatever happens;
/// the summary says whether the pull was complete.
pub async fn run(settings: PullSettings, stop: CancellationToken) -> anyhow::Result<PullSummary> {
    let started = Instant::now();
    let fetcher = Fetcher::new(&settings.fetch)?;
    let limiter = OriginLimiter::new(settings.limiter.clone());
    let mut sink = match &settings.output {
        Output::File(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("could not create {}", dir.display()))?;
            }
            Sink::File(
                JsonlWriter::create(path)
                    .with_context(|| format!("could not write {}", path.display()))?,
            )
        }
        Output::Stdout => Sink::Stdout(std::io::BufWriter::new(std::io::stdout())),
    };
    let mut summary = PullSummary {
        url: settings.url.to_string(),
        ..PullSummary::default()
    };
    let mut strategy = settings.strategy.clone();
    let mut guard = LoopGuard::new(&settings.url);
    let mut url = settings.url.clone();
    let fail = |summary: &mut PullSummary, kind: &str, url: &Url, message: String| {
        summary.stopped = "error".to_string();
        summary.error = Some(PullError {
            kind: kind.to_string(),
            page: summary.pages + 1,
            url: url.to_string(),
            message,
        });
    };
    loop {
        let origin = origin_key(&url);
        let Some(permit) = start(&limiter, &origin, &stop).await else {
            summary.stopped = "interrupted".to_string();
            break;
        };
        let fetched = fetcher
            .get(&url, &stop, |wait| limiter.pause(&origin, wait))
            .await;
        drop(permit);
        summary.retries += u64::from(fetched.retries);
        let resp = match fetched.result {
            Ok(r) => r,
            Err(e) => {
                fail(&mut summary, e.kind().as_str(), &url, e.to_string());
                break;
            }
        };
        if !(200..300).contains(&resp.status) {
            let message = format!("HTTP {} after {} retries", resp.status, fetched.retries);
            fail(&mut summary, "http_status", &url, message);
            break;
        }
        let body: serde_json::Value = match serde_json::from_slice(&resp.body) {
            Ok(b) => b,
            Err(e) => {
                fail(
                    &mut summary,
                    "decode",
                    &url,
                    format!("the body is not JSON: {e}"),
                );
                break;
            }
        };
        let links: Vec<&str> = resp
            .headers
            .get_all(LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let strat = match &strategy {
            Some(s) => s.clone(),
            None => match detect(&url, &links, &body) {
                Ok(s) => {
                    if !settings.quiet {
                        eprintln!("collector api: paginating by {s}");
                    }
                    strategy = Some(s.clone());
                    s
                }
                Err(e) => {
                    fail(&mut summary, e.kind(), &url, e.to_string());
                    break;
                }
            },
        };
        summary.strategy = strat.to_string();
        let page = match records(&body, settings.records.as_deref()) {
            Ok(r) => r,
            Err(e) => {
                fail(&mut summary, e.kind(), &url, e.to_string());
                break;
            }
        };
        for record in page {
            sink.write(record).context("could not write a record")?;
        }
        summary.pages += 1;
        summary.records += page.len() as u64;
        if settings.max_pages.is_some_and(|max| summary.pages >= max) {
            summary.stopped = "max_pages".to_string();
            break;
        }
        if stop.is_cancelled() {
            summary.stopped = "interrupted".to_string();
            break;
        }
        match next_request(&strat, &url, &links, &body, page.len()) {
            Ok(Next::Done(reason)) => {
                summary.stopped = reason.as_str().to_string();
                break;
            }
            Ok(Next::Fetch(next)) => {
                if let Err(e) = guard.check(&next, page) {
                    fail(&mut summary, e.kind(), &next, e.to_string());
                    break;
                }
                url = next;
            }
            Err(e) => {
                fail(&mut summary, e.kind(), &url, e.to_string());
                break;
            }
        }
    }
    sink.finish().context("could not finish the output")?;
    summary.duration_s = started.elapsed().as_secs_f64();
    if let Output::File(path) = &settings.output {
        let mut json = serde_json::to_vec_pretty(&summary)?;
        json.push(b'\n');
        let target = summary_path(path);
        part_file::write_atomic(&target, &json)
            .with_context(|| format!("could not write {}", target.display()))?;
    }
    Ok(summary)
}

/// `issues.jsonl` → `issues.summary.json`, beside the records.
pub fn summary_path(output: &std::path::Path) -> PathBuf {
    let stem = output
        .file_stem()
        .map_or_else(|| "pull".into(), |s| s.to_string_lossy().into_owned());
    output.with_file_name(format!("{stem}.summary.json"))
}
