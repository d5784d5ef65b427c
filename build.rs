//! Build script: stamps `collector --version` with the short git commit and
//! the build date (UTC), as `collector 0.1.0 (a4ed7d4 2026-12-02)`. Outside
//! a git checkout (a crate tarball, no `git` installed) the version alone.
//! `SOURCE_DATE_EPOCH` sets the date for reproducible builds.

use std::path::PathBuf;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=GIT_DIR");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let long = match git(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) => {
            watch_head();
            format!("{version} ({commit} {})", build_date())
        }
        None => version,
    };
    println!("cargo:rustc-env=COLLECTOR_LONG_VERSION={long}");
}

/// What `git ARGS` prints, trimmed; `None` when git is missing or fails
/// (not a checkout).
fn git(args: &[&str]) -> Option<String> {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let out = Command::new("git")
        .args(args)
        .current_dir(manifest_dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_owned())
}

/// Rebuild when HEAD moves: `HEAD` itself (a checkout of another branch)
/// and the branch it names (a commit). `--git-path` finds both in a linked
/// worktree too, where `.git` is a file and branches live in the main
/// repository. Only existing files are watched: cargo reruns a script
/// whose watched file is missing on every build.
fn watch_head() {
    let mut paths = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        paths.push(branch);
    }
    for path in paths {
        if let Some(file) = git(&["rev-parse", "--git-path", &path]) {
            let file = PathBuf::from(file);
            let file = match std::env::var_os("CARGO_MANIFEST_DIR") {
                Some(dir) if file.is_relative() => PathBuf::from(dir).join(file),
                _ => file,
            };
            // A branch packed into `packed-refs` gets its own file again at
            // its next commit: watch the folder it will appear in.
            let watched = match file.parent() {
                Some(folder) if !file.exists() && path != "packed-refs" => folder.to_path_buf(),
                _ => file,
            };
            if watched.exists() {
                println!("cargo:rerun-if-changed={}", watched.display());
            }
        }
    }
}

/// Today (or `SOURCE_DATE_EPOCH`) as `YYYY-MM-DD` in UTC.
fn build_date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
        });
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
