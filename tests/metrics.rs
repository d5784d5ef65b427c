//! `collector crawl --metrics ADDR`: Prometheus text scraped while a slow
//! local site is crawled and again after the crawl ended (`--metrics-linger`),
//! the final counters checked against `summary.json`; the same for an API
//! pull (child resources' requests included) and for `collector schedule`
//! (job runs scraped during and between runs). Every text is validated by
//! `promtool check metrics` (Debian package `prometheus`; required when
//! CI=true, skipped with a message otherwise).

mod support;
mod support_api;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::binary::{summary_json, write};
use support::{Reply, Server, html_with_links};
use tokio::io::{AsyncBufReadExt as _, BufReader};

/// 1 + 2 + 4 + ... pages answering after 40 ms; one 404 and one 503 page.
async fn slow_site() -> Server {
    Server::start(
        "127.0.0.1",
        Arc::new(|path, _| {
            match path {
                "/robots.txt" => return Reply::Status(404),
                "/gone" => return Reply::Status(404),
                "/down" => return Reply::Status(503),
                _ => {}
            }
            let n: u64 = path.trim_start_matches("/n").parse().unwrap_or(0);
            let mut links: Vec<String> = if n < 31 {
                (1..=2).map(|k| format!("/n{}", n * 2 + k)).collect()
            } else {
                Vec::new()
            };
            if n == 0 {
                links.extend(["/gone".to_string(), "/down".to_string()]);
            }
            Reply::Delayed(
                Duration::from_millis(40),
                Box::new(Reply::Html(html_with_links("n", &links))),
            )
        }),
    )
    .await
}

/// Samples by name and labels: `name{a="b"}` → value.
fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').expect("sample line");
            (name.to_string(), value.parse().expect("a number"))
        })
        .collect()
}

fn sum(samples: &BTreeMap<String, f64>, family: &str) -> f64 {
    samples
        .iter()
        .filter(|(k, _)| k.split('{').next() == Some(family))
        .map(|(_, v)| v)
        .sum()
}

/// `promtool check metrics` on `text`: `Err` with its complaint.
fn promtool(text: &str) -> Option<Result<(), String>> {
    use std::io::Write as _;
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none_or(|v| v != "true"),
                "promtool not found ({e}): install the Debian package `prometheus` (.ci/run does)"
            );
            eprintln!("skipped the promtool check: promtool not found ({e})");
            return None;
        }
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool ran");
    Some(if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    })
}

/// `collector ARGS --metrics 127.0.0.1:0 --metrics-linger 30` in `cwd`:
/// see [`spawn_serving`].
async fn spawn_with_metrics(args: &[&str], cwd: &Path) -> (tokio::process::Child, String) {
    spawn_serving(&[args, &["--metrics-linger", "30"]].concat(), cwd).await
}

/// `collector ARGS --metrics 127.0.0.1:0` in `cwd`, with JSON logs;
/// returns the child and the address it serves metrics on (read from its
/// log), its stderr drained meanwhile.
async fn spawn_serving(args: &[&str], cwd: &Path) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(args)
        .args(["--metrics", "127.0.0.1:0"])
        .args(["--log-format", "json"])
        .env_remove("RUST_LOG")
        .env_remove("COLLECTOR_LOG")
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("collector starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let addr = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("stderr") {
            let event: serde_json::Value = serde_json::from_str(&line).expect("JSON log line");
            if let Some(addr) = event["addr"].as_str()
                && event["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("metrics on"))
            {
                return addr.to_string();
            }
        }
        panic!("no metrics address logged");
    })
    .await
    .expect("metrics address in time");
    // Drain the rest of stderr so the run never blocks on it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}

