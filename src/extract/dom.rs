//! Extraction from a parsed DOM, for pages an extraction rule set applies
//! to: one html5ever parse (through `scraper`) gives the fields, the links
//! and the title. Pages without a rule set take the scanner's faster path;
//! both feed the same link collection, so `<base>`, `nofollow` and
//! resolution behave the same.

use std::collections::HashSet;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node};

use super::fields::join_words;
use super::links::{Links, parse_in};
use super::scan::Tag;
use super::{ExtractOptions, Extracted, Page, charset, tree};
use crate::rules::RuleSet;

/// Extracts links, title and the rule set's fields from an HTML page (the
/// caller has checked it is HTML).
pub(crate) fn extract(page: &Page<'_>, opts: &ExtractOptions, set: &RuleSet) -> Extracted {
    let decoded = charset::decode(page.body, page.content_type);
    let Some(doc) = tree::parse(&decoded.text) else {
        let mut extracted = super::extract(page, opts);
        if set.follow.is_some() {
            // Which links the selectors allow is unknown: follow none.
            extracted.not_selected += extracted.links.len();
            extracted.links.clear();
        }
        extracted.fields = Some(super::apply::unmatched(set));
        extracted.fields_refused = Some(format!(
            "elements nest more than {} deep: fields not extracted",
            tree::MAX_DEPTH
        ));
        return extracted;
    };
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
        if bears_link && !followable.allows(node.id()) {
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
    extracted.fields = Some(super::apply::apply(set, &doc, &resolve));
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
    let out = join_words(whole.split_ascii_whitespace(), whole.len());
    (!out.is_empty()).then_some(out)
}

/// The link elements a rule set's `follow` selectors allow: those inside
/// (or being) an element a selector picks. Without `follow`, every link is
/// allowed; with an empty list, none.
struct Followable {
    allowed: Option<HashSet<NodeId>>,
}

impl Followable {
    /// One walk over the tree, counting the picked elements open around
    /// each node, so a deeply nested page costs linear time (looking up
    /// each link's ancestors would be quadratic).
    fn new(doc: &Html, set: &RuleSet) -> Self {
        let Some(follow) = &set.follow else {
            return Self { allowed: None };
        };
        let picked: HashSet<NodeId> = follow
            .iter()
            .flat_map(|selector| doc.select(selector).map(|e| e.id()))
            .collect();
        let mut allowed = HashSet::new();
        if picked.is_empty() {
            return Self {
                allowed: Some(allowed),
            };
        }
        // The document and any subtree the tree builder left detached.
        for top in doc.tree.nodes().filter(|n| n.parent().is_none()) {
            let mut open = 0usize;
            for edge in top.traverse() {
                match edge {
                    Edge::Open(node) => {
                        if picked.contains(&node.id()) {
                            open += 1;
                        }
                        let bears_link = match node.value() {
                            Node::Element(e) => {
                                tag(e.name()).is_some_and(|t| !matches!(t, Tag::Base | Tag::Meta))
                            }
                            _ => false,
                        };
                        if open > 0 && bears_link {
                            allowed.insert(node.id());
                        }
                    }
                    Edge::Close(node) => {
                        if picked.contains(&node.id()) {
                            open = open.saturating_sub(1);
                        }
                    }
                }
            }
        }
        Self {
            allowed: Some(allowed),
        }
    }

    fn allows(&self, id: NodeId) -> bool {
        self.allowed.as_ref().is_none_or(|a| a.contains(&id))
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

    fn nested_links(depth: usize, keep: usize) -> String {
        let mut html = String::from("<!DOCTYPE html><body>");
        for i in 0..depth {
            let class = if i == keep { "keep" } else { "x" };
            html.push_str(&format!("<section class={class}><a href=/l{i}>l</a>"));
        }
        html
    }

    #[test]
    fn follow_applies_through_nesting() {
        let rules = sets("[[rule]]\nname = \"deep\"\nfollow = [\"section.keep\"]\n");
        let got = run(&rules, nested_links(400, 100).as_bytes(), "text/html");
        assert_eq!(got.links.len(), 300, "the links inside section.keep");
        assert_eq!(got.not_selected, 100);
        assert!(got.fields_refused.is_none());
    }

    #[test]
    fn too_deep_pages_keep_their_links_and_lose_their_fields() {
        let free =
            sets("[[rule]]\nname = \"d\"\n[rule.fields]\nt = { css = \"a\", required = true }\n");
        let got = run(&free, nested_links(20_000, 0).as_bytes(), "text/html");
        assert_eq!(got.links.len(), 20_000, "the scanner's links");
        let refused = got.fields_refused.expect("refused");
        assert!(refused.contains("more than 512 deep"), "{refused}");
        let fields = got.fields.expect("fields reported");
        assert_eq!(fields.data["t"], serde_json::Value::Null);
        assert_eq!(fields.missing, ["t"]);

        let restricted = sets("[[rule]]\nname = \"d\"\nfollow = [\"section.keep\"]\n");
        let got = run(&restricted, nested_links(20_000, 0).as_bytes(), "text/html");
        assert!(got.links.is_empty(), "unknown selection: nothing followed");
        assert_eq!(got.not_selected, 20_000);
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
