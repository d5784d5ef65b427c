//! `collector api` as a batch job: credentials, rate limits, resume after
//! a kill, incremental pulls, config files and child resources.

mod support;
mod support_api;

use std::sync::Arc;
use std::time::{Duration, Instant};

use collector::api::pull::{self, PullSummary};
use collector::api::settings as api_settings;
use support::{Reply, Server};
use support_api::*;
use tokio_util::sync::CancellationToken;

/// The API on 127.0.0.1 hands page 2 over to another host by a redirect.
async fn two_hosts() -> (Server, Server) {
    let other = Server::start(
        "127.0.0.2",
        Arc::new(|_, _| {
            json(
                serde_json::json!({"data": [{"id": 2}], "next": null}),
                vec![],
            )
        }),
    )
    .await;
    let moved = other.url("/elsewhere");
    let api = Server::start(
        "127.0.0.1",
        Arc::new(move |path, _| {
            if path.starts_with("/moved") {
                return Reply::Redirect(302, moved.clone());
            }
            let next = if path.starts_with("/start") {
                serde_json::json!("/moved")
            } else {
                serde_json::Value::Null
            };
            json(
                serde_json::json!({"data": [{"id": 1}], "next": next}),
                vec![],
            )
        }),
    )
    .await;
    (api, other)
}

async fn pull_with(url: String, flags: &[&str], env: &[(&str, &str)]) -> (PullSummary, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("records.jsonl");
    let mut a = args(url, flags);
    a.resource.out = Some(out.to_string_lossy().into_owned());
    a.shared.quiet = true;
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |var: &str| env.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone());
    let settings = api_settings::resolve_with_env(&a, &lookup).expect("valid settings");
    let summary = pull::run(settings, CancellationToken::new())
        .await
        .expect("pull ran");
    let written = std::fs::read_to_string(&out).expect("records")
        + &std::fs::read_to_string(pull::summary_path(&out)).expect("summary");
    (summary, written)
}

#[tokio::test]
async fn a_bearer_token_never_reaches_another_host() {
    let (api, other) = two_hosts().await;
    let flags = [
        "--paginate",
        "next_url",
        "--next",
        "next",
        "--bearer-env",
        "API_TOKEN",
    ];
    let (summary, written) = pull_with(api.url("/start"), &flags, &[("API_TOKEN", "s3cret")]).await;
    assert!(summary.error.is_none(), "{:?}", summary.error);
    assert_eq!(summary.records, 2, "the redirected page was read");
    assert!(
        api.hits()
            .iter()
            .all(|h| h.header("authorization") == Some("Bearer s3cret"))
    );
    assert_eq!(other.hits().len(), 1);
    assert_eq!(
        other.hits()[0].header("authorization"),
        None,
        "credentials leaked to another host"
    );
    assert!(!written.contains("s3cret"));
}

#[tokio::test]
async fn an_api_key_parameter_stays_out_of_output_and_other_hosts() {
    let (api, other) = two_hosts().await;
    let flags = [
        "--paginate",
        "next_url",
        "--next",
        "next",
        "--api-key-env",
        "KEY",
        "--api-key-param",
        "api_key",
    ];
    let (summary, written) = pull_with(api.url("/start"), &flags, &[("KEY", "k-123")]).await;
    assert!(summary.error.is_none(), "{:?}", summary.error);
    assert!(api.paths().iter().all(|p| p.contains("api_key=k-123")));
    assert!(other.paths().iter().all(|p| !p.contains("k-123")));
    assert!(!written.contains("k-123"), "the key was written out");
}

#[test]
fn a_missing_secret_variable_is_named_without_a_value() {
    let a = args(
        "http://127.0.0.1:9/x".into(),
        &["--bearer-env", "NOT_SET_ANYWHERE"],
    );
    let e = api_settings::resolve_with_env(&a, &|_| None)
        .expect_err("unset")
        .to_string();
    assert!(e.contains("NOT_SET_ANYWHERE"), "{e}");
}

