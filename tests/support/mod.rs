//! Test servers on 127.0.0.x that log every request, and helpers to run a
//! crawl in-process; `binary` runs the binary and reads what it writes,
//! `redis` and `nginx` start those servers,
//! `sites` holds sites more than one test file crawls, `warc` reads WARC
//! files back.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the support code"
)]

pub mod binary;
pub mod nginx;
pub mod raw;
pub mod redis;
pub mod sites;
pub mod warc;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use collector::config::Origin;
use collector::crawl::options::{CrawlOptions, Layered};
use collector::crawl::settings;
use collector::record::Summary;

/// What a test server answers.
pub enum Reply {
    Html(String),
    Text(&'static str, String),
    Status(u16),
    Redirect(u16, String),
    /// Status, extra headers, body.
    Full(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// Headers, then no body byte ever.
    StallAfterHeaders,
    /// Answer after a pause (the request counts as in flight meanwhile).
    Delayed(Duration, Box<Reply>),
}

impl Reply {
    fn into_response(self) -> BoxFuture<'static, Response> {
        Box::pin(async move {
            match self {
                Reply::Html(body) => {
                    ([("content-type", "text/html; charset=utf-8")], body).into_response()
                }
                Reply::Text(ct, body) => ([("content-type", ct)], body).into_response(),
                Reply::Status(s) => status(s).into_response(),
                Reply::Redirect(s, to) => (status(s), [("location", to)]).into_response(),
                Reply::Full(s, headers, body) => {
                    let mut map = HeaderMap::new();
                    for (k, v) in headers {
                        if let (Ok(k), Ok(v)) = (
                            HeaderName::from_bytes(k.as_bytes()),
                            HeaderValue::from_str(&v),
                        ) {
                            map.append(k, v);
                        }
                    }
                    (status(s), map, body).into_response()
                }
                Reply::StallAfterHeaders => {
                    let body = Body::from_stream(futures::stream::pending::<
                        Result<bytes::Bytes, std::io::Error>,
                    >());
                    ([("content-type", "text/html")], body).into_response()
                }
                Reply::Delayed(d, inner) => {
                    tokio::time::sleep(d).await;
                    inner.into_response().await
                }
            }
        })
    }
}

fn status(s: u16) -> StatusCode {
    StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

#[derive(Clone, Debug)]
pub struct Hit {
    pub path: String,
    pub at: Instant,
    pub user_agent: String,
    pub headers: HeaderMap,
}

impl Hit {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Decides the reply for a path (with query) and how often it was asked before.
pub type Handler = Arc<dyn Fn(&str, usize) -> Reply + Send + Sync>;

pub struct Server {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Hit>>>,
    max_in_flight: Arc<AtomicUsize>,
    stop: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Server {
    /// Serves `handler` on `ip` (e.g. "127.0.0.2") at a free port.
    pub async fn start(ip: &str, handler: Handler) -> Server {
        let listener = TcpListener::bind((ip, 0)).await.expect("bind test server");
        let addr = listener.local_addr().expect("local addr");
        let log: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let counts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let stop = CancellationToken::new();
        let app = {
            let (log, in_flight, max_in_flight) =
                (log.clone(), in_flight.clone(), max_in_flight.clone());
            axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
                let (log, counts, handler) = (log.clone(), counts.clone(), handler.clone());
                let (in_flight, max_in_flight) = (in_flight.clone(), max_in_flight.clone());
                async move {
                    let path = uri
                        .path_and_query()
                        .map_or("/".to_string(), |p| p.to_string());
                    let ua = headers
                        .get("user-agent")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    log.lock().expect("log").push(Hit {
                        path: path.clone(),
                        at: Instant::now(),
                        user_agent: ua,
                        headers: headers.clone(),
                    });
                    let nth = {
                        let mut c = counts.lock().expect("counts");
                        let n = c.entry(path.clone()).or_default();
                        *n += 1;
                        *n - 1
                    };
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    max_in_flight.fetch_max(now, Ordering::SeqCst);
                    let resp = handler(&path, nth).into_response().await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    resp
                }
            })
        };
        let s = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { s.cancelled().await })
                .await;
        });
        Server {
            addr,
            log,
            max_in_flight,
            stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.log.lock().expect("log").clone()
    }

    pub fn paths(&self) -> Vec<String> {
        self.hits().into_iter().map(|h| h.path).collect()
    }

    pub fn count(&self, path: &str) -> usize {
        self.hits().iter().filter(|h| h.path == path).count()
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

/// A handler from a fixed map of path to HTML, robots.txt allowing all, 404 otherwise.
pub fn pages(map: HashMap<String, String>) -> Handler {
    Arc::new(move |path, _| match map.get(path) {
        Some(body) => Reply::Html(body.clone()),
        None if path == "/robots.txt" => {
            Reply::Text("text/plain", "User-agent: *\nDisallow:\n".into())
        }
        None => Reply::Status(404),
    })
}

pub fn html_with_links(title: &str, links: &[String]) -> String {
    let items: String = links
        .iter()
        .map(|l| format!("<a href=\"{l}\">x</a>\n"))
        .collect();
    format!("<!DOCTYPE html><html><head><title>{title}</title></head><body>{items}</body></html>")
}

/// Options suitable for tests: quiet, fast retries.
pub fn options(out: &Path) -> CrawlOptions {
    let mut o = CrawlOptions::default();
    o.run.out = Some(out.to_path_buf());
    o.run.quiet = Some(true);
    o.run.progress = Some(collector::crawl::options::ProgressMode::Never);
    o.request.timeout = Some(5.0);
    o.request.connect_timeout = Some(2.0);
    o
}

/// Runs a crawl in-process.
pub async fn crawl(seeds: &[String], options: CrawlOptions) -> Summary {
    let seeds = seeds
        .iter()
        .map(|s| url::Url::parse(s).expect("seed URL"))
        .collect();
    let settings =
        settings::build(&Layered::new(options, &Origin::Flag), seeds).expect("valid settings");
    let run = collector::crawl::run(settings, CancellationToken::new());
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("crawl finished in time")
        .expect("crawl ran")
}

/// The records of `pages.jsonl` in `out`.
pub fn records(out: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(out.join("pages.jsonl")).expect("pages.jsonl written");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

pub fn record_for<'a>(records: &'a [serde_json::Value], url: &str) -> &'a serde_json::Value {
    records
        .iter()
        .find(|r| r["url"] == url)
        .unwrap_or_else(|| panic!("no record for {url}"))
}

/// The `url` of each record.
pub fn urls(records: &[serde_json::Value]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| r["url"].as_str().expect("url").to_string())
        .collect()
}

/// The JSON Schema `schema/NAME`, compiled.
pub fn schema(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name} compiles: {e}"))
}

/// Checks `value` against `schema/NAME`.
pub fn assert_valid(name: &str, value: &serde_json::Value) {
    let errors: Vec<String> = schema(name)
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{value} violates {name}: {errors:?}");
}

/// Checks every record against `schema/page-record.json`.
pub fn assert_schema_valid(records: &[serde_json::Value]) {
    for r in records {
        assert_valid("page-record.json", r);
    }
}
