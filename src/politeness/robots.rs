//! robots.txt per origin, following RFC 9309, parsed by `texting_robots`.
//!
//! The verdict for each kind of answer is a plain function
//! ([`RobotsRules::from_response`]); the cache fetches each origin's file at
//! most once per run, through a fetch function the caller supplies, so that
//! this module does no HTTP of its own. Patterns and URLs are compared in
//! one normal form ([`super::robots_path`]).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use texting_robots::Robot;
use tokio::sync::OnceCell;
use url::Url;

use super::robots_path::{normalize_rules, url_form};

/// How much of a robots.txt is read: RFC 9309 section 2.5 asks crawlers to
/// parse at least the first 500 KiB; the rest of a larger file is ignored.
pub const ROBOTS_MAX_BYTES: u64 = 512 * 1024;

/// What fetching `/robots.txt` gave, after following up to five redirects.
#[derive(Debug)]
pub enum RobotsResponse {
    /// A 2xx answer with its body (one longer than [`ROBOTS_MAX_BYTES`] is
    /// read as cut there).
    Body(Vec<u8>),
    /// A 2xx answer whose body was cut at [`ROBOTS_MAX_BYTES`] while it was
    /// read: its last line may be partial and is dropped.
    Truncated(Vec<u8>),
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
            RobotsResponse::Body(body) if body.len() as u64 <= ROBOTS_MAX_BYTES => {
                Self::parse(agent, body)
            }
            RobotsResponse::Body(body) | RobotsResponse::Truncated(body) => {
                Self::parse(agent, complete_lines(body))
            }
            RobotsResponse::Status(429) => Self::DisallowAll,
            RobotsResponse::Status(s) if *s >= 500 => Self::DisallowAll,
            RobotsResponse::Status(_) => Self::AllowAll,
            RobotsResponse::Unreachable => Self::DisallowAll,
        }
    }

    fn parse(agent: &str, body: &[u8]) -> Self {
        match Robot::new(agent, &normalize_rules(body)) {
            Ok(r) => Self::Rules(Box::new(r)),
            // The parser accepts nearly anything; a file it cannot read
            // at all carries no rule we could follow.
            Err(_) => Self::AllowAll,
        }
    }

    /// Whether the URL (absolute, or path and query) may be fetched.
    pub fn allows(&self, url: &str) -> bool {
        match self {
            Self::AllowAll => true,
            Self::DisallowAll => false,
            Self::Rules(r) => r.allowed(&url_form(url)),
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

    /// The `Sitemap:` values as written.
    pub fn sitemaps(&self) -> &[String] {
        match self {
            Self::Rules(r) => &r.sitemaps,
            _ => &[],
        }
    }

    /// The sitemaps named, resolved against `base` (the robots.txt URL):
    /// `Sitemap: /sitemap.xml` is a sitemap of that host. Values that do
    /// not make an http(s) URL are dropped; each URL comes once.
    pub fn sitemap_urls(&self, base: &Url) -> Vec<Url> {
        let mut urls: Vec<Url> = Vec::new();
        for value in self.sitemaps() {
            if let Ok(url) = base.join(value.trim())
                && matches!(url.scheme(), "http" | "https")
                && !urls.contains(&url)
            {
                urls.push(url);
            }
        }
        urls
    }
}

/// `body` without the partial line a cut may have left at its end (all of
/// it when it has no line break). At most [`ROBOTS_MAX_BYTES`] are kept.
fn complete_lines(body: &[u8]) -> &[u8] {
    let cap = usize::try_from(ROBOTS_MAX_BYTES).unwrap_or(usize::MAX);
    let body = body.get(..cap).unwrap_or(body);
    match body.iter().rposition(|&b| matches!(b, b'\n' | b'\r')) {
        Some(end) => &body[..=end],
        None => &[],
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

    fn rules(txt: &str) -> RobotsRules {
        RobotsRules::from_response(&RobotsResponse::Body(txt.into()), "foobot")
    }

    #[test]
    fn rfc_9309_example_groups() {
        // Section 5.1.
        let txt = "User-Agent: *\nDisallow: *.gif$\nDisallow: /example/\nAllow: /publications/\n\n\
                   User-Agent: foobot\nDisallow:/\nAllow:/example/page.html\nAllow:/example/allowed.gif\n\n\
                   User-Agent: barbot\nUser-Agent: bazbot\nDisallow: /example/page.html\n\n\
                   User-Agent: quxbot\n";
        let verdicts = |agent: &str| {
            let r = RobotsRules::from_response(&RobotsResponse::Body(txt.into()), agent);
            [
                "/example/page.html",
                "/example/allowed.gif",
                "/example/other.html",
                "/publications/x.gif",
                "/a.gif",
                "/index.html",
            ]
            .map(|path| r.allows(&format!("http://example.com{path}")))
        };
        assert_eq!(verdicts("foobot"), [true, true, false, false, false, false]);
        assert_eq!(verdicts("barbot"), [false, true, true, true, true, true]);
        assert_eq!(verdicts("quxbot"), [true; 6]);
        assert_eq!(
            verdicts("otherbot"),
            [false, false, false, true, false, true]
        );
    }

    #[test]
    fn rfc_9309_longest_match_wins_and_allow_wins_ties() {
        // Section 5.2.
        let r = rules(
            "User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n",
        );
        assert!(r.allows("http://example.com/example/page/"));
        assert!(r.allows("http://example.com/example/page/x.html"));
        assert!(!r.allows("http://example.com/example/page/disallowed.gif"));
        let tie = rules("User-agent: *\nDisallow: /same\nAllow: /same\n");
        assert!(tie.allows("http://example.com/same"));
        // Lengths are those of the normal form: `/%7Eab` is `/~ab`, as long
        // as the Allow, so the tie goes to the Allow.
        let r = rules("User-agent: *\nAllow: /~ab\nDisallow: /%7Eab\n");
        assert!(r.allows("http://example.com/~abc"));
    }

    #[test]
    fn rfc_9309_special_characters() {
        // Section 2.2.3: `$` ends a pattern, `*` is any run, and both are
        // written escaped to be matched literally.
        let r = rules(
            "User-agent: *\nDisallow: /exactly$\nDisallow: /a/*/c\nDisallow: /file-%2A.html\nDisallow: /foo-%24\n",
        );
        assert!(!r.allows("http://example.com/exactly"));
        assert!(r.allows("http://example.com/exactly/more"));
        assert!(!r.allows("http://example.com/a/b/c"));
        assert!(!r.allows("http://example.com/file-*.html"));
        assert!(!r.allows("http://example.com/foo-$"));
        assert!(r.allows("http://example.com/file-x.html"));
    }

    /// The URLs a crawl asks about are canonical: `~` decoded, escapes that
    /// stay upper-cased, non-ASCII escaped by the URL parser.
    fn canonical(url: &str) -> String {
        let mut url = Url::parse(url).expect("test URL");
        crate::frontier::canon::canonicalize(&mut url, crate::frontier::canon::QueryPolicy::Keep);
        url.to_string()
    }

    #[test]
    fn escaped_patterns_match_canonical_urls() {
        for (directive, others) in [("Disallow", ""), ("Allow", "Disallow: /\n")] {
            let txt = format!(
                "User-agent: *\n{others}{directive}: /%7Ejoe/\n{directive}: /%e3%83%84\n\
                 {directive}: /caf\u{e9}/\n{directive}: /%7e%6Dary\n"
            );
            let allowed = directive == "Allow";
            let r = rules(&txt);
            for url in [
                "http://h/%7Ejoe/index.html",
                "http://h/~joe/index.html",
                "http://h/%E3%83%84/x",
                "http://h/\u{30c4}/x",
                "http://h/caf%C3%A9/",
                "http://h/caf\u{e9}/menu",
                "http://h/~mary",
            ] {
                let url = canonical(url);
                assert_eq!(r.allows(&url), allowed, "{directive} {url}");
            }
            assert_eq!(r.allows("http://h/other"), !allowed, "{directive}");
        }
    }

    #[test]
    fn escaped_slash_is_not_a_slash() {
        let r = rules("User-agent: *\nDisallow: /a%2fb\nDisallow: /c/d\n");
        assert!(!r.allows(&canonical("http://h/a%2Fb")));
        assert!(!r.allows(&canonical("http://h/a%2fb/x")));
        assert!(r.allows(&canonical("http://h/a/b")));
        assert!(r.allows(&canonical("http://h/c%2Fd")));
        assert!(!r.allows(&canonical("http://h/c/d")));
    }

    #[test]
    fn a_large_robots_txt_is_read_up_to_the_limit() {
        let limit = usize::try_from(ROBOTS_MAX_BYTES).expect("fits");
        let mut txt = b"User-agent: *\nDisallow: /first\n".to_vec();
        // Comment lines up to 16 bytes before the limit, so that the cut
        // falls inside the next rule line.
        while txt.len() + 100 < limit - 16 {
            txt.extend_from_slice(format!("#{}\n", "x".repeat(98)).as_bytes());
        }
        let pad = limit - 16 - txt.len() - 2;
        txt.extend_from_slice(format!("#{}\n", "x".repeat(pad)).as_bytes());
        assert_eq!(txt.len(), limit - 16);
        txt.extend_from_slice(b"Disallow: /cut-here-and-longer\nDisallow: /beyond\n");
        // Too long as a whole body, or cut by the reader at the limit: the
        // rules before the cut hold, the partial line is dropped (it would
        // read `Disallow: /cut-h`), and what lies beyond is unread.
        let cut = txt[..limit].to_vec();
        for resp in [RobotsResponse::Body(txt), RobotsResponse::Truncated(cut)] {
            let r = RobotsRules::from_response(&resp, "collector");
            assert!(!r.allows("http://h/first"), "{resp:?}");
            assert!(r.allows("http://h/cut-h"));
            assert!(r.allows("http://h/beyond"));
        }
        let partial =
            RobotsResponse::Truncated(b"User-agent: *\nDisallow: /a\nDisallow: /".to_vec());
        let r = RobotsRules::from_response(&partial, "collector");
        assert!(!r.allows("http://h/a") && r.allows("http://h/b"));
    }

    #[test]
    fn hostile_wildcard_patterns_are_left_out_in_bounded_time() {
        use super::super::robots_path::{MAX_ANCHORED_BYTES, MAX_PATTERN_BYTES, MAX_WILDCARDS};
        let mut txt = String::from("User-agent: *\nDisallow: /private\n");
        // 400 KB of `a*`: a piece to look for between each pair of stars.
        txt.push_str(&format!("Disallow: /{}z\n", "a*".repeat(200_000)));
        // With `$` it becomes a regex too large to compile.
        txt.push_str(&format!("Disallow: /{}$\n", "b*".repeat(5_000)));
        // The largest values still read: at both limits at once, without
        // and with `$` (compiled to a regex, and in texting_robots a rule
        // that does not compile gives up on the whole file).
        let stars = "c*".repeat(MAX_WILDCARDS);
        let fill = "d".repeat(MAX_PATTERN_BYTES - stars.len() - 2);
        txt.push_str(&format!("Disallow: /{stars}{fill}\n"));
        let anchored = "e".repeat(MAX_ANCHORED_BYTES - stars.len() - 3);
        txt.push_str(&format!(
            "Disallow: /{}{anchored}$\n",
            stars.replace('c', "f")
        ));
        txt.push_str("Disallow: /after\n");
        let started = std::time::Instant::now();
        let r = rules(&txt);
        let long_path = format!("/{}", "a".repeat(2_000));
        for i in 0..2_000 {
            assert!(r.allows(&format!("http://h{long_path}/{i}")));
        }
        let elapsed = started.elapsed();
        assert!(
            elapsed < std::time::Duration::from_secs(3),
            "parse and 2,000 verdicts took {elapsed:?}"
        );
        // The rest of the file holds: the file is not given up on.
        assert!(!r.allows("http://h/private/x"));
        assert!(!r.allows("http://h/after"));
        let at_limit = format!("http://h/{}{fill}", "c".repeat(MAX_WILDCARDS));
        assert!(!r.allows(&at_limit), "a value at the limits is read");
        let at_limit = format!("http://h/{}{anchored}", "f".repeat(MAX_WILDCARDS));
        assert!(
            !r.allows(&at_limit),
            "an anchored value at the limits is read"
        );
        assert!(r.allows(&format!("{at_limit}x")), "anchored at the end");
        assert!(
            r.allows("http://h/bbbb"),
            "the value over the limits is not"
        );
    }

    #[test]
    fn sitemaps_resolve_against_the_robots_url() {
        let r = rules(
            "Sitemap: /sitemap.xml\nSitemap: https://cdn.example/s.xml.gz\nSitemap: maps/b.xml\n\
             Sitemap: http://[bad/\nSitemap: ftp://h/x.xml\nSitemap: /sitemap.xml\nUser-agent: *\nDisallow:\n",
        );
        let base = Url::parse("http://h:8080/robots.txt").expect("base");
        let got: Vec<String> = r.sitemap_urls(&base).iter().map(Url::to_string).collect();
        assert_eq!(
            got,
            [
                "http://h:8080/sitemap.xml",
                "https://cdn.example/s.xml.gz",
                "http://h:8080/maps/b.xml",
            ]
        );
        assert!(RobotsRules::AllowAll.sitemap_urls(&base).is_empty());
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
