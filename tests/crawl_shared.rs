//! Several workers crawl one job through a frontier in a real
//! `redis-server` (`--frontier redis://... --job NAME`): every page is
//! fetched once and exported once, a worker killed with SIGKILL loses
//! nothing, politeness holds across workers, the crawl survives a Redis
//! restart, robots.txt is fetched once per job, and `collector status`
//! shows the job finished.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::binary::{collector, stderr, write};
use support::redis::Redis;
use support::{Reply, Server, html_with_links};

/// Pages per host of the test site.
const PAGES: usize = 150;

/// `/p0` .. `/p{PAGES-1}` on one host, each linking to a few pages of its
/// own host and to the same page on `other` (the second host), answered
/// after `delay`.
async fn host(ip: &str, other: Option<String>, delay: Duration) -> Server {
    Server::start(
        ip,
        Arc::new(move |path, _| {
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
            let mut links: Vec<String> = [n + 1, (n * 7 + 3) % PAGES, n / 2]
                .into_iter()
                .filter(|k| *k < PAGES)
                .map(|k| format!("/p{k}"))
                .collect();
            if let Some(other) = &other {
                links.push(format!("{other}/p{n}"));
            }
            Reply::Delayed(
                delay,
                Box::new(Reply::Html(html_with_links(&format!("page {n}"), &links))),
            )
        }),
    )
    .await
}

/// Two hosts, the first linking into the second.
async fn two_hosts(delay: Duration) -> (Server, Server) {
    let b = host("127.0.0.22", None, delay).await;
    let a = host("127.0.0.21", Some(format!("http://{}", b.addr)), delay).await;
    (a, b)
}

fn all_pages(servers: &[&Server]) -> BTreeSet<String> {
    servers
        .iter()
        .flat_map(|s| (0..PAGES).map(move |n| s.url(&format!("/p{n}"))))
        .collect()
}

/// `collector crawl SEEDS --frontier URL --job JOB --out OUT ARGS...`, in
/// the background, no standard input; killed when dropped.
fn worker(
    seeds: &str,
    redis: &Redis,
    job: &str,
    out: &Path,
    args: &[&str],
) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(["crawl", seeds, "--frontier", &redis.url(), "--job", job])
        .arg("--out")
        .arg(out)
        .args(["--progress", "never", "--no-report"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn worker")
}

/// Waits for a worker to end (60 s at most); its exit code and stderr.
async fn ended(child: tokio::process::Child) -> (i32, String) {
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the worker ends by itself")
        .expect("worker output");
    (out.status.code().unwrap_or(-1), stderr(&out))
}

/// `collector export` of `job` into `dir`; the exported records' URLs,
/// each as often as it is in the output.
fn export(redis: &Redis, job: &str, dir: &Path) -> Vec<String> {
    let out = dir.join("export");
    let o = collector(
        &[
            "export",
            "--frontier",
            &redis.url(),
            "--job",
            job,
            "--out",
            out.to_str().expect("path"),
            "--quiet",
        ],
        dir,
    );
    assert_eq!(o.status.code(), Some(0), "export: {}", stderr(&o));
    support::records(&out)
        .iter()
        .map(|r| r["url"].as_str().expect("url").to_string())
        .collect()
}

fn status(redis: &Redis, job: &str, dir: &Path) -> serde_json::Value {
    let o = collector(
        &["status", "--frontier", &redis.url(), "--job", job, "--json"],
        dir,
    );
    assert_eq!(o.status.code(), Some(0), "status: {}", stderr(&o));
    let value: serde_json::Value = serde_json::from_slice(&o.stdout).expect("status JSON");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/job-status.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{value} violates job-status.json: {errors:?}"
    );
    value
}

fn assert_each_once(exported: &[String], expected: &BTreeSet<String>) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for u in exported {
        *counts.entry(u).or_default() += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "exported more than once: {twice:?}");
    let got: BTreeSet<String> = counts.keys().map(|s| s.to_string()).collect();
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(expected).collect();
    assert!(missing.is_empty(), "missing from the export: {missing:?}");
    assert!(extra.is_empty(), "not pages of the site: {extra:?}");
}

/// Each request's path and when it came, from the first, for messages.
fn timeline(hits: &[support::Hit]) -> Vec<String> {
    let t0 = hits[0].at;
    hits.iter()
        .map(|h| format!("{} {}ms", h.path, h.at.duration_since(t0).as_millis()))
        .collect()
}

