//! Ctrl-C handling: the first interrupt asks the run to stop (stop
//! scheduling, let in-flight requests finish, flush); a second one ends the
//! process at once with status 130.

use tokio_util::sync::CancellationToken;

/// Resolves after the second Ctrl-C; cancels `stop` at the first. Await it
/// beside the run in `main`, so that the immediate exit happens there.
pub async fn second_interrupt(stop: CancellationToken) {
    if tokio::signal::ctrl_c().await.is_err() {
        // No signal handler could be installed: never resolve, and let the
        // default disposition of SIGINT apply.
        return std::future::pending().await;
    }
    stop.cancel();
    eprintln!(
        "interrupted: finishing requests in flight and writing output (Ctrl-C again to quit now)"
    );
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
