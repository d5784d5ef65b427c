//! The on-disk frontier: what a resumable crawl (`--state DIR`) runs on.
//! Queues, seen fingerprints, page count and the output positions live in
//! one SQLite file (`store.rs`; `benches/store.rs` chose it), so memory
//! stays bounded however many URLs are queued: in memory are only the
//! origin index, a few read-ahead entries per origin and the counters.
//!
//! Durability. [`Frontier::push`] writes in transactions that are not
//! synced on their own; [`Frontier::commit`] deletes the done leases and
//! stores the output positions in one fsync'd transaction, which makes
//! every push before it durable too. After a power cut the store is as of
//! the last commit or later, after `kill -9` as of the last push; either
//! way every lease not committed is still queued (a queued entry is only
//! deleted by the commit that marks it done), every committed one is gone,
//! and the positions say where the output was at that commit. A URL pushed
//! after it belongs to a page not committed, which is fetched again and
//! finds it a duplicate.
//!
//! How a crawl runs on it:
//!
//! 1. [`DiskFrontier::open`] with the state directory and an identity (a
//!    hash of seeds and scope); a state of other seeds is refused.
//! 2. Cut each output file back to its length in [`Resume::positions`]
//!    (records past it belong to leases not committed, fetched again now).
//! 3. Push the seeds as always: those already seen are duplicates.
//! 4. Lease, fetch, push links, complete as with any frontier; the sink
//!    writes each record with its [`Lease::id`], and every N records it
//!    flushes (and fsyncs, against power loss) the outputs and calls
//!    [`Frontier::commit`] with those ids and the new file lengths.
//!
//! A kill then fetches again at most the leases not committed: those in
//! flight, plus the records queued for the sink, plus fewer than N written.
//!
//! A lease that has to read ahead waits while a commit syncs (a few ms);
//! pushes do too. [`Frontier::drain`] leaves the URLs in the store.
//!
//! Depth is the shortest path found: a URL refused only for its depth is
//! admitted when a shorter path reaches it (as in the in-memory frontier),
//! and a queued URL reached by a shorter path takes the shorter depth (the
//! in-memory frontier keeps the depth it was queued with).

mod store;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use tokio::sync::Notify;
use url::Url;

use super::lease::{Next, Turn, idle, stopped, wait_for_lease, walk_ring};
use super::packed::{pack_depth, unpack_depth, with_depth};
use super::{
    Ack, Admission, Candidate, Done, Frontier, FrontierError, FrontierStats, Lease, LeaseId,
    Limits, UrlKind, canon,
};
use crate::gate::HostGate;
use store::{At, NO_REFERRER, Queued, Store};

/// Entries read from disk at once for an origin about to be leased from.
const READ_AHEAD: usize = 8;

/// The name of the store in the state directory.
pub const STATE_FILE: &str = "frontier.sqlite";

/// What a resumed crawl needs from the last run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resume {
    /// The positions stored by the last commit; `None` for a new state.
    pub positions: Option<Vec<u8>>,
    /// URLs queued, including those leased but not committed by the last run.
    pub queued: u64,
    /// Leases committed as [`Done::Fetched`] so far: they count against `max_pages`.
    pub fetched: u64,
}

struct OriginQueue {
    name: Arc<str>,
    /// The next sequence number to give a pushed URL.
    tail: u64,
    /// The next sequence number to read from disk.
    cursor: u64,
    read_ahead: VecDeque<Queued>,
    in_ring: bool,
}

impl OriginQueue {
    fn new(name: Arc<str>, head: u64, tail: u64) -> Self {
        Self {
            name,
            tail,
            cursor: head,
            read_ahead: VecDeque::new(),
            in_ring: head < tail,
        }
    }

    fn has_queued(&self) -> bool {
        !self.read_ahead.is_empty() || self.cursor < self.tail
    }
}

#[derive(Default)]
struct State {
    origins: Vec<OriginQueue>,
    index: HashMap<Arc<str>, u32>,
    ring: VecDeque<u32>,
    queued: u64,
    leased: u64,
    seen: u64,
    budget_used: u64,
    next_referrer: u64,
    /// The referrer of the last link queued, and its id: a page's links
    /// share one.
    last_referrer: Option<(Arc<str>, u64)>,
    closed: bool,
    /// A recrawl: each lease carries its page's memo from the last run.
    recrawl: bool,
    /// A store error leaves memory and disk out of step: every later call fails.
    failed: Option<String>,
}

