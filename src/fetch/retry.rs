//! The one place that decides whether a failed request is tried again, and
//! how long to wait first. Shared by the crawler and the API collector.

use std::time::{Duration, SystemTime};

use super::FetchError;
use super::verdict::{Verdict, verdict};

/// The outcome of one attempt, as far as retrying is concerned.
#[derive(Clone, Copy, Debug)]
pub enum Attempt<'a> {
    Status(u16),
    Failed(&'a FetchError),
}

/// Connect errors, timeouts, a connection broken mid-body, and the
/// statuses the verdict calls transient are worth another try; everything
/// else (a 404, a TLS failure, a body over the limit) would fail the same
/// way again.
pub fn is_retryable(attempt: Attempt<'_>) -> bool {
    match attempt {
        Attempt::Status(s) => verdict(s) == Verdict::Retry,
        Attempt::Failed(e) => matches!(
            e,
            FetchError::Timeout(_) | FetchError::Connect(_) | FetchError::Body(_)
        ),
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// Exponential with "equal jitter": half the step fixed, half random, so
    /// that retries from many tasks spread out but never collapse to zero.
    pub fn delay(&self, retry: u32) -> Duration {
        let step = self
            .base
            .saturating_mul(1u32 << retry.min(16))
            .min(self.cap);
        let half = step / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Parses `Retry-After` (RFC 9110 section 10.2.3): delay-seconds or an
/// HTTP-date. A date in the past means "now".
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// How long to wait when a response says the quota is used up:
/// `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset` given either as a
/// Unix time (GitHub and most others) or, when too small to be one, as
/// seconds from now. `None` while requests remain or the reset is unknown.
pub fn rate_limit_wait(
    remaining: Option<&str>,
    reset: Option<&str>,
    now: SystemTime,
) -> Option<Duration> {
    let remaining: u64 = remaining?.trim().parse().ok()?;
    if remaining > 0 {
        return None;
    }
    let reset: f64 = reset?.trim().parse().ok()?;
    if !reset.is_finite() || reset < 0.0 {
        return None;
    }
    // Unix times are past 10^9; a delta that large would be 30 years.
    if reset >= 1e9 {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(reset);
        Some(at.duration_since(now).unwrap_or(Duration::ZERO))
    } else {
        Some(Duration::from_secs_f64(reset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_failures_are_retried() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable(Attempt::Status(s)), "{s}");
        }
        for s in [200, 301, 400, 401, 403, 404, 410, 501, 505] {
            assert!(!is_retryable(Attempt::Status(s)), "{s}");
        }
        assert!(is_retryable(Attempt::Failed(&FetchError::Timeout(
            "t".into()
        ))));
        assert!(is_retryable(Attempt::Failed(&FetchError::Connect(
            "c".into()
        ))));
        assert!(is_retryable(Attempt::Failed(&FetchError::Body("b".into()))));
        assert!(!is_retryable(Attempt::Failed(&FetchError::Tls("x".into()))));
        assert!(!is_retryable(Attempt::Failed(&FetchError::TooLarge {
            limit: 1
        })));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        let d0 = b.delay(0);
        assert!(d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100));
        let d3 = b.delay(3);
        assert!(d3 >= Duration::from_millis(400) && d3 <= Duration::from_millis(800));
        assert!(b.delay(30) <= Duration::from_secs(1));
    }

    #[test]
    fn rate_limit_headers_give_a_wait_only_when_exhausted() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(rate_limit_wait(Some("5"), Some("1700000030"), now), None);
        assert_eq!(
            rate_limit_wait(Some("0"), Some("1700000030"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            rate_limit_wait(Some("0"), Some("2"), now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            rate_limit_wait(Some("0"), Some("1600000000"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(rate_limit_wait(Some("0"), None, now), None);
        assert_eq!(rate_limit_wait(None, Some("2"), now), None);
        assert_eq!(rate_limit_wait(Some("0"), Some("soon"), now), None);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after("5", now), Some(Duration::from_secs(5)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(retry_after(&later, now), Some(Duration::from_secs(30)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
    }
}
