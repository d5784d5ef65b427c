//! Which links a page has: the link-bearing tags' raw URLs, `<base href>`,
//! `nofollow`, and resolving them into absolute http(s) URLs.
//!
//! BENCH_PLACEHOLDER

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
    pub(crate) fn start_tag(&mut self, tag: Tag, attrs: &[Attr<'a>]) {
        match tag {
            Tag::A | Tag::Area => {
                if let Some(url) = value(attrs, "href") {
                    let nofollow = value(attrs, "rel")
                        .is_some_and(|rel| has_token(&rel, "nofollow", is_space));
                    self.hrefs.push(Href { url, nofollow });
                }
            }
            Tag::Link => {
                let canonical =
                    value(attrs, "rel").is_some_and(|rel| has_token(&rel, "canonical", is_space));
                if canonical && let Some(url) = value(attrs, "href") {
                    self.hrefs.push(Href {
                        url,
                        nofollow: false,
                    });
                }
            }
            Tag::Frame | Tag::Iframe => {
                if let Some(url) = value(attrs, "src") {
                    self.hrefs.push(Href {
                        url,
                        nofollow: false,
                    });
                }
            }
            Tag::Base => {
                if self.base.is_none() {
                    self.base = value(attrs, "href");
                }
            }
            Tag::Meta => {
                let robots =
                    value(attrs, "name").is_some_and(|name| name.eq_ignore_ascii_case("robots"));
                if robots && let Some(content) = value(attrs, "content") {
                    let is_separator = |c: char| c == ',' || is_space(c);
                    self.robots_nofollow |= has_token(&content, "nofollow", is_separator)
                        || has_token(&content, "none", is_separator);
                }
            }
        }
    }

    /// Resolves the links against the base URL into `out`, counting those
    /// left out. A `nofollow` link is counted before it is parsed: it is
    /// never used, so its validity does not matter.
    pub(crate) fn resolve(
        self,
        page_url: &Url,
        encoding: &'static Encoding,
        opts: &ExtractOptions,
        out: &mut Extracted,
    ) {
        let encoder = charset::query_encoder(encoding);
        let encoder: url::EncodingOverride<'_> = match &encoder {
            Some(encode) => Some(encode),
            None => None,
        };
        let parse = |input: &str, base: &Url| {
            Url::options()
                .base_url(Some(base))
                .encoding_override(encoder)
                .parse(input)
        };
        // HTML 2.4.1 "document base URL": an unusable <base> is ignored.
        let base = self
            .base
            .and_then(|href| parse(&href, page_url).ok())
            .filter(|url| !matches!(url.scheme(), "data" | "javascript"));
        let base = base.as_ref().unwrap_or(page_url);
        let skip_nofollow = !opts.follow_nofollow;
        out.links.reserve(self.hrefs.len());
        for href in self.hrefs {
            if skip_nofollow && (href.nofollow || self.robots_nofollow) {
                out.nofollow += 1;
                continue;
            }
            match parse(&href.url, base) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => out.links.push(url),
                Ok(_) => out.other_scheme += 1,
                Err(_) => out.invalid += 1,
            }
        }
    }
}

fn is_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0C' | '\r' | ' ')
}

/// An attribute's value with references decoded and ASCII whitespace
/// trimmed, as browsers read URLs and keywords.
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
