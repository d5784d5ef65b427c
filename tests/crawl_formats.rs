//! Output formats through the binary: JSONL, JSON, CSV and WARC side by
//! side hold the same pages, CSV columns, and bad `--format`s. The WARC
//! file is read back with Python's warcio (installed by `.ci/run`); these
//! tests fail, not skip, without it. Stopping a crawl and `--out -` are in
//! `crawl_output_signals.rs`.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::binary::{ALL_FORMATS, collector, csv_rows, files_in, json_array, stderr, write};
use support::sites::{CODINGS, SMALL_SITE, small_site};
use support::urls;

fn path_of(url: &str) -> String {
    let u = url::Url::parse(url).expect("url");
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
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
            "report.html",
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

    // pages.csv: the record's own columns of each record, in the same
    // order, read back by a CSV parser.
    let (header, rows) = csv_rows(&out);
    let columns = collector::sink::csv::RECORD_COLUMNS;
    assert_eq!(header, columns, "without rules: the record's own columns");
    let cell = |r: &serde_json::Value, c: &str| match &r[c] {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(e) => format!(
            "{}: {}",
            e["kind"].as_str().expect("kind"),
            e["message"].as_str().expect("message")
        ),
        v => v.to_string(),
    };
    let from_jsonl: Vec<Vec<String>> = jsonl
        .iter()
        .map(|r| columns.iter().map(|c| cell(r, c)).collect())
        .collect();
    assert_eq!(rows, from_jsonl);
    assert!(
        rows.iter().any(|r| !r[4].is_empty()) && rows.iter().any(|r| r[2] == "404"),
        "titles and statuses are there: {rows:?}"
    );

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
    options.run.output = Some(collector::crawl::options::OutputTable {
        format: Some(collector::crawl::options::FormatNames::One("csv".into())),
    });
    options.run.max_pages = Some(2);
    let seeds = vec![url::Url::parse(&server.url("/")).expect("url")];
    let mut settings = collector::crawl::settings::build(
        &collector::crawl::options::Layered::new(options, &collector::config::Origin::Flag),
        seeds,
    )
    .expect("valid");
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
    assert_eq!(header[9..], ["data.title", "'=price"]);
    assert_eq!(header[..2], ["url", "final_url"]);
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(row[9..], ["", ""], "no extracted data: empty cells");
    }
}

#[test]
fn bad_formats_exit_2_naming_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", "http://127.0.0.1:9/\n");
    let out = dir.path().join("out");
    let out_arg = out.to_str().expect("utf-8");

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
