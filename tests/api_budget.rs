//! Pages fetched side by side are bounded by bytes as well as by count:
//! with pages of about 1 MB and a 2.5 MB budget, at most two are in
//! flight whatever `--concurrency` says; with the default budget the same
//! pull has four in flight. (Peak RSS with 60 MB pages is measured by
//! hand with the binary; see the README.)

mod support;
mod support_api;

use std::sync::Arc;
use std::time::Duration;

use collector::api::pull;
use collector::api::settings as api_settings;
use support::{Reply, Server};
use support_api::*;
use tokio_util::sync::CancellationToken;

const PAGES: u64 = 8;
const PER_PAGE: u64 = 1000;

/// 8 pages of 1,000 records of about 1 KB, each answered after 150 ms.
async fn large_pages() -> Server {
    Server::start(
        "127.0.0.1",
        Arc::new(|path, _| {
            let page = number(path, "page", 1);
            let pad = "x".repeat(1000);
            let items: Vec<serde_json::Value> = ((page - 1) * PER_PAGE..page * PER_PAGE)
                .map(|id| serde_json::json!({"id": id, "pad": pad}))
                .collect();
            let body = serde_json::json!({"page": page, "items": items, "total_pages": PAGES});
            Reply::Delayed(Duration::from_millis(150), Box::new(json(body, vec![])))
        }),
    )
    .await
}

async fn pull_with_budget(budget: Option<u64>) -> (Server, Vec<u64>) {
    let s = large_pages().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("big.jsonl");
    let mut a = args(
        s.url("/big"),
        &[
            "--paginate",
            "page",
            "--total-pages",
            "total_pages",
            "--records",
            "items",
            "--concurrency",
            "4",
        ],
    );
    a.resource.out = Some(out.to_string_lossy().into_owned());
    a.shared.quiet = true;
    let mut settings = api_settings::resolve(&a).expect("valid");
    if let Some(b) = budget {
        settings.bytes_in_flight = b;
    }
    let summary = tokio::time::timeout(
        Duration::from_secs(30),
        pull::run(settings, CancellationToken::new()),
    )
    .await
    .expect("in time")
    .expect("pulled");
    assert!(summary.error.is_none(), "{:?}", summary.error);
    let ids = std::fs::read_to_string(&out)
        .expect("records")
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("JSON")["id"]
                .as_u64()
                .expect("id")
        })
        .collect();
    (s, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_pages_are_held_under_the_byte_budget() {
    let (s, ids) = pull_with_budget(Some(2_500_000)).await;
    assert_eq!(ids, (0..PAGES * PER_PAGE).collect::<Vec<_>>());
    assert_eq!(s.paths().len() as u64, PAGES);
    assert!(
        s.max_in_flight() <= 2,
        "{} pages of 1 MB in flight under a 2.5 MB budget",
        s.max_in_flight()
    );

    // The same pull under the default budget: --concurrency decides.
    let (s, ids) = pull_with_budget(None).await;
    assert_eq!(ids, (0..PAGES * PER_PAGE).collect::<Vec<_>>());
    assert!(s.max_in_flight() >= 3, "{}", s.max_in_flight());
}
