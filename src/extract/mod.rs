//! Link and title extraction from fetched pages: pure functions from a
//! body, its Content-Type and its URL to the links to follow.
//!
//! ```text
//! body ─ sniff (is it HTML?) ─ charset (decode to UTF-8) ─ scan (tags)
//!            ├─ links: raw URLs, <base>, nofollow ─ resolve ─ Extracted.links
//!            └─ fields: <title> ─ Extracted.title
//! ```

mod apply;
mod charset;
#[doc(hidden)]
pub mod differential;
mod dom;
mod entities;
mod fields;
mod links;
mod scan;
pub mod sitemap;
mod sniff;
mod tree;

use std::sync::Arc;

use url::Url;

use crate::rules::RuleSets;
pub use apply::FieldValues;
pub(crate) use fields::join_words;

/// A fetched response to extract from.
pub struct Page<'a> {
    pub body: &'a [u8],
    /// The Content-Type header, if the response had one.
    pub content_type: Option<&'a str>,
    /// The URL the body came from (after redirects): relative links resolve
    /// against it unless the page has a `<base href>`.
    pub url: &'a Url,
}

#[derive(Clone, Debug, Default)]
pub struct ExtractOptions {
    /// Return links marked `rel=nofollow` (or on a `robots: nofollow`
    /// page) instead of counting them in [`Extracted::nofollow`].
    pub follow_nofollow: bool,
}

/// What a page yielded.
#[derive(Debug, Default)]
pub struct Extracted {
    /// False when the page is not HTML; then nothing else is filled in.
    pub is_html: bool,
    /// The `encoding_rs` name of the encoding the page was decoded with
    /// (`"UTF-8"`, `"windows-1252"`, `"Shift_JIS"`, ...).
    pub charset: &'static str,
    /// The first `<title>`, references decoded, whitespace collapsed and
    /// trimmed; `None` if absent or empty.
    pub title: Option<String>,
    /// Absolute http and https links, resolved against `<base href>` (else
    /// the page URL), in document order, fragments kept, not deduplicated.
    pub links: Vec<Url>,
    /// Links left out for `rel=nofollow` or `<meta name=robots
    /// content=nofollow>` (unless [`ExtractOptions::follow_nofollow`]).
    pub nofollow: usize,
    /// Links left out because their scheme is not http or https.
    pub other_scheme: usize,
    /// Links that did not parse as URLs.
    pub invalid: usize,
    /// Links left out because no `follow` selector of the rule set picked
    /// them.
    pub not_selected: usize,
    /// The rule set that applied, if any.
    pub rule: Option<Arc<str>>,
    /// What that rule set extracted.
    pub fields: Option<FieldValues>,
    /// Why the rule set's fields could not be extracted (the page's
    /// elements nest too deep to build its tree); links come from the
    /// scanner then.
    pub fields_refused: Option<String>,
}

/// Extracts the title and links of an HTML page. Links come from
/// `a[href]`, `area[href]`, `link[rel~=canonical][href]`, `frame[src]`
/// and `iframe[src]`. Never panics, whatever the bytes.
pub fn extract(page: &Page<'_>, opts: &ExtractOptions) -> Extracted {
    if !is_html(page.content_type, page.body) {
        return Extracted::default();
    }
    let decoded = charset::decode(page.body, page.content_type);
    let mut document = Document::default();
    scan::scan(&decoded.text, &mut document);
    let mut extracted = Extracted {
        is_html: true,
        charset: decoded.encoding.name(),
        title: document.title.and_then(fields::title),
        ..Extracted::default()
    };
    document
        .links
        .resolve(page.url, decoded.encoding, opts, &mut extracted);
    extracted
}

/// [`extract`], plus the fields of the first rule set whose URL pattern
/// matches the page URL. Such a page is parsed once into a DOM, which gives
/// fields, links and title; other pages take the scanner's path.
pub fn extract_with(page: &Page<'_>, opts: &ExtractOptions, rules: Option<&RuleSets>) -> Extracted {
    let Some(set) = rules.and_then(|r| r.select(page.url)) else {
        return extract(page, opts);
    };
    if !is_html(page.content_type, page.body) {
        return Extracted::default();
    }
    let mut extracted = dom::extract(page, opts, set);
    extracted.rule = Some(set.name.clone());
    extracted
}

/// Whether a response is HTML: a Content-Type of `text/html` or
/// `application/xhtml+xml`; when the header is missing (or a placeholder
/// such as `*/*`), the WHATWG MIME sniffing patterns for HTML applied to
/// the first bytes of the body (a UTF-8 byte order mark is skipped).
pub fn is_html(content_type: Option<&str>, body_prefix: &[u8]) -> bool {
    sniff::is_html(content_type, body_prefix)
}

/// What the scan of one document gathers.
#[derive(Default)]
struct Document<'a> {
    links: links::Links<'a>,
    title: Option<&'a str>,
}