/// Page requests (not robots.txt) in the order the server got them.
fn page_hits(site: &Server) -> Vec<support::Hit> {
    site.hits()
        .into_iter()
        .filter(|h| h.path != "/robots.txt")
        .collect()
}

/// Lines of `out/pages.jsonl(.part)`, written by one worker so far.
fn lines_written(out: &Path) -> usize {
    ["pages.jsonl", "pages.jsonl.part"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(out.join(f)).ok())
        .map(|t| t.lines().count())
        .sum()
}

async fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_fetch_and_export_every_page_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let redis = Redis::start(&dir.path().join("redis"));
    let (a, b) = two_hosts(Duration::from_millis(4)).await;
    let seeds = write(
        dir.path(),
        "seeds.txt",
        &format!("{}\n{}\n", a.url("/p0"), b.url("/p0")),
    );
    let outs: Vec<_> = (0..3).map(|i| dir.path().join(format!("w{i}"))).collect();
    let first = worker(&seeds, &redis, "site", &outs[0], &[]);
    // Exported while the job runs, ending by itself when it is finished.
    let follow_out = dir.path().join("followed");
    let following = tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
        .args([
            "export",
            "--frontier",
            &redis.url(),
            "--job",
            "site",
            "--follow",
            "--quiet",
        ])
        .arg("--out")
        .arg(&follow_out)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn export --follow");
    // The second joins with the same seeds (already seen: not queued
    // twice); the third with none at all, once the job has begun.
    let second = worker(&seeds, &redis, "site", &outs[1], &[]);
    wait_until("the first records are written", || {
        lines_written(&outs[0]) > 0
    })
    .await;
    let third = worker("-", &redis, "site", &outs[2], &[]);
    let mut per_worker = Vec::new();
    for (child, out) in [first, second, third].into_iter().zip(&outs) {
        let (code, err) = ended(child).await;
        assert_eq!(code, 0, "a worker failed: {err}");
        per_worker.push(lines_written(out));
    }
    let expected = all_pages(&[&a, &b]);
    assert_each_once(&export(&redis, "site", dir.path()), &expected);
    let (code, err) = ended(following).await;
    assert_eq!(code, 0, "export --follow: {err}");
    let followed: Vec<String> = support::records(&follow_out)
        .iter()
        .map(|r| r["url"].as_str().expect("url").to_string())
        .collect();
    assert_each_once(&followed, &expected);
    for server in [&a, &b] {
        for n in 0..PAGES {
            let path = format!("/p{n}");
            assert_eq!(
                server.count(&path),
                1,
                "{path} requested {}x",
                server.count(&path)
            );
        }
    }
    // Every worker did part of the crawl, and together all of it.
    assert_eq!(
        per_worker.iter().sum::<usize>(),
        expected.len(),
        "{per_worker:?}"
    );
    assert!(
        per_worker.iter().filter(|n| **n > 0).count() >= 2,
        "{per_worker:?}"
    );
    // The other formats hold the same pages.
    let formats = dir.path().join("formats");
    let o = collector(
        &[
            "export",
            "--frontier",
            &redis.url(),
            "--job",
            "site",
            "--quiet",
            "--format",
            "json,csv",
            "--out",
            formats.to_str().expect("path"),
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "export: {}", stderr(&o));
    assert_eq!(support::binary::json_array(&formats).len(), expected.len());
    assert_eq!(support::binary::csv_rows(&formats).1.len(), expected.len());
    // The text form of status, the Redis URL from the environment.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(["status", "--job", "site"])
        .env("COLLECTOR_FRONTIER", redis.url())
        .output()
        .expect("status runs");
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "status: {}", stderr(&o));
    assert!(
        text.starts_with(&format!("job site on {}: finished", redis.url())),
        "{text}"
    );
    let s = status(&redis, "site", dir.path());
    assert_eq!(s["finished"], true, "{s}");
    assert_eq!(s["done"], expected.len() as u64, "{s}");
    assert_eq!(s["queued"], 0, "{s}");
    assert_eq!(s["leased"], 0, "{s}");
    assert!(
        s["seen_bytes_per_url"].as_f64().expect("bytes") > 0.0,
        "{s}"
    );
    // The workers left: none is listed as live any more.
    assert_eq!(s["workers"].as_array().expect("workers").len(), 0, "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_with_sigkill_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let redis = Redis::start(&dir.path().join("redis"));
    let (a, b) = two_hosts(Duration::from_millis(15)).await;
    let seeds = write(
        dir.path(),
        "seeds.txt",
        &format!("{}\n{}\n", a.url("/p0"), b.url("/p0")),
    );
    let outs: Vec<_> = (0..3).map(|i| dir.path().join(format!("w{i}"))).collect();
    let lease = ["--lease", "2"];
    let mut doomed = worker(&seeds, &redis, "kill", &outs[0], &lease);
    wait_until("the doomed worker has written records", || {
        lines_written(&outs[0]) >= 10
    })
    .await;
    let others = [
        worker(&seeds, &redis, "kill", &outs[1], &lease),
        worker(&seeds, &redis, "kill", &outs[2], &lease),
    ];
    tokio::time::sleep(Duration::from_millis(300)).await;
    doomed.start_kill().expect("SIGKILL");
    let _ = doomed.wait().await;
    for child in others {
        let (code, err) = ended(child).await;
        assert_eq!(code, 0, "a worker failed: {err}");
    }
    let expected = all_pages(&[&a, &b]);
    assert_each_once(&export(&redis, "kill", dir.path()), &expected);
    let s = status(&redis, "kill", dir.path());
    assert_eq!(s["finished"], true, "{s}");
    // The killed worker held leases; they expired and others fetched them.
    assert!(s["reclaimed"].as_u64().expect("reclaimed") > 0, "{s}");
    let refetched: usize = [&a, &b]
        .iter()
        .map(|srv| {
            (0..PAGES)
                .filter(|n| srv.count(&format!("/p{n}")) > 1)
                .count()
        })
        .sum();
    assert!(
        refetched > 0,
        "no page of the killed worker was fetched again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_and_back_off_hold_across_workers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let redis = Redis::start(&dir.path().join("redis"));
    const SMALL: usize = 14;
    let site = Server::start(
        "127.0.0.23",
        Arc::new(|path, nth| {
            if path == "/robots.txt" {
                return Reply::Status(404);
            }
            let Some(n) = path
                .strip_prefix("/p")
                .and_then(|n| n.parse::<usize>().ok())
            else {
                return Reply::Status(404);
            };
            if n == 4 && nth == 0 {
                return Reply::Full(429, vec![("retry-after", "2".to_string())], Vec::new());
            }
            let links: Vec<String> = (0..SMALL).map(|k| format!("/p{k}")).collect();
            Reply::Html(html_with_links(&format!("page {n}"), &links))
        }),
    )
    .await;
    let seeds = write(dir.path(), "seeds.txt", &site.url("/p0"));
    let args = ["--rate", "5", "--retries", "2"];
    let workers: Vec<_> = (0..3)
        .map(|i| {
            worker(
                &seeds,
                &redis,
                "polite",
                &dir.path().join(format!("w{i}")),
                &args,
            )
        })
        .collect();
    for child in workers {
        let (code, err) = ended(child).await;
        assert_eq!(code, 0, "a worker failed: {err}");
    }
    let hits = page_hits(&site);
    assert_eq!(
        hits.len(),
        SMALL + 1,
        "every page once, /p4 twice (429, then 200)"
    );
    let throttled = hits
        .iter()
        .position(|h| h.path == "/p4")
        .expect("/p4 requested");
    let timeline = timeline(&hits);
    // 5 per second, whichever worker starts them: any six consecutive
    // starts span at least a second, and no two come at once. The margins
    // are for the scheduling of the workers and the test server on a busy
    // machine; without the shared rate the starts come milliseconds apart.
    for pair in hits.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= Duration::from_millis(100),
            "two starts {gap:?} apart: {} then {}; {timeline:?}",
            pair[0].path,
            pair[1].path
        );
    }
    for six in hits.windows(6) {
        let span = six[5].at.duration_since(six[0].at);
        assert!(
            span >= Duration::from_millis(900),
            "6 starts in {span:?}; {timeline:?}"
        );
    }
    // The 429 with Retry-After: 2 held the origin back for all three.
    let after = hits[throttled + 1].at.duration_since(hits[throttled].at);
    assert!(
        after >= Duration::from_millis(1900),
        "next start {after:?} after the 429"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crawl_survives_a_redis_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut redis = Redis::start(&dir.path().join("redis"));
    let (a, b) = two_hosts(Duration::from_millis(10)).await;
    let seeds = write(
        dir.path(),
        "seeds.txt",
        &format!("{}\n{}\n", a.url("/p0"), b.url("/p0")),
    );
    let outs: Vec<_> = (0..2).map(|i| dir.path().join(format!("w{i}"))).collect();
    let workers: Vec<_> = outs
        .iter()
        .map(|o| worker(&seeds, &redis, "restart", o, &["-v"]))
        .collect();
    wait_until("records are written", || {
        lines_written(&outs[0]) + lines_written(&outs[1]) >= 20
    })
    .await;
    redis.stop();
    tokio::time::sleep(Duration::from_secs(3)).await;
    redis.restart();
    let mut said = false;
    for child in workers {
        let (code, err) = ended(child).await;
        assert_eq!(code, 0, "a worker failed: {err}");
        said |= err.contains("Redis unreachable");
    }
    assert!(said, "no worker said Redis was unreachable");
    assert_each_once(
        &export(&redis, "restart", dir.path()),
        &all_pages(&[&a, &b]),
    );
    assert_eq!(status(&redis, "restart", dir.path())["finished"], true);
}

