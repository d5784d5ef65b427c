//! The remaining pages, all at once, when the first response says how many
//! there are (`total_pages` or `total`): they can then be fetched side by
//! side instead of one after the other. Pure.

use serde_json::Value;
use url::Url;

use super::error::PaginateError;
use super::paginate::count;
use super::query::{query_number, with_query_param};
use super::strategy::Strategy;

/// Beyond this many pages a plan is not made: a hostile or mistaken total
/// must not turn into a huge list; paging one by one still gets them all.
pub const MAX_PLANNED: u64 = 10_000;

/// The URLs of every page after `first`, in order, when `strategy` and
/// `first`'s `body` make them known; `None` when they are not. `first` is
/// the first page of a run: of the pull, or of a resumed pull (the
/// remaining pages are then those after where it resumed).
pub fn remaining_pages(
    strategy: &Strategy,
    first: &Url,
    body: &Value,
) -> Result<Option<Vec<Url>>, PaginateError> {
    match known_total(strategy, body)? {
        Some(total) => pages_after(strategy, first, total),
        None => Ok(None),
    }
}

/// What the body says there is in all, for a strategy that can plan: the
/// number of pages (`page` with total pages) or of records (`offset`
/// with a total).
fn known_total(strategy: &Strategy, body: &Value) -> Result<Option<u64>, PaginateError> {
    match strategy {
        Strategy::Page {
            step,
            total_pages: Some(pointer),
            ..
        } if *step > 0 => count(body, pointer),
        Strategy::Offset {
            limit,
            total: Some(pointer),
            ..
        } if *limit > 0 => count(body, pointer),
        _ => Ok(None),
    }
}

/// The URLs of the pages after `current` up to `total` (see
/// [`known_total`]); `None` when the strategy cannot plan or the plan
/// would pass [`MAX_PLANNED`].
fn pages_after(
    strategy: &Strategy,
    current: &Url,
    total: u64,
) -> Result<Option<Vec<Url>>, PaginateError> {
    match strategy {
        Strategy::Page {
            param, start, step, ..
        } if *step > 0 => {
            let page = query_number(current, param)?.unwrap_or(*start);
            let seen = page.saturating_sub(*start) / step + 1;
            if total.saturating_sub(seen) > MAX_PLANNED {
                return Ok(None);
            }
            Ok(Some(
                (seen..total)
                    .map(|i| with_query_param(current, param, &(start + i * step).to_string()))
                    .collect(),
            ))
        }
        Strategy::Offset {
            offset_param,
            limit_param,
            limit,
            ..
        } if *limit > 0 => {
            let offset = query_number(current, offset_param)?.unwrap_or(0);
            let pages = total
                .saturating_sub(offset)
                .div_ceil(*limit)
                .saturating_sub(1);
            if pages > MAX_PLANNED {
                return Ok(None);
            }
            Ok(Some(
                (1..=pages)
                    .map(|k| {
                        let url = with_query_param(
                            current,
                            offset_param,
                            &(offset + k * limit).to_string(),
                        );
                        with_query_param(&url, limit_param, &limit.to_string())
                    })
                    .collect(),
            ))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Pointer;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    fn ptr(s: &str) -> Pointer {
        Pointer::parse(s).expect("test pointer")
    }

    fn page(start: u64) -> Strategy {
        Strategy::Page {
            param: "page".into(),
            start,
            step: 1,
            total_pages: Some(ptr("total_pages")),
            has_more: None,
        }
    }

    fn strings(urls: Option<Vec<Url>>) -> Vec<String> {
        urls.expect("a plan").iter().map(Url::to_string).collect()
    }

    #[test]
    fn pages_after_the_first_up_to_the_total() {
        let body = serde_json::json!({"total_pages": 4});
        let got = remaining_pages(&page(1), &url("http://h/a?per=5"), &body).expect("ok");
        assert_eq!(
            strings(got),
            [
                "http://h/a?per=5&page=2",
                "http://h/a?per=5&page=3",
                "http://h/a?per=5&page=4"
            ]
        );
        let zero_based = remaining_pages(&page(0), &url("http://h/a?page=0"), &body).expect("ok");
        assert_eq!(
            strings(zero_based).last().map(String::as_str),
            Some("http://h/a?page=3")
        );
    }

    #[test]
    fn offsets_after_the_first_up_to_the_total() {
        let s = Strategy::Offset {
            offset_param: "offset".into(),
            limit_param: "limit".into(),
            limit: 50,
            total: Some(ptr("total")),
        };
        let body = serde_json::json!({"total": 120});
        let got = remaining_pages(&s, &url("http://h/a?limit=50"), &body).expect("ok");
        assert_eq!(
            strings(got),
            [
                "http://h/a?limit=50&offset=50",
                "http://h/a?limit=50&offset=100"
            ]
        );
    }

    #[test]
    fn a_resumed_pull_plans_from_its_next_page() {
        let got = pages_after(&page(1), &url("http://h/a?page=3"), 5).expect("ok");
        assert_eq!(strings(got), ["http://h/a?page=4", "http://h/a?page=5"]);
        let body = serde_json::json!({"total_pages": 5});
        assert_eq!(known_total(&page(1), &body).expect("ok"), Some(5));
        assert_eq!(known_total(&Strategy::Link, &body).expect("ok"), None);
    }

    #[test]
    fn no_plan_without_a_total_or_for_a_huge_one() {
        let none =
            remaining_pages(&page(1), &url("http://h/a"), &serde_json::json!({})).expect("ok");
        assert!(none.is_none());
        let huge = serde_json::json!({"total_pages": 1_000_000_000_u64});
        assert!(
            remaining_pages(&page(1), &url("http://h/a"), &huge)
                .expect("ok")
                .is_none()
        );
        assert!(
            remaining_pages(&Strategy::Link, &url("http://h/a"), &huge)
                .expect("ok")
                .is_none()
        );
    }
}
