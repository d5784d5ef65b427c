//! The crawl's flags and config-file keys, in three parts that commands
//! share: request keys (`config::request`), scope keys (crawl and
//! `collector fetch`), and the keys of a whole crawl run. Flags and file
//! become the same [`CrawlOptions`] layer, merged key by key.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde::Deserialize;

use crate::config::file::fields;
use crate::config::{Origin, Origins, RequestFlags, RequestOptions, Table, env, list, switch};
use crate::rules::RuleSpec;

/// `collector crawl SEEDS [flags]`.
#[derive(Debug, Args)]
pub struct CrawlArgs {
    /// File with one seed URL per line (`#` comments allowed), `-` for standard
    /// input, or one http(s) URL to crawl from [default: the config file's
    /// `seeds` list]
    pub seeds: Option<String>,
    /// TOML file with crawl options; flags and COLLECTOR_* variables win over it
    /// [default: the file COLLECTOR_CONFIG names]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Keep the crawl's frontier and checkpoints in DIR, so that the same
    /// command run again resumes it after a crash or Ctrl-C [default output: DIR]
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// With --state: start the crawl over, even if DIR holds another one
    #[arg(long, requires = "state")]
    pub fresh: bool,
    /// With --state of a finished crawl: crawl it again into a new --out,
    /// asking for each page it fetched with If-None-Match / If-Modified-Since
    /// (304s are kept as not_modified, their stored links followed)
    #[arg(long, requires = "state", conflicts_with = "fresh")]
    pub recrawl: bool,
    /// Crawl as one of several workers sharing the job's frontier in this
    /// Redis (or Valkey) server: `redis://[:PASSWORD@]HOST:PORT/DB` (needs --job)
    #[arg(
        long,
        value_name = "URL",
        env = "COLLECTOR_FRONTIER",
        hide_env_values = true,
        conflicts_with = "state"
    )]
    pub frontier: Option<String>,
    /// With --frontier: the shared job's name; every worker of it gives the same
    #[arg(long, value_name = "NAME")]
    pub job: Option<String>,
    /// With --frontier: this worker's name in the job [default: HOST-PID]
    #[arg(long, value_name = "ID")]
    pub worker: Option<String>,
    /// With --frontier: seconds a lease lives without this worker's
    /// heartbeat; a dead worker's URLs go back to the queue after that [default: 30]
    #[arg(long, value_name = "SECS")]
    pub lease: Option<f64>,
    #[command(flatten)]
    pub run: RunFlags,
    #[command(flatten)]
    pub scope: ScopeFlags,
    #[command(flatten)]
    pub request: RequestFlags,
}

/// `collector fetch URL [flags]`: the crawl's scope and request flags.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The page to fetch (http or https)
    pub url: String,
    /// TOML file in the `crawl --config` format; its request, scope and
    /// `[[rule]]` settings apply, flags and COLLECTOR_* variables win over it
    /// [default: the file COLLECTOR_CONFIG names]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Apply this `[[rule]]` set whatever its URL pattern
    #[arg(long, value_name = "NAME")]
    pub rule: Option<String>,
    #[command(flatten)]
    pub scope: ScopeFlags,
    #[command(flatten)]
    pub request: RequestFlags,
}

/// Which links and redirects are followed, and how robots.txt is obeyed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeOptions {
    pub allow_domain: Option<Vec<String>>,
    pub subdomains: Option<bool>,
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
    pub ignore_robots: Option<bool>,
    pub follow_nofollow: Option<bool>,
}

