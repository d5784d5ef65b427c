//! RFC 8288 `Link` headers: finding the `rel="next"` target among the links
//! a response carries (GitHub, GitLab and many others page this way).

use url::Url;

/// The target of the first link with relation type `next`, resolved against
/// `base` (the URL of the response, RFC 8288 section 3.2).
///
/// Each header may hold several comma-separated links and a response may
/// carry several headers; both are searched in order. Relation types are
/// compared case-insensitively (section 2.1.1) and `rel` may list several
/// (`rel="next last"`). A link whose target does not resolve is skipped.
pub fn next_link(headers: &[&str], base: &Url) -> Option<Url> {
    headers
        .iter()
        .flat_map(|header| parse_links(header))
        .filter(|link| link.has_rel("next"))
        .find_map(|link| base.join(link.target).ok())
}

/// One link-value: its target and its first `rel` parameter.
#[derive(Debug, PartialEq)]
struct LinkValue<'a> {
    target: &'a str,
    rel: Option<String>,
}

impl LinkValue<'_> {
    fn has_rel(&self, wanted: &str) -> bool {
        self.rel.as_deref().is_some_and(|rel| {
            rel.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case(wanted))
        })
    }
}

/// Splits one header value into links. Commas inside `<...>` or inside a
/// quoted parameter value do not end a link, so the target and parameters are
/// scanned rather than split. Malformed pieces are skipped, not fatal: a
/// server's odd extension must not hide the `next` link beside it.
fn parse_links(header: &str) -> Vec<LinkValue<'_>> {
    let mut links = Vec::new();
    let mut rest = header;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
        if rest.is_empty() {
            break;
        }
        let Some(after_open) = rest.strip_prefix('<') else {
            rest = skip_past_comma(rest);
            continue;
        };
        let Some(close) = after_open.find('>') else {
            break;
        };
        let target = after_open[..close].trim();
        rest = &after_open[close + 1..];
        let mut rel = None;
        while let Some(after_semi) = rest.trim_start().strip_prefix(';') {
            let (name, value, remaining) = parse_param(after_semi);
            rest = remaining;
            // Section 3.3: occurrences of rel after the first are ignored.
            if rel.is_none() && name.eq_ignore_ascii_case("rel") {
                rel = Some(value);
            }
        }
        links.push(LinkValue { target, rel });
        rest = skip_past_comma(rest);
    }
    links
}

/// Parses `name [= token | quoted-string]` and returns what follows it.
fn parse_param(text: &str) -> (&str, String, &str) {
    let text = text.trim_start();
    let name_end = text
        .find(|c: char| matches!(c, '=' | ';' | ',') || c.is_ascii_whitespace())
        .unwrap_or(text.len());
    let name = &text[..name_end];
    let rest = text[name_end..].trim_start();
    let Some(after_eq) = rest.strip_prefix('=') else {
        return (name, String::new(), rest);
    };
    let after_eq = after_eq.trim_start();
    if let Some(quoted) = after_eq.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return (name, value, &quoted[i + 1..]),
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                _ => value.push(c),
            }
        }
        // Unterminated quote: take the rest as the value.
        return (name, value, "");
    }
    let end = after_eq.find([';', ',']).unwrap_or(after_eq.len());
    (name, after_eq[..end].trim().to_owned(), &after_eq[end..])
}

