//! One lock per job: `OUTPUT/JOB/lock`, held with an exclusive advisory
//! file lock (flock) for the whole run and holding the holder's PID and
//! start time. The kernel drops the lock when its holder dies, so a lock
//! file that still names a process but is not locked is stale: the next
//! run takes it over and says so in the log. The file is emptied, never
//! removed, on release (removing it would let two runs lock two files).

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the lock file says about its holder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub since: DateTime<Utc>,
}

/// Why a job's lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("job {job} is already running ({})", holder_words(.holder.as_ref()))]
    Busy { job: String, holder: Option<Holder> },
    #[error("job {job}: could not use the lock file {path}: {source}")]
    Io {
        job: String,
        path: String,
        source: std::io::Error,
    },
}

fn holder_words(holder: Option<&Holder>) -> String {
    match holder {
        Some(h) => format!("pid {}, since {}", h.pid, h.since.format("%H:%M:%S")),
        None => "its holder did not say who it is".to_string(),
    }
}

/// A held job lock; released when dropped.
#[derive(Debug)]
pub struct JobLock {
    file: File,
}

impl JobLock {
    /// Takes the lock of job `job` in `job_dir` (created if missing).
    pub fn acquire(job: &str, job_dir: &Path) -> Result<Self, LockError> {
        let path = job_dir.join("lock");
        let io = |source| LockError::Io {
            job: job.to_string(),
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(job_dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(LockError::Busy {
                    job: job.to_string(),
                    holder: read_holder_soon(&mut file),
                });
            }
            Err(fs4::TryLockError::Error(e)) => return Err(io(e)),
        }
        if let Some(stale) = read_holder(&mut file) {
            tracing::warn!(
                job,
                pid = stale.pid,
                since = %stale.since.to_rfc3339(),
                "job {job}: taking over a stale lock: pid {} (since {}) no longer holds it",
                stale.pid,
                stale.since.format("%Y-%m-%d %H:%M:%S UTC")
            );
        }
        let me = Holder {
            pid: std::process::id(),
            since: Utc::now(),
        };
        let text = serde_json::to_string(&me).unwrap_or_default();
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(Self { file })
    }
}

impl Drop for JobLock {
    fn drop(&mut self) {
        // Emptied first, so that a lock file with a holder in it always
        // means "held, or left by a process that died".
        let _ = self.file.set_len(0);
        let _ = fs4::FileExt::unlock(&self.file);
    }
}

/// The holder named in the lock file, if any.
fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

/// A holder that has just taken the lock may not have written its name
/// yet: look again for a moment.
fn read_holder_soon(file: &mut File) -> Option<Holder> {
    for _ in 0..20 {
        if let Some(h) = read_holder(file) {
            return Some(h);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    None
}

/// Who holds the lock in `job_dir` now, if anyone (for `collector jobs`).
pub fn holder(job_dir: &Path) -> Option<Holder> {
    let mut file = File::open(job_dir.join("lock")).ok()?;
    match fs4::FileExt::try_lock_shared(&file) {
        Ok(()) => {
            let _ = fs4::FileExt::unlock(&file);
            None
        }
        Err(_) => read_holder(&mut file),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_told_who_holds_it_and_a_stale_file_is_taken_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let job_dir = dir.path().join("docs");
        std::fs::create_dir_all(&job_dir).expect("dir");
        let stale = r#"{"pid":999999,"since":"2026-12-02T06:00:02Z"}"#;
        std::fs::write(job_dir.join("lock"), stale).expect("stale lock");
        let held = JobLock::acquire("docs", &job_dir).expect("stale lock taken over");
        let e = JobLock::acquire("docs", &job_dir).expect_err("busy");
        let me = std::process::id();
        assert!(
            e.to_string()
                .starts_with(&format!("job docs is already running (pid {me}, since ")),
            "{e}"
        );
        assert_eq!(holder(&job_dir).map(|h| h.pid), Some(me));
        drop(held);
        assert_eq!(std::fs::read(job_dir.join("lock")).expect("kept").len(), 0);
        assert_eq!(holder(&job_dir), None);
        JobLock::acquire("docs", &job_dir).expect("free again");
    }
}
