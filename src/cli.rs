//! The command line: the subcommands. Each command's flags live with it
//! (`crawl::options`, `api::settings`, `jobs::command`, `net::args`).

use clap::{Parser, Subcommand};

use crate::help;
use crate::net::args::TOOLS_EXIT_CODES;

#[derive(Debug, Parser)]
#[command(
    name = "collector",
    version = env!("COLLECTOR_LONG_VERSION"),
    about = "A concurrent HTTP crawler and data collector"
)]
pub struct Cli {
    /// More diagnostic logs on stderr: -v for debug, -vv for trace
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// How diagnostic logs are written on stderr: text lines, or one JSON object per line
    /// (then no progress display, and the closing summary is a JSON event)
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t,
        env = "COLLECTOR_LOG_FORMAT"
    )]
    pub log_format: crate::logging::LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Crawl websites from a file of seed URLs and write one JSON record per page
    #[command(after_help = help::CRAWL_EXIT_CODES)]
    Crawl(Box<crate::crawl::options::CrawlArgs>),
    /// Fetch one page with the crawl's settings and print, as JSON, what a crawl would do with it
    #[command(after_help = help::FETCH_EXIT_CODES)]
    Fetch(Box<crate::crawl::options::FetchArgs>),
    /// Pull every page of a paginated JSON API into a JSONL file
    #[command(after_help = help::API_EXIT_CODES)]
    Api(Box<crate::api::options::ApiArgs>),
    /// How a crawl shared by workers through Redis stands: queued, leased, done, origins, workers
    #[command(after_help = help::STATUS_EXIT_CODES)]
    Status(crate::workers::StatusArgs),
    /// Write the merged output of a crawl shared by workers: every done page exactly once
    #[command(after_help = help::EXPORT_EXIT_CODES)]
    Export(crate::workers::ExportArgs),
    /// Write OUT/report.html, a page that shows how the crawl in OUT went
    #[command(after_help = crate::report::REPORT_EXIT_CODES)]
    Report(crate::report::ReportArgs),
    /// Run the named jobs of a jobs file once, each into OUTPUT/JOB/RUN-ID/
    #[command(after_help = help::RUN_EXIT_CODES)]
    Run(crate::jobs::command::RunArgs),
    /// Start the jobs of a jobs file at their cron times (UTC), in the foreground
    #[command(after_help = help::SCHEDULE_EXIT_CODES)]
    Schedule(crate::jobs::command::ScheduleArgs),
    /// List the jobs of a jobs file: schedule, next start, last run, output
    #[command(after_help = help::PRINT_EXIT_CODES)]
    Jobs(crate::jobs::command::ListArgs),
    /// Serve a small built-in site on 127.0.0.1 and crawl it into output/demo/
    #[command(after_help = help::DEMO_EXIT_CODES)]
    Demo(crate::crawl::demo::DemoArgs),
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
