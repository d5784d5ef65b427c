//! Which URLs belong to the crawl: allowed domains (optionally with their
//! subdomains), include and exclude patterns on the full URL, http(s) only.

use regex::Regex;
use url::Url;

use crate::record::SkipReason;

#[derive(Clone, Debug)]
pub struct Scope {
    /// Lower-case host names; any port on them is in scope.
    pub domains: Vec<String>,
    pub subdomains: bool,
    pub include: Vec<Regex>,
    pub exclude: Vec<Regex>,
}

impl Scope {
    pub fn check(&self, url: &Url) -> Result<(), SkipReason> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SkipReason::Scheme);
        }
        let host = url.host_str().unwrap_or("");
        if !self.domains.iter().any(|d| self.host_matches(host, d)) {
            return Err(SkipReason::OutOfScope);
        }
        let s = url.as_str();
        if !self.include.is_empty() && !self.include.iter().any(|r| r.is_match(s)) {
            return Err(SkipReason::OutOfScope);
        }
        if self.exclude.iter().any(|r| r.is_match(s)) {
            return Err(SkipReason::OutOfScope);
        }
        Ok(())
    }

    fn host_matches(&self, host: &str, domain: &str) -> bool {
        host == domain
            || (self.subdomains
                && host.len() > domain.len()
                && host.ends_with(domain)
                && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(subdomains: bool, include: &[&str], exclude: &[&str]) -> Scope {
        let re = |v: &[&str]| {
            v.iter()
                .map(|p| Regex::new(p).expect("test regex"))
                .collect()
        };
        Scope {
            domains: vec!["example.com".into(), "127.0.0.1".into()],
            subdomains,
            include: re(include),
            exclude: re(exclude),
        }
    }

    fn check(s: &Scope, u: &str) -> Result<(), SkipReason> {
        s.check(&Url::parse(u).expect("test URL"))
    }

    #[test]
    fn hosts_and_subdomains() {
        let strict = scope(false, &[], &[]);
        assert!(check(&strict, "http://example.com/x").is_ok());
        assert!(
            check(&strict, "http://127.0.0.1:8082/x").is_ok(),
            "any port"
        );
        assert_eq!(
            check(&strict, "http://www.example.com/"),
            Err(SkipReason::OutOfScope)
        );
        assert_eq!(
            check(&strict, "http://badexample.com/"),
            Err(SkipReason::OutOfScope)
        );
        let subs = scope(true, &[], &[]);
        assert!(check(&subs, "http://www.example.com/").is_ok());
        assert_eq!(
            check(&subs, "http://badexample.com/"),
            Err(SkipReason::OutOfScope)
        );
        assert_eq!(
            check(&strict, "ftp://example.com/"),
            Err(SkipReason::Scheme)
        );
    }

    #[test]
    fn include_and_exclude_patterns() {
        let s = scope(false, &["/docs/"], &[r"\.pdf$"]);
        assert!(check(&s, "http://example.com/docs/a").is_ok());
        assert_eq!(
            check(&s, "http://example.com/blog/a"),
            Err(SkipReason::OutOfScope)
        );
        assert_eq!(
            check(&s, "http://example.com/docs/a.pdf"),
            Err(SkipReason::OutOfScope)
        );
    }
}
