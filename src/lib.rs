//! collector: a concurrent HTTP crawler and data collector.
//!
//! ```text
//! seeds ─► frontier ─► politeness ─► fetch ─► extract ─► sink
//!             ▲     (gate: robots,   (pooled   (links,     (pages.jsonl/
//!             │      rate, caps)      client)   title)      json/csv/warc.gz,
//!             │                                             summary.json)
//!             └────────── new in-scope links ◄──┘
//! ```
//!
//! `crawl` wires the stages; `visit` handles one URL end to end, and
//! `preview` reports one such visit for `collector fetch`. Stages do
//! not import each other: `gate` is the contract between the frontier and
//! politeness, `record` the output contract. `net` holds the small network
//! tools (TCP, UDP, RFC 867 daytime); `shell` the completion scripts and
//! the man page, `help` the exit codes that end each command's `--help`.

pub mod api;
pub mod cli;
pub mod crawl;
pub mod demo;
pub mod exchange;
pub mod extract;
pub mod fetch;
pub mod frontier;
pub mod gate;
pub mod help;
pub mod net;
pub mod politeness;
pub mod preview;
pub mod progress;
pub mod record;
pub mod rules;
pub mod scope;
pub mod seeds;
pub mod settings;
pub mod shell;
pub mod shutdown;
pub mod sink;
pub mod sitemap;
pub mod visit;
