//! The frontier shared by several workers: `--frontier redis://HOST:PORT/DB
//! --job NAME`. Every worker of a job runs the same pipeline on this
//! store; none of them holds state another needs.
//!
//! Everything lives in Redis under `collector:{JOB}:` and every step that
//! touches more than one key is one Lua script (`*.lua` beside this file),
//! so it is atomic whatever the other workers do:
//!
//! - `seen`, a set of 8-byte URL fingerprints; `q:ORIGIN`, one list of
//!   queued URLs per origin; `ready`, the origins with queued URLs, scored
//!   by the earliest time their next request may start (`push.lua`).
//! - A lease (`lease.lua`) takes the first URL of an origin that may start
//!   now and holds it under the worker's name with a deadline that the
//!   worker's heartbeat moves on (`beat.lua`). A lease whose deadline
//!   passes (its worker died) goes back to its queue, for any worker.
//! - Politeness holds across workers per origin: the next start is spaced
//!   by the rate's interval (or Crawl-delay) from the last start, a
//!   429/503 back-off holds the origin back for everyone (`wait.lua`), and
//!   an origin with `per_host` requests in flight gets no more until one
//!   ends (`release.lua`).
//! - robots.txt is fetched once per job: the first worker to need an
//!   origin's file claims it, fetches it and stores the answer; the others
//!   wait for it (`Robots`).
//! - A lease is done only with its record: `ack.lua` marks a batch of
//!   leases done and appends their records to the job's stream (`records`)
//!   in one step, so `collector export` sees each done page exactly once.
//!   A late acknowledgement of a lease that expired and went back to the
//!   queue is dropped with its record; whoever leases it again writes it.
//!
//! Redis commands per page: one push (of all its links), one lease, one
//! release (batched with others), and an acknowledgement per batch of
//! records. Run Redis with `appendonly yes` for a crawl that survives a
//! restart of the server.

mod conn;
pub mod inspect;
mod robots;
mod upkeep;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use redis::Value;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::packed::{pack_depth, unpack_depth};
use super::{
    Ack, Admission, Candidate, Done, Frontier, FrontierError, FrontierStats, Lease, LeaseId,
    Limits, canon,
};
use crate::gate::{HostGate, OriginShare, Wait};
use crate::politeness::RobotsStore;
pub use conn::shown;
use conn::{Conn, Scripts};
use robots::Robots;
use upkeep::{Share, Upkeep, UpkeepCtx, upkeep};

/// Fingerprints a worker remembers of what it pushed: links it has sent to
/// Redis once are duplicates without asking again (most links of a page
/// are). Bounded, about 16 MiB; beyond it, Redis alone decides.
const KNOWN_MAX: usize = 1 << 20;

/// Origins a lease looks at before it says "nothing ready".
const SCAN: usize = 64;
/// The longest a worker waits before asking Redis again when nothing was
/// ready (another worker may have freed a slot or queued URLs).
const POLL: Duration = Duration::from_millis(100);

/// What names a worker's place in a shared job.
#[derive(Clone, Debug)]
pub struct SharedJob {
    /// `redis://[user:password@]host:port/db`.
    pub url: String,
    /// The job's name: its keys are `collector:{NAME}:...`.
    pub job: String,
    /// This worker's name, unique among the job's live workers.
    pub worker: String,
    /// How long a lease lives without a heartbeat (`--lease SECS`).
    pub lease: Duration,
}

impl SharedJob {
    /// The job's key prefix (a hash tag, so that a cluster keeps a job on one node).
    pub fn prefix(&self) -> String {
        prefix(&self.job)
    }
}

pub fn prefix(job: &str) -> String {
    format!("collector:{{{job}}}:")
}

/// A job name is a key part: letters, digits and `-_.` only.
pub fn check_job_name(job: &str) -> Result<(), String> {
    if job.is_empty()
        || job.len() > 100
        || !job
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(format!(
            "--job {job:?}: a job name is 1 to 100 letters, digits, '-', '_' or '.'"
        ));
    }
    Ok(())
}