/// Locks are taken state first, then store; a commit takes the store alone.
struct Inner {
    path: PathBuf,
    store: Mutex<Store>,
    limits: Limits,
    state: Mutex<State>,
    changed: Notify,
}

pub struct DiskFrontier {
    inner: Arc<Inner>,
}

impl DiskFrontier {
    /// Opens the state in `dir` (created if missing), or refuses it if it
    /// was made for another `identity` (a hash of seeds and scope, chosen by
    /// the caller). Whatever the last run leased but did not commit is
    /// queued again.
    pub fn open(
        dir: &Path,
        identity: &[u8],
        limits: Limits,
    ) -> Result<(Self, Resume), FrontierError> {
        std::fs::create_dir_all(dir).at(dir, "creating the state directory")?;
        let path = dir.join(STATE_FILE);
        let (store, loaded) = Store::open(&path, identity)?;
        Self::loaded(path, store, loaded, limits)
    }

    /// Starts a recrawl of the complete crawl this state holds: every page
    /// its runs fetched with content is queued again, and each lease of
    /// this run (and of its resumed runs) carries the page's [`Memo`]
    /// (`memo.rs`) for a conditional request. Call it before any push.
    ///
    /// [`Memo`]: super::Memo
    pub fn recrawl(self) -> Result<(Self, Resume), FrontierError> {
        let Inner {
            path,
            store,
            limits,
            ..
        } = Arc::try_unwrap(self.inner)
            .map_err(|_| FrontierError::Store("internal: a recrawl of a state in use".into()))?;
        let mut store = store.into_inner().unwrap_or_else(|e| e.into_inner());
        let loaded = store.begin_recrawl()?;
        Self::loaded(path, store, loaded, limits)
    }

    fn loaded(
        path: PathBuf,
        store: Store,
        loaded: store::Loaded,
        limits: Limits,
    ) -> Result<(Self, Resume), FrontierError> {
        let mut st = State {
            queued: loaded.queued,
            seen: loaded.seen,
            budget_used: loaded.fetched,
            next_referrer: loaded.next_referrer,
            recrawl: loaded.recrawl,
            ..State::default()
        };
        for (id, name, head, tail) in loaded.origins {
            let name: Arc<str> = name.into();
            if usize::try_from(id).ok() != Some(st.origins.len()) {
                return Err(store::corrupt(&path, "reading origins", "ids have gaps"));
            }
            st.index.insert(name.clone(), id);
            let q = OriginQueue::new(name, head, tail);
            if q.in_ring {
                st.ring.push_back(id);
            }
            st.origins.push(q);
        }
        let resume = Resume {
            positions: loaded.positions,
            queued: loaded.queued,
            fetched: loaded.fetched,
        };
        let inner = Inner {
            path,
            store: Mutex::new(store),
            limits,
            state: Mutex::new(st),
            changed: Notify::new(),
        };
        Ok((
            Self {
                inner: Arc::new(inner),
            },
            resume,
        ))
    }

    /// The store file, for messages.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A panic while holding the store leaves at most a transaction rolled back.
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check(st: &State) -> Result<(), FrontierError> {
        match &st.failed {
            Some(e) => Err(FrontierError::Store(e.clone())),
            None => Ok(()),
        }
    }

    /// Runs a store step; an error poisons the frontier.
    fn guard<T>(
        st: &mut State,
        step: impl FnOnce(&mut State) -> Result<T, FrontierError>,
    ) -> Result<T, FrontierError> {
        Self::check(st)?;
        step(st).inspect_err(|e| st.failed = Some(e.to_string()))
    }

    fn push(&self, batch: Vec<Candidate>) -> Result<Vec<Admission>, FrontierError> {
        let mut st = self.lock();
        Self::guard(&mut st, |st| {
            self.store()
                .write(|w| batch.into_iter().map(|c| self.admit(st, w, c)).collect())
        })
    }