impl<'a> scan::Visitor<'a> for Document<'a> {
    fn start_tag(&mut self, tag: scan::Tag, attrs: &[scan::Attr<'a>]) {
        self.links.start_tag(tag, attrs);
    }

    fn title(&mut self, raw: &'a str) {
        self.title.get_or_insert(raw);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_url() -> Url {
        Url::parse("http://example.com/dir/page.html").expect("valid page URL")
    }

    fn run(body: &[u8], content_type: Option<&str>) -> Extracted {
        let url = page_url();
        let page = Page {
            body,
            content_type,
            url: &url,
        };
        extract(&page, &ExtractOptions::default())
    }

    #[test]
    fn latin1_by_header() {
        let body = b"<title>caf\xE9</title><a href='/caf\xE9?q=\xE9'>";
        let extracted = run(body, Some("text/html; charset=ISO-8859-1"));
        assert_eq!(extracted.charset, "windows-1252");
        assert_eq!(extracted.title.as_deref(), Some("caf\u{e9}"));
        // Paths are always UTF-8; the query uses the document's encoding.
        assert_eq!(
            extracted.links.first().map(Url::as_str),
            Some("http://example.com/caf%C3%A9?q=%E9")
        );
    }

    #[test]
    fn shift_jis_by_meta() {
        let body = b"<html><head><meta charset=\"Shift_JIS\">\
            <title>\x93\xfa\x96{\x8c\xea\x82\xcc\x83y\x81[\x83W</title></head>\
            <a href=\"/search?q=\x8c\x9f\x8d\xf5\">";
        let extracted = run(body, Some("text/html"));
        assert_eq!(extracted.charset, "Shift_JIS");
        assert_eq!(
            extracted.title.as_deref(),
            Some("\u{65e5}\u{672c}\u{8a9e}\u{306e}\u{30da}\u{30fc}\u{30b8}")
        );
        assert_eq!(
            extracted.links.first().map(Url::as_str),
            Some("http://example.com/search?q=%8C%9F%8D%F5")
        );
    }

    #[test]
    fn utf8_bom_and_query_stays_utf8() {
        let body = "\u{feff}<title>Gr\u{fc}\u{df}e</title><a href='/s?q=\u{fc}'>".as_bytes();
        let extracted = run(body, None);
        assert!(extracted.is_html, "a BOM before markup is sniffed as HTML");
        assert_eq!(extracted.charset, "UTF-8");
        assert_eq!(extracted.title.as_deref(), Some("Gr\u{fc}\u{df}e"));
        assert_eq!(
            extracted.links.first().map(Url::as_str),
            Some("http://example.com/s?q=%C3%BC")
        );
    }

    #[test]
    fn invalid_utf8_falls_back_to_windows_1252() {
        let extracted = run(b"<title>\x93quoted\x94 caf\xE9</title>", Some("text/html"));
        assert_eq!(extracted.charset, "windows-1252");
        assert_eq!(
            extracted.title.as_deref(),
            Some("\u{201c}quoted\u{201d} caf\u{e9}")
        );
    }

    #[test]
    fn unencodable_query_characters_become_references() {
        let body = b"<meta charset=iso-8859-2><a href='?q=&#x4E00;'>";
        let extracted = run(body, Some("text/html"));
        assert_eq!(
            extracted.links.first().map(Url::as_str),
            Some("http://example.com/dir/page.html?q=%26%2319968%3B")
        );
    }

    #[test]
    fn title_is_the_first_one() {
        let extracted = run(
            b"<title>  One\n &amp; only </title><title>Two</title>",
            None,
        );
        assert_eq!(extracted.title.as_deref(), Some("One & only"));
        assert_eq!(run(b"<html><title> </title>", None).title, None);
        assert_eq!(run(b"<html><p>no title", None).title, None);
    }

    #[test]
    fn non_html_is_left_alone() {
        for (body, content_type) in [
            (&b"%PDF-1.7 <a href=/x>"[..], None),
            (br#"{"a": "<a href='/x'>"}"#, None),
            (b"<a href=/x>", Some("application/json")),
        ] {
            let extracted = run(body, content_type);
            assert!(!extracted.is_html);
            assert!(extracted.links.is_empty());
            assert_eq!(extracted.charset, "");
        }
        let extracted = run(b"<!DOCTYPE html><a href=/x>", None);
        assert!(extracted.is_html);
        assert_eq!(extracted.links.len(), 1);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let url = page_url();
        // Every kind of field, and follow selectors, on the DOM path too.
        let spec: crate::rules::RuleSpec = toml::from_str(
            r#"name = "all"
            follow = ["a", "div > p"]
            [fields]
            text = "title"
            attr = { css = "a", attr = "href", type = "url", many = true }
            html = { css = "script", html = true }
            n = { css = "p", regex = '(\d+)', type = "integer", required = true }
            f = { css = "a", attr = "rel", type = "float" }
            b = { css = "base", attr = "href", type = "bool" }
            "#,
        )
        .expect("valid rule");
        let rules = RuleSets::compile(&[spec]).expect("valid rules");
        let mut rng = fastrand::Rng::with_seed(7);
        // Bytes drawn mostly from markup so that random input reaches the
        // tokenizer's deeper states, not only its text path.
        const ALPHABET: &[u8] = b"<>/!-=\"' \n&#;xa[]?CDATAscriptitlebase href=rel";
        for round in 0..4000 {
            let len = rng.usize(0..300);
            let body: Vec<u8> = (0..len)
                .map(|_| match round % 3 {
                    0 => rng.u8(..),
                    _ => ALPHABET[rng.usize(..ALPHABET.len())],
                })
                .collect();
            for content_type in [
                None,
                Some("text/html"),
                Some("text/html; charset=shift_jis"),
            ] {
                let page = Page {
                    body: &body,
                    content_type,
                    url: &url,
                };
                let _ = extract(&page, &ExtractOptions::default());
                let _ = extract_with(&page, &ExtractOptions::default(), Some(&rules));
            }
        }
    }
}
