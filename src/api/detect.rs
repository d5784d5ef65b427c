//! Guessing how an API pages from its first response, so `collector api`
//! works without pagination settings for the common shapes. Settings that
//! name a strategy bypass this entirely.

use serde_json::Value;
use url::Url;

use super::error::{PaginateError, top_level_keys};
use super::link_header::next_link;
use super::paginate::{count, flag};
use super::pointer::Pointer;
use super::records::records;
use super::strategy::Strategy;

/// Fields that hold the next page's URL (JSON:API, HAL, OData, Graph API,
/// Laravel, DRF and friends), RFC 6901 form because of `@odata.nextLink`.
const NEXT_URL_FIELDS: &[&str] = &[
    "/next",
    "/next_url",
    "/nextUrl",
    "/next_page_url",
    "/links/next",
    "/links/next/href",
    "/@odata.nextLink",
    "/paging/next",
    "/_links/next/href",
];

/// Cursor fields and the query parameter their APIs take the cursor back
/// in (Google's `nextPageToken` goes back as `pageToken`).
const CURSOR_FIELDS: &[(&str, &str)] = &[
    ("/next_cursor", "cursor"),
    ("/meta/next_cursor", "cursor"),
    ("/response_metadata/next_cursor", "cursor"),
    ("/cursor", "cursor"),
    ("/nextPageToken", "pageToken"),
    ("/next_page_token", "page_token"),
];

const HAS_MORE_FIELDS: &[&str] = &["/has_more", "/hasMore", "/meta/has_more"];

/// Where page and offset counters live when they are not at the top level.
const COUNTER_PREFIXES: &[&str] = &["", "/meta", "/pagination"];

/// Picks a [`Strategy`] from the first response, in this order: a `Link`
/// next; a next-URL field holding a URL; a cursor field holding a cursor; a
/// page number with a total page count or has-more flag; an offset with a
/// total. Last come next-URL or cursor fields that are null or empty: the
/// API pages that way but this response is already the last page.
pub fn detect(
    current: &Url,
    link_headers: &[&str],
    body: &Value,
) -> Result<Strategy, PaginateError> {
    if next_link(link_headers, current).is_some() {
        return Ok(Strategy::Link);
    }
    for field in NEXT_URL_FIELDS {
        if let Some(Value::String(s)) = body.pointer(field)
            && looks_like_url(s)
        {
            return Ok(Strategy::NextUrl {
                pointer: known(field),
            });
        }
    }
    for (field, param) in CURSOR_FIELDS {
        let usable = match body.pointer(field) {
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Number(_)) => true,
            _ => false,
        };
        if usable {
            return Ok(cursor(body, field, param));
        }
    }
    if let Some(strategy) = page_numbers(body) {
        return Ok(strategy);
    }
    if let Some(strategy) = offsets(body) {
        return Ok(strategy);
    }
    for field in NEXT_URL_FIELDS {
        if matches!(body.pointer(field), Some(Value::Null))
            || matches!(body.pointer(field), Some(Value::String(s)) if s.is_empty())
        {
            return Ok(Strategy::NextUrl {
                pointer: known(field),
            });
        }
    }
    for (field, param) in CURSOR_FIELDS {
        if matches!(body.pointer(field), Some(Value::Null))
            || matches!(body.pointer(field), Some(Value::String(s)) if s.is_empty())
        {
            return Ok(cursor(body, field, param));
        }
    }
    Err(PaginateError::Undetected {
        keys: top_level_keys(body),
    })
}