pub struct RedisFrontier {
    conn: Conn,
    scripts: Arc<Scripts>,
    prefix: String,
    worker: String,
    lease_ms: u64,
    per_host: u32,
    interval_ms: u64,
    limits: Limits,
    tokens: AtomicU64,
    closed: AtomicBool,
    changed: Notify,
    stats: Mutex<FrontierStats>,
    /// Fingerprints this worker pushed: in the job's seen set for good.
    known: Mutex<std::collections::HashSet<u64>>,
    upkeep: mpsc::UnboundedSender<Upkeep>,
    stop_upkeep: CancellationToken,
    /// Fired by `close`: calls to an unreachable Redis give up after a while.
    stopping: CancellationToken,
}

impl RedisFrontier {
    /// Connects to the job's Redis and starts the worker's heartbeat.
    /// `Err` says why not (a bad URL, nothing listening): bad input.
    pub async fn connect(
        job: &SharedJob,
        limits: Limits,
        per_host: u32,
        rate: Option<f64>,
    ) -> Result<Arc<Self>, String> {
        check_job_name(&job.job)?;
        let stopping = CancellationToken::new();
        let conn = Conn::open(&job.url, stopping.clone()).await?;
        let scripts = Arc::new(Scripts::new());
        let prefix = job.prefix();
        let (tx, rx) = mpsc::unbounded_channel();
        let stop_upkeep = CancellationToken::new();
        let lease_ms = job.lease.as_millis().max(1000) as u64;
        let interval_ms = rate.map_or(0, |r| (1000.0 / r).ceil() as u64);
        let frontier = Arc::new(Self {
            conn: conn.clone(),
            scripts: scripts.clone(),
            prefix: prefix.clone(),
            worker: job.worker.clone(),
            lease_ms,
            per_host,
            interval_ms,
            limits,
            tokens: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            changed: Notify::new(),
            stats: Mutex::default(),
            known: Mutex::default(),
            upkeep: tx,
            stop_upkeep: stop_upkeep.clone(),
            stopping,
        });
        let ctx = UpkeepCtx {
            conn,
            stop: stop_upkeep,
            scripts,
            prefix,
            worker: job.worker.clone(),
            lease_ms,
            per_host,
            interval_ms,
        };
        tokio::spawn(upkeep(ctx, rx));
        Ok(frontier)
    }

    /// The job's scope as its first worker gave it, if it has begun.
    pub async fn job_identity(&self) -> Result<Option<String>, FrontierError> {
        let key = format!("{}identity", self.prefix);
        self.conn
            .call("reading the job", |mut m| {
                let key = key.clone();
                async move { ::redis::cmd("GET").arg(key).query_async(&mut m).await }
            })
            .await
    }

    /// Joins the job with this worker's scope (`identity`), which becomes
    /// the job's if it is the first; returns the job's, to compare. Hands
    /// back the leases an earlier process of this worker's name left.
    pub async fn join(&self, identity: &str) -> Result<String, FrontierError> {
        self.conn
            .call("joining the job", |mut m| {
                let mut inv = self.scripts.join.prepare_invoke();
                inv.key(&self.prefix)
                    .arg(&self.worker)
                    .arg(self.per_host)
                    .arg(identity);
                async move { inv.invoke_async(&mut m).await }
            })
            .await
    }

    /// The worker stops: what it still holds goes back to the queues, and
    /// it is no longer listed as live. Call it after the last commit.
    pub async fn leave(&self) -> Result<u64, FrontierError> {
        self.conn
            .call("leaving the job", |mut m| {
                let mut inv = self.scripts.leave.prepare_invoke();
                inv.key(&self.prefix).arg(&self.worker).arg(self.per_host);
                async move { inv.invoke_async(&mut m).await }
            })
            .await
    }

    /// Where this job's workers share their robots.txt answers.
    pub fn robots(&self) -> Arc<dyn RobotsStore> {
        Arc::new(Robots {
            conn: self.conn.clone(),
            prefix: self.prefix.clone(),
            worker: self.worker.clone(),
        })
    }

    /// What the workers of this job share of politeness: give it to the
    /// origin limiter, which then leaves pauses and Crawl-delay to Redis.
    pub fn share(self: &Arc<Self>) -> Arc<dyn OriginShare> {
        Arc::new(Share(self.upkeep.clone()))
    }

    fn set_stats(&self, queued: i64, leased: i64) {
        let mut s = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        s.queued = queued.max(0) as u64;
        s.leased = leased.max(0) as u64;
    }

