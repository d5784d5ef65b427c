//! Canonical URLs and their fingerprints: the identity used for dedup.
//!
//! The `url` crate already lower-cases scheme and host, applies IDNA, drops
//! default ports and resolves dot segments (WHATWG URL parsing). On top of
//! that we drop the fragment and normalise percent-encoding in the path:
//! `%7e` and `%7E` and `~` are the same resource (RFC 3986 section 6.2.2).
//! The query is kept byte for byte unless the caller asks to sort it, since
//! many servers treat parameter order as meaningful.

use url::Url;

/// A 64-bit fingerprint of a canonical URL. At 10 million URLs the chance of
/// any collision is about 3 in a million; the seen set stores only these.
pub type Fingerprint = u64;

/// How far to go beyond the always-applied normalisation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueryPolicy {
    /// Keep the query exactly as found.
    #[default]
    Keep,
    /// Sort `key=value` pairs so that `?b=2&a=1` equals `?a=1&b=2`.
    Sort,
}

/// Puts `url` into canonical form in place.
pub fn canonicalize(url: &mut Url, query: QueryPolicy) {
    url.set_fragment(None);
    if let Some(path) = normalize_percent(url.path()) {
        url.set_path(&path);
    }
    if query == QueryPolicy::Sort
        && let Some(q) = url.query()
    {
        let mut pairs: Vec<&str> = q.split('&').filter(|p| !p.is_empty()).collect();
        pairs.sort_unstable();
        let sorted = pairs.join("&");
        url.set_query(if sorted.is_empty() {
            None
        } else {
            Some(&sorted)
        });
    }
}

/// The dedup key of an already canonical URL.
pub fn fingerprint(url: &Url) -> Fingerprint {
    xxhash_rust::xxh3::xxh3_64(url.as_str().as_bytes())
}

/// `scheme://host:port` with the port always spelled out: the key for
/// robots.txt, rate limits and per-host queues. Two ports on one host are two
/// origins (RFC 9309 section 2.3: robots.txt applies to one authority).
pub fn origin_key(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    let port = url.port_or_known_default().unwrap_or(0);
    format!("{}://{}:{}", url.scheme(), host, port)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Whether writing `decoded` after `out` would complete an escape that was
/// not one: after a stray `%` (`%%34` would give `%4`) or a stray `%X`
/// (`%2%64` would give `%2d`, which the next pass decodes to `-`). Such an
/// escape stays, so canonicalising twice gives the same URL.
fn completes_escape(out: &str, decoded: u8) -> bool {
    let tail = out.as_bytes();
    decoded.is_ascii_hexdigit()
        && match tail {
            [.., b'%'] => true,
            [.., b'%', x] => x.is_ascii_hexdigit(),
            _ => false,
        }
}

/// Decodes escaped unreserved characters and upper-cases the hex digits of
/// the escapes that stay; `None` when the path is already normal.
fn normalize_percent(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    if !bytes.contains(&b'%') {
        return None;
    }
    let mut out = String::with_capacity(path.len());
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2]))
        {
            let decoded = hi * 16 + lo;
            if is_unreserved(decoded) && !completes_escape(&out, decoded) {
                out.push(decoded as char);
                changed = true;
            } else {
                let upper = [
                    b'%',
                    bytes[i + 1].to_ascii_uppercase(),
                    bytes[i + 2].to_ascii_uppercase(),
                ];
                changed |= upper[1] != bytes[i + 1] || upper[2] != bytes[i + 2];
                out.push_str(std::str::from_utf8(&upper).unwrap_or("%"));
            }
            i += 3;
            continue;
        }
        // The path of a parsed Url is ASCII, so byte-wise copying is exact.
        out.push(bytes[i] as char);
        i += 1;
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        let mut u = Url::parse(s).expect("test URL parses");
        canonicalize(&mut u, QueryPolicy::Keep);
        u.to_string()
    }

    #[test]
    fn variants_of_one_page_share_a_canonical_form() {
        let expected = "http://example.com/a/b.html";
        for v in [
            "http://example.com/a/b.html",
            "HTTP://Example.COM/a/b.html",
            "http://example.com:80/a/b.html",
            "http://example.com/a/./b.html",
            "http://example.com/a/x/../b.html",
            "http://example.com/a/b.html#top",
            "http://example.com/%61/b.html",
        ] {
            assert_eq!(canon(v), expected, "{v}");
        }
    }

    #[test]
    fn escapes_that_must_stay_are_upper_cased() {
        assert_eq!(canon("http://h/a%2fb%7e"), "http://h/a%2Fb~");
        assert_eq!(canon("http://h/%e2%82%ac"), "http://h/%E2%82%AC");
        assert_eq!(canon("http://h/100%"), "http://h/100%");
        assert_eq!(canon("http://h/%zz"), "http://h/%zz");
    }

    #[test]
    fn an_escape_decoded_next_to_a_stray_percent_stays_escaped() {
        // Found by fuzz/fuzz_targets/canon.rs: `%64` decoded to `d` after the
        // stray `%2` made `%2d`, which the next canonicalisation decoded to
        // `-`: two passes gave two URLs (and two fingerprints).
        let once = canon("http://example.com/dir/43/%6E%2%64E%2E/|h.xe?a");
        assert_eq!(once, "http://example.com/dir/43/n%2%64E./|h.xe?a");
        assert_eq!(canon(&once), once);
        for stray in ["http://h/%%34%31", "http://h/%4%31", "http://h/a%%2d"] {
            let once = canon(stray);
            assert_eq!(canon(&once), once, "{stray}");
        }
        assert_eq!(canon("http://h/%%34%31"), "http://h/%%341");
    }

    #[test]
    fn idna_and_https_default_port() {
        assert_eq!(
            canon("https://BÜCHER.example:443/"),
            "https://xn--bcher-kva.example/"
        );
    }

    #[test]
    fn query_is_kept_unless_sorting_is_asked() {
        assert_eq!(canon("http://h/p?b=2&a=1"), "http://h/p?b=2&a=1");
        let mut u = Url::parse("http://h/p?b=2&a=1").expect("parses");
        canonicalize(&mut u, QueryPolicy::Sort);
        assert_eq!(u.as_str(), "http://h/p?a=1&b=2");
    }

    #[test]
    fn origin_spells_out_the_port() {
        let u = Url::parse("http://h/x").expect("parses");
        assert_eq!(origin_key(&u), "http://h:80");
        let u = Url::parse("https://h:8443/x").expect("parses");
        assert_eq!(origin_key(&u), "https://h:8443");
    }

    #[test]
    fn fingerprints_differ_for_different_pages() {
        let a = Url::parse("http://h/a").expect("parses");
        let b = Url::parse("http://h/b").expect("parses");
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}
