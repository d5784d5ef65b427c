//! Turns the crawl's layers (flags, then `COLLECTOR_*` variables, then the
//! config file, then defaults) into validated, typed settings. Every error names where the value came
//! from: the flag, or the file and key; nothing downstream re-parses
//! strings.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use url::Url;

use super::options::{CrawlArgs, CrawlOptions, FetchArgs, Layered, ProgressMode};
use crate::config::{Origin, Table, check, env};
use crate::crawl::scope::Scope;
use crate::crawl::seeds;
use crate::fetch::FetchConfig;
use crate::fetch::userinfo::{self, Credentials};
use crate::frontier::{Limits, QueryPolicy, SharedJob};
use crate::metrics::MetricsSettings;
use crate::politeness::LimiterConfig;
use crate::rules::RuleSets;
use crate::sink::format::{self, Output, Target};

/// Largest page body read by default, after decompression.
const DEFAULT_MAX_BODY: u64 = 10 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct CrawlSettings {
    pub seeds: Vec<Url>,
    /// Sitemaps to read from the start (`--sitemap`).
    pub sitemaps: Vec<Url>,
    pub output: Output,
    pub concurrency: usize,
    pub limiter: LimiterConfig,
    pub fetch: FetchConfig,
    pub scope: Scope,
    pub limits: Limits,
    pub respect_robots: bool,
    pub follow_nofollow: bool,
    pub query: QueryPolicy,
    pub log_skipped: bool,
    /// Write `report.html` after `summary.json` (`--no-report`: not).
    pub report: bool,
    pub progress: ProgressMode,
    pub quiet: bool,
    /// Remove an earlier crawl's files from the output directory
    /// (`--overwrite`); without it such a directory is refused.
    pub overwrite: bool,
    /// How long in-flight requests may run on after Ctrl-C.
    pub grace: Duration,
    /// Extraction rule sets, compiled.
    pub rules: Arc<RuleSets>,
    /// Where a resumable crawl keeps its frontier (`--state DIR`); `None`
    /// crawls in memory.
    pub state: Option<StateDir>,
    /// `--metrics ADDR`: Prometheus metrics served while the crawl runs.
    pub metrics: Option<MetricsSettings>,
    /// `--frontier redis://... --job NAME`: a worker of a shared crawl.
    pub shared: Option<SharedJob>,
    /// Userinfo taken out of the seed and sitemap URLs, sent as Basic auth
    /// to their own origins.
    pub credentials: Credentials,
}

/// A resumable crawl's state directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateDir {
    pub dir: PathBuf,
    /// Start over even if the state holds another crawl (`--fresh`).
    pub fresh: bool,
    /// Recrawl the finished crawl the state holds (`--recrawl`).
    pub recrawl: bool,
    /// A state of other seeds or scope is started over, with a warning,
    /// rather than refused (a job's state when its settings changed).
    pub replace_other: bool,
}

/// The flags of `collector crawl` as the top layer.
fn flags(args: &CrawlArgs) -> CrawlOptions {
    CrawlOptions {
        request: args.request.options(),
        scope: args.scope.options(),
        run: args.run.options(),
        rule: None,
    }
}

/// Flags over the config file (when given).
pub fn layers(top: CrawlOptions, config: Option<&Path>) -> anyhow::Result<Layered> {
    let mut layered = Layered::new(top, &Origin::Flag);
    if let Some(path) = config {
        layered.under(load_file(path)?, &Origin::file(path));
    }
    Ok(layered)
}

/// Flags over the `COLLECTOR_*` variables (read through `env`) over the
/// config file: `--config`, else the one `COLLECTOR_CONFIG` names.
pub fn layers_with_env(
    top: CrawlOptions,
    config: Option<&PathBuf>,
    env: env::Lookup,
) -> anyhow::Result<Layered> {
    let mut layered = Layered::new(top, &Origin::Flag);
    for (origin, layer) in CrawlOptions::from_env(env)? {
        layered.under(layer, &origin);
    }
    if let Some(file) = env::config_file(config, env)? {
        let options = load_file(&file.path).map_err(|e| file.context(e))?;
        layered.under(options, &Origin::file(&file.path));
    }
    Ok(layered)
}