#[test]
fn an_unreachable_redis_is_bad_input_and_its_password_is_never_shown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("redis://:hunter2@127.0.0.1:{port}/0");
    for args in [
        vec![
            "crawl",
            "http://127.0.0.1:9/",
            "--frontier",
            &url,
            "--job",
            "x",
            "--quiet",
        ],
        vec!["status", "--frontier", &url, "--job", "x"],
        vec!["export", "--frontier", &url, "--job", "x", "--out", "e"],
    ] {
        let o = collector(&args, dir.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
        assert!(err.contains("could not reach Redis"), "{err}");
        assert!(!err.contains("hunter2"), "the password was printed: {err}");
    }
    let o = collector(&["crawl", "http://127.0.0.1:9/", "--job", "x"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--job is for a shared crawl"),
        "{}",
        stderr(&o)
    );
}

/// One host of `n` pages that all link to each other, answered after
/// `delay`, with `robots` as its robots.txt.
async fn mesh(ip: &str, n: usize, delay: Duration, robots: &'static str) -> Server {
    Server::start(
        ip,
        Arc::new(move |path, _| {
            if path == "/robots.txt" {
                return Reply::Text("text/plain", robots.to_string());
            }
            let links: Vec<String> = (0..n).map(|k| format!("/p{k}")).collect();
            Reply::Delayed(delay, Box::new(Reply::Html(html_with_links(path, &links))))
        }),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_host_caps_requests_in_flight_across_workers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let redis = Redis::start(&dir.path().join("redis"));
    let site = mesh(
        "127.0.0.24",
        40,
        Duration::from_millis(60),
        "User-agent: *\nAllow: /\n",
    )
    .await;
    let seeds = write(dir.path(), "seeds.txt", &site.url("/p0"));
    let workers: Vec<_> = (0..3)
        .map(|i| {
            let out = dir.path().join(format!("w{i}"));
            worker(&seeds, &redis, "capped", &out, &["--per-host", "2"])
        })
        .collect();
    for child in workers {
        let (code, err) = ended(child).await;
        assert_eq!(code, 0, "a worker failed: {err}");
    }
    assert_eq!(site.hits().len(), 41, "40 pages and one robots.txt");
    // Each worker alone would allow 2; the three together still 2.
    assert_eq!(
        site.max_in_flight(),
        2,
        "requests in flight at once on the origin"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_delay_spaces_the_starts_of_every_worker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let redis = Redis::start(&dir.path().join("redis"));
    let robots = "User-agent: *\nCrawl-delay: 0.5\n";
    let site = mesh("127.0.0.25", 6, Duration::ZERO, robots).await;
    let seeds = write(dir.path(), "seeds.txt", &site.url("/p0"));
    let workers: Vec<_> = (0..3)
        .map(|i| {
            worker(
                &seeds,
                &redis,
                "delayed",
                &dir.path().join(format!("w{i}")),
                &[],
            )
        })
        .collect();
    for child in workers {
        let (code, err) = ended(child).await;
        assert_eq!(code, 0, "a worker failed: {err}");
    }
    let hits = page_hits(&site);
    assert_eq!(hits.len(), 6);
    let timeline = timeline(&hits);
    // Starts 500 ms apart whichever worker makes them (margins for a busy
    // machine; without the shared delay they come milliseconds apart).
    for three in hits.windows(3) {
        let span = three[2].at.duration_since(three[0].at);
        assert!(
            span >= Duration::from_millis(800),
            "3 starts in {span:?}; {timeline:?}"
        );
    }
}
