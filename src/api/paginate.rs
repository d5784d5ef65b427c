//! The next page, decided from the current one: given how an API pages
//! ([`Strategy`]), the URL just fetched, its `Link` headers and its JSON body,
//! [`next_request`] says which URL to fetch next or why to stop. No I/O here.

use serde_json::Value;
use url::Url;

use super::error::{PaginateError, type_name};
use super::link_header::next_link;
use super::pointer::Pointer;
use super::query::{query_number, with_query_param};
use super::strategy::{Next, StopReason, Strategy};

/// The request after `current`, or why there is none.
///
/// Page and offset numbers are read from `current`'s query (the API's
/// default when absent) and the next value replaces them there; every other
/// query parameter is kept byte for byte. A configured field that is missing
/// or null tells nothing and stops nothing; one of the wrong type is an
/// error, since it means the pointer names the wrong field.
pub fn next_request(
    strategy: &Strategy,
    current: &Url,
    link_headers: &[&str],
    body: &Value,
    records_on_page: usize,
) -> Result<Next, PaginateError> {
    match strategy {
        Strategy::Single => Ok(Next::Done(StopReason::SinglePage)),
        Strategy::Link => Ok(next_link(link_headers, current)
            .map_or(Next::Done(StopReason::NoNextLink), Next::Fetch)),
        Strategy::NextUrl { pointer } => next_url(pointer, current, body),
        Strategy::Page {
            param,
            start,
            step,
            total_pages,
            has_more,
        } => {
            if *step == 0 {
                return Err(PaginateError::InvalidStrategy {
                    reason: "page step must be at least 1",
                });
            }
            if records_on_page == 0 {
                return Ok(Next::Done(StopReason::EmptyPage));
            }
            if let Some(p) = has_more
                && flag(body, p)? == Some(false)
            {
                return Ok(Next::Done(StopReason::NoMore));
            }
            let page = query_number(current, param)?.unwrap_or(*start);
            if let Some(p) = total_pages
                && let Some(total) = count(body, p)?
            {
                let pages_seen = page.saturating_sub(*start) / step + 1;
                if pages_seen >= total {
                    return Ok(Next::Done(StopReason::LastPage));
                }
            }
            let next = page
                .checked_add(*step)
                .ok_or(PaginateError::InvalidStrategy {
                    reason: "page number overflows",
                })?;
            Ok(Next::Fetch(with_query_param(
                current,
                param,
                &next.to_string(),
            )))
        }
        Strategy::Offset {
            offset_param,
            limit_param,
            limit,
            total,
        } => {
            if *limit == 0 {
                return Err(PaginateError::InvalidStrategy {
                    reason: "offset limit must be at least 1",
                });
            }
            // usize always fits in u64 on supported targets; saturate anyway.
            let on_page = u64::try_from(records_on_page).unwrap_or(u64::MAX);
            if on_page < *limit {
                return Ok(Next::Done(StopReason::ShortPage));
            }
            let offset = query_number(current, offset_param)?.unwrap_or(0);
            let next = offset
                .checked_add(*limit)
                .ok_or(PaginateError::InvalidStrategy {
                    reason: "offset overflows",
                })?;
            if let Some(p) = total
                && let Some(total) = count(body, p)?
                && next >= total
            {
                return Ok(Next::Done(StopReason::TotalReached));
            }
            let url = with_query_param(current, offset_param, &next.to_string());
            Ok(Next::Fetch(with_query_param(
                &url,
                limit_param,
                &limit.to_string(),
            )))
        }
        Strategy::Cursor {
            pointer,
            param,
            has_more,
        } => {
            if let Some(p) = has_more
                && flag(body, p)? == Some(false)
            {
                return Ok(Next::Done(StopReason::NoMore));
            }
            let cursor = match pointer.get(body) {
                None | Some(Value::Null) => return Ok(Next::Done(StopReason::NoCursor)),
                Some(Value::String(s)) if s.is_empty() => {
                    return Ok(Next::Done(StopReason::NoCursor));
                }
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                Some(other) => {
                    return Err(PaginateError::FieldType {
                        pointer: pointer.to_string(),
                        expected: "a string or number cursor",
                        found: type_name(other),
                    });
                }
            };
            Ok(Next::Fetch(with_query_param(current, param, &cursor)))
        }
    }
}

