//! Per-origin admission: concurrency cap, request rate, `Crawl-delay`
//! spacing and server-requested back-off, answered without waiting so the
//! frontier can move on to an origin that is ready.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use tokio_util::sync::CancellationToken;

use crate::gate::{HostGate, HostPermit, OriginShare, Wait};
use crate::metrics::{Encoder, Kind};

#[derive(Clone, Debug)]
pub struct LimiterConfig {
    /// Requests in flight at once per origin.
    pub per_host: u32,
    /// Requests per second per origin; `None` is unlimited.
    pub rate: Option<f64>,
    /// The longest a server may make us wait: caps `Retry-After` and
    /// `Crawl-delay`, so a hostile value cannot stall a crawl for days.
    pub max_wait: Duration,
}

#[derive(Default)]
struct OriginState {
    in_flight: u32,
    /// From `Crawl-delay`: the least time between two request starts.
    spacing: Option<Duration>,
    next_start: Option<Instant>,
    paused_until: Option<Instant>,
    /// Requests started, for the metrics (counted under the lock the
    /// start takes anyway).
    starts: u64,
}

type States = Arc<Mutex<HashMap<Arc<str>, OriginState>>>;

fn lock(states: &States) -> MutexGuard<'_, HashMap<Arc<str>, OriginState>> {
    states.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct OriginLimiter {
    config: LimiterConfig,
    rate: Option<DefaultKeyedRateLimiter<Arc<str>>>,
    clock: DefaultClock,
    states: States,
    /// Pauses asked by servers (429/503), for the metrics.
    pauses: AtomicU64,
    /// Workers sharing the crawl: pauses and spacing go there instead.
    share: Option<Arc<dyn OriginShare>>,
}

/// Releases an origin's concurrency slot when dropped.
struct Slot {
    origin: Arc<str>,
    states: States,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(st) = lock(&self.states).get_mut(&self.origin) {
            st.in_flight = st.in_flight.saturating_sub(1);
        }
    }
}

impl OriginLimiter {
    pub fn new(config: LimiterConfig) -> Self {
        let rate = config.rate.and_then(|r| {
            let period = Duration::from_secs_f64(1.0 / r);
            // One request per period, no burst: a rate of 2/s means starts
            // 500 ms apart, not two at once and then a pause.
            Quota::with_period(period).map(|q| RateLimiter::keyed(q.allow_burst(NonZeroU32::MIN)))
        });
        Self {
            config,
            rate,
            clock: DefaultClock::default(),
            states: Arc::default(),
            pauses: AtomicU64::new(0),
            share: None,
        }
    }

    /// For a worker of a shared crawl: the rate, Crawl-delay spacing and
    /// pauses are the shared frontier's to enforce across workers (it
    /// hands out no URL of an origin before its time), so this limiter
    /// keeps only the per-origin concurrency cap and sends them on.
    pub fn shared(mut self, share: Arc<dyn OriginShare>) -> Self {
        self.rate = None;
        self.share = Some(share);
        self
    }

    /// Spaces request starts on `origin` by at least `delay` (robots.txt
    /// `Crawl-delay`), capped by `max_wait`.
    pub fn set_spacing(&self, origin: &str, delay: Duration) {
        let delay = delay.min(self.config.max_wait);
        if let Some(share) = &self.share {
            share.hold(origin, delay, true);
            return;
        }
        let mut states = lock(&self.states);
        let st = states.entry(origin.into()).or_default();
        st.spacing = Some(delay);
        // The delay is learnt while a request already holds a slot (robots.txt
        // is read on the first visit), so the next start waits from now.
        let next = Instant::now() + delay;
        st.next_start = Some(st.next_start.map_or(next, |n| n.max(next)));
    }

    /// Starts nothing on `origin` for `wait` (429/503 with or without
    /// `Retry-After`), capped by `max_wait`. Returns the wait applied.
    pub fn pause(&self, origin: &str, wait: Duration) -> Duration {
        let wait = wait.min(self.config.max_wait);
        self.pauses.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(origin, wait_ms = wait.as_millis() as u64, "origin paused");
        if let Some(share) = &self.share {
            share.hold(origin, wait, false);
            return wait;
        }
        let until = Instant::now() + wait;
        let mut states = lock(&self.states);
        let st = states.entry(origin.into()).or_default();
        st.paused_until = Some(st.paused_until.map_or(until, |p| p.max(until)));
        wait
    }

    pub fn max_wait(&self) -> Duration {
        self.config.max_wait
    }

    /// Requests started per origin so far (one lock, at scrape time).
    pub fn starts(&self) -> Vec<(String, u64)> {
        lock(&self.states)
            .iter()
            .filter(|(_, st)| st.starts > 0)
            .map(|(origin, st)| (origin.to_string(), st.starts))
            .collect()
    }

    /// How often a server asked for a pause (429/503).
    pub fn pauses(&self) -> u64 {
        self.pauses.load(Ordering::Relaxed)
    }

