//! Memory per URL in the in-memory frontier: the seen set alone (URLs seen
//! but not queued) and a queued URL. Prints bytes per URL from the change
//! in resident memory, and the peak resident memory of the process.
//!
//!     cargo bench --bench frontier [-- URLS]      (default 1,000,000)
//!     cargo bench --bench frontier -- disk URLS
//!
//! `disk` queues URLs in the on-disk frontier instead, over 1,000 origins
//! with a commit every 64 batches as a crawl makes them, then leases
//! 100,000 of them: peak memory, bytes on disk per URL, reopen time.
//!
//! On the shared 2-core machine (peak RSS of the whole process):
//!
//! | frontier, URLs queued | peak RSS | on disk per URL | push URLs/s | leases/s | reopen  |
//! |-----------------------|----------|-----------------|-------------|----------|---------|
//! | memory, 1,000,000     | 92 MiB   | -               | -           | -        | -       |
//! | disk, 1,000,000       | 23 MiB   | 67.3 bytes      | 11,850      | 12,993   | 153 ms  |
//! | disk, 10,000,000 (*)  | 25 MiB   | 62.4 bytes      | 6,259       | 12,458   | 2,820 ms |
//!
//! (*) before the seen set kept each URL's depth and queue key (about 7
//! bytes more per URL at 1,000,000). Each new fingerprint lands on a
//! random page of the seen set, which SQLite writes to its log and again
//! at checkpoint: about 20 KB written per URL queued (the 10,000,000 run
//! wrote about 200 GB for a 600 MB file), and pushes slow down as the set
//! outgrows the page cache.

use std::sync::Arc;

use std::time::Instant;

use collector::frontier::{
    Ack, Candidate, DiskFrontier, Done, Frontier, Limits, MemoryFrontier, UrlKind,
};
use collector::gate::{HostGate, HostPermit, Wait};
use url::Url;

/// A line of /proc/self/status in bytes: `VmRSS` now, `VmHWM` the peak.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn rss_bytes() -> u64 {
    status_bytes("VmRSS:")
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

/// URLs `from..from + n` spread over `origins` origins.
fn batch(from: u64, n: u64, origins: u64, referrer: &Arc<str>) -> Vec<Candidate> {
    (from..from + n)
        .filter_map(|i| {
            let o = i % origins;
            let url = Url::parse(&format!(
                "http://127.{}.{}.1:8081/d{}/page{i}.html",
                o / 256,
                o % 256,
                i / 250
            ))
            .ok()?;
            Some(Candidate {
                url,
                kind: UrlKind::Page,
                depth: 3,
                referrer: Some(referrer.clone()),
            })
        })
        .collect()
}

async fn measure(label: &str, limits: Limits, urls: u64) {
    let frontier = MemoryFrontier::new(limits);
    let referrer: Arc<str> = "http://127.0.0.1:8081/d0/page1.html".into();
    let before = rss_bytes();
    let mut pushed = 0;
    while pushed < urls {
        let n = 10_000.min(urls - pushed);
        if frontier.push(batch(pushed, n, 4, &referrer)).await.is_err() {
            eprintln!("push failed");
            return;
        }
        pushed += n;
    }
    let after = rss_bytes();
    let stats = frontier.stats();
    println!(
        "{label}: {urls} URLs, {} seen, {} queued, {:.1} bytes per URL; peak RSS {:.0} MiB",
        stats.seen,
        stats.queued,
        after.saturating_sub(before) as f64 / urls as f64,
        mib(status_bytes("VmHWM:"))
    );
}

struct Open;
impl HostGate for Open {
    fn try_start(&self, _origin: &str) -> Result<HostPermit, Wait> {
        Ok(HostPermit::new(()))
    }
}

async fn measure_disk(urls: u64) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let limits = Limits {
        max_pages: None,
        max_depth: None,
    };
    let (frontier, _) = DiskFrontier::open(dir.path(), b"bench", limits)?;
    let before = rss_bytes();
    let started = Instant::now();
    let (mut pushed, mut batches) = (0, 0u64);
    while pushed < urls {
        // 50 links per page, the referrer changing with each page.
        let n = 50.min(urls - pushed);
        let referrer: Arc<str> = format!("http://127.0.0.1:8081/from{batches}").into();
        frontier.push(batch(pushed, n, 1000, &referrer)).await?;
        pushed += n;
        batches += 1;
        if batches % 64 == 0 {
            frontier.commit(Vec::new(), &[0; 16]).await?;
        }
    }
    frontier.commit(Vec::new(), &[0; 16]).await?;
    let push_s = started.elapsed().as_secs_f64();
    let file = std::fs::metadata(frontier.path())?.len();
    println!(
        "disk: {urls} URLs queued in {push_s:.0} s ({:.0} URLs/s); RSS grew {:.0} MiB, \
         peak RSS {:.0} MiB; {:.0} MiB on disk, {:.1} bytes per URL",
        urls as f64 / push_s,
        mib(rss_bytes().saturating_sub(before)),
        mib(status_bytes("VmHWM:")),
        mib(file),
        file as f64 / urls as f64
    );
    let started = Instant::now();
    let mut done = Vec::with_capacity(64);
    for _ in 0..100_000.min(urls) {
        let Some(lease) = frontier.lease(&Open).await? else {
            break;
        };
        done.push(Ack::new(lease.id, Done::Fetched));
        frontier.complete(lease, Done::Fetched).await?;
        if done.len() == 64 {
            frontier.commit(std::mem::take(&mut done), &[0; 16]).await?;
        }
    }
    frontier.commit(std::mem::take(&mut done), &[0; 16]).await?;
    let lease_s = started.elapsed().as_secs_f64();
    println!(
        "disk: 100000 leases, a commit every 64, in {lease_s:.1} s ({:.0} leases/s); peak RSS {:.0} MiB",
        100_000f64 / lease_s,
        mib(status_bytes("VmHWM:"))
    );
    drop(frontier);
    let started = Instant::now();
    let (frontier, resume) = DiskFrontier::open(dir.path(), b"bench", limits)?;
    println!(
        "disk: reopened in {:.0} ms: {} queued, {} origins",
        started.elapsed().as_secs_f64() * 1000.0,
        resume.queued,
        frontier.stats().origins
    );
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let urls: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    if std::env::args().any(|a| a == "disk") {
        if let Err(e) = measure_disk(urls).await {
            eprintln!("disk frontier: {e}");
        }
        return;
    }
    measure(
        "seen only (max_pages 0)",
        Limits {
            max_pages: Some(0),
            max_depth: None,
        },
        urls,
    )
    .await;
    measure(
        "seen and queued",
        Limits {
            max_pages: None,
            max_depth: None,
        },
        urls,
    )
    .await;
}
