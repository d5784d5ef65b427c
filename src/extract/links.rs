//! Which links a page has: the link-bearing tags' raw URLs, `<base href>`,
//! `nofollow`, and resolving them into absolute http(s) URLs.
//!
//! # Why a scanner of our own
//!
//! Extraction runs on every page, so the parser was chosen by measuring.
//! Every candidate fed this same link collection and resolution; µs per
//! page is the best of 7 passes over 500 generated pages (23.5 KB and 30.5
//! links each on average), release build, on the shared 2-core machine
//! (2026-11-23):
//!
//! | parser                                              | µs/page | MB/s |
//! |-----------------------------------------------------|--------:|-----:|
//! | this module's scanner (`scan.rs`)                   |    20.6 | 1140 |
//! | `lol_html` 3.0.3 (streaming rewriter, no-op output) |    59.0 |  400 |
//! | `scraper` 0.24 / html5ever 0.35 (full DOM)          |   104.8 |  225 |
//! | `html5gum` 0.9.0 (callback emitter), `jetscii` on   |   119.5 |  197 |
//! | `html5gum` 0.9.0, default features                  |   134.5 |  176 |
//!
//! Of the scanner's 20.6 µs, decoding, scanning and the title take 7.4;
//! the rest is the `url` crate resolving links, which every candidate pays.
//! The scanner agrees with html5ever on random markup (`differential.rs`).
//! To repeat: `python3 ../shared/bench/gen_site.py --pages 500 --out
//! /tmp/xsite`, then `cargo bench --bench extract -- /tmp/xsite`; the
//! other parsers are in the commit "bench: scan-only timing, html5gum with
//! jetscii, html5ever differential test" (`ONLY=lolhtml` etc. picks one).

use std::borrow::Cow;

use encoding_rs::Encoding;
use url::Url;

use super::charset;
use super::entities::{self, Context};
use super::scan::{Attr, Tag};
use super::{ExtractOptions, Extracted};

/// One link as written, references decoded and ASCII whitespace trimmed.
struct Href<'a> {
    url: Cow<'a, str>,
    /// `rel=nofollow` on its `<a>` or `<area>`.
    nofollow: bool,
}

/// The links of a document, collected in document order and resolved once
/// the whole document is read, because a `<base>` anywhere applies to all.
#[derive(Default)]
pub(crate) struct Links<'a> {
    hrefs: Vec<Href<'a>>,
    base: Option<Cow<'a, str>>,
    /// `<meta name=robots content=nofollow>` somewhere in the document.
    robots_nofollow: bool,
}