/// A bare `next` may be a page number or a token; only take strings that are
/// plainly URLs or URL references as next-page URLs.
fn looks_like_url(text: &str) -> bool {
    text.starts_with('/')
        || text.starts_with('?')
        || Url::parse(text).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

fn cursor(body: &Value, field: &str, param: &str) -> Strategy {
    Strategy::Cursor {
        pointer: known(field),
        param: param.to_owned(),
        has_more: has_more_flag(body),
    }
}

fn has_more_flag(body: &Value) -> Option<Pointer> {
    HAS_MORE_FIELDS
        .iter()
        .find(|field| matches!(body.pointer(field), Some(Value::Bool(_))))
        .map(|field| known(field))
}

fn page_numbers(body: &Value) -> Option<Strategy> {
    for prefix in COUNTER_PREFIXES {
        let page = known(&format!("{prefix}/page"));
        let Ok(Some(current)) = count(body, &page) else {
            continue;
        };
        let total_pages = ["total_pages", "totalPages"]
            .iter()
            .map(|name| known(&format!("{prefix}/{name}")))
            .find(|p| matches!(count(body, p), Ok(Some(_))));
        let has_more = has_more_flag(body).filter(|p| matches!(flag(body, p), Ok(Some(_))));
        if total_pages.is_none() && has_more.is_none() {
            continue;
        }
        return Some(Strategy::Page {
            param: "page".to_owned(),
            // Zero-based APIs say page 0 on the first response; anything
            // else is taken as one-based.
            start: current.min(1),
            step: 1,
            total_pages,
            has_more,
        });
    }
    None
}

fn offsets(body: &Value) -> Option<Strategy> {
    for prefix in COUNTER_PREFIXES {
        let offset = known(&format!("{prefix}/offset"));
        if !matches!(count(body, &offset), Ok(Some(_))) {
            continue;
        }
        let Some(total) = ["total", "total_count", "totalCount"]
            .iter()
            .map(|name| known(&format!("{prefix}/{name}")))
            .find(|p| matches!(count(body, p), Ok(Some(_))))
        else {
            continue;
        };
        // The page size the server used: its own `limit`, else the length of
        // this (full) first page.
        let limit = match count(body, &known(&format!("{prefix}/limit"))) {
            Ok(Some(limit)) if limit > 0 => limit,
            _ => match records(body, None) {
                Ok(items) if !items.is_empty() => u64::try_from(items.len()).ok()?,
                _ => continue,
            },
        };
        return Some(Strategy::Offset {
            offset_param: "offset".to_owned(),
            limit_param: "limit".to_owned(),
            limit,
            total: Some(total),
        });
    }
    None
}

/// The candidate tables hold RFC 6901 pointers with no `~`; a test checks
/// they all parse.
fn known(field: &str) -> Pointer {
    Pointer::from_table(field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn here() -> Url {
        Url::parse("https://api.example.com/v1/items").expect("test URL")
    }

    fn detected(body: Value) -> Strategy {
        detect(&here(), &[], &body).expect("detected")
    }

    fn next_url_at(pointer: &str) -> Strategy {
        Strategy::NextUrl {
            pointer: Pointer::parse(pointer).expect("pointer"),
        }
    }

    #[test]
    fn candidate_tables_are_valid_pointers() {
        let fields = NEXT_URL_FIELDS
            .iter()
            .chain(HAS_MORE_FIELDS)
            .chain(CURSOR_FIELDS.iter().map(|(f, _)| f));
        for field in fields {
            assert_eq!(Pointer::parse(field).expect(field).as_str(), *field);
        }
    }

    #[test]
    fn link_header_wins() {
        let body = json!({"next": "https://api.example.com/v1/items?page=2", "items": []});
        let s = detect(&here(), &[r#"<?page=2>; rel="next""#], &body).expect("link");
        assert_eq!(s, Strategy::Link);
    }

    #[test]
    fn each_next_url_shape() {
        let cases = [
            (
                json!({"next": "https://api.example.com/v1/items?page=2"}),
                "/next",
            ),
            (json!({"next_url": "/v1/items?page=2"}), "/next_url"),
            (json!({"nextUrl": "?page=2"}), "/nextUrl"),
            (
                json!({"links": {"next": "/v1/items?page[number]=2"}}),
                "/links/next",
            ),
            (
                json!({"value": [], "@odata.nextLink": "https://api.example.com/v1/items?$skip=20"}),
                "/@odata.nextLink",
            ),
            (
                json!({"data": [], "paging": {"next": "https://graph.example.com/x?after=Q"}}),
                "/paging/next",
            ),
            (
                json!({"_links": {"next": {"href": "/v1/items?page=2"}}}),
                "/_links/next/href",
            ),
        ];
        for (body, pointer) in cases {
            assert_eq!(detected(body.clone()), next_url_at(pointer), "{body}");
        }
    }

    #[test]
    fn a_next_that_is_not_a_url_is_not_a_next_url() {
        // DRF-style page numbers in `next` must not be fetched as paths.
        let body = json!({"next": "abc123", "page": 1, "total_pages": 4, "items": [1]});
        assert!(matches!(detected(body), Strategy::Page { .. }));
    }

    #[test]
    fn null_next_url_means_single_last_page() {
        assert_eq!(
            detected(json!({"results": [], "next": null})),
            next_url_at("/next")
        );
    }

    #[test]
    fn each_cursor_shape() {
        let cases = [
            (json!({"next_cursor": "c1"}), "/next_cursor", "cursor"),
            (
                json!({"meta": {"next_cursor": "c1"}}),
                "/meta/next_cursor",
                "cursor",
            ),
            (json!({"cursor": 42}), "/cursor", "cursor"),
            (json!({"nextPageToken": "t"}), "/nextPageToken", "pageToken"),
            (
                json!({"next_page_token": "t"}),
                "/next_page_token",
                "page_token",
            ),
        ];
        for (body, pointer, param) in cases {
            let expected = Strategy::Cursor {
                pointer: Pointer::parse(pointer).expect("pointer"),
                param: param.into(),
                has_more: None,
            };
            assert_eq!(detected(body.clone()), expected, "{body}");
        }
    }

    #[test]
    fn cursor_picks_up_a_has_more_flag() {
        let body = json!({"data": [1], "next_cursor": "c1", "has_more": true});
        let Strategy::Cursor { has_more, .. } = detected(body) else {
            panic!("not a cursor");
        };
        assert_eq!(
            has_more.map(|p| p.to_string()).as_deref(),
            Some("/has_more")
        );
    }

    #[test]
    fn page_with_total_pages() {
        let body = json!({"data": [1], "page": 1, "total_pages": 5});
        assert_eq!(
            detected(body),
            Strategy::Page {
                param: "page".into(),
                start: 1,
                step: 1,
                total_pages: Some(Pointer::parse("/total_pages").expect("p")),
                has_more: None,
            }
        );
        let body = json!({"content": [1], "meta": {"page": 0, "totalPages": 5}});
        let Strategy::Page {
            start, total_pages, ..
        } = detected(body)
        else {
            panic!("not pages");
        };
        assert_eq!(start, 0);
        assert_eq!(
            total_pages.map(|p| p.to_string()).as_deref(),
            Some("/meta/totalPages")
        );
    }

    #[test]
    fn offset_with_total_uses_limit_or_page_length() {
        let body = json!({"items": [1, 2, 3], "offset": 0, "limit": 25, "total": 70});
        assert_eq!(
            detected(body),
            Strategy::Offset {
                offset_param: "offset".into(),
                limit_param: "limit".into(),
                limit: 25,
                total: Some(Pointer::parse("/total").expect("p")),
            }
        );
        let body = json!({"items": [1, 2, 3], "offset": 0, "total_count": 70});
        let Strategy::Offset { limit, .. } = detected(body) else {
            panic!("not offsets");
        };
        assert_eq!(limit, 3);
    }

    #[test]
    fn nothing_known_lists_the_keys() {
        let err = detect(&here(), &[], &json!({"rows": [1], "status": "ok"})).expect_err("none");
        assert_eq!(
            err,
            PaginateError::Undetected {
                keys: vec!["rows".into(), "status".into()]
            }
        );
        assert!(err.to_string().contains("[rows, status]"), "{err}");
        assert!(detect(&here(), &[], &json!([1, 2])).is_err());
    }
}
