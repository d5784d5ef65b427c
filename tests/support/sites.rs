//! Sites the binary tests crawl: a small one that uses every content
//! coding, and an endless slow one for stopping a crawl midway.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::{Reply, Server, html_with_links};

/// An endless site whose pages answer after 50 ms: a crawl of it ends only
/// when stopped.
pub async fn endless_site() -> Server {
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
                Box::new(Reply::Html(html_with_links(&format!("n{n}"), &links))),
            )
        }),
    )
    .await
}

/// The URLs a crawl of [`small_site`] attempts.
pub const SMALL_SITE: [&str; 10] = [
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
pub const CODINGS: [&str; 4] = ["gzip", "deflate", "br", "zstd"];

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
pub async fn small_site() -> (Server, HashMap<String, Vec<u8>>) {
    let mut pages: HashMap<String, Vec<u8>> = HashMap::new();
    let links: Vec<String> = SMALL_SITE[1..]
        .iter()
        .filter(|p| **p != "/b?x=1&y=2")
        .map(|p| p.to_string())
        .collect();
    pages.insert("/".into(), html_with_links("root", &links).into_bytes());
    pages.insert(
        "/a".into(),
        html_with_links("a, \"quoted\" — ünïcode", &["/b?x=1&y=2".into()]).into_bytes(),
    );
    pages.insert("/b?x=1&y=2".into(), html_with_links("b", &[]).into_bytes());
    let mut encoded: HashMap<String, Vec<u8>> = HashMap::new();
    for coding in CODINGS {
        let body = html_with_links(&format!("{coding} — ✓"), &[]).into_bytes();
        encoded.insert(format!("/{coding}"), encode(coding, &body).await);
        pages.insert(format!("/{coding}"), body);
    }
    pages.insert("/notes.txt".into(), b"plain text\r\nwith CRLF\n".to_vec());
    // Reached only through the redirect from /moved.
    pages.insert("/c".into(), html_with_links("c", &[]).into_bytes());
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