#[derive(Clone, Debug, Default, Args)]
pub struct ScopeFlags {
    /// Crawl this host too (repeatable) [default: the seeds' hosts]
    #[arg(long = "allow-domain", value_name = "D")]
    pub allow_domain: Vec<String>,
    /// Also crawl subdomains of the allowed domains [--no-subdomains: off]
    #[arg(long, overrides_with = "no_subdomains")]
    pub subdomains: bool,
    #[arg(long, overrides_with = "subdomains", hide = true)]
    pub no_subdomains: bool,
    /// Only follow URLs matching this regex (repeatable; any may match)
    #[arg(long, value_name = "REGEX")]
    pub include: Vec<String>,
    /// Never follow URLs matching this regex (repeatable)
    #[arg(long, value_name = "REGEX")]
    pub exclude: Vec<String>,
    /// Do not read or obey robots.txt [--no-ignore-robots: obey it]
    #[arg(long, overrides_with = "no_ignore_robots")]
    pub ignore_robots: bool,
    #[arg(long, overrides_with = "ignore_robots", hide = true)]
    pub no_ignore_robots: bool,
    /// Follow links marked rel=nofollow [--no-follow-nofollow: do not]
    #[arg(long, overrides_with = "no_follow_nofollow")]
    pub follow_nofollow: bool,
    #[arg(long, overrides_with = "follow_nofollow", hide = true)]
    pub no_follow_nofollow: bool,
}

impl ScopeFlags {
    pub fn options(&self) -> ScopeOptions {
        ScopeOptions {
            allow_domain: list(&self.allow_domain),
            subdomains: switch(self.subdomains, self.no_subdomains),
            include: list(&self.include),
            exclude: list(&self.exclude),
            ignore_robots: switch(self.ignore_robots, self.no_ignore_robots),
            follow_nofollow: switch(self.follow_nofollow, self.no_follow_nofollow),
        }
    }
}

impl ScopeOptions {
    pub fn fill(&mut self, lower: Self, origin: &Origin, o: &mut Origins) {
        o.fill(
            "allow_domain",
            &mut self.allow_domain,
            lower.allow_domain,
            origin,
        );
        o.fill("subdomains", &mut self.subdomains, lower.subdomains, origin);
        o.fill("include", &mut self.include, lower.include, origin);
        o.fill("exclude", &mut self.exclude, lower.exclude, origin);
        o.fill(
            "ignore_robots",
            &mut self.ignore_robots,
            lower.ignore_robots,
            origin,
        );
        o.fill(
            "follow_nofollow",
            &mut self.follow_nofollow,
            lower.follow_nofollow,
            origin,
        );
    }
}

/// The keys of a whole crawl run (not used by `collector fetch`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunOptions {
    /// Seed URLs (config file only; the SEEDS argument wins over them).
    pub seeds: Option<Vec<String>>,
    pub out: Option<PathBuf>,
    /// `[output]`: `format` there.
    pub output: Option<OutputTable>,
    pub concurrency: Option<i64>,
    pub per_host: Option<i64>,
    pub max_pages: Option<i64>,
    pub max_depth: Option<i64>,
    pub sitemap: Option<Vec<String>>,
    pub log_skipped: Option<bool>,
    pub report: Option<bool>,
    pub progress: Option<ProgressMode>,
    pub quiet: Option<bool>,
    pub overwrite: Option<bool>,
    pub metrics: Option<String>,
    pub metrics_linger: Option<f64>,
}

