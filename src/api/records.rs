//! Where the records sit in a response body: at a configured pointer, or
//! found by shape when the API keeps them in the one obvious place.

use serde_json::Value;

use super::error::{PaginateError, type_name};
use super::pointer::Pointer;

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
