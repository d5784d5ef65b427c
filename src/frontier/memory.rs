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
use std::time::Instant;

use async_trait::async_trait;
use tokio::sync::Notify;
use url::Url;

use super::packed::{PackedQueue, Referrers};
use super::{
    Admission, Candidate, Done, Frontier, FrontierError, FrontierStats, Lease, Limits, UrlKind,
    canon,
};
use crate::gate::{HostGate, Wait};

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

/// Depths above 2^31 are not reachable in practice; the top bit of the
/// stored depth marks a sitemap.
const SITEMAP_BIT: u32 = 1 << 31;

fn pack_depth(depth: u32, kind: UrlKind) -> u32 {
    let depth = depth.min(SITEMAP_BIT - 1);
    match kind {
        UrlKind::Page => depth,
        UrlKind::Sitemap => depth | SITEMAP_BIT,
    }
}

fn unpack_depth(packed: u32) -> (u32, UrlKind) {
    let kind = if packed & SITEMAP_BIT == 0 {
        UrlKind::Page
    } else {
        UrlKind::Sitemap
    };
    (packed & !SITEMAP_BIT, kind)
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
    closed: bool,
}

enum Next {
    Lease(Lease),
    Finished,
    /// Nothing is ready; wait for a change, or until this instant at the latest.
    Wait(Option<Instant>),
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
        if !st.seen.insert(fp) {
            return Admission::Duplicate;
        }
        if self.limits.max_depth.is_some_and(|max| c.depth > max) {
            return Admission::MaxDepth;
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
        if st.closed {
            return Next::Finished;
        }
        if self
            .limits
            .max_pages
            .is_some_and(|max| st.budget_used >= max)
        {
            // Leases in flight may still give their place back.
            return if st.leased == 0 {
                Next::Finished
            } else {
                Next::Wait(None)
            };
        }
        let mut earliest: Option<Instant> = None;
        for _ in 0..st.ring.len() {
            let Some(idx) = st.ring.pop_front() else {
                break;
            };
            let origin = st.origins[idx].origin.clone();
            match gate.try_start(&origin) {
                Ok(permit) => {
                    let q = &mut st.origins[idx];
                    let Some((depth, referrer, path)) = q.urls.pop() else {
                        q.in_ring = false;
                        continue;
                    };
                    if q.urls.is_empty() {
                        q.in_ring = false;
                    } else {
                        st.ring.push_back(idx);
                    }
                    st.queued -= 1;
                    let referrer = st.referrers.release(referrer);
                    let Ok(url) = Url::parse(&format!("{origin}{path}")) else {
                        // Stored strings come from parsed URLs; an entry that
                        // fails to parse again is dropped rather than leased.
                        continue;
                    };
                    st.leased += 1;
                    st.budget_used += 1;
                    let (depth, kind) = unpack_depth(depth);
                    return Next::Lease(Lease {
                        url,
                        kind,
                        origin: origin.to_string(),
                        depth,
                        referrer,
                        permit,
                    });
                }
                Err(wait) => {
                    st.ring.push_back(idx);
                    if let Wait::Until(t) = wait {
                        earliest = Some(earliest.map_or(t, |e| e.min(t)));
                    }
                }
            }
        }
        if st.queued == 0 && st.leased == 0 {
            Next::Finished
        } else {
            Next::Wait(earliest)
        }
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
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.next(gate) {
                Next::Lease(l) => return Ok(Some(l)),
                Next::Finished => return Ok(None),
                Next::Wait(Some(t)) => {
                    tokio::select! {
                        () = &mut notified => {}
                        () = tokio::time::sleep_until(t.into()) => {}
                    }
                }
                Next::Wait(None) => notified.await,
            }
        }
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
    use std::collections::HashMap;
    use std::time::Duration;

    use super::*;
    use crate::gate::HostPermit;

    /// Lets each origin have at most `cap` leases out; `blocked` origins wait.
    struct CapGate {
        cap: usize,
        blocked: Vec<String>,
        out: Arc<Mutex<HashMap<String, usize>>>,
    }

    struct Slot(String, Arc<Mutex<HashMap<String, usize>>>);
    impl Drop for Slot {
        fn drop(&mut self) {
            if let Ok(mut m) = self.1.lock()
                && let Some(n) = m.get_mut(&self.0)
            {
                *n -= 1;
            }
        }
    }

    impl HostGate for CapGate {
        fn try_start(&self, origin: &str) -> Result<HostPermit, Wait> {
            if self.blocked.iter().any(|b| b == origin) {
                return Err(Wait::Until(Instant::now() + Duration::from_secs(3600)));
            }
            let mut m = self.out.lock().expect("lock");
            let n = m.entry(origin.to_string()).or_default();
            if *n >= self.cap {
                return Err(Wait::Busy);
            }
            *n += 1;
            Ok(HostPermit::new(Slot(origin.to_string(), self.out.clone())))
        }
    }

