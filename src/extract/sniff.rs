//! Whether a response is HTML: its Content-Type, or when there is none,
//! the first bytes as the WHATWG MIME Sniffing standard reads them (7.1,
//! "rules for identifying an unknown MIME type", HTML patterns only).

/// The opening tags that mark HTML in MIME Sniffing 7.1, each of which must
/// be followed by a space or `>` (a "tag-terminating byte").
const HTML_PATTERNS: &[&[u8]] = &[
    b"<!DOCTYPE HTML",
    b"<HTML",
    b"<HEAD",
    b"<SCRIPT",
    b"<IFRAME",
    b"<H1",
    b"<DIV",
    b"<FONT",
    b"<TABLE",
    b"<A",
    b"<STYLE",
    b"<TITLE",
    b"<B",
    b"<BODY",
    b"<BR",
    b"<P",
    b"<!--",
];

/// How much of the body sniffing reads (MIME Sniffing 5.2, resource header).
const SNIFF_BYTES: usize = 1445;

/// See [`crate::extract::is_html`].
pub(crate) fn is_html(content_type: Option<&str>, body_prefix: &[u8]) -> bool {
    match content_type.map(essence) {
        Some(Essence::Html) => true,
        Some(Essence::Other) => false,
        Some(Essence::Unknown) | None => sniff(body_prefix),
    }
}

enum Essence {
    Html,
    Other,
    /// Missing or a placeholder: MIME Sniffing 7.1 sniffs these.
    Unknown,
}

fn essence(content_type: &str) -> Essence {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim_matches(|c: char| c.is_ascii_whitespace());
    let is = |name: &str| essence.eq_ignore_ascii_case(name);
    if is("text/html") || is("application/xhtml+xml") {
        Essence::Html
    } else if essence.is_empty()
        || !essence.contains('/')
        || is("unknown/unknown")
        || is("application/unknown")
        || is("*/*")
    {
        Essence::Unknown
    } else {
        Essence::Other
    }
}

fn sniff(body: &[u8]) -> bool {
    let header = body.get(..SNIFF_BYTES).unwrap_or(body);
    // The standard reads a byte order mark as text/plain; a page served with
    // none is still HTML to a crawler when markup follows it.
    let header = header.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(header);
    let start = header
        .iter()
        .position(|b| !matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' '))
        .unwrap_or(header.len());
    let rest = header.get(start..).unwrap_or_default();
    HTML_PATTERNS.iter().any(|pattern| {
        rest.get(..pattern.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(pattern))
            && matches!(rest.get(pattern.len()), Some(b' ' | b'>'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_decides_when_present() {
        assert!(is_html(Some("text/html"), b"%PDF-1.7"));
        assert!(is_html(Some("Text/HTML; charset=utf-8"), b""));
        assert!(is_html(Some("application/xhtml+xml"), b""));
        assert!(!is_html(Some("application/pdf"), b"<!DOCTYPE html>"));
        assert!(!is_html(Some("text/plain"), b"<html>"));
        assert!(!is_html(Some("application/json"), b"<html>"));
    }

    #[test]
    fn sniffs_without_content_type() {
        assert!(is_html(None, b"<!DOCTYPE html>\n<html>"));
        assert!(is_html(None, b"\r\n  <!doctype HTML>"));
        assert!(is_html(None, b"<html lang=en>"));
        assert!(is_html(None, b"\xEF\xBB\xBF<html>"));
        assert!(is_html(None, b"<!-- generated -->"));
        assert!(is_html(None, b"<p>text"));
    }

    #[test]
    fn sniffing_rejects_other_formats() {
        assert!(!is_html(None, b"%PDF-1.7\n%\xE2\xE3"));
        assert!(!is_html(None, br#"{"html": "<p>"}"#));
        assert!(!is_html(None, b"[1, 2]"));
        assert!(!is_html(None, b"<?xml version=\"1.0\"?><rss>"));
        assert!(!is_html(None, b"\x89PNG\r\n\x1a\n"));
        assert!(!is_html(None, b""));
        // The tag must end: <pre> is not <p>, <htmlx> is not <html>.
        assert!(!is_html(None, b"<pre>"));
        assert!(!is_html(None, b"<htmlx>"));
    }

    #[test]
    fn placeholder_content_types_are_sniffed() {
        assert!(is_html(Some(""), b"<html>"));
        assert!(is_html(Some("unknown/unknown"), b"<html>"));
        assert!(is_html(Some("*/*"), b"<html>"));
        assert!(!is_html(Some("application/unknown"), b"%PDF-"));
    }
}
