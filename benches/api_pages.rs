//! Concurrent against sequential page fetching in `collector api`: an
//! in-process API on 127.0.0.1 answers each page after 50 ms; 1,037 records,
//! 50 a page. Prints the wall time of each and the ratio.
//!
//!     cargo bench --bench api_pages

use std::time::{Duration, Instant};

use collector::api::pull::{self, Output, PullSettings};
use collector::api::{Pointer, Strategy};
use collector::fetch::FetchConfig;
use collector::fetch::retry::Backoff;
use collector::politeness::LimiterConfig;
use tokio_util::sync::CancellationToken;

const TOTAL: u64 = 1037;
const SIZE: u64 = 50;

async fn page(uri: axum::http::Uri) -> ([(&'static str, &'static str); 1], String) {
    tokio::time::sleep(Duration::from_millis(50)).await;
    let page = uri
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("page=")))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1);
    let from = (page - 1) * SIZE;
    let items: Vec<serde_json::Value> = (from..(from + SIZE).min(TOTAL))
        .map(|id| serde_json::json!({"id": id}))
        .collect();
    let body =
        serde_json::json!({"page": page, "items": items, "total_pages": TOTAL.div_ceil(SIZE)});
    ([("content-type", "application/json")], body.to_string())
}

fn settings(url: &str, concurrency: usize, out: &std::path::Path) -> Option<PullSettings> {
    Some(PullSettings {
        url: url::Url::parse(url).ok()?,
        strategy: Some(Strategy::Page {
            param: "page".into(),
            start: 1,
            step: 1,
            total_pages: Some(Pointer::parse("total_pages").ok()?),
            has_more: None,
        }),
        records: Some("items".into()),
        output: Output::File(out.to_path_buf()),
        max_pages: None,
        concurrency,
        concurrency_given: true,
        fetch: FetchConfig {
            user_agent: "collector-bench".into(),
            headers: Vec::new(),
            proxy: None,
            cookies: false,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_body: 1 << 20,
            retries: 0,
            backoff: Backoff::default(),
            tls: Default::default(),
        },
        limiter: LimiterConfig {
            per_host: u32::try_from(concurrency).ok()?,
            rate: None,
            max_wait: Duration::from_secs(5),
        },
        auth: None,
        resume: false,
        overwrite: false,
        bytes_in_flight: collector::api::settings::DEFAULT_BYTES_IN_FLIGHT,
        since: None,
        tag: None,
        json_array: false,
        quiet: true,
        metrics: None,
        requests: None,
    })
}

#[tokio::main]
async fn main() {
    let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else {
        eprintln!("could not bind 127.0.0.1");
        return;
    };
    let Ok(addr) = listener.local_addr() else {
        return;
    };
    let app = axum::Router::new().route("/items", axum::routing::get(page));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let dir = std::env::temp_dir().join(format!("collector-api-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let url = format!("http://{addr}/items");
    let mut times = Vec::new();
    for concurrency in [1, 4, 8] {
        let Some(s) = settings(
            &url,
            concurrency,
            &dir.join(format!("c{concurrency}.jsonl")),
        ) else {
            return;
        };
        let started = Instant::now();
        match pull::run(s, CancellationToken::new()).await {
            Ok(summary) => {
                let secs = started.elapsed().as_secs_f64();
                println!(
                    "concurrency {concurrency}: {} records, {} pages in {secs:.3} s",
                    summary.records, summary.pages
                );
                times.push(secs);
            }
            Err(e) => eprintln!("pull failed: {e:#}"),
        }
    }
    if let [sequential, rest @ ..] = times.as_slice() {
        for (t, c) in rest.iter().zip([4, 8]) {
            println!("concurrency {c} vs 1: {:.2}x faster", sequential / t);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