/// Reads the environment, the config file (if any) and the seeds, and
/// validates everything.
pub fn resolve(args: &CrawlArgs) -> anyhow::Result<CrawlSettings> {
    resolve_with_env(args, &env::process)
}

/// [`resolve`] with the environment given as a lookup function.
pub fn resolve_with_env(args: &CrawlArgs, env: env::Lookup) -> anyhow::Result<CrawlSettings> {
    let layered = layers_with_env(flags(args), args.config.as_ref(), env)?;
    if args.frontier.is_none() {
        let given = [
            ("--job", args.job.is_some()),
            ("--worker", args.worker.is_some()),
            ("--lease", args.lease.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, g)| *g) {
            bail!("{flag} is for a shared crawl: give --frontier redis://HOST:PORT/DB too");
        }
    }
    // A worker joining a shared crawl may come without seeds.
    let joining = args.frontier.is_some();
    let seeds = match &args.seeds {
        Some(source) => read_seeds(source, joining)?,
        None if joining && layered.options.run.seeds.is_none() => Vec::new(),
        None => file_seeds(&layered)?,
    };
    let mut settings = build(&layered, seeds)?;
    if let Some(url) = &args.frontier {
        settings.shared = Some(shared_job(args, url)?);
    }
    if let Some(dir) = &args.state {
        match (&layered.options.run.out, &settings.output.target) {
            (_, Target::Stdout) => bail!(
                "--state needs an output directory: records on standard output cannot be \
                 cut back to a checkpoint on resume"
            ),
            // Without --out the records live beside the state, so the same
            // command finds them again.
            (None, _) => settings.output.target = Target::Dir(dir.clone()),
            (Some(_), _) => {}
        }
        settings.state = Some(StateDir {
            dir: dir.clone(),
            fresh: args.fresh,
            recrawl: args.recrawl,
            replace_other: false,
        });
    }
    Ok(settings)
}

/// Settings for `collector fetch`: the crawl's settings from the same flags
/// and config file, with the URL as the only seed and, with `--rule`, only
/// that rule set (applying whatever the URL). Returns the URL too.
pub fn resolve_fetch(args: &FetchArgs) -> anyhow::Result<(Url, CrawlSettings)> {
    let top = CrawlOptions {
        request: args.request.options(),
        scope: args.scope.options(),
        ..CrawlOptions::default()
    };
    let layered = layers_with_env(top, args.config.as_ref(), &env::process)?;
    let url = seeds::parse_url(args.url.trim())
        .map_err(|e| anyhow::Error::msg(userinfo::redacted(&e)))?;
    let mut settings = build(&layered, vec![url])?;
    if let Some(name) = &args.rule {
        settings.rules = Arc::new(settings.rules.forced(name)?);
    }
    // Without its userinfo, which went into the settings' credentials.
    let url = settings
        .seeds
        .first()
        .cloned()
        .context("internal: the seed is gone")?;
    Ok((url, settings))
}

/// A crawl config file's keys; rule sets are compiled here so that their
/// errors name the file before anything else runs.
pub fn load_file(path: &Path) -> anyhow::Result<CrawlOptions> {
    let options = CrawlOptions::from_table(Table::read(path)?)?;
    RuleSets::compile(options.rule.as_deref().unwrap_or_default())
        .with_context(|| format!("config file {}", path.display()))?;
    Ok(options)
}

/// A crawl config given as text (the built-in demo job); `name` stands in
/// for its path in messages.
pub fn parse_file(text: &str, name: &Path) -> anyhow::Result<CrawlOptions> {
    let options = CrawlOptions::from_table(Table::parse(text, Origin::file(name))?)?;
    RuleSets::compile(options.rule.as_deref().unwrap_or_default())
        .with_context(|| format!("config file {}", name.display()))?;
    Ok(options)
}