    /// The limiter's families of the metrics: requests started per origin
    /// (the `top` busiest origins by name, the rest as `other`) and pauses.
    pub fn collect(&self, e: &mut Encoder, top: usize) {
        e.family(
            "collector_origin_requests_total",
            "Requests started per origin (scheme://host:port; the busiest origins, the rest as other)",
            Kind::Counter,
        );
        for (origin, n) in crate::metrics::top_n(self.starts(), top) {
            e.sample(&[("origin", &origin)], n as f64);
        }
        e.single(
            "collector_waits_total",
            "Pauses of an origin a server asked for (429/503 Retry-After, API rate limits)",
            Kind::Counter,
            self.pauses() as f64,
        );
    }

    /// Waits until `origin` may start a request and returns its permit;
    /// `None` when `stop` fires first. For callers that have one URL to
    /// fetch (API pages, a redirect to another origin) rather than a
    /// frontier to choose from.
    pub async fn admit(&self, origin: &str, stop: &CancellationToken) -> Option<HostPermit> {
        loop {
            let wait = match self.try_start(origin) {
                Ok(permit) => return Some(permit),
                Err(Wait::Until(t)) => t.saturating_duration_since(Instant::now()),
                Err(Wait::Busy) => Duration::from_millis(10),
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stop.cancelled() => return None,
            }
        }
    }
}

impl HostGate for OriginLimiter {
    fn try_start(&self, origin: &str) -> Result<HostPermit, Wait> {
        let now = Instant::now();
        let mut states = lock(&self.states);
        let key: Arc<str> = match states.get_key_value(origin) {
            Some((k, _)) => k.clone(),
            None => origin.into(),
        };
        let st = states.entry(key.clone()).or_default();
        if let Some(until) = st.paused_until {
            if until > now {
                return Err(waiting(origin, "paused", Wait::Until(until), now));
            }
            st.paused_until = None;
        }
        if st.in_flight >= self.config.per_host {
            return Err(waiting(origin, "busy", Wait::Busy, now));
        }
        if let Some(next) = st.next_start
            && next > now
        {
            return Err(waiting(origin, "crawl_delay", Wait::Until(next), now));
        }
        if let Some(rate) = &self.rate
            && let Err(not_until) = rate.check_key(&key)
        {
            let until = now + not_until.wait_time_from(self.clock.now());
            return Err(waiting(origin, "rate", Wait::Until(until), now));
        }
        st.in_flight += 1;
        st.starts += 1;
        if let Some(spacing) = st.spacing {
            st.next_start = Some(now + spacing);
        }
        drop(states);
        Ok(HostPermit::new(Slot {
            origin: key,
            states: self.states.clone(),
        }))
    }
}

/// The `-vv` line of an origin that may not start a request now: `why`
/// is `paused` (429/503 back-off), `busy` (its concurrency cap),
/// `crawl_delay` or `rate`.
fn waiting(origin: &str, why: &'static str, wait: Wait, now: Instant) -> Wait {
    match wait {
        Wait::Until(t) => tracing::trace!(
            origin,
            why,
            wait_ms = t.saturating_duration_since(now).as_millis() as u64,
            "origin waits"
        ),
        Wait::Busy => tracing::trace!(origin, why, "origin waits"),
    }
    wait
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_host: u32, rate: Option<f64>) -> OriginLimiter {
        OriginLimiter::new(LimiterConfig {
            per_host,
            rate,
            max_wait: Duration::from_secs(60),
        })
    }

    #[test]
    fn concurrency_cap_is_per_origin_and_released_on_drop() {
        let l = limiter(2, None);
        let a1 = l.try_start("http://a:80").expect("first");
        let _a2 = l.try_start("http://a:80").expect("second");
        assert_eq!(l.try_start("http://a:80").err(), Some(Wait::Busy));
        assert!(
            l.try_start("http://b:80").is_ok(),
            "another origin is independent"
        );
        drop(a1);
        assert!(l.try_start("http://a:80").is_ok());
    }

    #[test]
    fn spacing_delays_the_next_start() {
        let l = limiter(8, None);
        let _p = l.try_start("http://a:80").expect("first");
        // Learnt from robots.txt while the first request holds its slot.
        l.set_spacing("http://a:80", Duration::from_secs(2));
        match l.try_start("http://a:80") {
            Err(Wait::Until(t)) => assert!(t > Instant::now() + Duration::from_millis(1500)),
            other => panic!("expected a wait, got {other:?}"),
        }
    }

    #[test]
    fn pause_is_capped_by_max_wait() {
        let l = limiter(8, None);
        assert_eq!(
            l.pause("http://a:80", Duration::from_secs(86_400)),
            Duration::from_secs(60)
        );
        assert!(matches!(l.try_start("http://a:80"), Err(Wait::Until(_))));
    }

    #[test]
    fn rate_allows_one_start_per_period() {
        let l = limiter(8, Some(1.0));
        let _p = l.try_start("http://a:80").expect("first");
        assert!(matches!(l.try_start("http://a:80"), Err(Wait::Until(_))));
        assert!(l.try_start("http://b:80").is_ok());
    }
}
