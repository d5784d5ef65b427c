//! `collector api` against an in-process API serving 1,037 records, 50 a
//! page (the last page partial): every pagination style, detection, faults,
//! concurrency, output formats.

mod support;
mod support_api;

use std::sync::Arc;
use std::time::{Duration, Instant};

use collector::api::pull;
use collector::api::settings as api_settings;
use support::Server;
use support_api::*;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn every_strategy_yields_every_record_once_in_order() {
    let s = server().await;
    let cases: Vec<(String, Vec<&str>)> = vec![
        (s.url("/link"), vec!["--paginate", "link"]),
        (
            s.url("/next"),
            vec![
                "--paginate",
                "next_url",
                "--next",
                "next",
                "--records",
                "data",
            ],
        ),
        (
            s.url("/page"),
            vec![
                "--paginate",
                "page",
                "--total-pages",
                "total_pages",
                "--records",
                "items",
            ],
        ),
        (
            s.url("/offset"),
            vec!["--paginate", "offset", "--limit", "50", "--total", "total"],
        ),
        (
            s.url("/cursor"),
            vec![
                "--paginate",
                "cursor",
                "--cursor",
                "meta.next_cursor",
                "--records",
                "data",
            ],
        ),
    ];
    for (url, flags) in cases {
        let (ids, summary) = pull(url.clone(), &flags).await;
        assert_eq!(ids, all_ids(), "{flags:?}");
        assert_eq!(summary.pages, 21, "{flags:?}");
        assert!(summary.error.is_none(), "{flags:?}: {:?}", summary.error);
    }
}

#[tokio::test]
async fn auto_detects_each_shape() {
    let s = server().await;
    for route in ["/link", "/next", "/page", "/offset", "/cursor"] {
        let (ids, summary) = pull(s.url(route), &[]).await;
        assert!(summary.error.is_none(), "{route}: {:?}", summary.error);
        assert_eq!(ids, all_ids(), "{route}: {}", summary.strategy);
        assert!(summary.error.is_none(), "{route}: {:?}", summary.error);
    }
}

#[tokio::test]
async fn a_malformed_page_stops_with_its_number_and_keeps_earlier_records() {
    let s = server().await;
    let (ids, summary) = pull(
        s.url("/broken"),
        &["--paginate", "page", "--total-pages", "total_pages"],
    )
    .await;
    assert_eq!(ids, (0..6 * SIZE).collect::<Vec<_>>());
    let error = summary.error.expect("an error");
    assert_eq!(error.page, 7);
    assert_eq!(error.kind, "decode");
    assert!(error.url.contains("page=7"), "{}", error.url);
}

