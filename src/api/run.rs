//! `collector api URL|FILE`: a single pull from the flags, or every
//! resource of a config file (the flags applying to each), with how each
//! ended printed and one [`Outcome`] for the run.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::options::{ApiArgs, ApiOptions};
use super::pull::{self, PullSummary};
use super::{resources, settings};
use crate::outcome::Outcome;

/// Runs the pull or pulls `args` asks for; the environment gives credentials.
pub async fn run(args: &ApiArgs, stop: CancellationToken) -> Outcome {
    let env = |var: &str| std::env::var(var).ok();
    let is_url = url::Url::parse(&args.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    let path = Path::new(&args.url);
    if !is_url && path.is_file() {
        let mut flags = ApiOptions::from_args(args);
        flags.resource.url = None;
        let prepared =
            resources::load(path).and_then(|file| resources::settings(&file, path, &flags, &env));
        let (out_dir, plans) = match prepared {
            Ok(p) => p,
            Err(e) => return bad_input(&e),
        };
        let quiet = plans.iter().all(|(_, plan)| plan.quiet());
        return match resources::run(&out_dir, plans, &env, stop).await {
            Ok(summary) => summary
                .resources
                .iter()
                .map(|(name, s)| report(&format!("{name}: "), s, quiet))
                .fold(Outcome::Done, Outcome::worst),
            Err(e) => failed(&e),
        };
    }
    let settings = match settings::resolve_with_env(args, &env) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    let quiet = settings.quiet;
    match pull::run(settings, stop).await {
        Ok(summary) => report("", &summary, quiet),
        Err(e) => failed(&e),
    }
}

fn bad_input(e: &anyhow::Error) -> Outcome {
    eprintln!("collector: {e:#}");
    Outcome::BadInput
}

fn failed(e: &anyhow::Error) -> Outcome {
    eprintln!("collector: {e:#}");
    Outcome::Failed
}

/// Prints how a pull ended (`label` names the resource): complete, stopped
/// by an error, or interrupted.
fn report(label: &str, s: &PullSummary, quiet: bool) -> Outcome {
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
    }
    s.outcome()
}
