//! Extraction from a parsed DOM, for pages an extraction rule set applies
//! to: one html5ever parse (through `scraper`) gives the fields, the links
//! and the title. Pages without a rule set take the scanner's faster path;
//! both feed the same link collection, so `<base>`, `nofollow` and
//! resolution behave the same.

use std::collections::HashSet;

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Node};

use super::links::{Links, parse_in};
use super::scan::Tag;
use super::{ExtractOptions, Extracted, Page, charset};
use crate::rules::{self, RuleSet};

/// Extracts links, title and the rule set's fields from an HTML page (the
/// caller has checked it is HTML).
pub(crate) fn extract(page: &Page<'_>, opts: &ExtractOptions, set: &RuleSet) -> Extracted {
    let decoded = charset::decode(page.body, page.content_type);
    let doc = Html::parse_document(&decoded.text);
    let followable = Followable::new(&doc, set);
    let mut links = Links::default();
    let mut title: Option<ElementRef<'_>> = None;
    let mut not_selected = 0;
    // Every node the parser made, in the order it made them (source order
    // for elements), as `select` sees them: scraper's tree sink can leave
    // elements the adoption agency moved outside the root's descendants.
    for node in doc.tree.nodes() {
        let Node::Element(element) = node.value() else {
            continue;
        };
        let Some(tag) = tag(element.name()) else {
            if title.is_none() && element.name() == "title" {
                title = ElementRef::wrap(node);
            }
            continue;
        };
        let bears_link = !matches!(tag, Tag::Base | Tag::Meta);
        if bears_link && !followable.allows(node.id(), &doc) {
            if element.attr("href").or(element.attr("src")).is_some() {
                not_selected += 1;
            }
            continue;
        }
        links.dom_element(tag, |name| element.attr(name));
    }
    let mut extracted = Extracted {
        is_html: true,
        charset: decoded.encoding.name(),
        title: title.and_then(|t| collapse_ascii(t.text())),
        not_selected,
        ..Extracted::default()
    };
    let base = links.resolve(page.url, decoded.encoding, opts, &mut extracted);
    let encoder = charset::query_encoder(decoded.encoding);
    let encoder: url::EncodingOverride<'_> = match &encoder {
        Some(encode) => Some(encode),
        None => None,
    };
    let resolve = |href: &str| parse_in(encoder, href, &base).ok();
    extracted.fields = Some(rules::apply(set, &doc, &resolve));
    extracted
}

fn tag(name: &str) -> Option<Tag> {
    Some(match name {
        "a" => Tag::A,
        "area" => Tag::Area,
        "base" => Tag::Base,
        "frame" => Tag::Frame,
        "iframe" => Tag::Iframe,
        "link" => Tag::Link,
        "meta" => Tag::Meta,
        _ => return None,
    })
}

/// Text joined, ASCII whitespace collapsed and trimmed, as the scanner
/// reports titles; `None` when empty.
fn collapse_ascii<'a>(pieces: impl Iterator<Item = &'a str>) -> Option<String> {
    let whole: String = pieces.collect();
    let mut out = String::with_capacity(whole.len());
    for word in whole.split_ascii_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    (!out.is_empty()).then_some(out)
}

/// The elements a rule set's `follow` selectors pick: links inside them
/// (or being them) are followed. Without `follow`, every link is; with an
/// empty list, none.
struct Followable {
    roots: Option<HashSet<NodeId>>,
}

impl Followable {
    fn new(doc: &Html, set: &RuleSet) -> Self {
        let Some(follow) = &set.follow else {
            return Self { roots: None };
        };
        let roots = follow
            .iter()
            .flat_map(|selector| doc.select(selector).map(|e| e.id()))
            .collect();
        Self { roots: Some(roots) }
    }

