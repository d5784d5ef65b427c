//! The command line: subcommands and their flags. Crawl options double as
//! the keys of a `--config` TOML file (same names, `-` becomes `_`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;

use crate::help;
use crate::net::args::TOOLS_EXIT_CODES;

#[derive(Debug, Parser)]
#[command(
    name = "collector",
    // `0.1.0 (commit date)` from build.rs.
    version = env!("COLLECTOR_LONG_VERSION"),
    about = "A concurrent HTTP crawler and data collector"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Crawl websites from a file of seed URLs and write one JSON record per page
    #[command(after_help = help::CRAWL_EXIT_CODES)]
    Crawl(Box<CrawlArgs>),
    /// Fetch one page with the crawl's settings and print, as JSON, what a crawl would do with it
    #[command(after_help = help::FETCH_EXIT_CODES)]
    Fetch(Box<FetchArgs>),
    /// Pull every page of a paginated JSON API into a JSONL file
    #[command(after_help = help::API_EXIT_CODES)]
    Api(Box<crate::api::settings::ApiArgs>),
    /// Serve a small built-in site on 127.0.0.1 and crawl it into output/demo/
    #[command(after_help = help::DEMO_EXIT_CODES)]
    Demo(DemoArgs),
    /// TCP tools: serve, send, check
    #[command(subcommand, after_help = TOOLS_EXIT_CODES)]
    Tcp(crate::net::TcpCommand),
    /// UDP tools: serve, send
    #[command(subcommand, after_help = TOOLS_EXIT_CODES)]
    Udp(crate::net::UdpCommand),
    /// RFC 867 daytime: serve, get
    #[command(subcommand, after_help = TOOLS_EXIT_CODES)]
    Daytime(crate::net::DaytimeCommand),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    #[command(after_help = help::PRINT_EXIT_CODES)]
    Completions(crate::shell::CompletionsArgs),
    /// Print the man page (roff) of collector or of one command: `collector man crawl | man -l -`
    #[command(after_help = help::PRINT_EXIT_CODES)]
    Man(crate::shell::ManArgs),
}

#[derive(Debug, Args)]
pub struct CrawlArgs {
    /// File with one seed URL per line (`#` comments allowed), or `-` for standard input
    pub seeds: String,
    /// TOML file with crawl options; flags given here win over it
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub options: CrawlOptions,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The page to fetch (http or https)
    pub url: String,
    /// TOML file in the `crawl --config` format; its request, scope and
    /// `[[rule]]` settings apply, flags given here win over it
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Apply this `[[rule]]` set whatever its URL pattern
    #[arg(long, value_name = "NAME")]
    pub rule: Option<String>,
    #[command(flatten)]
    pub options: FetchOptions,
}

/// The crawl options that bear on fetching one page: how it is requested,
/// robots.txt, and which of its links are in scope.
#[derive(Debug, Default, Clone, Args)]
pub struct FetchOptions {
    /// A host in scope for links and redirects (repeatable) [default: the URL's host]
    #[arg(long = "allow-domain", value_name = "D")]
    pub allow_domain: Vec<String>,
    /// Links to subdomains of the allowed domains are in scope
    #[arg(long)]
    pub subdomains: bool,
    /// Only links matching this regex are in scope (repeatable; any may match)
    #[arg(long, value_name = "REGEX")]
    pub include: Vec<String>,
    /// Links matching this regex are out of scope (repeatable)
    #[arg(long, value_name = "REGEX")]
    pub exclude: Vec<String>,
    /// User-Agent header [default: collector/VERSION]
    #[arg(long, value_name = "S")]
    pub user_agent: Option<String>,
    /// Extra request header 'Name: value' (repeatable)
    #[arg(long = "header", value_name = "'K: V'")]
    pub header: Vec<String>,
    /// Send the requests through this proxy (http://, https:// or socks5://)
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Keep cookies set by one response (a redirect) for the next request
    #[arg(long)]
    pub cookies: bool,
    /// Do not read or obey robots.txt
    #[arg(long)]
    pub ignore_robots: bool,
    /// Count links marked rel=nofollow as followed
    #[arg(long)]
    pub follow_nofollow: bool,
    /// Seconds one request may take, body included [default: 30]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub timeout: Option<f64>,
    /// Seconds to wait for a connection [default: 10]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub connect_timeout: Option<f64>,
    /// Retries after a connect error, timeout, 408, 429 or 5xx [default: 3]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub retries: Option<i64>,
    /// Largest body read, after decompression [default: 10485760]
    #[arg(long, value_name = "BYTES", allow_negative_numbers = true)]
    pub max_body: Option<i64>,
    /// Longest wait a server can impose with Retry-After [default: 60]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub max_wait: Option<f64>,
}