    fn admit(
        &self,
        st: &mut State,
        w: &mut store::Writer<'_>,
        c: Candidate,
    ) -> Result<Admission, FrontierError> {
        let fp = canon::fingerprint(&c.url);
        let too_deep = self.limits.max_depth.is_some_and(|max| c.depth > max);
        match (w.seen(fp)?, too_deep) {
            (Some(seen), _) if seen.queued.is_some() => {
                if let Some(key) = seen.queued
                    && c.depth < seen.depth
                {
                    self.lower_depth(st, w, fp, key, c.depth)?;
                }
                return Ok(Admission::Duplicate);
            }
            (Some(_), true) => return Ok(Admission::MaxDepth),
            (None, true) => {
                w.set_seen(fp, c.depth, None)?;
                st.seen += 1;
                return Ok(Admission::MaxDepth);
            }
            (before, false) => st.seen += u64::from(before.is_none()),
        }
        let origin = crate::politeness::origin_key(&c.url);
        let id = match st.index.get(origin.as_str()) {
            Some(&id) => id,
            None => {
                let id = u32::try_from(st.origins.len())
                    .map_err(|_| store::corrupt(&self.path, "queueing URLs", "too many origins"))?;
                w.add_origin(id, &origin)?;
                let name: Arc<str> = origin.into();
                st.index.insert(name.clone(), id);
                st.origins.push(OriginQueue::new(name, 0, 0));
                id
            }
        };
        let referrer = match &c.referrer {
            None => NO_REFERRER,
            Some(r) => match &st.last_referrer {
                Some((last, id)) if Arc::ptr_eq(r, last) => *id,
                _ => {
                    let id = st.next_referrer;
                    st.next_referrer += 1;
                    w.add_referrer(id, r)?;
                    st.last_referrer = Some((r.clone(), id));
                    id
                }
            },
        };
        let q = &mut st.origins[id as usize];
        let path = &c.url[url::Position::BeforePath..];
        w.enqueue((id, q.tail), pack_depth(c.depth, c.kind), referrer, path)?;
        w.set_seen(fp, c.depth, Some((id, q.tail)))?;
        q.tail += 1;
        st.queued += 1;
        if !q.in_ring {
            q.in_ring = true;
            st.ring.push_back(id);
        }
        Ok(Admission::Queued)
    }

    /// A shorter path reached a URL queued (or leased) earlier: it keeps
    /// its place and takes the new depth, on disk and in the read-ahead.
    /// A lease already out keeps its depth; a crash re-queues it at the new one.
    fn lower_depth(
        &self,
        st: &mut State,
        w: &mut store::Writer<'_>,
        fp: u64,
        key: (u32, u64),
        depth: u32,
    ) -> Result<(), FrontierError> {
        w.set_seen(fp, depth, Some(key))?;
        w.lower_depth(key, depth)?;
        let read_ahead = st
            .origins
            .get_mut(key.0 as usize)
            .map(|q| &mut q.read_ahead);
        if let Some(e) = read_ahead.and_then(|r| r.iter_mut().find(|e| e.seq == key.1)) {
            e.depth = with_depth(e.depth, depth);
        }
        Ok(())
    }

    /// The next entry of origin `id`, reading ahead from disk when needed.
    fn pop(&self, st: &mut State, id: u32) -> Result<Option<Queued>, FrontierError> {
        let q = &mut st.origins[id as usize];
        if q.read_ahead.is_empty() && q.cursor < q.tail {
            let read = self.store().read(id, q.cursor, READ_AHEAD)?;
            q.cursor = match read.last() {
                Some(last) if read.len() == READ_AHEAD => last.seq + 1,
                _ => q.tail,
            };
            q.read_ahead.extend(read);
        }
        Ok(q.read_ahead.pop_front())
    }

    fn next(&self, gate: &dyn HostGate) -> Result<Next, FrontierError> {
        let mut st = self.lock();
        Self::guard(&mut st, |st| {
            if let Some(stop) = stopped(st.closed, self.limits, st.budget_used, st.leased) {
                return Ok(stop);
            }
            let mut ring = std::mem::take(&mut st.ring);
            let walked = walk_ring(&mut ring, |id| self.turn(st, gate, id));
            st.ring = ring;
            Ok(match walked? {
                Ok(lease) => Next::Lease(lease),
                Err(earliest) => idle(st.queued, st.leased, earliest),
            })
        })
    }

    fn turn(&self, st: &mut State, gate: &dyn HostGate, id: u32) -> Result<Turn, FrontierError> {
        let origin = st.origins[id as usize].name.clone();
        let permit = match gate.try_start(&origin) {
            Ok(permit) => permit,
            Err(wait) => return Ok(Turn::NotReady(wait)),
        };
        let popped = self.pop(st, id)?;
        let q = &mut st.origins[id as usize];
        let more = q.has_queued();
        q.in_ring = more;
        let Some(entry) = popped else {
            return Ok(Turn::Skipped { more });
        };
        st.queued = st.queued.saturating_sub(1);
        let Ok(url) = Url::parse(&format!("{origin}{}", entry.path)) else {
            // Stored paths come from parsed URLs; one that fails to parse
            // again is dropped rather than leased.
            return Ok(Turn::Skipped { more });
        };
        st.leased += 1;
        st.budget_used += 1;
        let (depth, kind) = unpack_depth(entry.depth);
        let memo = match st.recrawl && kind == UrlKind::Page {
            true => self.store().memo(canon::fingerprint(&url))?.map(Box::new),
            false => None,
        };
        let lease = Lease {
            url,
            kind,
            origin: origin.to_string(),
            depth,
            referrer: entry.referrer,
            permit,
            id: LeaseId {
                origin: id,
                seq: entry.seq,
            },
            memo,
        };
        Ok(Turn::Leased { lease, more })
    }

