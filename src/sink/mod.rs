//! Sinks: where records go. Each sink writes one format; all of them run on
//! one blocking thread fed by a bounded channel, so slow storage pushes back
//! on the crawl instead of growing a queue in memory.

pub mod csv;
pub mod format;
pub mod json;
pub mod jsonl;
pub mod part_file;
pub mod warc;

use std::io;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::exchange::Exchange;
use crate::record::{PageRecord, SkipRecord, Summary};
pub use format::{Format, Output, Target};
use jsonl::JsonlWriter;
pub use jsonl::{JsonlSink, StdoutSink};

/// One output format for page records.
pub trait Sink: Send {
    /// Writes one record; `exchange` is the raw request and response, present
    /// when an archival format was asked for and the page was fetched.
    fn write(&mut self, record: &PageRecord, exchange: Option<&Exchange>) -> io::Result<()>;
    /// Pushes buffered records to the OS; called when the channel runs dry.
    fn flush(&mut self) -> io::Result<()>;
    /// Completes the output (rename `.part` files).
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// Opens one sink per format: files in the output directory (which must
/// exist), or JSONL on standard output.
pub fn open(output: &Output) -> io::Result<Vec<Box<dyn Sink>>> {
    let dir = match &output.target {
        Target::Stdout => return Ok(vec![Box::new(StdoutSink::new())]),
        Target::Dir(dir) => dir,
    };
    let mut sinks: Vec<Box<dyn Sink>> = Vec::with_capacity(output.formats.len());
    for format in &output.formats {
        let path = dir.join(format.file_name());
        let with_path = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        let sink: Box<dyn Sink> = match format {
            Format::Jsonl => Box::new(JsonlSink::create(&path).map_err(with_path)?),
            Format::Json => Box::new(json::JsonSink::create(&path).map_err(with_path)?),
            Format::Csv => {
                Box::new(csv::CsvSink::create(&path, &output.columns).map_err(with_path)?)
            }
            Format::Warc => Box::new(warc::WarcSink::create(&path).map_err(with_path)?),
        };
        sinks.push(sink);
    }
    Ok(sinks)
}

pub enum SinkMsg {
    Page(Box<PageRecord>, Option<Box<Exchange>>),
    Skipped(SkipRecord),
}

/// Writes every message until all senders are dropped, then finishes every
/// sink. Returns the counts of what was written; on a write error the
/// thread stops writing, keeps what is already in the `.part` files and
/// reports the error.
pub fn spawn(
    mut sinks: Vec<Box<dyn Sink>>,
    mut skipped: Option<JsonlWriter>,
    mut rx: mpsc::Receiver<SinkMsg>,
) -> JoinHandle<io::Result<Summary>> {
    tokio::task::spawn_blocking(move || {
        let mut summary = Summary::default();
        let mut dirty = false;
        loop {
            let msg = match rx.try_recv() {
                Ok(m) => m,
                Err(mpsc::error::TryRecvError::Empty) => {
                    if dirty {
                        for s in &mut sinks {
                            s.flush()?;
                        }
                        if let Some(w) = &mut skipped {
                            w.flush()?;
                        }
                    }
                    match rx.blocking_recv() {
                        Some(m) => m,
                        None => break,
                    }
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            };
            dirty = true;
            match msg {
                SinkMsg::Page(r, exchange) => {
                    for s in &mut sinks {
                        s.write(&r, exchange.as_deref())?;
                    }
                    summary.count(&r);
                }
                SinkMsg::Skipped(r) => {
                    if let Some(w) = &mut skipped {
                        w.write(&r)?;
                    }
                }
            }
        }
        for s in sinks {
            s.finish()?;
        }
        if let Some(w) = skipped {
            w.commit()?;
        }
        Ok(summary)
    })
}
