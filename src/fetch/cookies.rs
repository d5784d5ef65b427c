//! The run's cookie jar (`--cookies`): RFC 6265 storage and matching by
//! `cookie_store`, as in reqwest's own `Jar`, within the limits of RFC 6265
//! section 6.1, so that a site setting a new cookie on every page cannot
//! grow the jar (and every request's `Cookie` header) without bound.
//!
//! The limits are those the RFC asks user agents to support at least: 50
//! cookies per domain, 4096 bytes per cookie, 3000 in all. Past one, the
//! cookie set least recently goes first.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use bytes::Bytes;
use cookie_store::{CookieStore, RawCookie, StoreAction};
use reqwest::header::HeaderValue;
use url::Url;

/// Cookies kept per domain (the `Domain` attribute, or the host).
pub const MAX_COOKIES_PER_DOMAIN: usize = 50;
/// Bytes of one `Set-Cookie` value (name, value and attributes); a larger
/// cookie is not stored.
pub const MAX_COOKIE_BYTES: usize = 4096;
/// Cookies kept in all.
pub const MAX_COOKIES: usize = 3000;

/// A cookie store with RFC 6265 section 6.1's limits.
#[derive(Default)]
pub struct Jar(Mutex<Bounded>);

/// How `cookie_store` files a cookie: domain, path, name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    domain: String,
    path: String,
    name: String,
}

#[derive(Default)]
struct Bounded {
    store: CookieStore,
    /// When each stored cookie was last set, on a counter.
    set_at: HashMap<Key, u64>,
    /// The stored cookies by when they were set, oldest first.
    by_age: BTreeMap<u64, Key>,
    /// The same, per domain.
    by_domain: HashMap<String, BTreeMap<u64, Key>>,
    clock: u64,
}

impl Bounded {
    fn set(&mut self, header: &HeaderValue, url: &Url) {
        if header.len() > MAX_COOKIE_BYTES {
            return;
        }
        let Some(raw) = std::str::from_utf8(header.as_bytes())
            .ok()
            .and_then(|text| RawCookie::parse(text).ok())
        else {
            return;
        };
        let Ok(cookie) = cookie_store::Cookie::try_from_raw_cookie(&raw.into_owned(), url) else {
            return;
        };
        let key = Key {
            domain: String::from(&cookie.domain),
            path: String::from(&cookie.path),
            name: cookie.name().to_string(),
        };
        match self.store.insert(cookie, url) {
            Ok(StoreAction::Inserted | StoreAction::UpdatedExisting) => {
                self.forget(&key);
                self.remember(key);
            }
            // An expired cookie removes the one it names.
            Ok(StoreAction::ExpiredExisting) => self.evict(&key),
            Err(_) => {}
        }
    }

    fn remember(&mut self, key: Key) {
        self.clock += 1;
        let at = self.clock;
        self.by_domain
            .entry(key.domain.clone())
            .or_default()
            .insert(at, key.clone());
        self.by_age.insert(at, key.clone());
        self.set_at.insert(key.clone(), at);
        if let Some(oldest) = self
            .by_domain
            .get(&key.domain)
            .filter(|cookies| cookies.len() > MAX_COOKIES_PER_DOMAIN)
            .and_then(|cookies| cookies.values().next().cloned())
        {
            self.evict(&oldest);
        }
        if self.by_age.len() > MAX_COOKIES
            && let Some(oldest) = self.by_age.values().next().cloned()
        {
            self.evict(&oldest);
        }
    }

    /// Drops `key` from the bookkeeping (not from the store).
    fn forget(&mut self, key: &Key) {
        let Some(at) = self.set_at.remove(key) else {
            return;
        };
        self.by_age.remove(&at);
        if let Some(cookies) = self.by_domain.get_mut(&key.domain) {
            cookies.remove(&at);
            if cookies.is_empty() {
                self.by_domain.remove(&key.domain);
            }
        }
    }

    fn evict(&mut self, key: &Key) {
        self.forget(key);
        self.store.remove(&key.domain, &key.path, &key.name);
    }
}

impl reqwest::cookie::CookieStore for Jar {
    fn set_cookies(&self, cookie_headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        let mut jar = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for header in cookie_headers {
            jar.set(header, url);
        }
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        let jar = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let value = jar
            .store
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        if value.is_empty() {
            return None;
        }
        HeaderValue::from_maybe_shared(Bytes::from(value)).ok()
    }
}

