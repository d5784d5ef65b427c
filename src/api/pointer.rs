//! JSON pointers naming fields in an API response: RFC 6901 (`/links/next`,
//! with `~0` for `~` and `~1` for `/`), or a dotted shorthand for settings
//! files and the command line (`links.next`). Lookup itself is
//! `serde_json::Value::pointer`, which implements RFC 6901.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use super::error::PaginateError;

/// A validated RFC 6901 pointer.
///
/// [`Pointer::parse`] accepts three forms:
/// - `""`: the whole document;
/// - `/a/b~1c`: RFC 6901 as is;
/// - `a.b`: dotted shorthand, one key per segment, so `links.next` is
///   `/links/next` and `items.0.id` is `/items/0/id`. A key that itself
///   contains a dot (`@odata.nextLink`) needs the `/` form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Pointer(String);

impl Pointer {
    pub fn parse(text: &str) -> Result<Self, PaginateError> {
        let bad = |reason| PaginateError::BadPointer {
            pointer: text.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Ok(Self(String::new()));
        }
        if text.starts_with('/') {
            // RFC 6901 section 3: `~` is only ever the start of `~0` or `~1`.
            let mut chars = text.chars();
            while let Some(c) = chars.next() {
                if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                    return Err(bad("`~` must be followed by 0 or 1"));
                }
            }
            return Ok(Self(text.to_owned()));
        }
        let mut out = String::with_capacity(text.len() + 1);
        for segment in text.split('.') {
            if segment.is_empty() {
                return Err(bad("empty segment in dotted form"));
            }
            out.push('/');
            out.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        }
        Ok(Self(out))
    }

    /// For the crate's own tables of well-known fields, which are already
    /// RFC 6901; saves an error path that cannot happen.
    pub(crate) fn from_table(text: &str) -> Self {
        debug_assert!(Self::parse(text).is_ok_and(|p| p.0 == text), "{text}");
        Self(text.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value this pointer names, if the body has one.
    pub fn get<'a>(&self, body: &'a Value) -> Option<&'a Value> {
        body.pointer(&self.0)
    }
}

impl FromStr for Pointer {
    type Err = PaginateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(whole body)")
        } else {
            f.write_str(&self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ptr(text: &str) -> Pointer {
        Pointer::parse(text).expect("valid pointer")
    }

    #[test]
    fn dotted_shorthand_becomes_rfc6901() {
        assert_eq!(ptr("links.next").as_str(), "/links/next");
        assert_eq!(ptr("next").as_str(), "/next");
        assert_eq!(ptr("items.0.id").as_str(), "/items/0/id");
        assert_eq!(ptr("a/b.c~d").as_str(), "/a~1b/c~0d");
    }

    #[test]
    fn slash_form_and_empty_are_kept() {
        assert_eq!(ptr("/@odata.nextLink").as_str(), "/@odata.nextLink");
        assert_eq!(ptr("").as_str(), "");
    }

    #[test]
    fn escapes_resolve_per_rfc6901() {
        let body = json!({"a/b": 1, "m~n": 2, "": 3, "list": [10, 20]});
        assert_eq!(ptr("/a~1b").get(&body), Some(&json!(1)));
        assert_eq!(ptr("/m~0n").get(&body), Some(&json!(2)));
        assert_eq!(ptr("/").get(&body), Some(&json!(3)));
        assert_eq!(ptr("list.1").get(&body), Some(&json!(20)));
        assert_eq!(ptr("").get(&body), Some(&body));
        assert_eq!(ptr("missing.field").get(&body), None);
    }

    #[test]
    fn malformed_pointers_are_rejected_with_the_text() {
        for text in ["/a~2", "/a~", "a..b", ".a", "a."] {
            let err = Pointer::parse(text).expect_err(text);
            assert!(err.to_string().contains(text), "{err}");
        }
    }
}