/// The config file's `seeds = [...]`, each an http(s) URL; an error names
/// the file and key, and says when there are none.
pub fn file_seeds(layered: &Layered) -> anyhow::Result<Vec<Url>> {
    let name = layered.origins.name("seeds");
    let Some(list) = &layered.options.run.seeds else {
        bail!(
            "no seeds: give SEEDS (a file, `-` or a URL) or `seeds = [\"https://...\"]` in the config file"
        );
    };
    if list.is_empty() {
        bail!("{name} is empty: nothing to crawl");
    }
    list.iter()
        .map(|s| seeds::parse_url(s.trim()).map_err(|e| anyhow::anyhow!("{name} {s:?}: {e}")))
        .collect()
}

/// The SEEDS argument: `-` (standard input), a seed file, or one URL.
fn read_seeds(source: &str, may_be_empty: bool) -> anyhow::Result<Vec<Url>> {
    let argument = seeds::seeds_argument(source, Path::new(source).is_file())
        .map_err(|e| anyhow::Error::msg(userinfo::redacted(&e)))?;
    match argument {
        seeds::SeedsArgument::Stdin => {
            let stdin = std::io::stdin();
            Ok(seeds::parse_lines(stdin.lock(), "<stdin>", may_be_empty)?)
        }
        seeds::SeedsArgument::Url(url) => Ok(vec![url]),
        seeds::SeedsArgument::File => {
            let file = std::fs::File::open(source)
                .with_context(|| format!("could not open seed file {source}"))?;
            Ok(seeds::parse_lines(
                BufReader::new(file),
                source,
                may_be_empty,
            )?)
        }
    }
}

/// `--frontier URL --job NAME [--worker ID] [--lease SECS]`.
fn shared_job(args: &CrawlArgs, url: &str) -> anyhow::Result<SharedJob> {
    let Some(job) = &args.job else {
        bail!("--frontier needs --job NAME: the workers of one job share its frontier");
    };
    crate::frontier::redis::check_job_name(job).map_err(anyhow::Error::msg)?;
    let lease = match args.lease {
        None => Duration::from_secs(30),
        Some(secs) if secs.is_finite() && (1.0..=86_400.0).contains(&secs) => {
            Duration::from_secs_f64(secs)
        }
        Some(secs) => bail!("--lease must be 1 to 86400 seconds, got {secs}"),
    };
    let worker = match &args.worker {
        Some(w) if !w.trim().is_empty() && !w.contains('\n') => w.clone(),
        Some(w) => bail!("--worker {w:?}: a worker name is one line of text"),
        None => default_worker(),
    };
    Ok(SharedJob {
        url: url.to_string(),
        job: job.clone(),
        worker,
        lease,
    })
}

/// HOST-PID: unique among the live workers of a job.
fn default_worker() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_string());
    format!("{host}-{}", std::process::id())
}

/// `--format` or `[output] format`; standard output takes JSONL only.
fn output(layered: &Layered) -> anyhow::Result<Output> {
    let (run, o) = (&layered.options.run, &layered.origins);
    let format_name = o.name("output.format");
    let formats = match run.output.as_ref().and_then(|t| t.format.as_ref()) {
        Some(names) => {
            format::parse_list(names.names()).with_context(|| format_name.to_string())?
        }
        None => vec![format::Format::Jsonl],
    };
    let target = Target::from_path(run.out.clone().unwrap_or_else(default_out));
    if target == Target::Stdout {
        if let Some(other) = formats.iter().find(|f| **f != format::Format::Jsonl) {
            bail!(
                "{} - streams JSONL to standard output; {format_name} {other} needs an output directory",
                o.name("out")
            );
        }
        if run.log_skipped == Some(true) {
            bail!(
                "{} - streams JSONL to standard output; {} needs an output directory",
                o.name("out"),
                o.name("log_skipped")
            );
        }
    }
    Ok(Output::new(target, formats))
}

/// `output/crawl-YYYYmmdd-HHMMSS`.
fn default_out() -> PathBuf {
    format::stamped("crawl", "")
}

