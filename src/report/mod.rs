//! `collector report OUT`: `OUT/report.html`, one self-contained page
//! (inline CSS, SVG and a little script; no network) that shows how a
//! crawl went. `pages.jsonl` is streamed through [`aggregate`] (memory
//! stays flat, the page stays a few hundred KB at 100,000 records), then
//! [`html`] renders it with `summary.json` and, when there, `skipped.jsonl`.
//! A crawl writes it at its end unless `--no-report`.

pub mod aggregate;
pub mod html;
pub mod svg;

use std::fs::File;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use serde_json::Value;

use crate::outcome::Outcome;
use crate::sink::part_file;
use aggregate::Aggregate;

pub const REPORT_EXIT_CODES: &str = "\
Exit codes:
  0    report.html written
  1    it could not be written
  2    the directory holds no pages.jsonl or pages.json";

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A crawl's output directory (pages.jsonl, summary.json, skipped.jsonl)
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// No warnings about unreadable lines on standard error
    #[arg(long, short)]
    pub quiet: bool,
}

/// The report that was written.
#[derive(Debug)]
pub struct Written {
    pub path: PathBuf,
    pub pages: u64,
    /// Lines that could not be read, each named in the report; the first
    /// ones also here, as `FILE:LINE: reason`.
    pub malformed: u64,
    pub warnings: Vec<String>,
}

/// Why no report was written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0} holds no pages.jsonl or pages.json: not a crawl's output directory")]
    NoPages(PathBuf),
    #[error(transparent)]
    Io(#[from] anyhow::Error),
}

/// `collector report OUT`: writes the report, prints its path on standard
/// output and each unreadable line on standard error.
pub fn command(args: &ReportArgs) -> Outcome {
    match write(&args.out) {
        Ok(w) => {
            if !args.quiet {
                for warning in &w.warnings {
                    eprintln!("collector: warning: {warning}");
                }
            }
            println!("{}", w.path.display());
            Outcome::Done
        }
        Err(e @ ReportError::NoPages(_)) => {
            eprintln!("collector: {e}");
            Outcome::BadInput
        }
        Err(ReportError::Io(e)) => {
            eprintln!("collector: {e:#}");
            Outcome::Failed
        }
    }
}

/// Called at the end of a crawl: a report that cannot be written is a
/// warning, never a failed crawl.
pub fn after_crawl(dir: &Path) {
    match write(dir) {
        Ok(w) => {
            for warning in &w.warnings {
                tracing::warn!("{warning}");
            }
        }
        // `--format csv` alone: there is nothing the report reads.
        Err(ReportError::NoPages(_)) => {}
        Err(ReportError::Io(e)) => tracing::warn!("report.html not written: {e:#}"),
    }
}

/// Reads the crawl output in `dir` and writes `dir/report.html`.
pub fn write(dir: &Path) -> Result<Written, ReportError> {
    let mut agg = Aggregate::default();
    let mut warnings = Vec::new();
    let pages = ["pages.jsonl", "pages.json"]
        .into_iter()
        .map(|name| (name, dir.join(name)))
        .find(|(_, p)| p.is_file())
        .ok_or_else(|| ReportError::NoPages(dir.to_path_buf()))?;
    read_lines(&pages.1, |n, line| {
        agg.page_line(n, json_array_item(line));
    })?;
    let summary = read_summary(&dir.join(crate::sink::SUMMARY_FILE), &mut warnings);
    let skipped_path = dir.join("skipped.jsonl");
    let skipped_file = skipped_path.is_file();
    if skipped_file {
        read_lines(&skipped_path, |n, line| agg.skip_line(n, line))?;
    }
    let dir_text = dir.display().to_string();
    let page = html::render(&html::Inputs {
        dir: &dir_text,
        aggregate: &agg,
        summary: summary.as_ref(),
        skipped_file,
        warnings: &warnings,
    });
    // The page lists unreadable lines in a section of their own; standard
    // error gets them as `FILE:LINE: reason`.
    for m in &agg.malformed {
        // `pages.json` lines are read as records too: name the real file.
        let file = if m.file == "pages.jsonl" {
            pages.0
        } else {
            m.file
        };
        warnings.push(format!(
            "{}:{}: {}",
            dir.join(file).display(),
            m.line,
            m.reason
        ));
    }
    if agg.malformed_count > agg.malformed.len() as u64 {
        warnings.push(format!(
            "{} more unreadable lines (see the report)",
            agg.malformed_count - agg.malformed.len() as u64
        ));
    }
    let path = dir.join(crate::sink::REPORT_FILE);
    part_file::write_atomic(&path, page.as_bytes())
        .with_context(|| format!("could not write {}", path.display()))?;
    Ok(Written {
        path,
        pages: agg.pages,
        malformed: agg.malformed_count,
        warnings,
    })
}

