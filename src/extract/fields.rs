//! Page fields other than links: the title.

use super::entities::{self, Context};

/// The title as `document.title` gives it: references decoded, ASCII
/// whitespace stripped and collapsed to single spaces; `None` when empty.
pub(crate) fn title(raw: &str) -> Option<String> {
    let decoded = entities::decode(raw, Context::Text);
    let title = join_words(decoded.split_ascii_whitespace(), decoded.len());
    (!title.is_empty()).then_some(title)
}

/// Words joined by single spaces: whitespace collapsed and trimmed, with
/// whichever definition of whitespace split them.
pub(crate) fn join_words<'a>(words: impl Iterator<Item = &'a str>, capacity: usize) -> String {
    let mut out = String::with_capacity(capacity);
    for word in words {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_whitespace_and_decodes() {
        assert_eq!(
            title("\n  Caf&eacute;\t&amp;\r\n  Bar &nbsp;x ").as_deref(),
            Some("Caf\u{e9} & Bar \u{a0}x")
        );
    }

    #[test]
    fn empty_is_none() {
        assert_eq!(title(""), None);
        assert_eq!(title(" \n\t "), None);
    }
}
