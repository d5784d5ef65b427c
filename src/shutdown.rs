//! Stopping on a signal: the first SIGINT (Ctrl-C) or SIGTERM (what
//! systemd, `docker stop`, Kubernetes and `timeout` send) asks the run to
//! stop (stop scheduling, let in-flight requests finish, flush); a second
//! signal of either kind ends the process at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::CancellationToken;

/// Which signal stopped the run, for the exit code (130 or 143).
#[derive(Clone, Debug, Default)]
pub struct Signals {
    terminated: Arc<AtomicBool>,
}

impl Signals {
    /// Whether the first signal was SIGTERM.
    pub fn terminated(&self) -> bool {
        self.terminated.load(Ordering::SeqCst)
    }

    /// Resolves after the second signal; cancels `stop` at the first. Await
    /// it beside the run in `main`, so that the immediate exit happens there.
    pub async fn second(&self, stop: CancellationToken) {
        let Some(mut signals) = Listener::new() else {
            // No handler could be installed: never resolve, and let the
            // default dispositions apply.
            return std::future::pending().await;
        };
        let term = signals.next().await;
        self.terminated.store(term, Ordering::SeqCst);
        stop.cancel();
        tracing::warn!(
            signal = if term { "SIGTERM" } else { "SIGINT" },
            "{}: finishing requests in flight and writing output (a second signal quits now)",
            if term { "terminated" } else { "interrupted" }
        );
        signals.next().await;
    }
}

/// SIGINT and SIGTERM, as one stream.
struct Listener {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Listener {
    fn new() -> Option<Self> {
        Some(Self {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok()?,
        })
    }

    /// Waits for the next signal; true for SIGTERM.
    async fn next(&mut self) -> bool {
        #[cfg(unix)]
        {
            tokio::select! {
                r = tokio::signal::ctrl_c() => {
                    if r.is_err() { std::future::pending::<()>().await }
                    false
                }
                _ = self.term.recv() => true,
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            false
        }
    }
}