    fn drain(&self) -> Result<Vec<Candidate>, FrontierError> {
        let mut st = self.lock();
        Self::guard(&mut st, |st| {
            let mut out = Vec::new();
            for (i, id) in (0..st.origins.len()).zip(0u32..) {
                while let Some(entry) = self.pop(st, id)? {
                    let origin = &st.origins[i].name;
                    if let Ok(url) = Url::parse(&format!("{origin}{}", entry.path)) {
                        let (depth, kind) = unpack_depth(entry.depth);
                        out.push(Candidate {
                            url,
                            kind,
                            depth,
                            referrer: entry.referrer,
                        });
                    }
                }
                st.origins[i].in_ring = false;
            }
            st.ring.clear();
            st.queued = 0;
            Ok(out)
        })
    }

    fn commit(&self, acks: &[Ack], positions: &[u8]) -> Result<(), FrontierError> {
        Self::check(&self.lock())?;
        let keys: Vec<store::Done<'_>> = acks
            .iter()
            .map(|a| store::Done {
                key: (a.id.origin, a.id.seq),
                fetched: a.done == Done::Fetched,
                page: a.page.as_ref(),
            })
            .collect();
        // Not under the state lock: leases from read-ahead go on during the fsync.
        let committed = self.store().commit(&keys, positions);
        let mut st = self.lock();
        Self::guard(&mut st, |_| committed)
    }
}

/// Runs blocking store work off the async threads: a commit waits for an fsync.
async fn blocking<T: Send + 'static>(
    inner: &Arc<Inner>,
    work: impl FnOnce(&Inner) -> Result<T, FrontierError> + Send + 'static,
) -> Result<T, FrontierError> {
    let inner = inner.clone();
    tokio::task::spawn_blocking(move || work(&inner))
        .await
        .map_err(|e| FrontierError::Store(format!("a store task failed: {e}")))?
}

#[async_trait]
impl Frontier for DiskFrontier {
    async fn push(&self, batch: Vec<Candidate>) -> Result<Vec<Admission>, FrontierError> {
        let out = blocking(&self.inner, move |inner| inner.push(batch)).await?;
        if out.contains(&Admission::Queued) {
            self.inner.changed.notify_waiters();
        }
        Ok(out)
    }

    async fn lease(&self, gate: &dyn HostGate) -> Result<Option<Lease>, FrontierError> {
        wait_for_lease(&self.inner.changed, || self.inner.next(gate)).await
    }

    async fn complete(&self, lease: Lease, done: Done) -> Result<(), FrontierError> {
        {
            let mut st = self.inner.lock();
            st.leased = st.leased.saturating_sub(1);
            if done == Done::NotFetched {
                st.budget_used = st.budget_used.saturating_sub(1);
            }
        }
        drop(lease);
        self.inner.changed.notify_waiters();
        Ok(())
    }

    async fn commit(&self, acks: Vec<Ack>, positions: &[u8]) -> Result<(), FrontierError> {
        let positions = positions.to_vec();
        blocking(&self.inner, move |inner| inner.commit(&acks, &positions)).await
    }

    fn wants_pages(&self) -> bool {
        true
    }

    /// Hands out the URLs still queued and leases none of them in this run,
    /// but leaves them in the store: a resumed crawl gets them back.
    async fn drain(&self) -> Result<Vec<Candidate>, FrontierError> {
        blocking(&self.inner, |inner| inner.drain()).await
    }

    fn close(&self) {
        self.inner.lock().closed = true;
        self.inner.changed.notify_waiters();
    }

    fn stats(&self) -> FrontierStats {
        let st = self.inner.lock();
        FrontierStats {
            queued: st.queued,
            leased: st.leased,
            seen: st.seen,
            origins: st.origins.len() as u64,
        }
    }
}
