//! Diagnostic logs: `tracing` events written to standard error, as text
//! lines or one JSON object per line (`--log-format json`). Records and
//! summaries are output, not logs, and never go through here (in JSON mode
//! the closing summary is a log event, `summary` below).
//!
//! Levels: collector's own events at `info` and above by default, `debug`
//! with `-v` (one line per request), `trace` with `-vv` (scheduling:
//! leases, waits on a busy or paused origin, retries and their delay; also
//! lets dependencies log at `debug`). `COLLECTOR_LOG`, else `RUST_LOG` (an
//! `EnvFilter` directive such as `collector=debug,reqwest=trace`), replaces
//! the default.
//!
//! Log lines and the live progress line share standard error: lines are
//! written through [`Console`], which clears the progress line, writes,
//! and draws it again (indicatif's `suspend`), so neither garbles the
//! other.

use std::io::{self, Write as _};
use std::sync::{OnceLock, RwLock};

use clap::ValueEnum;
use indicatif::ProgressBar;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `2026-12-02T06:00:00.000Z  INFO collector::fetch: request url=...` lines.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`,
    /// `message` and the event's fields as keys.
    Json,
}

/// The variables that replace the default filter, first found wins.
const FILTER_VARS: [&str; 2] = ["COLLECTOR_LOG", "RUST_LOG"];

/// The filter for `verbose` times `-v`, unless `COLLECTOR_LOG` or
/// `RUST_LOG` (read through `env`) names one. The second value is a
/// warning about a variable that is set but not a filter.
pub fn filter(verbose: u8, env: &dyn Fn(&str) -> Option<String>) -> (EnvFilter, Option<String>) {
    let mut warning = None;
    for var in FILTER_VARS {
        let Some(spec) = env(var).filter(|s| !s.trim().is_empty()) else {
            continue;
        };
        match EnvFilter::try_new(&spec) {
            Ok(filter) => return (filter, warning),
            Err(e) => {
                warning.get_or_insert(format!(
                    "{var}={spec:?} is not a log filter ({e}); using the default"
                ));
            }
        }
    }
    let default = EnvFilter::new(match verbose {
        0 => "warn,collector=info",
        1 => "warn,collector=debug",
        _ => "debug,collector=trace",
    });
    (default, warning)
}

/// The format chosen at [`init`], for the parts that print differently in
/// JSON mode (progress off, the summary as an event).
static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Whether logs are JSON lines: the progress display and the human summary
/// are then off, and the summary is a log event.
pub fn json() -> bool {
    FORMAT.get() == Some(&LogFormat::Json)
}

/// Installs the subscriber for the process; a second call does nothing.
pub fn init(verbose: u8, format: LogFormat) {
    let _ = FORMAT.set(format);
    let (filter, warning) = filter(verbose, &|var| std::env::var(var).ok());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(console())
        .with_ansi(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    if let Some(warning) = warning {
        tracing::warn!("{warning}");
    }
}

/// Standard error as log lines and the live progress line share it. The
/// subscriber is process-wide, so the console it writes through is too.
#[derive(Debug, Default)]
pub struct Console {
    bar: RwLock<Option<ProgressBar>>,
}

static CONSOLE: Console = Console {
    bar: RwLock::new(None),
};

/// The process's console.
pub fn console() -> &'static Console {
    &CONSOLE
}

impl Console {
    /// Log lines are written around `bar` from now on.
    pub fn show(&self, bar: ProgressBar) {
        *self.bar.write().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    }

    /// No progress line any more.
    pub fn hide(&self) {
        *self.bar.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Writes `bytes` (whole lines) to standard error, the progress line
    /// cleared meanwhile. Errors are ignored: a lost log line must not
    /// stop a crawl or a server (stderr may be closed).
    pub fn write(&self, bytes: &[u8]) {
        let write = || {
            let _ = io::stderr().lock().write_all(bytes);
        };
        match &*self.bar.read().unwrap_or_else(|e| e.into_inner()) {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

/// What the subscriber writes one event to: the whole formatted event
/// arrives in one `write_all`, passed on in one piece.
pub struct ConsoleWriter(&'static Console);

impl io::Write for ConsoleWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for &'static Console {
    type Writer = ConsoleWriter;

    fn make_writer(&'a self) -> ConsoleWriter {
        ConsoleWriter(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |var| {
            pairs
                .iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn collector_log_wins_over_rust_log_over_the_default() {
        let (f, w) = filter(
            0,
            &env(&[("RUST_LOG", "trace"), ("COLLECTOR_LOG", "error")]),
        );
        assert_eq!((f.to_string(), w), ("error".to_string(), None));
        let (f, w) = filter(2, &env(&[("RUST_LOG", "collector=warn")]));
        assert_eq!((f.to_string(), w), ("collector=warn".to_string(), None));
        let (f, _) = filter(1, &env(&[]));
        assert!(f.to_string().contains("collector=debug"), "{f}");
    }

    #[test]
    fn a_bad_filter_is_named_and_the_next_one_used() {
        let (f, w) = filter(
            0,
            &env(&[("COLLECTOR_LOG", "collector=loud"), ("RUST_LOG", "info")]),
        );
        assert_eq!(f.to_string(), "info");
        let w = w.expect("warning");
        assert!(w.starts_with("COLLECTOR_LOG=\"collector=loud\""), "{w}");
    }
}
