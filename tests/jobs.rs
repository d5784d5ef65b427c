//! Named jobs through the binary: `collector run` of crawl and api jobs
//! into OUTPUT/<job>/<run-id>/ with `latest` and `keep`, the per-job lock
//! (exit 75, stale locks taken over), `collector schedule` never
//! overlapping a job with itself, and `latest` surviving a `kill -9`.

mod support;
mod support_api;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use support::binary::write;
use support::{Reply, Server};

/// A site of one page (no links) answering after `delay_ms` (changeable).
async fn site(delay_ms: Arc<AtomicU64>) -> Server {
    Server::start(
        "127.0.0.1",
        Arc::new(move |_, _| {
            let page =
                Reply::Html("<html><head><title>t</title></head><body>hi</body></html>".into());
            match delay_ms.load(Ordering::SeqCst) {
                0 => page,
                ms => Reply::Delayed(Duration::from_millis(ms), Box::new(page)),
            }
        }),
    )
    .await
}

/// A jobs file with one crawl job `docs` of `server`, `extra` job keys.
fn jobs_file(dir: &Path, server: &Server, extra: &str) -> String {
    let text = format!(
        "[job.docs]\n{extra}\ncrawl = {{ seeds = [\"{}\"], ignore_robots = true, retries = 0 }}\n",
        server.url("/")
    );
    write(dir, "jobs.toml", &text)
}

