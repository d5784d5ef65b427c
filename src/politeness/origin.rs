//! The origin key: what robots.txt, rate limits, concurrency caps and the
//! frontier's per-host queues are kept by.

use url::Url;

/// `scheme://host:port` with the port always spelled out: the key for
/// robots.txt, rate limits and per-host queues. Two ports on one host are two
/// origins (RFC 9309 section 2.3: robots.txt applies to one authority).
pub fn origin_key(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    let port = url.port_or_known_default().unwrap_or(0);
    format!("{}://{}:{}", url.scheme(), host, port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_spells_out_the_port() {
        let u = Url::parse("http://h/x").expect("parses");
        assert_eq!(origin_key(&u), "http://h:80");
        let u = Url::parse("https://h:8443/x").expect("parses");
        assert_eq!(origin_key(&u), "https://h:8443");
    }
}
