//! Hostile and broken servers: each fault gets its own small server and the
//! crawl must record the right outcome without hanging or over-fetching.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use support::{Reply, Server};

fn robots_open() -> Reply {
    Reply::Text("text/plain", "User-agent: *\nDisallow:\n".into())
}

async fn crawl_one(
    server: &Server,
    path: &str,
    tweak: impl FnOnce(&mut collector::crawl::options::CrawlOptions),
) -> (Vec<serde_json::Value>, collector::record::Summary) {
    let out = tempfile::tempdir().expect("tempdir");
    let mut opts = support::options(out.path());
    tweak(&mut opts);
    let summary = support::crawl(&[server.url(path)], opts).await;
    let records = support::records(out.path());
    support::assert_schema_valid(&records);
    (records, summary)
}

#[tokio::test]
async fn robots_txt_answering_500_means_nothing_is_fetched_on_that_host() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| match path {
            "/robots.txt" => Reply::Status(500),
            _ => Reply::Html(support::html_with_links("x", &["/a".into()])),
        }),
    )
    .await;
    let (records, summary) = crawl_one(&server, "/", |o| o.request.retries = Some(1)).await;
    // robots.txt goes through the one request loop: a 500 is retried.
    assert_eq!(
        server.paths(),
        ["/robots.txt", "/robots.txt"],
        "only robots.txt was requested"
    );
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["error"]["kind"], "robots_unavailable");
    assert_eq!(
        summary.failed, 1,
        "a site whose robots.txt fails is not crawled, and that is a failure"
    );
}

#[tokio::test]
async fn crawl_delay_spaces_request_starts() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| match path {
            "/robots.txt" => Reply::Text("text/plain", "User-agent: *\nCrawl-delay: 0.5\n".into()),
            "/" => Reply::Html(support::html_with_links(
                "root",
                &["/1".into(), "/2".into(), "/3".into()],
            )),
            _ => Reply::Html(support::html_with_links("leaf", &[])),
        }),
    )
    .await;
    let (records, _) = crawl_one(&server, "/", |o| o.run.per_host = Some(8)).await;
    assert_eq!(records.len(), 4);
    let starts: Vec<_> = server
        .hits()
        .into_iter()
        .filter(|h| h.path != "/robots.txt")
        .collect();
    assert_eq!(starts.len(), 4);
    for pair in starts.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(gap >= Duration::from_millis(450), "starts {gap:?} apart");
    }
}

#[tokio::test]
async fn per_host_concurrency_is_never_exceeded() {
    let links: Vec<String> = (0..30).map(|i| format!("/p{i}")).collect();
    let server = Server::start(
        "127.0.0.1",
        Arc::new(move |path, _| match path {
            "/robots.txt" => robots_open(),
            "/" => Reply::Html(support::html_with_links("root", &links)),
            _ => Reply::Delayed(
                Duration::from_millis(60),
                Box::new(Reply::Html("<title>p</title>".into())),
            ),
        }),
    )
    .await;
    let (records, _) = crawl_one(&server, "/", |o| o.run.per_host = Some(3)).await;
    assert_eq!(records.len(), 31);
    assert_eq!(
        server.max_in_flight(),
        3,
        "the cap is used but never exceeded"
    );
}

#[tokio::test]
async fn a_503_then_200_is_retried_and_counted() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, nth| match (path, nth) {
            ("/robots.txt", _) => robots_open(),
            (_, 0) => Reply::Status(503),
            _ => Reply::Html("<title>ok</title>".into()),
        }),
    )
    .await;
    let (records, summary) = crawl_one(&server, "/", |_| {}).await;
    assert_eq!(records[0]["status"], 200);
    assert_eq!(records[0]["retries"], 1);
    assert!(records[0]["error"].is_null());
    assert_eq!(server.count("/"), 2);
    assert_eq!(summary.retries, 1);
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_for() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, nth| match (path, nth) {
            ("/robots.txt", _) => robots_open(),
            (_, 0) => Reply::Full(429, vec![("retry-after", "1".into())], Vec::new()),
            _ => Reply::Html("<title>ok</title>".into()),
        }),
    )
    .await;
    let (records, _) = crawl_one(&server, "/", |_| {}).await;
    assert_eq!(records[0]["status"], 200);
    assert_eq!(records[0]["retries"], 1);
    let hits: Vec<_> = server
        .hits()
        .into_iter()
        .filter(|h| h.path == "/")
        .collect();
    let gap = hits[1].at.duration_since(hits[0].at);
    assert!(
        gap >= Duration::from_millis(950),
        "retried after {gap:?}, not after Retry-After"
    );
}

