//! `collector fetch URL`, through the binary: the printed report, exit
//! codes, and from the servers' logs what was (and was not) requested.

mod support;

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;

use serde_json::{Value, json};
use support::binary::write;
use support::{Handler, Reply, Server};

/// What one run of the binary gave.
struct Run {
    code: Option<i32>,
    /// Standard output parsed as JSON (`null` when empty).
    report: Value,
    stderr: String,
}

/// `collector fetch ARGS` with `dir` as working directory.
async fn fetch(dir: &Path, args: &[&str]) -> Run {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
        .arg("fetch")
        .args(["--timeout", "5", "--connect-timeout", "2"])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("collector runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = if stdout.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}"))
    };
    Run {
        code: out.status.code(),
        report,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn robots(text: &'static str) -> Reply {
    Reply::Text("text/plain", text.to_string())
}

const BOOK: &str = r#"<!DOCTYPE html><html><head><title>Books | A Light</title></head><body>
<div class="product"><h1>A Light in
  the Attic</h1><p class="price">£51.77</p>
<ul class="tags"><li>poetry</li><li> classics </li></ul></div>
<ul class="pager">
  <li><a href="/catalogue/page-2.html">next</a></li>
  <li><a href="/catalogue/page-2.html#top">next, again</a></li>
  <li><a href="page-3.html">three</a></li>
  <li><a href="http://elsewhere.test/x">elsewhere</a></li>
  <li><a href="mailto:shop@example.com">mail</a></li>
  <li><a rel="nofollow" href="/login">log in</a></li>
</ul>
<a href="/about.html">about</a>
</body></html>"#;

const RULES: &str = r#"
header = ["Accept-Language: en"]

[[rule]]
name = "listing"
url = 'catalogue/page-\d+\.html$'
[rule.fields]
count = "p.count"

[[rule]]
name = "book"
url = 'catalogue/[^/]+/index\.html$'
follow = ["ul.pager"]
[rule.fields]
title = "h1"
price = { css = "p.price", regex = '([0-9.]+)', type = "float" }
tags = { css = "ul.tags li", many = true }
isbn = { css = ".isbn", required = true }
"#;

fn shop() -> Handler {
    Arc::new(|path, _| match path {
        "/robots.txt" => robots("User-agent: *\nDisallow: /private/\n"),
        "/catalogue/book/index.html" | "/about.html" => Reply::Full(
            200,
            vec![
                ("content-type", "text/html; charset=utf-8".into()),
                ("set-cookie", "a=1".into()),
                ("set-cookie", "b=2".into()),
                ("x-shop", "demo".into()),
            ],
            BOOK.as_bytes().to_vec(),
        ),
        "/private/page.html" => Reply::Html("<title>Private</title>".into()),
        "/old" => Reply::Redirect(301, "/moved".into()),
        "/moved" => Reply::Redirect(302, "/catalogue/book/index.html".into()),
        "/away" => Reply::Redirect(302, "http://elsewhere.test/".into()),
        "/broken" => Reply::Status(500),
        _ => Reply::Full(
            404,
            vec![("content-type", "text/html".into())],
            b"<title>Not here</title><a href=/>home</a>".to_vec(),
        ),
    })
}

#[tokio::test]
async fn a_ruled_page_shows_its_data_links_status_and_headers() {
    let server = Server::start("127.0.0.1", shop()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(dir.path(), "shop.toml", RULES);
    let url = server.url("/catalogue/book/index.html");
    let run = fetch(
        dir.path(),
        &["--config", &config, "--user-agent", "shopbot/2.0", &url],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let r = &run.report;
    assert_eq!(r["url"], url);
    assert_eq!(r["final_url"], url);
    assert_eq!(r["status"], 200);
    assert_eq!(r["redirects"], json!([]));
    assert_eq!(r["robots"], json!({"checked": true, "allowed": true}));
    assert_eq!(r["headers"]["set-cookie"], json!(["a=1", "b=2"]));
    assert_eq!(r["headers"]["x-shop"], json!(["demo"]));
    assert_eq!(r["content_type"], "text/html; charset=utf-8");
    assert_eq!(r["charset"], "UTF-8");
    assert_eq!(r["bytes"], BOOK.len());
    assert_eq!(r["title"], "Books | A Light");
    assert_eq!(r["rule"], "book");
    assert_eq!(
        r["data"],
        json!({
            "title": "A Light in the Attic",
            "price": 51.77,
            "tags": ["poetry", "classics"],
            "isbn": null,
        })
    );
    assert_eq!(r["incomplete"], json!(["isbn"]));
    // Only the pager's links, canonical (fragment dropped), each once.
    assert_eq!(
        r["links"],
        json!([
            server.url("/catalogue/page-2.html"),
            server.url("/catalogue/book/page-3.html"),
        ])
    );
    assert_eq!(
        r["skipped_links"],
        json!({"out_of_scope": 1, "nofollow": 1, "not_selected": 1, "scheme": 1})
    );
    assert_eq!(r["out_of_scope_links"], json!(["http://elsewhere.test/x"]));
    assert_eq!(r["error"], Value::Null);

    // robots.txt and the page, nothing else: links are reported, not fetched.
    assert_eq!(
        server.paths(),
        ["/robots.txt", "/catalogue/book/index.html"]
    );
    for hit in server.hits() {
        assert_eq!(hit.user_agent, "shopbot/2.0", "flag over default");
        assert_eq!(hit.header("accept-language"), Some("en"), "from the config");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read tempdir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, ["shop.toml"], "nothing written (no output/)");
}

#[tokio::test]
async fn a_redirect_chain_is_shown_hop_by_hop() {
    let server = Server::start("127.0.0.2", shop()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let run = fetch(dir.path(), &["--header", "X-Trace: 7", &server.url("/old")]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        server.paths(),
        [
            "/robots.txt",
            "/old",
            "/moved",
            "/catalogue/book/index.html"
        ]
    );
    for hit in server.hits() {
        assert_eq!(hit.header("x-trace"), Some("7"), "{}", hit.path);
        assert!(hit.user_agent.starts_with("collector/"), "the default");
    }
    let r = &run.report;
    assert_eq!(r["url"], server.url("/old"));
    assert_eq!(r["final_url"], server.url("/catalogue/book/index.html"));
    assert_eq!(r["status"], 200);
    assert_eq!(
        r["redirects"],
        json!([
            {"url": server.url("/old"), "status": 301},
            {"url": server.url("/moved"), "status": 302},
        ])
    );
    assert_eq!(r["headers"]["x-shop"], json!(["demo"]), "the final hop's");
    assert_eq!(r["rule"], Value::Null, "no config, no rule");
    assert_eq!(r["data"], Value::Null);
    assert_eq!(r["links"].as_array().map(Vec::len), Some(3), "{r}");

    // A redirect out of scope is not followed: an error, exit 1.
    let run = fetch(dir.path(), &[&server.url("/away")]).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.report["status"], 302);
    assert_eq!(run.report["error"]["kind"], "redirect_out_of_scope");
    assert_eq!(run.report["redirects"], json!([]));
}

#[tokio::test]
async fn a_url_robots_txt_disallows_is_not_fetched_unless_robots_are_ignored() {
    let server = Server::start("127.0.0.3", shop()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = server.url("/private/page.html");
    let run = fetch(dir.path(), &[&url]).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let r = &run.report;
    assert_eq!(r["robots"], json!({"checked": true, "allowed": false}));
    assert_eq!(r["error"]["kind"], "robots_denied");
    assert_eq!(r["status"], Value::Null);
    assert_eq!(r["headers"], Value::Null);
    assert_eq!(
        server.paths(),
        ["/robots.txt"],
        "the page was not requested"
    );

    let run = fetch(dir.path(), &["--ignore-robots", &url]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.report["robots"],
        json!({"checked": false, "allowed": null})
    );
    assert_eq!(run.report["title"], "Private");
    assert_eq!(
        server.paths(),
        ["/robots.txt", "/private/page.html"],
        "robots.txt not read again"
    );
}

#[tokio::test]
async fn a_bad_selector_exits_2_naming_rule_and_field_before_any_request() {
    let server = Server::start("127.0.0.4", shop()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "bad.toml",
        "[[rule]]\nname = \"book\"\n[rule.fields]\ntitle = \"h1\"\nprice = \"p..price\"\n",
    );
    let run = fetch(dir.path(), &["--config", &config, &server.url("/")]).await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains(r#"rule "book", field "price""#),
        "{}",
        run.stderr
    );
    assert_eq!(run.report, Value::Null, "no report");
    assert!(server.paths().is_empty(), "{:?}", server.paths());

    let run = fetch(dir.path(), &["ftp://127.0.0.4/x"]).await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("only http and https"), "{}", run.stderr);
}

#[tokio::test]
async fn rule_forces_a_rule_set_whatever_its_url_pattern() {
    let server = Server::start("127.0.0.5", shop()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(dir.path(), "shop.toml", RULES);
    let url = server.url("/about.html");
    let run = fetch(dir.path(), &["--config", &config, &url]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.report["rule"], Value::Null, "no pattern matches");
    assert_eq!(run.report["data"], Value::Null);
    assert_eq!(run.report["links"].as_array().map(Vec::len), Some(3));

    let run = fetch(dir.path(), &["--config", &config, "--rule", "book", &url]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.report["rule"], "book");
    assert_eq!(run.report["data"]["price"], 51.77);
    assert_eq!(run.report["incomplete"], json!(["isbn"]));
    assert_eq!(run.report["links"].as_array().map(Vec::len), Some(2));

    let requests = server.paths().len();
    let run = fetch(dir.path(), &["--config", &config, "--rule", "item", &url]).await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains(r#"known: "listing", "book""#),
        "{}",
        run.stderr
    );
    assert_eq!(server.paths().len(), requests, "nothing requested");
}

#[tokio::test]
async fn error_statuses_are_printed_404_exits_0_and_5xx_exits_1() {
    let server = Server::start("127.0.0.6", shop()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let run = fetch(dir.path(), &[&server.url("/missing")]).await;
    assert_eq!(run.code, Some(0), "a 404 is a page: {}", run.stderr);
    assert_eq!(run.report["status"], 404);
    assert_eq!(run.report["error"], Value::Null);
    assert_eq!(run.report["links"], json!([]), "error pages are not parsed");

    let run = fetch(dir.path(), &["--retries", "1", &server.url("/broken")]).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.report["status"], 500);
    assert_eq!(run.report["retries"], 1);
    assert_eq!(run.report["error"]["kind"], "http_status");
    assert_eq!(server.count("/broken"), 2);

    // Nothing listens on a port just freed: a transport error.
    let port = std::net::TcpListener::bind("127.0.0.6:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let run = fetch(
        dir.path(),
        &[
            "--retries",
            "0",
            "--ignore-robots",
            &format!("http://127.0.0.6:{port}/"),
        ],
    )
    .await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.report["error"]["kind"], "connect");
}
