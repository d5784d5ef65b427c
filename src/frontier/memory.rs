//! The in-memory frontier: the default for a crawl on one machine.
//!
//! The seen set holds 8-byte fingerprints in a hash set with an identity
//! hasher (the fingerprint is already a good hash), so a seen URL costs
//! about 9-21 bytes depending on the table's load. A queued URL is kept as
//! its path and query only, packed (`packed.rs`), not as a parsed `Url`,
//! and parsed again when leased: far less memory, for a parse of about a
//! microsecond. `cargo bench --bench frontier` measures both.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use tokio::sync::Notify;
use url::Url;

use super::lease::{Next, Turn, idle, stopped, wait_for_lease, walk_ring};
use super::packed::{PackedQueue, Referrers, pack_depth, unpack_depth};
use super::{
    Admission, Candidate, Done, Frontier, FrontierError, FrontierStats, Lease, LeaseId, Limits,
    canon,
};
use crate::gate::HostGate;

/// Passes a fingerprint through as its own hash.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type SeenSet = HashSet<u64, BuildHasherDefault<IdentityHasher>>;

struct OriginQueue {
    origin: Arc<str>,
    /// Path and query of each URL; the origin is the queue's.
    urls: PackedQueue,
    in_ring: bool,
}

#[derive(Default)]
struct State {
    seen: SeenSet,
    origins: Vec<OriginQueue>,
    referrers: Referrers,
    index: HashMap<Arc<str>, usize>,
    /// Origins with queued URLs, visited round-robin.
    ring: VecDeque<usize>,
    queued: u64,
    leased: u64,
    /// Leases handed out that count against `max_pages`.
    budget_used: u64,
    /// Numbers the leases; nothing is committed, so they only tell leases apart.
    next_lease: u64,
    closed: bool,
}

pub struct MemoryFrontier {
    limits: Limits,
    state: Mutex<State>,
    changed: Notify,
}

impl MemoryFrontier {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            state: Mutex::new(State::default()),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the queues half-updated
        // in a way that matters more than stopping the crawl would.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn admit(&self, st: &mut State, c: Candidate) -> Admission {
        let fp = canon::fingerprint(&c.url);
        // Depth first: a URL refused for its depth is not marked seen, so a
        // shorter path found later (a concurrent crawl is not strictly
        // breadth-first) still admits it. Without --max-depth this is the
        // one insert it always was.
        if let Some(max) = self.limits.max_depth
            && c.depth > max
        {
            return match st.seen.contains(&fp) {
                true => Admission::Duplicate,
                false => Admission::MaxDepth,
            };
        }
        if !st.seen.insert(fp) {
            return Admission::Duplicate;
        }
        st.queued += 1;
        let origin = crate::politeness::origin_key(&c.url);
        let idx = match st.index.get(origin.as_str()) {
            Some(&i) => i,
            None => {
                let origin: Arc<str> = origin.into();
                st.origins.push(OriginQueue {
                    origin: origin.clone(),
                    urls: PackedQueue::default(),
                    in_ring: false,
                });
                let i = st.origins.len() - 1;
                st.index.insert(origin, i);
                i
            }
        };
        let referrer = st.referrers.intern(c.referrer.as_ref());
        let q = &mut st.origins[idx];
        let path = &c.url[url::Position::BeforePath..];
        q.urls.push(pack_depth(c.depth, c.kind), referrer, path);
        if !q.in_ring {
            q.in_ring = true;
            st.ring.push_back(idx);
        }
        Admission::Queued
    }

    fn next(&self, gate: &dyn HostGate) -> Next {
        let mut st = self.lock();
        if let Some(stop) = stopped(st.closed, self.limits, st.budget_used, st.leased) {
            return stop;
        }
        let st = &mut *st;
        let mut ring = std::mem::take(&mut st.ring);
        let walked = walk_ring(&mut ring, |idx| {
            Ok::<_, std::convert::Infallible>(Self::turn(st, gate, idx))
        });
        st.ring = ring;
        match walked {
            Ok(Ok(lease)) => Next::Lease(lease),
            Ok(Err(earliest)) => idle(st.queued, st.leased, earliest),
            Err(never) => match never {},
        }
    }

    fn turn(st: &mut State, gate: &dyn HostGate, idx: usize) -> Turn {
        let origin = st.origins[idx].origin.clone();
        let permit = match gate.try_start(&origin) {
            Ok(permit) => permit,
            Err(wait) => return Turn::NotReady(wait),
        };
        let q = &mut st.origins[idx];
        let Some((depth, referrer, path)) = q.urls.pop() else {
            q.in_ring = false;
            return Turn::Skipped { more: false };
        };
        let more = !q.urls.is_empty();
        q.in_ring = more;
        st.queued -= 1;
        let referrer = st.referrers.release(referrer);
        let Ok(url) = Url::parse(&format!("{origin}{path}")) else {
            // Stored strings come from parsed URLs; an entry that
            // fails to parse again is dropped rather than leased.
            return Turn::Skipped { more };
        };
        st.leased += 1;
        st.budget_used += 1;
        st.next_lease += 1;
        let (depth, kind) = unpack_depth(depth);
        let lease = Lease {
            url,
            kind,
            origin: origin.to_string(),
            depth,
            referrer,
            permit,
            id: LeaseId {
                origin: u32::try_from(idx).unwrap_or(u32::MAX),
                seq: st.next_lease,
            },
            memo: None,
        };
        Turn::Leased { lease, more }
    }
}

