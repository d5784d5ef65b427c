//! The frontier: URLs still to fetch, deduplicated by fingerprint, kept in
//! per-origin queues so that a slow or rate-limited origin never holds up
//! the others.
//!
//! One trait, three stores: in memory (`memory.rs`), an embedded on-disk
//! store for resumable crawls (`disk/`), and Redis, shared by several
//! workers (`redis/`). URLs are
//! *leased*: a lease is handed out when the origin's gate allows a request,
//! and completed once the page's record and its discovered links are handed
//! on. A lease that is never completed is still counted as in flight, so
//! the crawl does not end early. A store that survives the process also
//! wants the lease *committed* once its record is durably in the output
//! ([`Frontier::commit`]); until then a crash hands the URL out again.

#[cfg(test)]
mod behaviour;
pub mod canon;
pub mod disk;
mod lease;
pub mod memo;
pub mod memory;
mod packed;
pub mod redis;

use std::sync::Arc;

use async_trait::async_trait;
use url::Url;

use crate::gate::{HostGate, HostPermit};

pub use canon::{Fingerprint, QueryPolicy, canonicalize, fingerprint};
pub use disk::{DiskFrontier, Resume};
pub use memo::{Memo, PageMemo};
pub use memory::MemoryFrontier;
pub use redis::{RedisFrontier, SharedJob};

/// What a queued URL is fetched as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UrlKind {
    /// A page: its links are followed.
    #[default]
    Page,
    /// A sitemap: the URLs it lists are queued.
    Sitemap,
}

/// A URL on its way into the frontier, already canonical and in scope.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub url: Url,
    pub kind: UrlKind,
    pub depth: u32,
    /// The page the link was found on; shared by all links of one page.
    pub referrer: Option<Arc<str>>,
}

/// What the frontier did with one candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    Queued,
    Duplicate,
    MaxDepth,
}

/// Whether a leased URL was requested; one that was not (robots.txt said
/// no) gives its place under `max_pages` back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    Fetched,
    NotFetched,
}

/// Names a lease for [`Frontier::commit`]; it stays valid after the lease
/// itself is completed and dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LeaseId {
    origin: u32,
    seq: u64,
}

/// A lease to commit, with what a store may keep of it: whether its page
/// failed and its record as JSON (a shared frontier, see
/// [`Frontier::wants_records`]), and its page's memo for a later recrawl
/// (the disk frontier, see [`Frontier::wants_pages`]).
#[derive(Clone, Debug)]
pub struct Ack {
    pub id: LeaseId,
    pub done: Done,
    pub failed: bool,
    pub record: Option<Vec<u8>>,
    pub page: Option<PageMemo>,
}

impl Ack {
    /// A lease to commit with nothing kept beside it.
    pub fn new(id: LeaseId, done: Done) -> Self {
        Self {
            id,
            done,
            failed: false,
            record: None,
            page: None,
        }
    }
}

/// A URL handed out for fetching. Hand it back with [`Frontier::complete`],
/// and once its record is durably written, [`Frontier::commit`] its `id`.
#[derive(Debug)]
pub struct Lease {
    pub url: Url,
    pub kind: UrlKind,
    pub origin: String,
    pub depth: u32,
    pub referrer: Option<Arc<str>>,
    /// Keeps the origin's concurrency slot until the lease is completed.
    pub permit: HostPermit,
    pub id: LeaseId,
    /// What the last run stored of this page (a recrawl): its request
    /// is conditional, and a 304 follows the stored links.
    pub memo: Option<Box<Memo>>,
}

/// Limits the frontier enforces when admitting URLs.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Hand out at most this many leases that end [`Done::Fetched`].
    pub max_pages: Option<u64>,
    /// Seeds are depth 0; links found on a depth-d page are depth d+1.
    pub max_depth: Option<u32>,
}

/// Counters for progress display and the summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrontierStats {
    pub queued: u64,
    pub leased: u64,
    pub seen: u64,
    pub origins: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum FrontierError {
    #[error("frontier store: {0}")]
    Store(String),
    /// The store holds the state of a crawl of other seeds or scope.
    #[error("{}: the state belongs to a crawl of other seeds or scope", .0.display())]
    OtherCrawl(std::path::PathBuf),
}

#[async_trait]
pub trait Frontier: Send + Sync {
    /// Adds a batch of candidates; returns one admission per candidate, in order.
    async fn push(&self, batch: Vec<Candidate>) -> Result<Vec<Admission>, FrontierError>;

    /// Waits for the next URL whose origin `gate` lets start now. `None` when
    /// the crawl is over: nothing queued and nothing leased, `max_pages`
    /// fetched, or closed.
    async fn lease(&self, gate: &dyn HostGate) -> Result<Option<Lease>, FrontierError>;

    /// The leased URL is finished; its links were pushed before this call.
    async fn complete(&self, lease: Lease, done: Done) -> Result<(), FrontierError>;

    /// Marks the `acks`' leases as finished for good, together with
    /// `positions` (opaque to the frontier: the caller's output file
    /// lengths after these leases' records were flushed), in one durable
    /// transaction that also makes every earlier push durable; the store
    /// keeps what it wants of each ack (its record, its page's memo). Call
    /// it for every lease, fetched or not, in batches (say every 64
    /// records), whether or not `complete` was called yet. A frontier that
    /// does not outlive the process has nothing to make durable.
    async fn commit(&self, acks: Vec<Ack>, positions: &[u8]) -> Result<(), FrontierError> {
        let _ = (acks, positions);
        Ok(())
    }

    /// Whether commits should carry each lease's record: a frontier shared
    /// by several workers keeps the job's records itself, committed in the
    /// same step as their leases ([`Frontier::commit`]).
    fn wants_records(&self) -> bool {
        false
    }

    /// Whether commits should carry each fetched page's [`PageMemo`]: a
    /// store that outlives the run keeps them for `--recrawl`.
    fn wants_pages(&self) -> bool {
        false
    }

    /// Removes and returns the URLs still queued: what `max_pages` or an
    /// interruption left unfetched, for the report.
    async fn drain(&self) -> Result<Vec<Candidate>, FrontierError>;

    /// Hands out no more leases (shutdown); waiting `lease` calls return `None`.
    fn close(&self);

    fn stats(&self) -> FrontierStats;
}
