//! The request headers as they go over the wire, for archival output
//! (WARC request records). reqwest does not expose the final request, so
//! this assembles it the way the HTTP stack does, in the same order:
//!
//! 1. the request's own headers;
//! 2. the client's defaults (`accept: */*`, `user-agent`,
//!    `accept-encoding`, then `--header`s, a later one of the same name
//!    replacing an earlier one), each only if the request has no header of
//!    that name (reqwest `execute_request`);
//! 3. `cookie` from the run's jar if absent (reqwest's cookie layer);
//! 4. `host` if absent, on HTTP/1 only (hyper-util; HTTP/2 carries the
//!    authority in a pseudo-header), with the port only when it is not the
//!    scheme's default.
//!
//! Steps 1 to 3 happen before the request is sent ([`before_send`]), so
//! cookies a response sets are not counted as sent with it; step 4 needs
//! the negotiated version ([`add_host`]). The integration tests compare the
//! result with what a test server received.

use reqwest::Version;
use reqwest::header::{COOKIE, Entry, HOST, HeaderMap, HeaderValue};
use url::Url;

/// Steps 1 to 3: `cookies` is what the jar holds for the URL, looked up
/// only when the request carries no cookie of its own.
pub fn before_send(
    request: &HeaderMap,
    defaults: &HeaderMap,
    cookies: impl FnOnce() -> Option<HeaderValue>,
) -> HeaderMap {
    let mut headers = request.clone();
    for (name, value) in defaults {
        if let Entry::Vacant(entry) = headers.entry(name) {
            entry.insert(value.clone());
        }
    }
    if let Entry::Vacant(entry) = headers.entry(COOKIE)
        && let Some(value) = cookies()
    {
        entry.insert(value);
    }
    headers
}

/// Step 4: the `host` header hyper adds to HTTP/1 requests.
pub fn add_host(headers: &mut HeaderMap, url: &Url, version: Version) {
    if !matches!(
        version,
        Version::HTTP_09 | Version::HTTP_10 | Version::HTTP_11
    ) {
        return;
    }
    let Some(host) = url.host_str() else { return };
    // Url::port() is None for the scheme's default port, as hyper leaves it out.
    let value = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    if let (Entry::Vacant(entry), Ok(value)) = (headers.entry(HOST), HeaderValue::from_str(&value))
    {
        entry.insert(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{ACCEPT, USER_AGENT};

    fn defaults() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT, HeaderValue::from_static("*/*"));
        h.insert(USER_AGENT, HeaderValue::from_static("ua"));
        h
    }

    fn names(h: &HeaderMap) -> Vec<&str> {
        h.keys().map(|k| k.as_str()).collect()
    }

    #[test]
    fn defaults_then_cookie_and_host_in_order() {
        let url = Url::parse("http://127.0.0.1:8080/a?b").expect("url");
        let mut h = before_send(&HeaderMap::new(), &defaults(), || {
            Some(HeaderValue::from_static("k=v"))
        });
        add_host(&mut h, &url, Version::HTTP_11);
        assert_eq!(names(&h), ["accept", "user-agent", "cookie", "host"]);
        assert_eq!(h[HOST], "127.0.0.1:8080");
    }

    #[test]
    fn the_request_s_own_headers_win_and_default_ports_are_left_out() {
        let mut own = HeaderMap::new();
        own.insert(ACCEPT, HeaderValue::from_static("text/html"));
        own.insert(COOKIE, HeaderValue::from_static("mine=1"));
        let mut h = before_send(&own, &defaults(), || panic!("jar not asked"));
        assert_eq!(h[ACCEPT], "text/html");
        assert_eq!(h[COOKIE], "mine=1");
        add_host(
            &mut h,
            &Url::parse("https://example.org:443/").expect("url"),
            Version::HTTP_11,
        );
        assert_eq!(h[HOST], "example.org");
        let mut h2 = HeaderMap::new();
        add_host(
            &mut h2,
            &Url::parse("https://example.org/").expect("url"),
            Version::HTTP_2,
        );
        assert!(h2.is_empty());
    }
}
