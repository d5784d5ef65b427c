//! Wires the crawl: seeds into the frontier, leases through politeness to
//! visiting tasks, records and skips to the sink thread, new links back to
//! the frontier. Bounded everywhere: the global concurrency permits bound
//! the tasks, the sink channel bounds the records in memory.
//!
//! With `--state DIR` the frontier is on disk (`state.rs`) and the sink
//! thread commits each lease once its record is durably written, so a run
//! killed at any moment resumes where its output ends.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::crawl::progress::{self, Counters};
use crate::crawl::settings::CrawlSettings;
use crate::crawl::visit::Visitor;
use crate::crawl::{recrawl, state};
use crate::extract::ExtractOptions;
use crate::fetch::Fetcher;
use crate::frontier::{
    Admission, Candidate, Done, Frontier, Lease, MemoryFrontier, UrlKind, canonicalize,
};
use crate::politeness::{OriginLimiter, RobotsCache};
use crate::record::{SkipReason, SkipRecord, Summary};
use crate::sink::commit::Committer;
use crate::sink::{
    self, Format, SKIPPED_FILE, Target, Visited, Writers, jsonl::JsonlWriter, part_file,
};

/// Records waiting for the sink thread; beyond this, visiting tasks wait.
const SINK_QUEUE: usize = 1024;

struct Shared {
    frontier: Arc<dyn Frontier>,
    visitor: Visitor,
    sink: mpsc::Sender<Box<Visited>>,
    counters: Arc<Counters>,
    log_skipped: bool,
    /// The frontier keeps each page's memo for a later recrawl.
    keep_pages: bool,
}