fn next_url(pointer: &Pointer, current: &Url, body: &Value) -> Result<Next, PaginateError> {
    let text = match pointer.get(body) {
        None | Some(Value::Null) => return Ok(Next::Done(StopReason::NoNextUrl)),
        Some(Value::String(s)) if s.trim().is_empty() => {
            return Ok(Next::Done(StopReason::NoNextUrl));
        }
        Some(Value::String(s)) => s.trim(),
        Some(other) => {
            return Err(PaginateError::FieldType {
                pointer: pointer.to_string(),
                expected: "a URL string",
                found: type_name(other),
            });
        }
    };
    current
        .join(text)
        .map(Next::Fetch)
        .map_err(|source| PaginateError::BadNextUrl {
            pointer: pointer.to_string(),
            value: text.to_owned(),
            base: current.to_string(),
            source,
        })
}

/// A count field (total pages, total records): a whole number, or a string of
/// one, as some APIs quote their numbers. Missing or null: unknown.
pub(crate) fn count(body: &Value, pointer: &Pointer) -> Result<Option<u64>, PaginateError> {
    let wrong = |found| PaginateError::FieldType {
        pointer: pointer.to_string(),
        expected: "a whole number",
        found,
    };
    match pointer.get(body) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| {
                // 3.0 from APIs that emit floats; fractions are not counts.
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 2f64.powi(53))
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or_else(|| wrong("a number that is not a whole count")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| wrong("a string that is not a whole number")),
        Some(other) => Err(wrong(type_name(other))),
    }
}

