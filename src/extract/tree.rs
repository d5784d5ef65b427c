//! Building the DOM of a page with a bound on how deep elements nest.
//!
//! html5ever's tree builder scans its stack of open elements for many
//! start tags, so a page of elements nested n deep costs time in n²: 40,000
//! nested `<section>`s (1 MB) take 4.4 s, a 10 MB page would take hours.
//! Browsers flatten the tree past 512 levels; here the parse is fed in
//! small chunks and abandoned once the newest node sits deeper than
//! [`MAX_DEPTH`], which bounds the cost to a few chunks' worth of deep
//! nesting. No real page comes near: their trees are a few dozen deep.

use html5ever::tendril::{StrTendril, TendrilSink as _};
use scraper::{Html, HtmlTreeSink};

/// The deepest an element may sit below the document (Blink's limit).
pub(crate) const MAX_DEPTH: usize = 512;

/// Bytes fed to the parser between two depth checks. A chunk holds at most
/// CHUNK / 3 start tags, so the depth checked can overshoot the limit by
/// that much before the parse stops.
const CHUNK: usize = 4096;

/// The parsed document, or `None` when elements nest deeper than
/// [`MAX_DEPTH`].
pub(crate) fn parse(text: &str) -> Option<Html> {
    let mut parser = html5ever::driver::parse_document(
        HtmlTreeSink::new(Html::new_document()),
        Default::default(),
    );
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.len().min(CHUNK);
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        let (chunk, tail) = rest.split_at(end);
        parser.process(StrTendril::from_slice(chunk));
        rest = tail;
        if newest_depth(&parser.tokenizer.sink.sink.0.borrow()) > MAX_DEPTH {
            return None;
        }
    }
    Some(parser.finish())
}

/// How deep the most recently made node sits: where the parser is adding.
fn newest_depth(doc: &Html) -> usize {
    doc.tree
        .nodes()
        .next_back()
        .map_or(0, |node| node.ancestors().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        let mut html = String::from("<!DOCTYPE html><body>");
        for i in 0..depth {
            html.push_str(&format!("<section><a href=/l{i}>l</a>"));
        }
        html
    }

    #[test]
    fn ordinary_pages_parse_whole() {
        // <html><body> plus 400 sections: under the limit.
        let doc = parse(&nested(400)).expect("parsed");
        assert_eq!(
            doc.tree.nodes().filter(|n| n.value().is_element()).count(),
            3 + 800
        );
        // Chunk boundaries inside a multi-byte character are avoided.
        let text = format!("<p>{}</p>", "\u{e9}\u{65e5}".repeat(3000));
        let doc = parse(&text).expect("parsed");
        let p = doc
            .tree
            .nodes()
            .find(|n| n.value().is_text())
            .expect("text");
        assert_eq!(p.value().as_text().map(|t| t.len()), Some(3000 * 5));
    }

    #[test]
    fn deep_nesting_is_refused_early() {
        assert!(parse(&nested(600)).is_none());
        // 100,000 levels: refused after a few chunks, not hours later.
        assert!(parse(&nested(100_000)).is_none());
    }
}
