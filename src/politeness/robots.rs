//! robots.txt per origin, following RFC 9309, parsed by `texting_robots`.
//!
//! The verdict for each kind of answer is a plain function
//! ([`RobotsRules::from_response`]); the cache fetches each origin's file at
//! most once per run, through a fetch function the caller supplies, so that
//! this module does no HTTP of its own.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use texting_robots::Robot;
use tokio::sync::OnceCell;

/// What fetching `/robots.txt` gave, after following up to five redirects.
#[derive(Debug)]
pub enum RobotsResponse {
    /// A 2xx answer with its body.
    Body(Vec<u8>),
    /// Any other final status (3xx here means the redirect limit was hit).
    Status(u16),
    /// No answer: connection refused, timeout, TLS failure.
    Unreachable,
}

#[derive(Debug)]
pub enum RobotsRules {
    AllowAll,
    DisallowAll,
    Rules(Box<Robot>),
}

impl RobotsRules {
    /// RFC 9309 section 2.3.1: 2xx is parsed; 4xx ("unavailable") allows
    /// everything; 5xx and network errors ("unreachable") disallow
    /// everything. 429 is treated as unreachable: the server is asking us
    /// to stay away. Too many redirects counts as unavailable (2.3.1.2).
    pub fn from_response(resp: &RobotsResponse, agent: &str) -> Self {
        match resp {
            RobotsResponse::Body(body) => match Robot::new(agent, body) {
                Ok(r) => Self::Rules(Box::new(r)),
                // The parser accepts nearly anything; a file it cannot read
                // at all carries no rule we could follow.
                Err(_) => Self::AllowAll,
            },
            RobotsResponse::Status(429) => Self::DisallowAll,
            RobotsResponse::Status(s) if *s >= 500 => Self::DisallowAll,
            RobotsResponse::Status(_) => Self::AllowAll,
            RobotsResponse::Unreachable => Self::DisallowAll,
        }
    }

    /// Whether the URL (absolute, or path and query) may be fetched.
    pub fn allows(&self, url: &str) -> bool {
        match self {
            Self::AllowAll => true,
            Self::DisallowAll => false,
            Self::Rules(r) => r.allowed(url),
        }
    }

    /// The `Crawl-delay` for our group, if any and if positive.
    pub fn crawl_delay(&self) -> Option<Duration> {
        match self {
            Self::Rules(r) => r
                .delay
                .filter(|d| d.is_finite() && *d > 0.0)
                // `Crawl-delay: 1e30` is a finite f32 beyond what a Duration
                // holds (from_secs_f64 would panic); `--max-wait` caps it.
                .map(|d| Duration::try_from_secs_f64(f64::from(d)).unwrap_or(Duration::MAX)),
            _ => None,
        }
    }

    pub fn sitemaps(&self) -> &[String] {
        match self {
            Self::Rules(r) => &r.sitemaps,
            _ => &[],
        }
    }
}

/// The product token of a User-Agent header: `collector/0.1 (+url)` gives
/// `collector`, which is what robots.txt groups are matched against.
pub fn agent_token(user_agent: &str) -> &str {
    let end = user_agent
        .find(|c: char| c == '/' || c.is_whitespace())
        .unwrap_or(user_agent.len());
    &user_agent[..end]
}

/// The rules of every origin seen in this run, each fetched once even when
/// many requests ask for it at the same time.
pub struct RobotsCache {
    agent: String,
    origins: Mutex<HashMap<String, Arc<OnceCell<Arc<RobotsRules>>>>>,
}

impl RobotsCache {
    pub fn new(user_agent: &str) -> Self {
        Self {
            agent: agent_token(user_agent).to_string(),
            origins: Mutex::new(HashMap::new()),
        }
    }

    /// The rules for `origin`, fetching them with `fetch` the first time.
    /// Returns whether this call did the fetch, so the caller can act on a
    /// new `Crawl-delay` once.
    pub async fn get<F, Fut>(&self, origin: &str, fetch: F) -> (Arc<RobotsRules>, bool)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = RobotsResponse>,
    {
        let cell = {
            let mut map = self.origins.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(origin.to_string()).or_default().clone()
        };
        if let Some(rules) = cell.get() {
            return (rules.clone(), false);
        }
        let mut fetched = false;
        let rules = cell
            .get_or_init(|| async {
                fetched = true;
                Arc::new(RobotsRules::from_response(&fetch().await, &self.agent))
            })
            .await;
        (rules.clone(), fetched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_rfc_9309_verdicts() {
        let a = "collector";
        assert!(RobotsRules::from_response(&RobotsResponse::Status(404), a).allows("/x"));
        assert!(RobotsRules::from_response(&RobotsResponse::Status(403), a).allows("/x"));
        assert!(!RobotsRules::from_response(&RobotsResponse::Status(500), a).allows("/x"));
        assert!(!RobotsRules::from_response(&RobotsResponse::Status(503), a).allows("/x"));
        assert!(!RobotsRules::from_response(&RobotsResponse::Unreachable, a).allows("/x"));
        assert!(RobotsRules::from_response(&RobotsResponse::Status(301), a).allows("/x"));
    }

    #[test]
    fn our_group_wins_over_star() {
        let txt = b"User-agent: *\nDisallow: /\n\nUser-agent: collector\nDisallow: /private\nCrawl-delay: 2\n";
        let r = RobotsRules::from_response(&RobotsResponse::Body(txt.to_vec()), "collector");
        assert!(r.allows("http://h/public"));
        assert!(!r.allows("http://h/private/x"));
        assert_eq!(r.crawl_delay(), Some(Duration::from_secs(2)));
        let other = RobotsRules::from_response(&RobotsResponse::Body(txt.to_vec()), "otherbot");
        assert!(!other.allows("http://h/public"));
    }

    #[test]
    fn a_crawl_delay_too_large_for_a_duration_does_not_panic() {
        let txt = b"User-agent: *\nCrawl-delay: 1e30\n";
        let r = RobotsRules::from_response(&RobotsResponse::Body(txt.to_vec()), "collector");
        assert_eq!(r.crawl_delay(), Some(Duration::MAX));
    }

    #[test]
    fn agent_token_is_the_product_name() {
        assert_eq!(agent_token("collector/0.1.0 (+https://x)"), "collector");
        assert_eq!(agent_token("MyBot"), "MyBot");
    }

    #[tokio::test]
    async fn each_origin_is_fetched_once() {
        let cache = RobotsCache::new("collector/1");
        let (_, first) = cache
            .get("http://h:80", || async { RobotsResponse::Status(404) })
            .await;
        let (rules, second) = cache
            .get("http://h:80", || async { RobotsResponse::Status(500) })
            .await;
        assert!(first && !second);
        assert!(rules.allows("/x"), "cached 404 verdict kept");
    }
}
