//! Reading a shared job from outside the crawl: its counts, origins and
//! workers (`collector status`), and the records its workers acknowledged
//! (`collector export`), in the order they were committed.

use std::collections::BTreeMap;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::conn::Conn;
use super::{check_job_name, prefix};
use crate::frontier::FrontierError;

/// One origin of the job.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct OriginStatus {
    pub origin: String,
    pub queued: u64,
    pub in_flight: i64,
    pub done: u64,
    pub failed: u64,
}

/// One worker that joined the job and has not left.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct WorkerStatus {
    pub worker: String,
    /// Seconds since its last heartbeat.
    pub last_seen_s: f64,
    /// Its heartbeat is recent enough that its leases are alive.
    pub live: bool,
}

/// What `collector status` prints.
#[derive(Clone, Debug, Serialize)]
pub struct JobStatus {
    pub job: String,
    pub redis: String,
    /// The first worker has queued its seeds.
    pub begun: bool,
    /// Begun, nothing queued and nothing leased: every worker ends.
    pub finished: bool,
    pub queued: u64,
    pub leased: u64,
    /// Pages acknowledged with their records (the export holds these).
    pub done: u64,
    /// Of those, pages that failed (connection errors, 5xx, ...).
    pub failed: u64,
    /// Distinct URLs seen (queued, leased or done, or refused as too deep).
    pub seen: u64,
    /// Leases that expired (their worker died) and went back to the queue.
    pub reclaimed: u64,
    /// Acknowledgements that came after their lease had expired (dropped).
    pub stale: u64,
    /// Records in the job's stream.
    pub records: u64,
    /// Memory Redis uses for the seen set, in bytes, and per URL.
    pub seen_bytes: u64,
    pub seen_bytes_per_url: f64,
    pub origins: Vec<OriginStatus>,
    pub workers: Vec<WorkerStatus>,
}

/// A read-only view of one job's keys.
pub struct JobView {
    conn: Conn,
    prefix: String,
    job: String,
}

impl JobView {
    pub async fn open(url: &str, job: &str) -> Result<Self, String> {
        check_job_name(job)?;
        let conn = Conn::open(url, CancellationToken::new()).await?;
        Ok(Self {
            conn,
            prefix: prefix(job),
            job: job.to_string(),
        })
    }

