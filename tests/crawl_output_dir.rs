//! The output directory, through the binary: one that cannot be used is
//! exit 2 before any request, an earlier crawl's files are refused unless
//! `--overwrite`, links planted in it are never written through, and a
//! disk that fills up mid-crawl names the file and keeps what was written.

mod support;

use std::path::Path;
use std::process::Output;

use support::binary::{collector, files_in, stderr, summary_json, write};
use support::sites::small_site;

/// `collector crawl SEEDS --out OUT --quiet ARGS...` off the async runtime,
/// so that the test's server keeps answering.
async fn crawl(seeds: &str, out: &Path, args: &[&str]) -> Output {
    let mut all: Vec<String> = ["crawl", seeds, "--quiet", "--no-report", "--out"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    all.push(out.to_string_lossy().into_owned());
    all.extend(args.iter().map(|s| s.to_string()));
    // Run from the seeds file's folder: `out` may lie under a file.
    let cwd = Path::new(seeds).parent().expect("parent").to_path_buf();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        collector(&args, &cwd)
    })
    .await
    .expect("ran")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_output_directory_is_exit_2_before_any_request() {
    let (server, _) = small_site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/"));
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").expect("write");

    let o = crawl(&seeds, &file, &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!("{}: is a file, not a directory", file.display())),
        "{e}"
    );

    let under = file.join("out");
    let o = crawl(&seeds, &under, &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains(&under.display().to_string()), "{e}");
    assert!(
        e.contains(&format!("{} is a file, not a directory", file.display())),
        "{e}"
    );
    assert!(!e.contains("os error"), "in words: {e}");
    assert_eq!(
        std::fs::read(&file).expect("read"),
        b"not a directory",
        "the file is untouched"
    );
    assert!(
        server.paths().is_empty(),
        "no request: {:?}",
        server.paths()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_crawl_is_refused_by_name_and_replaced_with_overwrite() {
    let (server, _) = small_site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/"));
    let out = dir.path().join("out");
    let o = crawl(&seeds, &out, &["--format", "jsonl,csv"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let first_requests = server.paths().len();
    std::fs::write(out.join("notes.txt"), b"mine").expect("write");

    // Without --overwrite: refused, naming the files, nothing requested.
    let o = crawl(&seeds, &out, &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("pages.jsonl, pages.csv, summary.json") && e.contains("--overwrite"),
        "{e}"
    );
    assert_eq!(server.paths().len(), first_requests, "no request");
    assert!(out.join("pages.csv").exists(), "nothing removed");

    // With it: every file of the earlier crawl goes (pages.csv too, which
    // this run does not write), the user's own file stays.
    let o = crawl(&seeds, &out, &["--overwrite"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        files_in(&out),
        ["notes.txt", "pages.jsonl", "summary.json"]
            .map(String::from)
            .into()
    );
    assert_eq!(summary_json(&out)["pages"], 10);
    assert_eq!(support::records(&out).len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_planted_in_the_output_directory_are_not_written_through() {
    let (server, _) = small_site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/"));
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"precious").expect("write");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    let planted = [
        "pages.jsonl",
        "pages.jsonl.part",
        "summary.json.part",
        "report.html.part",
    ];
    for name in planted {
        std::os::unix::fs::symlink(&victim, out.join(name)).expect("symlink");
    }
    let o = crawl(&seeds, &out, &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("pages.jsonl.part"), "{}", stderr(&o));

    let o = crawl(&seeds, &out, &["--overwrite", "--report"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read(&victim).expect("read"), b"precious");
    for name in ["pages.jsonl", "summary.json", "report.html"] {
        let meta = std::fs::symlink_metadata(out.join(name)).expect("written");
        assert!(meta.file_type().is_file(), "{name} is a file of its own");
    }
    assert_eq!(support::records(&out).len(), 10);
}

/// A tmpfs mounted with `options` (`size=64k`, `ro`) at a new folder
/// `name` of `dir`, unmounted when dropped; `None` where this process may
/// not mount (only root may; CI runs as root, so these tests run there).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, name: &str, options: &str) -> Option<Self> {
        let at = dir.join(name);
        std::fs::create_dir(&at).expect("mkdir");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(&at)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("skipped: cannot mount a tmpfs here");
        }
        mounted.then_some(Self(at))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_names_the_file_and_keeps_what_was_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(disk) = Tmpfs::mount(dir.path(), "small-disk", "size=64k") else {
        return;
    };
    let out = disk.0.clone();
    let server = support::sites::endless_site().await;
    let seeds = write(dir.path(), "seeds.txt", &server.url("/n0"));
    let o = crawl(&seeds, &out, &["--concurrency", "16", "--per-host", "16"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!(
            "{}: no space left on the device",
            out.join("pages.jsonl").display()
        )),
        "{e}"
    );
    let part = std::fs::read(out.join("pages.jsonl.part")).expect("the .part file is kept");
    let text = String::from_utf8_lossy(&part);
    let whole: Vec<&str> = text.lines().filter(|l| l.ends_with('}')).collect();
    assert!(whole.len() > 10, "records written before the disk filled");
    for line in whole {
        serde_json::from_str::<serde_json::Value>(line).expect("a whole record");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_output_directory_is_exit_2_before_any_request() {
    let (server, _) = small_site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "seeds.txt", &server.url("/"));
    let Some(disk) = Tmpfs::mount(dir.path(), "read-only", "ro,size=64k") else {
        return;
    };
    let out = disk.0.join("out");
    let o = crawl(&seeds, &out, &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!(
            "output directory {}: cannot be created: the file system is read-only",
            out.display()
        )),
        "{e}"
    );
    assert!(
        server.paths().is_empty(),
        "no request: {:?}",
        server.paths()
    );
}