/// Runs a crawl to completion or until `stop` fires. Writes one file per
/// output format (`pages.jsonl` by default), `skipped.jsonl` (if asked) and
/// `summary.json` into the output directory, or JSONL records alone to
/// standard output.
pub async fn run(mut settings: CrawlSettings, stop: CancellationToken) -> anyhow::Result<Summary> {
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    let metrics = match &settings.metrics {
        Some(m) => Some(crate::metrics::Server::start(m).await?),
        None => None,
    };
    let out_dir = match &settings.output.target {
        Target::Dir(dir) => Some(dir.clone()),
        Target::Stdout => None,
    };
    // Checked before any request: a crawl that cannot keep its records
    // must not start.
    if let Some(dir) = &out_dir {
        sink::dir::prepare(dir)?;
    }
    let mut redis = None;
    if let Some(job) = settings.shared.clone() {
        redis = Some(super::shared::join(&mut settings, &job).await?);
    }
    let (frontier, resume, committer) = match (&settings.state, &out_dir) {
        // Records go to the job's stream with their leases.
        _ if let Some(redis) = &redis => {
            let frontier: Arc<dyn Frontier> = redis.clone();
            let out = out_dir.clone().unwrap_or_default();
            let committer = Committer::new(frontier.clone(), out);
            (frontier, None, Some(committer))
        }
        (Some(state_dir), Some(dir)) => {
            let out = std::path::absolute(dir)
                .with_context(|| format!("output directory {}", dir.display()))?;
            let opened = state::open(&settings, state_dir, &out)?;
            if let Some(done) = opened.resume.as_ref().filter(|c| c.complete) {
                if !settings.quiet {
                    eprintln!(
                        "collector: the crawl in --state {} is complete (output in {}); \
                         --fresh crawls again",
                        state_dir.dir.display(),
                        done.out.display()
                    );
                }
                return Ok(done.summary.clone());
            }
            let committer = Committer::new(opened.frontier.clone(), out);
            (opened.frontier, opened.resume, Some(committer))
        }
        (Some(_), None) => anyhow::bail!("--state needs an output directory, not standard output"),
        (None, _) => {
            let memory: Arc<dyn Frontier> = Arc::new(MemoryFrontier::new(settings.limits));
            (memory, None, None)
        }
    };
    if let (Some(dir), None) = (&out_dir, &resume) {
        use sink::dir::Claim;
        let claim = match &settings.state {
            _ if settings.overwrite => Claim::Overwrite,
            Some(state) if state.fresh => Claim::Overwrite,
            Some(_) => Claim::OwnParts,
            None => Claim::Refuse,
        };
        sink::dir::claim(dir, claim)?;
    }
    let files = resume.as_ref().map(|c| &c.files);
    let sinks = sink::open(&settings.output, files).context("could not create the output")?;
    let skipped_writer = match &out_dir {
        Some(dir) if settings.log_skipped => {
            let at = files.and_then(|f| f.get(SKIPPED_FILE).copied());
            Some(JsonlWriter::open(&dir.join(SKIPPED_FILE), at)?)
        }
        _ => None,
    };
    let resumed = resume.is_some();
    let mut base = resume.map(|c| c.summary).unwrap_or_default();
    // URLs left queued by --max-pages are counted again at this run's end.
    base.skipped.remove(SkipReason::MaxPages.as_str());
    let base_pages = base.pages;
    let (tx, rx) = mpsc::channel(SINK_QUEUE);
    let sink_thread = sink::spawn(
        Writers {
            sinks,
            skipped: skipped_writer,
            summary: base,
            committer,
            dir: out_dir.clone(),
        },
        rx,
    );

    let mut limiter = OriginLimiter::new(settings.limiter.clone());
    if let Some(redis) = &redis {
        limiter = limiter.shared(redis.share());
    }
    let limiter = Arc::new(limiter);
    let mut crawl_visitor = visitor(&settings, limiter.clone(), stop.clone())?;
    if let Some(redis) = &redis {
        crawl_visitor.robots_store = Some(redis.robots());
    }
    let shared = Arc::new(Shared {
        frontier: frontier.clone(),
        visitor: crawl_visitor,
        sink: tx,
        counters: Arc::new(Counters::default()),
        log_skipped: settings.log_skipped,
        keep_pages: frontier.wants_pages(),
    });

    let seeds = settings
        .seeds
        .iter()
        .map(|s| {
            let mut url = s.clone();
            canonicalize(&mut url, settings.query);
            Candidate {
                url,
                kind: UrlKind::Page,
                depth: 0,
                referrer: None,
            }
        })
        .collect();
    let mut start = Visited::default();
    push(&shared, seeds, &mut start).await?;
    push_sitemaps(&shared, settings.sitemaps.clone(), &mut start).await?;
    // A resumed crawl's seeds were seen by the run that began it.
    if !resumed {
        send(&shared, start).await?;
    }

    let display_done = CancellationToken::new();
    let probe_frontier = frontier.clone();
    let queue: progress::QueueProbe = Arc::new(move || {
        let s = probe_frontier.stats();
        (s.queued, s.leased)
    });
    let display = progress::start(
        settings.progress,
        settings.quiet,
        shared.counters.clone(),
        queue.clone(),
        display_done.clone(),
    );
    if let Some(m) = &metrics {
        let (counters, requests) = (shared.counters.clone(), shared.visitor.fetcher.stats());
        super::metrics::register(m.registry(), counters, queue, requests, limiter.clone());
    }

    let permits = Arc::new(Semaphore::new(settings.concurrency));
    let mut tasks: JoinSet<anyhow::Result<()>> = JoinSet::new();
    let mut failure: Option<anyhow::Error> = None;
    loop {
        while let Some(done) = tasks.try_join_next() {
            note_failure(&mut failure, done);
        }
        if failure.is_some() {
            break;
        }
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p?,
            () = stop.cancelled() => break,
        };
        let lease = tokio::select! {
            l = frontier.lease(limiter.as_ref()) => l?,
            () = stop.cancelled() => break,
        };
        let Some(lease) = lease else { break };
        tracing::trace!(url = %crate::fetch::Shown(&lease.url), origin = %lease.origin, depth = lease.depth, "leased");
        let shared = shared.clone();
        tasks.spawn(async move {
            let result = handle(&shared, lease).await;
            drop(permit);
            result
        });
    }

    let interrupted = stop.is_cancelled();
    frontier.close();
    if failure.is_some() {
        // The output cannot take more records: what is in flight is lost
        // work, not worth the grace period.
        tasks.abort_all();
    }
    let grace = tokio::time::sleep(settings.grace);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            done = tasks.join_next() => match done {
                Some(done) => note_failure(&mut failure, done),
                None => break,
            },
            () = &mut grace => {
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                break;
            }
        }
    }
    display_done.cancel();
    let _ = display.await;
    let mut left_queued = 0;
    if !interrupted && failure.is_none() {
        // The crawl ended with URLs still queued: --max-pages was reached.
        let mut end = Visited::default();
        for left in frontier.drain().await? {
            left_queued += 1;
            skip(
                &shared,
                &mut end,
                left.url.to_string(),
                SkipReason::MaxPages,
                left.referrer,
            );
        }
        send(&shared, end).await?;
    }

    let hosts = frontier.stats().origins;
    let Shared { sink, .. } = match Arc::try_unwrap(shared) {
        Ok(s) => s,
        Err(_) => anyhow::bail!("internal: crawl tasks outlived the crawl"),
    };
    drop(sink);
    let written = match sink_thread.await.context("the output writer crashed")? {
        Ok(written) => written,
        Err(e) if sink::is_reader_gone(&e) => {
            return Err(sink::ReaderGone.into());
        }
        Err(e) => return Err(anyhow::Error::new(e).context("could not write the output")),
    };
    if let Some(redis) = &redis {
        let handed_back = redis.leave().await?;
        if handed_back > 0 {
            tracing::info!(leases = handed_back, "handed back to the job's queue");
        }
    }
    let mut summary = written.summary;
    summary.started_at = started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    summary.finished_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    summary.duration_s = started.elapsed().as_secs_f64();
    summary.pages_per_s =
        summary.pages.saturating_sub(base_pages) as f64 / summary.duration_s.max(1e-9);
    summary.hosts = hosts;
    summary.interrupted = interrupted;
    summary.tls_verified = settings.fetch.tls.verify;
    if let Some(dir) = &out_dir {
        write_summary(dir, &summary)?;
        if settings.report {
            crate::report::after_crawl(dir);
        }
    }
    if let Some(m) = metrics {
        m.stop(&stop).await;
    }
    if let Some(e) = failure {
        return Err(e);
    }
    if let (Some(state_dir), Some(mut last)) = (&settings.state, written.checkpoint) {
        if !interrupted && left_queued == 0 {
            last.complete = true;
            last.summary = summary.clone();
            frontier.commit(Vec::new(), &last.to_bytes()).await?;
        } else if !settings.quiet {
            eprintln!(
                "collector: crawl state saved in {}; run the same command again to resume",
                state_dir.dir.display()
            );
        }
    }
    Ok(summary)
}