/// A has-more flag: a boolean, or `"true"`/`"false"`. Missing or null:
/// unknown.
pub(crate) fn flag(body: &Value, pointer: &Pointer) -> Result<Option<bool>, PaginateError> {
    match pointer.get(body) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(PaginateError::FieldType {
            pointer: pointer.to_string(),
            expected: "a boolean",
            found: type_name(other),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("test URL")
    }

    fn ptr(text: &str) -> Pointer {
        Pointer::parse(text).expect("test pointer")
    }

    fn fetch(next: Result<Next, PaginateError>) -> String {
        match next.expect("next request") {
            Next::Fetch(u) => u.into(),
            Next::Done(reason) => panic!("stopped: {reason}"),
        }
    }

    fn done(next: Result<Next, PaginateError>) -> StopReason {
        match next.expect("next request") {
            Next::Done(reason) => reason,
            Next::Fetch(u) => panic!("would fetch {u}"),
        }
    }

    fn page(total_pages: Option<&str>, has_more: Option<&str>) -> Strategy {
        Strategy::Page {
            param: "page".into(),
            start: 1,
            step: 1,
            total_pages: total_pages.map(ptr),
            has_more: has_more.map(ptr),
        }
    }

    fn offset(limit: u64, total: Option<&str>) -> Strategy {
        Strategy::Offset {
            offset_param: "offset".into(),
            limit_param: "limit".into(),
            limit,
            total: total.map(ptr),
        }
    }

    fn cursor(has_more: Option<&str>) -> Strategy {
        Strategy::Cursor {
            pointer: ptr("meta.next_cursor"),
            param: "cursor".into(),
            has_more: has_more.map(ptr),
        }
    }

    #[test]
    fn link_strategy_follows_and_stops() {
        let here = url("https://api.example.com/items");
        let next = next_request(
            &Strategy::Link,
            &here,
            &[r#"</items?page=2>; rel="next""#],
            &json!([]),
            0,
        );
        assert_eq!(fetch(next), "https://api.example.com/items?page=2");
        let next = next_request(
            &Strategy::Link,
            &here,
            &[r#"</items?page=1>; rel="prev""#],
            &json!([1]),
            1,
        );
        assert_eq!(done(next), StopReason::NoNextLink);
    }

    #[test]
    fn next_url_absolute_and_relative() {
        let s = Strategy::NextUrl {
            pointer: ptr("links.next"),
        };
        let here = url("https://api.example.com/v2/items?page=1");
        let body = json!({"links": {"next": "https://other.example.com/p/2"}});
        assert_eq!(
            fetch(next_request(&s, &here, &[], &body, 5)),
            "https://other.example.com/p/2"
        );
        let body = json!({"links": {"next": "/v2/items?after=abc"}});
        assert_eq!(
            fetch(next_request(&s, &here, &[], &body, 5)),
            "https://api.example.com/v2/items?after=abc"
        );
        let body = json!({"links": {"next": "?page=2"}});
        assert_eq!(
            fetch(next_request(&s, &here, &[], &body, 5)),
            "https://api.example.com/v2/items?page=2"
        );
    }

    #[test]
    fn next_url_stops_on_null_missing_or_empty() {
        let s = Strategy::NextUrl {
            pointer: ptr("next"),
        };
        let here = url("https://api.example.com/items");
        for body in [json!({"next": null}), json!({}), json!({"next": ""})] {
            assert_eq!(
                done(next_request(&s, &here, &[], &body, 3)),
                StopReason::NoNextUrl,
                "{body}"
            );
        }
    }

    #[test]
    fn next_url_of_wrong_type_names_the_pointer() {
        let s = Strategy::NextUrl {
            pointer: ptr("next"),
        };
        let here = url("https://api.example.com/items");
        let err = next_request(&s, &here, &[], &json!({"next": 2}), 3).expect_err("number");
        assert!(err.to_string().contains("/next"), "{err}");
        assert!(err.to_string().contains("a number"), "{err}");
    }

    #[test]
    fn page_param_is_replaced_not_duplicated() {
        let here = url("https://api.example.com/items?q=a%20b&page=2&sort=name");
        let next = fetch(next_request(&page(None, None), &here, &[], &json!([1]), 1));
        assert_eq!(
            next,
            "https://api.example.com/items?q=a%20b&page=3&sort=name"
        );
        let twice = url("https://api.example.com/items?page=2&x=1&page=7");
        let next = fetch(next_request(&page(None, None), &twice, &[], &json!([1]), 1));
        assert_eq!(next, "https://api.example.com/items?page=3&x=1");
    }

    #[test]
    fn page_param_is_added_after_start_when_absent() {
        let here = url("https://api.example.com/items?q=x");
        let next = fetch(next_request(&page(None, None), &here, &[], &json!([1]), 1));
        assert_eq!(next, "https://api.example.com/items?q=x&page=2");
        let zero_based = Strategy::Page {
            param: "p".into(),
            start: 0,
            step: 1,
            total_pages: None,
            has_more: None,
        };
        let here = url("https://api.example.com/items");
        let next = fetch(next_request(&zero_based, &here, &[], &json!([1]), 1));
        assert_eq!(next, "https://api.example.com/items?p=1");
    }

    #[test]
    fn page_stops_on_empty_page() {
        let here = url("https://api.example.com/items?page=4");
        let s = page(Some("total_pages"), None);
        let body = json!({"data": [], "total_pages": 9});
        assert_eq!(
            done(next_request(&s, &here, &[], &body, 0)),
            StopReason::EmptyPage
        );
    }

    #[test]
    fn page_stops_at_total_pages() {
        let s = page(Some("meta.total_pages"), None);
        let body = json!({"data": [1], "meta": {"total_pages": 3}});
        let at = |p: &str| url(&format!("https://api.example.com/items?page={p}"));
        assert_eq!(
            fetch(next_request(&s, &at("2"), &[], &body, 1)),
            "https://api.example.com/items?page=3"
        );
        assert_eq!(
            done(next_request(&s, &at("3"), &[], &body, 1)),
            StopReason::LastPage
        );
        assert_eq!(
            done(next_request(&s, &at("5"), &[], &body, 1)),
            StopReason::LastPage
        );
        // Quoted totals count too.
        let body = json!({"data": [1], "meta": {"total_pages": "3"}});
        assert_eq!(
            done(next_request(&s, &at("3"), &[], &body, 1)),
            StopReason::LastPage
        );
    }

    #[test]
    fn page_zero_based_total() {
        let s = Strategy::Page {
            param: "page".into(),
            start: 0,
            step: 1,
            total_pages: Some(ptr("totalPages")),
            has_more: None,
        };
        let body = json!({"content": [1], "totalPages": 2});
        let here = url("https://api.example.com/items?page=0");
        assert_eq!(
            fetch(next_request(&s, &here, &[], &body, 1)),
            "https://api.example.com/items?page=1"
        );
        let here = url("https://api.example.com/items?page=1");
        assert_eq!(
            done(next_request(&s, &here, &[], &body, 1)),
            StopReason::LastPage
        );
    }

    #[test]
    fn page_stops_when_has_more_is_false() {
        let s = page(None, Some("has_more"));
        let here = url("https://api.example.com/items?page=1");
        let body = json!({"items": [1], "has_more": false});
        assert_eq!(
            done(next_request(&s, &here, &[], &body, 1)),
            StopReason::NoMore
        );
        let body = json!({"items": [1], "has_more": true});
        assert_eq!(
            fetch(next_request(&s, &here, &[], &body, 1)),
            "https://api.example.com/items?page=2"
        );
    }

    #[test]
    fn page_rejects_bad_numbers_and_settings() {
        let s = page(Some("total_pages"), None);
        let here = url("https://api.example.com/items?page=two");
        let err = next_request(&s, &here, &[], &json!({}), 1).expect_err("bad page");
        assert!(err.to_string().contains("page=\"two\""), "{err}");
        let here = url("https://api.example.com/items");
        let err = next_request(&s, &here, &[], &json!({"total_pages": 1.5}), 1)
            .expect_err("fractional total");
        assert!(err.to_string().contains("/total_pages"), "{err}");
        let zero_step = Strategy::Page {
            param: "page".into(),
            start: 1,
            step: 0,
            total_pages: None,
            has_more: None,
        };
        assert!(next_request(&zero_step, &here, &[], &json!([]), 1).is_err());
    }

    #[test]
    fn offset_advances_by_limit_and_sets_limit() {
        let s = offset(2, Some("total"));
        let here = url("https://api.example.com/items?offset=4&q=x");
        let body = json!({"items": [1, 2], "total": 10});
        assert_eq!(
            fetch(next_request(&s, &here, &[], &body, 2)),
            "https://api.example.com/items?offset=6&q=x&limit=2"
        );
        let first = url("https://api.example.com/items?limit=2");
        assert_eq!(
            fetch(next_request(&s, &first, &[], &body, 2)),
            "https://api.example.com/items?limit=2&offset=2"
        );
    }

    #[test]
    fn offset_stops_on_short_page() {
        let s = offset(50, None);
        let here = url("https://api.example.com/items?offset=100&limit=50");
        assert_eq!(
            done(next_request(&s, &here, &[], &json!({"items": [1]}), 1)),
            StopReason::ShortPage
        );
        assert_eq!(
            done(next_request(&s, &here, &[], &json!({"items": []}), 0)),
            StopReason::ShortPage
        );
    }

    #[test]
    fn offset_stops_at_total() {
        let s = offset(2, Some("meta.total"));
        let here = url("https://api.example.com/items?offset=8&limit=2");
        let body = json!({"items": [1, 2], "meta": {"total": 10}});
        assert_eq!(
            done(next_request(&s, &here, &[], &body, 2)),
            StopReason::TotalReached
        );
        let here = url("https://api.example.com/items?offset=6&limit=2");
        assert_eq!(
            fetch(next_request(&s, &here, &[], &body, 2)),
            "https://api.example.com/items?offset=8&limit=2"
        );
    }

    #[test]
    fn cursor_is_sent_back_in_the_query() {
        let s = cursor(Some("meta.has_more"));
        let here = url("https://api.example.com/items?cursor=old&size=10");
        let body = json!({"data": [1], "meta": {"next_cursor": "a+b/c", "has_more": true}});
        assert_eq!(
            fetch(next_request(&s, &here, &[], &body, 1)),
            "https://api.example.com/items?cursor=a%2Bb%2Fc&size=10"
        );
        let body = json!({"data": [1], "meta": {"next_cursor": 1234}});
        assert_eq!(
            fetch(next_request(&s, &here, &[], &body, 1)),
            "https://api.example.com/items?cursor=1234&size=10"
        );
    }

    #[test]
    fn cursor_stops_on_null_empty_missing_or_no_more() {
        let s = cursor(Some("meta.has_more"));
        let here = url("https://api.example.com/items");
        for body in [
            json!({"meta": {"next_cursor": null}}),
            json!({"meta": {"next_cursor": ""}}),
            json!({"meta": {}}),
        ] {
            assert_eq!(
                done(next_request(&s, &here, &[], &body, 1)),
                StopReason::NoCursor,
                "{body}"
            );
        }
        let body = json!({"meta": {"next_cursor": "zzz", "has_more": false}});
        assert_eq!(
            done(next_request(&s, &here, &[], &body, 1)),
            StopReason::NoMore
        );
        let body = json!({"meta": {"next_cursor": "zzz", "has_more": "maybe"}});
        let err = next_request(&s, &here, &[], &body, 1).expect_err("bad flag");
        assert!(err.to_string().contains("/meta/has_more"), "{err}");
    }

    #[test]
    fn strategies_read_well_in_a_log_line() {
        assert_eq!(
            page(Some("total_pages"), None).to_string(),
            "page number ?page= from 1 step 1, total pages at /total_pages"
        );
        assert_eq!(
            cursor(None).to_string(),
            "cursor at /meta/next_cursor sent as ?cursor="
        );
        assert_eq!(
            offset(20, Some("total")).to_string(),
            "offset ?offset= with ?limit=20, total at /total"
        );
    }
}
