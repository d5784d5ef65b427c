//! What can go wrong while working out the next page: a malformed pointer, a
//! body of an unexpected shape, a query value that is not a number, or a
//! server leading the collector in a circle.

use std::fmt;

/// Why the loop guard stopped a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoopReason {
    /// The next request was already made in this run.
    RepeatedUrl,
    /// The page just received holds exactly the previous page's records.
    RepeatedPage,
}

impl fmt::Display for LoopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::RepeatedUrl => "next request was already made",
            Self::RepeatedPage => "page repeats the previous page's records, next would be",
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PaginateError {
    #[error("bad JSON pointer {pointer:?}: {reason}")]
    BadPointer {
        pointer: String,
        reason: &'static str,
    },

    #[error(
        "nothing at records pointer {pointer}; the response has top-level keys [{}]",
        keys.join(", ")
    )]
    PointerMissing { pointer: String, keys: Vec<String> },

    #[error(
        "{key} pointer {pointer} finds nothing on the first page; the response has top-level keys [{}]",
        keys.join(", ")
    )]
    PagingPointerMissing {
        key: &'static str,
        pointer: String,
        keys: Vec<String>,
    },

    #[error("records pointer {pointer} holds {found}, not an array")]
    NotAnArray {
        pointer: String,
        found: &'static str,
    },

    #[error(
        "no array of records in the body; top-level keys: [{}]; set a records pointer",
        keys.join(", ")
    )]
    NoRecordsArray { keys: Vec<String> },

    #[error(
        "several top-level arrays could be the records: [{}]; set a records pointer",
        keys.join(", ")
    )]
    AmbiguousRecords { keys: Vec<String> },

    #[error("body is {found}, neither an array nor an object; set a records pointer")]
    NotAnObject { found: &'static str },

    #[error("field {pointer} holds {found}, expected {expected}")]
    FieldType {
        pointer: String,
        expected: &'static str,
        found: &'static str,
    },

    #[error("next URL {value:?} at {pointer} does not resolve against {base}: {source}")]
    BadNextUrl {
        pointer: String,
        value: String,
        base: String,
        source: url::ParseError,
    },

    #[error("query parameter {param}={value:?} in {url} is not a whole number")]
    BadQueryValue {
        param: String,
        value: String,
        url: String,
    },

    #[error("invalid pagination settings: {reason}")]
    InvalidStrategy { reason: &'static str },

    #[error(
        "could not detect pagination: no Link rel=\"next\" and no known next-URL, cursor, \
         page or offset field; top-level keys: [{}]",
        keys.join(", ")
    )]
    Undetected { keys: Vec<String> },

    #[error("pagination loop: {reason} {url}")]
    PaginationLoop { url: String, reason: LoopReason },
}

impl PaginateError {
    /// Stable name for records and the summary.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadPointer { .. } | Self::InvalidStrategy { .. } => "pagination_settings",
            Self::PointerMissing { .. }
            | Self::NotAnArray { .. }
            | Self::NoRecordsArray { .. }
            | Self::AmbiguousRecords { .. }
            | Self::NotAnObject { .. } => "records_not_found",
            Self::FieldType { .. } | Self::BadNextUrl { .. } | Self::BadQueryValue { .. } => {
                "pagination_field"
            }
            Self::Undetected { .. } => "pagination_undetected",
            Self::PagingPointerMissing { .. } => "pagination_pointer_missing",
            Self::PaginationLoop { .. } => "pagination_loop",
        }
    }
}

/// The top-level keys of a body, for messages (none when it is no object).
pub(crate) fn top_level_keys(body: &serde_json::Value) -> Vec<String> {
    body.as_object()
        .map(|fields| fields.keys().cloned().collect())
        .unwrap_or_default()
}

/// The JSON type of a value, for messages.
pub(crate) fn type_name(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