#[tokio::test]
async fn retries_give_up_with_http_status() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| match path {
            "/robots.txt" => robots_open(),
            _ => Reply::Status(502),
        }),
    )
    .await;
    let (records, summary) = crawl_one(&server, "/", |o| o.request.retries = Some(2)).await;
    assert_eq!(server.count("/"), 3);
    assert_eq!(records[0]["status"], 502);
    assert_eq!(records[0]["error"]["kind"], "http_status");
    assert_eq!(summary.failed, 1);
}

#[tokio::test]
async fn a_404_is_a_page_not_a_failure() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| match path {
            "/robots.txt" => robots_open(),
            _ => Reply::Status(404),
        }),
    )
    .await;
    let (records, summary) = crawl_one(&server, "/gone", |_| {}).await;
    assert_eq!(records[0]["status"], 404);
    assert!(records[0]["error"].is_null());
    assert_eq!(server.count("/gone"), 1, "404 is not retried");
    assert_eq!(summary.failed, 0);
}

#[tokio::test]
async fn a_server_that_stalls_after_headers_times_out() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| match path {
            "/robots.txt" => robots_open(),
            _ => Reply::StallAfterHeaders,
        }),
    )
    .await;
    let started = std::time::Instant::now();
    let (records, summary) = crawl_one(&server, "/", |o| {
        o.request.timeout = Some(0.5);
        o.request.retries = Some(1);
    })
    .await;
    assert_eq!(records[0]["error"]["kind"], "timeout");
    assert_eq!(records[0]["retries"], 1);
    assert_eq!(summary.failed, 1);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn an_oversized_body_is_cut() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| match path {
            "/robots.txt" => robots_open(),
            _ => Reply::Html("x".repeat(5000)),
        }),
    )
    .await;
    let (records, _) = crawl_one(&server, "/", |o| o.request.max_body = Some(1000)).await;
    assert_eq!(records[0]["error"]["kind"], "too_large");
    assert_eq!(server.count("/"), 1, "too_large is not retried");
}

fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

#[tokio::test]
async fn a_gzip_bomb_is_cut_with_memory_bounded() {
    use std::io::Write as _;
    const INFLATED: usize = 512 << 20;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..(INFLATED >> 20) {
        gz.write_all(&zeros).expect("compress");
    }
    let bomb = Arc::new(gz.finish().expect("compress"));
    assert!(bomb.len() < 1 << 20, "the bomb is small on the wire");
    let before = peak_rss_mib();
    let served = bomb.clone();
    let server = Server::start(
        "127.0.0.1",
        Arc::new(move |path, _| match path {
            "/robots.txt" => robots_open(),
            _ => Reply::Full(
                200,
                vec![
                    ("content-type", "text/html".into()),
                    ("content-encoding", "gzip".into()),
                ],
                served.to_vec(),
            ),
        }),
    )
    .await;
    let (records, _) = crawl_one(&server, "/", |o| o.request.max_body = Some(1 << 20)).await;
    assert_eq!(records[0]["error"]["kind"], "too_large");
    let grew = peak_rss_mib().saturating_sub(before);
    assert!(
        grew < 128,
        "peak RSS grew by {grew} MiB inflating a {} MiB bomb",
        INFLATED >> 20
    );
}

#[tokio::test]
async fn a_redirect_loop_is_reported() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| match path {
            "/robots.txt" => robots_open(),
            "/a" => Reply::Redirect(302, "/b".into()),
            _ => Reply::Redirect(301, "/a".into()),
        }),
    )
    .await;
    let (records, summary) = crawl_one(&server, "/a", |_| {}).await;
    assert_eq!(records[0]["error"]["kind"], "redirect_loop");
    assert_eq!(records[0]["redirects"], 1);
    assert_eq!(server.count("/a"), 1);
    assert_eq!(server.count("/b"), 1);
    assert_eq!(summary.failed, 1);
}

