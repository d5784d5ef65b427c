//! Stops a pagination run that goes in circles: a server handing back a
//! cursor or next URL already followed, or serving the same full page again
//! for every page number past the end.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde_json::Value;
use url::Url;
use url::form_urlencoded;
use xxhash_rust::xxh3::Xxh3;

use super::error::{LoopReason, PaginateError};

/// Requests made so far in one run, and the previous page's records.
#[derive(Debug, Default)]
pub struct LoopGuard {
    requested: HashSet<String>,
    /// 128 bits so that two different pages colliding is not a concern.
    previous_page: Option<u128>,
}

impl LoopGuard {
    /// A guard that has seen the run's first request.
    pub fn new(first: &Url) -> Self {
        let mut guard = Self::default();
        guard.requested.insert(canonical(first));
        guard
    }

    /// Called with the page just received and the request about to follow
    /// it; remembers both when neither repeats.
    pub fn check(&mut self, next_url: &Url, records: &[Value]) -> Result<(), PaginateError> {
        let page = (!records.is_empty()).then(|| page_hash(records));
        if page.is_some() && page == self.previous_page {
            return Err(PaginateError::PaginationLoop {
                url: next_url.to_string(),
                reason: LoopReason::RepeatedPage,
            });
        }
        if !self.requested.insert(canonical(next_url)) {
            return Err(PaginateError::PaginationLoop {
                url: next_url.to_string(),
                reason: LoopReason::RepeatedUrl,
            });
        }
        self.previous_page = page;
        Ok(())
    }

    /// How many distinct requests the run has made or is about to make.
    pub fn requests(&self) -> usize {
        self.requested.len()
    }
}

/// The same request however it is spelled: no fragment (never sent), query
/// pairs decoded and sorted (`?a=1&b=2` is `?b=2&a=1`).
fn canonical(url: &Url) -> String {
    let mut url = url.clone();
    url.set_fragment(None);
    let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    if pairs.is_empty() {
        url.set_query(None);
    } else {
        pairs.sort();
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        url.set_query(Some(&query));
    }
    url.into()
}

fn page_hash(records: &[Value]) -> u128 {
    let mut hasher = Xxh3::new();
    let mut text = String::new();
    for record in records {
        text.clear();
        // Writing JSON into a String cannot fail.
        let _ = write!(text, "{record}");
        hasher.update(text.as_bytes());
        hasher.update(b"\n");
    }
    hasher.digest128()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("test URL")
    }

    #[test]
    fn distinct_pages_pass() {
        let mut guard = LoopGuard::new(&url("https://api.example.com/items"));
        guard
            .check(
                &url("https://api.example.com/items?page=2"),
                &[json!({"id": 1})],
            )
            .expect("page 1");
        guard
            .check(
                &url("https://api.example.com/items?page=3"),
                &[json!({"id": 2})],
            )
            .expect("page 2");
        assert_eq!(guard.requests(), 3);
    }

    #[test]
    fn repeated_cursor_is_a_loop() {
        let mut guard = LoopGuard::new(&url("https://api.example.com/items"));
        guard
            .check(&url("https://api.example.com/items?cursor=A"), &[json!(1)])
            .expect("first cursor");
        guard
            .check(&url("https://api.example.com/items?cursor=B"), &[json!(2)])
            .expect("second cursor");
        let err = guard
            .check(&url("https://api.example.com/items?cursor=A"), &[json!(3)])
            .expect_err("cursor A again");
        assert_eq!(err.kind(), "pagination_loop");
        assert!(err.to_string().contains("cursor=A"), "{err}");
        assert!(matches!(
            err,
            PaginateError::PaginationLoop {
                reason: LoopReason::RepeatedUrl,
                ..
            }
        ));
    }

    #[test]
    fn repeated_url_however_spelled_is_a_loop() {
        let mut guard = LoopGuard::new(&url("https://api.example.com/items?a=1&b=2"));
        let err = guard
            .check(
                &url("https://api.example.com/items?b=2&a=1#top"),
                &[json!(1)],
            )
            .expect_err("same request as the first");
        assert!(matches!(
            err,
            PaginateError::PaginationLoop {
                reason: LoopReason::RepeatedUrl,
                ..
            }
        ));
    }

    #[test]
    fn repeated_full_last_page_is_a_loop() {
        // Some APIs serve their last page for every page number past the end.
        let mut guard = LoopGuard::new(&url("https://api.example.com/items?page=1"));
        let last = [json!({"id": 9}), json!({"id": 10})];
        guard
            .check(
                &url("https://api.example.com/items?page=2"),
                &[json!({"id": 1})],
            )
            .expect("page 1");
        guard
            .check(&url("https://api.example.com/items?page=3"), &last)
            .expect("page 2");
        let err = guard
            .check(&url("https://api.example.com/items?page=4"), &last)
            .expect_err("page 3 repeats page 2");
        assert!(matches!(
            err,
            PaginateError::PaginationLoop {
                reason: LoopReason::RepeatedPage,
                ..
            }
        ));
    }

    #[test]
    fn empty_pages_are_not_compared() {
        let mut guard = LoopGuard::new(&url("https://api.example.com/items"));
        guard
            .check(&url("https://api.example.com/items?page=2"), &[])
            .expect("empty 1");
        guard
            .check(&url("https://api.example.com/items?page=3"), &[])
            .expect("empty 2");
    }
}
