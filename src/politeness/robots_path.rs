//! The one form in which robots.txt patterns and URLs are compared
//! (RFC 9309 section 2.2.2), and the rewriting of a robots.txt's `Allow`
//! and `Disallow` values into it before `texting_robots` reads them.
//!
//! Both sides get the same treatment: escaped unreserved characters
//! decoded (`%7E` is `~`), the escapes that stay upper-cased (`%2f` is
//! `%2F`, still not `/`), and what a URL parser would escape escaped
//! (non-ASCII UTF-8, spaces, quotes). A URL's literal `*` and `$` become
//! `%2A` and `%24` (section 2.2.3), since in a pattern they are wildcards.
//! `texting_robots` compares patterns as written, so the rewriting is done
//! on the text, line by line, with the parser's own grammar for a rule
//! line (keys and their misspellings, `:` or blanks, `#` comments).

use std::borrow::Cow;

use url::{Position, Url};

use crate::frontier::canon::normalize_escapes;

/// The keys `texting_robots` reads as `Allow` or `Disallow`, misspellings
/// included (its `parser.rs`).
const RULE_KEYS: [&[u8]; 7] = [
    b"allow",
    b"disallow",
    b"dissallow",
    b"dissalow",
    b"disalow",
    b"diasllow",
    b"disallaw",
];

/// Bytes the `url` crate escapes in a path of an http(s) URL.
fn escaped_in_path(b: u8) -> bool {
    b <= b' ' || b >= 0x7F || matches!(b, b'"' | b'<' | b'>' | b'`' | b'{' | b'}' | b'#')
}

/// Bytes the `url` crate escapes in a query of an http(s) URL.
fn escaped_in_query(b: u8) -> bool {
    b <= b' ' || b >= 0x7F || matches!(b, b'"' | b'<' | b'>' | b'\'' | b'#')
}

/// `input` with its path (up to the first `?`) and query normalised, the
/// bytes `extra` picks escaped as well.
fn normal_form(input: &[u8], extra: impl Fn(u8) -> bool) -> String {
    let split = input.iter().position(|&b| b == b'?').unwrap_or(input.len());
    let (path, query) = input.split_at(split);
    let path = normalize_escapes(path, |b| escaped_in_path(b) || extra(b))
        .map_or_else(|| String::from_utf8_lossy(path), Cow::Owned);
    let query = normalize_escapes(query, |b| escaped_in_query(b) || extra(b))
        .map_or_else(|| String::from_utf8_lossy(query), Cow::Owned);
    let mut out = String::with_capacity(path.len() + query.len());
    out.push_str(&path);
    out.push_str(&query);
    out
}

/// An `Allow` or `Disallow` value in matching form; its `*` and `$` stay
/// wildcards. An empty value stays empty (`Disallow:` allows everything).
pub fn pattern_form(value: &[u8]) -> String {
    if value.is_empty() {
        return String::new();
    }
    normal_form(value, |_| false)
}

/// The path and query of `url` (absolute, or a path with its query) in
/// matching form; the fragment is not part of it.
pub fn url_form(url: &str) -> String {
    let path_and_query = match Url::parse(url) {
        Ok(parsed) => Cow::Owned(parsed[Position::BeforePath..Position::AfterQuery].to_string()),
        Err(_) => Cow::Borrowed(url.split('#').next().unwrap_or(url)),
    };
    let normal = normal_form(path_and_query.as_bytes(), |b| matches!(b, b'*' | b'$'));
    if normal.starts_with('/') {
        normal
    } else {
        format!("/{normal}")
    }
}

/// Longest `Allow`/`Disallow` value read. RFC 9309 sets no limit, and a
/// hostile file can hold one 500 KiB pattern, matched against every URL;
/// real rules are far shorter (Google's parser reads lines of at most
/// 16,664 bytes; what is longer than this is no path anyone writes).
pub const MAX_PATTERN_BYTES: usize = 2048;

/// Most `*` wildcards in one value (runs count once, as the parser merges
/// them). `texting_robots` looks for each piece between them in turn, so
/// the cost of a match grows with their number.
pub const MAX_WILDCARDS: usize = 32;