    pub fn shown(&self) -> &str {
        &self.conn.shown
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    async fn query<T: ::redis::FromRedisValue + Send>(
        &self,
        what: &str,
        cmd: ::redis::Cmd,
    ) -> Result<T, FrontierError> {
        self.conn
            .call(what, |mut m| {
                let cmd = cmd.clone();
                async move { cmd.query_async(&mut m).await }
            })
            .await
    }

    pub async fn status(&self) -> Result<JobStatus, FrontierError> {
        let counts: BTreeMap<String, i64> = self
            .query("reading counts", ::redis::Cmd::hgetall(self.key("n")))
            .await?;
        let count = |k: &str| counts.get(k).copied().unwrap_or(0).max(0) as u64;
        let begun: bool = self
            .query(
                "reading the job",
                ::redis::Cmd::exists(self.key("identity")),
            )
            .await?;
        let leased: u64 = self
            .query("reading leases", ::redis::Cmd::zcard(self.key("leases")))
            .await?;
        let seen: u64 = self
            .query(
                "reading the seen set",
                ::redis::Cmd::scard(self.key("seen")),
            )
            .await?;
        let records: u64 = self
            .query(
                "reading the records",
                ::redis::Cmd::xlen(self.key("records")),
            )
            .await?;
        let mut usage = ::redis::cmd("MEMORY");
        usage
            .arg("USAGE")
            .arg(self.key("seen"))
            .arg("SAMPLES")
            .arg(0);
        let seen_bytes: Option<u64> = self.query("measuring the seen set", usage).await?;
        let seen_bytes = seen_bytes.unwrap_or(0);
        let origins = self.origins().await?;
        let workers = self.workers().await?;
        let queued = count("queued");
        Ok(JobStatus {
            job: self.job.clone(),
            redis: self.conn.shown.clone(),
            begun,
            finished: begun && queued == 0 && leased == 0,
            queued,
            leased,
            done: count("done"),
            failed: count("failed"),
            seen,
            reclaimed: count("reclaimed"),
            stale: count("stale"),
            records,
            seen_bytes,
            seen_bytes_per_url: if seen == 0 {
                0.0
            } else {
                seen_bytes as f64 / seen as f64
            },
            origins,
            workers,
        })
    }

    async fn origins(&self) -> Result<Vec<OriginStatus>, FrontierError> {
        let hash = |name: &str| ::redis::Cmd::hgetall(self.key(name));
        let done: BTreeMap<String, u64> = self.query("reading origins", hash("done")).await?;
        let failed: BTreeMap<String, u64> = self.query("reading origins", hash("failed")).await?;
        let in_flight: BTreeMap<String, i64> =
            self.query("reading origins", hash("inflight")).await?;
        let ready: Vec<String> = self
            .query(
                "reading origins",
                ::redis::Cmd::zrange(self.key("ready"), 0, -1),
            )
            .await?;
        let mut names: Vec<&String> = done.keys().chain(in_flight.keys()).chain(&ready).collect();
        names.sort();
        names.dedup();
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let queued: u64 = self
                .query(
                    "reading origins",
                    ::redis::Cmd::llen(self.key(&format!("q:{name}"))),
                )
                .await?;
            out.push(OriginStatus {
                origin: name.clone(),
                queued,
                in_flight: in_flight.get(name).copied().unwrap_or(0),
                done: done.get(name).copied().unwrap_or(0),
                failed: failed.get(name).copied().unwrap_or(0),
            });
        }
        Ok(out)
    }

    async fn workers(&self) -> Result<Vec<WorkerStatus>, FrontierError> {
        let (secs, micros): (u64, u64) =
            self.query("reading the time", ::redis::cmd("TIME")).await?;
        let now = secs * 1000 + micros / 1000;
        let beats: Vec<(String, f64)> = self
            .query(
                "reading workers",
                ::redis::Cmd::zrange_withscores(self.key("workers"), 0, -1),
            )
            .await?;
        let leases: BTreeMap<String, u64> = self
            .query(
                "reading workers",
                ::redis::Cmd::hgetall(self.key("lease_ms")),
            )
            .await?;
        Ok(beats
            .into_iter()
            .map(|(worker, at)| {
                let ago = now.saturating_sub(at as u64);
                let lease = leases.get(&worker).copied().unwrap_or(30_000);
                WorkerStatus {
                    live: ago <= lease,
                    last_seen_s: ago as f64 / 1000.0,
                    worker,
                }
            })
            .collect())
    }

    /// Up to `count` records committed after stream id `after` (`None`:
    /// from the first), with the id of the last one read.
    pub async fn records_after(
        &self,
        after: Option<&str>,
        count: usize,
    ) -> Result<(Vec<Vec<u8>>, Option<String>), FrontierError> {
        let start = after.map_or_else(|| "-".to_string(), |id| format!("({id}"));
        let reply: ::redis::streams::StreamRangeReply = self
            .query(
                "reading records",
                ::redis::Cmd::xrange_count(self.key("records"), start, "+", count),
            )
            .await?;
        let last = reply.ids.last().map(|e| e.id.clone());
        let mut records = Vec::with_capacity(reply.ids.len());
        for entry in reply.ids {
            match entry.map.get("r") {
                Some(::redis::Value::BulkString(b)) => records.push(b.clone()),
                _ => {
                    return Err(FrontierError::Store(format!(
                        "record {} in {}records has no `r` field",
                        entry.id, self.prefix
                    )));
                }
            }
        }
        Ok((records, last))
    }
}
