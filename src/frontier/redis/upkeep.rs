//! The worker's background task: the heartbeat that keeps its leases
//! alive, and the slot releases and holds (pauses, Crawl-delay) other
//! parts of the worker hand it, sent to Redis in batches.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::conn::{Conn, Scripts};
use crate::gate::OriginShare;

/// Work for the worker's upkeep task.
pub(super) enum Upkeep {
    /// A leased request ended: free its origin's slot.
    Release(u64),
    /// Hold an origin back for every worker; `spacing` for a Crawl-delay.
    Hold {
        origin: String,
        wait: Duration,
        spacing: bool,
    },
}

/// Pauses and Crawl-delays seen by this worker, for every worker.
pub(super) struct Share(pub(super) mpsc::UnboundedSender<Upkeep>);

impl OriginShare for Share {
    fn hold(&self, origin: &str, wait: Duration, spacing: bool) {
        let _ = self.0.send(Upkeep::Hold {
            origin: origin.to_string(),
            wait,
            spacing,
        });
    }
}

/// The worker's background task: the heartbeat that keeps its leases
/// alive, and the slot releases and holds, sent in batches. It ends when
/// the frontier is dropped (after a last release of what is queued).
pub(super) struct UpkeepCtx {
    pub(super) conn: Conn,
    pub(super) stop: CancellationToken,
    pub(super) scripts: Arc<Scripts>,
    pub(super) prefix: String,
    pub(super) worker: String,
    pub(super) lease_ms: u64,
    pub(super) per_host: u32,
    pub(super) interval_ms: u64,
}

pub(super) async fn upkeep(ctx: UpkeepCtx, mut rx: mpsc::UnboundedReceiver<Upkeep>) {
    let UpkeepCtx {
        conn,
        stop,
        scripts,
        prefix,
        worker,
        lease_ms,
        per_host,
        interval_ms,
    } = ctx;
    let beat_every = Duration::from_millis(lease_ms / 3);
    let mut beat = tokio::time::interval(beat_every);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut open = true;
    while open {
        let mut due = false;
        let first = tokio::select! {
            _ = beat.tick() => { due = true; None }
            msg = rx.recv() => match msg {
                Some(m) => Some(m),
                None => { open = false; None }
            },
            () = stop.cancelled() => { open = false; None }
        };
        let mut work: Vec<Upkeep> = first.into_iter().collect();
        while let Ok(m) = rx.try_recv() {
            work.push(m);
        }
        let mut released = Vec::new();
        for w in work {
            match w {
                Upkeep::Release(id) => released.push(id),
                Upkeep::Hold {
                    origin,
                    wait,
                    spacing,
                } => {
                    let result = conn
                        .call("holding an origin back", |mut m| {
                            let mut inv = scripts.wait.prepare_invoke();
                            inv.key(&prefix)
                                .arg(&origin)
                                .arg(wait.as_millis() as u64)
                                .arg(u8::from(spacing))
                                .arg(interval_ms);
                            async move { inv.invoke_async::<i64>(&mut m).await }
                        })
                        .await;
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "could not share an origin's back-off");
                    }
                }
            }
        }
        if !released.is_empty() {
            let result = conn
                .call("freeing origin slots", |mut m| {
                    let mut inv = scripts.release.prepare_invoke();
                    inv.key(&prefix).arg(per_host);
                    for id in &released {
                        inv.arg(id);
                    }
                    async move { inv.invoke_async::<i64>(&mut m).await }
                })
                .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "could not free origin slots");
            }
        }
        if open && due {
            let result = conn
                .call("heartbeat", |mut m| {
                    let mut inv = scripts.beat.prepare_invoke();
                    inv.key(&prefix).arg(&worker).arg(lease_ms);
                    async move { inv.invoke_async::<i64>(&mut m).await }
                })
                .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "heartbeat failed");
            }
        }
    }
}
