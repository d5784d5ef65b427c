//! Prometheus metrics (`--metrics ADDR`): a [`Registry`] of sources, each
//! writing its families when `/metrics` is scraped, and the small HTTP
//! server that answers the scrape.
//!
//! The hot path never touches this module: the crawl, the fetch loop and
//! the limiter keep their counters in atomics (or under locks they take
//! anyway), and a [`Source`] reads them at scrape time. A command that
//! wants its own metrics (`collector schedule`: runs by job and outcome,
//! last run time and duration) registers one more source.

pub mod text;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use axum::http::header;
use tokio_util::sync::CancellationToken;

pub use text::{Encoder, Kind};

/// `--metrics ADDR` and `--metrics-linger SECS`, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsSettings {
    pub addr: SocketAddr,
    /// How long `/metrics` stays up after the run ends.
    pub linger: Duration,
    /// What named the address, for a listening error.
    pub name: String,
}

impl MetricsSettings {
    /// From the merged `metrics` and `metrics_linger` keys.
    pub fn build(
        o: &crate::config::Origins,
        addr: Option<&str>,
        linger: Option<f64>,
    ) -> anyhow::Result<Option<Self>> {
        let Some(text) = addr else {
            return Ok(None);
        };
        let name = o.name("metrics");
        let addr = crate::config::check::listen_addr(&name, text)?;
        let linger = match linger {
            None | Some(0.0) => Duration::ZERO,
            Some(v) => crate::config::check::seconds(&o.name("metrics_linger"), v)?,
        };
        Ok(Some(Self {
            addr,
            linger,
            name: name.to_string(),
        }))
    }
}

/// Something that writes metric families at scrape time.
pub trait Source: Send + Sync {
    fn collect(&self, out: &mut Encoder);
}

impl<F: Fn(&mut Encoder) + Send + Sync> Source for F {
    fn collect(&self, out: &mut Encoder) {
        self(out)
    }
}

/// The sources one process exposes; cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Registry {
    sources: Arc<Mutex<Vec<Arc<dyn Source>>>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Registry")
    }
}

impl Registry {
    /// Adds a source; its families follow those registered before it.
    pub fn register(&self, source: impl Source + 'static) {
        self.lock().push(Arc::new(source));
    }

    /// Every source's families, in the text format.
    pub fn encode(&self) -> String {
        let sources = self.lock().clone();
        let mut out = Encoder::default();
        for source in sources {
            source.collect(&mut out);
        }
        out.finish()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<dyn Source>>> {
        self.sources.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running `/metrics` server.
pub struct Server {
    pub addr: SocketAddr,
    registry: Registry,
    linger: Duration,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Listens where `settings` say and serves an empty registry on `GET
    /// /metrics` until [`Server::stop`]; sources are registered as the
    /// run builds them. A listening error names the flag, variable or key.
    pub async fn start(settings: &MetricsSettings) -> anyhow::Result<Self> {
        let (addr, name) = (settings.addr, &settings.name);
        let registry = Registry::default();
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("{name} {addr}: could not listen"))?;
        let served = registry.clone();
        let addr = listener.local_addr().unwrap_or(addr);
        let stop = CancellationToken::new();
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let registry = served.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, text::CONTENT_TYPE)],
                        registry.encode(),
                    )
                }
            }),
        );
        let until = stop.clone();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { until.cancelled().await })
                .await;
        });
        tracing::info!(%addr, "metrics on http://{addr}/metrics");
        Ok(Self {
            addr,
            registry,
            linger: settings.linger,
            stop,
            task,
        })
    }

    /// Where the run's sources go.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Keeps serving for the linger time (so that a last scrape sees the
    /// final counts) unless `interrupt` fires, then stops.
    pub async fn stop(self, interrupt: &CancellationToken) {
        let linger = self.linger;
        if !linger.is_zero() && !interrupt.is_cancelled() {
            tracing::info!(
                linger_s = linger.as_secs_f64(),
                "run finished; metrics served for {:.1}s more",
                linger.as_secs_f64()
            );
            tokio::select! {
                () = tokio::time::sleep(linger) => {}
                () = interrupt.cancelled() => {}
            }
        }
        self.stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}

/// Bounds a label set: the `top` largest counts keep their label, the
/// rest are summed as `other`. Sorted largest first, then by label.
pub fn top_n(mut counts: Vec<(String, u64)>, top: usize) -> Vec<(String, u64)> {
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if counts.len() <= top {
        return counts;
    }
    let other: u64 = counts[top..].iter().map(|(_, n)| n).sum();
    counts.truncate(top);
    counts.push(("other".to_string(), other));
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_write_in_registration_order() {
        let registry = Registry::default();
        registry.register(|e: &mut Encoder| e.single("a_total", "A", Kind::Counter, 1.0));
        registry.register(|e: &mut Encoder| e.single("b", "B", Kind::Gauge, 2.0));
        let text = registry.encode();
        let a = text.find("a_total 1").expect("a");
        let b = text.find("b 2").expect("b");
        assert!(a < b, "{text}");
    }

    #[test]
    fn top_n_keeps_the_largest_and_sums_the_rest() {
        let counts = vec![
            ("a".to_string(), 1),
            ("b".to_string(), 5),
            ("c".to_string(), 3),
            ("d".to_string(), 2),
        ];
        assert_eq!(
            top_n(counts.clone(), 2),
            vec![
                ("b".to_string(), 5),
                ("c".to_string(), 3),
                ("other".to_string(), 3)
            ]
        );
        assert_eq!(top_n(counts, 10).len(), 4);
    }
}