fn command(args: &[&str]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"));
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

/// `collector ARGS` to its end (60 s at most): exit code and stderr.
async fn collector(args: &[&str]) -> (Option<i32>, String) {
    let out = tokio::time::timeout(Duration::from_secs(60), command(args).output())
        .await
        .expect("collector finished in time")
        .expect("collector ran");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn latest(job_dir: &Path) -> String {
    std::fs::read_link(job_dir.join("latest"))
        .expect("latest is a symlink")
        .to_string_lossy()
        .into_owned()
}

/// The run directories of a job (names that are run ids), oldest first.
fn runs(job_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(job_dir)
        .expect("job dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("20"))
        .collect();
    names.sort();
    names
}

fn run_json(run_dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).expect("run.json"))
        .expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_jobs_files_exit_2_naming_file_job_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "[job.docs]\ncrawl = { seeds = [\"http://127.0.0.1:9/\"], max_dept = 1 }\n",
            "job.docs.crawl.max_dept: unknown key",
        ),
        (
            "[job.docs]\nschedule = \"*/2 * *\"\ncrawl = { seeds = [\"http://127.0.0.1:9/\"] }\n",
            "job.docs.schedule: ",
        ),
        ("[job.docs]\nkeep = 1\n", "job.docs.crawl: missing"),
    ];
    for (text, want) in cases {
        let file = write(dir.path(), "bad.toml", text);
        let (code, err) = collector(&["run", &file]).await;
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(&format!("bad.toml: {want}")), "{err}");
    }
    let file = write(
        dir.path(),
        "ok.toml",
        "[job.docs]\ncrawl = { seeds = [\"http://127.0.0.1:9/\"] }\n",
    );
    let root = dir.path().join("out");
    let (code, err) = collector(&[
        "run",
        &file,
        "--job",
        "nope",
        "--output-root",
        root.to_str().expect("utf-8"),
    ])
    .await;
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("ok.toml: job.nope: no such job; the file has: docs"),
        "{err}"
    );
    assert!(!root.exists(), "nothing ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_and_api_jobs_write_runs_latest_and_keep() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = site(Arc::default()).await;
    let api = Server::start(
        "127.0.0.1",
        Arc::new(|_, _| {
            Reply::Full(
                200,
                vec![("content-type", "application/json".into())],
                b"[{\"id\": 1}, {\"id\": 2}]".to_vec(),
            )
        }),
    )
    .await;
    let text = format!(
        "[job.docs]\nkeep = 2\ncrawl = {{ seeds = [\"{}\"], ignore_robots = true }}\n\n[job.items]\napi = {{ url = \"{}\", paginate = \"link\" }}\n",
        server.url("/"),
        api.url("/items")
    );
    let file = write(dir.path(), "jobs.toml", &text);
    let root = dir.path().join("out");
    let root_arg = root.to_str().expect("utf-8");
    for _ in 0..3 {
        let (code, err) =
            collector(&["run", &file, "--output-root", root_arg, "--parallel", "2"]).await;
        assert_eq!(code, Some(0), "{err}");
        assert!(err.contains("job docs ended: done, 1 pages"), "{err}");
        assert!(err.contains("job items ended: done, 2 records"), "{err}");
    }
    let docs = root.join("docs");
    let kept = runs(&docs);
    assert_eq!(kept.len(), 2, "keep = 2 pruned the oldest: {kept:?}");
    assert_eq!(latest(&docs), kept[1]);
    let run = docs.join(&kept[1]);
    assert_eq!(support::records(&run).len(), 1);
    assert_eq!(run_json(&run)["outcome"], "done");
    assert_eq!(run_json(&run)["count"], 1);
    let items = root.join("items");
    assert_eq!(runs(&items).len(), 3, "no keep: every run kept");
    let run = items.join(latest(&items));
    let text = std::fs::read_to_string(run.join("items.jsonl")).expect("records");
    assert_eq!(text.lines().count(), 2);
    let listing = command(&["jobs", &file, "--output-root", root_arg])
        .output()
        .await
        .expect("jobs");
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    assert!(
        listing.contains("docs (crawl)") && listing.contains("items (api)"),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("{}: done, 1 pages", kept[1])),
        "{listing}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_of_a_running_job_exits_75_naming_the_holder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = site(Arc::new(AtomicU64::new(2500))).await;
    let file = jobs_file(dir.path(), &server, "");
    let root = dir.path().join("out");
    let root_arg = root.to_str().expect("utf-8");
    let args = ["run", file.as_str(), "--output-root", root_arg];
    let (a, b) = (
        command(&args).spawn().expect("a"),
        command(&args).spawn().expect("b"),
    );
    let pids = [a.id().expect("pid"), b.id().expect("pid")];
    let wait = |c: tokio::process::Child| async move {
        tokio::time::timeout(Duration::from_secs(60), c.wait_with_output())
            .await
            .expect("in time")
            .expect("ran")
    };
    let (a, b) = tokio::join!(wait(a), wait(b));
    let outs = [a, b];
    let codes: Vec<Option<i32>> = outs.iter().map(|o| o.status.code()).collect();
    let busy = codes
        .iter()
        .position(|c| *c == Some(75))
        .expect("one exits 75");
    let ran = 1 - busy;
    assert_eq!(codes[ran], Some(0), "{codes:?}");
    let err = String::from_utf8_lossy(&outs[busy].stderr);
    assert!(
        err.contains(&format!(
            "job docs is already running (pid {}, since ",
            pids[ran]
        )),
        "{err}"
    );
    assert_eq!(server.count("/"), 1, "only one run fetched");
    assert_eq!(runs(&root.join("docs")).len(), 1);

    // A lock file naming a dead process is taken over, with a warning.
    std::fs::write(
        root.join("docs/lock"),
        r#"{"pid":999999999,"since":"2026-12-02T06:00:02Z"}"#,
    )
    .expect("stale lock");
    let (code, err) = collector(&args).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("taking over a stale lock: pid 999999999"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_never_overlaps_a_job_and_sigterm_exits_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = site(Arc::new(AtomicU64::new(3000))).await;
    let file = jobs_file(dir.path(), &server, "schedule = \"*/2 * * * * *\"");
    let root = dir.path().join("out");
    let mut child = command(&[
        "schedule",
        &file,
        "--output-root",
        root.to_str().expect("utf-8"),
    ])
    .spawn()
    .expect("schedule");
    tokio::time::sleep(Duration::from_secs(10)).await;
    // Stop it while a run is fetching (at most one 3 s run away), so that
    // SIGTERM finds a job to stop cleanly.
    let docs = root.join("docs");
    for _ in 0..100 {
        let all = runs(&docs);
        let fetching = all
            .last()
            .is_some_and(|r| !docs.join(r).join("run.json").exists())
            && server.count("/") == all.len();
        if fetching {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = child.id().expect("pid");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let stderr = child.stderr.take().expect("stderr");
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("stopped after SIGTERM")
        .expect("wait");
    let mut err = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut tokio::io::BufReader::new(stderr), &mut err)
        .await
        .expect("stderr");
    assert_eq!(status.code(), Some(0), "{err}");
    let started = err.matches("job docs started").count();
    // Starts every 2 s of a 3 s job over 10-13 s: at 0, 4, 8 (each second
    // tick skipped), give or take one for where the time began.
    assert!((2..=4).contains(&started), "{started} starts: {err}");
    assert!(err.contains("job docs skipped"), "{err}");
    assert_eq!(server.max_in_flight(), 1, "two runs of the job overlapped");
    assert_eq!(server.count("/"), started);
    // The run stopped by SIGTERM is incomplete; earlier ones are complete.
    let all = runs(&docs);
    assert_eq!(all.len(), started);
    assert!(
        err.contains("is incomplete; its next start resumes it"),
        "{err}"
    );
    assert!(
        !docs
            .join(all.last().expect("a run"))
            .join("run.json")
            .exists()
    );
    assert_eq!(latest(&docs), all[all.len() - 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_keeps_the_previous_run_when_a_run_is_killed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let delay = Arc::new(AtomicU64::new(0));
    let server = site(delay.clone()).await;
    let file = jobs_file(dir.path(), &server, "");
    let root = dir.path().join("out");
    let root_arg = root.to_str().expect("utf-8");
    let args = ["run", file.as_str(), "--output-root", root_arg];
    let (code, err) = collector(&args).await;
    assert_eq!(code, Some(0), "{err}");
    let docs: PathBuf = root.join("docs");
    let first = latest(&docs);

    delay.store(5000, Ordering::SeqCst);
    let mut child = command(&args).spawn().expect("run");
    for _ in 0..100 {
        if server.count("/") == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(server.count("/"), 2, "the second run is fetching");
    child.start_kill().expect("kill -9");
    child.wait().await.expect("wait");
    let all = runs(&docs);
    assert_eq!(all.len(), 2);
    assert_eq!(latest(&docs), first, "latest still names the complete run");
    assert!(!docs.join(&all[1]).join("run.json").exists());

    // The next start resumes the killed run in its own directory.
    delay.store(0, Ordering::SeqCst);
    let (code, err) = collector(&args).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("resuming an interrupted run"), "{err}");
    assert_eq!(runs(&docs), all);
    assert_eq!(latest(&docs), all[1]);
    assert_eq!(run_json(&docs.join(&all[1]))["resumed"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_job_pulls_only_what_changed_since_its_last_run() {
    // Records 0..newest, each `updated_at` its id; `since=N` gives those after N.
    let newest = Arc::new(AtomicU64::new(120));
    let n = newest.clone();
    let api = Server::start(
        "127.0.0.1",
        Arc::new(move |path, _| {
            let since = support_api::query(path, "since")
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(-1);
            let data: Vec<serde_json::Value> = (0..n.load(Ordering::SeqCst))
                .filter(|id| *id as i64 > since)
                .map(|id| serde_json::json!({"id": id, "updated_at": id}))
                .collect();
            support_api::json(serde_json::json!({"data": data, "next": null}), vec![])
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        dir.path(),
        "jobs.toml",
        &format!(
            "[job.changes]\napi = {{ url = \"{}\", paginate = \"next_url\", next = \"next\", \
             records = \"data\", since_field = \"updated_at\", since_param = \"since\" }}\n",
            api.url("/changes")
        ),
    );
    let root = dir.path().join("out");
    let root_arg = root.to_str().expect("utf-8");
    let job = root.join("changes");
    let ids = |run: &str| -> Vec<u64> {
        std::fs::read_to_string(job.join(run).join("changes.jsonl"))
            .expect("records")
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
                v["id"].as_u64().expect("id")
            })
            .collect()
    };
    let marks = || -> serde_json::Value {
        let text = std::fs::read_to_string(job.join("state/since.json")).expect("marks");
        let marks = serde_json::from_str(&text).expect("JSON");
        support::assert_valid("api-job-marks.json", &marks);
        marks
    };

    let (code, err) = collector(&["run", &file, "--output-root", root_arg]).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        api.paths(),
        ["/changes"],
        "the first run asks for everything"
    );
    assert_eq!(ids(&latest(&job)), (0..120).collect::<Vec<_>>());
    assert_eq!(marks()["changes"], 119);

    newest.store(150, Ordering::SeqCst);
    let (code, err) = collector(&["run", &file, "--output-root", root_arg]).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(api.paths()[1], "/changes?since=119", "{:?}", api.paths());
    assert_eq!(
        ids(&latest(&job)),
        (120..150).collect::<Vec<_>>(),
        "only the new ones"
    );
    assert_eq!(marks()["changes"], 149);

    // Nothing new: an empty run, and the mark stays.
    let (code, err) = collector(&["run", &file, "--output-root", root_arg]).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(api.paths()[2], "/changes?since=149");
    assert!(ids(&latest(&job)).is_empty());
    assert_eq!(marks()["changes"], 149);
    assert_eq!(runs(&job).len(), 3);
}
