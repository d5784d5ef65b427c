//! The binary: exit codes, error messages, Ctrl-C.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{Reply, Server};

fn collector(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("collector runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    p.to_string_lossy().into_owned()
}

/// `collector crawl SEEDS --out OUT` in the background, for signal tests.
fn spawn_crawl(seeds: &str, out: &Path) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(["crawl", seeds, "--progress", "never", "--out"])
        .arg(out)
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn")
}

#[test]
fn an_invalid_seed_line_exits_2_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(
        dir.path(),
        "seeds.txt",
        "# two seeds\nhttp://127.0.0.1:9/\nnot a url\n",
    );
    let out = dir.path().join("out");
    let o = collector(&[
        "crawl",
        &seeds,
        "--out",
        out.to_str().expect("utf-8"),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("seeds.txt:3: "), "{}", stderr(&o));
    assert!(!out.exists(), "nothing was started");
}

#[test]
fn bad_options_and_config_keys_exit_2_naming_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", "http://127.0.0.1:9/\n");
    let o = collector(&["crawl", &seeds, "--concurrency", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--concurrency"), "{}", stderr(&o));
    let o = collector(&["crawl", &seeds, "--timeout", "-1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--timeout"), "{}", stderr(&o));

    let config = write(dir.path(), "crawl.toml", "concurrency = 4\nper_hots = 2\n");
    let o = collector(&["crawl", &seeds, "--config", &config]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("per_hots"), "{}", stderr(&o));
    assert!(stderr(&o).contains("crawl.toml"), "{}", stderr(&o));

    let config = write(dir.path(), "typed.toml", "max_pages = \"ten\"\n");
    let o = collector(&["crawl", &seeds, "--config", &config]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("max_pages"), "{}", stderr(&o));

    let o = collector(&["crawl", "/nonexistent/seeds.txt"]);
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
    let o = collector(&[
        "demo",
        "--out",
        out.to_str().expect("utf-8"),
        "--pages",
        "120",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let records = support::records(&out);
    support::assert_schema_valid(&records);
    let ok = records.iter().filter(|r| r["status"] == 200).count();
    let missing = records.iter().filter(|r| r["status"] == 404).count();
    assert_eq!(ok, 120);
    assert!(missing > 0, "the demo has broken links");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("JSON");
    assert!(summary["skipped"]["robots_denied"].as_u64() > Some(0));
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
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| {
            if path == "/robots.txt" {
                return Reply::Status(404);
            }
            let n: u64 = path.trim_start_matches("/n").parse().unwrap_or(0);
            let links = (1..=4)
                .map(|k| format!("/n{}", n * 4 + k))
                .collect::<Vec<_>>();
            Reply::Delayed(
                Duration::from_millis(50),
                Box::new(Reply::Html(support::html_with_links(
                    &format!("n{n}"),
                    &links,
                ))),
            )
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/n0"));
    let out = dir.path().join("out");
    let mut child = spawn_crawl(&seeds, &out);
    let pid = child.id().expect("pid");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        out.join("pages.jsonl.part").exists(),
        "records are being written"
    );
    let kill = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
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
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("JSON");
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
    let mut child = spawn_crawl(&seeds, &out);
    let pid = child.id().expect("pid").to_string();
    // Wait until the slow request is in flight.
    for _ in 0..100 {
        if server.count("/slow") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.count("/slow"), 1);
    let interrupt = || {
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill")
    };
    assert!(interrupt().success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(interrupt().success());
    let started = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("exited soon after the second SIGINT")
        .expect("wait");
    assert_eq!(status.code(), Some(130));
    assert!(started.elapsed() < Duration::from_secs(3));
}
