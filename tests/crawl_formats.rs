//! Output formats through the binary: JSONL, JSON, CSV and WARC side by
//! side, `--out -`, Ctrl-C and `kill -9` mid-crawl, and bad `--format`s.
//! The WARC file is read back with Python's warcio (installed by
//! `.ci/run`); these tests fail, not skip, without it.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncBufReadExt as _;

use support::{Reply, Server};

const ALL_FORMATS: &str = "jsonl,json,csv,warc";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    p.to_string_lossy().into_owned()
}

fn collector(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("collector runs")
}

/// `collector crawl SEEDS --progress never ARGS...` in the background.
fn spawn_crawl(seeds: &str, args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(["crawl", seeds, "--progress", "never"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn")
}

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// An endless site whose pages answer after 50 ms: a crawl of it ends only
/// when stopped.
async fn endless_site() -> Server {
    Server::start(
        "127.0.0.3",
        Arc::new(|path, _| {
            if path == "/robots.txt" {
                return Reply::Status(404);
            }
            let n: u64 = path.trim_start_matches("/n").parse().unwrap_or(0);
            let links: Vec<String> = (1..=4).map(|k| format!("/n{}", n * 4 + k)).collect();
            Reply::Delayed(
                Duration::from_millis(50),
                Box::new(Reply::Html(support::html_with_links(
                    &format!("n{n}"),
                    &links,
                ))),
            )
        }),
    )
    .await
}

/// The URLs a crawl of [`small_site`] attempts.
const SMALL_SITE: [&str; 10] = [
    "/",
    "/a",
    "/b?x=1&y=2",
    "/gzip",
    "/deflate",
    "/br",
    "/zstd",
    "/notes.txt",
    "/missing",
    "/moved",
];

/// The content codings the client announces, each a path of
/// [`small_site`].
const CODINGS: [&str; 4] = ["gzip", "deflate", "br", "zstd"];

async fn encode(coding: &str, bytes: &[u8]) -> Vec<u8> {
    use async_compression::tokio::bufread::{BrotliEncoder, GzipEncoder, ZlibEncoder, ZstdEncoder};
    use tokio::io::AsyncReadExt as _;
    let mut out = Vec::new();
    let read = match coding {
        "gzip" => GzipEncoder::new(bytes).read_to_end(&mut out).await,
        "deflate" => ZlibEncoder::new(bytes).read_to_end(&mut out).await,
        "br" => BrotliEncoder::new(bytes).read_to_end(&mut out).await,
        "zstd" => ZstdEncoder::new(bytes).read_to_end(&mut out).await,
        other => panic!("no coding {other}"),
    };
    read.expect("compress");
    out
}

/// A small site: HTML pages (one per content coding, one setting a
/// cookie), a text file, a 404 and a redirect (`/moved` to `/c`). Returns
/// the server and each path's body as served (decoded).
async fn small_site() -> (Server, HashMap<String, Vec<u8>>) {
    let mut pages: HashMap<String, Vec<u8>> = HashMap::new();
    let links: Vec<String> = SMALL_SITE[1..]
        .iter()
        .filter(|p| **p != "/b?x=1&y=2")
        .map(|p| p.to_string())
        .collect();
    pages.insert(
        "/".into(),
        support::html_with_links("root", &links).into_bytes(),
    );
    pages.insert(
        "/a".into(),
        support::html_with_links("a, \"quoted\" — ünïcode", &["/b?x=1&y=2".into()]).into_bytes(),
    );
    pages.insert(
        "/b?x=1&y=2".into(),
        support::html_with_links("b", &[]).into_bytes(),
    );
    let mut encoded: HashMap<String, Vec<u8>> = HashMap::new();
    for coding in CODINGS {
        let body = support::html_with_links(&format!("{coding} — ✓"), &[]).into_bytes();
        encoded.insert(format!("/{coding}"), encode(coding, &body).await);
        pages.insert(format!("/{coding}"), body);
    }
    pages.insert("/notes.txt".into(), b"plain text\r\nwith CRLF\n".to_vec());
    // Reached only through the redirect from /moved.
    pages.insert("/c".into(), support::html_with_links("c", &[]).into_bytes());
    let served = pages.clone();
    let server = Server::start(
        "127.0.0.2",
        Arc::new(move |path, _| {
            let html = |body: &[u8], extra: Vec<(&'static str, String)>| {
                let mut headers = vec![("content-type", "text/html; charset=utf-8".to_string())];
                headers.extend(extra);
                Reply::Full(200, headers, body.to_vec())
            };
            if let Some(body) = encoded.get(path) {
                let coding = path.trim_start_matches('/').to_string();
                return Reply::Full(
                    200,
                    vec![
                        ("content-type", "text/html; charset=utf-8".into()),
                        ("content-encoding", coding),
                    ],
                    body.clone(),
                );
            }
            match (path, served.get(path)) {
                ("/robots.txt", _) => {
                    Reply::Text("text/plain", "User-agent: *\nDisallow:\n".into())
                }
                ("/moved", _) => Reply::Redirect(301, "/c".into()),
                ("/", Some(body)) => html(body, vec![("set-cookie", "session=s1; Path=/".into())]),
                ("/notes.txt", Some(body)) => Reply::Full(
                    200,
                    vec![("content-type", "text/plain".into())],
                    body.clone(),
                ),
                (_, Some(body)) => html(body, vec![]),
                (_, None) => Reply::Status(404),
            }
        }),
    )
    .await;
    (server, pages)
}

fn path_of(url: &str) -> String {
    let u = url::Url::parse(url).expect("url");
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

fn urls(records: &[serde_json::Value]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| r["url"].as_str().expect("url").to_string())
        .collect()
}

fn json_array(out: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(out.join("pages.json")).expect("pages.json written");
    let value: serde_json::Value = serde_json::from_str(&text).expect("pages.json is JSON");
    value.as_array().expect("an array").clone()
}

fn csv_rows(out: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(out.join("pages.csv")).expect("pages.csv written");
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_four_formats_hold_the_same_pages() {
    let (server, pages) = small_site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/"));
    let out = dir.path().join("out");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
        .args([
            "crawl",
            &seeds,
            "--quiet",
            "--cookies",
            "--format",
            ALL_FORMATS,
        ])
        .args(["--header", "Accept-Language: en", "--header", "X-Trace: 1"])
        .arg("--out")
        .arg(&out)
        .output();
    let o = tokio::time::timeout(Duration::from_secs(60), child)
        .await
        .expect("finished")
        .expect("ran");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        files_in(&out),
        [
            "pages.csv",
            "pages.json",
            "pages.jsonl",
            "pages.warc.gz",
            "summary.json"
        ]
        .map(String::from)
        .into(),
    );

    let jsonl = support::records(&out);
    support::assert_schema_valid(&jsonl);
    let expected: BTreeSet<String> = SMALL_SITE.iter().map(|p| server.url(p)).collect();
    assert_eq!(urls(&jsonl), expected);

    // pages.json: the same records, in the same order.
    let json = json_array(&out);
    support::assert_schema_valid(&json);
    assert_eq!(json, jsonl);

    // pages.csv: url and status of each record, in the same order.
    let (header, rows) = csv_rows(&out);
    assert_eq!(header, ["url", "status"]);
    let from_csv: Vec<(String, String)> =
        rows.iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    let from_jsonl: Vec<(String, String)> = jsonl
        .iter()
        .map(|r| {
            (
                r["url"].as_str().expect("url").to_string(),
                r["status"].to_string(),
            )
        })
        .collect();
    assert_eq!(from_csv, from_jsonl);

    // pages.warc.gz: warcinfo, then a request and a response per page.
    let warc = support::warc::read_warc(&out.join("pages.warc.gz"));
    assert_eq!(warc[0]["type"], "warcinfo");
    for r in &warc {
        assert_ne!(r["digests_passed"], false, "{r}");
        assert!(r["problems"].as_array().expect("list").is_empty(), "{r}");
    }
    let responses: Vec<&serde_json::Value> =
        warc.iter().filter(|r| r["type"] == "response").collect();
    let requests: Vec<&serde_json::Value> =
        warc.iter().filter(|r| r["type"] == "request").collect();
    assert_eq!(warc.len(), 1 + responses.len() + requests.len());
    // One response per record, for its last hop.
    let warc_urls: Vec<String> = responses
        .iter()
        .map(|r| r["uri"].as_str().expect("uri").to_string())
        .collect();
    let final_urls: Vec<String> = jsonl
        .iter()
        .map(|r| r["final_url"].as_str().expect("final_url").to_string())
        .collect();
    assert_eq!(warc_urls, final_urls);
    assert!(warc_urls.contains(&server.url("/c")) && !warc_urls.contains(&server.url("/moved")));
    for resp in &responses {
        let uri = resp["uri"].as_str().expect("uri");
        let record = jsonl
            .iter()
            .find(|r| r["final_url"] == uri)
            .expect("a record for the response");
        assert_eq!(resp["digests_passed"], true, "{resp}");
        assert_eq!(resp["ip"], "127.0.0.2");
        assert_eq!(resp["content_type"], "application/http;msgtype=response");
        assert_eq!(resp["protocol"], "HTTP/1.1");
        let status = resp["status_line"].as_str().expect("status line");
        assert!(
            status.starts_with(&record["status"].to_string()),
            "{status}"
        );
        let path = path_of(uri);
        match pages.get(&path) {
            Some(body) => assert_eq!(&support::warc::body_of(resp), body, "{uri}"),
            None => assert_eq!(record["bytes"], support::warc::body_of(resp).len(), "{uri}"),
        }
        // Its request: linked both ways, and carrying the headers the
        // server received, in order.
        let request = requests
            .iter()
            .find(|q| q["id"] == resp["concurrent_to"])
            .unwrap_or_else(|| panic!("no request for {uri}"));
        assert_eq!(request["concurrent_to"], resp["id"]);
        assert_eq!(request["uri"], uri);
        assert_eq!(request["content_type"], "application/http;msgtype=request");
        // warcio splits the request line after the method.
        assert_eq!(request["protocol"], "GET");
        assert_eq!(request["status_line"], format!("{path} HTTP/1.1"));
        let sent: Vec<(String, String)> = request["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .map(|h| {
                (
                    h[0].as_str().expect("name").to_ascii_lowercase(),
                    h[1].as_str().expect("value").to_string(),
                )
            })
            .collect();
        let hits: Vec<_> = server
            .hits()
            .into_iter()
            .filter(|h| h.path == path)
            .collect();
        assert_eq!(hits.len(), 1, "{path} fetched once");
        let received: Vec<(String, String)> = hits[0]
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    v.to_str().expect("ascii").to_string(),
                )
            })
            .collect();
        assert_eq!(sent, received, "request headers of {uri}");
    }
    // The cookie the root set went with the later requests, and the
    // archive says so.
    let a = requests
        .iter()
        .find(|q| q["uri"] == server.url("/a"))
        .expect("request for /a");
    assert!(a["headers"].to_string().contains("session=s1"), "{a}");
    // Encoded pages are stored decoded (compared above), their coding kept
    // under another name so that readers do not decode them again.
    for coding in CODINGS {
        let resp = responses
            .iter()
            .find(|r| r["uri"] == server.url(&format!("/{coding}")))
            .expect("an encoded page");
        let headers = resp["headers"].to_string().to_ascii_lowercase();
        assert!(
            headers.contains(&format!(
                r#"["x-archive-orig-content-encoding","{coding}"]"#
            )),
            "{headers}"
        );
        assert!(!headers.contains(r#"["content-encoding""#), "{headers}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_columns_follow_the_output_settings() {
    let (server, _) = small_site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let mut options = support::options(&out);
    options.format = Some("csv".into());
    options.max_pages = Some(2);
    let seeds = vec![url::Url::parse(&server.url("/")).expect("url")];
    let mut settings = collector::settings::build(options, seeds).expect("valid");
    settings.output.columns = vec!["title".into(), "=price".into()];
    let summary = collector::crawl::run(settings, tokio_util::sync::CancellationToken::new())
        .await
        .expect("crawl ran");
    assert_eq!(summary.pages, 2);
    assert!(
        !out.join("pages.jsonl").exists(),
        "only the formats asked for"
    );
    let (header, rows) = csv_rows(&out);
    assert_eq!(header, ["url", "status", "title", "'=price"]);
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(row[2..], ["", ""], "no extracted data: empty cells");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_warc_are_complete_after_sigint() {
    let server = endless_site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/n0"));
    let out = dir.path().join("out");
    let out_arg = out.to_str().expect("utf-8");
    let mut child = spawn_crawl(&seeds, &["--format", ALL_FORMATS, "--out", out_arg]);
    let pid = child.id().expect("pid");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        out.join("pages.json.part").exists(),
        "records are being written"
    );
    signal(pid, "-INT");
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exited after SIGINT")
        .expect("wait");
    assert_eq!(status.code(), Some(130));
    assert!(
        files_in(&out).iter().all(|f| !f.ends_with(".part")),
        "{:?}",
        files_in(&out)
    );
    let jsonl = support::records(&out);
    assert!(
        jsonl.len() > 5,
        "pages fetched before the interrupt are kept"
    );
    let json = json_array(&out);
    assert_eq!(json, jsonl);
    let (_, rows) = csv_rows(&out);
    assert_eq!(rows.len(), jsonl.len());
    let warc = support::warc::read_warc(&out.join("pages.warc.gz"));
    let responses = warc.iter().filter(|r| r["type"] == "response").count();
    assert_eq!(responses, jsonl.len());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("JSON");
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["pages"], jsonl.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_leaves_part_files_and_no_final_names() {
    let server = endless_site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/n0"));
    let out = dir.path().join("out");
    let out_arg = out.to_str().expect("utf-8");
    let mut child = spawn_crawl(&seeds, &["--format", ALL_FORMATS, "--out", out_arg]);
    let pid = child.id().expect("pid");
    // Wait until records have reached the files.
    for _ in 0..200 {
        let len = std::fs::metadata(out.join("pages.jsonl.part")).map_or(0, |m| m.len());
        if len > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    signal(pid, "-KILL");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("killed")
        .expect("wait");
    assert_eq!(status.code(), None, "ended by a signal");
    assert_eq!(
        files_in(&out),
        [
            "pages.csv.part",
            "pages.json.part",
            "pages.jsonl.part",
            "pages.warc.gz.part"
        ]
        .map(String::from)
        .into(),
    );
    let part = std::fs::read_to_string(out.join("pages.jsonl.part")).expect("read");
    assert!(
        part.lines().count() > 0,
        "the .part file holds the records written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_dash_streams_jsonl_records_to_stdout() {
    let (server, _) = small_site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/"));
    let cwd = dir.path().join("cwd");
    std::fs::create_dir(&cwd).expect("mkdir");
    let o = tokio::task::spawn_blocking(move || {
        let o = collector(
            &["crawl", &seeds, "--out", "-", "--progress", "never"],
            &cwd,
        );
        (o, files_in(&cwd))
    });
    let (o, left) = tokio::time::timeout(Duration::from_secs(60), o)
        .await
        .expect("finished")
        .expect("ran");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(left.is_empty(), "nothing written to disk: {left:?}");
    let records: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON record"))
        .collect();
    support::assert_schema_valid(&records);
    let expected: BTreeSet<String> = SMALL_SITE.iter().map(|p| server.url(p)).collect();
    assert_eq!(urls(&records), expected);
    assert_eq!(
        support::record_for(&records, &server.url("/missing"))["status"],
        404
    );
    assert!(
        stderr.contains("10 pages in"),
        "the summary goes to stderr: {stderr}"
    );
    assert!(stderr.contains("standard output"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_dash_lines_arrive_while_the_crawl_runs() {
    let server = endless_site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/n0"));
    let mut child = spawn_crawl(&seeds, &["--out", "-"]);
    let pid = child.id().expect("pid");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    for _ in 0..3 {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("a record arrives while the crawl runs")
            .expect("read")
            .expect("a line");
        let record: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(record["status"], 200);
    }
    assert!(child.try_wait().expect("poll").is_none(), "still crawling");
    signal(pid, "-INT");
    while let Some(line) = lines.next_line().await.expect("read") {
        serde_json::from_str::<serde_json::Value>(&line).expect("whole JSON lines only");
    }
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exited")
        .expect("wait");
    assert_eq!(status.code(), Some(130));
}

#[test]
fn bad_formats_exit_2_naming_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", "http://127.0.0.1:9/\n");
    let out = dir.path().join("out");
    let out_arg = out.to_str().expect("utf-8");
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();

    let o = collector(
        &["crawl", &seeds, "--out", out_arg, "--format", "jsonl,xml"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("--format") && e.contains("\"xml\""), "{e}");
    assert!(
        e.contains("jsonl, json, csv, warc"),
        "the valid ones are listed: {e}"
    );

    let o = collector(
        &["crawl", &seeds, "--out", "-", "--format", "jsonl,csv"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("--out -") && e.contains("csv"), "{e}");

    let config = write(
        dir.path(),
        "crawl.toml",
        "[output]\nformat = [\"jsonl\", \"pdf\"]\n",
    );
    let o = collector(
        &["crawl", &seeds, "--out", out_arg, "--config", &config],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("crawl.toml") || e.contains("[output] format"),
        "{e}"
    );
    assert!(e.contains("\"pdf\""), "{e}");
    assert!(o.stdout.is_empty());
    assert!(!out.exists(), "nothing was started");
}
