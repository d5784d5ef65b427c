//! What the commands share about settings: where each value came from
//! ([`Origin`]), the merge of layers (flags over the environment over a
//! file over defaults, each key remembering its layer), reading TOML
//! tables and `COLLECTOR_*` variables, the checks every command applies,
//! and the request options of crawl, fetch and api.

pub mod check;
pub mod env;
pub mod file;
pub mod origin;
pub mod request;

pub use file::Table;
pub use origin::{Name, Origin, Origins};
pub use request::{DEFAULT_USER_AGENT, Request, RequestFlags, RequestOptions, list, switch};
