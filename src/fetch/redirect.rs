//! The next hop of a redirect, as a pure function: the `Location` header
//! (raw bytes, as servers send them) resolved against the URL requested,
//! with the hop limit, loop detection and the scheme check. Whether the
//! target is in scope or allowed by robots.txt is the caller's question.

use std::collections::HashSet;

use url::Url;

use crate::record::ErrorKind;

/// Redirects followed for one URL (browsers allow about 20; 10 is plenty).
pub const MAX_REDIRECTS: usize = 10;

/// Why a redirect is not followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub kind: ErrorKind,
    pub message: String,
}

fn refused(kind: ErrorKind, message: String) -> Refused {
    Refused { kind, message }
}

/// `Location` as a string: UTF-8 when it is (the URL parser then
/// percent-encodes what needs it, as browsers do), every other byte
/// above ASCII percent-encoded.
fn location_text(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(s) => s.trim().to_string(),
        Err(_) => {
            let mut out = String::with_capacity(raw.len() * 3);
            for &b in raw {
                if b.is_ascii() {
                    out.push(char::from(b));
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out.trim().to_string()
        }
    }
}

/// The URL a redirect from `current` leads to. `followed` is how many
/// redirects led to `current`; `seen` holds every URL requested so far
/// (canonical, as `canonical` makes them).
pub fn next_hop(
    current: &Url,
    location: Option<&[u8]>,
    followed: usize,
    seen: &HashSet<String>,
    canonical: impl Fn(&mut Url),
) -> Result<Url, Refused> {
    let Some(raw) = location else {
        return Err(refused(
            ErrorKind::BadRedirect,
            "redirect without a Location header".to_string(),
        ));
    };
    let text = location_text(raw);
    if text.is_empty() {
        return Err(refused(
            ErrorKind::BadRedirect,
            "redirect with an empty Location header".to_string(),
        ));
    }
    let mut next = current.join(&text).map_err(|e| {
        refused(
            ErrorKind::BadRedirect,
            format!("bad Location {text:?}: {e}"),
        )
    })?;
    canonical(&mut next);
    if !matches!(next.scheme(), "http" | "https") {
        return Err(refused(
            ErrorKind::Scheme,
            format!("redirect to {next}: not http(s)"),
        ));
    }
    if followed >= MAX_REDIRECTS {
        return Err(refused(
            ErrorKind::TooManyRedirects,
            format!("more than {MAX_REDIRECTS} redirects"),
        ));
    }
    if seen.contains(next.as_str()) {
        return Err(refused(
            ErrorKind::RedirectLoop,
            format!("redirect loop back to {next}"),
        ));
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(location: Option<&[u8]>, followed: usize, seen: &[&str]) -> Result<Url, Refused> {
        let current = Url::parse("http://example.com/a/b").expect("url");
        let seen = seen.iter().map(|s| s.to_string()).collect();
        next_hop(&current, location, followed, &seen, |_| {})
    }

    #[test]
    fn relative_absolute_and_raw_utf8_locations() {
        assert_eq!(
            hop(Some(b"c"), 0, &[]).expect("ok").as_str(),
            "http://example.com/a/c"
        );
        assert_eq!(
            hop(Some(b" https://other.org/x "), 0, &[])
                .expect("ok")
                .as_str(),
            "https://other.org/x"
        );
        // Raw UTF-8, as some servers send it: percent-encoded as browsers do.
        assert_eq!(
            hop(Some("/café".as_bytes()), 0, &[]).expect("ok").as_str(),
            "http://example.com/caf%C3%A9"
        );
        // Bytes that are not UTF-8 are percent-encoded one by one.
        assert_eq!(
            hop(Some(b"/caf\xe9"), 0, &[]).expect("ok").as_str(),
            "http://example.com/caf%E9"
        );
    }

    #[test]
    fn each_refusal_has_its_kind() {
        let kind = |r: Result<Url, Refused>| r.expect_err("refused").kind;
        assert_eq!(kind(hop(None, 0, &[])), ErrorKind::BadRedirect);
        assert_eq!(kind(hop(Some(b"  "), 0, &[])), ErrorKind::BadRedirect);
        assert_eq!(
            kind(hop(Some(b"http://[::1"), 0, &[])),
            ErrorKind::BadRedirect
        );
        assert_eq!(
            kind(hop(Some(b"ftp://example.com/"), 0, &[])),
            ErrorKind::Scheme
        );
        assert_eq!(
            kind(hop(Some(b"/x"), MAX_REDIRECTS, &[])),
            ErrorKind::TooManyRedirects
        );
        assert_eq!(
            kind(hop(Some(b"/x"), 1, &["http://example.com/x"])),
            ErrorKind::RedirectLoop
        );
        assert!(hop(Some(b"/x"), MAX_REDIRECTS - 1, &[]).is_ok());
    }
}
