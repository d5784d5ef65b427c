//! `collector api` where APIs and users go wrong: no pagination at all
//! (`--paginate none`, or none found with `--records` given), pointers
//! that find nothing (never "0 records, success"), a byte order mark
//! before the JSON, and `--max-pages` as the stop reason of every
//! strategy.

mod support;
mod support_api;

use std::path::Path;

use collector::api::pull::Stopped;
use collector::api::{StopReason, settings as api_settings};
use support::binary::{collector, stderr};
use support_api::*;

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("file")).expect("JSON")
}

#[tokio::test]
async fn paginate_none_makes_one_request_and_keeps_its_records() {
    let s = server().await;
    let (ids, summary) = pull(
        s.url("/page"),
        &["--paginate", "none", "--records", "items"],
    )
    .await;
    assert_eq!(ids, (0..SIZE).collect::<Vec<_>>());
    assert_eq!(summary.pages, 1);
    assert_eq!(summary.stopped, Stopped::Done(StopReason::SinglePage));
    assert_eq!(summary.stopped.as_str(), "single_page");
    assert_eq!(s.paths(), ["/page"], "one request, no second page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_without_a_pagination_signal_pull_one_page_with_a_warning() {
    let s = server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let o = collector(
        &[
            "api",
            &s.url("/plain"),
            "--records",
            "rows",
            "--out",
            "rows.jsonl",
        ],
        dir.path(),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("no pagination found"), "{err}");
    assert!(err.contains("[rows, status]"), "{err}");
    let summary = read_json(&dir.path().join("rows.summary.json"));
    assert_eq!(summary["stopped"], "single_page", "{summary}");
    assert_eq!(summary["records"], SIZE, "{summary}");
    // Without --records, nothing tells what the records are: an error.
    let o = collector(
        &["api", &s.url("/plain"), "--out", "bare.jsonl", "-q"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_records_pointer_that_finds_nothing_is_an_error_naming_pointer_url_and_keys() {
    let s = server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = s.url("/page");
    let o = collector(
        &[
            "api",
            &url,
            "--records",
            "/data/items",
            "--paginate",
            "page",
            "--total-pages",
            "total_pages",
            "--out",
            "items.jsonl",
        ],
        dir.path(),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("/data/items"), "{err}");
    assert!(err.contains(&url), "{err}");
    assert!(err.contains("[page, items, total_pages]"), "{err}");
    let summary = read_json(&dir.path().join("items.summary.json"));
    assert_eq!(summary["error"]["kind"], "records_not_found", "{summary}");
    assert_eq!(summary["records"], 0);
    assert!(
        !dir.path().join("items.jsonl").exists(),
        "not a complete pull"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paging_pointer_typo_is_an_error_not_a_one_page_success() {
    let s = server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, &[&str], &str); 3] = [
        (
            "/cursor",
            &[
                "--paginate",
                "cursor",
                "--cursor",
                "meta.nxt",
                "--records",
                "data",
            ],
            "cursor pointer /meta/nxt",
        ),
        (
            "/next",
            &[
                "--paginate",
                "next_url",
                "--next",
                "links.next",
                "--records",
                "data",
            ],
            "next pointer /links/next",
        ),
        (
            "/page",
            &[
                "--paginate",
                "page",
                "--total-pages",
                "pages_total",
                "--records",
                "items",
            ],
            "total_pages pointer /pages_total",
        ),
    ];
    for (route, flags, words) in cases {
        let mut args = vec!["api".to_string(), s.url(route)];
        args.extend(flags.iter().map(|f| f.to_string()));
        args.extend(["--out".into(), "typo.jsonl".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = collector(&args, dir.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{route}: {err}");
        assert!(err.contains(words), "{route}: {err}");
        assert!(err.contains("top-level keys ["), "{route}: {err}");
        let summary = read_json(&dir.path().join("typo.summary.json"));
        assert_eq!(
            summary["error"]["kind"], "pagination_pointer_missing",
            "{summary}"
        );
        std::fs::remove_file(dir.path().join("typo.state.json")).expect("state");
        std::fs::remove_file(dir.path().join("typo.jsonl.part")).expect("part");
    }
}

#[tokio::test]
async fn a_json_body_after_a_byte_order_mark_is_read() {
    let s = server().await;
    let (ids, summary) = pull(
        s.url("/bom"),
        &[
            "--paginate",
            "page",
            "--total-pages",
            "total_pages",
            "--records",
            "items",
        ],
    )
    .await;
    assert!(summary.error.is_none(), "{:?}", summary.error);
    assert_eq!(ids, all_ids());
    // Detection reads it too.
    let (ids, _) = pull(s.url("/bom"), &[]).await;
    assert_eq!(ids, all_ids());
}

#[tokio::test]
async fn max_pages_is_the_stop_reason_with_every_strategy() {
    let s = server().await;
    let cases: [(&str, &[&str]); 6] = [
        ("/link", &["--paginate", "link"]),
        ("/next", &["--paginate", "next_url", "--next", "next"]),
        ("/page", &["--paginate", "page", "--records", "items"]),
        (
            "/page",
            &["--paginate", "page", "--total-pages", "total_pages"],
        ),
        (
            "/offset",
            &["--paginate", "offset", "--limit", "50", "--total", "total"],
        ),
        (
            "/cursor",
            &["--paginate", "cursor", "--cursor", "meta.next_cursor"],
        ),
    ];
    for (route, flags) in cases {
        let mut flags = flags.to_vec();
        flags.extend(["--max-pages", "3"]);
        let (ids, summary) = pull(s.url(route), &flags).await;
        assert_eq!(ids, (0..3 * SIZE).collect::<Vec<_>>(), "{route} {flags:?}");
        assert_eq!(summary.stopped, Stopped::MaxPages, "{route} {flags:?}");
    }
    // A budget the API runs out before: the API's own reason.
    let (ids, summary) = pull(
        s.url("/page"),
        &[
            "--paginate",
            "page",
            "--total-pages",
            "total_pages",
            "--max-pages",
            "21",
        ],
    )
    .await;
    assert_eq!(ids, all_ids());
    assert_eq!(summary.stopped, Stopped::Done(StopReason::LastPage));
}

#[test]
fn paginate_none_is_the_single_request_strategy() {
    let a = args("http://127.0.0.1:9/items".into(), &["--paginate", "none"]);
    let settings = api_settings::resolve(&a).expect("valid");
    assert_eq!(settings.strategy, Some(collector::api::Strategy::Single));
}
