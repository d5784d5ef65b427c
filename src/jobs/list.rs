//! `collector jobs`: one block per job with its kind, schedule, next
//! start, last run (from its `run.json`, or an incomplete run that the
//! next start resumes) and where its output is.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::file::JobsFile;
use super::lock;
use super::run::job_dir;
use super::runs;

/// The listing, as text.
pub fn list(file: &JobsFile, output_root: &Path, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    for job in &file.jobs {
        let dir = job_dir(output_root, &job.name);
        let _ = writeln!(out, "{} ({})", job.name, job.kind.label());
        let (schedule, next) = match &job.schedule {
            Some(s) => (
                s.text.clone(),
                s.next_after(now).map_or_else(
                    || "never".to_string(),
                    |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                ),
            ),
            None => ("none (collector run only)".to_string(), "-".to_string()),
        };
        let _ = writeln!(out, "  schedule:   {schedule}");
        let _ = writeln!(out, "  next start: {next}");
        if let Some(h) = lock::holder(&dir) {
            let _ = writeln!(
                out,
                "  running:    pid {} since {}",
                h.pid,
                h.since.format("%Y-%m-%d %H:%M:%S UTC")
            );
        }
        let last = runs::list(&dir).pop();
        let last = match last {
            None => "none yet".to_string(),
            Some(run) => match runs::record(&dir, &run) {
                Some(r) => format!(
                    "{run}: {}, {} {} in {:.1}s{}",
                    r.outcome,
                    r.count,
                    r.unit,
                    r.duration_s,
                    r.error.map(|e| format!(" ({e})")).unwrap_or_default()
                ),
                None => format!("{run}: incomplete (the next start resumes it)"),
            },
        };
        let _ = writeln!(out, "  last run:   {last}");
        let latest = runs::latest(&dir).map_or_else(
            || dir.display().to_string(),
            |run| format!("{} (latest -> {run})", dir.join("latest").display()),
        );
        let _ = writeln!(out, "  output:     {latest}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_listed_with_schedule_next_start_and_runs() {
        let file = super::super::file::parse(
            "[job.docs]\nschedule = \"0 */6 * * *\"\ncrawl = { seeds = [\"http://a.test/\"] }\n",
            Path::new("jobs.toml"),
        )
        .expect("valid");
        let dir = tempfile::tempdir().expect("tempdir");
        let now = DateTime::parse_from_rfc3339("2026-12-02T07:00:00Z")
            .expect("t")
            .to_utc();
        let text = list(&file, dir.path(), now);
        assert!(text.contains("docs (crawl)"), "{text}");
        assert!(
            text.contains("next start: 2026-12-02 12:00:00 UTC"),
            "{text}"
        );
        assert!(text.contains("last run:   none yet"), "{text}");
        let job = dir.path().join("docs");
        std::fs::create_dir_all(&job).expect("dir");
        let run = runs::create(&job, now).expect("run");
        let text = list(&file, dir.path(), now);
        assert!(text.contains(&format!("{run}: incomplete")), "{text}");
    }
}
