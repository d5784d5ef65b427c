//! What `collector api` does with the files an earlier pull left: a
//! resumed pull fetches side by side as the first run did (at its
//! `--concurrency`), a stopped
//! pull in the way is refused (exit 2) unless `--resume` or
//! `--overwrite`, and incremental pulls append to FILE.

mod support;
mod support_api;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use collector::api::pull::{self, Stopped};
use collector::api::settings as api_settings;
use support::binary::{collector, stderr};
use support::{Reply, Server};
use support_api::*;
use tokio_util::sync::CancellationToken;

fn ids_in(path: &Path) -> Vec<u64> {
    std::fs::read_to_string(path)
        .expect("records")
        .lines()
        .map(|l| l.trim_start_matches(['[', ',']))
        .filter(|l| *l != "]")
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).expect("JSON")["id"]
                .as_u64()
                .expect("id")
        })
        .collect()
}

fn pages_in_state(path: &Path) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["pages"].as_u64())
        .unwrap_or(0)
}

/// Pulls 21 slow pages with `--concurrency N`, stops the pull after 5,
/// resumes it without `--concurrency`, and returns the gaps between the
/// resumed pull's requests as they arrived.
async fn stop_then_resume_at(concurrency: &str) -> Vec<Duration> {
    // Every page answers after 100 ms: one after the other, two requests
    // never start within 100 ms of each other.
    let arrivals = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let seen = arrivals.clone();
    let s = Server::start(
        "127.0.0.1",
        Arc::new(move |path, nth| {
            seen.lock().expect("lock").push(Instant::now());
            Reply::Delayed(
                Duration::from_millis(100),
                Box::new(api(&path.replace("/slow", "/page"), nth)),
            )
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("items.jsonl");
    let settings = |resume: bool| {
        let mut flags = vec![
            "--paginate",
            "page",
            "--total-pages",
            "total_pages",
            "--records",
            "items",
        ];
        if !resume {
            flags.extend(["--concurrency", concurrency]);
        }
        let mut a = args(s.url("/slow"), &flags);
        a.resource.out = Some(out.to_string_lossy().into_owned());
        a.shared.quiet = true;
        a.shared.resume = resume;
        api_settings::resolve(&a).expect("valid")
    };
    let stop = CancellationToken::new();
    let first = tokio::spawn(pull::run(settings(false), stop.clone()));
    let state = dir.path().join("items.state.json");
    let deadline = Instant::now() + Duration::from_secs(20);
    while pages_in_state(&state) < 5 {
        assert!(Instant::now() < deadline, "the pull made no progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.cancel();
    let first = first.await.expect("joined").expect("first run");
    assert_eq!(first.stopped, Stopped::Interrupted);
    assert!(first.pages < 21, "{first:?}");

    arrivals.lock().expect("lock").clear();
    let second = tokio::time::timeout(
        Duration::from_secs(30),
        pull::run(settings(true), CancellationToken::new()),
    )
    .await
    .expect("resumed in time")
    .expect("resumed");
    assert!(second.error.is_none(), "{:?}", second.error);
    assert_eq!(second.pages, 21);
    assert_eq!(ids_in(&out), all_ids(), "every record once, in order");
    let mut times = arrivals.lock().expect("lock").clone();
    times.sort();
    times
        .windows(2)
        .map(|w| w[1].duration_since(w[0]))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_pull_fetches_its_pages_side_by_side_again() {
    let gaps = stop_then_resume_at("4").await;
    // Three requests within less than one page's 100 ms.
    let overlapping = gaps
        .windows(2)
        .any(|w| w[0] + w[1] < Duration::from_millis(90));
    assert!(
        overlapping,
        "the resumed pull fetched one page at a time: {gaps:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_pull_keeps_the_concurrency_it_was_started_with() {
    let gaps = stop_then_resume_at("1").await;
    assert!(
        gaps.iter().all(|g| *g >= Duration::from_millis(95)),
        "--concurrency 1 was not kept: {gaps:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_pull_in_the_way_exits_2_unless_resume_or_overwrite() {
    let s = server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let page = |route: &str, extra: &[&str]| {
        let mut a: Vec<String> = [
            "api",
            &s.url(route),
            "--paginate",
            "page",
            "--total-pages",
            "total_pages",
            "--records",
            "items",
            "--retries",
            "0",
            "--out",
            "items.jsonl",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        a.extend(extra.iter().map(|e| e.to_string()));
        a
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        collector(&args, dir.path())
    };
    // Page 7 is broken: the pull stops with 6 pages in items.jsonl.part.
    let o = run(page("/broken", &[]));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let part = dir.path().join("items.jsonl.part");
    let kept = std::fs::read(&part).expect("part kept");

    let o = run(page("/page", &[]));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("items.jsonl.part"), "{err}");
    assert!(err.contains("items.state.json"), "{err}");
    assert!(
        err.contains("--resume") && err.contains("--overwrite"),
        "{err}"
    );
    assert_eq!(std::fs::read(&part).expect("part"), kept, "left as it was");
    assert!(!dir.path().join("items.jsonl").exists());

    let o = run(page("/page", &["--resume", "--overwrite"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    let o = run(page("/page", &["--overwrite"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(ids_in(&dir.path().join("items.jsonl")), all_ids());
    assert!(!part.exists());
}

/// A feed whose records up to `newest` exist, each `updated_at` its id.
async fn feed(newest: Arc<std::sync::atomic::AtomicU64>) -> Server {
    Server::start(
        "127.0.0.1",
        Arc::new(move |path, _| {
            let since = query(path, "since")
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(-1);
            let upto = newest.load(std::sync::atomic::Ordering::SeqCst);
            let data: Vec<serde_json::Value> = (0..upto)
                .filter(|id| *id as i64 > since)
                .map(|id| serde_json::json!({"id": id, "updated_at": id}))
                .collect();
            json(serde_json::json!({"data": data, "next": null}), vec![])
        }),
    )
    .await
}

#[tokio::test]
async fn incremental_pulls_append_and_a_pull_with_nothing_new_keeps_the_file() {
    use std::sync::atomic::Ordering;
    for format in ["jsonl", "json"] {
        let newest = Arc::new(std::sync::atomic::AtomicU64::new(120));
        let server = feed(newest.clone()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join(format!("changes.{format}"));
        let run = || {
            let mut a = args(
                server.url("/changes"),
                &[
                    "--paginate",
                    "next_url",
                    "--next",
                    "next",
                    "--records",
                    "data",
                    "--since-field",
                    "updated_at",
                    "--since-param",
                    "since",
                    "--format",
                    format,
                ],
            );
            a.resource.out = Some(out.to_string_lossy().into_owned());
            a.shared.quiet = true;
            pull::run(
                api_settings::resolve(&a).expect("valid"),
                CancellationToken::new(),
            )
        };
        let first = run().await.expect("first");
        assert_eq!(first.records, 120, "{format}");
        newest.store(150, Ordering::SeqCst);
        let second = run().await.expect("second");
        assert_eq!(second.records, 30, "{format}: only the new ones fetched");
        assert_eq!(ids_in(&out), (0..150).collect::<Vec<_>>(), "{format}");
        let third = run().await.expect("third");
        assert_eq!(third.records, 0, "{format}");
        assert_eq!(ids_in(&out), (0..150).collect::<Vec<_>>(), "{format}");
        if format == "json" {
            let all: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&out).expect("file"))
                    .expect("one array");
            assert_eq!(all.as_array().map(Vec::len), Some(150));
        }

        // A crash after the state said complete but before the rename:
        // the next pull puts the file in place, then appends.
        let part = dir.path().join(format!("changes.{format}.part"));
        std::fs::rename(&out, &part).expect("undo the rename");
        newest.store(160, Ordering::SeqCst);
        let fourth = run().await.expect("fourth");
        assert_eq!(fourth.records, 10, "{format}");
        assert_eq!(ids_in(&out), (0..160).collect::<Vec<_>>(), "{format}");
        assert!(!part.exists());

        // Without a high-water mark (forgotten with --overwrite, or the
        // first incremental run after plain pulls) a pull asks for
        // everything, and replaces FILE rather than doubling it.
        let state = dir.path().join("changes.state.json");
        let mut saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&state).expect("state")).expect("JSON");
        saved["since"] = serde_json::Value::Null;
        std::fs::write(&state, saved.to_string()).expect("state without a mark");
        let full = run().await.expect("full pull");
        assert_eq!(full.records, 160, "{format}: everything asked for");
        assert_eq!(
            ids_in(&out),
            (0..160).collect::<Vec<_>>(),
            "{format}: not doubled"
        );
    }
}
