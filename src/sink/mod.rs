//! Sinks: where records go. Each sink writes one format; all of them run on
//! one blocking thread fed by a bounded channel, so slow storage pushes back
//! on the crawl instead of growing a queue in memory. A resumable crawl's
//! thread also commits checkpoints (`commit.rs`).

pub mod commit;
pub mod csv;
pub mod dir;
pub mod format;
pub mod json;
pub mod jsonl;
pub mod part_file;
pub mod warc;

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::exchange::Exchange;
use crate::frontier::{Ack, Done, LeaseId, PageMemo};
use crate::record::{PageRecord, SkipRecord, SkipTally, Summary};
use commit::{Checkpoint, Committer};
pub use format::{Format, Output, Target};
use jsonl::JsonlWriter;
pub use jsonl::{JsonlSink, StdoutSink};

/// The file of skipped URLs (`--log-skipped`).
pub const SKIPPED_FILE: &str = "skipped.jsonl";
/// The counts of a crawl, written at its end.
pub const SUMMARY_FILE: &str = "summary.json";
/// How the crawl went, for a browser (`collector report`).
pub const REPORT_FILE: &str = "report.html";

/// The reader of standard output went away (`| head -1`): the crawl stops
/// quietly, as it was asked for no more records.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed by its reader")]
pub struct ReaderGone;

/// A write error on standard output: a broken pipe becomes [`ReaderGone`].
pub fn on_stdout(e: io::Error) -> io::Error {
    match e.kind() {
        io::ErrorKind::BrokenPipe => io::Error::new(e.kind(), ReaderGone),
        _ => e,
    }
}

/// Whether `e` is [`ReaderGone`] (as [`on_stdout`] made it).
pub fn is_reader_gone(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<ReaderGone>())
}