impl From<FetchOptions> for CrawlOptions {
    fn from(o: FetchOptions) -> Self {
        CrawlOptions {
            allow_domain: o.allow_domain,
            subdomains: o.subdomains,
            include: o.include,
            exclude: o.exclude,
            user_agent: o.user_agent,
            header: o.header,
            proxy: o.proxy,
            cookies: o.cookies,
            ignore_robots: o.ignore_robots,
            follow_nofollow: o.follow_nofollow,
            timeout: o.timeout,
            connect_timeout: o.connect_timeout,
            retries: o.retries,
            max_body: o.max_body,
            max_wait: o.max_wait,
            ..CrawlOptions::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the crawl's output
    #[arg(long, default_value = "output/demo")]
    pub out: PathBuf,
    /// Pages in the built-in site
    #[arg(long, default_value_t = 300)]
    pub pages: u32,
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
    #[arg(long)]
    pub quiet: bool,
}

/// Every crawl option, from flags or from the config file.
#[derive(Debug, Default, Clone, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrawlOptions {
    /// Output directory, or `-` for JSONL on standard output [default: output/crawl-TIMESTAMP]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Output formats, comma-separated: jsonl, json, csv, warc [default: jsonl]
    #[arg(long, value_name = "FORMATS")]
    #[serde(skip)]
    pub format: Option<String>,
    /// The config file's `[output]` table (`format` there).
    #[arg(skip)]
    pub output: Option<OutputTable>,
    /// Requests in flight at once, all hosts together [default: 64]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub concurrency: Option<i64>,
    /// Requests in flight at once per host (scheme, host and port) [default: 8]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub per_host: Option<i64>,
    /// Requests per second per host [default: unlimited]; robots.txt Crawl-delay can lower it
    #[arg(long, value_name = "R", allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// Fetch at most N pages
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_pages: Option<i64>,
    /// Follow links at most N steps from a seed (seeds are depth 0)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_depth: Option<i64>,
    /// Crawl this host too (repeatable) [default: the seeds' hosts]
    #[arg(long = "allow-domain", value_name = "D")]
    #[serde(default)]
    pub allow_domain: Vec<String>,
    /// Read this sitemap (XML, sitemap index, text, gzip) and queue its URLs (repeatable);
    /// sitemaps named in robots.txt are always read
    #[arg(long, value_name = "URL")]
    #[serde(default)]
    pub sitemap: Vec<String>,
    /// Also crawl subdomains of the allowed domains
    #[arg(long)]
    #[serde(default)]
    pub subdomains: bool,
    /// Only follow URLs matching this regex (repeatable; any may match)
    #[arg(long, value_name = "REGEX")]
    #[serde(default)]
    pub include: Vec<String>,
    /// Never follow URLs matching this regex (repeatable)
    #[arg(long, value_name = "REGEX")]
    #[serde(default)]
    pub exclude: Vec<String>,
    /// User-Agent header [default: collector/VERSION]
    #[arg(long, value_name = "S")]
    pub user_agent: Option<String>,
    /// Extra request header 'Name: value' (repeatable)
    #[arg(long = "header", value_name = "'K: V'")]
    #[serde(default)]
    pub header: Vec<String>,
    /// Send every request through this proxy (http://, https:// or socks5://)
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Keep cookies the servers set, for the whole run
    #[arg(long)]
    #[serde(default)]
    pub cookies: bool,
    /// Do not read or obey robots.txt
    #[arg(long)]
    #[serde(default)]
    pub ignore_robots: bool,
    /// Follow links marked rel=nofollow
    #[arg(long)]
    #[serde(default)]
    pub follow_nofollow: bool,
    /// Seconds one request may take, body included [default: 30]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub timeout: Option<f64>,
    /// Seconds to wait for a connection [default: 10]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub connect_timeout: Option<f64>,
    /// Retries after a connect error, timeout, 408, 429 or 5xx [default: 3]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub retries: Option<i64>,
    /// Largest body read, after decompression [default: 10485760]
    #[arg(long, value_name = "BYTES", allow_negative_numbers = true)]
    pub max_body: Option<i64>,
    /// Longest wait a server can impose with Retry-After or Crawl-delay [default: 60]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub max_wait: Option<f64>,
    /// Write every URL found but not fetched, with its reason, to skipped.jsonl
    #[arg(long)]
    #[serde(default)]
    pub log_skipped: bool,
    /// Progress display on standard error [default: auto]
    #[arg(long, value_enum)]
    pub progress: Option<ProgressMode>,
    /// No progress and no summary on standard error
    #[arg(long)]
    #[serde(default)]
    pub quiet: bool,
    /// Extraction rule sets (`[[rule]]` tables; config file only).
    #[arg(skip)]
    #[serde(default)]
    pub rule: Vec<crate::rules::RuleSpec>,
}

/// `[output]` in a crawl config file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputTable {
    /// `format = ["jsonl", "csv"]` or `format = "jsonl,csv"`.
    pub format: Option<FormatNames>,
}

/// Format names as a TOML list or one comma-separated string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FormatNames {
    One(String),
    Many(Vec<String>),
}

impl FormatNames {
    pub fn names(&self) -> &[String] {
        match self {
            Self::One(s) => std::slice::from_ref(s),
            Self::Many(v) => v,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgressMode {
    /// A live display on a terminal, periodic lines otherwise
    #[default]
    Auto,
    /// The live display even when standard error is not a terminal
    Always,
    /// No progress output (the closing summary is still printed)
    Never,
}
