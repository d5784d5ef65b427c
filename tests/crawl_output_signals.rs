//! Stopping a crawl and streaming its records, through the binary: after
//! Ctrl-C every output format is complete, after `kill -9` only `.part`
//! files are left, and `--out -` prints JSONL records as they come. The
//! WARC file is read back with Python's warcio (installed by `.ci/run`);
//! these tests fail, not skip, without it.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncBufReadExt as _;

use support::binary::{
    ALL_FORMATS, collector, csv_rows, files_in, json_array, signal, spawn_endless_crawl,
    summary_json, write,
};
use support::sites::{SMALL_SITE, small_site};
use support::{Server, urls};

/// A crawl of the endless site in the background, writing every format
/// to `out`: the site's server (keep it) and the crawl.
async fn crawl_all_formats(dir: &Path, out: &Path) -> (Server, tokio::process::Child) {
    let out_arg = out.to_str().expect("utf-8");
    spawn_endless_crawl(dir, &["--format", ALL_FORMATS, "--out", out_arg]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_warc_are_complete_after_sigint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let (_server, mut child) = crawl_all_formats(dir.path(), &out).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        out.join("pages.json.part").exists(),
        "records are being written"
    );
    signal(&child, "-INT");
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exited after SIGINT")
        .expect("wait");
    assert_eq!(status.code(), Some(130));
    assert!(
        files_in(&out).iter().all(|f| !f.ends_with(".part")),
        "{:?}",
        files_in(&out)
    );
    let jsonl = support::records(&out);
    assert!(
        jsonl.len() > 5,
        "pages fetched before the interrupt are kept"
    );
    let json = json_array(&out);
    assert_eq!(json, jsonl);
    let (_, rows) = csv_rows(&out);
    assert_eq!(rows.len(), jsonl.len());
    let warc = support::warc::read_warc(&out.join("pages.warc.gz"));
    let responses = warc.iter().filter(|r| r["type"] == "response").count();
    assert_eq!(responses, jsonl.len());
    let summary = summary_json(&out);
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["pages"], jsonl.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_like_the_first_ctrl_c_and_exits_143() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let (_server, mut child) = crawl_all_formats(dir.path(), &out).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    signal(&child, "-TERM");
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exited after SIGTERM")
        .expect("wait");
    assert_eq!(status.code(), Some(143));
    assert!(
        files_in(&out).iter().all(|f| !f.ends_with(".part")),
        "{:?}",
        files_in(&out)
    );
    let jsonl = support::records(&out);
    assert!(jsonl.len() > 5, "pages fetched before the signal are kept");
    assert_eq!(json_array(&out), jsonl);
    let summary = summary_json(&out);
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["pages"], jsonl.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sigterm_a_ctrl_c_still_exits_143() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let (_server, mut child) = crawl_all_formats(dir.path(), &out).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    signal(&child, "-TERM");
    tokio::time::sleep(Duration::from_millis(50)).await;
    signal(&child, "-INT");
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exited after the second signal")
        .expect("wait");
    assert_eq!(status.code(), Some(143), "the first signal names the stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_leaves_part_files_and_no_final_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let (_server, mut child) = crawl_all_formats(dir.path(), &out).await;
    // Wait until records have reached the files.
    for _ in 0..200 {
        let len = std::fs::metadata(out.join("pages.jsonl.part")).map_or(0, |m| m.len());
        if len > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    signal(&child, "-KILL");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("killed")
        .expect("wait");
    assert_eq!(status.code(), None, "ended by a signal");
    assert_eq!(
        files_in(&out),
        [
            "pages.csv.part",
            "pages.json.part",
            "pages.jsonl.part",
            "pages.warc.gz.part"
        ]
        .map(String::from)
        .into(),
    );
    let part = std::fs::read_to_string(out.join("pages.jsonl.part")).expect("read");
    assert!(
        part.lines().count() > 0,
        "the .part file holds the records written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_dash_streams_jsonl_records_to_stdout() {
    let (server, _) = small_site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/"));
    let cwd = dir.path().join("cwd");
    std::fs::create_dir(&cwd).expect("mkdir");
    let o = tokio::task::spawn_blocking(move || {
        let o = collector(
            &["crawl", &seeds, "--out", "-", "--progress", "never"],
            &cwd,
        );
        (o, files_in(&cwd))
    });
    let (o, left) = tokio::time::timeout(Duration::from_secs(60), o)
        .await
        .expect("finished")
        .expect("ran");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(left.is_empty(), "nothing written to disk: {left:?}");
    let records: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON record"))
        .collect();
    support::assert_schema_valid(&records);
    let expected: BTreeSet<String> = SMALL_SITE.iter().map(|p| server.url(p)).collect();
    assert_eq!(urls(&records), expected);
    assert_eq!(
        support::record_for(&records, &server.url("/missing"))["status"],
        404
    );
    assert!(
        stderr.contains("10 pages in"),
        "the summary goes to stderr: {stderr}"
    );
    assert!(stderr.contains("standard output"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_dash_lines_arrive_while_the_crawl_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, mut child) = spawn_endless_crawl(dir.path(), &["--out", "-"]).await;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    for _ in 0..3 {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("a record arrives while the crawl runs")
            .expect("read")
            .expect("a line");
        let record: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(record["status"], 200);
    }
    assert!(child.try_wait().expect("poll").is_none(), "still crawling");
    signal(&child, "-INT");
    while let Some(line) = lines.next_line().await.expect("read") {
        serde_json::from_str::<serde_json::Value>(&line).expect("whole JSON lines only");
    }
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exited")
        .expect("wait");
    assert_eq!(status.code(), Some(130));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_dash_into_head_stops_quietly_with_exit_0() {
    let server = support::sites::endless_site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/n0"));
    // A real pipe into a real `head`, which exits after one line; the
    // endless crawl ends only because its reader went away.
    let script = format!(
        "'{}' crawl '{seeds}' --out - --progress never | head -1; \
         echo \"crawl exit ${{PIPESTATUS[0]}}\" >&2",
        env!("CARGO_BIN_EXE_collector")
    );
    let run = tokio::process::Command::new("bash")
        .args(["-c", &script])
        .current_dir(dir.path())
        .kill_on_drop(true)
        .output();
    let o = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the crawl stopped when head exited")
        .expect("bash runs");
    let stdout = String::from_utf8(o.stdout).expect("utf-8");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let record: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON");
    assert_eq!(record["status"], 200);
    assert_eq!(
        stderr.trim(),
        "crawl exit 0",
        "nothing else on stderr: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_always_draws_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let out_arg = out.to_str().expect("utf-8");
    let mut lines = Vec::new();
    for mode in ["always", "never"] {
        let server = support::sites::endless_site().await;
        let seeds = write(dir.path(), "seeds.txt", &server.url("/n0"));
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
            .args([
                "crawl",
                &seeds,
                "--out",
                out_arg,
                "--overwrite",
                "--progress",
                mode,
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        signal(&child, "-INT");
        let o = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
            .await
            .expect("exited")
            .expect("wait");
        assert_eq!(o.status.code(), Some(130));
        lines.push(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    let (always, never) = (&lines[0], &lines[1]);
    assert!(
        always.contains("fetched ") && always.contains("pages/s"),
        "the live line is drawn: {always:?}"
    );
    assert!(always.contains("\r\x1b[2K"), "redrawn in place: {always:?}");
    assert!(!never.contains("fetched "), "{never:?}");
    assert!(
        never.contains("pages in"),
        "the summary is still printed: {never:?}"
    );
}