#[async_trait]
impl Frontier for MemoryFrontier {
    async fn push(&self, batch: Vec<Candidate>) -> Result<Vec<Admission>, FrontierError> {
        let mut st = self.lock();
        let out: Vec<Admission> = batch.into_iter().map(|c| self.admit(&mut st, c)).collect();
        drop(st);
        if out.contains(&Admission::Queued) {
            self.changed.notify_waiters();
        }
        Ok(out)
    }

    async fn lease(&self, gate: &dyn HostGate) -> Result<Option<Lease>, FrontierError> {
        wait_for_lease(&self.changed, || Ok(self.next(gate))).await
    }

    async fn complete(&self, lease: Lease, done: Done) -> Result<(), FrontierError> {
        {
            let mut st = self.lock();
            st.leased = st.leased.saturating_sub(1);
            if done == Done::NotFetched {
                st.budget_used = st.budget_used.saturating_sub(1);
            }
        }
        drop(lease);
        self.changed.notify_waiters();
        Ok(())
    }

    async fn drain(&self) -> Result<Vec<Candidate>, FrontierError> {
        let mut st = self.lock();
        let st = &mut *st;
        let mut out = Vec::with_capacity(usize::try_from(st.queued).unwrap_or(0));
        for q in &mut st.origins {
            while let Some((depth, referrer, path)) = q.urls.pop() {
                let referrer = st.referrers.release(referrer);
                if let Ok(url) = Url::parse(&format!("{}{path}", q.origin)) {
                    let (depth, kind) = unpack_depth(depth);
                    out.push(Candidate {
                        url,
                        kind,
                        depth,
                        referrer,
                    });
                }
            }
            q.in_ring = false;
        }
        st.ring.clear();
        st.queued = 0;
        Ok(out)
    }

    fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_waiters();
    }

    fn stats(&self) -> FrontierStats {
        let st = self.lock();
        FrontierStats {
            queued: st.queued,
            leased: st.leased,
            seen: st.seen.len() as u64,
            origins: st.origins.len() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryFrontier;
    use crate::frontier::Limits;
    use crate::frontier::behaviour::Fixture;

    fn make(limits: Limits) -> Fixture {
        Fixture::new(std::sync::Arc::new(MemoryFrontier::new(limits)))
    }

    crate::frontier::behaviour::tests!(make);
}