/// Longest value with a `$`: `texting_robots` compiles those to a regex
/// under a size limit (42 KiB), and one rule that does not compile makes
/// the whole file unreadable. At this length and [`MAX_WILDCARDS`] every
/// value compiles (the robots tests check the largest).
pub const MAX_ANCHORED_BYTES: usize = 256;

/// Whether a rule value in matching form is past [`MAX_PATTERN_BYTES`],
/// [`MAX_ANCHORED_BYTES`] or [`MAX_WILDCARDS`]: such a line is left out,
/// the rest of the file still applies.
fn too_costly(value: &[u8]) -> bool {
    let max = match value.contains(&b'$') {
        true => MAX_ANCHORED_BYTES,
        false => MAX_PATTERN_BYTES,
    };
    if value.len() > max {
        return true;
    }
    let runs = value
        .iter()
        .zip(value.iter().skip(1).chain([&0]))
        .filter(|(b, next)| **b == b'*' && **next != b'*')
        .count();
    runs > MAX_WILDCARDS
}

/// The robots.txt text with every `Allow` and `Disallow` value in
/// [`pattern_form`], and the rules too costly to match (past
/// [`MAX_PATTERN_BYTES`], [`MAX_ANCHORED_BYTES`] or [`MAX_WILDCARDS`]) left
/// out; the text as it is when none changes. NUL separates lines as it
/// does for `texting_robots`.
pub fn normalize_rules(txt: &[u8]) -> Cow<'_, [u8]> {
    let bom = if txt.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut out: Option<Vec<u8>> = None;
    let mut start = bom;
    while start < txt.len() {
        let end = txt[start..]
            .iter()
            .position(|&b| matches!(b, b'\n' | b'\r' | 0))
            .map_or(txt.len(), |at| start + at);
        let line = &txt[start..end];
        if let Some((value_at, value_end)) = rule_value(line) {
            let (value_at, value_end) = trimmed(line, value_at, value_end);
            let value = &line[value_at..value_end];
            let normal = Some(pattern_form(value)).filter(|n| !too_costly(n.as_bytes()));
            if let Some(normal) = normal.as_ref().filter(|n| n.as_bytes() != value) {
                let out = out.get_or_insert_with(|| txt[..start].to_vec());
                out.extend_from_slice(&line[..value_at]);
                out.extend_from_slice(normal.as_bytes());
                out.extend_from_slice(&line[value_end..]);
            } else if normal.is_none() {
                out.get_or_insert_with(|| txt[..start].to_vec());
            } else if let Some(out) = &mut out {
                out.extend_from_slice(line);
            }
        } else if let Some(out) = &mut out {
            out.extend_from_slice(line);
        }
        // The line break itself, copied as it is.
        if let (Some(out), Some(&b)) = (&mut out, txt.get(end)) {
            out.push(b);
        }
        start = end + 1;
    }
    out.map_or(Cow::Borrowed(txt), Cow::Owned)
}

/// Where the value of an `Allow` or `Disallow` line starts and ends (before
/// any `#` comment), read as `texting_robots` reads a rule line: blanks,
/// the key in any case, then `:` after optional blanks, or at least one
/// blank.
fn rule_value(line: &[u8]) -> Option<(usize, usize)> {
    let is_blank = |b: &u8| matches!(b, b' ' | b'\t');
    let key_at = line.iter().position(|b| !is_blank(b))?;
    let rest = &line[key_at..];
    let key = RULE_KEYS.iter().find(|key| {
        rest.get(..key.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(key))
    })?;
    let after_key = key_at + key.len();
    let blanks = line[after_key..].iter().take_while(|b| is_blank(b)).count();
    let value_at = match line.get(after_key + blanks) {
        Some(b':') => after_key + blanks + 1,
        _ if blanks > 0 => after_key + blanks,
        _ => return None,
    };
    let value_end = line[value_at..]
        .iter()
        .position(|&b| b == b'#')
        .map_or(line.len(), |at| value_at + at);
    Some((value_at, value_end))
}

