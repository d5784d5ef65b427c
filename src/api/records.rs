//! Where the records sit in a response body: at a configured pointer, or
//! found by shape when the API keeps them in the one obvious place; and
//! whether the pagination pointers the settings name find anything.

use serde_json::Value;

use super::error::{PaginateError, top_level_keys, type_name};
use super::pointer::Pointer;
use super::strategy::Strategy;

/// The records of one page. With a pointer (RFC 6901 or dotted), the array
/// there; without, the body itself if it is an array, else its one
/// array-valued top-level field.
pub fn records<'a>(
    body: &'a Value,
    pointer: Option<&str>,
) -> Result<&'a Vec<Value>, PaginateError> {
    if let Some(text) = pointer {
        let pointer = Pointer::parse(text)?;
        return match pointer.get(body) {
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(PaginateError::NotAnArray {
                pointer: pointer.to_string(),
                found: type_name(other),
            }),
            None => Err(PaginateError::PointerMissing {
                pointer: pointer.to_string(),
                keys: top_level_keys(body),
            }),
        };
    }
    let fields = match body {
        Value::Array(items) => return Ok(items),
        Value::Object(fields) => fields,
        other => {
            return Err(PaginateError::NotAnObject {
                found: type_name(other),
            });
        }
    };
    let mut arrays = fields.iter().filter_map(|(key, value)| match value {
        Value::Array(items) => Some((key, items)),
        _ => None,
    });
    match (arrays.next(), arrays.next()) {
        (Some((_, items)), None) => Ok(items),
        (None, _) => Err(PaginateError::NoRecordsArray {
            keys: fields.keys().cloned().collect(),
        }),
        (Some(_), Some(_)) => Err(PaginateError::AmbiguousRecords {
            keys: fields
                .iter()
                .filter(|(_, v)| v.is_array())
                .map(|(k, _)| k.clone())
                .collect(),
        }),
    }
}

/// Checks the first page of a pull against the pagination pointers the
/// settings name: one that finds nothing at all (not even `null`) is most
/// likely a typo, which would otherwise end the pull after one page as if
/// it were complete.
pub fn paging_pointers_found(strategy: &Strategy, body: &Value) -> Result<(), PaginateError> {
    let named: Vec<(&'static str, &Pointer)> = match strategy {
        Strategy::Single | Strategy::Link => Vec::new(),
        Strategy::NextUrl { pointer } => vec![("next", pointer)],
        Strategy::Page {
            total_pages,
            has_more,
            ..
        } => [("total_pages", total_pages), ("has_more", has_more)]
            .into_iter()
            .filter_map(|(key, p)| p.as_ref().map(|p| (key, p)))
            .collect(),
        Strategy::Offset { total, .. } => total.iter().map(|p| ("total", p)).collect(),
        Strategy::Cursor {
            pointer, has_more, ..
        } => std::iter::once(("cursor", pointer))
            .chain(has_more.iter().map(|p| ("has_more", p)))
            .collect(),
    };
    match named.into_iter().find(|(_, p)| p.get(body).is_none()) {
        Some((key, pointer)) => Err(PaginateError::PagingPointerMissing {
            key,
            pointer: pointer.to_string(),
            keys: top_level_keys(body),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_selects_the_array() {
        let body = json!({"data": {"items": [1, 2]}, "other": [3]});
        assert_eq!(
            records(&body, Some("data.items")).expect("dotted"),
            &vec![json!(1), json!(2)]
        );
        assert_eq!(
            records(&body, Some("/other")).expect("rfc6901"),
            &vec![json!(3)]
        );
    }

    #[test]
    fn pointer_errors_name_the_pointer() {
        let body = json!({"data": {"items": 5}});
        let err = records(&body, Some("data.items")).expect_err("number");
        assert!(err.to_string().contains("/data/items"), "{err}");
        assert!(err.to_string().contains("a number"), "{err}");
        let err = records(&body, Some("data.rows")).expect_err("missing");
        assert!(err.to_string().contains("/data/rows"), "{err}");
    }

    #[test]
    fn a_paging_pointer_that_finds_nothing_names_itself_and_the_keys() {
        let cursor = Strategy::Cursor {
            pointer: Pointer::parse("meta.nxt").expect("pointer"),
            param: "cursor".into(),
            has_more: None,
        };
        let body = json!({"data": [1], "meta": {"next_cursor": "c1"}});
        let err = paging_pointers_found(&cursor, &body).expect_err("typo");
        assert_eq!(err.kind(), "pagination_pointer_missing");
        let text = err.to_string();
        assert!(text.contains("cursor pointer /meta/nxt"), "{text}");
        assert!(text.contains("[data, meta]"), "{text}");
        let last_page = json!({"data": [1], "meta": {"nxt": null}});
        assert!(paging_pointers_found(&cursor, &last_page).is_ok());
        assert!(paging_pointers_found(&Strategy::Link, &body).is_ok());
    }

    #[test]
    fn without_pointer_an_array_body_is_the_records() {
        let body = json!([{"id": 1}]);
        assert_eq!(records(&body, None).expect("array").len(), 1);
    }

    #[test]
    fn without_pointer_the_single_array_field() {
        let body = json!({"results": [1, 2, 3], "count": 3, "next": null});
        assert_eq!(records(&body, None).expect("one array").len(), 3);
    }

    #[test]
    fn without_pointer_errors_name_the_keys() {
        let err = records(&json!({"count": 0, "meta": {}}), None).expect_err("no array");
        assert_eq!(
            err,
            PaginateError::NoRecordsArray {
                keys: vec!["count".into(), "meta".into()]
            }
        );
        assert!(err.to_string().contains("[count, meta]"), "{err}");
        let err = records(&json!({"a": [], "b": [], "c": 1}), None).expect_err("two arrays");
        assert!(err.to_string().contains("[a, b]"), "{err}");
        let err = records(&json!("text"), None).expect_err("string");
        assert!(err.to_string().contains("a string"), "{err}");
    }
}
