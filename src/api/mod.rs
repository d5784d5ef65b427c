//! The pure core of `collector api`: how a JSON API pages and when to stop.
//!
//! ```text
//! first response ─► detect ─► Strategy ─┐
//!                                       ▼
//! response ─► records ─► next_request ─► Next::Fetch(url) ─► LoopGuard::check
//!                                     └► Next::Done(reason)
//! ```
//!
//! `link_header` reads RFC 8288 `Link` headers, `pointer` names fields
//! (RFC 6901 or dotted), `query` sets the page parameter; all of these are
//! pure. `pull` is the fetch loop that calls them, `settings` turns the
//! command line into a validated pull.

pub mod detect;
pub mod error;
pub mod link_header;
pub mod loop_guard;
pub mod options;
pub mod paginate;
pub mod parallel;
pub mod plan;
pub mod pointer;
pub mod pull;
pub mod query;
pub mod recorder;
pub mod records;
pub mod resources;
pub mod run;
pub mod settings;
pub mod state;
pub mod strategy;

pub use detect::detect;
pub use error::{LoopReason, PaginateError};
pub use link_header::next_link;
pub use loop_guard::LoopGuard;
pub use paginate::next_request;
pub use pointer::Pointer;
pub use query::with_query_param;
pub use records::records;
pub use strategy::{Next, StopReason, Strategy};
