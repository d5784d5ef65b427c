//! The state file of a pull (`FILE.state.json` beside `FILE`): where to go
//! on after a stop, and the incremental high-water mark. Saved after each
//! page, once that page's records are durable in the `.part` file, so a
//! resumed pull neither repeats nor loses a record.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Strategy;
use crate::sink::part_file;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PullState {
    /// The pull's first URL, to refuse resuming a different pull.
    pub url: String,
    pub strategy: Option<Strategy>,
    /// The next request; `None` once the last page is written.
    pub next: Option<String>,
    pub pages: u64,
    pub records: u64,
    /// Length of the `.part` file at the last checkpoint.
    pub bytes: u64,
    pub finished: bool,
    /// The highest value of the incremental field seen so far.
    pub since: Option<Value>,
    /// Records the output held before this pull appended to it (an
    /// incremental pull continues the earlier pulls' file).
    #[serde(default)]
    pub kept: u64,
    /// Pages fetched at once (`--concurrency`): a resumed pull keeps it
    /// unless given another.
    #[serde(default)]
    pub concurrency: Option<usize>,
}

/// A file beside a pull's output: `issues.jsonl` and `state` give
/// `issues.state.json`.
pub fn beside(output: &Path, kind: &str) -> PathBuf {
    let stem = output
        .file_stem()
        .map_or_else(|| "pull".into(), |s| s.to_string_lossy().into_owned());
    output.with_file_name(format!("{stem}.{kind}.json"))
}

/// `issues.jsonl` → `issues.state.json`.
pub fn state_path(output: &Path) -> PathBuf {
    beside(output, "state")
}

pub fn load(path: &Path) -> anyhow::Result<Option<PullState>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("{} is not a state file collector wrote", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("could not read {}", path.display())),
    }
}

pub fn save(path: &Path, state: &PullState) -> anyhow::Result<()> {
    part_file::write_json(path, state)
        .with_context(|| format!("could not write {}", path.display()))
}

/// Whether `candidate` is beyond `current` for the incremental field:
/// numbers by value, strings in byte order (ISO 8601 times sort that way).
pub fn is_later(candidate: &Value, current: Option<&Value>) -> bool {
    match (candidate, current) {
        (Value::Null, _) => false,
        (_, None) => true,
        (Value::Number(a), Some(Value::Number(b))) => {
            a.as_f64().unwrap_or(f64::MIN) > b.as_f64().unwrap_or(f64::MIN)
        }
        (Value::String(a), Some(Value::String(b))) => a > b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn later_values_by_type() {
        assert!(is_later(&json!(5), Some(&json!(3))));
        assert!(!is_later(&json!(2), Some(&json!(3))));
        assert!(is_later(
            &json!("2026-11-23T10:00:00Z"),
            Some(&json!("2026-11-22T23:59:59Z"))
        ));
        assert!(is_later(&json!("a"), None));
        assert!(!is_later(&json!(null), None));
        assert!(!is_later(&json!("x"), Some(&json!(3))));
    }

    #[test]
    fn state_round_trips_with_its_strategy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = state_path(&dir.path().join("items.jsonl"));
        assert_eq!(
            path.file_name().and_then(|n| n.to_str()),
            Some("items.state.json")
        );
        assert!(load(&path).expect("no file is fine").is_none());
        let state = PullState {
            url: "http://h/a".into(),
            strategy: Some(Strategy::Link),
            next: Some("http://h/a?page=3".into()),
            pages: 2,
            records: 100,
            bytes: 4096,
            finished: false,
            since: Some(json!("2026-01-01")),
            kept: 0,
            concurrency: Some(4),
        };
        save(&path, &state).expect("save");
        let back = load(&path).expect("load").expect("some");
        assert_eq!(back.next, state.next);
        assert_eq!(back.strategy, Some(Strategy::Link));
        assert_eq!(back.bytes, 4096);
    }
}