async fn scrape(addr: &str) -> String {
    let resp = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("scrape");
    assert_eq!(resp.status(), 200);
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    resp.text().await.expect("body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_during_and_after_a_crawl() {
    let server = slow_site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/n0"));
    let (mut child, addr) = spawn_with_metrics(
        &[
            "crawl",
            &seeds,
            "--out",
            "out",
            "-q",
            "--per-host",
            "2",
            "--retries",
            "1",
        ],
        dir.path(),
    )
    .await;

    // Mid-crawl: some pages done, others still queued.
    let out = dir.path().join("out");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mid = loop {
        let text = scrape(&addr).await;
        let samples = parse(&text);
        if sum(&samples, "collector_pages_total") >= 3.0 {
            assert!(!out.join("summary.json").exists(), "scraped after the end");
            break text;
        }
        assert!(Instant::now() < deadline, "no progress: {text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let samples = parse(&mid);
    assert!(
        samples["collector_urls_queued"] + samples["collector_urls_in_flight"] > 0.0,
        "{mid}"
    );
    if let Some(checked) = promtool(&mid) {
        checked.unwrap_or_else(|e| panic!("promtool: {e}\n{mid}"));
    }

    // After the end, while the metrics linger.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !out.join("summary.json").exists() {
        assert!(Instant::now() < deadline, "the crawl did not end");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let end = scrape(&addr).await;
    let samples = parse(&end);
    let summary = summary_json(&out);
    let num = |v: &serde_json::Value| v.as_f64().expect("number");
    assert_eq!(
        sum(&samples, "collector_pages_total"),
        num(&summary["pages"])
    );
    assert_eq!(
        samples["collector_page_bytes_total"],
        num(&summary["bytes"])
    );
    assert_eq!(
        samples["collector_pages_failed_total"],
        num(&summary["failed"])
    );
    for (kind, n) in summary["by_error"].as_object().expect("by_error") {
        let key = format!("collector_page_errors_total{{kind=\"{kind}\"}}");
        assert_eq!(samples[&key], num(n), "{kind}");
    }
    assert_eq!(sum(&samples, "collector_page_errors_total"), {
        let e = summary["by_error"].as_object().expect("by_error");
        e.values().map(num).sum::<f64>()
    });
    let mut classes: BTreeMap<String, f64> = BTreeMap::new();
    for (status, n) in summary["by_status"].as_object().expect("by_status") {
        *classes.entry(format!("{}xx", &status[..1])).or_default() += num(n);
    }
    for (class, n) in &classes {
        let key = format!("collector_pages_total{{class=\"{class}\"}}");
        assert_eq!(samples[&key], *n, "{class}");
    }
    assert_eq!(samples["collector_urls_queued"], 0.0);
    assert_eq!(samples["collector_requests_in_flight"], 0.0);
    // Pages and robots.txt, every one answered.
    assert_eq!(
        sum(&samples, "collector_requests_total"),
        num(&summary["pages"]) + 1.0,
        "{end}"
    );
    let origin = format!(
        "collector_origin_requests_total{{origin=\"http://{}\"}}",
        server.addr
    );
    assert_eq!(samples[&origin], num(&summary["pages"]), "{end}");
    assert!(
        samples["collector_waits_total"] >= 1.0,
        "the 503 paused the origin"
    );
    if let Some(checked) = promtool(&end) {
        checked.unwrap_or_else(|e| panic!("promtool: {e}\n{end}"));
    }
    let _ = child.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_pull_serves_its_request_metrics() {
    let server = support_api::server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = server.url("/page");
    let (mut child, addr) = spawn_with_metrics(
        &[
            "api",
            &url,
            "--paginate",
            "page",
            "--out",
            "items.jsonl",
            "-q",
        ],
        dir.path(),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !dir.path().join("items.jsonl").exists() {
        assert!(Instant::now() < deadline, "the pull did not end");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = scrape(&addr).await;
    let samples = parse(&text);
    // Every page, then the empty one that ends the pull.
    let pages = support_api::TOTAL.div_ceil(support_api::SIZE) + 1;
    assert_eq!(
        samples["collector_requests_total{class=\"2xx\"}"], pages as f64,
        "{text}"
    );
    assert_eq!(samples["collector_requests_in_flight"], 0.0);
    if let Some(checked) = promtool(&text) {
        checked.unwrap_or_else(|e| panic!("promtool: {e}\n{text}"));
    }
    let _ = child.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_resources_requests_are_counted() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| {
            let body = match path.strip_prefix("/kids/") {
                Some(id) => serde_json::json!({"data": [{"kid": id}]}),
                None => serde_json::json!({"data": [{"id": 1}, {"id": 2}, {"id": 3}]}),
            };
            support_api::json(body, vec![])
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        "out_dir = \"run\"\nquiet = true\n\n[[resource]]\nname = \"parents\"\nurl = \"{}\"\n\
         paginate = \"none\"\n\n[[resource]]\nname = \"kids\"\nparent = \"parents\"\n\
         url = \"{}\"\npaginate = \"none\"\n",
        server.url("/parents"),
        server.url("/kids/{id}")
    );
    let file = write(dir.path(), "api.toml", &config);
    let (mut child, addr) = spawn_with_metrics(&["api", &file], dir.path()).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !dir.path().join("run/summary.json").exists() {
        assert!(Instant::now() < deadline, "the pulls did not end");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = scrape(&addr).await;
    let samples = parse(&text);
    // The parents' page and one page per parent record.
    assert_eq!(server.paths().len(), 4, "{:?}", server.paths());
    assert_eq!(
        samples["collector_requests_total{class=\"2xx\"}"], 4.0,
        "{text}"
    );
    if let Some(checked) = promtool(&text) {
        checked.unwrap_or_else(|e| panic!("promtool: {e}\n{text}"));
    }
    let _ = child.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_serves_job_runs_by_outcome_and_the_last_run() {
    // A two-page feed, each page after 300 ms: a run takes 0.6 s or more.
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| {
            let next = (!path.contains("page=2")).then_some("/feed?page=2");
            let body = serde_json::json!({"data": [{"id": 1}], "next": next});
            Reply::Delayed(
                Duration::from_millis(300),
                Box::new(support_api::json(body, vec![])),
            )
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let jobs = format!(
        "[job.feed]\nschedule = \"* * * * * *\"\n\
         api = {{ url = \"{}\", paginate = \"next_url\", next = \"next\", records = \"data\" }}\n",
        server.url("/feed")
    );
    let file = write(dir.path(), "jobs.toml", &jobs);
    let began = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    let (mut child, addr) = spawn_serving(
        &["schedule", &file, "--run-now", "--output-root", "out"],
        dir.path(),
    )
    .await;
    let done = "collector_job_runs_total{job=\"feed\",outcome=\"done\"}";
    let mut seen_running = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let text = scrape(&addr).await;
        let samples = parse(&text);
        if samples["collector_job_running{job=\"feed\"}"] == 1.0 && seen_running.is_none() {
            seen_running = Some(text.clone());
        }
        if samples[done] >= 2.0 && seen_running.is_some() {
            break text;
        }
        assert!(Instant::now() < deadline, "no two runs: {text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let samples = parse(&text);
    let complete = std::fs::read_dir(dir.path().join("out/feed"))
        .expect("job dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("run.json").exists())
        .count() as f64;
    // A run may end between the scrape and the listing.
    assert!(
        (samples[done]..=samples[done] + 1.0).contains(&complete),
        "{complete} complete runs: {text}"
    );
    assert_eq!(
        samples["collector_job_runs_total{job=\"feed\",outcome=\"failed\"}"],
        0.0
    );
    let took = samples["collector_job_last_run_duration_seconds{job=\"feed\"}"];
    assert!((0.6..30.0).contains(&took), "{took}: {text}");
    let at = samples["collector_job_last_run_timestamp_seconds{job=\"feed\"}"];
    let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    assert!(began <= at && at <= now, "{began} <= {at} <= {now}");
    for text in [seen_running.expect("scraped during a run"), text] {
        if let Some(checked) = promtool(&text) {
            checked.unwrap_or_else(|e| panic!("promtool: {e}\n{text}"));
        }
    }
    let pid = child.id().expect("pid").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("stopped after SIGTERM")
        .expect("wait");
    assert_eq!(status.code(), Some(0));
}
