//! The fixture API of the `collector api` tests: 1,037 records, 50 a page
//! (the last page partial), served five ways, plus helpers to run a pull.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use std::sync::Arc;
use std::time::Duration;

use collector::api::options::ApiArgs;
use collector::api::pull::{self, Output, PullSettings, PullSummary};
use collector::api::settings as api_settings;
use tokio_util::sync::CancellationToken;

use crate::support::{Reply, Server};

pub const TOTAL: u64 = 1037;
pub const SIZE: u64 = 50;

pub fn items(from: u64) -> Vec<serde_json::Value> {
    (from..(from + SIZE).min(TOTAL))
        .map(|id| serde_json::json!({"id": id, "name": format!("item {id}")}))
        .collect()
}

pub fn query(path: &str, key: &str) -> Option<String> {
    let url = url::Url::parse(&format!("http://x{path}")).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

pub fn number(path: &str, key: &str, default: u64) -> u64 {
    query(path, key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn json(body: serde_json::Value, headers: Vec<(&'static str, String)>) -> Reply {
    let mut headers = headers;
    headers.push(("content-type", "application/json".into()));
    Reply::Full(200, headers, body.to_string().into_bytes())
}

/// One API, five ways of paging through the same records.
pub fn api(path: &str, nth: usize) -> Reply {
    let route = path.split('?').next().unwrap_or("");
    let pages = TOTAL.div_ceil(SIZE);
    match route {
        "/link" => {
            let page = number(path, "page", 1);
            let mut headers = Vec::new();
            if page < pages {
                headers.push((
                    "link",
                    format!(
                        "</link?page={pages}>; rel=\"last\", </link?page={}>; rel=\"next\"",
                        page + 1
                    ),
                ));
            }
            json(serde_json::Value::Array(items((page - 1) * SIZE)), headers)
        }
        "/next" => {
            let page = number(path, "page", 1);
            let next = (page < pages).then(|| format!("/next?page={}", page + 1));
            json(
                serde_json::json!({"data": items((page - 1) * SIZE), "next": next}),
                vec![],
            )
        }
        "/page" => {
            let page = number(path, "page", 1);
            json(
                serde_json::json!({"page": page, "items": items((page - 1) * SIZE), "total_pages": pages}),
                vec![],
            )
        }
        "/offset" => {
            let offset = number(path, "offset", 0);
            json(
                serde_json::json!({"offset": offset, "limit": SIZE, "results": items(offset), "total": TOTAL}),
                vec![],
            )
        }
        "/cursor" => {
            let from = query(path, "cursor")
                .and_then(|c| c.strip_prefix('c')?.parse().ok())
                .unwrap_or(0);
            let next = (from + SIZE < TOTAL).then(|| format!("c{}", from + SIZE));
            json(
                serde_json::json!({"data": items(from), "meta": {"next_cursor": next}}),
                vec![],
            )
        }
        "/broken" => {
            let page = number(path, "page", 1);
            if page == 7 {
                return Reply::Full(
                    200,
                    vec![("content-type", "application/json".into())],
                    b"{\"items\": [".to_vec(),
                );
            }
            json(
                serde_json::json!({"items": items((page - 1) * SIZE), "total_pages": pages}),
                vec![],
            )
        }
        "/flaky" => {
            let page = number(path, "page", 1);
            match (page, nth) {
                (3, 0 | 1) => Reply::Status(500),
                (5, 0) => Reply::Full(429, vec![("retry-after", "1".into())], Vec::new()),
                _ => json(
                    serde_json::json!({"items": items((page - 1) * SIZE), "total_pages": pages}),
                    vec![],
                ),
            }
        }
        "/bom" => {
            // A UTF-8 byte order mark before the JSON, as some servers send.
            let page = number(path, "page", 1);
            let body = serde_json::json!({"page": page, "items": items((page - 1) * SIZE), "total_pages": pages});
            let mut bytes = b"\xEF\xBB\xBF".to_vec();
            bytes.extend(body.to_string().into_bytes());
            Reply::Full(
                200,
                vec![("content-type", "application/json".into())],
                bytes,
            )
        }
        "/plain" => json(
            serde_json::json!({"rows": items(0), "status": "ok"}),
            vec![],
        ),
        "/stuck" => json(
            serde_json::json!({"data": items(0), "next_cursor": "same"}),
            vec![],
        ),
        _ => Reply::Status(404),
    }
}

pub async fn server() -> Server {
    Server::start("127.0.0.1", Arc::new(api)).await
}

pub fn args(url: String, extra: &[&str]) -> ApiArgs {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Wrap {
        #[command(flatten)]
        api: ApiArgs,
    }
    let mut argv = vec!["api".to_string(), url];
    argv.extend(extra.iter().map(|s| s.to_string()));
    Wrap::try_parse_from(argv).expect("valid flags").api
}

pub async fn pull(url: String, extra: &[&str]) -> (Vec<u64>, PullSummary) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("records.jsonl");
    let mut a = args(url, extra);
    a.resource.out = Some(out.to_string_lossy().into_owned());
    a.shared.quiet = true;
    let settings: PullSettings = api_settings::resolve(&a).expect("valid settings");
    assert!(matches!(settings.output, Output::File(_)));
    let summary = tokio::time::timeout(
        Duration::from_secs(60),
        pull::run(settings, CancellationToken::new()),
    )
    .await
    .expect("pull finished in time")
    .expect("pull ran");
    // A complete pull has its final name; one that stopped keeps `.part`
    // for --resume.
    let complete = summary.error.is_none();
    let records_file = if complete {
        out.clone()
    } else {
        out.with_extension("jsonl.part")
    };
    assert_eq!(out.exists(), complete);
    let text = std::fs::read_to_string(&records_file).expect("records written");
    let ids = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("JSON line")["id"]
                .as_u64()
                .expect("id")
        })
        .collect();
    let written: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(pull::summary_path(&out)).expect("summary written"),
    )
    .expect("summary JSON");
    assert_eq!(written["records"], summary.records);
    (ids, summary)
}

pub fn all_ids() -> Vec<u64> {
    (0..TOTAL).collect()
}

/// The page API, answering each request after `delay`, under `/slow`.
pub async fn slow_api(delay: Duration) -> Server {
    Server::start(
        "127.0.0.1",
        Arc::new(move |path, nth| {
            Reply::Delayed(delay, Box::new(api(&path.replace("/slow", "/page"), nth)))
        }),
    )
    .await
}
