//! The crawl's Prometheus metrics: what its counters, the fetch loop and
//! the limiter count, registered into the `/metrics` server's registry.

use std::sync::Arc;
use std::time::Instant;

use crate::crawl::progress::{Counters, QueueProbe};
use crate::fetch::stats::RequestStats;
use crate::metrics::{Encoder, Registry};
use crate::politeness::OriginLimiter;

/// Origins named in `collector_origin_requests_total`; the rest are `other`.
pub const TOP_ORIGINS: usize = 20;

/// Registers the crawl's sources; read at each scrape, never per request.
pub fn register(
    registry: &Registry,
    counters: Arc<Counters>,
    queue: QueueProbe,
    requests: Arc<RequestStats>,
    limiter: Arc<OriginLimiter>,
) {
    let started = Instant::now();
    registry.register(move |e: &mut Encoder| {
        counters.collect(e, &queue, started.elapsed());
        requests.collect(e);
        limiter.collect(e, TOP_ORIGINS);
    });
}