#[tokio::test]
async fn an_exhausted_rate_limit_waits_for_the_reset() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| {
            let page = number(path, "page", 1);
            let mut headers = Vec::new();
            if page == 2 {
                headers.push(("x-ratelimit-remaining", "0".to_string()));
                headers.push(("x-ratelimit-reset", "1".to_string()));
            }
            let items: Vec<serde_json::Value> = if page <= 3 {
                vec![serde_json::json!({"id": page})]
            } else {
                vec![]
            };
            json(serde_json::json!({"items": items}), headers)
        }),
    )
    .await;
    let (ids, summary) = pull(
        server.url("/p"),
        &["--paginate", "page", "--records", "items"],
    )
    .await;
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(summary.rate_limit_waits, 1);
    let hits = server.hits();
    let gap = hits[2].at.duration_since(hits[1].at);
    assert!(
        gap >= Duration::from_millis(950),
        "page 3 came {gap:?} after the reset notice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_killed_mid_way_resumes_with_every_record_once() {
    stop_then_resume(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_interrupted_by_ctrl_c_exits_130_and_resumes() {
    stop_then_resume(true).await;
}

/// Stops a pull a few pages in, by SIGINT (`interrupt`) or SIGKILL, then
/// resumes it and checks the records.
async fn stop_then_resume(interrupt: bool) {
    let slow = Server::start(
        "127.0.0.1",
        Arc::new(|path, nth| {
            Reply::Delayed(
                Duration::from_millis(60),
                Box::new(api(&path.replace("/slowcursor", "/cursor"), nth)),
            )
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("items.jsonl");
    let state = dir.path().join("items.state.json");
    let url = slow.url("/slowcursor");
    let command = |resume: bool| {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"));
        c.args([
            "api",
            &url,
            "--paginate",
            "cursor",
            "--cursor",
            "meta.next_cursor",
            "--records",
            "data",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .kill_on_drop(true);
        if resume {
            c.arg("--resume");
        }
        c
    };
    let mut first = command(false).spawn().expect("spawn");
    // Let a few pages land, then kill it without warning.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let pages = std::fs::read_to_string(&state)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["pages"].as_u64())
            .unwrap_or(0);
        if pages >= 5 {
            break;
        }
        assert!(Instant::now() < deadline, "the pull made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if interrupt {
        let pid = first.id().expect("pid").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
        let status = tokio::time::timeout(Duration::from_secs(20), first.wait())
            .await
            .expect("stopped after SIGINT")
            .expect("wait");
        assert_eq!(status.code(), Some(130));
    } else {
        first.start_kill().expect("SIGKILL");
        let _ = first.wait().await;
    }
    assert!(!out.exists(), "a stopped pull has no final file");
    assert!(out.with_extension("jsonl.part").exists());

    let o = tokio::time::timeout(Duration::from_secs(60), command(true).output())
        .await
        .expect("resumed pull finished")
        .expect("ran");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let ids: Vec<u64> = std::fs::read_to_string(&out)
        .expect("final file")
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("JSON")["id"]
                .as_u64()
                .expect("id")
        })
        .collect();
    assert_eq!(ids, all_ids(), "every record exactly once, in order");
    let o = command(true).output().await.expect("ran");
    assert_ne!(
        o.status.code(),
        Some(0),
        "a finished pull has nothing to resume"
    );
}

#[tokio::test]
async fn an_incremental_pull_asks_only_for_newer_records() {
    let newest = Arc::new(std::sync::atomic::AtomicU64::new(120));
    let n = newest.clone();
    let server = Server::start(
        "127.0.0.1",
        Arc::new(move |path, _| {
            let since = query(path, "since")
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(-1);
            let upto = n.load(std::sync::atomic::Ordering::SeqCst);
            let data: Vec<serde_json::Value> = (0..upto)
                .filter(|id| *id as i64 > since)
                .map(|id| serde_json::json!({"id": id, "updated_at": id}))
                .collect();
            json(serde_json::json!({"data": data, "next": null}), vec![])
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("changes.jsonl");
    let run = || {
        let mut a = args(
            server.url("/changes"),
            &[
                "--paginate",
                "next_url",
                "--next",
                "next",
                "--records",
                "data",
                "--since-field",
                "updated_at",
                "--since-param",
                "since",
            ],
        );
        a.resource.out = Some(out.to_string_lossy().into_owned());
        a.shared.quiet = true;
        api_settings::resolve(&a).expect("valid")
    };
    let first = pull::run(run(), CancellationToken::new())
        .await
        .expect("first run");
    assert_eq!(first.records, 120);
    newest.store(150, std::sync::atomic::Ordering::SeqCst);
    let second = pull::run(run(), CancellationToken::new())
        .await
        .expect("second run");
    assert_eq!(second.records, 30, "only the new records");
    assert!(
        server
            .paths()
            .last()
            .is_some_and(|p| p.contains("since=119")),
        "{:?}",
        server.paths()
    );
    let ids: Vec<u64> = std::fs::read_to_string(&out)
        .expect("output")
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("JSON")["id"]
                .as_u64()
                .expect("id")
        })
        .collect();
    assert_eq!(
        ids,
        (0..150).collect::<Vec<_>>(),
        "appended to the first pull's"
    );
}

#[test]
fn the_shipped_example_config_is_valid() {
    use collector::api::resources;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/github-issues.toml");
    let text = std::fs::read_to_string(&path).expect("example config");
    let file = resources::parse(&text, &path).expect("parses");
    let flags = collector::api::options::ApiOptions::default();
    let env = |var: &str| (var == "GITHUB_TOKEN").then(|| "t0ken".to_string());
    let (out_dir, all) = resources::settings(&file, &path, &flags, &env).expect("validates");
    assert_eq!(out_dir, std::path::Path::new("output/github"));
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["issues", "releases", "release-assets"]);
    let e = resources::settings(&file, &path, &flags, &|_| None)
        .expect_err("no token")
        .to_string();
    assert!(format!("{e:#}").contains("issues"), "{e}");
    let e = resources::parse(
        "[[resource]]\nname = \"a\"\nurl = \"http://h/\"\npaginat = \"link\"\n",
        std::path::Path::new("a.toml"),
    )
    .expect_err("typo");
    assert!(e.to_string().contains("paginat"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_file_pulls_each_resource_into_its_own_file() {
    let s = server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    let config = dir.path().join("two.toml");
    std::fs::write(
        &config,
        format!(
            "out_dir = {:?}\nconcurrency = 2\n\n[[resource]]\nname = \"paged\"\nurl = \"{}\"\npaginate = \"page\"\ntotal_pages = \"total_pages\"\nrecords = \"items\"\n\n[[resource]]\nname = \"cursored\"\nurl = \"{}\"\npaginate = \"cursor\"\ncursor = \"meta.next_cursor\"\nrecords = \"data\"\nmax_pages = 3\n",
            out_dir.to_string_lossy(),
            s.url("/page"),
            s.url("/cursor")
        ),
    )
    .expect("write config");
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
        .arg("api")
        .arg(&config)
        .output()
        .await
        .expect("ran");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines = |name: &str| {
        std::fs::read_to_string(out_dir.join(name))
            .expect(name)
            .lines()
            .count()
    };
    assert_eq!(lines("paged.jsonl"), TOTAL as usize);
    assert_eq!(lines("cursored.jsonl"), 3 * SIZE as usize);
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("summary.json")).expect("summary"),
    )
    .expect("JSON");
    assert_eq!(summary["resources"]["paged"]["records"], TOTAL);
    assert_eq!(summary["resources"]["cursored"]["stopped"], "max_pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_resources_are_pulled_per_parent_record_and_tagged() {
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| {
            if path.starts_with("/repos?") || path == "/repos" {
                return json(
                    serde_json::json!([{"id": 1, "owner": "a", "name": "x"}, {"id": 2, "owner": "b", "name": "y y"}]),
                    vec![],
                );
            }
            let Some(rest) = path.strip_prefix("/repos/") else { return Reply::Status(404) };
            let repo = rest.trim_end_matches("/issues").to_string();
            json(
                serde_json::json!({"data": [{"repo": repo.clone(), "n": 1}, {"repo": repo, "n": 2}], "next": null}),
                vec![],
            )
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    let config = dir.path().join("children.toml");
    std::fs::write(
        &config,
        format!(
            "out_dir = {:?}\n\n[[resource]]\nname = \"repos\"\nurl = \"{}\"\npaginate = \"link\"\n\n\
             [[resource]]\nname = \"issues\"\nparent = \"repos\"\nurl = \"{}\"\npaginate = \"next_url\"\nnext = \"next\"\nrecords = \"data\"\n",
            out_dir.to_string_lossy(),
            server.url("/repos"),
            server.url("/repos/{owner}/{name}/issues"),
        ),
    )
    .expect("write config");
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
        .arg("api")
        .arg(&config)
        .output()
        .await
        .expect("ran");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let issues: Vec<serde_json::Value> = std::fs::read_to_string(out_dir.join("issues.jsonl"))
        .expect("issues")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let tags: Vec<u64> = issues
        .iter()
        .filter_map(|r| r["_parent"].as_u64())
        .collect();
    assert_eq!(tags, [1, 1, 2, 2]);
    assert_eq!(
        issues[2]["repo"], "b/y%20y",
        "placeholders are percent-encoded"
    );
    assert!(server.paths().iter().any(|p| p == "/repos/b/y%20y/issues"));
}

#[test]
fn placeholders_name_the_missing_field() {
    let record = serde_json::json!({"owner": {"login": "me"}, "id": 7});
    let filled = collector::api::resources::fill("/u/{owner.login}/{id}", &record).expect("filled");
    assert_eq!(filled, "/u/me/7");
    let e = collector::api::resources::fill("/u/{nope}", &record)
        .expect_err("missing")
        .to_string();
    assert!(e.contains("{nope}"), "{e}");
}
