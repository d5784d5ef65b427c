//! The accept loop shared by the TCP servers (`tcp serve`, `daytime
//! serve`): one task per connection, a cap on open connections, one log
//! line per connection, and shutdown in two steps: stop accepting, then let
//! open connections finish until a deadline and cut the rest.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::log::{ConnectionEnd, ConnectionRecord, Proto, ServerEvent, ServerLog};

/// How long to wait after a failed `accept` (e.g. out of file descriptors)
/// before trying again, so the loop does not spin while the cause lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Connections cut at the deadline stop at their next await point; this
/// bounds the wait for them to report.
const CUT_GRACE: Duration = Duration::from_secs(1);

/// Limits every TCP server applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections served at once; more wait in the system's backlog.
    pub max_conns: usize,
    /// After shutdown, how long open connections may go on.
    pub shutdown_timeout: Duration,
}

/// Totals over a server's life, returned when it stops.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ServeStats {
    pub connections: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Connections still open at the shutdown deadline.
    pub cut_at_shutdown: u64,
}

impl ServeStats {
    pub(crate) fn add(&mut self, record: &ConnectionRecord) {
        self.connections += 1;
        self.bytes_in += record.bytes_in;
        self.bytes_out += record.bytes_out;
        if record.end == ConnectionEnd::Shutdown {
            self.cut_at_shutdown += 1;
        }
    }
}

/// Byte counts a connection handler updates as it goes, so that a
/// connection cut at shutdown is still logged with what it moved.
#[derive(Debug, Default)]
pub struct Traffic {
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

impl Traffic {
    pub fn received(&self, bytes: usize) {
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn sent(&self, bytes: usize) {
        self.bytes_out.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

/// Accepts until `shutdown`, running `handler` for each connection in its
/// own task; the handler says how the connection ended, this loop times
/// it, counts it and logs it.
pub async fn accept_loop<H, F>(
    listener: TcpListener,
    limits: ConnectionLimits,
    log: ServerLog,
    shutdown: CancellationToken,
    handler: H,
) -> ServeStats
where
    H: Fn(TcpStream, Arc<Traffic>) -> F,
    F: Future<Output = ConnectionEnd> + Send + 'static,
{
    let local = listener.local_addr().ok();
    let permits = Arc::new(Semaphore::new(
        limits.max_conns.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let cut = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let mut stats = ServeStats::default();

    loop {
        while let Some(done) = tasks.try_join_next() {
            reap(done, &mut stats);
        }
        // The permit is taken before accepting: at the cap, new clients
        // wait in the backlog instead of being accepted and dropped.
        let permit = match Arc::clone(&permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                log.event(ServerEvent::AtCapacity {
                    max_conns: limits.max_conns,
                });
                tokio::select! {
                    biased; // shutdown wins over work that is ready too
                    () = shutdown.cancelled() => break,
                    permit = Arc::clone(&permits).acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                }
            }
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    log.event(ServerEvent::ReceiveFailed {
                        proto: Proto::Tcp,
                        reason: err.to_string(),
                    });
                    tokio::select! {
                        biased;
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                    }
                }
            },
        };
        let traffic = Arc::new(Traffic::default());
        let work = handler(stream, Arc::clone(&traffic));
        let cut = cut.clone();
        let log = log.clone();
        tasks.spawn(async move {
            let _permit = permit;
            let started = Instant::now();
            let end = tokio::select! {
                end = work => end,
                () = cut.cancelled() => ConnectionEnd::Shutdown,
            };
            let record = ConnectionRecord {
                proto: Proto::Tcp,
                peer,
                bytes_in: traffic.bytes_in.load(Ordering::Relaxed),
                bytes_out: traffic.bytes_out.load(Ordering::Relaxed),
                duration: started.elapsed(),
                end,
            };
            log.connection(record.clone());
            record
        });
    }

    // Closing the listener now makes new clients fail fast instead of
    // waiting in a backlog nobody will serve.
    drop(listener);
    while let Some(done) = tasks.try_join_next() {
        reap(done, &mut stats);
    }
    if !tasks.is_empty() {
        log.event(ServerEvent::Draining {
            open: tasks.len(),
            deadline: limits.shutdown_timeout,
        });
        let drained = tokio::time::timeout(limits.shutdown_timeout, drain(&mut tasks, &mut stats));
        if drained.await.is_err() {
            cut.cancel();
            if tokio::time::timeout(CUT_GRACE, drain(&mut tasks, &mut stats))
                .await
                .is_err()
            {
                tasks.abort_all();
            }
        }
    }
    if let Some(addr) = local {
        log.event(ServerEvent::Stopped {
            proto: Proto::Tcp,
            addr,
        });
    }
    stats
}

async fn drain(tasks: &mut JoinSet<ConnectionRecord>, stats: &mut ServeStats) {
    while let Some(done) = tasks.join_next().await {
        reap(done, stats);
    }
}

fn reap(done: Result<ConnectionRecord, tokio::task::JoinError>, stats: &mut ServeStats) {
    // A task that panicked or was aborted has no record; it still counts.
    match done {
        Ok(record) => stats.add(&record),
        Err(_) => stats.connections += 1,
    }
}
