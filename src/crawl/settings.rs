//! Turns flags and the config file into validated, typed crawl settings.
//! Flags win over the file, the file over defaults. Every error names the
//! option, key, file or line at fault; nothing downstream re-parses strings.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use regex::Regex;
use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use crate::cli::{CrawlArgs, CrawlOptions, FetchArgs, ProgressMode};
use crate::crawl::scope::Scope;
use crate::crawl::seeds;
use crate::fetch::FetchConfig;
use crate::fetch::retry::Backoff;
use crate::frontier::{Limits, QueryPolicy};
use crate::politeness::LimiterConfig;
use crate::rules::RuleSets;
use crate::sink::format::{self, Output, Target};

pub const DEFAULT_USER_AGENT: &str = concat!(
    "collector/",
    env!("CARGO_PKG_VERSION"),
    " (+https://crates.io/crates/collector)"
);

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
    pub progress: ProgressMode,
    pub quiet: bool,
    /// How long in-flight requests may run on after Ctrl-C.
    pub grace: Duration,
    /// Extraction rule sets, compiled.
    pub rules: Arc<RuleSets>,
}

/// Reads the config file (if any) and the seeds, and validates everything.
pub fn resolve(args: &CrawlArgs) -> anyhow::Result<CrawlSettings> {
    let file = match &args.config {
        Some(path) => load_file(path)?,
        None => CrawlOptions::default(),
    };
    let seeds = read_seeds(&args.seeds)?;
    build(merge(args.options.clone(), file), seeds)
}

/// Settings for `collector fetch`: the crawl's settings from the same flags
/// and config file, with the URL as the only seed and, with `--rule`, only
/// that rule set (applying whatever the URL). Returns the URL too.
pub fn resolve_fetch(args: &FetchArgs) -> anyhow::Result<(Url, CrawlSettings)> {
    let file = match &args.config {
        Some(path) => load_file(path)?,
        None => CrawlOptions::default(),
    };
    let url = seeds::parse_url(args.url.trim()).map_err(anyhow::Error::msg)?;
    let mut settings = build(merge(args.options.clone().into(), file), vec![url.clone()])?;
    if let Some(name) = &args.rule {
        settings.rules = Arc::new(settings.rules.forced(name)?);
    }
    Ok((url, settings))
}

pub fn load_file(path: &Path) -> anyhow::Result<CrawlOptions> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read config file {}", path.display()))?;
    parse_file(&text).with_context(|| format!("config file {}", path.display()))
}

pub fn parse_file(text: &str) -> anyhow::Result<CrawlOptions> {
    // toml's message names the key and shows the line.
    let options: CrawlOptions = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
    // Rules are compiled again by `build`; checking them here names the file.
    RuleSets::compile(&options.rule)?;
    Ok(options)
}

fn read_seeds(source: &str) -> anyhow::Result<Vec<Url>> {
    if source == "-" {
        let stdin = std::io::stdin();
        return Ok(seeds::parse(stdin.lock(), "<stdin>")?);
    }
    let file = std::fs::File::open(source)
        .with_context(|| format!("could not open seed file {source}"))?;
    Ok(seeds::parse(BufReader::new(file), source)?)
}