impl<'a> Links<'a> {
    /// A start tag from the scanner: values are raw, references undecoded.
    pub(crate) fn start_tag(&mut self, tag: Tag, attrs: &[Attr<'a>]) {
        self.element(tag, |name| value(attrs, name));
    }

    /// A link-bearing element from a parsed DOM, whose attribute values
    /// are already decoded.
    pub(crate) fn dom_element(&mut self, tag: Tag, attr: impl Fn(&str) -> Option<&'a str>) {
        self.element(tag, |name| {
            attr(name).map(|v| Cow::Borrowed(v.trim_matches(is_space)))
        });
    }

    /// `attr(name)`: the first such attribute, decoded and trimmed.
    fn element(&mut self, tag: Tag, attr: impl Fn(&str) -> Option<Cow<'a, str>>) {
        match tag {
            Tag::A | Tag::Area => {
                if let Some(url) = attr("href") {
                    let nofollow =
                        attr("rel").is_some_and(|rel| has_token(&rel, "nofollow", is_space));
                    self.hrefs.push(Href { url, nofollow });
                }
            }
            Tag::Link => {
                let canonical =
                    attr("rel").is_some_and(|rel| has_token(&rel, "canonical", is_space));
                if canonical && let Some(url) = attr("href") {
                    self.hrefs.push(Href {
                        url,
                        nofollow: false,
                    });
                }
            }
            Tag::Frame | Tag::Iframe => {
                if let Some(url) = attr("src") {
                    self.hrefs.push(Href {
                        url,
                        nofollow: false,
                    });
                }
            }
            Tag::Base => {
                if self.base.is_none() {
                    self.base = attr("href");
                }
            }
            Tag::Meta => {
                let robots = attr("name").is_some_and(|name| name.eq_ignore_ascii_case("robots"));
                if robots && let Some(content) = attr("content") {
                    let is_separator = |c: char| c == ',' || is_space(c);
                    self.robots_nofollow |= has_token(&content, "nofollow", is_separator)
                        || has_token(&content, "none", is_separator);
                }
            }
        }
    }

    /// Resolves the links against the base URL into `out`, counting those
    /// left out, and returns that base URL. A `nofollow` link is counted
    /// before it is parsed: it is never used, so its validity does not
    /// matter.
    pub(crate) fn resolve(
        self,
        page_url: &Url,
        encoding: &'static Encoding,
        opts: &ExtractOptions,
        out: &mut Extracted,
    ) -> Url {
        let encoder = charset::query_encoder(encoding);
        let encoder: url::EncodingOverride<'_> = match &encoder {
            Some(encode) => Some(encode),
            None => None,
        };
        let parse = |input: &str, base: &Url| parse_in(encoder, input, base);
        // HTML 2.4.1 "document base URL": an unusable <base> is ignored.
        let base = self
            .base
            .and_then(|href| parse(&href, page_url).ok())
            .filter(|url| !matches!(url.scheme(), "data" | "javascript"));
        let base_url = base.unwrap_or_else(|| page_url.clone());
        let base = &base_url;
        let skip_nofollow = !opts.follow_nofollow;
        let mut origins = Origins::default();
        out.links.reserve(self.hrefs.len());
        for href in &self.hrefs {
            if skip_nofollow && (href.nofollow || self.robots_nofollow) {
                out.nofollow += 1;
                continue;
            }
            let parsed = match split_origin(&href.url) {
                Some((origin, rest)) => match origins.root(origin, parse, base) {
                    Some(root) => parse(rest, root),
                    None => parse(&href.url, base),
                },
                None => parse(&href.url, base),
            };
            match parsed {
                Ok(url) if matches!(url.scheme(), "http" | "https") => out.links.push(url),
                Ok(_) => out.other_scheme += 1,
                Err(_) => out.invalid += 1,
            }
        }
        base_url
    }
}

/// Parses `input` against `base` with queries in the page's encoding.
pub(crate) fn parse_in(
    encoder: url::EncodingOverride<'_>,
    input: &str,
    base: &Url,
) -> Result<Url, url::ParseError> {
    Url::options()
        .base_url(Some(base))
        .encoding_override(encoder)
        .parse(input)
}

/// The roots (`http://host:port/`) of the absolute links seen on a page,
/// keyed by how their origin is written.
///
/// Most links on a page share a handful of origins, and the `url` crate
/// spends more time on a host (IDNA mapping, IPv4 parsing) than on a path:
/// resolving the rest of `http://host/path` against a known `http://host/`
/// gives the same URL for about half the cost.
#[derive(Default)]
struct Origins<'h> {
    roots: Vec<(&'h str, Option<Url>)>,
}

/// Origins remembered per page: a page rarely links to more, and the
/// linear lookup must stay cheap on a page linking to thousands.
const MAX_ORIGINS: usize = 16;

impl<'h> Origins<'h> {
    fn root(
        &mut self,
        origin: &'h str,
        parse: impl Fn(&str, &Url) -> Result<Url, url::ParseError>,
        base: &Url,
    ) -> Option<&Url> {
        let index = match self.roots.iter().position(|(seen, _)| *seen == origin) {
            Some(index) => index,
            None if self.roots.len() < MAX_ORIGINS => {
                self.roots.push((origin, parse(origin, base).ok()));
                self.roots.len() - 1
            }
            None => return None,
        };
        self.roots.get(index).and_then(|(_, root)| root.as_ref())
    }
}