    /// One call of `lease.lua`.
    async fn try_lease(&self) -> Result<(Reply, i64, i64), FrontierError> {
        let token = self.tokens.fetch_add(1, Ordering::Relaxed).to_string();
        let max_pages = self.limits.max_pages.map_or(-1, |m| m as i64);
        let values: Vec<Value> = self
            .conn
            .call("leasing", |mut m| {
                let mut inv = self.scripts.lease.prepare_invoke();
                inv.key(&self.prefix)
                    .arg(&self.worker)
                    .arg(self.lease_ms)
                    .arg(self.per_host)
                    .arg(self.interval_ms)
                    .arg(max_pages)
                    .arg(SCAN)
                    .arg(&token);
                async move { inv.invoke_async(&mut m).await }
            })
            .await?;
        Reply::parse(&values)
            .ok_or_else(|| FrontierError::Store(format!("unexpected reply to a lease: {values:?}")))
    }

    /// Hands a lease the local gate refused back to its queue.
    async fn give_back(&self, id: u64) -> Result<(), FrontierError> {
        self.conn
            .call("handing back a lease", |mut m| {
                let mut inv = self.scripts.giveback.prepare_invoke();
                inv.key(&self.prefix).arg(self.per_host).arg(id);
                async move { inv.invoke_async::<i64>(&mut m).await }
            })
            .await
            .map(drop)
    }

    async fn sleep(&self, wait: Duration) {
        let notified = self.changed.notified();
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep(wait.min(POLL)) => {}
        }
    }
}

impl Drop for RedisFrontier {
    fn drop(&mut self) {
        self.stop_upkeep.cancel();
    }
}

/// What `lease.lua` answered.
enum Reply {
    Leased {
        id: u64,
        origin: String,
        entry: Vec<u8>,
    },
    Wait(Duration),
    Over,
}

impl Reply {
    fn parse(v: &[Value]) -> Option<(Self, i64, i64)> {
        let int = |i: usize| match v.get(i) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        };
        let bytes = |i: usize| match v.get(i) {
            Some(Value::BulkString(b)) => Some(b.clone()),
            _ => None,
        };
        match int(0)? {
            1 => {
                let origin = String::from_utf8(bytes(2)?).ok()?;
                let reply = Self::Leased {
                    id: u64::try_from(int(1)?).ok()?,
                    origin,
                    entry: bytes(3)?,
                };
                Some((reply, int(4)?, int(5)?))
            }
            2 => {
                let wait = Duration::from_millis(u64::try_from(int(1)?).ok()?);
                Some((Self::Wait(wait), int(2)?, int(3)?))
            }
            _ => Some((Self::Over, int(2)?, int(3)?)),
        }
    }
}

/// A queued URL as stored: `DEPTH\nREFERRER\nURL` (an empty referrer for none).
fn entry(c: &Candidate) -> String {
    format!(
        "{}\n{}\n{}",
        pack_depth(c.depth, c.kind),
        c.referrer.as_deref().unwrap_or(""),
        c.url
    )
}

fn parse_entry(entry: &[u8]) -> Option<(u32, super::UrlKind, Option<Arc<str>>, Url)> {
    let s = std::str::from_utf8(entry).ok()?;
    let mut parts = s.splitn(3, '\n');
    let packed: u32 = parts.next()?.parse().ok()?;
    let referrer = parts.next()?;
    let url = Url::parse(parts.next()?).ok()?;
    let (depth, kind) = unpack_depth(packed);
    let referrer = (!referrer.is_empty()).then(|| Arc::from(referrer));
    Some((depth, kind, referrer, url))
}