/// Drops everything up to and including the next comma.
fn skip_past_comma(text: &str) -> &str {
    text.find(',').map_or("", |i| &text[i + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://api.example.com/v1/items?page=1").expect("base URL")
    }

    fn next(headers: &[&str]) -> Option<String> {
        next_link(headers, &base()).map(String::from)
    }

    #[test]
    fn quoted_rel() {
        let h = r#"<https://api.example.com/v1/items?page=2>; rel="next""#;
        assert_eq!(
            next(&[h]).as_deref(),
            Some("https://api.example.com/v1/items?page=2")
        );
    }

    #[test]
    fn unquoted_rel() {
        let h = "<https://api.example.com/v1/items?page=2>;rel=next";
        assert_eq!(
            next(&[h]).as_deref(),
            Some("https://api.example.com/v1/items?page=2")
        );
    }

    #[test]
    fn several_links_in_one_header_github_style() {
        let h = r#"<https://api.example.com/v1/items?page=1>; rel="prev", <https://api.example.com/v1/items?page=3>; rel="next", <https://api.example.com/v1/items?page=9>; rel="last""#;
        assert_eq!(
            next(&[h]).as_deref(),
            Some("https://api.example.com/v1/items?page=3")
        );
    }

    #[test]
    fn several_relation_types_in_one_rel() {
        let h = r#"<https://api.example.com/v1/items?page=2>; rel="next last""#;
        assert_eq!(
            next(&[h]).as_deref(),
            Some("https://api.example.com/v1/items?page=2")
        );
        let h = r#"<https://api.example.com/v1/items?page=2>; rel="last  next""#;
        assert!(next(&[h]).is_some());
    }

    #[test]
    fn rel_is_case_insensitive_and_not_a_substring_match() {
        let h = r#"<https://api.example.com/x>; REL="Next""#;
        assert_eq!(next(&[h]).as_deref(), Some("https://api.example.com/x"));
        let h = r#"<https://api.example.com/x>; rel="next-archive""#;
        assert_eq!(next(&[h]), None);
    }

    #[test]
    fn params_in_any_order() {
        let h = r#"<https://api.example.com/x>; title="Next page"; type="application/json"; rel="next""#;
        assert_eq!(next(&[h]).as_deref(), Some("https://api.example.com/x"));
    }

    #[test]
    fn several_headers() {
        let first = r#"<https://api.example.com/first>; rel="first""#;
        let second = r#"<https://api.example.com/second>; rel="next""#;
        assert_eq!(
            next(&[first, second]).as_deref(),
            Some("https://api.example.com/second")
        );
    }

    #[test]
    fn relative_targets_resolve_against_base() {
        assert_eq!(
            next(&[r#"</v1/items?page=2>; rel="next""#]).as_deref(),
            Some("https://api.example.com/v1/items?page=2")
        );
        assert_eq!(
            next(&[r#"<?page=2>; rel="next""#]).as_deref(),
            Some("https://api.example.com/v1/items?page=2")
        );
        assert_eq!(
            next(&[r#"<other>; rel="next""#]).as_deref(),
            Some("https://api.example.com/v1/other")
        );
    }

    #[test]
    fn commas_inside_target_or_quotes_do_not_split() {
        let h = r#"<https://api.example.com/x?ids=1,2,3>; title="a, b; c"; rel="next", <https://api.example.com/y>; rel="last""#;
        assert_eq!(
            next(&[h]).as_deref(),
            Some("https://api.example.com/x?ids=1,2,3")
        );
    }

    #[test]
    fn escaped_quote_in_a_param_value() {
        let h = r#"<https://api.example.com/x>; title="say \"hi\", then go"; rel=next"#;
        let links = parse_links(h);
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].rel.as_deref(), Some("next"));
    }

    #[test]
    fn only_the_first_rel_counts() {
        let h = r#"<https://api.example.com/x>; rel="prev"; rel="next""#;
        assert_eq!(next(&[h]), None);
    }

    #[test]
    fn no_next_or_garbage_gives_none() {
        assert_eq!(next(&[]), None);
        assert_eq!(next(&[""]), None);
        assert_eq!(next(&[r#"<https://api.example.com/x>; rel="prev""#]), None);
        assert_eq!(next(&["garbage, more garbage"]), None);
        assert_eq!(next(&["<https://api.example.com/x; rel=next"]), None);
    }

    #[test]
    fn garbage_before_a_good_link_is_skipped() {
        let h = r#"junk; rel="next", <https://api.example.com/ok>; rel="next""#;
        assert_eq!(next(&[h]).as_deref(), Some("https://api.example.com/ok"));
    }
}
