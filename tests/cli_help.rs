//! What the binary says about itself: `--version`.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::binary::{collector, stderr};

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

fn run_ok(args: &[&str]) -> String {
    let o = collector(args, Path::new(env!("CARGO_MANIFEST_DIR")));
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// The commit the tests were built from, as the build script saw it.
fn git_short_head() -> Option<String> {
    let o = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    let head = String::from_utf8(o.stdout).ok()?.trim().to_owned();
    (o.status.success() && !head.is_empty()).then_some(head)
}

#[test]
fn version_names_the_commit_and_build_date_in_a_checkout() {
    let printed = run_ok(&["--version"]);
    let version = env!("CARGO_PKG_VERSION");
    let Some(head) = git_short_head() else {
        assert_eq!(printed, format!("collector {version}\n"));
        return;
    };
    let rest = printed
        .strip_prefix(&format!("collector {version} ("))
        .and_then(|r| r.strip_suffix(")\n"))
        .unwrap_or_else(|| panic!("{printed:?}"));
    let (commit, date) = rest
        .split_once(' ')
        .unwrap_or_else(|| panic!("{printed:?}"));
    assert_eq!(commit, head);
    let parts: Vec<&str> = date.split('-').collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [4, 2, 2],
        "{date}"
    );
    assert!(
        date.bytes().all(|b| b.is_ascii_digit() || b == b'-'),
        "{date}"
    );
    let month: u32 = parts[1].parse().expect("month");
    let day: u32 = parts[2].parse().expect("day");
    assert!(
        (1..=12).contains(&month) && (1..=31).contains(&day),
        "{date}"
    );
}

