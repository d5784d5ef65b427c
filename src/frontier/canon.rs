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
fn completes_escape(tail: &[u8], decoded: u8) -> bool {
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
    if !path.as_bytes().contains(&b'%') {
        return None;
    }
    normalize_escapes(path.as_bytes(), |_| false)
}

/// RFC 3986 section 6.2.2.2 on `input`: escaped unreserved characters
/// decoded, the hex digits of the escapes that stay upper-cased, and each
/// byte `escape` picks written as an escape (`%XX`), so that two spellings
/// of one path come out equal. `None` when nothing changes. A `%` not
/// followed by two hex digits stays as it is, as URL parsing leaves it.
pub(crate) fn normalize_escapes(input: &[u8], escape: impl Fn(u8) -> bool) -> Option<String> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(input.len());
    let mut changed = false;
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'%'
            && let (Some(&h), Some(&l)) = (input.get(i + 1), input.get(i + 2))
            && let (Some(hi), Some(lo)) = (hex_value(h), hex_value(l))
        {
            let decoded = hi * 16 + lo;
            if is_unreserved(decoded) && !completes_escape(&out, decoded) {
                out.push(decoded);
                changed = true;
            } else {
                let upper = [b'%', h.to_ascii_uppercase(), l.to_ascii_uppercase()];
                changed |= upper[1] != h || upper[2] != l;
                out.extend_from_slice(&upper);
            }
            i += 3;
            continue;
        }
        if escape(b) {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
            changed = true;
        } else {
            out.push(b);
        }
        i += 1;
    }
    // Valid UTF-8 in gives valid UTF-8 out (only ASCII is decoded or
    // written); other bytes are replaced only when `escape` left them.
    changed.then(|| String::from_utf8_lossy(&out).into_owned())
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
    fn fingerprints_differ_for_different_pages() {
        let a = Url::parse("http://h/a").expect("parses");
        let b = Url::parse("http://h/b").expect("parses");
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}