    fn gate(cap: usize, blocked: &[&str]) -> CapGate {
        CapGate {
            cap,
            blocked: blocked.iter().map(|s| s.to_string()).collect(),
            out: Arc::default(),
        }
    }

    fn cand(s: &str, depth: u32) -> Candidate {
        Candidate {
            url: Url::parse(s).expect("test URL"),
            kind: UrlKind::Page,
            depth,
            referrer: None,
        }
    }

    fn unlimited() -> Limits {
        Limits {
            max_pages: None,
            max_depth: None,
        }
    }

    #[tokio::test]
    async fn duplicates_and_depth_are_reported_per_candidate() {
        let f = MemoryFrontier::new(Limits {
            max_pages: None,
            max_depth: Some(1),
        });
        let got = f
            .push(vec![
                cand("http://a/1", 0),
                cand("http://a/1", 0),
                cand("http://a/2", 2),
                cand("http://a/3", 1),
            ])
            .await
            .expect("push");
        use Admission::*;
        assert_eq!(got, vec![Queued, Duplicate, MaxDepth, Queued]);
        assert_eq!(f.stats().queued, 2);
    }

    #[tokio::test]
    async fn max_pages_counts_fetches_and_unfetched_leases_give_back() {
        let f = MemoryFrontier::new(Limits {
            max_pages: Some(2),
            max_depth: None,
        });
        let urls = ["http://a/1", "http://a/2", "http://a/3", "http://a/4"];
        f.push(urls.iter().map(|u| cand(u, 0)).collect())
            .await
            .expect("push");
        let g = gate(8, &[]);
        let first = f.lease(&g).await.expect("lease").expect("some");
        f.complete(first, Done::NotFetched).await.expect("complete");
        for _ in 0..2 {
            let l = f.lease(&g).await.expect("lease").expect("budget left");
            f.complete(l, Done::Fetched).await.expect("complete");
        }
        assert!(
            f.lease(&g).await.expect("lease").is_none(),
            "two fetched: done"
        );
        let left = f.drain().await.expect("drain");
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].url.as_str(), "http://a/4");
        assert_eq!(f.stats().queued, 0);
    }

    #[tokio::test]
    async fn a_blocked_origin_does_not_hold_up_others() {
        let f = MemoryFrontier::new(unlimited());
        f.push(vec![
            cand("http://slow/1", 0),
            cand("http://slow/2", 0),
            cand("http://fast/1", 0),
        ])
        .await
        .expect("push");
        let g = gate(8, &["http://slow:80"]);
        let l = f.lease(&g).await.expect("lease").expect("some");
        assert_eq!(l.url.as_str(), "http://fast/1");
    }

    #[tokio::test]
    async fn per_origin_cap_then_release_on_complete() {
        let f = MemoryFrontier::new(unlimited());
        f.push(vec![cand("http://a/1", 0), cand("http://a/2", 0)])
            .await
            .expect("push");
        let g = gate(1, &[]);
        let first = f.lease(&g).await.expect("lease").expect("some");
        // The second lease must wait for the first to complete.
        let waiting = tokio::time::timeout(Duration::from_millis(50), f.lease(&g)).await;
        assert!(waiting.is_err(), "second lease handed out over the cap");
        f.complete(first, Done::Fetched).await.expect("complete");
        let second = f.lease(&g).await.expect("lease").expect("some");
        assert_eq!(second.url.as_str(), "http://a/2");
        f.complete(second, Done::Fetched).await.expect("complete");
        assert!(
            f.lease(&g).await.expect("lease").is_none(),
            "crawl should be over"
        );
    }

    #[tokio::test]
    async fn kind_and_depth_survive_the_queue() {
        let f = MemoryFrontier::new(unlimited());
        let mut sitemap = cand("http://a/sitemap.xml", 7);
        sitemap.kind = UrlKind::Sitemap;
        f.push(vec![sitemap, cand("http://a/page", 3)])
            .await
            .expect("push");
        let g = gate(8, &[]);
        let first = f.lease(&g).await.expect("lease").expect("some");
        assert_eq!((first.kind, first.depth), (UrlKind::Sitemap, 7));
        let second = f.lease(&g).await.expect("lease").expect("some");
        assert_eq!((second.kind, second.depth), (UrlKind::Page, 3));
    }

    #[tokio::test]
    async fn close_ends_waiting_leases() {
        let f = Arc::new(MemoryFrontier::new(unlimited()));
        f.push(vec![cand("http://a/1", 0)]).await.expect("push");
        let g = Arc::new(gate(8, &["http://a:80"]));
        let (f2, g2) = (f.clone(), g.clone());
        let waiter = tokio::spawn(async move { f2.lease(g2.as_ref()).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        f.close();
        let got = tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .expect("lease returned")
            .expect("task")
            .expect("lease");
        assert!(got.is_none());
    }
}
