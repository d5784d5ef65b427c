//! `collector demo`: serves the built-in site on 127.0.0.1 and crawls it,
//! so a newcomer sees a whole crawl with no network.

pub mod site;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use anyhow::Context as _;
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::Origin;
use crate::crawl::options::{CrawlOptions, FormatNames, Layered, OutputTable, ProgressMode};
use crate::crawl::{self, settings};
use crate::record::Summary;

/// The demo's job: extraction rules and output formats, the same file a
/// user would pass to `collector crawl --config`.
const DEMO_JOB: &str = include_str!("../../../config/demo.toml");

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the crawl's output; `-` streams its JSONL records (the
    /// built-in job's other formats need a directory and are left out)
    #[arg(long, default_value = "output/demo")]
    pub out: PathBuf,
    /// Pages in the built-in site
    #[arg(long, default_value_t = 300)]
    pub pages: u32,
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
    /// No progress and no summary on standard error
    #[arg(short, long)]
    pub quiet: bool,
}

/// Serves `site` on `listener` until `stop` fires.
pub async fn serve(listener: TcpListener, site: Arc<site::Site>, stop: CancellationToken) {
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let site = site.clone();
        async move {
            match site.resources.get(uri.path()) {
                Some(r) => (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, r.content_type)],
                    r.body.clone(),
                )
                    .into_response(),
                None => (StatusCode::NOT_FOUND, "not found").into_response(),
            }
        }
    });
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
}

/// The demo ends with the path of its report, for a browser.
pub fn print_report_path(out: &crate::sink::Target) {
    if let crate::sink::Target::Dir(dir) = out {
        let report = dir.join("report.html");
        if report.is_file() {
            println!("report: {}", report.display());
        }
    }
}

pub async fn run(args: DemoArgs, stop: CancellationToken) -> anyhow::Result<Summary> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("could not open a port on 127.0.0.1 for the demo site")?;
    let addr = listener.local_addr()?;
    let server_stop = CancellationToken::new();
    let server = tokio::spawn(serve(
        listener,
        Arc::new(site::generate(args.pages)),
        server_stop.clone(),
    ));
    if !args.quiet {
        tracing::info!(pages = args.pages, %addr, "demo site with {} pages on http://{addr}/", args.pages);
    }
    let seed = Url::parse(&format!("http://{addr}/"))?;
    let mut flags = CrawlOptions::default();
    if args.out.as_os_str() == "-" {
        flags.run.output = Some(OutputTable {
            format: Some(FormatNames::One("jsonl".into())),
        });
    }
    flags.run.out = Some(args.out);
    flags.run.progress = Some(args.progress);
    flags.run.quiet = Some(args.quiet);
    // The demo's folder is its own: a second demo replaces the first.
    flags.run.overwrite = Some(true);
    let name = Path::new("config/demo.toml (built in)");
    let job = settings::parse_file(DEMO_JOB, name)?;
    let mut layered = Layered::new(flags, &Origin::Flag);
    layered.under(job, &Origin::file(name));
    let settings = settings::build(&layered, vec![seed])?;
    let result = crawl::run(settings, stop).await;
    server_stop.cancel();
    let _ = server.await;
    result
}
