//! The binary: exit codes, error messages, Ctrl-C.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::binary::{
    collector, csv_rows, signal, spawn_crawl, spawn_endless_crawl, stderr, summary_json, write,
};
use support::{Reply, Server};

/// `collector crawl NAME --out DIR --quiet` on a seed file holding
/// `text`, which must exit 2 before starting: its standard error.
fn rejected_seed_file(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), name, text);
    let out = dir.path().join("out");
    let o = collector(
        &[
            "crawl",
            &seeds,
            "--out",
            out.to_str().expect("utf-8"),
            "--quiet",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!out.exists(), "nothing was started");
    stderr(&o)
}

#[test]
fn an_invalid_seed_line_exits_2_naming_file_and_line() {
    let err = rejected_seed_file("seeds.txt", "# two seeds\nhttp://127.0.0.1:9/\nnot a url\n");
    assert!(err.contains("seeds.txt:3: "), "{err}");
}

#[test]
fn every_bad_seed_line_is_reported_with_its_number() {
    let err = rejected_seed_file(
        "bad.txt",
        "\u{feff}http://127.0.0.1:9/ # a comment, not part of the URL\nnot a url\n\n127.0.0.1:8080/x\nexample.com/x\nftp://127.0.0.1/\n",
    );
    let named: Vec<&str> = err.lines().filter(|l| l.contains("bad.txt:")).collect();
    assert_eq!(named.len(), 4, "{err}");
    for (line, n) in named.iter().zip([2, 4, 5, 6]) {
        assert!(line.contains(&format!("bad.txt:{n}: ")), "{err}");
    }
    assert!(named[1].contains("add http:// or https://"), "{err}");
    assert!(named[2].contains("add http:// or https://"), "{err}");
    assert!(!err.contains("bad.txt:1:"), "{err}");
}

#[test]
fn bad_options_and_config_keys_exit_2_naming_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", "http://127.0.0.1:9/\n");
    let o = collector(&["crawl", &seeds, "--concurrency", "0"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--concurrency"), "{}", stderr(&o));
    let o = collector(&["crawl", &seeds, "--timeout", "-1"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--timeout"), "{}", stderr(&o));

    let config = write(dir.path(), "crawl.toml", "concurrency = 4\nper_hots = 2\n");
    let o = collector(&["crawl", &seeds, "--config", &config], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("per_hots"), "{}", stderr(&o));
    assert!(stderr(&o).contains("crawl.toml"), "{}", stderr(&o));

    let config = write(dir.path(), "typed.toml", "max_pages = \"ten\"\n");
    let o = collector(&["crawl", &seeds, "--config", &config], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("max_pages"), "{}", stderr(&o));

    let o = collector(&["crawl", "/nonexistent/seeds.txt"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/seeds.txt"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_demo_crawls_the_built_in_site() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("demo");
    let o = collector(
        &[
            "demo",
            "--out",
            out.to_str().expect("utf-8"),
            "--pages",
            "120",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let records = support::records(&out);
    support::assert_schema_valid(&records);
    let ok = records.iter().filter(|r| r["status"] == 200).count();
    let missing = records.iter().filter(|r| r["status"] == 404).count();
    assert_eq!(ok, 120);
    assert!(missing > 0, "the demo has broken links");
    let summary = summary_json(&out);
    assert!(summary["skipped"]["robots_denied"].as_u64() > Some(0));
    // The built-in job (config/demo.toml) extracts fields from every page.
    let page = records
        .iter()
        .find(|r| {
            r["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("/section-1/page-57.html"))
        })
        .expect("page 57 was crawled");
    assert_eq!(page["rule"], "page");
    assert_eq!(page["data"]["heading"], "Demo page 57");
    assert_eq!(page["data"]["number"], 57);
    assert!(
        page["data"]["links"]
            .as_array()
            .is_some_and(|l| !l.is_empty())
    );
    assert_eq!(summary["by_rule"]["page"].as_u64(), Some(ok as u64));
    assert_eq!(summary["incomplete"], 0);
    let (header, rows) = csv_rows(&out);
    assert_eq!(header[..3], ["url", "final_url", "status"]);
    assert_eq!(header[9..12], ["heading", "number", "links"]);
    assert_eq!(rows.len(), records.len());
    assert!(
        stderr(&o).contains("pages in"),
        "a human summary is printed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_page_makes_exit_status_1() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| match path {
            "/robots.txt" => Reply::Status(404),
            "/" => Reply::Html(support::html_with_links("root", &["/broken".into()])),
            _ => Reply::Status(500),
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/"));
    let out = dir.path().join("out");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
        .args([
            "crawl",
            &seeds,
            "--out",
            out.to_str().expect("utf-8"),
            "--retries",
            "0",
            "--quiet",
        ])
        .output();
    let o = tokio::time::timeout(Duration::from_secs(30), child)
        .await
        .expect("finished")
        .expect("ran");
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(support::records(&out).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_leaves_complete_output_and_exits_130() {
    // An endless, slow site: the crawl can only end by being interrupted.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let out_arg = out.to_str().expect("utf-8");
    let (_server, mut child) = spawn_endless_crawl(dir.path(), &["--out", out_arg]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        out.join("pages.jsonl.part").exists(),
        "records are being written"
    );
    signal(&child, "-INT");
    let started = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exited after SIGINT")
        .expect("wait");
    assert_eq!(status.code(), Some(130));
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(!out.join("pages.jsonl.part").exists());
    let records = support::records(&out);
    support::assert_schema_valid(&records);
    assert!(
        records.len() > 5,
        "pages fetched before the interrupt are kept"
    );
    let summary = summary_json(&out);
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["pages"], records.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sigint_exits_at_once() {
    // Pages that take far longer than the shutdown grace period.
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| match path {
            "/robots.txt" => Reply::Status(404),
            _ => Reply::Delayed(
                Duration::from_secs(60),
                Box::new(Reply::Html("late".into())),
            ),
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/slow"));
    let out = dir.path().join("out");
    let out_arg = out.to_str().expect("utf-8");
    let mut child = spawn_crawl(&seeds, &["--out", out_arg]);
    // Wait until the slow request is in flight.
    for _ in 0..100 {
        if server.count("/slow") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.count("/slow"), 1);
    signal(&child, "-INT");
    tokio::time::sleep(Duration::from_millis(300)).await;
    signal(&child, "-INT");
    let started = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("exited soon after the second SIGINT")
        .expect("wait");
    assert_eq!(status.code(), Some(130));
    assert!(started.elapsed() < Duration::from_secs(3));
}