    fn allows(&self, id: NodeId, doc: &Html) -> bool {
        let Some(roots) = &self.roots else {
            return true;
        };
        let Some(node) = doc.tree.get(id) else {
            return false;
        };
        roots.contains(&id) || node.ancestors().any(|a| roots.contains(&a.id()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ExtractOptions, Page, extract_with};
    use crate::rules::{RuleSets, RuleSpec};
    use url::Url;

    fn sets(text: &str) -> RuleSets {
        #[derive(serde::Deserialize)]
        struct File {
            rule: Vec<RuleSpec>,
        }
        let file: File = toml::from_str(text).expect("valid toml");
        RuleSets::compile(&file.rule).expect("valid rules")
    }

    fn run(rules: &RuleSets, body: &[u8], content_type: &str) -> super::Extracted {
        let url = Url::parse("http://shop.test/list/page-1.html").expect("url");
        let page = Page {
            body,
            content_type: Some(content_type),
            url: &url,
        };
        extract_with(&page, &ExtractOptions::default(), Some(rules))
    }

    const LISTING: &str = r#"<html><head><title> Books
        list </title><base href="/catalogue/"><link rel=canonical href="/list/"></head>
        <body><nav><a href="/about">About</a></nav>
        <ol><li class="product"><h3><a href="a-light/index.html">A Light</a></h3></li>
            <li class="product"><h3><a href="sapiens/index.html" rel="nofollow">Sapiens</a></h3></li></ol>
        <ul class="pager"><li class="next"><a href="page-2.html">next</a></li></ul>
        <a href="mailto:x@y">mail</a></body></html>"#;

    #[test]
    fn follow_selectors_restrict_links_and_share_the_parse() {
        let rules = sets(
            r#"[[rule]]
            name = "listing"
            follow = ["li.product h3", "ul.pager a"]
            [rule.fields]
            books = { css = "li.product h3 a", attr = "href", type = "url", many = true }
            "#,
        );
        let got = run(&rules, LISTING.as_bytes(), "text/html");
        let links: Vec<&str> = got.links.iter().map(Url::as_str).collect();
        assert_eq!(
            links,
            [
                "http://shop.test/catalogue/a-light/index.html",
                "http://shop.test/catalogue/page-2.html"
            ]
        );
        assert_eq!(got.nofollow, 1, "the nofollow product link");
        assert_eq!(got.not_selected, 3, "canonical, about and mailto");
        assert_eq!(got.title.as_deref(), Some("Books list"));
        let fields = got.fields.expect("rule applied");
        assert_eq!(
            fields.data["books"],
            serde_json::json!([
                "http://shop.test/catalogue/a-light/index.html",
                "http://shop.test/catalogue/sapiens/index.html"
            ]),
            "url fields resolve against <base href>"
        );
    }

    #[test]
    fn without_follow_the_dom_path_finds_what_the_scanner_finds() {
        let rules = sets("[[rule]]\nname = \"all\"\n");
        let with_rules = run(&rules, LISTING.as_bytes(), "text/html");
        let scanner = run(&RuleSets::default(), LISTING.as_bytes(), "text/html");
        assert!(scanner.fields.is_none());
        assert_eq!(with_rules.links, scanner.links);
        assert_eq!(with_rules.nofollow, scanner.nofollow);
        assert_eq!(with_rules.other_scheme, scanner.other_scheme);
        assert_eq!(with_rules.title, scanner.title);
        assert_eq!(with_rules.not_selected, 0);
    }

    #[test]
    fn fields_are_read_in_the_page_charset() {
        let rules = sets(
            "[[rule]]\nname = \"p\"\n[rule.fields]\nname = \"h1\"\nq = { css = \"a\", attr = \"href\", type = \"url\" }\n",
        );
        // ISO-8859-1 by header.
        let got = run(
            &rules,
            b"<h1>Caf\xE9 cr\xE8me</h1><a href='/s?q=\xE9'>",
            "text/html; charset=ISO-8859-1",
        );
        let data = got.fields.expect("rule applied").data;
        assert_eq!(data["name"], "Caf\u{e9} cr\u{e8}me");
        assert_eq!(got.links[0].as_str(), "http://shop.test/s?q=%E9");
        assert_eq!(
            data["q"], "http://shop.test/s?q=%E9",
            "as the page's links are"
        );
    }
}
