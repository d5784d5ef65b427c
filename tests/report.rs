//! `report.html` end to end: crawls of local sites, the report loaded in
//! headless Chromium (`--dump-dom`), its figures and charts compared with
//! `summary.json`, no script error, hostile pages kept as text; the
//! `collector report` command's exit codes and warnings; the size and time
//! of a report over 100,000 records.
//!
//! Without Chromium the browser tests fail when `CI=true` (`.ci/run`
//! installs it) and are skipped, saying so, elsewhere.

mod support;
mod support_sites;

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use collector::config::Origin;
use collector::crawl::options::{CrawlOptions, Layered};
use serde_json::Value;
use support::binary::{collector, stderr};
use support::{Reply, Server};
use support_sites::books;

/// The Chromium binary, or `None` (after saying why) when the test should
/// be skipped.
fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        let found = Command::new("which")
            .arg(name)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        if found.is_some() {
            return found;
        }
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "headless Chromium is needed for the report tests: apt-get install -y chromium (.ci/run does)"
    );
    eprintln!(
        "skipped: no chromium on PATH (apt-get install -y chromium); CI=true makes this a failure"
    );
    None
}

/// Runs Chromium headless with `args` and the page `url`, at most 60 s.
fn run_chromium(browser: &Path, args: &[String], url: &str) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().expect("reader")
}

fn file_url(path: &Path, fragment: &str) -> String {
    let abs = path.canonicalize().expect("report exists");
    let url = url::Url::from_file_path(abs).expect("absolute path");
    format!("{url}{fragment}")
}

/// The DOM after the page's scripts ran.
fn dump_dom(browser: &Path, report: &Path, fragment: &str) -> String {
    run_chromium(
        browser,
        &["--dump-dom".to_string()],
        &file_url(report, fragment),
    )
}

