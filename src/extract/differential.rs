//! Random markup run through both the scanner and html5ever's full
//! parser (via `scraper`): the links and title must agree, so that the
//! scanner's shortcuts never change what a real HTML parser would find.
//! The DOM walk used for pages with a rule set must agree too.
//!
//! The fragments avoid what the two read differently on purpose: CDATA,
//! `<noscript>`, `<svg>`/`<math>`, and elements the tree builder drops
//! out of place (`<frame>` outside a frameset, `<select>`, `<template>`).
//!
//! Public (but hidden from the docs) so that the fuzz target in
//! `fuzz/fuzz_targets/links.rs` runs the same comparison on documents built
//! from its input.

use std::sync::LazyLock;

use scraper::{Html, Selector};
use url::Url;

use super::{ExtractOptions, Page, extract, extract_with};
use crate::rules::{RuleSets, RuleSpec};

pub const FRAGMENTS: &[&str] = &[
    "<a href=/u1>",
    "<a href='/u2'>",
    "<A HREF=\"/u3\">",
    "<a href=/u4",
    "<a\nhref=\"/u5\"/>",
    "<a href=\"/q?a=1&amp;b=2\">",
    "<a href=&#x2F;e>",
    "<a href=/n&notit;>",
    "<a href='/k?x=1&copy=2'>",
    "<a href=a>b>",
    "<a href=\"/x\"href=/y>",
    "<a href='  /sp  '>",
    "<a href=\"",
    "<a =x href=/eq>",
    "<a/href=/sl>",
    "<a href>",
    "<a href=javascript:x>",
    "<a href='http://h.example/abs'>",
    "<a href='http://h.example /sp'>",
    "<a href=\"https://h.example\u{1}?q\">",
    "<a href='HTTP://h.example:80\u{1f}#f'>",
    "</a href=/end>",
    "</a>",
    "<link rel=canonical href=/c>",
    "<area href=/ar>",
    "<iframe src=/f>",
    "<iframe>",
    "</iframe>",
    "<script>",
    "<scriPt>",
    "</script>",
    "</SCRIPT >",
    "</script x=\">\">",
    "<!-- <script>",
    "<!-- <script> </script> -->",
    "<style>",
    "</style>",
    "<textarea>",
    "</textarea>",
    "<title>",
    "</title>",
    "<title>T &copy; 1</title>",
    "<xmp>",
    "</xmp>",
    "<noembed>",
    "</noembed>",
    "<noframes>",
    "</noframes>",
    "<plaintext>",
    "<!--",
    "-->",
    "--!>",
    "<!---->",
    "<!-->",
    "<!--->",
    "-",
    "<!DOCTYPE html>",
    "<?x",
    "<!",
    "<",
    "</",
    ">",
    "'",
    "\"",
    "=",
    "&amp;",
    "&#",
    " ",
    "\n",
    "text",
    "<br/>",
    "<div>",
    "<p title=\"",
    "</p x='>'>",
];

/// Distinct links in order of first appearance (the tree builder clones an
/// `<a>` that formatting elements reopen) and the title.
pub type Found = (Vec<String>, Option<String>);

fn page_url() -> Url {
    Url::parse("http://example.com/d/p.html").expect("valid page URL")
}

fn distinct(links: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = Vec::new();
    for link in links {
        if !seen.contains(&link) {
            seen.push(link);
        }
    }
    seen
}

/// What the link scanner (pages without a rule set) finds.
pub fn scanner(html: &str) -> Found {
    let url = page_url();
    let page = Page {
        body: html.as_bytes(),
        content_type: Some("text/html"),
        url: &url,
    };
    let extracted = extract(&page, &ExtractOptions::default());
    (
        distinct(extracted.links.iter().map(Url::to_string)),
        extracted.title,
    )
}

/// The extraction path of pages with a rule set: html5ever's DOM walked by
/// `dom.rs`.
pub fn dom_path(html: &str) -> Found {
    static ALL: LazyLock<RuleSets> = LazyLock::new(|| {
        let spec: RuleSpec = toml::from_str("name = \"all\"").expect("valid rule");
        RuleSets::compile(&[spec]).expect("valid rule")
    });
    let url = page_url();
    let page = Page {
        body: html.as_bytes(),
        content_type: Some("text/html"),
        url: &url,
    };
    let extracted = extract_with(&page, &ExtractOptions::default(), Some(&ALL));
    (
        distinct(extracted.links.iter().map(Url::to_string)),
        extracted.title,
    )
}

/// The reference: html5ever's tree queried with CSS selectors.
pub fn html5ever(html: &str) -> Found {
    static LINKS: LazyLock<Selector> = LazyLock::new(|| {
        Selector::parse("a[href], area[href], link[rel~=canonical][href], iframe[src]")
            .expect("valid selector")
    });
    static TITLE: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("title").expect("valid selector"));
    let url = page_url();
    let document = Html::parse_document(html);
    let links = document.select(&LINKS).filter_map(|element| {
        let raw = element
            .value()
            .attr("href")
            .or_else(|| element.value().attr("src"))?;
        let resolved = url.join(raw.trim_ascii()).ok()?;
        matches!(resolved.scheme(), "http" | "https").then(|| resolved.to_string())
    });
    let title = document.select(&TITLE).next().and_then(|title| {
        let text: String = title.text().collect();
        let collapsed = text.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
        (!collapsed.is_empty()).then_some(collapsed)
    });
    (distinct(links), title)
}

/// A document of fragments, each picked by one number (modulo their count).
pub fn document(picks: impl IntoIterator<Item = usize>) -> String {
    picks
        .into_iter()
        .filter_map(|pick| FRAGMENTS.get(pick % FRAGMENTS.len()).copied())
        .collect()
}

/// How the scanner or the DOM path disagrees with html5ever on `html`, or
/// `None` when all three find the same links and title.
pub fn disagreement(html: &str) -> Option<String> {
    let reference = html5ever(html);
    let scanned = scanner(html);
    if scanned != reference {
        return Some(format!(
            "scanner: {scanned:?} != html5ever: {reference:?} on {html:?}"
        ));
    }
    let walked = dom_path(html);
    (walked != reference)
        .then(|| format!("rule-set path: {walked:?} != html5ever: {reference:?} on {html:?}"))
}

#[test]
fn scanner_agrees_with_html5ever_on_random_markup() {
    let mut rng = fastrand::Rng::with_seed(11);
    for _ in 0..5000 {
        let fragments = rng.usize(1..30);
        let html = document((0..fragments).map(|_| rng.usize(..FRAGMENTS.len())));
        assert_eq!(disagreement(&html), None);
    }
}

#[test]
fn disagreement_names_the_path_that_differs() {
    // Outside the fragments on purpose: html5ever reads `<svg><title>` as
    // an SVG title, the scanner as the page's.
    let html = "<svg><title>x</title></svg>";
    let found = disagreement(html).expect("the paths read SVG titles differently");
    assert!(found.starts_with("scanner: "), "{found}");
}