/// Validates merged options into settings.
pub fn build(layered: &Layered, mut seeds: Vec<Url>) -> anyhow::Result<CrawlSettings> {
    let (opts, o) = (&layered.options, &layered.origins);
    let mut credentials = Credentials::default();
    for seed in &mut seeds {
        credentials.take(seed);
    }
    let (run, scope) = (&opts.run, &opts.scope);
    let count = |key, v: Option<i64>, default: u64| match v {
        Some(v) => check::at_least_one(&o.name(key), v),
        None => Ok(default),
    };
    let concurrency = count("concurrency", run.concurrency, 64)?;
    let per_host = count("per_host", run.per_host, 8)?;
    let request = opts.request.build(o, DEFAULT_MAX_BODY)?;
    let rules =
        RuleSets::compile(opts.rule.as_deref().unwrap_or_default()).with_context(|| {
            match o.of("rule") {
                Origin::File { path, .. } => format!("config file {}", path.display()),
                _ => "extraction rules".to_string(),
            }
        })?;
    let rules = Arc::new(rules);
    let mut output = output(layered)?;
    output.columns = rules.columns();
    let max_pages = run
        .max_pages
        .map(|v| check::non_negative(&o.name("max_pages"), v))
        .transpose()?;
    let max_depth = run
        .max_depth
        .map(|v| check::non_negative(&o.name("max_depth"), v))
        .transpose()?
        .map(|d| u32::try_from(d).unwrap_or(u32::MAX));

    let mut domains: Vec<String> = match &scope.allow_domain {
        None => seeds
            .iter()
            .filter_map(|s| s.host_str().map(str::to_string))
            .collect(),
        Some(list) => list
            .iter()
            .map(|d| {
                Url::parse(&format!("http://{}/", d.trim()))
                    .ok()
                    .and_then(|probe| probe.host_str().map(str::to_string))
                    .with_context(|| format!("{} {d:?} is not a host name", o.name("allow_domain")))
            })
            .collect::<anyhow::Result<_>>()?,
    };
    domains.sort();
    domains.dedup();

    let sitemaps: Vec<Url> = run
        .sitemap
        .iter()
        .flatten()
        .map(|s| {
            let name = o.name("sitemap");
            let mut url = Url::parse(s.trim())
                .with_context(|| format!("{name} {:?} is not a URL", userinfo::redacted(s)))?;
            credentials.take(&mut url);
            if !matches!(url.scheme(), "http" | "https") {
                bail!(
                    "{name} {:?}: only http and https URLs can be fetched",
                    userinfo::redacted(s)
                );
            }
            Ok(url)
        })
        .collect::<anyhow::Result<_>>()?;
    let patterns = |key, v: &Option<Vec<String>>| {
        check::regexes(&o.name(key), v.as_deref().unwrap_or_default())
    };

    Ok(CrawlSettings {
        seeds,
        sitemaps,
        output,
        concurrency: usize::try_from(concurrency).unwrap_or(usize::MAX),
        limiter: LimiterConfig {
            per_host: u32::try_from(per_host).unwrap_or(u32::MAX),
            rate: request.rate,
            max_wait: request.max_wait,
        },
        fetch: request.fetch,
        scope: Scope {
            domains,
            subdomains: scope.subdomains.unwrap_or(false),
            include: patterns("include", &scope.include)?,
            exclude: patterns("exclude", &scope.exclude)?,
        },
        limits: Limits {
            max_pages,
            max_depth,
        },
        respect_robots: !scope.ignore_robots.unwrap_or(false),
        follow_nofollow: scope.follow_nofollow.unwrap_or(false),
        query: QueryPolicy::Keep,
        log_skipped: run.log_skipped.unwrap_or(false),
        report: run.report.unwrap_or(true),
        progress: run.progress.unwrap_or_default(),
        quiet: run.quiet.unwrap_or(false),
        overwrite: run.overwrite.unwrap_or(false),
        metrics: MetricsSettings::build(o, run.metrics.as_deref(), run.metrics_linger)?,
        grace: Duration::from_secs(10),
        state: None,
        shared: None,
        rules,
        credentials,
    })
}

#[cfg(test)]
mod tests;