/// The visitor a run with `settings` uses: its client, robots.txt cache,
/// scope, extraction options and rule sets.
pub fn visitor(
    settings: &CrawlSettings,
    limiter: Arc<OriginLimiter>,
    stop: CancellationToken,
) -> anyhow::Result<Visitor> {
    // Archival output needs every request and response as exchanged.
    let keep_exchanges = settings.output.wants(Format::Warc);
    Ok(Visitor {
        fetcher: Fetcher::new(&settings.fetch)?.keep_requests(keep_exchanges),
        limiter,
        robots: RobotsCache::new(&settings.fetch.user_agent),
        scope: settings.scope.clone(),
        extract: ExtractOptions {
            follow_nofollow: settings.follow_nofollow,
        },
        rules: settings.rules.clone(),
        respect_robots: settings.respect_robots,
        query: settings.query,
        stop,
        found_sitemaps: Default::default(),
        robots_failures: Default::default(),
        keep_exchanges,
        robots_store: None,
        credentials: settings.credentials.clone(),
    })
}

/// Visits one leased URL and hands on what came of it: skips, links to
/// the frontier, the record to the sink, then completes the lease.
async fn handle(shared: &Shared, lease: Lease) -> anyhow::Result<()> {
    if lease.kind == UrlKind::Sitemap {
        // Boxed: inline, the rare sitemap visit's state would be part of
        // every page task's future, which is moved when it is spawned.
        return Box::pin(handle_sitemap(shared, lease)).await;
    }
    let memo = lease.memo.as_deref();
    let mut visit = shared
        .visitor
        .visit(&lease.url, lease.depth, lease.referrer.clone(), memo)
        .await;
    let mut out = Visited {
        memo: recrawl::settle(
            &shared.visitor,
            &lease.url,
            lease.depth,
            memo,
            &mut visit,
            shared.keep_pages,
        ),
        ..Visited::default()
    };
    for (url, reason) in visit.skipped {
        let found_on = visit.found_on.clone();
        skip(shared, &mut out, url.to_string(), reason, found_on);
    }
    out.skips.add(SkipReason::Nofollow, visit.nofollow);
    out.skips.add(SkipReason::Scheme, visit.other_scheme);
    out.skips.add(SkipReason::NotSelected, visit.not_selected);
    // Links go into the frontier before the lease completes, so the
    // frontier never looks empty while a page's links are in hand.
    if !visit.links.is_empty() {
        push(shared, visit.links, &mut out).await?;
    }
    // Sitemaps named by robots.txt obey scope like every other URL: a
    // mirror's robots.txt must not send the crawl to the public site.
    let mut named = Vec::new();
    for url in shared.visitor.take_sitemaps() {
        match shared.visitor.scope.check(&url) {
            Ok(()) => named.push(url),
            Err(reason) => skip(shared, &mut out, url.to_string(), reason, None),
        }
    }
    push_sitemaps(shared, named, &mut out).await?;
    let done = match visit.record {
        // robots.txt denied a discovered link: a skip, not a page, and it
        // does not use up --max-pages.
        None => {
            let url = lease.url.to_string();
            skip(
                shared,
                &mut out,
                url,
                SkipReason::RobotsDenied,
                lease.referrer.clone(),
            );
            Done::NotFetched
        }
        Some(record) => {
            shared.counters.record(&record);
            out.record = Some(record);
            out.exchange = visit.exchange;
            // A denied seed has a record but was not requested either.
            if visit.requested {
                Done::Fetched
            } else {
                Done::NotFetched
            }
        }
    };
    out.lease = Some((lease.id, done));
    send(shared, out).await?;
    shared.frontier.complete(lease, done).await?;
    Ok(())
}

