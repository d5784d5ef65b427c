//! Resumable crawls (`--state DIR`): a crawl killed with SIGKILL at random
//! moments and run again each time ends with every page exactly once in
//! its output, and no page whose record was committed is requested again.
//! Also: a state of other seeds is refused, `--fresh` starts over, a
//! complete state is not crawled twice, Ctrl-C says how to resume.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use support::binary::{collector, spawn_crawl, stderr, summary_json, write};
use support::{Reply, Server, html_with_links, records, urls};

/// Pages in the test site.
const PAGES: usize = 3000;

/// `/p0` .. `/p{PAGES-1}`, each linking to the next page and to a few
/// others, every page answered after a short pause so a crawl takes a few
/// seconds.
async fn site() -> Server {
    Server::start(
        "127.0.0.7",
        Arc::new(|path, _| {
            if path == "/robots.txt" {
                return Reply::Status(404);
            }
            let Some(n) = path
                .strip_prefix("/p")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n < PAGES)
            else {
                return Reply::Status(404);
            };
            let links: Vec<String> = [n + 1, (n * 7 + 3) % PAGES, (n * 31 + 11) % PAGES, n / 2]
                .into_iter()
                .filter(|k| *k < PAGES)
                .map(|k| format!("/p{k}"))
                .collect();
            Reply::Delayed(
                Duration::from_millis(6),
                Box::new(Reply::Html(html_with_links(&format!("page {n}"), &links))),
            )
        }),
    )
    .await
}

/// The checkpoint the last commit stored in the state, read straight
/// from the store (the crawl that wrote it is dead).
fn checkpoint(state: &Path) -> Option<serde_json::Value> {
    let conn = rusqlite::Connection::open(state.join("frontier.sqlite")).expect("open state");
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
        .expect("locking mode");
    let bytes: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE key = 'positions'", [], |r| {
            r.get(0)
        })
        .ok();
    bytes.map(|b| serde_json::from_slice(&b).expect("checkpoint is JSON"))
}

