//! The one request loop through a crawl: redirects read from raw header
//! bytes, redirects that cannot be followed, a pooled connection the
//! server closed, a body cut short, and sitemaps retried like pages.

mod support;

use std::sync::Arc;

use support::raw::{RawServer, Then, response};
use support::{Reply, Server};

fn html(links: &[&str]) -> Vec<u8> {
    let links: Vec<String> = links.iter().map(|l| l.to_string()).collect();
    support::html_with_links("page", &links).into_bytes()
}

async fn crawl(
    seed: String,
    tweak: impl FnOnce(&mut collector::crawl::options::CrawlOptions),
) -> (Vec<serde_json::Value>, collector::record::Summary) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut o = support::options(dir.path());
    o.request.retries = Some(0);
    tweak(&mut o);
    let summary = support::crawl(&[seed], o).await;
    let records = support::records(dir.path());
    support::assert_schema_valid(&records);
    (records, summary)
}

#[tokio::test]
async fn a_location_in_raw_utf8_is_percent_encoded_and_followed() {
    let server = RawServer::start(Arc::new(|path, _| {
        let bytes = match path {
            "/" => response("302 Found", &["location: /caf\u{e9}".as_bytes()], b""),
            "/caf%C3%A9" => response("200 OK", &[b"content-type: text/html"], &html(&[])),
            _ => response("404 Not Found", &[], b""),
        };
        (bytes, Then::KeepAlive)
    }))
    .await;
    let (records, summary) = crawl(server.url("/"), |_| {}).await;
    let r = support::record_for(&records, &server.url("/"));
    assert_eq!(r["final_url"], server.url("/caf%C3%A9"), "{r}");
    assert_eq!(r["status"], 200);
    assert_eq!(r["redirects"], 1);
    assert!(r["error"].is_null(), "{r}");
    assert_eq!(summary.failed, 0);
}

#[tokio::test]
async fn a_redirect_that_cannot_be_followed_is_an_error() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| match path {
            "/" => Reply::Status(302),
            _ => Reply::Status(404),
        }),
    )
    .await;
    let (records, summary) = crawl(server.url("/"), |_| {}).await;
    let r = support::record_for(&records, &server.url("/"));
    assert_eq!(r["status"], 302);
    assert_eq!(r["error"]["kind"], "bad_redirect", "{r}");
    assert_eq!(summary.failed, 1);
}

#[tokio::test]
async fn a_pooled_connection_the_server_closed_is_sent_again_once() {
    // Each connection answers one request, then closes when the next one
    // arrives: every request after the first meets a closed connection.
    let server = RawServer::start(Arc::new(|path, _| {
        let bytes = match path {
            "/" => response(
                "200 OK",
                &[b"content-type: text/html"],
                &html(&["/a", "/b"]),
            ),
            "/a" | "/b" => response("200 OK", &[b"content-type: text/html"], &html(&[])),
            _ => response("404 Not Found", &[], b""),
        };
        (bytes, Then::CloseOnNext)
    }))
    .await;
    let (records, summary) = crawl(server.url("/"), |o| {
        o.run.concurrency = Some(1);
        o.run.per_host = Some(1);
    })
    .await;
    assert_eq!(records.len(), 3, "{records:?}");
    for r in &records {
        assert_eq!(r["status"], 200, "{r}");
        assert_eq!(r["retries"], 0, "a re-send is not a retry: {r}");
    }
    assert_eq!(summary.failed, 0);
    assert!(
        server.connections() >= 3,
        "each re-send went on a new connection"
    );
}

#[tokio::test]
async fn a_body_cut_short_is_retried() {
    let server = RawServer::start(Arc::new(|path, nth| match (path, nth) {
        ("/", 1) => {
            let mut cut =
                b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 5000\r\n\r\n"
                    .to_vec();
            cut.extend_from_slice(b"<html><body>");
            (cut, Then::Close)
        }
        ("/", _) => (
            response("200 OK", &[b"content-type: text/html"], &html(&[])),
            Then::Close,
        ),
        _ => (response("404 Not Found", &[], b""), Then::Close),
    }))
    .await;
    let (records, summary) = crawl(server.url("/"), |o| o.request.retries = Some(2)).await;
    let r = support::record_for(&records, &server.url("/"));
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["retries"], 1, "{r}");
    assert!(r["error"].is_null(), "{r}");
    assert_eq!(summary.failed, 0);
    assert_eq!(server.paths(), ["/robots.txt", "/", "/"]);
}

#[tokio::test]
async fn a_sitemap_answering_503_is_retried() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, nth| match path {
            "/sitemap.txt" if nth == 0 => Reply::Status(503),
            "/sitemap.txt" => Reply::Text("text/plain", String::new()),
            "/robots.txt" => Reply::Status(404),
            _ => Reply::Html(support::html_with_links("p", &[])),
        }),
    )
    .await;
    let server_url = server.url("/sitemap.txt");
    let (records, _) = crawl(server.url("/"), |o| {
        o.request.retries = Some(1);
        o.run.sitemap = Some(vec![server_url.clone()]);
    })
    .await;
    assert_eq!(server.count("/sitemap.txt"), 2, "{:?}", server.paths());
    let map = support::record_for(&records, &server_url);
    assert_eq!(map["status"], 200, "{map}");
    assert_eq!(map["retries"], 1, "{map}");
}

#[tokio::test]
async fn a_response_with_150_headers_is_a_too_large_error_not_a_page() {
    let headers: Vec<Vec<u8>> = (0..150)
        .map(|i| format!("x-h{i}: v").into_bytes())
        .collect();
    let server = RawServer::start(Arc::new(move |path, _| {
        let bytes = match path {
            "/" => response("200 OK", &[b"content-type: text/html"], &html(&["/many"])),
            "/many" => {
                let refs: Vec<&[u8]> = headers.iter().map(Vec::as_slice).collect();
                response("200 OK", &refs, &html(&[]))
            }
            _ => response("404 Not Found", &[], b""),
        };
        (bytes, Then::KeepAlive)
    }))
    .await;
    let (records, summary) = crawl(server.url("/"), |_| {}).await;
    let r = support::record_for(&records, &server.url("/many"));
    assert_eq!(r["error"]["kind"], "too_large", "{r}");
    let message = r["error"]["message"].as_str().expect("message");
    assert!(message.contains("more than 100 header fields"), "{message}");
    assert_eq!(r["retries"], 0, "the same answer would come again: {r}");
    assert_eq!(summary.failed, 1);
    assert!(support::record_for(&records, &server.url("/"))["error"].is_null());
}