#[tokio::test]
async fn too_many_redirects_stop_at_ten() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| {
            if path == "/robots.txt" {
                return robots_open();
            }
            let n: u32 = path.trim_start_matches("/r").parse().unwrap_or(0);
            Reply::Redirect(302, format!("/r{}", n + 1))
        }),
    )
    .await;
    let (records, _) = crawl_one(&server, "/r0", |_| {}).await;
    assert_eq!(records[0]["error"]["kind"], "too_many_redirects");
    assert_eq!(records[0]["redirects"], 10);
    assert_eq!(server.count("/r11"), 0);
}

#[tokio::test]
async fn redirects_out_of_scope_or_to_other_schemes_are_not_followed() {
    let outside = Server::start("127.0.0.4", Arc::new(|_, _| Reply::Html("outside".into()))).await;
    let target = outside.url("/landing");
    let server = Server::start(
        "127.0.0.1",
        Arc::new(move |path, _| match path {
            "/robots.txt" => robots_open(),
            "/" => Reply::Html(support::html_with_links(
                "root",
                &["/away".into(), "/ftp".into(), "/ok".into()],
            )),
            "/away" => Reply::Redirect(301, target.clone()),
            "/ftp" => Reply::Redirect(302, "ftp://127.0.0.1/file".into()),
            "/ok" => Reply::Redirect(302, "/landed".into()),
            _ => Reply::Html("<title>landed</title>".into()),
        }),
    )
    .await;
    let (records, summary) = crawl_one(&server, "/", |_| {}).await;
    assert!(
        outside.hits().is_empty(),
        "the out-of-scope target was requested"
    );
    let away = support::record_for(&records, &server.url("/away"));
    assert_eq!(away["error"]["kind"], "redirect_out_of_scope");
    assert_eq!(away["status"], 301);
    let ftp = support::record_for(&records, &server.url("/ftp"));
    assert_eq!(ftp["error"]["kind"], "scheme");
    let ok = support::record_for(&records, &server.url("/ok"));
    assert_eq!(ok["final_url"], server.url("/landed"));
    assert_eq!(ok["title"], "landed");
    assert_eq!(summary.failed, 0, "refusing a redirect is not a failure");
}

#[tokio::test]
async fn headers_user_agent_and_cookies_are_sent() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| match path {
            "/robots.txt" => Reply::Text(
                "text/plain",
                "User-agent: tester\nDisallow: /hidden\n".into(),
            ),
            "/" => Reply::Full(
                200,
                vec![
                    ("content-type", "text/html".into()),
                    ("set-cookie", "session=abc; Path=/".into()),
                ],
                support::html_with_links("root", &["/next".into(), "/hidden".into()]).into_bytes(),
            ),
            _ => Reply::Html("<title>next</title>".into()),
        }),
    )
    .await;
    let (records, summary) = crawl_one(&server, "/", |o| {
        o.request.user_agent = Some("tester/2.0".into());
        o.request.header = Some(vec!["X-Team: crawl".into()]);
        o.request.cookies = Some(true);
    })
    .await;
    assert_eq!(
        records.len(),
        2,
        "/hidden is disallowed for the tester group"
    );
    assert_eq!(summary.skipped["robots_denied"], 1);
    let hits = server.hits();
    assert!(hits.iter().all(|h| h.user_agent == "tester/2.0"));
    let next = hits
        .iter()
        .find(|h| h.path == "/next")
        .expect("/next fetched");
    assert_eq!(next.header("x-team"), Some("crawl"));
    assert_eq!(next.header("cookie"), Some("session=abc"));
}

