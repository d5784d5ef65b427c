//! The JSON contracts in `schema/`, each checked against real output of a
//! run against a local server: crawl records, skipped records and
//! summary; an API pull's summary and state file, complete and stopped,
//! and a config file's run summary; the `collector fetch` report; the
//! JSON log events of a crawl and of API pulls. The
//! schemas forbid unknown keys, so a field added to the output without its
//! schema fails here.

mod support;
mod support_api;

use std::path::Path;

use serde_json::Value;
use support::binary::{collector, stderr, write};
use support::{Server, assert_valid};

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

#[tokio::test]
async fn crawl_summary_and_skipped_records_match_their_schemas() {
    let (server, _) = support::sites::small_site().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut flags = support::options(dir.path());
    flags.run.log_skipped = Some(true);
    flags.run.max_pages = Some(3);
    support::crawl(&[server.url("/")], flags).await;
    let summary = read_json(&dir.path().join("summary.json"));
    assert_valid("crawl-summary.json", &summary);
    let skipped = jsonl(&dir.path().join("skipped.jsonl"));
    assert!(
        !skipped.is_empty(),
        "the small site links to more than 3 pages"
    );
    for s in &skipped {
        assert_valid("skipped-record.json", s);
    }
    for r in support::records(dir.path()) {
        assert_valid("page-record.json", &r);
    }
}

#[test]
fn crawl_summary_with_rules_and_demo_match() {
    let dir = tempfile::tempdir().expect("temp dir");
    let o = collector(
        &["demo", "--out", "d", "--quiet", "--pages", "40"],
        dir.path(),
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let summary = read_json(&dir.path().join("d/summary.json"));
    assert!(summary["by_rule"].is_object());
    assert_valid("crawl-summary.json", &summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_summaries_and_state_match_their_schemas() {
    let server = support_api::server().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let o = collector(
        &[
            "api",
            &server.url("/cursor"),
            "--out",
            "items.jsonl",
            "--quiet",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_valid(
        "api-summary.json",
        &read_json(&dir.path().join("items.summary.json")),
    );

    // A pull that stops on a bad page keeps its state for --resume.
    let o = collector(
        &[
            "api",
            &server.url("/broken"),
            "--out",
            "broken.jsonl",
            "--quiet",
            "--retries",
            "0",
            "--paginate",
            "page",
            "--total-pages",
            "total_pages",
            "--records",
            "items",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let summary = read_json(&dir.path().join("broken.summary.json"));
    assert!(summary["error"].is_object(), "{summary}");
    assert_eq!(summary["pages"], 6, "{summary}");
    assert_valid("api-summary.json", &summary);
    let state = read_json(&dir.path().join("broken.state.json"));
    assert!(state["strategy"].is_object(), "{state}");
    assert_valid("api-state.json", &state);

    // A config file with two resources: one summary.json for the run.
    let config = format!(
        "out_dir = \"run\"\nquiet = true\n\n[[resource]]\nname = \"links\"\nurl = \"{}\"\npaginate = \"link\"\n\n\
         [[resource]]\nname = \"pages\"\nurl = \"{}\"\npaginate = \"page\"\ntotal_pages = \"total_pages\"\nrecords = \"items\"\n",
        server.url("/link"),
        server.url("/page")
    );
    let file = write(dir.path(), "api.toml", &config);
    let o = collector(&["api", &file], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let run = read_json(&dir.path().join("run/summary.json"));
    assert_eq!(
        run["resources"].as_object().map(|r| r.len()),
        Some(2),
        "{run}"
    );
    assert_valid("api-summary.json", &run);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_reports_match_their_schema() {
    let (server, _) = support::sites::small_site().await;
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, code) in [("/", 0), ("/moved", 0), ("/no-such-page", 0)] {
        let o = collector(&["fetch", &server.url(path), "--timeout", "5"], dir.path());
        assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
        let report: Value = serde_json::from_slice(&o.stdout).expect("the report is JSON");
        assert_valid("fetch-report.json", &report);
    }
    let unreachable = Server::start(
        "127.0.0.1",
        std::sync::Arc::new(|_, _| support::Reply::Status(503)),
    )
    .await;
    let o = collector(
        &[
            "fetch",
            &unreachable.url("/"),
            "--retries",
            "0",
            "--timeout",
            "5",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).expect("the report is JSON");
    assert!(report["error"].is_object(), "{report}");
    assert_valid("fetch-report.json", &report);
}

/// Every line of `o`'s standard error, each checked against
/// `log-event.json`; the events with target `collector::summary`.
fn log_events(o: &std::process::Output) -> (Vec<Value>, Vec<Value>) {
    let events: Vec<Value> = String::from_utf8_lossy(&o.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for e in &events {
        assert_valid("log-event.json", e);
    }
    let summaries = events
        .iter()
        .filter(|e| e["target"] == "collector::summary")
        .cloned()
        .collect();
    (events, summaries)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_events_of_a_crawl_and_of_pulls_match_their_schema() {
    let (site, _) = support::sites::small_site().await;
    let api = support_api::server().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.extend(["--log-format".into(), "json".into()]);
        support::binary::collector_env(&all, &[], dir.path())
    };
    let o = run(&[
        "crawl",
        &site.url("/"),
        "--out",
        "c",
        "-vv",
        "--max-pages",
        "5",
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let (events, summaries) = log_events(&o);
    assert!(
        events
            .iter()
            .any(|e| e["level"] == "DEBUG" && e["url"].is_string() && e["status"].is_u64()),
        "-v logs each request"
    );
    assert!(events.iter().any(|e| e["level"] == "TRACE"), "-vv");
    assert_eq!(summaries.len(), 1, "{summaries:?}");
    assert_eq!(summaries[0]["message"], "crawl finished");

    let o = run(&["api", &api.url("/cursor"), "--out", "a.jsonl", "-v"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (_, summaries) = log_events(&o);
    assert_eq!(summaries.len(), 1, "{summaries:?}");
    assert_eq!(summaries[0]["records"], support_api::TOTAL);

    let o = run(&[
        "api",
        &api.url("/broken"),
        "--out",
        "b.jsonl",
        "-v",
        "--retries",
        "0",
        "--paginate",
        "page",
        "--total-pages",
        "total_pages",
        "--records",
        "items",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let (events, summaries) = log_events(&o);
    assert_eq!(summaries[0]["stopped"], "error");
    assert!(
        events
            .iter()
            .any(|e| e["level"] == "ERROR" && e["page"] == 7 && e["kind"] == "decode"),
        "the error is an event naming the page"
    );
}
