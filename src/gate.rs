//! The contract between the frontier and politeness: may a request to this
//! origin start now, and if not, when to ask again.
//!
//! The frontier picks which URL goes next; politeness decides which origins
//! are ready. Neither imports the other; `crawl` hands the frontier a gate.

use std::time::{Duration, Instant};

/// Why an origin cannot start a request now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// At its concurrency cap: ready again when one of its requests ends.
    Busy,
    /// Rate-limited or backing off until this instant.
    Until(Instant),
}

/// Held while a request to an origin is in flight; dropping it frees the slot.
pub struct HostPermit {
    _held: Box<dyn Send + Sync>,
}

impl HostPermit {
    pub fn new(inner: impl Send + Sync + 'static) -> Self {
        Self {
            _held: Box::new(inner),
        }
    }
}

impl std::fmt::Debug for HostPermit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostPermit")
    }
}

/// Decides whether an origin (`scheme://host:port`) may start a request now.
pub trait HostGate: Send + Sync {
    fn try_start(&self, origin: &str) -> Result<HostPermit, Wait>;
}

/// Where an origin's back-off and `Crawl-delay` go when several workers
/// share a crawl: told to one worker, they hold for all (the shared
/// frontier enforces them when it hands out URLs).
pub trait OriginShare: Send + Sync {
    /// Start nothing on `origin` for `wait`; with `spacing`, keep starts
    /// `wait` apart from now on (robots.txt `Crawl-delay`).
    fn hold(&self, origin: &str, wait: Duration, spacing: bool);
}