#[async_trait]
impl Frontier for RedisFrontier {
    async fn push(&self, batch: Vec<Candidate>) -> Result<Vec<Admission>, FrontierError> {
        let mut out = vec![Admission::Duplicate; batch.len()];
        // (index in the batch, fingerprint, origin, entry) of what Redis decides.
        let mut ask: Vec<(usize, u64, String, String)> = Vec::with_capacity(batch.len());
        {
            let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
            let mut in_batch = std::collections::HashSet::with_capacity(batch.len());
            for (i, c) in batch.iter().enumerate() {
                let fp = canon::fingerprint(&c.url);
                if known.contains(&fp) || !in_batch.insert(fp) {
                    continue;
                }
                let origin = crate::politeness::origin_key(&c.url);
                let too_deep = self.limits.max_depth.is_some_and(|max| c.depth > max);
                ask.push((
                    i,
                    fp,
                    origin,
                    if too_deep { String::new() } else { entry(c) },
                ));
            }
        }
        if ask.is_empty() {
            return Ok(out);
        }
        let codes: Vec<i64> = self
            .conn
            .call("queueing links", |mut m| {
                let mut inv = self.scripts.push.prepare_invoke();
                inv.key(&self.prefix).arg(self.per_host);
                for (_, fp, origin, entry) in &ask {
                    inv.arg(fp.to_le_bytes().as_slice()).arg(origin).arg(entry);
                }
                async move { inv.invoke_async(&mut m).await }
            })
            .await?;
        if codes.len() != ask.len() {
            return Err(FrontierError::Store(format!(
                "a push of {} URLs was answered with {} admissions",
                ask.len(),
                codes.len()
            )));
        }
        {
            let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
            for ((i, fp, _, entry), code) in ask.iter().zip(&codes) {
                // A URL refused for its depth is not seen: a shorter path may come.
                if known.len() < KNOWN_MAX && !entry.is_empty() {
                    known.insert(*fp);
                }
                out[*i] = match code {
                    0 => Admission::Queued,
                    2 => Admission::MaxDepth,
                    _ => Admission::Duplicate,
                };
            }
        }
        if codes.contains(&0) {
            self.changed.notify_waiters();
        }
        Ok(out)
    }

    async fn lease(&self, gate: &dyn HostGate) -> Result<Option<Lease>, FrontierError> {
        loop {
            if self.closed.load(Ordering::Relaxed) {
                return Ok(None);
            }
            let (reply, queued, leased) = self.try_lease().await?;
            self.set_stats(queued, leased);
            match reply {
                Reply::Over => return Ok(None),
                Reply::Wait(wait) => self.sleep(wait).await,
                Reply::Leased { id, origin, entry } => {
                    let Some((depth, kind, referrer, url)) = parse_entry(&entry) else {
                        return Err(FrontierError::Store(format!(
                            "unreadable queue entry in {}q:{origin}",
                            self.prefix
                        )));
                    };
                    match gate.try_start(&origin) {
                        Ok(permit) => {
                            return Ok(Some(Lease {
                                url,
                                kind,
                                origin,
                                depth,
                                referrer,
                                permit,
                                id: LeaseId { origin: 0, seq: id },
                                memo: None,
                            }));
                        }
                        Err(wait) => {
                            self.give_back(id).await?;
                            let wait = match wait {
                                Wait::Busy => POLL,
                                Wait::Until(t) => {
                                    t.saturating_duration_since(std::time::Instant::now())
                                }
                            };
                            self.sleep(wait).await;
                        }
                    }
                }
            }
        }
    }

    async fn complete(&self, lease: Lease, _done: Done) -> Result<(), FrontierError> {
        let _ = self.upkeep.send(Upkeep::Release(lease.id.seq));
        drop(lease);
        self.changed.notify_waiters();
        Ok(())
    }

    fn wants_records(&self) -> bool {
        true
    }

    async fn commit(&self, acks: Vec<Ack>, _positions: &[u8]) -> Result<(), FrontierError> {
        if acks.is_empty() {
            return Ok(());
        }
        let _: Vec<i64> = self
            .conn
            .call("acknowledging pages", |mut m| {
                let mut inv = self.scripts.ack.prepare_invoke();
                inv.key(&self.prefix).arg(self.per_host);
                for a in &acks {
                    inv.arg(a.id.seq)
                        .arg(u8::from(a.done == Done::Fetched))
                        .arg(u8::from(a.failed))
                        .arg(a.record.as_deref().unwrap_or(&[]));
                }
                async move { inv.invoke_async(&mut m).await }
            })
            .await?;
        self.changed.notify_waiters();
        Ok(())
    }

    /// The URLs still queued stay in Redis, for the other workers and for
    /// later runs of the job.
    async fn drain(&self) -> Result<Vec<Candidate>, FrontierError> {
        Ok(Vec::new())
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.stopping.cancel();
        self.changed.notify_waiters();
    }

    fn stats(&self) -> FrontierStats {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }
}