/// A sitemap streams its URLs into the frontier while its lease is held, so
/// the crawl cannot end before they are in. It does not use up --max-pages.
async fn handle_sitemap(shared: &Shared, lease: Lease) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::channel(2);
    let visiting =
        shared
            .visitor
            .visit_sitemap(&lease.url, lease.depth, lease.referrer.clone(), tx);
    let mut out = Visited::default();
    let pushing = async {
        while let Some(batch) = rx.recv().await {
            push(shared, batch, &mut out).await?;
        }
        anyhow::Ok(())
    };
    let (visit, pushed) = tokio::join!(visiting, pushing);
    pushed?;
    for (url, reason) in visit.skipped {
        let found_on = visit.found_on.clone();
        skip(shared, &mut out, url.to_string(), reason, found_on);
    }
    if let Some(record) = visit.record {
        shared.counters.record(&record);
        out.record = Some(record);
    }
    out.lease = Some((lease.id, Done::NotFetched));
    send(shared, out).await?;
    shared.frontier.complete(lease, Done::NotFetched).await?;
    Ok(())
}

/// Sitemaps named by robots.txt or `--sitemap`, queued at depth 0.
async fn push_sitemaps(
    shared: &Shared,
    sitemaps: Vec<url::Url>,
    out: &mut Visited,
) -> anyhow::Result<()> {
    if sitemaps.is_empty() {
        return Ok(());
    }
    let batch = sitemaps
        .into_iter()
        .map(|url| Candidate {
            url,
            kind: UrlKind::Sitemap,
            depth: 0,
            referrer: None,
        })
        .collect();
    push(shared, batch, out).await
}

async fn send(shared: &Shared, visited: Visited) -> anyhow::Result<()> {
    shared
        .sink
        .send(Box::new(visited))
        .await
        .context("the output writer stopped")
}

fn note_failure(
    failure: &mut Option<anyhow::Error>,
    done: Result<anyhow::Result<()>, tokio::task::JoinError>,
) {
    let err = match done {
        Ok(Ok(())) => return,
        Ok(Err(e)) => e,
        Err(e) if e.is_cancelled() => return,
        Err(e) => anyhow::anyhow!("a crawl task failed: {e}"),
    };
    failure.get_or_insert(err);
}

/// Pushes links into the frontier; those it refuses are counted in `out`.
async fn push(shared: &Shared, batch: Vec<Candidate>, out: &mut Visited) -> anyhow::Result<()> {
    let referrers: Vec<(String, Option<Arc<str>>)> = if shared.log_skipped {
        batch
            .iter()
            .map(|c| (c.url.to_string(), c.referrer.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let admissions = shared.frontier.push(batch).await?;
    for (i, a) in admissions.iter().enumerate() {
        let reason = match a {
            Admission::Queued => continue,
            Admission::Duplicate => SkipReason::Duplicate,
            Admission::MaxDepth => SkipReason::MaxDepth,
        };
        out.skips.add(reason, 1);
        if let Some((url, referrer)) = referrers.get(i) {
            out.skipped.push(SkipRecord {
                url: url.clone(),
                reason,
                referrer: referrer.clone(),
            });
        }
    }
    Ok(())
}

fn skip(
    shared: &Shared,
    out: &mut Visited,
    url: String,
    reason: SkipReason,
    referrer: Option<Arc<str>>,
) {
    out.skips.add(reason, 1);
    if shared.log_skipped {
        out.skipped.push(SkipRecord {
            url,
            reason,
            referrer,
        });
    }
}

fn write_summary(out: &Path, summary: &Summary) -> anyhow::Result<()> {
    let path = out.join(sink::SUMMARY_FILE);
    part_file::write_json(&path, summary)
        .map_err(|e| sink::dir::at(&path, e))
        .context("could not write the summary")
}
