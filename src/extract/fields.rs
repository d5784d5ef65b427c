//! Page fields other than links: the title.

use super::entities::{self, Context};

/// The title as `document.title` gives it: references decoded, ASCII
/// whitespace stripped and collapsed to single spaces; `None` when empty.
pub(crate) fn title(raw: &str) -> Option<String> {
    let decoded = entities::decode(raw, Context::Text);
    let mut title = String::with_capacity(decoded.len());
    for word in decoded.split_ascii_whitespace() {
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(word);
    }
    (!title.is_empty()).then_some(title)
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
