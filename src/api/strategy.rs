//! The vocabulary of pagination: how an API pages ([`Strategy`]), what to do
//! after a page ([`Next`]) and why a run ended normally ([`StopReason`]).

use std::fmt;

use url::Url;

use super::pointer::Pointer;

/// How an API hands out its pages.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Strategy {
    /// One request and its records: no pagination (`--paginate none`).
    Single,
    /// RFC 8288 `Link: <...>; rel="next"`.
    Link,
    /// The body names the next page's URL (absolute or relative).
    NextUrl { pointer: Pointer },
    /// A page number in the query: `start`, `start + step`, ...
    Page {
        param: String,
        /// The page number the API gives when the query has none.
        start: u64,
        step: u64,
        total_pages: Option<Pointer>,
        has_more: Option<Pointer>,
    },
    /// An offset and a page size in the query.
    Offset {
        offset_param: String,
        limit_param: String,
        limit: u64,
        total: Option<Pointer>,
    },
    /// An opaque cursor from the body, sent back in the query.
    Cursor {
        pointer: Pointer,
        param: String,
        has_more: Option<Pointer>,
    },
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Single => f.write_str("none (one request)"),
            Self::Link => f.write_str("link header rel=\"next\""),
            Self::NextUrl { pointer } => write!(f, "next URL at {pointer}"),
            Self::Page {
                param,
                start,
                step,
                total_pages,
                has_more,
            } => {
                write!(f, "page number ?{param}= from {start} step {step}")?;
                if let Some(p) = total_pages {
                    write!(f, ", total pages at {p}")?;
                }
                if let Some(p) = has_more {
                    write!(f, ", has-more flag at {p}")?;
                }
                Ok(())
            }
            Self::Offset {
                offset_param,
                limit_param,
                limit,
                total,
            } => {
                write!(f, "offset ?{offset_param}= with ?{limit_param}={limit}")?;
                if let Some(p) = total {
                    write!(f, ", total at {p}")?;
                }
                Ok(())
            }
            Self::Cursor {
                pointer,
                param,
                has_more,
            } => {
                write!(f, "cursor at {pointer} sent as ?{param}=")?;
                if let Some(p) = has_more {
                    write!(f, ", has-more flag at {p}")?;
                }
                Ok(())
            }
        }
    }
}

/// Why pagination ended normally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    NoNextLink,
    NoNextUrl,
    EmptyPage,
    /// The page number reached the body's total page count.
    LastPage,
    /// The body's has-more flag was false.
    NoMore,
    /// Fewer records than the limit asked for.
    ShortPage,
    /// Offset plus limit reached the body's total.
    TotalReached,
    NoCursor,
    /// No pagination: asked for (`--paginate none`), or none found with
    /// a records pointer given.
    SinglePage,
}

impl StopReason {
    /// Stable name for the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoNextLink => "no_next_link",
            Self::NoNextUrl => "no_next_url",
            Self::EmptyPage => "empty_page",
            Self::LastPage => "last_page",
            Self::NoMore => "no_more",
            Self::ShortPage => "short_page",
            Self::TotalReached => "total_reached",
            Self::NoCursor => "no_cursor",
            Self::SinglePage => "single_page",
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    Done(StopReason),
    Fetch(Url),
}
