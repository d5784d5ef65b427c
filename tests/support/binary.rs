//! Running the `collector` binary, and reading back the files a crawl
//! writes.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::Server;
use super::sites::endless_site;

/// Every output format, as `--format` takes them.
pub const ALL_FORMATS: &str = "jsonl,json,csv,warc";

/// Writes `text` to `dir/name`; returns that path, for an argument.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    p.to_string_lossy().into_owned()
}

/// `collector ARGS...` in `cwd`, with no standard input, to its end.
pub fn collector(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("collector runs")
}

/// `collector ARGS...` in `cwd` with exactly the `COLLECTOR_*` variables
/// (and `RUST_LOG`) in `env`: those of the test's own environment removed.
pub fn collector_env(args: &[String], env: &[(String, String)], cwd: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_collector"));
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("COLLECTOR_") || var == "RUST_LOG" {
            cmd.env_remove(var);
        }
    }
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("collector runs")
}

/// [`collector_env`] off the async runtime, so that the test's servers
/// keep answering.
pub async fn collector_env_async(
    args: Vec<String>,
    env: Vec<(String, String)>,
    cwd: &Path,
) -> Output {
    let cwd = cwd.to_path_buf();
    tokio::task::spawn_blocking(move || collector_env(&args, &env, &cwd))
        .await
        .expect("runner")
}

/// Owned arguments or variables from literals.
pub fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// What a finished run printed to standard error.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `collector crawl SEEDS --progress never ARGS...` in the background, its
/// standard output and error piped; killed when dropped.
pub fn spawn_crawl(seeds: &str, args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(["crawl", seeds, "--progress", "never"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn")
}

/// [`spawn_crawl`] of an [`endless_site`], the seeds file written in
/// `dir`. The crawl ends only when stopped; keep the server meanwhile.
pub async fn spawn_endless_crawl(dir: &Path, args: &[&str]) -> (Server, tokio::process::Child) {
    let server = endless_site().await;
    let seeds = write(dir, "seeds.txt", &server.url("/n0"));
    let child = spawn_crawl(&seeds, args);
    (server, child)
}

/// Sends `sig` (e.g. `-INT`) to a running `child` with `kill`.
pub fn signal(child: &tokio::process::Child, sig: &str) {
    let pid = child.id().expect("pid");
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// The names of the files in `dir`.
pub fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// The `summary.json` in `out`.
pub fn summary_json(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
        .expect("JSON")
}

/// The records of `pages.json` in `out`.
pub fn json_array(out: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(out.join("pages.json")).expect("pages.json written");
    let value: serde_json::Value = serde_json::from_str(&text).expect("pages.json is JSON");
    value.as_array().expect("an array").clone()
}

/// The header and the rows of `pages.csv` in `out`.
pub fn csv_rows(out: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(out.join("pages.csv")).expect("pages.csv written");
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Every file directly in `dir`, read whole (a `.gz` file decompressed),
/// named by its path: the places a secret must not be in.
pub fn every_file(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        let mut bytes = std::fs::read(&path).expect("read");
        if path.to_string_lossy().ends_with(".gz") {
            use std::io::Read as _;
            let mut plain = Vec::new();
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut plain)
                .expect("gzip");
            bytes = plain;
        }
        out.push((path.display().to_string(), bytes));
    }
    out
}

/// Fails naming the place when any of `secrets` is in any of `places`.
pub fn assert_nowhere(places: &[(String, Vec<u8>)], secrets: &[&str]) {
    for (place, bytes) in places {
        for secret in secrets {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{secret:?} is in {place}");
        }
    }
}