/// Flags over file: a flag given on the command line replaces the file's value.
pub fn merge(cli: CrawlOptions, file: CrawlOptions) -> CrawlOptions {
    fn vec_or(a: Vec<String>, b: Vec<String>) -> Vec<String> {
        if a.is_empty() { b } else { a }
    }
    CrawlOptions {
        out: cli.out.or(file.out),
        format: cli.format.or(file.format),
        output: cli.output.or(file.output),
        concurrency: cli.concurrency.or(file.concurrency),
        per_host: cli.per_host.or(file.per_host),
        rate: cli.rate.or(file.rate),
        max_pages: cli.max_pages.or(file.max_pages),
        max_depth: cli.max_depth.or(file.max_depth),
        allow_domain: vec_or(cli.allow_domain, file.allow_domain),
        sitemap: vec_or(cli.sitemap, file.sitemap),
        subdomains: cli.subdomains || file.subdomains,
        include: vec_or(cli.include, file.include),
        exclude: vec_or(cli.exclude, file.exclude),
        user_agent: cli.user_agent.or(file.user_agent),
        header: vec_or(cli.header, file.header),
        proxy: cli.proxy.or(file.proxy),
        cookies: cli.cookies || file.cookies,
        ignore_robots: cli.ignore_robots || file.ignore_robots,
        follow_nofollow: cli.follow_nofollow || file.follow_nofollow,
        timeout: cli.timeout.or(file.timeout),
        connect_timeout: cli.connect_timeout.or(file.connect_timeout),
        retries: cli.retries.or(file.retries),
        max_body: cli.max_body.or(file.max_body),
        max_wait: cli.max_wait.or(file.max_wait),
        log_skipped: cli.log_skipped || file.log_skipped,
        progress: cli.progress.or(file.progress),
        quiet: cli.quiet || file.quiet,
        rule: file.rule,
    }
}

fn positive(name: &str, v: Option<i64>, default: i64) -> anyhow::Result<u64> {
    let v = v.unwrap_or(default);
    if v < 1 {
        bail!("--{name} must be at least 1, got {v}");
    }
    Ok(v as u64)
}

fn non_negative(name: &str, v: Option<i64>) -> anyhow::Result<Option<u64>> {
    match v {
        Some(v) if v < 0 => bail!("--{name} must be 0 or more, got {v}"),
        Some(v) => Ok(Some(v as u64)),
        None => Ok(None),
    }
}

pub(crate) fn seconds(name: &str, v: Option<f64>, default: f64) -> anyhow::Result<Duration> {
    let v = v.unwrap_or(default);
    if !v.is_finite() || v <= 0.0 || v > 1e9 {
        bail!("--{name} must be a positive number of seconds, got {v}");
    }
    Ok(Duration::from_secs_f64(v))
}

fn regexes(name: &str, patterns: &[String]) -> anyhow::Result<Vec<Regex>> {
    patterns
        .iter()
        .map(|p| Regex::new(p).with_context(|| format!("--{name} {p:?} is not a valid regex")))
        .collect()
}

pub(crate) fn header(line: &str) -> anyhow::Result<(HeaderName, HeaderValue)> {
    let Some((k, v)) = line.split_once(':') else {
        bail!("--header {line:?}: expected 'Name: value'");
    };
    let name = HeaderName::from_bytes(k.trim().as_bytes())
        .with_context(|| format!("--header {line:?}: {:?} is not a header name", k.trim()))?;
    let value = HeaderValue::from_str(v.trim()).with_context(|| {
        format!("--header {line:?}: the value has characters a header cannot carry")
    })?;
    Ok((name, value))
}

/// `--format` wins over `[output] format`; standard output takes JSONL only.
fn output(o: &CrawlOptions) -> anyhow::Result<Output> {
    let formats = match (&o.format, o.output.as_ref().and_then(|t| t.format.as_ref())) {
        (Some(flag), _) => format::parse_list(&[flag]).context("--format")?,
        (None, Some(names)) => format::parse_list(names.names()).context("[output] format")?,
        (None, None) => vec![format::Format::Jsonl],
    };
    let target = Target::from_path(o.out.clone().unwrap_or_else(default_out));
    Output::new(target, formats, o.log_skipped).map_err(anyhow::Error::msg)
}

fn default_out() -> PathBuf {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    PathBuf::from("output").join(format!("crawl-{stamp}"))
}

