//! The behaviour every frontier shares, as tests over `dyn Frontier`:
//! `tests!(make)` in an implementation's test module runs them all on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use url::Url;

use super::{Admission, Candidate, Done, Frontier, Limits, UrlKind};
use crate::gate::{HostGate, HostPermit, Wait};

/// A frontier under test, with whatever must outlive it (a state directory).
pub struct Fixture {
    pub frontier: Arc<dyn Frontier>,
    /// Dropped with the fixture, after the frontier.
    pub _keep: Option<tempfile::TempDir>,
}

impl Fixture {
    pub fn new(frontier: Arc<dyn Frontier>) -> Self {
        Self {
            frontier,
            _keep: None,
        }
    }

    pub async fn push_urls(&self, urls: &[(&str, u32)]) -> Vec<Admission> {
        let batch = urls.iter().map(|(u, d)| cand(u, *d)).collect();
        self.frontier.push(batch).await.expect("push")
    }
}

/// Lets each origin have at most `cap` leases out; `blocked` origins wait.
pub struct CapGate {
    cap: usize,
    blocked: Vec<String>,
    out: Arc<Mutex<HashMap<String, usize>>>,
}

struct Slot(String, Arc<Mutex<HashMap<String, usize>>>);
impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut m) = self.1.lock()
            && let Some(n) = m.get_mut(&self.0)
        {
            *n -= 1;
        }
    }
}

impl HostGate for CapGate {
    fn try_start(&self, origin: &str) -> Result<HostPermit, Wait> {
        if self.blocked.iter().any(|b| b == origin) {
            return Err(Wait::Until(Instant::now() + Duration::from_secs(3600)));
        }
        let mut m = self.out.lock().expect("lock");
        let n = m.entry(origin.to_string()).or_default();
        if *n >= self.cap {
            return Err(Wait::Busy);
        }
        *n += 1;
        Ok(HostPermit::new(Slot(origin.to_string(), self.out.clone())))
    }
}

pub fn gate(cap: usize, blocked: &[&str]) -> CapGate {
    CapGate {
        cap,
        blocked: blocked.iter().map(|s| s.to_string()).collect(),
        out: Arc::default(),
    }
}

pub fn cand(s: &str, depth: u32) -> Candidate {
    Candidate {
        url: Url::parse(s).expect("test URL"),
        kind: UrlKind::Page,
        depth,
        referrer: None,
    }
}

pub fn unlimited() -> Limits {
    Limits {
        max_pages: None,
        max_depth: None,
    }
}

pub async fn duplicates_and_depth_are_reported_per_candidate(make: fn(Limits) -> Fixture) {
    let f = make(Limits {
        max_pages: None,
        max_depth: Some(1),
    });
    let got = f
        .push_urls(&[
            ("http://a/1", 0),
            ("http://a/1", 0),
            ("http://a/2", 2),
            ("http://a/3", 1),
        ])
        .await;
    use Admission::*;
    assert_eq!(got, vec![Queued, Duplicate, MaxDepth, Queued]);
    assert_eq!(f.frontier.stats().queued, 2);
}

/// `--max-depth`: a URL first found too deep (a concurrent crawl is not
/// strictly breadth-first) is admitted when a shorter path reaches it.
pub async fn a_url_refused_for_depth_is_admitted_by_a_shorter_path(make: fn(Limits) -> Fixture) {
    let f = make(Limits {
        max_pages: None,
        max_depth: Some(1),
    });
    use Admission::*;
    let got = f
        .push_urls(&[
            ("http://a/x", 2),
            ("http://a/x", 3),
            ("http://a/x", 1),
            ("http://a/x", 1),
            ("http://a/x", 2),
        ])
        .await;
    assert_eq!(got, vec![MaxDepth, MaxDepth, Queued, Duplicate, Duplicate]);
    let l = f
        .frontier
        .lease(&gate(8, &[]))
        .await
        .expect("lease")
        .expect("some");
    assert_eq!((l.url.as_str(), l.depth), ("http://a/x", 1));
    assert_eq!(f.frontier.stats().seen, 1);
}

