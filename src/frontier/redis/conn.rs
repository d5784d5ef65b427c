//! The connection to Redis and the frontier's Lua scripts: one
//! reconnecting connection shared by every task of the worker, and a call
//! that waits out a Redis that is down (saying so on stderr, backing off)
//! instead of failing the crawl.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Script};
use tokio_util::sync::CancellationToken;

use crate::frontier::FrontierError;

/// The longest wait between two attempts while Redis is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How long a stopping worker keeps trying to reach Redis (to hand back
/// what it holds) before it gives up.
const STOPPING_PATIENCE: Duration = Duration::from_secs(10);

const PRELUDE: &str = include_str!("prelude.lua");

/// The frontier's scripts, each with the shared prelude.
pub struct Scripts {
    pub push: Script,
    pub lease: Script,
    pub release: Script,
    pub ack: Script,
    pub beat: Script,
    pub join: Script,
    pub wait: Script,
    pub giveback: Script,
    pub leave: Script,
}

fn script(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}\n{body}"))
}

impl Scripts {
    pub fn new() -> Self {
        Self {
            push: script(include_str!("push.lua")),
            lease: script(include_str!("lease.lua")),
            release: script(include_str!("release.lua")),
            ack: script(include_str!("ack.lua")),
            beat: script(include_str!("beat.lua")),
            join: script(include_str!("join.lua")),
            wait: script(include_str!("wait.lua")),
            giveback: script("requeue(ARGV[2], tonumber(ARGV[1]))\nreturn 0"),
            leave: script(include_str!("leave.lua")),
        }
    }
}

/// A Redis URL with any password replaced by `***`, for messages.
pub fn shown(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "(the --frontier URL)".to_string(),
    }
}

/// A connection to one job's keys on one Redis server.
#[derive(Clone)]
pub struct Conn {
    manager: ConnectionManager,
    /// The URL as messages show it.
    pub shown: String,
    /// Fires when the worker stops: calls then give up sooner.
    pub stopping: CancellationToken,
}

impl Conn {
    /// Connects, or says why not (a bad URL, nothing listening, a refused
    /// password): the caller reports it as bad input.
    pub async fn open(url: &str, stopping: CancellationToken) -> Result<Self, String> {
        let shown = shown(url);
        let client = redis::Client::open(url)
            .map_err(|e| format!("--frontier {shown}: not a Redis URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(10)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager = tokio::time::timeout(
            Duration::from_secs(5),
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| format!("could not reach Redis at {shown}: timed out"))?
        .map_err(|e| format!("could not reach Redis at {shown}: {}", e))?;
        let conn = Self {
            manager,
            shown,
            stopping,
        };
        // The manager connects lazily on some errors; ask once for real.
        let mut m = conn.manager.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut m)
            .await
            .map_err(|e| format!("could not reach Redis at {}: {}", conn.shown, e))?;
        Ok(conn)
    }

    /// Runs `attempt` until it succeeds. While Redis cannot be reached it
    /// waits and tries again with back-off (logged once per outage), for as
    /// long as the worker runs, and for a while once it is stopping.
    pub async fn call<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T, FrontierError>
    where
        F: FnMut(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = Result<T, RedisError>>,
    {
        let mut backoff = Duration::from_millis(100);
        let mut down_since: Option<std::time::Instant> = None;
        let mut stopping_since: Option<std::time::Instant> = None;
        loop {
            match attempt(self.manager.clone()).await {
                Ok(v) => {
                    if let Some(since) = down_since {
                        tracing::warn!(
                            redis = %self.shown,
                            down_s = since.elapsed().as_secs_f64(),
                            "Redis is back; the crawl goes on"
                        );
                    }
                    return Ok(v);
                }
                Err(e) if transient(&e) => {
                    if down_since.is_none() {
                        tracing::warn!(
                            redis = %self.shown,
                            error = %e,
                            "Redis unreachable ({what}); pausing and retrying with back-off"
                        );
                        down_since = Some(std::time::Instant::now());
                    }
                    if self.stopping.is_cancelled() {
                        let since = *stopping_since.get_or_insert_with(std::time::Instant::now);
                        if since.elapsed() > STOPPING_PATIENCE {
                            return Err(FrontierError::Store(format!(
                                "Redis at {} unreachable while stopping ({what}): {}",
                                self.shown, e
                            )));
                        }
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(e) => {
                    return Err(FrontierError::Store(format!(
                        "Redis at {} ({what}): {}",
                        self.shown, e
                    )));
                }
            }
        }
    }
}

/// Errors that pass when Redis is back: it is down, restarting, or still
/// loading its data.
fn transient(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_refusal()
        || e.is_connection_dropped()
        || e.is_timeout()
        || matches!(
            e.kind(),
            redis::ErrorKind::Server(redis::ServerErrorKind::BusyLoading)
        )
}