/// One output format for page records.
pub trait Sink: Send {
    /// Writes one record; `exchange` is the raw request and response, present
    /// when an archival format was asked for and the page was fetched.
    fn write(&mut self, record: &PageRecord, exchange: Option<&Exchange>) -> io::Result<()>;
    /// Pushes buffered records to the OS; called when the channel runs dry.
    fn flush(&mut self) -> io::Result<()>;
    /// Makes every record written so far durable and returns the file's
    /// length, a point a resumed crawl can cut back to.
    fn checkpoint(&mut self) -> io::Result<u64>;
    /// Completes the output (rename `.part` files).
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// Opens one sink per format, each named by its file: files in the output
/// directory (which must exist), new or continued from the lengths in
/// `resume`, or JSONL on standard output.
pub fn open(
    output: &Output,
    resume: Option<&BTreeMap<String, u64>>,
) -> io::Result<Vec<(&'static str, Box<dyn Sink>)>> {
    let dir = match &output.target {
        Target::Stdout => return Ok(vec![("-", Box::new(StdoutSink::new()))]),
        Target::Dir(dir) => dir,
    };
    let mut sinks: Vec<(&'static str, Box<dyn Sink>)> = Vec::with_capacity(output.formats.len());
    for format in &output.formats {
        let name = format.file_name();
        let path = dir.join(name);
        let at = resume.and_then(|files| files.get(name).copied());
        let with_path = |e| dir::at(&path, e);
        let sink: Box<dyn Sink> = match format {
            Format::Jsonl => Box::new(JsonlSink::open(&path, at).map_err(with_path)?),
            Format::Json => Box::new(json::JsonSink::open(&path, at).map_err(with_path)?),
            Format::Csv => {
                Box::new(csv::CsvSink::open(&path, &output.columns, at).map_err(with_path)?)
            }
            Format::Warc => Box::new(warc::WarcSink::open(&path, at).map_err(with_path)?),
        };
        sinks.push((name, sink));
    }
    Ok(sinks)
}

/// What came of one leased URL, or of URLs pushed outside any lease (the
/// seeds, the queue left at the end): its record if it has one, the URLs
/// it did not fetch, and the lease to commit once all of it is written.
#[derive(Default)]
pub struct Visited {
    pub record: Option<PageRecord>,
    pub exchange: Option<Box<Exchange>>,
    /// Skipped URLs to log (only with `--log-skipped`).
    pub skipped: Vec<SkipRecord>,
    pub skips: SkipTally,
    pub lease: Option<(LeaseId, Done)>,
    /// The page's memo for a later recrawl (a crawl with `--state`).
    pub memo: Option<PageMemo>,
}

/// The sink thread's outputs and the counts it starts from.
pub struct Writers {
    pub sinks: Vec<(&'static str, Box<dyn Sink>)>,
    pub skipped: Option<JsonlWriter>,
    /// Counts of the records already in the files (a resumed crawl's).
    pub summary: Summary,
    /// Commits checkpoints (a crawl with `--state`).
    pub committer: Option<Committer>,
    /// The output directory, to name a file that cannot be written
    /// (`None`: standard output).
    pub dir: Option<PathBuf>,
}

/// What the sink thread leaves: the counts, and a resumable crawl's last
/// checkpoint (taken just before the files got their final names).
pub struct Written {
    pub summary: Summary,
    pub checkpoint: Option<Checkpoint>,
}

/// Writes every message until all senders are dropped, then finishes every
/// sink. On a write error the thread stops writing, keeps what is already
/// in the `.part` files and reports the error.
pub fn spawn(
    writers: Writers,
    rx: mpsc::Receiver<Box<Visited>>,
) -> JoinHandle<io::Result<Written>> {
    tokio::task::spawn_blocking(move || writers.run(rx))
}

impl Writers {
    /// A write error on file `name` named by its path; on standard output
    /// a broken pipe is [`ReaderGone`].
    fn named(&self, name: &str, e: io::Error) -> io::Error {
        match &self.dir {
            Some(dir) => dir::at(&dir.join(name), e),
            None => on_stdout(e),
        }
    }

    fn run(mut self, mut rx: mpsc::Receiver<Box<Visited>>) -> io::Result<Written> {
        let mut skips = SkipTally::from_map(&self.summary.skipped);
        let mut dirty = false;
        let mut checkpoint = None;
        loop {
            let msg = match rx.try_recv() {
                Ok(m) => m,
                Err(mpsc::error::TryRecvError::Empty) => {
                    if dirty {
                        self.flush()?;
                        dirty = false;
                    }
                    let due = self.committer.as_ref().and_then(|c| Some((c, c.due_in()?)));
                    match due {
                        None => match rx.blocking_recv() {
                            Some(m) => m,
                            None => break,
                        },
                        Some((committer, wait)) => match recv_within(committer, &mut rx, wait) {
                            Ok(Some(m)) => m,
                            Ok(None) => break,
                            Err(Elapsed) => {
                                checkpoint = Some(self.checkpoint(&skips)?);
                                continue;
                            }
                        },
                    }
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            };
            dirty = true;
            let Visited {
                record,
                exchange,
                skipped,
                skips: page_skips,
                lease,
                memo,
            } = *msg;
            if let Some(r) = &record {
                self.each(|_, s| s.write(r, exchange.as_deref()))?;
                self.summary.count(r);
            }
            self.on_skipped(|w| skipped.iter().try_for_each(|r| w.write(r)))?;
            skips.merge(&page_skips);
            if let (Some(c), Some((id, done))) = (&mut self.committer, lease) {
                let failed = record
                    .as_ref()
                    .and_then(|r| r.error.as_ref())
                    .is_some_and(|e| e.kind.is_failure());
                let record = match &record {
                    Some(r) if c.keeps_records() => Some(serde_json::to_vec(r)?),
                    _ => None,
                };
                c.add(Ack {
                    id,
                    done,
                    failed,
                    record,
                    page: memo,
                });
                if c.due_in() == Some(std::time::Duration::ZERO) {
                    checkpoint = Some(self.checkpoint(&skips)?);
                }
            }
        }
        if self.committer.is_some() {
            checkpoint = Some(self.checkpoint(&skips)?);
        }
        self.summary.skipped = skips.to_map();
        for (name, s) in std::mem::take(&mut self.sinks) {
            s.finish().map_err(|e| self.named(name, e))?;
        }
        if let Some(w) = self.skipped.take() {
            w.commit().map_err(|e| self.named(SKIPPED_FILE, e))?;
        }
        Ok(Written {
            summary: self.summary,
            checkpoint,
        })
    }

    /// Runs `op` on every sink; an error is named by its file.
    fn each(
        &mut self,
        mut op: impl FnMut(&'static str, &mut dyn Sink) -> io::Result<()>,
    ) -> io::Result<()> {
        for i in 0..self.sinks.len() {
            let (name, s) = &mut self.sinks[i];
            let name = *name;
            if let Err(e) = op(name, s.as_mut()) {
                return Err(self.named(name, e));
            }
        }
        Ok(())
    }

    /// Runs `op` on the skipped-URL writer, if there is one.
    fn on_skipped(
        &mut self,
        op: impl FnOnce(&mut JsonlWriter) -> io::Result<()>,
    ) -> io::Result<()> {
        match self.skipped.as_mut().map(op) {
            Some(Err(e)) => Err(self.named(SKIPPED_FILE, e)),
            _ => Ok(()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.each(|_, s| s.flush())?;
        self.on_skipped(JsonlWriter::flush)
    }

    /// Makes the files durable, then commits their lengths, the counts
    /// and the pending leases.
    fn checkpoint(&mut self, skips: &SkipTally) -> io::Result<Checkpoint> {
        let mut files = BTreeMap::new();
        if self
            .committer
            .as_ref()
            .is_some_and(Committer::keeps_records)
        {
            // The records go with the commit; the files are this worker's copy.
            self.flush()?;
        } else {
            self.each(|name, s| {
                files.insert(name.to_string(), s.checkpoint()?);
                Ok(())
            })?;
            self.on_skipped(|w| {
                files.insert(SKIPPED_FILE.to_string(), w.checkpoint()?);
                Ok(())
            })?;
        }
        let mut summary = self.summary.clone();
        summary.skipped = skips.to_map();
        let committer = self
            .committer
            .as_mut()
            .ok_or_else(|| io::Error::other("internal: a checkpoint without a state"))?;
        committer.commit(files, &summary, false)
    }
}

/// No message came in time: a commit is due.
struct Elapsed;

/// Waits at most `wait` for the next message (`None`: all senders gone).
fn recv_within(
    committer: &Committer,
    rx: &mut mpsc::Receiver<Box<Visited>>,
    wait: std::time::Duration,
) -> Result<Option<Box<Visited>>, Elapsed> {
    committer
        .runtime()
        .block_on(tokio::time::timeout(wait, rx.recv()))
        .map_err(|_| Elapsed)
}
