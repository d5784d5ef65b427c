//! Guessing how an API pages from its first response, so `collector api`
//! works without pagination settings for the common shapes. Settings that
//! name a strategy bypass this entirely.

use serde_json::Value;
use url::Url;

use super::error::PaginateError;
use super::link_header::next_link;
use super::paginate::{Strategy, count, flag};
use super::pointer::Pointer;
use super::records::records;

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
        keys: body
            .as_object()
            .map(|fields| fields.keys().cloned().collect())
            .unwrap_or_default(),
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
