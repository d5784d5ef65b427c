//! The `collector` binary: parse the command line, run the command, map
//! its outcome to an exit code (0 done, 1 some URLs failed, 2 bad input,
//! 75 a job already running, 130 interrupted by Ctrl-C, 143 stopped by
//! SIGTERM). Only here.

use std::process::ExitCode;

use clap::Parser as _;
use tokio_util::sync::CancellationToken;

use collector::cli::{Cli, Command};
use collector::crawl::{demo, preview, progress, settings};
use collector::outcome::Outcome;
use collector::record::Summary;
use collector::shutdown::Signals;
use collector::sink::Target;
use collector::{api, crawl, jobs, net, shell};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            let outcome = if e.use_stderr() {
                Outcome::BadInput
            } else {
                Outcome::Done
            };
            return ExitCode::from(outcome.exit_code(false));
        }
    };
    collector::logging::init(cli.verbose, cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("collector: could not start the async runtime: {e}");
            return ExitCode::from(Outcome::Failed.exit_code(false));
        }
    };
    let stop = CancellationToken::new();
    let signals = Signals::default();
    let outcome = runtime.block_on(async {
        tokio::select! {
            outcome = run(cli.command, stop.clone()) => outcome,
            () = signals.second(stop) => {
                eprintln!("collector: signalled again, exiting now");
                Outcome::Interrupted
            }
        }
    });
    ExitCode::from(outcome.exit_code(signals.terminated()))
}

async fn run(command: Command, stop: CancellationToken) -> Outcome {
    match command {
        Command::Crawl(args) => {
            let settings = match settings::resolve(&args) {
                Ok(s) => s,
                Err(e) => return bad_input(&e),
            };
            let (quiet, out) = (settings.quiet, settings.output.target.clone());
            finish(crawl::run(settings, stop).await, quiet, &out)
        }
        Command::Demo(args) => {
            let (quiet, out) = (args.quiet, Target::from_path(args.out.clone()));
            let outcome = finish(demo::run(args, stop).await, quiet, &out);
            demo::print_report_path(&out);
            outcome
        }
        Command::Report(args) => collector::report::command(&args),
        Command::Status(args) => collector::workers::status_command(&args).await,
        Command::Export(args) => collector::workers::export_command(&args, stop).await,
        Command::Fetch(args) => preview::command(&args, stop).await,
        Command::Api(args) => api::run::run(&args, stop).await,
        Command::Run(args) => jobs::command::run_command(&args, stop).await,
        Command::Schedule(args) => jobs::command::schedule_command(&args, stop).await,
        Command::Jobs(args) => jobs::command::list_command(&args),
        Command::Tcp(c) => finish_tool(net::run_tcp(c, stop).await),
        Command::Udp(c) => finish_tool(net::run_udp(c, stop).await),
        Command::Daytime(c) => finish_tool(net::run_daytime(c, stop).await),
        Command::Completions(args) => print(|out| shell::write_completions(args.shell, out)),
        Command::Man(args) => match shell::man_page(&args.command) {
            Ok(page) => print(|out| page.render(out)),
            Err(e) => {
                eprintln!("collector: {e}");
                Outcome::BadInput
            }
        },
    }
}

/// `collector completions` and `collector man`: write to standard output.
fn print(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> Outcome {
    match write(&mut std::io::stdout().lock()) {
        Ok(()) => Outcome::Done,
        Err(e) => {
            eprintln!("collector: could not write to standard output: {e}");
            Outcome::Failed
        }
    }
}

fn bad_input(e: &anyhow::Error) -> Outcome {
    eprintln!("collector: {e:#}");
    Outcome::BadInput
}

fn finish_tool(result: anyhow::Result<Outcome>) -> Outcome {
    result.unwrap_or_else(|e| {
        eprintln!("collector: {e:#}");
        net::outcome_for(&e)
    })
}

fn finish(result: anyhow::Result<Summary>, quiet: bool, out: &Target) -> Outcome {
    match result {
        Ok(summary) => {
            if !quiet {
                progress::print_summary(&summary, out);
            }
            summary.outcome()
        }
        // Asked for no more records: done, and nothing to say (as
        // ripgrep into `head`).
        Err(e) if e.is::<collector::sink::ReaderGone>() => Outcome::Done,
        Err(e) => {
            eprintln!("collector: {e:#}");
            if e.is::<crawl::state::Refused>() || e.is::<collector::sink::dir::Unusable>() {
                Outcome::BadInput
            } else {
                Outcome::Failed
            }
        }
    }
}
