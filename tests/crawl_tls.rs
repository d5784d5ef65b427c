//! HTTPS anywhere: a CA and certificates made at run time, a server that
//! speaks HTTP/2 by ALPN. A verified crawl over HTTP/2 with `--ca-cert`;
//! unknown, expired and wrong-name certificates are `tls` failures in
//! words, with no plaintext fallback; `--insecure` works with a warning.

mod support;
mod support_tls;

use std::path::Path;
use std::process::Output;

use support::binary::{collector, stderr, summary_json, write};
use support_tls::{Ca, HttpsServer};

fn site(path: &str) -> (u16, String) {
    match path {
        "/" => (
            200,
            support::html_with_links("home", &["/a".into(), "/b".into()]),
        ),
        "/a" | "/b" => (200, support::html_with_links("leaf", &[])),
        _ => (404, String::new()),
    }
}

/// `collector crawl URL --out out ARGS` in `dir`, off the async workers.
async fn crawl(dir: &Path, url: String, args: &[&str]) -> Output {
    let cwd = dir.to_path_buf();
    let mut argv: Vec<String> = ["crawl", &url, "--out", "out", "--quiet", "--retries", "0"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    argv.extend(args.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        collector(&argv, &cwd)
    })
    .await
    .expect("ran")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ca_is_trusted_with_ca_cert_over_http2() {
    let ca = Ca::new("collector test CA");
    let server = HttpsServer::start("127.0.0.1", &ca.leaf(&["127.0.0.1"], false), site).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_file = write(dir.path(), "ca.pem", &ca.pem);
    let o = crawl(
        dir.path(),
        server.url("127.0.0.1", "/"),
        &["--ca-cert", &ca_file, "--format", "jsonl,warc"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = dir.path().join("out");
    let records = support::records(&out);
    assert_eq!(records.len(), 3, "{records:?}");
    assert!(records.iter().all(|r| r["status"] == 200), "{records:?}");
    let requests = server.requests();
    for page in ["/", "/a", "/b"] {
        assert_eq!(
            requests.iter().filter(|(p, _)| p == page).count(),
            1,
            "{requests:?}"
        );
    }
    assert!(
        requests.iter().all(|(_, v)| v == "HTTP/2.0"),
        "{requests:?}"
    );
    assert_eq!(summary_json(&out)["tls_verified"], true);
    // The archive holds a request and a response for each page.
    let warc = support::warc::read_warc(&out.join("pages.warc.gz"));
    let of = |t: &str| warc.iter().filter(|r| r["type"] == t).count();
    assert_eq!((of("request"), of("response")), (3, 3), "{warc:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_certificates_fail_in_words_without_a_plaintext_fallback() {
    let ca = Ca::new("collector test CA");
    let other = Ca::new("someone else's CA");
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_file = write(dir.path(), "ca.pem", &ca.pem);
    let cases = [
        (
            other.leaf(&["127.0.0.1"], false),
            "127.0.0.1",
            "certificate signed by an unknown authority",
        ),
        (
            ca.leaf(&["127.0.0.1"], true),
            "127.0.0.1",
            "certificate has expired",
        ),
        (
            ca.leaf(&["localhost"], false),
            "127.0.0.2",
            "certificate is for localhost, not 127.0.0.2",
        ),
    ];
    for (leaf, ip, words) in cases {
        let server = HttpsServer::start(ip, &leaf, site).await;
        let _ = std::fs::remove_dir_all(dir.path().join("out"));
        let o = crawl(dir.path(), server.url(ip, "/"), &["--ca-cert", &ca_file]).await;
        assert_eq!(o.status.code(), Some(1), "{words}: {}", stderr(&o));
        let records = support::records(&dir.path().join("out"));
        assert_eq!(records.len(), 1, "{records:?}");
        let error = &records[0]["error"];
        assert_eq!(error["kind"], "tls", "{error}");
        assert!(
            error["message"].as_str().is_some_and(|m| m.contains(words)),
            "{words}: {error}"
        );
        assert!(
            server.requests().is_empty(),
            "no request got through: {:?}",
            server.requests()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_skips_verification_and_says_so() {
    let other = Ca::new("someone else's CA");
    let server = HttpsServer::start("127.0.0.1", &other.leaf(&["127.0.0.1"], false), site).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let o = crawl(dir.path(), server.url("127.0.0.1", "/"), &["--insecure"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("TLS certificates are not verified"),
        "{}",
        stderr(&o)
    );
    let out = dir.path().join("out");
    assert_eq!(support::records(&out).len(), 3);
    assert_eq!(summary_json(&out)["tls_verified"], false);
}

#[test]
fn a_ca_file_without_a_certificate_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "empty.pem", "not a certificate\n");
    let o = collector(
        &["crawl", "https://127.0.0.1:9/", "--ca-cert", "empty.pem"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--ca-cert empty.pem: no PEM certificate"),
        "{}",
        stderr(&o)
    );
}