/// Splits an absolute http(s) URL into its `scheme://authority` and the
/// rest, when resolving the rest against the origin's root is exactly
/// parsing the whole: the rest starts a path (not `//` or `/\`, which would
/// name another host), a query or a fragment, and nothing is hidden by the
/// tabs and newlines that URL parsing deletes. Nor may the authority end in
/// a C0 control or space: parsed alone, the origin would lose it as the
/// input's trailing white space (WHATWG URL "remove any leading and
/// trailing C0 control or space"), and `http://example.com /page`, invalid
/// as a whole, would resolve to `http://example.com/page`.
fn split_origin(href: &str) -> Option<(&str, &str)> {
    let scheme_len = ["http://", "https://"].iter().find_map(|scheme| {
        let head = href.get(..scheme.len())?;
        head.eq_ignore_ascii_case(scheme).then_some(scheme.len())
    })?;
    let authority_len = href
        .get(scheme_len..)?
        .find(['/', '\\', '?', '#'])
        .unwrap_or(href.len() - scheme_len);
    if authority_len == 0 || href.contains(['\t', '\n', '\r']) {
        return None;
    }
    let (origin, rest) = href.split_at_checked(scheme_len + authority_len)?;
    if origin.as_bytes().last().is_some_and(|&b| b <= b' ') {
        return None;
    }
    let bytes = rest.as_bytes();
    let starts_authority = matches!(bytes.first(), Some(b'\\'))
        || (bytes.first() == Some(&b'/') && matches!(bytes.get(1), Some(b'/' | b'\\')));
    (!starts_authority).then_some((origin, rest))
}

fn is_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0C' | '\r' | ' ')
}

/// The first `name` attribute's value (HTML ignores repeats), references
/// decoded and ASCII whitespace trimmed, as browsers read URLs and keywords.
fn value<'a>(attrs: &[Attr<'a>], name: &str) -> Option<Cow<'a, str>> {
    let attr = attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))?;
    Some(match entities::decode(attr.value, Context::Attribute) {
        Cow::Borrowed(raw) => Cow::Borrowed(raw.trim_matches(is_space)),
        Cow::Owned(decoded) => Cow::Owned(decoded.trim_matches(is_space).to_owned()),
    })
}