/// Calls `each(line_number, line)` for every line of `path`, streaming. A
/// line that is not UTF-8 is passed on lossily (and then fails to parse,
/// so it is named like any other bad line).
fn read_lines(path: &Path, mut each: impl FnMut(u64, &str)) -> anyhow::Result<()> {
    let file = File::open(path).with_context(|| format!("could not open {}", path.display()))?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        let read = reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("could not read {}", path.display()))?;
        if read == 0 {
            return Ok(());
        }
        n += 1;
        match std::str::from_utf8(&buf) {
            Ok(line) => each(n, line),
            Err(_) => each(n, &String::from_utf8_lossy(&buf)),
        }
    }
}

/// A line of `pages.json` (`[` before the first record, `,` before the
/// others, `]` at the end) as the record alone; a JSONL line as it is.
fn json_array_item(line: &str) -> &str {
    let t = line.trim();
    let t = t
        .strip_prefix('[')
        .or_else(|| t.strip_prefix(','))
        .unwrap_or(t)
        .trim_start();
    t.strip_suffix(']').map_or(t, str::trim_end)
}

fn read_summary(path: &Path, warnings: &mut Vec<String>) -> Option<Value> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            warnings.push(format!(
                "{}: {e}; the report has no run times",
                path.display()
            ));
            return None;
        }
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(v) if v.is_object() => Some(v),
        Ok(_) => {
            warnings.push(format!("{}: not a JSON object", path.display()));
            None
        }
        Err(e) => {
            warnings.push(format!("{}: {e}", path.display()));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_json_lines_are_records() {
        assert_eq!(json_array_item("[{\"a\":1}\n"), "{\"a\":1}");
        assert_eq!(json_array_item(",{\"a\":1}\n"), "{\"a\":1}");
        assert_eq!(json_array_item("]\n"), "");
        assert_eq!(json_array_item("[]\n"), "");
        assert_eq!(json_array_item("{\"a\":[1]}"), "{\"a\":[1]}");
        assert_eq!(json_array_item(",{\"a\":1}]"), "{\"a\":1}");
    }

    #[test]
    fn bad_lines_are_warnings_naming_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = r#"{"url":"http://a.test/","status":200,"bytes":3,"fetched_at":"2026-01-01T00:00:00Z"}"#;
        std::fs::write(
            dir.path().join("pages.jsonl"),
            format!("{good}\n{{\"url\": 5}}\n\u{0}\u{ff}garbage\n{good}"),
        )
        .expect("write");
        let w = write(dir.path()).expect("report written");
        assert_eq!(w.pages, 2);
        assert_eq!(w.malformed, 2);
        let page = std::fs::read_to_string(&w.path).expect("read");
        assert!(page.contains("pages.jsonl:2: "), "{page}");
        assert!(
            w.warnings.iter().any(|x| x.contains("pages.jsonl:3: ")),
            "{:?}",
            w.warnings
        );
        assert!(
            w.warnings.iter().any(|x| x.contains("summary.json")),
            "{:?}",
            w.warnings
        );
    }

    #[test]
    fn pages_json_is_read_when_there_is_no_jsonl() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rec = r#"{"url":"http://a.test/","status":200,"bytes":3}"#;
        std::fs::write(
            dir.path().join("pages.json"),
            format!("[{rec}\n,{rec}\n]\n"),
        )
        .expect("write");
        let w = write(dir.path()).expect("report written");
        assert_eq!((w.pages, w.malformed), (2, 0));
    }

    #[test]
    fn no_pages_is_bad_input() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(write(dir.path()), Err(ReportError::NoPages(_))));
    }
}
