//! The `collector` binary: parse the command line, run, map the outcome to
//! an exit code (0 done, 1 some URLs failed, 2 bad input, 130 interrupted).

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use tokio_util::sync::CancellationToken;

use collector::cli::{Cli, Command};
use collector::record::Summary;
use collector::sink::Target;
use collector::{api, crawl, demo, net, preview, progress, settings, shell, shutdown};

const FAILED: u8 = 1;
const BAD_INPUT: u8 = 2;
const INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { BAD_INPUT } else { 0 });
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("collector: could not start the async runtime: {e}");
            return ExitCode::from(FAILED);
        }
    };
    let stop = CancellationToken::new();
    runtime.block_on(async {
        tokio::select! {
            code = run(cli.command, stop.clone()) => code,
            () = shutdown::second_interrupt(stop) => {
                eprintln!("collector: interrupted again, exiting now");
                ExitCode::from(INTERRUPTED)
            }
        }
    })
}

async fn run(command: Command, stop: CancellationToken) -> ExitCode {
    match command {
        Command::Crawl(args) => {
            let settings = match settings::resolve(&args) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("collector: {e:#}");
                    return ExitCode::from(BAD_INPUT);
                }
            };
            let (quiet, out) = (settings.quiet, settings.output.target.clone());
            finish(crawl::run(settings, stop).await, quiet, &out)
        }
        Command::Demo(args) => {
            let (quiet, out) = (args.quiet, Target::from_path(args.out.clone()));
            finish(demo::run(args, stop).await, quiet, &out)
        }
        Command::Fetch(args) => run_fetch(&args, stop).await,
        Command::Api(args) => run_api(&args, stop).await,
        Command::Tcp(c) => finish_tool(net::run_tcp(c, stop).await),
        Command::Udp(c) => finish_tool(net::run_udp(c, stop).await),
        Command::Daytime(c) => finish_tool(net::run_daytime(c, stop).await),
        Command::Completions(args) => print(|out| shell::write_completions(args.shell, out)),
        Command::Man(args) => match shell::man_page(&args.command) {
            Ok(page) => print(|out| page.render(out)),
            Err(e) => {
                eprintln!("collector: {e}");
                ExitCode::from(BAD_INPUT)
            }
        },
    }
}

/// `collector completions` and `collector man`: write to standard output.
fn print(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> ExitCode {
    match write(&mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("collector: could not write to standard output: {e}");
            ExitCode::from(FAILED)
        }
    }
}

/// `collector fetch URL`: the report on standard output, pretty-printed;
/// exit 1 when it has an error (robots.txt denial included), 0 whatever
/// the status of a response received (a 404 page is a page).
async fn run_fetch(args: &collector::cli::FetchArgs, stop: CancellationToken) -> ExitCode {
    let (url, settings) = match settings::resolve_fetch(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("collector: {e:#}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let report = match preview::run(url, &settings, stop).await {
        Ok(Some(report)) => report,
        Ok(None) => return ExitCode::from(INTERRUPTED),
        Err(e) => {
            eprintln!("collector: {e:#}");
            return ExitCode::from(FAILED);
        }
    };
    let printed = serde_json::to_string_pretty(&report)
        .map_err(std::io::Error::from)
        .and_then(|json| {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{json}").and_then(|()| out.flush())
        });
    if let Err(e) = printed {
        eprintln!("collector: could not print the report: {e}");
        return ExitCode::from(FAILED);
    }
    if report.failed() {
        ExitCode::from(FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// `collector api URL ...` pulls one resource; `collector api FILE.toml`
/// pulls the resources the file names.
async fn run_api(args: &api::settings::ApiArgs, stop: CancellationToken) -> ExitCode {
    let is_url = url::Url::parse(&args.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    let path = std::path::Path::new(&args.url);
    if !is_url && path.is_file() {
        let env = |var: &str| std::env::var(var).ok();
        let prepared = std::fs::read_to_string(path)
            .with_context(|| format!("could not read {}", path.display()))
            .and_then(|text| api::resources::parse(&text))
            .and_then(|file| api::resources::settings(&file, path, args.resume, args.quiet, &env))
            .with_context(|| format!("config file {}", path.display()));
        let (out_dir, resources) = match prepared {
            Ok(p) => p,
            Err(e) => {
                eprintln!("collector: {e:#}");
                return ExitCode::from(BAD_INPUT);
            }
        };
        return match api::resources::run(&out_dir, resources, &env, stop).await {
            Ok(summary) => {
                let codes: Vec<u8> = summary
                    .resources
                    .iter()
                    .map(|(name, s)| report_pull(&format!("{name}: "), s, args.quiet))
                    .collect();
                // A failed resource outweighs an interrupted one.
                let worst = [FAILED, INTERRUPTED]
                    .into_iter()
                    .find(|c| codes.contains(c));
                ExitCode::from(worst.unwrap_or(0))
            }
            Err(e) => {
                eprintln!("collector: {e:#}");
                ExitCode::from(FAILED)
            }
        };
    }
    let settings = match api::settings::resolve(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("collector: {e:#}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let quiet = settings.quiet;
    match api::pull::run(settings, stop).await {
        Ok(summary) => ExitCode::from(report_pull("", &summary, quiet)),
        Err(e) => {
            eprintln!("collector: {e:#}");
            ExitCode::from(FAILED)
        }
    }
}

/// Prints how a pull ended (`label` names the resource) and gives its exit
/// code: 0 complete, 1 stopped by an error, 130 interrupted.
fn report_pull(label: &str, s: &api::pull::PullSummary, quiet: bool) -> u8 {
    if !quiet {
        eprintln!(
            "{label}{} records from {} pages in {:.1}s; stopped: {}",
            s.records, s.pages, s.duration_s, s.stopped
        );
    }
    if let Some(e) = &s.error {
        eprintln!(
            "collector: {label}page {} ({}): {} [{}]",
            e.page, e.url, e.message, e.kind
        );
        FAILED
    } else if s.stopped == "interrupted" {
        INTERRUPTED
    } else {
        0
    }
}

fn finish_tool(result: anyhow::Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("collector: {e:#}");
            ExitCode::from(net::exit_code_for(&e))
        }
    }
}

fn finish(result: anyhow::Result<Summary>, quiet: bool, out: &Target) -> ExitCode {
    match result {
        Ok(summary) => {
            if !quiet {
                progress::print_summary(&summary, out);
            }
            if summary.interrupted {
                ExitCode::from(INTERRUPTED)
            } else if summary.failed > 0 {
                ExitCode::from(FAILED)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("collector: {e:#}");
            ExitCode::from(FAILED)
        }
    }
}