/// The paths whose records are within the committed length of pages.jsonl.
fn committed_paths(state: &Path) -> BTreeSet<String> {
    let Some(checkpoint) = checkpoint(state) else {
        return BTreeSet::new();
    };
    let len = checkpoint["files"]["pages.jsonl"].as_u64().expect("length") as usize;
    let part = state.join("pages.jsonl.part");
    let file = if part.exists() {
        part
    } else {
        state.join("pages.jsonl")
    };
    let bytes = std::fs::read(&file).expect("read output");
    assert!(
        bytes.len() >= len,
        "the output is shorter than its checkpoint"
    );
    let text = std::str::from_utf8(&bytes[..len]).expect("utf-8");
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the checkpoint ends a line"
    );
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("committed line is JSON");
            let url = url::Url::parse(v["url"].as_str().expect("url")).expect("url parses");
            url.path().to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_five_times_the_output_holds_every_page_once() {
    let server = site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/p0"));
    let state = dir.path().join("state");
    let state_arg = state.to_string_lossy().into_owned();
    let args = [
        "--state",
        &state_arg,
        "--concurrency",
        "8",
        "--per-host",
        "8",
    ];
    let mut committed = BTreeSet::new();
    let mut seen_hits = 0;
    let mut killed_midway = 0;
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    for round in 0..5 {
        let mut child = spawn_crawl(&seeds, &args);
        tokio::time::sleep(Duration::from_millis(rng.u64(300..900))).await;
        if child.try_wait().expect("try_wait").is_none() {
            killed_midway += 1;
        }
        child.start_kill().expect("SIGKILL");
        child.wait().await.expect("reaped");
        let hits = server.paths();
        for path in &hits[seen_hits..] {
            assert!(
                !committed.contains(path),
                "round {round}: {path} was requested again after its record was committed"
            );
        }
        seen_hits = hits.len();
        let now = committed_paths(&state);
        assert!(
            now.is_superset(&committed),
            "round {round}: committed records were lost"
        );
        committed = now;
    }
    assert!(
        killed_midway >= 4,
        "only {killed_midway} of 5 kills hit a running crawl"
    );
    assert!(
        !committed.is_empty(),
        "nothing was committed before the kills"
    );

    let out = collector(
        &["crawl", &seeds, "--progress", "never", "--quiet"]
            .into_iter()
            .chain(args)
            .collect::<Vec<_>>(),
        dir.path(),
    );
    assert!(out.status.success(), "final run: {}", stderr(&out));
    let hits = server.paths();
    for path in &hits[seen_hits..] {
        assert!(
            !committed.contains(path),
            "{path} requested again at the end"
        );
    }

    let records = records(&state);
    let mut by_url: BTreeMap<String, usize> = BTreeMap::new();
    for r in &records {
        *by_url
            .entry(r["url"].as_str().expect("url").to_string())
            .or_default() += 1;
    }
    let twice: Vec<_> = by_url.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "records written twice: {twice:?}");
    let expected: BTreeSet<String> = (0..PAGES).map(|n| server.url(&format!("/p{n}"))).collect();
    let got: BTreeSet<String> = by_url.into_keys().collect();
    assert_eq!(got, expected, "the output holds the exact page set");
    let summary = summary_json(&state);
    assert_eq!(summary["pages"], PAGES as u64, "{summary}");
    assert_eq!(summary["by_status"]["200"], PAGES as u64, "{summary}");

    let pages_requested = hits.iter().filter(|p| p.starts_with("/p")).count();
    eprintln!(
        "{PAGES} pages, {pages_requested} requests over 6 runs: {} fetched again after a kill",
        pages_requested - PAGES
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_of_other_seeds_is_refused_and_fresh_starts_over() {
    let server = site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let state_arg = state.to_string_lossy().into_owned();
    let crawl = |seed: &str, extra: &[&str]| {
        let mut args = vec!["crawl", seed, "--quiet", "--max-pages", "5"];
        args.extend(["--state", &state_arg]);
        args.extend(extra);
        collector(&args, dir.path())
    };
    let first = crawl(&server.url("/p0"), &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(records(&state).len(), 5);

    let other = crawl(&server.url("/p100"), &[]);
    assert_eq!(other.status.code(), Some(2), "{}", stderr(&other));
    let msg = stderr(&other);
    assert!(
        msg.contains("other seeds or scope") && msg.contains("--fresh"),
        "{msg}"
    );
    assert_eq!(
        records(&state).len(),
        5,
        "the refused run left the output alone"
    );

    let fresh = crawl(&server.url("/p100"), &["--fresh"]);
    assert!(fresh.status.success(), "{}", stderr(&fresh));
    let urls = urls(&records(&state));
    assert_eq!(urls.len(), 5);
    assert!(urls.contains(&server.url("/p100")), "{urls:?}");
    assert!(!urls.contains(&server.url("/p0")), "{urls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_budget_continues_and_a_complete_state_is_not_crawled_again() {
    let server = Server::start(
        "127.0.0.7",
        Arc::new(|path, _| match path {
            "/" => Reply::Html(html_with_links("home", &["/a".into(), "/b".into()])),
            "/a" => Reply::Html(html_with_links("a", &["/c".into()])),
            "/b" | "/c" => Reply::Html(html_with_links(path, &[])),
            _ => Reply::Status(404),
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let state_arg = state.to_string_lossy().into_owned();
    let seed = server.url("/");
    let crawl = |extra: &[&str]| {
        let mut args = vec!["crawl", seed.as_str(), "--state", &state_arg];
        args.extend(extra);
        collector(&args, dir.path())
    };
    let first = crawl(&["--max-pages", "2", "--quiet"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(records(&state).len(), 2);
    let on = crawl(&["--max-pages", "10", "--quiet"]);
    assert!(on.status.success(), "{}", stderr(&on));
    let urls: Vec<String> = records(&state)
        .iter()
        .map(|r| r["url"].as_str().expect("url").to_string())
        .collect();
    assert_eq!(urls.len(), 4, "{urls:?}");
    assert_eq!(urls.iter().collect::<BTreeSet<_>>().len(), 4, "{urls:?}");
    assert_eq!(summary_json(&state)["pages"], 4);
    let requests = server.paths().len();

    let again = crawl(&[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("is complete"), "{}", stderr(&again));
    assert_eq!(
        server.paths().len(),
        requests,
        "a complete crawl requests nothing"
    );
    assert_eq!(records(&state).len(), 4);
}

#[test]
fn state_needs_an_output_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = collector(
        &["crawl", "http://127.0.0.1:9/", "--state", "s", "--out", "-"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--state needs an output directory"));
    let out = collector(&["crawl", "http://127.0.0.1:9/", "--fresh"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--state"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_resumes_whole_after_a_kill() {
    let server = site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/p0"));
    let state = dir.path().join("state");
    let state_arg = state.to_string_lossy().into_owned();
    let args = [
        "--state",
        &state_arg,
        "--format",
        support::binary::ALL_FORMATS,
        "--max-pages",
        "300",
        "--log-skipped",
        // At most 200 pages a second: an idle machine crawled all 300 in
        // 0.5 s, before the kill below.
        "--rate",
        "200",
    ];
    let mut child = spawn_crawl(&seeds, &args);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "killed midway"
    );
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("reaped");
    assert!(checkpoint(&state).is_some(), "a checkpoint before the kill");

    let mut all = vec!["crawl", seeds.as_str(), "--quiet"];
    all.extend(args);
    let out = collector(&all, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));

    let jsonl = urls(&records(&state));
    assert_eq!(jsonl.len(), 300);
    assert_eq!(records(&state).len(), 300, "no record twice");
    let json = support::binary::json_array(&state);
    assert_eq!(json.len(), 300, "pages.json is one array of every record");
    let (header, rows) = support::binary::csv_rows(&state);
    assert_eq!(header[0], "url", "one header row");
    assert_eq!(rows.len(), 300);
    let warc = support::warc::read_warc(&state.join("pages.warc.gz"));
    let responses: BTreeSet<&str> = warc
        .iter()
        .filter(|r| r["type"] == "response")
        .map(|r| r["uri"].as_str().expect("uri"))
        .collect();
    assert_eq!(
        warc.iter().filter(|r| r["type"] == "response").count(),
        300,
        "one response record per page"
    );
    assert_eq!(responses.len(), 300);
    assert!(
        warc.iter().filter(|r| r["type"] == "warcinfo").count() == 2,
        "each run starts with its warcinfo record"
    );
    let skipped = std::fs::read_to_string(state.join("skipped.jsonl")).expect("skipped.jsonl");
    assert!(
        skipped
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_saves_the_state_and_says_how_to_resume() {
    let server = site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/p0"));
    let state = dir.path().join("state");
    let state_arg = state.to_string_lossy().into_owned();
    let args = ["--state", &state_arg, "--max-pages", "1000"];
    let child = spawn_crawl(&seeds, &args);
    tokio::time::sleep(Duration::from_millis(400)).await;
    support::binary::signal(&child, "-INT");
    let out = child.wait_with_output().await.expect("ends");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("run the same command again to resume"),
        "{err}"
    );
    let first = records(&state).len();
    assert!(first > 0 && first < 1000, "{first} records before Ctrl-C");
    assert_eq!(summary_json(&state)["interrupted"], true);

    let mut all = vec!["crawl", seeds.as_str(), "--quiet"];
    all.extend(args);
    let out = collector(&all, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let urls = urls(&records(&state));
    assert_eq!(records(&state).len(), 1000);
    assert_eq!(urls.len(), 1000);
    assert_eq!(summary_json(&state)["pages"], 1000);
}
