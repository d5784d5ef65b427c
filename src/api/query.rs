//! Reading and setting one parameter in a request's query string, leaving
//! the rest exactly as the server first saw it.

use url::Url;
use url::form_urlencoded;

use super::error::PaginateError;

/// A whole number in the query (`?page=3`), if the parameter is present.
pub(crate) fn query_number(url: &Url, param: &str) -> Result<Option<u64>, PaginateError> {
    let Some((_, value)) = url.query_pairs().find(|(k, _)| k == param) else {
        return Ok(None);
    };
    value
        .trim()
        .parse()
        .map(Some)
        .map_err(|_| PaginateError::BadQueryValue {
            param: param.to_owned(),
            value: value.into_owned(),
            url: url.to_string(),
        })
}

/// `url` with `param` set to `value`: the first occurrence replaced in place,
/// later duplicates dropped, appended when absent. Other pairs are copied
/// raw rather than re-encoded, so the server sees them exactly as before.
pub fn with_query_param(url: &Url, param: &str, value: &str) -> Url {
    let pair = form_urlencoded::Serializer::new(String::new())
        .append_pair(param, value)
        .finish();
    let mut parts: Vec<&str> = Vec::new();
    let mut placed = false;
    for raw in url.query().unwrap_or("").split('&') {
        if raw.is_empty() {
            continue;
        }
        let is_param = form_urlencoded::parse(raw.as_bytes())
            .next()
            .is_some_and(|(k, _)| k == param);
        if !is_param {
            parts.push(raw);
        } else if !placed {
            parts.push(&pair);
            placed = true;
        }
    }
    if !placed {
        parts.push(&pair);
    }
    let mut next = url.clone();
    next.set_query(Some(&parts.join("&")));
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("test URL")
    }

    #[test]
    fn set_replaces_first_drops_duplicates_keeps_others_raw() {
        let u = url("https://h.example/p?a=x+y&page=1&b=%7E&page=2&flag");
        assert_eq!(
            with_query_param(&u, "page", "5").as_str(),
            "https://h.example/p?a=x+y&page=5&b=%7E&flag"
        );
    }

    #[test]
    fn set_appends_and_encodes() {
        let u = url("https://h.example/p");
        assert_eq!(
            with_query_param(&u, "cursor", "a b&c").as_str(),
            "https://h.example/p?cursor=a+b%26c"
        );
    }

    #[test]
    fn encoded_names_match_their_decoded_form() {
        let u = url("https://h.example/p?page%5Bnumber%5D=1");
        assert_eq!(
            with_query_param(&u, "page[number]", "2").as_str(),
            "https://h.example/p?page%5Bnumber%5D=2"
        );
        assert_eq!(query_number(&u, "page[number]"), Ok(Some(1)));
    }

    #[test]
    fn numbers_are_read_or_rejected_with_the_url() {
        assert_eq!(
            query_number(&url("https://h.example/?page=7"), "page"),
            Ok(Some(7))
        );
        assert_eq!(query_number(&url("https://h.example/"), "page"), Ok(None));
        let err = query_number(&url("https://h.example/?page=-1"), "page").expect_err("negative");
        assert!(
            err.to_string().contains("https://h.example/?page=-1"),
            "{err}"
        );
    }
}