#[tokio::test]
async fn transient_failures_and_429_are_retried_and_waited_for() {
    let s = server().await;
    let started = Instant::now();
    let (ids, summary) = pull(
        s.url("/flaky"),
        &["--paginate", "page", "--total-pages", "total_pages"],
    )
    .await;
    assert_eq!(ids, all_ids());
    assert_eq!(summary.retries, 3, "two 500s and one 429");
    let hits: Vec<_> = s
        .hits()
        .into_iter()
        .filter(|h| h.path == "/flaky?page=5")
        .collect();
    assert_eq!(hits.len(), 2);
    assert!(hits[1].at.duration_since(hits[0].at) >= Duration::from_millis(950));
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn a_cursor_that_never_changes_is_a_pagination_loop() {
    let s = server().await;
    let (ids, summary) = pull(
        s.url("/stuck"),
        &["--paginate", "cursor", "--cursor", "next_cursor"],
    )
    .await;
    assert_eq!(ids.len(), 2 * SIZE as usize, "the first two pages are kept");
    assert_eq!(
        summary.error.expect("loop detected").kind,
        "pagination_loop"
    );
    assert!(s.hits().len() <= 3);
}

#[test]
fn bad_flags_are_named() {
    let a = args("http://127.0.0.1:9/x".into(), &["--paginate", "cursor"]);
    let e = api_settings::resolve(&a)
        .expect_err("needs --cursor")
        .to_string();
    assert!(e.contains("--cursor"), "{e}");
    let a = args("not a url".into(), &[]);
    assert!(api_settings::resolve(&a).is_err());
    let a = args("http://127.0.0.1:9/x".into(), &["--param", "novalue"]);
    let e = api_settings::resolve(&a)
        .expect_err("bad param")
        .to_string();
    assert!(e.contains("--param"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_writes_records_and_exits_by_outcome() {
    let s = server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("page.jsonl");
    let run = |url: String, out: &std::path::Path| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
            .args([
                "api",
                &url,
                "--paginate",
                "page",
                "--total-pages",
                "total_pages",
                "--out",
            ])
            .arg(out)
            .output()
    };
    let o = run(s.url("/page"), &out).await.expect("ran");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&out)
            .expect("output")
            .lines()
            .count(),
        TOTAL as usize
    );
    let broken = dir.path().join("broken.jsonl");
    let o = run(s.url("/broken"), &broken).await.expect("ran");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("page 7"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(broken.with_extension("jsonl.part"))
            .expect("kept")
            .lines()
            .count(),
        300
    );
}

#[tokio::test]
async fn known_page_counts_are_fetched_side_by_side_in_order() {
    for (concurrency, delay_ms) in [("4", 40), ("1", 5)] {
        let server = slow_api(Duration::from_millis(delay_ms)).await;
        let flags = [
            "--paginate",
            "page",
            "--total-pages",
            "total_pages",
            "--records",
            "items",
            "--concurrency",
            concurrency,
        ];
        let (ids, summary) = pull(server.url("/slow"), &flags).await;
        assert_eq!(ids, all_ids(), "records in page order at {concurrency}");
        assert_eq!(summary.pages, 21);
        assert_eq!(
            server.max_in_flight().to_string(),
            concurrency,
            "pages in flight at once: the cap is used, never passed"
        );
    }
}

#[tokio::test]
async fn json_format_writes_one_valid_array() {
    let s = server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("all.json");
    let mut a = args(s.url("/page"), &["--format", "json", "--records", "items"]);
    a.resource.out = Some(out.to_string_lossy().into_owned());
    a.shared.quiet = true;
    let summary = pull::run(
        api_settings::resolve(&a).expect("valid"),
        CancellationToken::new(),
    )
    .await
    .expect("pull ran");
    assert!(summary.error.is_none());
    let array: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("output"))
            .expect("one JSON array");
    let ids: Vec<u64> = array.iter().filter_map(|r| r["id"].as_u64()).collect();
    assert_eq!(ids, all_ids());

    let empty = dir.path().join("none.json");
    let none = Server::start(
        "127.0.0.1",
        Arc::new(|_, _| json(serde_json::json!({"data": [], "next": null}), vec![])),
    )
    .await;
    let mut a = args(
        none.url("/x"),
        &[
            "--format",
            "json",
            "--paginate",
            "next_url",
            "--next",
            "next",
        ],
    );
    a.resource.out = Some(empty.to_string_lossy().into_owned());
    a.shared.quiet = true;
    pull::run(
        api_settings::resolve(&a).expect("valid"),
        CancellationToken::new(),
    )
    .await
    .expect("ran");
    assert_eq!(std::fs::read_to_string(&empty).expect("output"), "[]\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_in_the_url_is_basic_auth_and_never_written() {
    let s = server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("page.jsonl");
    let url = s.url("/page").replace("http://", "http://alice:S3cret@");
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
        .args([
            "-v",
            "api",
            &url,
            "--paginate",
            "page",
            "--total-pages",
            "total_pages",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .await
        .expect("ran");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let hits = s.hits();
    assert!(hits.len() > 1, "every page was pulled");
    for hit in &hits {
        // base64("alice:S3cret")
        assert_eq!(
            hit.header("authorization"),
            Some("Basic YWxpY2U6UzNjcmV0"),
            "{}",
            hit.path
        );
    }
    let mut places = support::binary::every_file(dir.path());
    assert!(places.len() >= 2, "the records and the summary: {places:?}");
    places.push(("stdout".into(), o.stdout));
    places.push(("stderr".into(), o.stderr));
    support::binary::assert_nowhere(&places, &["S3cret", "YWxpY2U6UzNjcmV0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_dash_into_head_stops_quietly_with_exit_0() {
    let s = slow_api(Duration::from_millis(100)).await;
    // A real pipe into a real `head`, which exits after one line while
    // the pull still has pages to fetch and write.
    let script = format!(
        "'{}' api '{}' --paginate page --total-pages total_pages --out - | head -1; \
         echo \"api exit ${{PIPESTATUS[0]}}\" >&2",
        env!("CARGO_BIN_EXE_collector"),
        s.url("/slow")
    );
    let run = tokio::process::Command::new("bash")
        .args(["-c", &script])
        .kill_on_drop(true)
        .output();
    let o = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the pull stopped when head exited")
        .expect("bash runs");
    let stdout = String::from_utf8(o.stdout).expect("utf-8");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    serde_json::from_str::<serde_json::Value>(stdout.trim()).expect("a JSON record");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        stderr.trim(),
        "api exit 0",
        "nothing else on stderr: {stderr}"
    );
    assert!(
        s.hits().len() < 21,
        "stopped before the last page: {}",
        s.hits().len()
    );
}
