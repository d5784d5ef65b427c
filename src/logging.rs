//! Diagnostic logs: `tracing` events written to standard error, as text
//! lines or one JSON object per line (`--log-format json`). Records and
//! summaries are output, not logs, and never go through here.
//!
//! Levels: collector's own events at `info` and above by default, `debug`
//! with `-v`, `trace` with `-vv` (which also lets dependencies log at
//! `debug`). `COLLECTOR_LOG` (an `EnvFilter` directive such as
//! `collector=debug,reqwest=trace`) replaces the default.

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `2026-12-02T06:00:00.000Z  INFO job docs started` lines.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `fields`.
    Json,
}

/// The filter for `verbose` times `-v`, unless `COLLECTOR_LOG` names one.
pub fn filter(verbose: u8) -> EnvFilter {
    if let Ok(spec) = std::env::var("COLLECTOR_LOG") {
        if let Ok(filter) = EnvFilter::try_new(&spec) {
            return filter;
        }
        eprintln!("collector: COLLECTOR_LOG={spec:?} is not a log filter; using the default");
    }
    EnvFilter::new(match verbose {
        0 => "warn,collector=info",
        1 => "warn,collector=debug",
        _ => "debug,collector=trace",
    })
}

/// Installs the subscriber for the process; a second call does nothing.
pub fn init(verbose: u8, format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(verbose))
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(false).try_init(),
    };
}
