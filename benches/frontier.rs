//! Memory per URL in the in-memory frontier: the seen set alone (URLs seen
//! but not queued) and a queued URL. Prints bytes per URL from the change
//! in resident memory.
//!
//!     cargo bench --bench frontier [-- URLS]      (default 1,000,000)

use std::sync::Arc;

use collector::frontier::{Candidate, Frontier, Limits, MemoryFrontier, UrlKind};
use url::Url;

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn batch(from: u64, n: u64, referrer: &Arc<str>) -> Vec<Candidate> {
    (from..from + n)
        .filter_map(|i| {
            let url = Url::parse(&format!(
                "http://127.0.0.{}:8081/d{}/page{i}.html",
                i % 4 + 1,
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
        if frontier.push(batch(pushed, n, &referrer)).await.is_err() {
            eprintln!("push failed");
            return;
        }
        pushed += n;
    }
    let after = rss_bytes();
    let stats = frontier.stats();
    println!(
        "{label}: {urls} URLs, {} seen, {} queued, {:.1} bytes per URL",
        stats.seen,
        stats.queued,
        after.saturating_sub(before) as f64 / urls as f64
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let urls: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
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