/// `data-figure` → `data-value`, from the DOM.
fn figures(dom: &str) -> BTreeMap<String, String> {
    let re = regex::Regex::new(r#"data-figure="([^"]+)" data-value="([^"]*)""#).expect("regex");
    re.captures_iter(dom)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect()
}

/// (`data-key`, `data-value`) of the bars of chart `id`.
fn bars(dom: &str, id: &str) -> Vec<(String, u64)> {
    let start = dom
        .find(&format!("<svg id=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let svg = &dom[start..start + dom[start..].find("</svg>").expect("svg closed")];
    let re = regex::Regex::new(r#"data-key="([^"]*)" data-value="(\d+)""#).expect("regex");
    re.captures_iter(svg)
        .map(|c| (c[1].to_string(), c[2].parse().expect("number")))
        .collect()
}

fn summary(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
        .expect("summary is JSON")
}

/// The page ran its script to the end and raised nothing.
fn assert_script_ran(dom: &str) {
    let tag = |name: &str| {
        let start = dom
            .find(&format!("<{name}"))
            .unwrap_or_else(|| panic!("no <{name}>"));
        &dom[start..start + dom[start..].find('>').expect("tag closed")]
    };
    assert!(
        tag("body").contains("data-ok=\"1\""),
        "the script did not finish"
    );
    assert!(
        !tag("html").contains("data-errors"),
        "a script error was raised"
    );
    let errors = dom
        .split("<pre id=\"script-errors\" hidden=\"\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next());
    assert_eq!(errors, Some(""), "script errors recorded");
}

/// Every count of `summary.json` is in the DOM with the same value, and
/// the status chart's bars are the same counts.
fn assert_figures_match(dom: &str, summary: &Value) {
    let figs = figures(dom);
    for key in ["pages", "failed", "bytes"] {
        assert_eq!(
            figs.get(key).map(String::as_str),
            Some(summary[key].to_string().as_str()),
            "{key}"
        );
    }
    for (map, prefix) in [
        ("by_status", "status"),
        ("by_error", "error"),
        ("skipped", "skip"),
        ("by_rule", "rule"),
    ] {
        let Some(counts) = summary[map].as_object() else {
            continue;
        };
        for (k, v) in counts {
            assert_eq!(
                figs.get(&format!("{prefix}:{k}")).map(String::as_str),
                Some(v.to_string().as_str()),
                "{prefix}:{k}"
            );
        }
        let shown = figs
            .keys()
            .filter(|f| f.starts_with(&format!("{prefix}:")))
            .count();
        assert_eq!(shown, counts.len(), "{prefix}: no figure the summary lacks");
    }
    if summary["by_rule"].is_object() {
        assert_eq!(
            figs.get("incomplete").map(String::as_str),
            Some(summary["incomplete"].to_string().as_str())
        );
    }
    let status_bars: BTreeMap<String, u64> = bars(dom, "chart-status").into_iter().collect();
    let by_status: BTreeMap<String, u64> = summary["by_status"]
        .as_object()
        .expect("by_status")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().expect("count")))
        .collect();
    assert_eq!(status_bars, by_status, "status chart");
    let pages = summary["pages"].as_u64().expect("pages");
    let depth_total: u64 = bars(dom, "chart-depth").iter().map(|b| b.1).sum();
    assert_eq!(depth_total, pages, "depth chart");
}

#[test]
fn demo_report_matches_its_summary_in_chromium_and_is_screenshotted() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("demo");
    let o = collector(
        &[
            "demo",
            "--out",
            out.to_str().expect("utf-8 path"),
            "--quiet",
            "--pages",
            "120",
        ],
        dir.path(),
    );
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "{}",
        stderr(&o)
    );
    let report = out.join("report.html");
    let printed = String::from_utf8_lossy(&o.stdout);
    assert_eq!(printed.trim(), format!("report: {}", report.display()));

    let dom = dump_dom(&browser, &report, "#sort-test");
    assert_script_ran(&dom);
    let s = summary(&out);
    assert_figures_match(&dom, &s);
    // The demo links to a few missing pages: they are listed as broken,
    // each with the page linking to it.
    assert!(s["by_status"]["404"].as_u64().unwrap_or(0) > 0);
    assert!(dom.contains("id=\"table-broken\""));
    // A click on the count column sorts by count (numbers, not text).
    let order: Vec<u64> = dom
        .split("data-sort-test=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("sort test ran")
        .split(',')
        .map(|n| n.parse().expect("count"))
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
    assert_eq!(
        order.len(),
        s["by_status"].as_object().map_or(0, |m| m.len())
    );

    // For a person to look at: target/report-demo.png.
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/report-demo.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &browser,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000".to_string(),
            "--hide-scrollbars".to_string(),
        ],
        &file_url(&report, ""),
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    eprintln!("screenshot of the demo's report: {}", shot.display());
}

/// The books example config over its fixture site, with skipped URLs
/// logged: rule sets, an incomplete record, skip examples.
#[tokio::test]
async fn books_report_matches_its_summary_in_chromium() {
    let server = Server::start("127.0.0.1", books::handler()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/books.toml");
    let file = collector::crawl::settings::load_file(&path).expect("valid config");
    let mut flags = support::options(dir.path());
    flags.run.log_skipped = Some(true);
    let mut layered = Layered::new(flags, &Origin::Flag);
    layered.under(file, &Origin::file(&path));
    let s = support::crawl(&[server.url("/")], layered.options).await;
    assert!(s.incomplete > 0, "the fixture has a book without a price");
    let report = dir.path().join("report.html");
    assert!(report.is_file(), "written at the end of the crawl");
    let Some(browser) = chromium() else { return };
    let dom = dump_dom(&browser, &report, "");
    assert_script_ran(&dom);
    let summary = summary(dir.path());
    assert_figures_match(&dom, &summary);
    assert!(dom.contains("id=\"table-incomplete\""));
    assert!(dom.contains("id=\"table-rule-book\""));
    let figs = figures(&dom);
    assert_eq!(
        figs.get("rule-incomplete:book").map(String::as_str),
        Some(summary["incomplete"].to_string().as_str())
    );
}

const EVIL: &str = "</title><script>document.documentElement.setAttribute('data-pwned','1')</script>\
<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','2')\">";

/// A site whose titles and URLs try to inject script into the report.
fn hostile_site() -> support::Handler {
    let evil_href = "/%22%3E%3Cscript%3Ealert(1)%3C/script%3E?q=\"><script>document.documentElement.setAttribute('data-pwned','3')</script>";
    let mut pages = HashMap::new();
    pages.insert(
        "/".to_string(),
        format!(
            "<html><head><title>{EVIL}</title></head><body>\
             <a href=\"/a\">a</a><a href='{evil_href}'>x</a><a href=\"/gone\">gone</a>\
             <a href=\"javascript:alert(1)\">js</a></body></html>"
        ),
    );
    pages.insert(
        "/a".to_string(),
        format!("<title>&lt;/title&gt;&lt;script&gt;alert(2)&lt;/script&gt;</title><a href=\"/gone\">gone</a>{EVIL}"),
    );
    let pages = Arc::new(pages);
    Arc::new(move |path, _| match pages.get(path) {
        Some(body) => Reply::Html(body.clone()),
        None if path == "/robots.txt" => {
            Reply::Text("text/plain", "User-agent: *\nDisallow:\n".into())
        }
        None => Reply::Status(404),
    })
}

#[tokio::test]
async fn a_hostile_page_cannot_inject_into_the_report() {
    let server = Server::start("127.0.0.1", hostile_site()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut flags: CrawlOptions = support::options(dir.path());
    flags.run.log_skipped = Some(true);
    let s = support::crawl(&[server.url("/")], flags).await;
    assert!(s.pages >= 4, "{s:?}");
    let report = dir.path().join("report.html");
    let html = std::fs::read_to_string(&report).expect("report");
    assert_eq!(
        html.matches("<script").count(),
        2,
        "only the report's own scripts"
    );
    assert!(!html.contains("<img"));
    let Some(browser) = chromium() else { return };
    let dom = dump_dom(&browser, &report, "");
    assert_script_ran(&dom);
    assert!(!dom.contains("data-pwned"), "injected script ran");
    assert_eq!(dom.matches("<script").count(), 2);
    assert!(!dom.contains("<img"));
    assert!(!dom.contains("href=\"javascript:"), "no javascript: link");
    // /gone is broken, linked from both pages (the second through a
    // duplicate skip in skipped.jsonl).
    let broken = dom
        .split("id=\"table-broken\"")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("broken links table");
    assert!(broken.contains(&server.url("/gone")));
    assert!(broken.contains(&format!("href=\"{}\"", server.url("/"))));
    assert!(broken.contains(&format!("href=\"{}\"", server.url("/a"))));
    assert_figures_match(&dom, &summary(dir.path()));
}

#[test]
fn report_command_exit_codes_and_warnings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let o = collector(&["report", "."], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("holds no pages.jsonl"),
        "{}",
        stderr(&o)
    );

    let good = r#"{"url":"http://a.test/","final_url":"http://a.test/","status":200,"depth":0,"referrer":null,"content_type":"text/html","bytes":9,"elapsed_ms":1,"fetched_at":"2026-01-01T00:00:00.000Z","title":"t","links":0,"retries":0,"redirects":0,"error":null}"#;
    std::fs::write(
        dir.path().join("pages.jsonl"),
        format!("{good}\n{{oops\n{good}\n"),
    )
    .expect("write");
    let o = collector(&["report", "."], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "./report.html");
    let err = stderr(&o);
    assert!(err.contains("./pages.jsonl:2: "), "{err}");
    assert!(err.contains("summary.json"), "{err}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("report");
    assert!(html.contains("data-figure=\"pages\" data-value=\"2\""));
    assert!(html.contains("data-figure=\"malformed\" data-value=\"1\""));

    // A crawl with --no-report writes none.
    let server_dir = tempfile::tempdir().expect("temp dir");
    let seeds = support::binary::write(server_dir.path(), "seeds.txt", "http://127.0.0.1:9/\n");
    let out = server_dir.path().join("out");
    let o = collector(
        &[
            "crawl",
            &seeds,
            "--out",
            out.to_str().expect("utf-8"),
            "--quiet",
            "--no-report",
            "--retries",
            "0",
            "--connect-timeout",
            "2",
        ],
        server_dir.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(out.join("summary.json").is_file());
    assert!(!out.join("report.html").exists());
}

/// 100,000 synthetic records: the report stays small and quick.
#[test]
fn a_report_of_100000_pages_stays_under_2_mb() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(dir.path().join("pages.jsonl")).expect("create"),
    );
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut bytes = 0u64;
    for i in 0..100_000u64 {
        let status = match i % 50 {
            0 => 404,
            1 => 500,
            _ => 200,
        };
        *by_status.entry(status.to_string()).or_default() += 1;
        let size = (i * 7919) % 200_000;
        bytes += size;
        let record = serde_json::json!({
            "url": format!("http://host{}.test/section-{}/page-{i}.html", i % 40, i % 300),
            "final_url": format!("http://host{}.test/section-{}/page-{i}.html", i % 40, i % 300),
            "status": status, "depth": i % 9, "referrer": format!("http://host{}.test/", i % 40),
            "content_type": "text/html", "bytes": size, "elapsed_ms": (i * 31) % 3000,
            "fetched_at": format!("2026-01-01T00:{:02}:{:02}.000Z", (i / 1000) / 60, (i / 1000) % 60),
            "title": format!("Page {i} with a long enough title to be realistic"), "links": 30,
            "retries": 0, "redirects": 0,
            "error": if status == 500 { serde_json::json!({"kind": "http_status", "message": "500 after retries"}) } else { Value::Null },
            "rule": "page", "data": {"heading": format!("Page {i}"), "price": if i % 3 == 0 { Value::Null } else { (i as f64).into() }},
        });
        writeln!(f, "{record}").expect("write");
    }
    f.flush().expect("flush");
    drop(f);
    let started = Instant::now();
    let written = collector::report::write(dir.path()).expect("report written");
    let elapsed = started.elapsed();
    let size = std::fs::metadata(&written.path).expect("report").len();
    eprintln!("report of 100,000 pages: {size} bytes in {elapsed:?}");
    assert_eq!(written.pages, 100_000);
    assert!(size < 2 * 1024 * 1024, "{size} bytes");
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    let html = std::fs::read_to_string(&written.path).expect("read");
    for (status, n) in &by_status {
        assert!(
            html.contains(&format!(
                "data-figure=\"status:{status}\" data-value=\"{n}\""
            )),
            "{status}"
        );
    }
    assert!(html.contains(&format!("data-figure=\"bytes\" data-value=\"{bytes}\"")));
    assert!(html.contains("data-figure=\"failed\" data-value=\"2000\""));
}
