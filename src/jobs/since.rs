//! The high-water marks of an API job's incremental pulls (`since_field`
//! and `since_param`), carried from one run to the next: each run has a
//! directory of its own, so the state file beside a pull's output starts
//! empty. `OUTPUT/JOB/state/since.json` holds, per resource, the highest
//! value seen by the last pull of it that finished; a new run's pull starts
//! from it. A pull that did not finish leaves the mark as it was (its
//! records may not be in order), and so do child resources, whose pulls are
//! per parent record.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::Value;

use crate::api::pull::Output;
use crate::api::resources::Plan;
use crate::api::state;
use crate::sink::part_file;

/// `OUTPUT/JOB/state/since.json`.
pub fn marks_path(job_dir: &Path) -> PathBuf {
    job_dir.join("state").join("since.json")
}

/// The marks by resource name; none before a job's first complete pull.
pub fn load(job_dir: &Path) -> anyhow::Result<BTreeMap<String, Value>> {
    let path = marks_path(job_dir);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{} is not a marks file collector wrote (remove it to pull everything again)",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(e).with_context(|| format!("could not read {}", path.display())),
    }
}

/// Starts each incremental pull of `plans` from its mark; returns the
/// state file of each, to read the new marks from once the run is over.
pub fn start(
    plans: &mut [(String, Plan)],
    marks: &BTreeMap<String, Value>,
) -> Vec<(String, PathBuf)> {
    let mut states = Vec::new();
    for (name, plan) in plans.iter_mut() {
        let Plan::Pull(settings) = plan else { continue };
        let (Some(since), Output::File(out)) = (&mut settings.since, &settings.output) else {
            continue;
        };
        since.from = marks.get(name).cloned();
        states.push((name.clone(), state::state_path(out)));
    }
    states
}

/// Takes the mark of every pull in `states` that finished into the job's
/// marks file (written atomically, only when a mark moved).
pub fn finish(job_dir: &Path, states: &[(String, PathBuf)]) -> anyhow::Result<()> {
    let mut marks = load(job_dir)?;
    let mut moved = false;
    for (name, path) in states {
        let Some(pull) = state::load(path)? else {
            continue;
        };
        if let (true, Some(since)) = (pull.finished, pull.since)
            && marks.get(name) != Some(&since)
        {
            marks.insert(name.clone(), since);
            moved = true;
        }
    }
    if !moved {
        return Ok(());
    }
    let path = marks_path(job_dir);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
    }
    part_file::write_json(&path, &marks)
        .with_context(|| format!("could not write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::state::PullState;
    use serde_json::json;

    #[test]
    fn only_finished_pulls_move_their_marks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let job = dir.path();
        assert!(load(job).expect("no file").is_empty());
        let run = job.join("run");
        std::fs::create_dir_all(&run).expect("run dir");
        let pulled = |name: &str, finished: bool, since: Value| {
            let path = state::state_path(&run.join(format!("{name}.jsonl")));
            let pull = PullState {
                finished,
                since: Some(since),
                ..PullState::default()
            };
            state::save(&path, &pull).expect("save");
            (name.to_string(), path)
        };
        let states = vec![
            pulled("issues", true, json!("2026-12-02T06:00:00Z")),
            pulled("events", false, json!(900)),
        ];
        finish(job, &states).expect("finish");
        let marks = load(job).expect("marks");
        assert_eq!(marks.get("issues"), Some(&json!("2026-12-02T06:00:00Z")));
        assert_eq!(marks.get("events"), None, "a stopped pull moves nothing");
        std::fs::write(marks_path(job), "[").expect("damage");
        let err = load(job).expect_err("refused").to_string();
        assert!(err.contains("since.json"), "{err}");
    }
}