/// `line[start..end]` trimmed as `texting_robots` trims a value (`bstr`'s
/// Unicode white space), as a range of `line`.
fn trimmed(line: &[u8], start: usize, end: usize) -> (usize, usize) {
    let value = &line[start..end];
    let (lead, kept) = match std::str::from_utf8(value) {
        Ok(text) => (text.len() - text.trim_start().len(), text.trim().len()),
        Err(_) => (
            value.len() - value.trim_ascii_start().len(),
            value.trim_ascii().len(),
        ),
    };
    (start + lead, start + lead + kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_9309_encoding_examples() {
        // Section 2.2.2's table: path as written, and the form matched.
        for (path, matched) in [
            ("/foo/bar?baz=quz", "/foo/bar?baz=quz"),
            (
                "/foo/bar?baz=https%3A%2F%2Ffoo.bar",
                "/foo/bar?baz=https%3A%2F%2Ffoo.bar",
            ),
            ("/foo/bar/\u{30c4}", "/foo/bar/%E3%83%84"),
            ("/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84"),
            ("/foo/bar/%62%61%7A", "/foo/bar/baz"),
        ] {
            assert_eq!(pattern_form(path.as_bytes()), matched, "pattern {path}");
            assert_eq!(url_form(path), matched, "path {path}");
            let url = format!("http://example.com{path}");
            assert_eq!(url_form(&url), matched, "URL {url}");
        }
    }

    #[test]
    fn escapes_are_decoded_or_upper_cased_alike_on_both_sides() {
        assert_eq!(pattern_form(b"/%7Ejoe/"), "/~joe/");
        assert_eq!(pattern_form(b"/%7ejoe/"), "/~joe/");
        assert_eq!(pattern_form(b"/%e3%83%84"), "/%E3%83%84");
        assert_eq!(pattern_form(b"/a%2fb"), "/a%2Fb");
        assert_eq!(url_form("http://h/a%2fb"), "/a%2Fb");
        assert_eq!(url_form("http://h/a/b"), "/a/b");
        assert_eq!(pattern_form(b"/100%"), "/100%");
    }

    #[test]
    fn what_a_url_parser_escapes_is_escaped_in_patterns() {
        assert_eq!(pattern_form("/caf\u{e9} x".as_bytes()), "/caf%C3%A9%20x");
        assert_eq!(url_form("http://h/caf\u{e9} x"), "/caf%C3%A9%20x");
        // Latin-1 bytes, not UTF-8: escaped byte for byte.
        assert_eq!(pattern_form(b"/caf\xe9"), "/caf%E9");
        // `{` is escaped in a path, not in a query; `'` the other way.
        assert_eq!(pattern_form(b"/{a}?{b}'"), "/%7Ba%7D?{b}%27");
        assert_eq!(url_form("http://h/{a}?{b}'"), "/%7Ba%7D?{b}%27");
    }

    #[test]
    fn wildcards_stay_in_patterns_and_are_escaped_in_urls() {
        assert_eq!(pattern_form(b"*.gif$"), "*.gif$");
        assert_eq!(pattern_form(b"/file-%2a.html"), "/file-%2A.html");
        assert_eq!(url_form("http://h/file-*.html"), "/file-%2A.html");
        assert_eq!(url_form("http://h/foo-$"), "/foo-%24");
        assert_eq!(url_form("/x?y#frag"), "/x?y");
        assert_eq!(url_form(""), "/");
    }

    #[test]
    fn rule_values_are_rewritten_and_everything_else_is_kept() {
        let txt = "\u{feff}User-agent: *\r\nDisallow: /%7ejoe/ # home\n\tallow /caf\u{e9}\0DISALLOW : /a%2fb\nSitemap: /%7e.xml\nDisallowed: /%7e\nDisallow:\n";
        let got = normalize_rules(txt.as_bytes());
        assert_eq!(
            std::str::from_utf8(&got).expect("ASCII out"),
            "\u{feff}User-agent: *\r\nDisallow: /~joe/ # home\n\tallow /caf%C3%A9\0DISALLOW : /a%2Fb\nSitemap: /%7e.xml\nDisallowed: /%7e\nDisallow:\n"
        );
        assert!(matches!(
            normalize_rules(b"User-agent: *\nDisallow: /x\n"),
            Cow::Borrowed(_)
        ));
    }
}
