//! `collector api URL|FILE`: a single pull from the flags, or every
//! resource of a config file (the flags applying to each), with how each
//! ended printed and one [`Outcome`] for the run.

use std::path::Path;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::options::{ApiArgs, ApiOptions};
use super::pull::{self, PullSummary};
use super::recorder::Unfinished;
use super::settings::ApiLayers;
use super::{resources, settings};
use crate::config::env;
use crate::fetch::stats::RequestStats;
use crate::metrics::{self, MetricsSettings};
use crate::outcome::Outcome;

/// Runs the pull or pulls `args` asks for; the environment gives credentials.
pub async fn run(args: &ApiArgs, stop: CancellationToken) -> Outcome {
    let env = |var: &str| std::env::var(var).ok();
    let is_url = url::Url::parse(&args.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    let path = Path::new(&args.url);
    if !is_url && path.is_file() {
        let mut flags = ApiOptions::from_args(args);
        flags.resource.url = None;
        let prepared = ApiLayers::command_line(flags, &env::process).and_then(|top| {
            resources::load(path)
                .and_then(|file| resources::settings_under(&file, path, &top, &env))
        });
        let (out_dir, mut plans) = match prepared {
            Ok(p) => p,
            Err(e) => return bad_input(&e),
        };
        let quiet = plans.iter().all(|(_, plan)| plan.quiet());
        let wanted = plans.iter().find_map(|(_, plan)| match plan {
            resources::Plan::Pull(s) => s.metrics.clone(),
            resources::Plan::Children { .. } => None,
        });
        let served = match serve_metrics(wanted.as_ref()).await {
            Ok(served) => served,
            Err(e) => return failed(&e),
        };
        if let Some((_, requests)) = &served {
            for (_, plan) in &mut plans {
                plan.count_requests(requests);
            }
        }
        let result = resources::run(&out_dir, plans, &env, stop.clone()).await;
        if let Some((server, _)) = served {
            server.stop(&stop).await;
        }
        return match result {
            Ok(summary) => summary
                .resources
                .iter()
                .map(|(name, s)| report(&format!("{name}: "), s, quiet))
                .fold(Outcome::Done, Outcome::worst),
            Err(e) => failed(&e),
        };
    }
    let mut settings = match settings::resolve_with_env(args, &env) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    let quiet = settings.quiet;
    let served = match serve_metrics(settings.metrics.as_ref()).await {
        Ok(served) => served,
        Err(e) => return failed(&e),
    };
    settings.requests = served.as_ref().map(|(_, requests)| requests.clone());
    let result = pull::run(settings, stop.clone()).await;
    if let Some((server, _)) = served {
        server.stop(&stop).await;
    }
    match result {
        Ok(summary) => report("", &summary, quiet),
        // `--out - | head`: asked for no more records; done, and quiet.
        Err(e)
            if e.chain()
                .filter_map(|c| c.downcast_ref::<std::io::Error>())
                .any(crate::sink::is_reader_gone) =>
        {
            Outcome::Done
        }
        Err(e) => failed(&e),
    }
}

/// Starts `/metrics` when asked: the requests of every pull of the run,
/// child resources' pulls included.
async fn serve_metrics(
    wanted: Option<&MetricsSettings>,
) -> anyhow::Result<Option<(metrics::Server, Arc<RequestStats>)>> {
    let Some(wanted) = wanted else {
        return Ok(None);
    };
    let server = metrics::Server::start(wanted).await?;
    let requests = Arc::new(RequestStats::default());
    let counted = requests.clone();
    server
        .registry()
        .register(move |e: &mut metrics::Encoder| counted.collect(e));
    Ok(Some((server, requests)))
}

fn bad_input(e: &anyhow::Error) -> Outcome {
    eprintln!("collector: {e:#}");
    Outcome::BadInput
}

/// A run that could not go on: exit 1, or 2 when what stopped it is the
/// user's choice to make (a stopped pull in the way, [`Unfinished`]).
fn failed(e: &anyhow::Error) -> Outcome {
    eprintln!("collector: {e:#}");
    if e.downcast_ref::<Unfinished>().is_some() {
        Outcome::BadInput
    } else {
        Outcome::Failed
    }
}

/// Prints how a pull ended (`label` names the resource): complete, stopped
/// by an error, or interrupted.
fn report(label: &str, s: &PullSummary, quiet: bool) -> Outcome {
    if !quiet && crate::logging::json() {
        tracing::info!(
            target: "collector::summary",
            resource = label.trim_end_matches(": "),
            url = %s.url,
            strategy = %s.strategy,
            pages = s.pages,
            records = s.records,
            retries = s.retries,
            rate_limit_waits = s.rate_limit_waits,
            duration_s = s.duration_s,
            stopped = %s.stopped,
            "pull finished"
        );
    } else if !quiet {
        eprintln!(
            "{label}{} records from {} pages in {:.1}s; stopped: {}",
            s.records, s.pages, s.duration_s, s.stopped
        );
    }
    if let Some(e) = &s.error {
        if crate::logging::json() {
            tracing::error!(
                page = e.page,
                url = e.url.as_str(),
                kind = e.kind.as_str(),
                "{label}page {}: {}",
                e.page,
                e.message
            );
        } else {
            eprintln!(
                "collector: {label}page {} ({}): {} [{}]",
                e.page, e.url, e.message, e.kind
            );
        }
    }
    s.outcome()
}