#[cfg(test)]
mod tests {
    use reqwest::cookie::CookieStore as _;

    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    fn set(jar: &Jar, url: &Url, cookies: &[String]) {
        let headers: Vec<HeaderValue> = cookies
            .iter()
            .map(|c| HeaderValue::from_str(c).expect("header"))
            .collect();
        jar.set_cookies(&mut headers.iter(), url);
    }

    /// The cookie names sent to `url`, sorted.
    fn sent(jar: &Jar, url: &Url) -> Vec<String> {
        let mut names: Vec<String> = jar
            .cookies(url)
            .map(|v| v.to_str().expect("ASCII").to_string())
            .unwrap_or_default()
            .split("; ")
            .filter(|pair| !pair.is_empty())
            .map(|pair| pair.split('=').next().unwrap_or("").to_string())
            .collect();
        names.sort();
        names
    }

    fn names(range: std::ops::Range<usize>) -> Vec<String> {
        let mut names: Vec<String> = range.map(|n| format!("c{n:04}")).collect();
        names.sort();
        names
    }

    #[test]
    fn cookies_are_kept_and_sent_as_reqwest_s_jar_does() {
        let jar = Jar::default();
        let site = url("http://h.example/a/page");
        set(
            &jar,
            &site,
            &["a=1; Path=/".into(), "b=2; Path=/a".into(), "bad".into()],
        );
        assert_eq!(sent(&jar, &site), ["a", "b"]);
        assert_eq!(sent(&jar, &url("http://h.example/other")), ["a"]);
        assert!(jar.cookies(&url("http://elsewhere.example/")).is_none());
        // Setting a cookie again replaces it; an expired one removes it.
        set(&jar, &site, &["a=3; Path=/".into()]);
        let value = jar.cookies(&url("http://h.example/")).expect("cookie");
        assert_eq!(value.to_str().expect("ASCII"), "a=3");
        set(&jar, &site, &["a=; Path=/; Max-Age=0".into()]);
        assert_eq!(sent(&jar, &site), ["b"]);
    }

    #[test]
    fn at_most_50_per_domain_the_oldest_going_first() {
        let jar = Jar::default();
        let site = url("http://h.example/");
        for n in 0..120 {
            set(&jar, &site, &[format!("c{n:04}=v; Path=/")]);
        }
        assert_eq!(sent(&jar, &site), names(70..120));
        // Setting an old cookie again makes it the newest.
        set(&jar, &site, &["c0070=again; Path=/".into()]);
        set(&jar, &site, &["c0120=v; Path=/".into()]);
        let mut expected = names(72..121);
        expected.push("c0070".into());
        expected.sort();
        assert_eq!(sent(&jar, &site), expected);
        // Another domain has its own 50.
        let other = url("http://other.example/");
        set(&jar, &other, &["x=1".into()]);
        assert_eq!(sent(&jar, &other), ["x"]);
        assert_eq!(sent(&jar, &site).len(), MAX_COOKIES_PER_DOMAIN);
    }

    #[test]
    fn at_most_3000_in_all() {
        let jar = Jar::default();
        for host in 0..70 {
            let site = url(&format!("http://h{host}.example/"));
            let cookies: Vec<String> = (0..50).map(|n| format!("c{n:04}=v")).collect();
            set(&jar, &site, &cookies);
        }
        let total: usize = (0..70)
            .map(|host| sent(&jar, &url(&format!("http://h{host}.example/"))).len())
            .sum();
        assert_eq!(total, MAX_COOKIES);
        // 3500 were set: the first 10 hosts' 500 were the oldest.
        assert!(sent(&jar, &url("http://h9.example/")).is_empty());
        assert_eq!(sent(&jar, &url("http://h10.example/")).len(), 50);
    }

    #[test]
    fn a_cookie_over_4096_bytes_is_not_stored() {
        let jar = Jar::default();
        let site = url("http://h.example/");
        let fits = format!("big={}", "x".repeat(MAX_COOKIE_BYTES - 4));
        let too_big = format!("huge={}", "x".repeat(MAX_COOKIE_BYTES));
        set(&jar, &site, &[fits, too_big]);
        assert_eq!(sent(&jar, &site), ["big"]);
    }
}
