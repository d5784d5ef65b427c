//! Diagnostic logs through the binary: `-v` logs one event per request,
//! `-vv` the scheduling (leases, retries and their delay), `RUST_LOG`
//! works, `--log-format json` writes only JSON objects on stderr and ends
//! a crawl with the summary as an event, the network servers log through
//! the same system, and on a terminal log lines never share a line with
//! the live progress line. Servers on 127.0.0.1 only.

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use support::binary::{collector_env_async, stderr, summary_json, write};
use support::{Reply, Server, html_with_links};

async fn run_async(args: Vec<String>, env: Vec<(&str, &str)>, cwd: &Path) -> Output {
    let env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    collector_env_async(args, env, cwd).await
}

/// `/` links to three pages, `/private` is disallowed by robots.txt,
/// `/flaky` answers 503 once, then 200.
async fn site() -> Server {
    let links: Vec<String> = ["/a", "/b", "/private", "/flaky"]
        .map(String::from)
        .to_vec();
    let mut map = HashMap::new();
    map.insert("/".to_string(), html_with_links("home", &links));
    for l in ["/a", "/b", "/private"] {
        map.insert(l.to_string(), html_with_links(l, &[]));
    }
    Server::start(
        "127.0.0.1",
        Arc::new(move |path, nth| match path {
            "/robots.txt" => {
                Reply::Text("text/plain", "User-agent: *\nDisallow: /private\n".into())
            }
            "/flaky" if nth == 0 => Reply::Status(503),
            "/flaky" => Reply::Html(html_with_links("flaky", &[])),
            p => match map.get(p) {
                Some(body) => Reply::Html(body.clone()),
                None => Reply::Status(404),
            },
        }),
    )
    .await
}

