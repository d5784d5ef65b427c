//! The command line: the subcommands. Each command's flags live with it
//! (`crawl::options`, `api::settings`, `net::args`).

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "collector",
    version,
    about = "A concurrent HTTP crawler and data collector"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Crawl websites from a file of seed URLs and write one JSON record per page
    Crawl(Box<crate::crawl::options::CrawlArgs>),
    /// Fetch one page with the crawl's settings and print, as JSON, what a crawl would do with it
    Fetch(Box<crate::crawl::options::FetchArgs>),
    /// Pull every page of a paginated JSON API into a JSONL file
    Api(Box<crate::api::options::ApiArgs>),
    /// Serve a small built-in site on 127.0.0.1 and crawl it into output/demo/
    Demo(crate::crawl::demo::DemoArgs),
    /// TCP tools: serve, send, check
    #[command(subcommand)]
    Tcp(crate::net::TcpCommand),
    /// UDP tools: serve, send
    #[command(subcommand)]
    Udp(crate::net::UdpCommand),
    /// RFC 867 daytime: serve, get
    #[command(subcommand)]
    Daytime(crate::net::DaytimeCommand),
}
