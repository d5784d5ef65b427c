//! Counts of every request the fetch loop made (pages, robots.txt,
//! sitemaps, API pages), kept in atomics so that counting costs a few
//! relaxed additions per request; read by the metrics at scrape time.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::metrics::{Encoder, Kind};
use crate::record::ErrorKind;

/// Status classes as metrics label them; `none` is no response.
pub const CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "none"];

/// The index in [`CLASSES`] of a status (`None`: no response).
pub fn class_index(status: Option<u16>) -> usize {
    match status {
        Some(s @ 100..=599) => usize::from(s / 100 - 1),
        _ => CLASSES.len() - 1,
    }
}

#[derive(Debug, Default)]
pub struct RequestStats {
    /// Requests answered, by status class (a hop after its retries).
    pub by_class: [AtomicU64; CLASSES.len()],
    /// Requests that got no answer, by error kind.
    pub errors: [AtomicU64; ErrorKind::ALL.len()],
    pub retries: AtomicU64,
    /// Body bytes read (after decompression).
    pub bytes: AtomicU64,
    pub in_flight: AtomicI64,
}

impl RequestStats {
    pub(super) fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// One hop ended: its status or error, retries and body size.
    pub(super) fn finished(
        &self,
        status: Result<u16, ErrorKind>,
        retries: u32,
        bytes: Option<u64>,
    ) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        match status {
            Ok(s) => self.by_class[class_index(Some(s))].fetch_add(1, Ordering::Relaxed),
            Err(kind) => self.errors[kind as usize].fetch_add(1, Ordering::Relaxed),
        };
        if retries > 0 {
            self.retries
                .fetch_add(u64::from(retries), Ordering::Relaxed);
        }
        if let Some(b) = bytes {
            self.bytes.fetch_add(b, Ordering::Relaxed);
        }
    }
}

impl RequestStats {
    /// The request families of the metrics.
    pub fn collect(&self, e: &mut Encoder) {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        e.family(
            "collector_requests_total",
            "HTTP requests answered (pages, robots.txt, sitemaps, API pages; a redirect hop each), by status class",
            Kind::Counter,
        );
        for (class, n) in CLASSES.iter().zip(&self.by_class) {
            e.sample(&[("class", class)], load(n));
        }
        e.family(
            "collector_request_errors_total",
            "HTTP requests that got no answer, by error kind",
            Kind::Counter,
        );
        for (kind, n) in ErrorKind::ALL.iter().zip(&self.errors) {
            e.sample(&[("kind", kind.as_str())], load(n));
        }
        e.single(
            "collector_retries_total",
            "Requests sent again after a transient failure",
            Kind::Counter,
            load(&self.retries),
        );
        e.single(
            "collector_response_bytes_total",
            "Response body bytes read, after decompression",
            Kind::Counter,
            load(&self.bytes),
        );
        e.single(
            "collector_requests_in_flight",
            "HTTP requests under way",
            Kind::Gauge,
            self.in_flight.load(Ordering::Relaxed).max(0) as f64,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_fall_in_their_class() {
        assert_eq!(CLASSES[class_index(Some(200))], "2xx");
        assert_eq!(CLASSES[class_index(Some(404))], "4xx");
        assert_eq!(CLASSES[class_index(Some(599))], "5xx");
        assert_eq!(CLASSES[class_index(Some(100))], "1xx");
        assert_eq!(CLASSES[class_index(Some(99))], "none");
        assert_eq!(CLASSES[class_index(Some(600))], "none");
        assert_eq!(CLASSES[class_index(None)], "none");
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, i, "{kind:?}");
        }
    }

    #[test]
    fn a_finished_request_is_counted_once() {
        let s = RequestStats::default();
        s.started();
        s.finished(Ok(503), 2, Some(10));
        s.started();
        s.finished(Err(ErrorKind::Timeout), 0, None);
        assert_eq!(s.by_class[4].load(Ordering::Relaxed), 1);
        assert_eq!(
            s.errors[ErrorKind::Timeout as usize].load(Ordering::Relaxed),
            1
        );
        assert_eq!(s.retries.load(Ordering::Relaxed), 2);
        assert_eq!(s.bytes.load(Ordering::Relaxed), 10);
        assert_eq!(s.in_flight.load(Ordering::Relaxed), 0);
    }
}