#[derive(Clone, Debug, Default, Args)]
pub struct RunFlags {
    /// Output directory, or `-` for JSONL on standard output [default: output/crawl-TIMESTAMP]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Output formats, comma-separated: jsonl, json, csv, warc [default: jsonl]
    #[arg(long, value_name = "FORMATS")]
    pub format: Option<String>,
    /// Requests in flight at once, all hosts together [default: 64]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub concurrency: Option<i64>,
    /// Requests in flight at once per host (scheme, host and port) [default: 8]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub per_host: Option<i64>,
    /// Fetch at most N pages
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_pages: Option<i64>,
    /// Follow links at most N steps from a seed (seeds are depth 0)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_depth: Option<i64>,
    /// Read this sitemap (XML, sitemap index, text, gzip) and queue its URLs (repeatable);
    /// sitemaps named in robots.txt are always read
    #[arg(long, value_name = "URL")]
    pub sitemap: Vec<String>,
    /// Write every URL found but not fetched, with its reason, to skipped.jsonl
    /// [--no-log-skipped: do not]
    #[arg(long, overrides_with = "no_log_skipped")]
    pub log_skipped: bool,
    #[arg(long, overrides_with = "log_skipped", hide = true)]
    pub no_log_skipped: bool,
    #[arg(long, overrides_with = "no_report", hide = true)]
    pub report: bool,
    /// Do not write report.html (how the crawl went, for a browser) into the
    /// output directory at the end [--report: write it, the default]
    #[arg(long, overrides_with = "report")]
    pub no_report: bool,
    /// Progress display on standard error [default: auto]
    #[arg(long, value_enum)]
    pub progress: Option<ProgressMode>,
    /// No progress and no summary on standard error [--no-quiet: show them]
    #[arg(short, long, overrides_with = "no_quiet")]
    pub quiet: bool,
    #[arg(long, overrides_with = "quiet", hide = true)]
    pub no_quiet: bool,
    /// Remove an earlier crawl's files from the output directory first (without it such a
    /// directory is refused) [--no-overwrite: refuse]
    #[arg(long, overrides_with = "no_overwrite")]
    pub overwrite: bool,
    #[arg(long, overrides_with = "overwrite", hide = true)]
    pub no_overwrite: bool,
    /// Serve Prometheus metrics on http://ADDR/metrics while the crawl runs (e.g. 127.0.0.1:9100)
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
    /// Keep serving the metrics this many seconds after the crawl ends, for a last scrape
    /// [default: 0]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub metrics_linger: Option<f64>,
}

impl RunFlags {
    pub fn options(&self) -> RunOptions {
        RunOptions {
            seeds: None,
            out: self.out.clone(),
            output: self.format.as_ref().map(|f| OutputTable {
                format: Some(FormatNames::One(f.clone())),
            }),
            concurrency: self.concurrency,
            per_host: self.per_host,
            max_pages: self.max_pages,
            max_depth: self.max_depth,
            sitemap: list(&self.sitemap),
            log_skipped: switch(self.log_skipped, self.no_log_skipped),
            report: switch(self.report, self.no_report),
            progress: self.progress,
            quiet: switch(self.quiet, self.no_quiet),
            overwrite: switch(self.overwrite, self.no_overwrite),
            metrics: self.metrics.clone(),
            metrics_linger: self.metrics_linger,
        }
    }
}

impl RunOptions {
    pub fn fill(&mut self, lower: Self, origin: &Origin, o: &mut Origins) {
        o.fill("seeds", &mut self.seeds, lower.seeds, origin);
        o.fill("out", &mut self.out, lower.out, origin);
        let mut format = self.output.take().and_then(|t| t.format);
        o.fill(
            "output.format",
            &mut format,
            lower.output.and_then(|t| t.format),
            origin,
        );
        self.output = format.map(|f| OutputTable { format: Some(f) });
        o.fill(
            "concurrency",
            &mut self.concurrency,
            lower.concurrency,
            origin,
        );
        o.fill("per_host", &mut self.per_host, lower.per_host, origin);
        o.fill("max_pages", &mut self.max_pages, lower.max_pages, origin);
        o.fill("max_depth", &mut self.max_depth, lower.max_depth, origin);
        o.fill("sitemap", &mut self.sitemap, lower.sitemap, origin);
        o.fill(
            "log_skipped",
            &mut self.log_skipped,
            lower.log_skipped,
            origin,
        );
        o.fill("report", &mut self.report, lower.report, origin);
        o.fill("progress", &mut self.progress, lower.progress, origin);
        o.fill("quiet", &mut self.quiet, lower.quiet, origin);
        o.fill("overwrite", &mut self.overwrite, lower.overwrite, origin);
        o.fill("metrics", &mut self.metrics, lower.metrics, origin);
        o.fill(
            "metrics_linger",
            &mut self.metrics_linger,
            lower.metrics_linger,
            origin,
        );
    }
}

/// `[[rule]]` tables (config file only).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleTables {
    rule: Option<Vec<RuleSpec>>,
}

/// One layer of crawl settings: the flags, or a config file.
#[derive(Clone, Debug, Default)]
pub struct CrawlOptions {
    pub request: RequestOptions,
    pub scope: ScopeOptions,
    pub run: RunOptions,
    /// Extraction rule sets.
    pub rule: Option<Vec<RuleSpec>>,
}

