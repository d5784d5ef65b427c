//! robots.txt answers shared by the workers of one job, under
//! `robots:ORIGIN`: the first worker to need one claims it, fetches it and
//! stores it; the others wait for it.

use std::time::Duration;

use async_trait::async_trait;

use super::conn::Conn;
use crate::politeness::RobotsStore;

/// The robots.txt answers of the job's workers, under `robots:ORIGIN`;
/// `robots-claim:ORIGIN` names the worker fetching one now.
pub(super) struct Robots {
    pub(super) conn: Conn,
    pub(super) prefix: String,
    pub(super) worker: String,
}

/// How long a worker waits for another's robots.txt fetch before it
/// fetches the file itself (a fetch takes at most the request timeouts).
const ROBOTS_WAIT: Duration = Duration::from_secs(60);

#[async_trait]
impl RobotsStore for Robots {
    async fn get_or_claim(&self, origin: &str) -> Option<Vec<u8>> {
        let key = format!("{}robots:{origin}", self.prefix);
        let claim = format!("{}robots-claim:{origin}", self.prefix);
        let started = std::time::Instant::now();
        loop {
            let stored: Option<Vec<u8>> = self
                .conn
                .call("reading robots.txt", |mut m| {
                    let key = key.clone();
                    async move { ::redis::cmd("GET").arg(key).query_async(&mut m).await }
                })
                .await
                .ok()?;
            if stored.is_some() {
                return stored;
            }
            let claimed: Option<String> = self
                .conn
                .call("claiming robots.txt", |mut m| {
                    let mut cmd = ::redis::cmd("SET");
                    cmd.arg(&claim)
                        .arg(&self.worker)
                        .arg("NX")
                        .arg("PX")
                        .arg(ROBOTS_WAIT.as_millis() as u64);
                    async move { cmd.query_async(&mut m).await }
                })
                .await
                .ok()?;
            if claimed.is_some() || started.elapsed() > ROBOTS_WAIT {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn put(&self, origin: &str, stored: Vec<u8>) {
        let key = format!("{}robots:{origin}", self.prefix);
        let result = self
            .conn
            .call("storing robots.txt", |mut m| {
                let mut cmd = ::redis::cmd("SET");
                cmd.arg(&key).arg(stored.as_slice());
                async move { cmd.query_async::<()>(&mut m).await }
            })
            .await;
        if let Err(e) = result {
            tracing::warn!(origin, error = %e, "could not share robots.txt");
        }
    }
}
