//! robots.txt outcomes through the binary and the crawl: an unreachable
//! robots.txt is a failure that says why, a large one is read up to its
//! first 512 KiB, and the sitemaps it names are resolved against it and
//! kept in scope.

mod support;

use std::sync::Arc;

use support::binary::{collector, stderr};
use support::{Reply, Server};

#[test]
fn a_seed_on_a_host_that_refuses_connections_fails_and_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let seed = format!("http://127.0.0.1:{port}/");
    let o = collector(
        &["crawl", &seed, "--out", "out", "--quiet", "--retries", "0"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let records = support::records(&dir.path().join("out"));
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["error"]["kind"], "connect", "{}", records[0]);
    let message = records[0]["error"]["message"].as_str().expect("message");
    assert!(message.starts_with("robots.txt unreachable: "), "{message}");
    let summary = support::binary::summary_json(&dir.path().join("out"));
    assert_eq!(summary["failed"], 1, "{summary}");

    let o = collector(&["fetch", &seed, "--retries", "0"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("report");
    assert_eq!(report["error"]["kind"], "connect", "{report}");
}

#[tokio::test]
async fn a_large_robots_txt_is_obeyed_up_to_its_first_512_kib() {
    let mut robots = String::from("User-agent: *\nDisallow: /private\n");
    while robots.len() < 5 * 1024 * 1024 {
        robots.push_str("# filler line to make the file large\n");
    }
    let server = Server::start(
        "127.0.0.1",
        Arc::new(move |path, _| match path {
            "/robots.txt" => Reply::Text("text/plain", robots.clone()),
            "/" => Reply::Html(support::html_with_links(
                "home",
                &["/private".into(), "/open".into()],
            )),
            _ => Reply::Html(support::html_with_links("p", &[])),
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = support::crawl(&[server.url("/")], support::options(dir.path())).await;
    assert_eq!(server.count("/private"), 0, "{:?}", server.paths());
    assert_eq!(server.count("/open"), 1);
    assert_eq!(summary.failed, 0);
}

#[tokio::test]
async fn sitemaps_named_by_robots_txt_resolve_against_it_and_stay_in_scope() {
    let other = Server::start(
        "127.0.0.2",
        Arc::new(|_, _| Reply::Text("text/plain", String::new())),
    )
    .await;
    let elsewhere = other.url("/sitemap.txt");
    let server = Server::start(
        "127.0.0.1",
        Arc::new(move |path, _| match path {
            "/robots.txt" => Reply::Text(
                "text/plain",
                format!("User-agent: *\nDisallow:\nSitemap: /map.txt\nSitemap: {elsewhere}\n"),
            ),
            "/map.txt" => Reply::Text("text/plain", String::new()),
            _ => Reply::Html(support::html_with_links("p", &[])),
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = support::crawl(&[server.url("/")], support::options(dir.path())).await;
    assert_eq!(
        server.count("/map.txt"),
        1,
        "the relative line was resolved"
    );
    assert!(
        other.paths().is_empty(),
        "the other host was contacted: {:?}",
        other.paths()
    );
    assert_eq!(
        summary.skipped.get("out_of_scope").copied(),
        Some(1),
        "{:?}",
        summary.skipped
    );
}

#[tokio::test]
async fn a_url_is_a_seed() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| match path {
            "/" => Reply::Html(support::html_with_links("home", &["/a".into()])),
            _ => Reply::Html(support::html_with_links("a", &[])),
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path().to_path_buf();
    let seed = server.url("/");
    let o = tokio::task::spawn_blocking(move || {
        collector(&["crawl", &seed, "--out", "out", "--quiet"], &cwd)
    })
    .await
    .expect("ran");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(support::records(&dir.path().join("out")).len(), 2);
}
