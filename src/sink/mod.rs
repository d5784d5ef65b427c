//! Sinks: where records go. Each sink writes one format; all of them run on
//! one blocking thread fed by a bounded channel, so slow storage pushes back
//! on the crawl instead of growing a queue in memory.

pub mod jsonl;
pub mod part_file;

use std::io;
use std::path::Path;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::exchange::Exchange;
use crate::record::{PageRecord, SkipRecord, Summary};
use jsonl::JsonlWriter;

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

/// `pages.jsonl`.
pub struct JsonlSink(JsonlWriter);

impl JsonlSink {
    pub fn create(dir: &Path) -> io::Result<Self> {
        JsonlWriter::create(&dir.join("pages.jsonl")).map(Self)
    }
}

impl Sink for JsonlSink {
    fn write(&mut self, record: &PageRecord, _exchange: Option<&Exchange>) -> io::Result<()> {
        self.0.write(record)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
    fn finish(self: Box<Self>) -> io::Result<()> {
        self.0.commit()
    }
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
