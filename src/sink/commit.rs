//! Checkpoints of a resumable crawl: every so often the sink thread makes
//! its files durable and commits, in one frontier transaction, the leases
//! whose records they hold together with a [`Checkpoint`] (the files'
//! lengths and the counts so far). A resumed crawl cuts each file back to
//! its committed length, so every record in the output belongs to a
//! committed lease and none is written twice.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::runtime::Handle;

use crate::frontier::{Ack, Frontier};
use crate::record::Summary;

/// Commit once this many leases wait, or [`INTERVAL`] after the first.
pub const EVERY: usize = 256;
pub const INTERVAL: Duration = Duration::from_millis(200);

/// What a commit stores beside the leases (the frontier's "positions").
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The output directory, as an absolute path.
    pub out: PathBuf,
    /// Each output file's committed length, by file name.
    pub files: BTreeMap<String, u64>,
    /// The counts of the records within those lengths.
    pub summary: Summary,
    /// The crawl reached its end with nothing left queued.
    pub complete: bool,
}

impl Checkpoint {
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("unreadable checkpoint: {e}"))
    }
}

/// Collects the leases whose records were written and commits them.
pub struct Committer {
    frontier: Arc<dyn Frontier>,
    runtime: Handle,
    out: PathBuf,
    pending: Vec<Ack>,
    first_pending: Option<Instant>,
    /// The frontier keeps the records (a shared crawl's): they go with
    /// the leases, and the local files need not be synced first.
    records: bool,
}

impl Committer {
    /// Call from within the runtime (it keeps a handle to it).
    pub fn new(frontier: Arc<dyn Frontier>, out: PathBuf) -> Self {
        Self {
            records: frontier.wants_records(),
            frontier,
            runtime: Handle::current(),
            out,
            pending: Vec::with_capacity(EVERY),
            first_pending: None,
        }
    }

    pub fn runtime(&self) -> &Handle {
        &self.runtime
    }

    /// Whether the commit carries the records ([`Ack::record`]) and the
    /// output files are the worker's own copy, not what the commit
    /// depends on (a shared crawl).
    pub fn keeps_records(&self) -> bool {
        self.records
    }

    pub fn add(&mut self, ack: Ack) {
        self.first_pending.get_or_insert_with(Instant::now);
        self.pending.push(ack);
    }

    /// How long until a commit is due; `None` with nothing to commit.
    pub fn due_in(&self) -> Option<Duration> {
        let first = self.first_pending?;
        if self.pending.len() >= EVERY {
            return Some(Duration::ZERO);
        }
        Some(INTERVAL.saturating_sub(first.elapsed()))
    }

    /// Commits the pending leases with `files` (lengths already durable)
    /// and `summary`; returns the checkpoint stored. Blocks: call it from
    /// the sink's own thread.
    pub fn commit(
        &mut self,
        files: BTreeMap<String, u64>,
        summary: &Summary,
        complete: bool,
    ) -> io::Result<Checkpoint> {
        let checkpoint = Checkpoint {
            out: self.out.clone(),
            files,
            summary: summary.clone(),
            complete,
        };
        let bytes = checkpoint.to_bytes();
        let pending = std::mem::replace(&mut self.pending, Vec::with_capacity(EVERY));
        self.runtime
            .block_on(self.frontier.commit(pending, &bytes))
            .map_err(io::Error::other)?;
        self.first_pending = None;
        Ok(checkpoint)
    }
}
