//! A job's run directories under `OUTPUT/JOB/`: run ids (the UTC start
//! time, `2026-12-02T06-00-00Z`, then `-2`, `-3` when taken), the
//! completion marker `run.json` written last, `latest` (a relative symlink
//! to the newest complete run, replaced atomically; a file holding the
//! run's name where links cannot be made), and pruning to `keep = N`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::sink::part_file;

/// The completion marker: a run whose directory has it is complete.
pub const MARKER: &str = "run.json";
const ID_FORMAT: &str = "%Y-%m-%dT%H-%M-%SZ";

/// What `run.json` says about a finished run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub job: String,
    pub run: String,
    pub kind: String,
    /// `done` or `failed` (an interrupted run has no marker).
    pub outcome: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub duration_s: f64,
    /// Whether this run continued an interrupted one.
    pub resumed: bool,
    /// Pages (crawl) or records (api) written.
    pub count: u64,
    /// What `count` counts: `pages` or `records`.
    pub unit: String,
    /// Failed pages, or failed resources.
    pub failed: u64,
    /// A fatal error, when the run could not do its work.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The sort key of a run directory's name, or `None` for other entries
/// (`lock`, `state`, `latest`).
fn sort_key(name: &str) -> Option<(NaiveDateTime, u32)> {
    let (base, n) = match name.get(20..) {
        Some("") => (name, 1),
        Some(rest) => (name.get(..20)?, rest.strip_prefix('-')?.parse().ok()?),
        None => return None,
    };
    let time = NaiveDateTime::parse_from_str(base, ID_FORMAT).ok()?;
    Some((time, n))
}

/// The run directories of `job_dir`, oldest first.
pub fn list(job_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(job_dir) else {
        return Vec::new();
    };
    let mut runs: Vec<((NaiveDateTime, u32), String)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            sort_key(&name).map(|k| (k, name))
        })
        .collect();
    runs.sort();
    runs.into_iter().map(|(_, name)| name).collect()
}

pub fn is_complete(job_dir: &Path, run: &str) -> bool {
    job_dir.join(run).join(MARKER).is_file()
}

/// The run's `run.json`, if it finished.
pub fn record(job_dir: &Path, run: &str) -> Option<RunRecord> {
    let text = std::fs::read_to_string(job_dir.join(run).join(MARKER)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The newest run, when it is incomplete: the next start resumes it.
pub fn incomplete(job_dir: &Path) -> Option<String> {
    list(job_dir).pop().filter(|run| !is_complete(job_dir, run))
}

/// Creates a new run directory named for `started` (with a suffix if
/// taken); returns its name.
pub fn create(job_dir: &Path, started: DateTime<Utc>) -> anyhow::Result<String> {
    let base = started.format(ID_FORMAT).to_string();
    for n in 1..10_000u32 {
        let name = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        match std::fs::create_dir(job_dir.join(&name)) {
            Ok(()) => return Ok(name),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("could not create {}", job_dir.join(&name).display())
                });
            }
        }
    }
    anyhow::bail!("{}: too many runs started at {base}", job_dir.display())
}

/// Marks the run complete: `run.json`, written atomically, last.
pub fn finish(job_dir: &Path, record: &RunRecord) -> anyhow::Result<()> {
    let path = job_dir.join(&record.run).join(MARKER);
    part_file::write_json(&path, record)
        .with_context(|| format!("could not write {}", path.display()))
}

/// The run `latest` points at.
pub fn latest(job_dir: &Path) -> Option<String> {
    let path = job_dir.join("latest");
    let target = match std::fs::read_link(&path) {
        Ok(t) => t.to_string_lossy().into_owned(),
        Err(_) => std::fs::read_to_string(&path).ok()?.trim().to_string(),
    };
    (!target.is_empty()).then_some(target)
}