impl CrawlOptions {
    /// Reads a crawl config file's keys (or a job's `crawl` table).
    pub fn from_table(mut table: Table) -> anyhow::Result<Self> {
        let options = Self {
            request: table.take()?,
            scope: table.take()?,
            run: table.take()?,
            rule: table.take::<RuleTables>()?.rule,
        };
        table.finish()?;
        Ok(options)
    }

    pub fn fill(&mut self, lower: Self, origin: &Origin, o: &mut Origins) {
        self.request.fill(lower.request, origin, o);
        self.scope.fill(lower.scope, origin, o);
        self.run.fill(lower.run, origin, o);
        o.fill("rule", &mut self.rule, lower.rule, origin);
    }

    /// The keys the environment may set: every key of the file the option
    /// structs declare, `[output]`'s as `output.format`; not `[[rule]]`.
    pub fn env_keys() -> Vec<String> {
        let mut keys = Vec::new();
        let top = [
            fields::<RequestOptions>(),
            fields::<ScopeOptions>(),
            fields::<RunOptions>(),
        ];
        for key in top.into_iter().flatten() {
            if *key == "output" {
                keys.extend(
                    fields::<OutputTable>()
                        .iter()
                        .map(|k| format!("output.{k}")),
                );
            } else {
                keys.push((*key).to_string());
            }
        }
        keys
    }

    /// One layer per `COLLECTOR_<KEY>` variable set (see `config::env`).
    pub fn from_env(env: env::Lookup) -> anyhow::Result<Vec<(Origin, Self)>> {
        env::layers(&Self::env_keys(), env, Self::from_table)
    }
}

/// Options merged from their layers, each key remembering its layer.
#[derive(Clone, Debug, Default)]
pub struct Layered {
    pub options: CrawlOptions,
    pub origins: Origins,
}

impl Layered {
    /// Starts from the highest layer.
    pub fn new(top: CrawlOptions, origin: &Origin) -> Self {
        let mut layered = Self::default();
        layered.under(top, origin);
        layered
    }

    /// Adds a lower layer: it fills only the keys still unset.
    pub fn under(&mut self, lower: CrawlOptions, origin: &Origin) -> &mut Self {
        self.options.fill(lower, origin, &mut self.origins);
        self
    }
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn flags_win_over_the_file_key_by_key_with_no_forms() {
        use clap::Parser as _;
        #[derive(clap::Parser)]
        struct Wrap {
            #[command(flatten)]
            request: RequestFlags,
            #[command(flatten)]
            scope: ScopeFlags,
            #[command(flatten)]
            run: RunFlags,
        }
        let w = Wrap::try_parse_from([
            "x",
            "--no-cookies",
            "--concurrency",
            "9",
            "--no-subdomains",
            "--quiet",
        ])
        .expect("flags");
        let flags = CrawlOptions {
            request: w.request.options(),
            scope: w.scope.options(),
            run: w.run.options(),
            rule: None,
        };
        let path = Path::new("f.toml");
        let file = CrawlOptions::from_table(
            Table::parse(
                "cookies = true\nsubdomains = true\nconcurrency = 4\nper_host = 2\nquiet = false\n",
                Origin::file(path),
            )
            .expect("toml"),
        )
        .expect("keys");
        let mut layered = Layered::new(flags, &Origin::Flag);
        layered.under(file, &Origin::file(path));
        let (o, origins) = (&layered.options, &layered.origins);
        assert_eq!(o.request.cookies, Some(false));
        assert_eq!(o.scope.subdomains, Some(false));
        assert_eq!(o.run.concurrency, Some(9));
        assert_eq!(o.run.per_host, Some(2));
        assert_eq!(o.run.quiet, Some(true));
        assert_eq!(origins.name("per_host").to_string(), "f.toml: per_host");
        assert_eq!(origins.name("concurrency").to_string(), "--concurrency");
        assert_eq!(origins.name("max_depth").to_string(), "--max-depth");
    }
}