pub async fn max_pages_counts_fetches_and_unfetched_leases_give_back(make: fn(Limits) -> Fixture) {
    let f = make(Limits {
        max_pages: Some(2),
        max_depth: None,
    });
    let f = f.frontier.as_ref();
    let urls = ["http://a/1", "http://a/2", "http://a/3", "http://a/4"];
    f.push(urls.iter().map(|u| cand(u, 0)).collect())
        .await
        .expect("push");
    let g = gate(8, &[]);
    let first = f.lease(&g).await.expect("lease").expect("some");
    f.complete(first, Done::NotFetched).await.expect("complete");
    for _ in 0..2 {
        let l = f.lease(&g).await.expect("lease").expect("budget left");
        f.complete(l, Done::Fetched).await.expect("complete");
    }
    assert!(
        f.lease(&g).await.expect("lease").is_none(),
        "two fetched: done"
    );
    let left = f.drain().await.expect("drain");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].url.as_str(), "http://a/4");
    assert_eq!(f.stats().queued, 0);
}

pub async fn a_blocked_origin_does_not_hold_up_others(make: fn(Limits) -> Fixture) {
    let f = make(unlimited());
    f.push_urls(&[
        ("http://slow/1", 0),
        ("http://slow/2", 0),
        ("http://fast/1", 0),
    ])
    .await;
    let g = gate(8, &["http://slow:80"]);
    let l = f.frontier.lease(&g).await.expect("lease").expect("some");
    assert_eq!(l.url.as_str(), "http://fast/1");
}

pub async fn per_origin_cap_then_release_on_complete(make: fn(Limits) -> Fixture) {
    let f = make(unlimited());
    f.push_urls(&[("http://a/1", 0), ("http://a/2", 0)]).await;
    let f = f.frontier.as_ref();
    let g = gate(1, &[]);
    let first = f.lease(&g).await.expect("lease").expect("some");
    // The second lease must wait for the first to complete.
    let waiting = tokio::time::timeout(Duration::from_millis(50), f.lease(&g)).await;
    assert!(waiting.is_err(), "second lease handed out over the cap");
    f.complete(first, Done::Fetched).await.expect("complete");
    let second = f.lease(&g).await.expect("lease").expect("some");
    assert_eq!(second.url.as_str(), "http://a/2");
    f.complete(second, Done::Fetched).await.expect("complete");
    assert!(
        f.lease(&g).await.expect("lease").is_none(),
        "crawl should be over"
    );
}

pub async fn kind_depth_and_referrer_survive_the_queue(make: fn(Limits) -> Fixture) {
    let f = make(unlimited());
    let mut sitemap = cand("http://a/sitemap.xml", 7);
    sitemap.kind = UrlKind::Sitemap;
    let mut page = cand("http://a/page?q=1", 3);
    page.referrer = Some("http://a/from".into());
    let f = f.frontier.as_ref();
    f.push(vec![sitemap, page]).await.expect("push");
    let g = gate(8, &[]);
    let first = f.lease(&g).await.expect("lease").expect("some");
    assert_eq!((first.kind, first.depth), (UrlKind::Sitemap, 7));
    assert_eq!(first.referrer, None);
    let second = f.lease(&g).await.expect("lease").expect("some");
    assert_eq!((second.kind, second.depth), (UrlKind::Page, 3));
    assert_eq!(second.url.as_str(), "http://a/page?q=1");
    assert_eq!(second.referrer.as_deref(), Some("http://a/from"));
}

pub async fn close_ends_waiting_leases(make: fn(Limits) -> Fixture) {
    let fixture = make(unlimited());
    let f = fixture.frontier.clone();
    fixture.push_urls(&[("http://a/1", 0)]).await;
    let g = Arc::new(gate(8, &["http://a:80"]));
    let (f2, g2) = (f.clone(), g.clone());
    let waiter = tokio::spawn(async move { f2.lease(g2.as_ref()).await.map(|l| l.is_some()) });
    tokio::time::sleep(Duration::from_millis(20)).await;
    f.close();
    let got = tokio::time::timeout(Duration::from_secs(1), waiter)
        .await
        .expect("lease returned")
        .expect("task")
        .expect("lease");
    assert!(!got);
}

/// Defines one `#[tokio::test]` per shared behaviour, on frontiers from `$make`.
macro_rules! tests {
    ($make:path) => {
        $crate::frontier::behaviour::tests!(@each $make,
            duplicates_and_depth_are_reported_per_candidate,
            a_url_refused_for_depth_is_admitted_by_a_shorter_path,
            max_pages_counts_fetches_and_unfetched_leases_give_back,
            a_blocked_origin_does_not_hold_up_others,
            per_origin_cap_then_release_on_complete,
            kind_depth_and_referrer_survive_the_queue,
            close_ends_waiting_leases,
        );
    };
    (@each $make:path, $($name:ident,)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                $crate::frontier::behaviour::$name($make).await;
            }
        )*
    };
}
pub(crate) use tests;