fn crawl_args(seed: &str, extra: &[&str]) -> Vec<String> {
    let out = if extra.contains(&"--out") {
        &[][..]
    } else {
        &["--out", "out"][..]
    };
    ["crawl", seed, "--retries", "2"]
        .iter()
        .chain(out)
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_one_event_per_request_and_the_summary_last() {
    let server = site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let args = crawl_args(&server.url("/"), &["-v", "--log-format", "json"]);
    let o = run_async(args, vec![], dir.path()).await;
    assert!(o.status.success(), "{}", stderr(&o));
    // Every line of stderr is a JSON object: no progress, no human summary.
    let events = json_lines(&stderr(&o));
    for e in &events {
        for key in ["timestamp", "level", "target"] {
            assert!(e.get(key).is_some(), "{key} missing: {e}");
        }
    }
    let requests: Vec<&Value> = events
        .iter()
        .filter(|e| e["message"] == "request")
        .collect();
    let urls: Vec<&str> = requests.iter().filter_map(|e| e["url"].as_str()).collect();
    for path in ["/robots.txt", "/", "/a", "/b", "/flaky"] {
        assert!(
            urls.contains(&server.url(path).as_str()),
            "{path}: {urls:?}"
        );
    }
    let page = requests
        .iter()
        .find(|e| e["url"] == server.url("/a"))
        .expect("/a logged");
    assert_eq!(page["method"], "GET");
    assert_eq!(page["status"], 200);
    assert_eq!(page["level"], "DEBUG");
    assert!(
        page["ms"].is_u64() && page["bytes"].as_u64() > Some(0),
        "{page}"
    );
    let flaky = requests
        .iter()
        .find(|e| e["url"] == server.url("/flaky"))
        .expect("/flaky logged");
    assert_eq!(
        (flaky["status"].as_u64(), flaky["retries"].as_u64()),
        (Some(200), Some(1))
    );
    // The URL robots.txt refuses is logged with the verdict, not requested.
    let refused = events
        .iter()
        .find(|e| e["url"] == server.url("/private"))
        .expect("/private logged");
    assert_eq!(refused["robots"], "disallowed", "{refused}");
    assert_eq!(server.count("/private"), 0);
    // -v does not show -vv's scheduling.
    assert!(!events.iter().any(|e| e["message"] == "leased"));
    let last = events.last().expect("events");
    assert_eq!(last["target"], "collector::summary", "{last}");
    assert_eq!(last["message"], "crawl finished");
    let summary = summary_json(&dir.path().join("out"));
    for key in ["pages", "failed", "bytes", "retries"] {
        assert_eq!(last[key], summary[key], "{key}");
    }
    let by_status: Value =
        serde_json::from_str(last["by_status"].as_str().expect("text")).expect("JSON text");
    assert_eq!(by_status, summary["by_status"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vv_adds_leases_and_retries_with_their_delay() {
    let server = site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let args = crawl_args(&server.url("/"), &["-vv", "--log-format", "json", "-q"]);
    let o = run_async(args, vec![], dir.path()).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let events = json_lines(&stderr(&o));
    let ours = |e: &&Value| {
        e["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("collector"))
    };
    let leased = events
        .iter()
        .filter(ours)
        .filter(|e| e["message"] == "leased")
        .count();
    assert_eq!(leased, 5, "/, /a, /b, /private, /flaky");
    let retry = events
        .iter()
        .find(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("retry after HTTP 503"))
        })
        .expect("the retry is logged");
    assert_eq!(retry["url"], server.url("/flaky"));
    assert_eq!(retry["level"], "TRACE");
    assert!(retry["delay_ms"].is_u64(), "{retry}");
    assert!(
        events.iter().any(|e| e["message"] == "origin paused"),
        "the 503 pauses the origin"
    );
    // -q: no summary event either.
    assert!(!events.iter().any(|e| e["target"] == "collector::summary"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_logs_follow_rust_log_and_collector_log() {
    let server = site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seed = server.url("/");
    // Default: info and above, so no request lines; the summary for people.
    let o = run_async(crawl_args(&seed, &["--out", "o1"]), vec![], dir.path()).await;
    let err = stderr(&o);
    assert!(!err.contains(" request "), "{err}");
    assert!(err.contains("pages in"), "{err}");
    let o = run_async(
        crawl_args(&seed, &["--out", "o2", "-q"]),
        vec![("RUST_LOG", "collector::fetch=debug")],
        dir.path(),
    )
    .await;
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.contains(&format!("url={}", server.url("/a"))))
        .unwrap_or_else(|| panic!("no request line for /a: {err}"));
    assert!(
        line.contains("DEBUG collector::fetch::hops: request"),
        "{line}"
    );
    assert!(
        line.contains("method=\"GET\"") && line.contains("status=200"),
        "{line}"
    );
    // COLLECTOR_LOG wins over RUST_LOG; a bad one is named and ignored.
    let o = run_async(
        crawl_args(&seed, &["--out", "o3", "-q"]),
        vec![
            ("RUST_LOG", "collector=debug"),
            ("COLLECTOR_LOG", "collector=warn"),
        ],
        dir.path(),
    )
    .await;
    assert!(!stderr(&o).contains("DEBUG"), "{}", stderr(&o));
    let o = run_async(
        crawl_args(&seed, &["--out", "o4", "-q"]),
        vec![("COLLECTOR_LOG", "collector=loud")],
        dir.path(),
    )
    .await;
    assert!(
        stderr(&o).contains("COLLECTOR_LOG=\"collector=loud\" is not a log filter"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn tcp_server_connection_lines_are_log_events() {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    let mut child = Command::new(env!("CARGO_BIN_EXE_collector"))
        .args([
            "tcp",
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .env_remove("RUST_LOG")
        .env_remove("COLLECTOR_LOG")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    lines.read_line(&mut first).expect("listening line");
    let listening: Value = serde_json::from_str(&first).expect("JSON");
    let addr = listening["addr"].as_str().expect("addr field").to_string();
    let mut client = std::net::TcpStream::connect(&addr).expect("connect");
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    client.write_all(b"hello").expect("send");
    client
        .shutdown(std::net::Shutdown::Write)
        .expect("half-close");
    let mut echo = Vec::new();
    client.read_to_end(&mut echo).expect("echo");
    assert_eq!(echo, b"hello");
    let mut line = String::new();
    lines.read_line(&mut line).expect("connection line");
    let _ = child.kill();
    let _ = child.wait();
    let event: Value = serde_json::from_str(&line).expect("JSON");
    assert_eq!(event["message"], "connection", "{event}");
    assert_eq!(event["proto"], "tcp");
    assert_eq!(
        (event["bytes_in"].as_u64(), event["bytes_out"].as_u64()),
        (Some(5), Some(5))
    );
    assert_eq!(event["end"], "client-closed");
    assert!(event["duration_ms"].is_number(), "{event}");
}

/// Drops ANSI escape sequences (`ESC [ ... letter`); those that move to
/// the start of a line or clear it become `\r`, as the terminal shows.
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for n in chars.by_ref() {
                    if n.is_ascii_alphabetic() {
                        if matches!(n, 'K' | 'G' | 'A' | 'J') {
                            out.push('\r');
                        }
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_log_lines_never_share_a_line_with_the_progress() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is needed to give the crawl a terminal");
        return;
    }
    // Slow pages, so that the live line is drawn between log lines.
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| {
            if path == "/robots.txt" {
                return Reply::Status(404);
            }
            let n: u64 = path.trim_start_matches("/n").parse().unwrap_or(0);
            let links: Vec<String> = if n < 20 {
                (1..=2).map(|k| format!("/n{}", n * 2 + k)).collect()
            } else {
                Vec::new()
            };
            Reply::Delayed(
                Duration::from_millis(60),
                Box::new(Reply::Html(html_with_links("n", &links))),
            )
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/n0"));
    let command = format!(
        "{} crawl {seeds} --out out --progress always --per-host 2 -v",
        env!("CARGO_BIN_EXE_collector")
    );
    let transcript = dir.path().join("tty.txt");
    let o = tokio::task::spawn_blocking({
        let (cwd, transcript) = (dir.path().to_path_buf(), transcript.clone());
        move || {
            Command::new("script")
                .args(["-qefc", &command])
                .arg(&transcript)
                .env_remove("RUST_LOG")
                .env_remove("COLLECTOR_LOG")
                .current_dir(cwd)
                .stdin(Stdio::null())
                .output()
                .expect("script runs")
        }
    })
    .await
    .expect("runner");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let raw =
        String::from_utf8_lossy(&std::fs::read(&transcript).expect("transcript")).into_owned();
    let text = strip_ansi(&raw);
    assert!(text.contains("fetched "), "the live line was drawn: {text}");
    let mut requests = 0;
    for line in text.split('\n') {
        // What the terminal shows: the text after the last carriage return.
        // (A terminal ends lines with CR LF.)
        let line = line.trim_end_matches('\r');
        let shown = line.rsplit('\r').next().unwrap_or(line);
        if shown.contains(" DEBUG ") {
            requests += 1;
            let starts_with_time =
                shown.len() > 4 && shown[..4].bytes().all(|b| b.is_ascii_digit());
            assert!(starts_with_time, "a log line shares its line: {shown:?}");
            assert!(!shown.contains("fetched "), "garbled: {shown:?}");
        }
    }
    assert!(requests >= 10, "request lines logged: {requests}\n{text}");
}