/// Whether a keyword list has `token`, ASCII case-insensitively.
fn has_token(list: &str, token: &str, separator: impl Fn(char) -> bool) -> bool {
    list.split(separator)
        .any(|word| word.eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::super::{ExtractOptions, Extracted, Page, extract};
    use url::Url;

    const PAGE: &str = "http://example.com/dir/sub/page.html?x=1#top";

    fn extract_with(html: &str, opts: &ExtractOptions) -> Extracted {
        let url = Url::parse(PAGE).expect("valid page URL");
        let page = Page {
            body: html.as_bytes(),
            content_type: Some("text/html"),
            url: &url,
        };
        extract(&page, opts)
    }

    fn run(html: &str) -> Extracted {
        extract_with(html, &ExtractOptions::default())
    }

    fn links(html: &str) -> Vec<String> {
        run(html).links.iter().map(Url::to_string).collect()
    }

    #[test]
    fn relative_forms() {
        let html = r##"<a href="../up.html"><a href="./same.html"><a href="next.html">
            <a href="/root?q=1"><a href="//other.example/x"><a href="?p=2"><a href="#frag">
            <a href="HTTPS://Example.COM:443/A"><a href=""><a href="http://example.com/%7Ex">"##;
        assert_eq!(
            links(html),
            [
                "http://example.com/dir/up.html",
                "http://example.com/dir/sub/same.html",
                "http://example.com/dir/sub/next.html",
                "http://example.com/root?q=1",
                "http://other.example/x",
                "http://example.com/dir/sub/page.html?p=2",
                "http://example.com/dir/sub/page.html?x=1#frag",
                "https://example.com/A",
                "http://example.com/dir/sub/page.html?x=1",
                "http://example.com/%7Ex",
            ]
        );
    }

    #[test]
    fn base_applies_to_links_before_and_after_it() {
        let html = r#"<a href="a.html"><base href="http://cdn.example/base/">
            <base href="http://ignored.example/"><a href="../b.html">"#;
        assert_eq!(
            links(html),
            [
                "http://cdn.example/base/a.html",
                "http://cdn.example/b.html",
            ]
        );
    }

    #[test]
    fn relative_base_resolves_against_the_page() {
        let html = r#"<base href="/other/"><a href="x.html">"#;
        assert_eq!(links(html), ["http://example.com/other/x.html"]);
        // Only a <base> with an href counts.
        let html = r#"<base target=_blank><base href="../"><a href="x.html">"#;
        assert_eq!(links(html), ["http://example.com/dir/x.html"]);
    }

    #[test]
    fn unusable_base_is_ignored() {
        let html = r#"<base href="javascript:void(0)"><a href="x.html">"#;
        assert_eq!(links(html), ["http://example.com/dir/sub/x.html"]);
        let html = r#"<base href="http://[bad/"><a href="x.html">"#;
        assert_eq!(links(html), ["http://example.com/dir/sub/x.html"]);
    }

    #[test]
    fn references_and_whitespace_in_href() {
        let html = "<a href=\"/a?b=1&amp;c=2&#x26;d=3\">\
                    <a href='&#x2F;slash&#47;x'>\
                    <a href=\" \n\t/trimmed \n\">\
                    <a href=/s?x=1&copy=2&lang=en>\
                    <a href=\"/caf&eacute;\">";
        assert_eq!(
            links(html),
            [
                "http://example.com/a?b=1&c=2&d=3",
                "http://example.com/slash/x",
                "http://example.com/trimmed",
                "http://example.com/s?x=1&copy=2&lang=en",
                "http://example.com/caf%C3%A9",
            ]
        );
    }

    #[test]
    fn hidden_text_is_never_a_link() {
        let html = r#"<script>var s = '<a href="/s">';</script>
            <style>/* <a href="/c"> */</style><!-- <a href="/m"> -->
            <textarea><a href="/t"></textarea><title><a href="/x"></title>
            <![CDATA[<a href="/d">]]><a href="/real">"#;
        assert_eq!(links(html), ["http://example.com/real"]);
    }

    #[test]
    fn other_schemes_are_counted() {
        let html = r#"<a href="mailto:a@example.com"><a href="javascript:void(0)">
            <a href="tel:+123"><a href="data:text/plain,x"><a href="ftp://example.com/">
            <a href=" JavaScript:x"><a href="/ok">"#;
        let extracted = run(html);
        assert_eq!(extracted.other_scheme, 6);
        assert_eq!(extracted.links.len(), 1);
    }

    #[test]
    fn invalid_urls_are_counted() {
        let extracted =
            run(r#"<a href="http://"><a href="http://[::1"><a href="https://a b/"><a href="/ok">"#);
        assert_eq!(extracted.invalid, 3);
        assert_eq!(extracted.links.len(), 1);
    }

    #[test]
    fn rel_nofollow() {
        let html = r#"<a href="/a" rel="nofollow"><a href="/b" rel="external NoFollow noopener">
            <area href="/c" rel=nofollow><a href="/d" rel="nofollowx"><a href="/e">"#;
        let extracted = run(html);
        assert_eq!(extracted.nofollow, 3);
        let kept: Vec<_> = extracted.links.iter().map(Url::path).collect();
        assert_eq!(kept, ["/d", "/e"]);
        let opts = ExtractOptions {
            follow_nofollow: true,
        };
        let extracted = extract_with(html, &opts);
        assert_eq!(extracted.nofollow, 0);
        assert_eq!(extracted.links.len(), 5);
    }

    #[test]
    fn meta_robots_nofollow_covers_every_link() {
        for content in ["noindex, nofollow", "NOFOLLOW", "none", "noindex,nofollow"] {
            let html = format!(
                r#"<a href="/before"><meta name="Robots" content="{content}"><link rel=canonical href=/c><iframe src=/f></iframe>"#
            );
            let extracted = run(&html);
            assert_eq!(
                (extracted.links.len(), extracted.nofollow),
                (0, 3),
                "{content}"
            );
            let opts = ExtractOptions {
                follow_nofollow: true,
            };
            assert_eq!(extract_with(&html, &opts).links.len(), 3);
        }
        let html = r#"<meta name="description" content="nofollow"><meta name=robots content=noindex><a href=/x>"#;
        assert_eq!(run(html).links.len(), 1);
    }

    #[test]
    fn link_frame_iframe_area_sources() {
        let html = r#"<link rel="stylesheet" href="/style.css"><link rel="Canonical alternate" href="/canon">
            <link rel=icon href=/favicon.ico><frameset><frame src="/frame"></frameset>
            <iframe src="/iframe"></iframe><map><area href="/area" shape=rect></map>
            <img src="/img.png"><script src="/app.js"></script><a name=anchor>"#;
        assert_eq!(
            links(html),
            [
                "http://example.com/canon",
                "http://example.com/frame",
                "http://example.com/iframe",
                "http://example.com/area",
            ]
        );
    }

    #[test]
    fn absolute_links_resolve_as_the_url_crate_parses_them() {
        let hrefs = [
            "http://example.com",
            "http://example.com?q",
            "http://example.com#f",
            "HTTP://EXAMPLE.com:80/A/../b?c#d",
            "https://example.com:443/x",
            "https://example.com:8443/x",
            "http://user:pw@example.com/x",
            "http://a@b@example.com/x",
            "http://b\u{fc}cher.example/x",
            "http://xn--bcher-kva.example/y",
            "http://%65xample.com/x",
            "http://127.1/x",
            "http://0x7f.0.0.1:8080/x",
            "http://[::1]:8080/x",
            "http://example.com//x",
            "http://example.com/\\x",
            "http://example.com\\x",
            "http://example.com/a\tb",
            "http://exa\nmple.com/x",
            "http://example.com/ x ",
            "http://example.com:99999/x",
            "http://exa mple.com/x",
            "http:///x",
            "http://",
            "http:example.com/x",
            // A C0 control or space ending the authority: invalid as a
            // whole, though the origin alone would lose it as trailing
            // white space.
            "http://example.com /page",
            "http://example.com  ?q",
            "http://example.com\u{1}/page",
            "http://example.com\u{0}#f",
            "https://example.com:8443\u{1f}/x",
            "http://user@example.com \\x",
            "http:// /x",
            "http://exa\u{1}mple.com/x",
        ];
        for href in hrefs {
            let html = format!("<a href='{href}'><a href='{href}'>");
            let page = Url::parse(PAGE).expect("valid page URL");
            let expected = page.join(href).ok().map(String::from);
            let extracted = run(&html);
            match expected {
                Some(expected) => {
                    let got: Vec<&str> = extracted.links.iter().map(Url::as_str).collect();
                    assert_eq!(got, [expected.as_str(), expected.as_str()], "{href}");
                }
                None => assert_eq!(extracted.invalid, 2, "{href}"),
            }
        }
    }

    #[test]
    fn random_absolute_links_resolve_as_the_url_crate_parses_them() {
        // Pieces that end or hide an authority, glued at random; none
        // needs escaping inside a quoted attribute, and none is NUL, which
        // HTML turns into U+FFFD.
        const PIECES: &[&str] = &[
            "http://",
            "https://",
            "HTTP://",
            "example.com",
            "h.example",
            "[::1]",
            ":80",
            ":",
            "@",
            "/",
            "//",
            "\\",
            "?",
            "#",
            "x",
            "%41",
            ".",
            "..",
            " ",
            "\u{1}",
            "\u{1f}",
            "\t",
            "\n",
            "\u{e9}",
        ];
        let page = Url::parse(PAGE).expect("valid page URL");
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..3000 {
            let mut href = String::from(PIECES[rng.usize(..3)]);
            for _ in 0..rng.usize(1..7) {
                href.push_str(PIECES[rng.usize(..PIECES.len())]);
            }
            let extracted = run(&format!("<a href='{href}'>"));
            let got: Vec<&str> = extracted.links.iter().map(Url::as_str).collect();
            match page.join(&href) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => {
                    assert_eq!(got, [url.as_str()], "{href:?}");
                }
                Ok(_) => assert_eq!(extracted.other_scheme, 1, "{href:?}"),
                Err(_) => assert_eq!(extracted.invalid, 1, "{href:?}"),
            }
        }
    }

    #[test]
    fn first_of_repeated_attributes_counts() {
        let html = r#"<a href="/first" HREF="/second" rel=x rel=nofollow>"#;
        assert_eq!(links(html), ["http://example.com/first"]);
    }

    #[test]
    fn hostile_pages_stay_linear() {
        // Quadratic work on either would take minutes in a debug build.
        let mut html = format!("<a{} href=/many-attributes>", " x".repeat(200_000));
        for host in 0..20_000 {
            html.push_str(&format!("<a href=http://h{host}.example/>"));
        }
        let extracted = run(&html);
        assert_eq!(extracted.links.len(), 20_001);
    }

    #[test]
    fn case_insensitive_markup() {
        let html = r#"<A HREF="/upper"><a Href='/mixed'><A href=/unquoted>"#;
        assert_eq!(
            links(html),
            [
                "http://example.com/upper",
                "http://example.com/mixed",
                "http://example.com/unquoted",
            ]
        );
    }
}
