//! HTML character references (`&amp;`, `&#x2F;`, `&eacute`) in attribute
//! values and text, decoded as the HTML tokenizer does (HTML 13.2.5.72-80).

use std::borrow::Cow;

use web_atoms::{C1_REPLACEMENTS, NAMED_ENTITIES};

/// Where the text came from: attribute values keep legacy references that
/// run into more name characters (`?a=1&copy=2` stays as written), since
/// URLs were written that way before HTML5 (HTML 13.2.5.73).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Context {
    Attribute,
    Text,
}

/// The longest named reference, `&CounterClockwiseContourIntegral;`,
/// without its `&`.
const LONGEST_NAME: usize = 32;

/// Decodes every character reference in `raw`, borrowing when there is none.
pub(crate) fn decode(raw: &str, context: Context) -> Cow<'_, str> {
    let Some(first) = memchr::memchr(b'&', raw.as_bytes()) else {
        return Cow::Borrowed(raw);
    };
    let mut out = String::with_capacity(raw.len());
    let mut done = 0;
    let mut amp = first;
    loop {
        let after = raw.get(amp + 1..).unwrap_or_default();
        if let Some((decoded, len)) = reference(after, context) {
            out.push_str(raw.get(done..amp).unwrap_or_default());
            out.push(decoded.0);
            if let Some(second) = decoded.1 {
                out.push(second);
            }
            done = amp + 1 + len;
        }
        let next_from = (amp + 1).max(done);
        match raw
            .as_bytes()
            .get(next_from..)
            .and_then(|rest| memchr::memchr(b'&', rest))
        {
            Some(offset) => amp = next_from + offset,
            None => break,
        }
    }
    out.push_str(raw.get(done..).unwrap_or_default());
    Cow::Owned(out)
}

type Chars = (char, Option<char>);

/// The characters of the reference at the start of `after` (the text just
/// past an `&`) and how many bytes it spans; `None` leaves the `&` as text.
fn reference(after: &str, context: Context) -> Option<(Chars, usize)> {
    let bytes = after.as_bytes();
    match *bytes.first()? {
        b'#' => numeric(bytes),
        b if b.is_ascii_alphanumeric() => named(after, context),
        _ => None,
    }
}

fn named(after: &str, context: Context) -> Option<(Chars, usize)> {
    // Nearly every reference in a URL is this one; skip the table lookup.
    if after.starts_with("amp;") {
        return Some((('&', None), 4));
    }
    let bytes = after.as_bytes();
    let mut best = None;
    let mut len = 0;
    while len < LONGEST_NAME.min(bytes.len()) {
        let byte = bytes.get(len).copied().unwrap_or_default();
        if !(byte.is_ascii_alphanumeric() || byte == b';') {
            break;
        }
        len += 1;
        // The table holds every prefix of every name, so a miss ends the search.
        let Some(&(first, second)) = after.get(..len).and_then(|key| NAMED_ENTITIES.get(key))
        else {
            break;
        };
        if first != 0 {
            best = Some((first, second, len));
        }
        if byte == b';' {
            break;
        }
    }
    let (first, second, len) = best?;
    let terminated = bytes.get(len - 1) == Some(&b';');
    if context == Context::Attribute
        && !terminated
        && bytes
            .get(len)
            .is_some_and(|&b| b == b'=' || b.is_ascii_alphanumeric())
    {
        return None;
    }
    let first = char::from_u32(first)?;
    let second = char::from_u32(second).filter(|&c| c != '\0');
    Some(((first, second), len))
}

fn numeric(bytes: &[u8]) -> Option<(Chars, usize)> {
    let (radix, digits_start) = match bytes.get(1) {
        Some(b'x' | b'X') => (16, 2),
        _ => (10, 1),
    };
    let digits = bytes
        .get(digits_start..)?
        .iter()
        .take_while(|b| b.is_ascii_hexdigit() && (radix == 16 || b.is_ascii_digit()))
        .count();
    if digits == 0 {
        return None;
    }
    let value = bytes
        .get(digits_start..digits_start + digits)?
        .iter()
        .fold(0u32, |acc, &b| {
            let digit = char::from(b).to_digit(radix).unwrap_or_default();
            acc.saturating_mul(radix).saturating_add(digit)
        });
    let mut len = digits_start + digits;
    if bytes.get(len) == Some(&b';') {
        len += 1;
    }
    Some(((numeric_char(value), None), len))
}

/// HTML 13.2.5.80: NUL, surrogates and out-of-range values become U+FFFD;
/// 0x80-0x9F are read as windows-1252, as old pages meant them.
fn numeric_char(value: u32) -> char {
    if (0x80..=0x9F).contains(&value) {
        let c1 = usize::try_from(value - 0x80).ok();
        if let Some(Some(c)) = c1.and_then(|i| C1_REPLACEMENTS.get(i)) {
            return *c;
        }
    }
    match value {
        0 => char::REPLACEMENT_CHARACTER,
        _ => char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(raw: &str) -> Cow<'_, str> {
        decode(raw, Context::Attribute)
    }

    #[test]
    fn no_reference_borrows() {
        assert!(matches!(attr("/a/b?c=d"), Cow::Borrowed("/a/b?c=d")));
    }

    #[test]
    fn named_and_numeric() {
        assert_eq!(attr("/a?b=1&amp;c=2"), "/a?b=1&c=2");
        assert_eq!(attr("&#x2F;x&#47;y&#X2f;"), "/x/y/");
        assert_eq!(attr("caf&eacute;"), "caf\u{e9}");
        assert_eq!(attr("&lt;&gt;&quot;&apos;"), "<>\"'");
        assert_eq!(attr("&NotEqualTilde;"), "\u{2242}\u{338}");
        assert_eq!(attr("&#128;&#x80;"), "\u{20ac}\u{20ac}");
        assert_eq!(
            attr("&#0;&#xD800;&#x110000;&#99999999999;"),
            "\u{fffd}".repeat(4)
        );
    }

    #[test]
    fn legacy_references_without_semicolon() {
        assert_eq!(decode("&copy 2024", Context::Text), "\u{a9} 2024");
        assert_eq!(decode("&copy2024", Context::Text), "\u{a9}2024");
        assert_eq!(attr("&copy 2024"), "\u{a9} 2024");
        // In attributes a legacy name that runs on is left alone.
        assert_eq!(attr("?a=1&copy=2&not1"), "?a=1&copy=2&not1");
        // The longest name wins: &notin; not &not + "in;".
        assert_eq!(attr("&notin;"), "\u{2209}");
        assert_eq!(decode("&notit;", Context::Text), "\u{ac}it;");
    }

    #[test]
    fn bare_ampersands_stay() {
        assert_eq!(
            attr("a & b &; &# &#x; &bogus; &"),
            "a & b &; &# &#x; &bogus; &"
        );
        assert_eq!(attr("&&amp;&"), "&&&");
        assert_eq!(attr("&#38;amp;"), "&amp;");
    }

    #[test]
    fn non_ascii_around_references() {
        assert_eq!(attr("\u{65e5}&amp;\u{672c}&"), "\u{65e5}&\u{672c}&");
    }
}
