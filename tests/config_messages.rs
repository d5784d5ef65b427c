//! Settings errors through the binary: each names where the bad value came
//! from (the flag, or the file and key); flags win over the file key by
//! key, `--no-` forms included; flags given with an API config file apply
//! to every resource; `collector demo --out -` streams what it can.

mod support;
mod support_api;

use std::sync::Arc;

use support::Server;
use support::binary::{collector, stderr, write};

/// `collector ARGS` must exit 2 with `want` in its message, nothing fetched.
fn refused(dir: &std::path::Path, args: &[&str], want: &str) {
    let o = collector(args, dir);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(want), "{args:?}: expected {want:?} in: {err}");
}

#[test]
fn crawl_config_errors_name_the_file_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "s.txt", "http://127.0.0.1:9/\n");
    let cases = [
        (
            "concurrency = 0",
            "bad.toml: concurrency must be at least 1, got 0",
        ),
        (
            "exclude = [\"(unclosed\"]",
            "bad.toml: exclude \"(unclosed\" is not a valid regex",
        ),
        (
            "max_depth = -1",
            "bad.toml: max_depth must be 0 or more, got -1",
        ),
        (
            "[output]\nformat = [\"xml\"]",
            "bad.toml: [output] format: unknown output format \"xml\"",
        ),
        (
            "concurrency = \"many\"",
            "bad.toml: concurrency: expected an integer, got the string \"many\"",
        ),
        (
            "retries = 500",
            "bad.toml: retries must be at most 100, got 500",
        ),
        (
            "per_hots = 2",
            "bad.toml: unknown key `per_hots` (did you mean `per_host`?)",
        ),
    ];
    for (text, want) in cases {
        write(dir.path(), "bad.toml", text);
        refused(dir.path(), &["crawl", &seeds, "--config", "bad.toml"], want);
    }
    refused(
        dir.path(),
        &["crawl", &seeds, "--concurrency", "0"],
        "--concurrency must be at least 1, got 0",
    );
    refused(
        dir.path(),
        &["crawl", &seeds, "--exclude", "(unclosed"],
        "--exclude \"(unclosed\" is not a valid regex",
    );
}

#[test]
fn api_errors_name_the_flag_or_the_resource_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "api.toml",
        "[[resource]]\nname = \"items\"\nurl = \"http://127.0.0.1:9/x\"\npaginate = \"cursor\"\n",
    );
    refused(
        dir.path(),
        &["api", "api.toml"],
        "api.toml: [[resource]] \"items\": paginate cursor needs cursor",
    );
    refused(
        dir.path(),
        &["api", "http://127.0.0.1:9/x", "--paginate", "cursor"],
        "--paginate cursor needs --cursor",
    );
    // One validation, the same limit and words as the crawl's.
    refused(
        dir.path(),
        &["api", "http://127.0.0.1:9/x", "--retries", "500"],
        "--retries must be at most 100, got 500",
    );
    write(
        dir.path(),
        "r.toml",
        "retries = 500\nurl = \"http://127.0.0.1:9/x\"\n",
    );
    refused(
        dir.path(),
        &["api", "r.toml"],
        "r.toml: retries must be at most 100, got 500",
    );
    // --out names one file; a config file writes one per resource.
    refused(
        dir.path(),
        &["api", "r.toml", "--out", "x"],
        "--out names the file of a single pull",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_given_with_an_api_file_apply_to_every_resource() {
    let s = support_api::server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    let config = format!(
        "out_dir = {:?}\n\n[[resource]]\nname = \"paged\"\nurl = \"{}\"\npaginate = \"page\"\nrecords = \"items\"\nmax_pages = 5\n\n[[resource]]\nname = \"linked\"\nurl = \"{}\"\npaginate = \"link\"\n",
        out_dir.to_string_lossy(),
        s.url("/page"),
        s.url("/link"),
    );
    write(dir.path(), "two.toml", &config);
    let o = tokio::task::spawn_blocking({
        let cwd = dir.path().to_path_buf();
        move || collector(&["api", "two.toml", "--max-pages", "1", "--quiet"], &cwd)
    })
    .await
    .expect("ran");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary = support::binary::summary_json(&out_dir);
    for name in ["paged", "linked"] {
        assert_eq!(summary["resources"][name]["pages"], 1, "{summary}");
        assert_eq!(
            summary["resources"][name]["stopped"], "max_pages",
            "{summary}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_forms_turn_off_what_the_file_turns_on() {
    // The file says ignore_robots = true; --no-ignore-robots on the command
    // line wins, so robots.txt is read and obeyed.
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| match path {
            "/robots.txt" => {
                support::Reply::Text("text/plain", "User-agent: *\nDisallow: /private\n".into())
            }
            "/" => support::Reply::Html(support::html_with_links("home", &["/private".into()])),
            _ => support::Reply::Html(support::html_with_links("p", &[])),
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "s.txt", &server.url("/"));
    write(dir.path(), "c.toml", "ignore_robots = true\nquiet = true\n");
    let run = |extra: &'static [&'static str], out: &'static str| {
        let cwd = dir.path().to_path_buf();
        let seeds = seeds.clone();
        tokio::task::spawn_blocking(move || {
            let mut args = vec!["crawl", seeds.as_str(), "--config", "c.toml", "--out", out];
            args.extend_from_slice(extra);
            collector(&args, &cwd)
        })
    };
    let o = run(&[], "a").await.expect("ran");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(server.count("/robots.txt"), 0);
    assert_eq!(server.count("/private"), 1);
    let o = run(&["--no-ignore-robots", "--no-quiet"], "b")
        .await
        .expect("ran");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(server.count("/robots.txt"), 1);
    assert_eq!(server.count("/private"), 1, "robots.txt was obeyed");
    assert!(
        stderr(&o).contains("pages"),
        "--no-quiet shows the summary: {}",
        stderr(&o)
    );
}

#[test]
fn demo_streams_jsonl_to_standard_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = collector(
        &["demo", "--pages", "20", "--out", "-", "--quiet"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).expect("utf-8");
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert!(records.len() >= 20, "{} records", records.len());
    assert!(!dir.path().join("-").exists());
}