/// A chain of pages, `/p0` to `/p199`, each linking to the next and
/// setting a cookie of its own: a jar without limits would send 199.
#[tokio::test]
async fn a_cookie_on_every_page_keeps_the_cookie_header_bounded() {
    const PAGES: usize = 200;
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| {
            if path == "/robots.txt" {
                return Reply::Status(404);
            }
            let n: usize = path.trim_start_matches("/p").parse().unwrap_or(0);
            let links = if n + 1 < PAGES {
                vec![format!("/p{}", n + 1)]
            } else {
                vec![]
            };
            Reply::Full(
                200,
                vec![
                    ("content-type", "text/html".into()),
                    ("set-cookie", format!("c{n}=v; Path=/")),
                ],
                support::html_with_links(&format!("p{n}"), &links).into_bytes(),
            )
        }),
    )
    .await;
    let (records, _) = crawl_one(&server, "/p0", |o| o.request.cookies = Some(true)).await;
    assert_eq!(records.len(), PAGES);
    let hits = server.hits();
    // The `name=value` pairs of the Cookie header each page was asked with.
    let cookies_sent = |n: usize| -> BTreeSet<&str> {
        let path = format!("/p{n}");
        let hit = hits.iter().find(|h| h.path == path);
        let header = hit.and_then(|h| h.header("cookie")).unwrap_or("");
        header.split("; ").filter(|pair| !pair.is_empty()).collect()
    };
    for n in 0..PAGES {
        assert_eq!(
            cookies_sent(n).len(),
            n.min(50),
            "/p{n} carries the cookies of the pages before it, 50 at most"
        );
    }
    // The last page got the 50 set most recently.
    let newest: Vec<String> = (PAGES - 51..PAGES - 1).map(|n| format!("c{n}=v")).collect();
    let newest: BTreeSet<&str> = newest.iter().map(String::as_str).collect();
    assert_eq!(cookies_sent(PAGES - 1), newest);
}

#[tokio::test]
async fn a_tls_handshake_failure_is_reported_as_tls_and_not_retried() {
    use tokio::io::AsyncWriteExt as _;
    // Answers every connection with plain HTTP, which no TLS client accepts.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    let out = tempfile::tempdir().expect("tempdir");
    let mut opts = support::options(out.path());
    opts.scope.ignore_robots = Some(true);
    let summary = support::crawl(&[format!("https://{addr}/")], opts).await;
    let records = support::records(out.path());
    support::assert_schema_valid(&records);
    assert_eq!(
        records[0]["error"]["kind"], "tls",
        "{}",
        records[0]["error"]
    );
    assert_eq!(records[0]["retries"], 0);
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(summary.failed, 1);
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported_as_connect() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let out = tempfile::tempdir().expect("tempdir");
    let mut opts = support::options(out.path());
    opts.scope.ignore_robots = Some(true);
    opts.request.retries = Some(2);
    let summary = support::crawl(&[format!("http://127.0.0.1:{port}/")], opts).await;
    let records = support::records(out.path());
    assert_eq!(records[0]["error"]["kind"], "connect");
    assert_eq!(records[0]["retries"], 2);
    assert!(records[0]["status"].is_null());
    assert_eq!(summary.failed, 1);
}

#[tokio::test]
async fn every_request_goes_through_the_proxy() {
    // The "proxy" answers for any host; the target address has no server.
    let proxy = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| match path {
            "/robots.txt" => robots_open(),
            _ => Reply::Html("<title>via proxy</title>".into()),
        }),
    )
    .await;
    let dead = std::net::TcpListener::bind("127.0.0.5:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let out = tempfile::tempdir().expect("tempdir");
    let mut opts = support::options(out.path());
    opts.request.proxy = Some(proxy.url(""));
    opts.request.retries = Some(0);
    support::crawl(&[format!("http://{dead}/page")], opts).await;
    let records = support::records(out.path());
    assert_eq!(records[0]["status"], 200, "{}", records[0]);
    assert_eq!(records[0]["title"], "via proxy");
    let hits = proxy.hits();
    assert_eq!(hits.len(), 2, "robots.txt and the page");
    assert!(
        hits.iter()
            .all(|h| h.header("host") == Some(dead.to_string().as_str()))
    );
}

#[tokio::test]
async fn links_on_error_pages_are_not_followed() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| match path {
            "/robots.txt" => robots_open(),
            "/" => Reply::Html(support::html_with_links("root", &["/gone".into()])),
            "/gone" => Reply::Full(
                404,
                vec![("content-type", "text/html".into())],
                support::html_with_links("not found", &["/from-404".into()]).into_bytes(),
            ),
            _ => Reply::Html("<title>x</title>".into()),
        }),
    )
    .await;
    let (records, _) = crawl_one(&server, "/", |_| {}).await;
    assert_eq!(records.len(), 2);
    assert_eq!(server.count("/from-404"), 0);
}
