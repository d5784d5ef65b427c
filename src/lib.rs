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
//! Stages do not import each other: `gate` is the contract between the
//! frontier and politeness, `record` the output contract; `crawl` and
//! `api` wire the stages.

// `collector api`: options and settings, the pagination core, the pull loop, state, config files.
pub mod api;
// The top-level command enum; each command's flags live with the command.
pub mod cli;
// Where a setting came from, the merge of layers, TOML tables, shared checks, request options.
pub mod config;
// The crawl wing: settings, seeds, scope, one visit, the wiring, progress, `fetch` and `demo`.
pub mod crawl;
// A page's raw request and response, kept for archival sinks (WARC).
pub mod exchange;
// Pure extraction: sniffing, charsets, the link scanner, the DOM path for rule sets, sitemaps.
pub mod extract;
// The HTTP client, the one request loop (verdict, retries, redirects), bodies, cookies.
pub mod fetch;
// The URLs still to fetch: the `Frontier` trait, the in-memory store, canonical URLs.
pub mod frontier;
// The contract between frontier and politeness: may an origin start a request now.
pub mod gate;
// The exit codes that end each command's `--help`.
pub mod help;
// Named batch jobs: the jobs file, run dirs and `latest`, locks, run once, schedule, list.
pub mod jobs;
// Diagnostic logs on stderr: levels, text or JSON lines, around the progress line.
pub mod logging;
// Prometheus metrics: a registry of sources, the text format, the /metrics server.
pub mod metrics;
// The TCP, UDP and RFC 867 daytime tools.
pub mod net;
// How a command ended; only `main` maps it to an exit code.
pub mod outcome;
// robots.txt, per-origin limits and back-off, origin keys.
pub mod politeness;
// The output contract: page and skip records, the summary, error kinds.
pub mod record;
// The crawl report: report.html from a crawl's output, aggregated as it is read.
pub mod report;
// Extraction rule sets: their spec and compilation.
pub mod rules;
// Shell completion scripts and man pages, generated from the command line.
pub mod shell;
// SIGINT and SIGTERM: the first stops the run cleanly, the second at once.
pub mod shutdown;
// Output formats (JSONL, JSON, CSV, WARC), atomic files.
pub mod sink;
// `collector status` and `collector export`: a crawl shared by workers through Redis.
pub mod workers;