/// Validates merged options into settings.
pub fn build(o: CrawlOptions, seeds: Vec<Url>) -> anyhow::Result<CrawlSettings> {
    let concurrency = positive("concurrency", o.concurrency, 64)?;
    let per_host = positive("per-host", o.per_host, 8)?;
    let rate = match o.rate {
        Some(r) if !r.is_finite() || r <= 0.0 => {
            bail!("--rate must be a positive number of requests per second, got {r}")
        }
        r => r,
    };
    let rules = Arc::new(RuleSets::compile(&o.rule)?);
    let mut output = output(&o)?;
    output.columns = rules.columns();
    let max_pages = non_negative("max-pages", o.max_pages)?;
    let max_depth =
        non_negative("max-depth", o.max_depth)?.map(|d| u32::try_from(d).unwrap_or(u32::MAX));
    let retries = non_negative("retries", o.retries)?.unwrap_or(3);
    if retries > 100 {
        bail!("--retries must be at most 100, got {retries}");
    }
    let max_body = positive("max-body", o.max_body, 10 * 1024 * 1024)?;
    let timeout = seconds("timeout", o.timeout, 30.0)?;
    let connect_timeout = seconds("connect-timeout", o.connect_timeout, 10.0)?;
    let max_wait = seconds("max-wait", o.max_wait, 60.0)?;

    let user_agent = o
        .user_agent
        .unwrap_or_else(|| DEFAULT_USER_AGENT.to_string());
    if HeaderValue::from_str(&user_agent).is_err() || user_agent.trim().is_empty() {
        bail!("--user-agent {user_agent:?} cannot be sent as a header");
    }
    let headers = o
        .header
        .iter()
        .map(|h| header(h))
        .collect::<anyhow::Result<_>>()?;
    let proxy = o
        .proxy
        .map(|p| Url::parse(&p).with_context(|| format!("--proxy {p:?} is not a URL")))
        .transpose()?;

    let mut domains: Vec<String> = if o.allow_domain.is_empty() {
        seeds
            .iter()
            .filter_map(|s| s.host_str().map(str::to_string))
            .collect()
    } else {
        o.allow_domain
            .iter()
            .map(|d| {
                let probe = Url::parse(&format!("http://{}/", d.trim()))
                    .with_context(|| format!("--allow-domain {d:?} is not a host name"))?;
                probe
                    .host_str()
                    .map(str::to_string)
                    .with_context(|| format!("--allow-domain {d:?} is not a host name"))
            })
            .collect::<anyhow::Result<_>>()?
    };
    domains.sort();
    domains.dedup();

    let sitemaps = o
        .sitemap
        .iter()
        .map(|s| {
            let url =
                Url::parse(s.trim()).with_context(|| format!("--sitemap {s:?} is not a URL"))?;
            if !matches!(url.scheme(), "http" | "https") {
                bail!("--sitemap {s:?}: only http and https URLs can be fetched");
            }
            Ok(url)
        })
        .collect::<anyhow::Result<_>>()?;

    Ok(CrawlSettings {
        seeds,
        sitemaps,
        output,
        concurrency: usize::try_from(concurrency).unwrap_or(usize::MAX),
        limiter: LimiterConfig {
            per_host: u32::try_from(per_host).unwrap_or(u32::MAX),
            rate,
            max_wait,
        },
        fetch: FetchConfig {
            user_agent,
            headers,
            proxy,
            cookies: o.cookies,
            timeout,
            connect_timeout,
            max_body,
            retries: u32::try_from(retries).unwrap_or(100),
            backoff: Backoff::default(),
        },
        scope: Scope {
            domains,
            subdomains: o.subdomains,
            include: regexes("include", &o.include)?,
            exclude: regexes("exclude", &o.exclude)?,
        },
        limits: Limits {
            max_pages,
            max_depth,
        },
        respect_robots: !o.ignore_robots,
        follow_nofollow: o.follow_nofollow,
        query: QueryPolicy::Keep,
        log_skipped: o.log_skipped,
        progress: o.progress.unwrap_or_default(),
        quiet: o.quiet,
        grace: Duration::from_secs(10),
        rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds() -> Vec<Url> {
        vec![Url::parse("http://Example.com:8080/").expect("url")]
    }

    #[test]
    fn defaults_and_seed_hosts() {
        let s = build(CrawlOptions::default(), seeds()).expect("valid");
        assert_eq!(s.concurrency, 64);
        assert_eq!(s.limiter.per_host, 8);
        assert_eq!(s.fetch.retries, 3);
        assert_eq!(s.scope.domains, ["example.com"]);
        assert!(s.respect_robots);
    }

    #[test]
    fn out_of_range_values_name_the_option() {
        let cases: [(CrawlOptions, &str); 4] = [
            (
                CrawlOptions {
                    concurrency: Some(0),
                    ..Default::default()
                },
                "--concurrency",
            ),
            (
                CrawlOptions {
                    timeout: Some(-1.0),
                    ..Default::default()
                },
                "--timeout",
            ),
            (
                CrawlOptions {
                    rate: Some(0.0),
                    ..Default::default()
                },
                "--rate",
            ),
            (
                CrawlOptions {
                    include: vec!["(".into()],
                    ..Default::default()
                },
                "--include",
            ),
        ];
        for (o, name) in cases {
            let e = build(o, seeds()).expect_err("invalid").to_string();
            assert!(e.contains(name), "{e}");
        }
    }

    #[test]
    fn unknown_and_mistyped_keys_are_named() {
        let e = parse_file("concurency = 4\n")
            .expect_err("unknown")
            .to_string();
        assert!(e.contains("concurency"), "{e}");
        let e = parse_file("concurrency = \"many\"\n")
            .expect_err("type")
            .to_string();
        assert!(e.contains("concurrency"), "{e}");
    }

    #[test]
    fn the_example_config_is_valid() {
        let text = include_str!("../../config/crawl.toml");
        let o = parse_file(text).expect("config/crawl.toml parses");
        build(o, seeds()).expect("config/crawl.toml validates");
    }

    #[test]
    fn flags_win_over_the_file() {
        let file = parse_file("concurrency = 4\nper_host = 2\ninclude = [\"a\"]\n").expect("valid");
        let cli = CrawlOptions {
            concurrency: Some(9),
            ..Default::default()
        };
        let m = merge(cli, file);
        assert_eq!(m.concurrency, Some(9));
        assert_eq!(m.per_host, Some(2));
        assert_eq!(m.include, ["a"]);
    }

    #[test]
    fn output_formats_from_flag_or_file() {
        use crate::sink::Format;
        let list = parse_file("[output]\nformat = [\"jsonl\", \"csv\"]\n").expect("list");
        let one = parse_file("[output]\nformat = \"warc, json\"\n").expect("string");
        let s = build(merge(CrawlOptions::default(), list.clone()), seeds()).expect("valid");
        assert_eq!(s.output.formats, [Format::Jsonl, Format::Csv]);
        let s = build(merge(CrawlOptions::default(), one), seeds()).expect("valid");
        assert_eq!(s.output.formats, [Format::Warc, Format::Json]);
        let cli = CrawlOptions {
            format: Some("json".into()),
            ..Default::default()
        };
        let s = build(merge(cli, list), seeds()).expect("valid");
        assert_eq!(s.output.formats, [Format::Json]);
        let s = build(CrawlOptions::default(), seeds()).expect("valid");
        assert_eq!(s.output.formats, [Format::Jsonl]);

        let bad = parse_file("[output]\nformat = [\"xml\"]\n").expect("parses");
        let e = format!("{:#}", build(bad, seeds()).expect_err("unknown"));
        assert!(e.contains("[output] format") && e.contains("xml"), "{e}");
        let e = parse_file("format = \"csv\"\n").expect_err("top-level key");
        assert!(e.to_string().contains("format"), "{e}");
        let e = parse_file("[output]\nformats = \"csv\"\n").expect_err("unknown key");
        assert!(e.to_string().contains("formats"), "{e}");
    }
}