/// Points `latest` at `run` (a complete run): a symlink made under a
/// temporary name and renamed over the old one, so readers see the old
/// run or the new one, never neither.
pub fn point_latest(job_dir: &Path, run: &str) -> anyhow::Result<()> {
    let path = job_dir.join("latest");
    let temp = job_dir.join(format!(".latest.{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    if link(run, &temp).is_err() {
        std::fs::write(&temp, format!("{run}\n"))
            .with_context(|| format!("could not write {}", temp.display()))?;
    }
    std::fs::rename(&temp, &path).with_context(|| format!("could not replace {}", path.display()))
}

#[cfg(unix)]
fn link(run: &str, at: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(run, at)
}

#[cfg(not(unix))]
fn link(_: &str, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("no symlinks here"))
}

/// The complete runs beyond the newest `keep`, oldest first, never the
/// one `latest` points at: the runs to remove.
pub fn to_prune(job_dir: &Path, keep: u64) -> Vec<String> {
    let latest = latest(job_dir);
    let complete: Vec<String> = list(job_dir)
        .into_iter()
        .filter(|r| is_complete(job_dir, r))
        .collect();
    let keep = usize::try_from(keep).unwrap_or(usize::MAX);
    let beyond = complete.len().saturating_sub(keep);
    complete
        .into_iter()
        .take(beyond)
        .filter(|r| Some(r) != latest.as_ref())
        .collect()
}

/// Removes the runs beyond `keep`; returns the ones removed.
pub fn prune(job_dir: &Path, keep: u64) -> anyhow::Result<Vec<String>> {
    let runs = to_prune(job_dir, keep);
    for run in &runs {
        let dir: PathBuf = job_dir.join(run);
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("could not remove {}", dir.display()))?;
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("time").to_utc()
    }

    fn complete(job_dir: &Path, run: &str) {
        let record = RunRecord {
            job: "docs".into(),
            run: run.into(),
            kind: "crawl".into(),
            outcome: "done".into(),
            started_at: at("2026-12-02T06:00:00Z"),
            finished_at: at("2026-12-02T06:00:01Z"),
            duration_s: 1.0,
            resumed: false,
            count: 1,
            unit: "pages".into(),
            failed: 0,
            error: None,
        };
        finish(job_dir, &record).expect("marker");
    }

    #[test]
    fn run_ids_sort_by_time_then_suffix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = at("2026-12-02T06:00:00Z");
        let names: Vec<String> = (0..11)
            .map(|_| create(dir.path(), t).expect("run"))
            .collect();
        assert_eq!(names[0], "2026-12-02T06-00-00Z");
        assert_eq!(names[1], "2026-12-02T06-00-00Z-2");
        create(dir.path(), at("2026-12-01T23:59:59Z")).expect("older");
        std::fs::create_dir(dir.path().join("state")).expect("state");
        let listed = list(dir.path());
        assert_eq!(listed.len(), 12);
        assert_eq!(listed[0], "2026-12-01T23-59-59Z");
        assert_eq!(listed[1], "2026-12-02T06-00-00Z");
        assert_eq!(listed[11], "2026-12-02T06-00-00Z-11");
        assert_eq!(
            incomplete(dir.path()).as_deref(),
            Some("2026-12-02T06-00-00Z-11")
        );
    }

    #[test]
    fn latest_moves_atomically_and_keep_spares_latest_and_incomplete_runs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let job = dir.path();
        let runs: Vec<String> = (0..4)
            .map(|i| create(job, at(&format!("2026-12-02T06:00:0{i}Z"))).expect("run"))
            .collect();
        for r in &runs[..3] {
            complete(job, r);
        }
        point_latest(job, &runs[0]).expect("latest");
        point_latest(job, &runs[2]).expect("moved");
        assert_eq!(latest(job).as_deref(), Some(runs[2].as_str()));
        assert_eq!(incomplete(job).as_deref(), Some(runs[3].as_str()));
        assert_eq!(to_prune(job, 1), [runs[0].clone(), runs[1].clone()]);
        point_latest(job, &runs[0]).expect("back");
        assert_eq!(to_prune(job, 1), [runs[1].clone()]);
        assert_eq!(prune(job, 1).expect("pruned"), [runs[1].clone()]);
        assert_eq!(
            list(job),
            [runs[0].clone(), runs[2].clone(), runs[3].clone()]
        );
    }
}
