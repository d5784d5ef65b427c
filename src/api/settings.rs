//! `collector api` flags → validated pull settings: the strategy built and
//! its pointers parsed before any request, errors naming the flag.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use url::Url;

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

use super::pull::{Auth, Output, PullSettings, Since};
use super::{Pointer, Strategy, with_query_param};
use crate::crawl::settings::{DEFAULT_USER_AGENT, header, seconds};
use crate::fetch::FetchConfig;
use crate::fetch::retry::Backoff;
use crate::politeness::LimiterConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Paginate {
    /// Detect from the first response (Link header, next URL, cursor, page or offset fields)
    Auto,
    /// RFC 8288 Link header with rel="next"
    Link,
    /// A next-page URL in the body (--next POINTER)
    NextUrl,
    /// A page-number parameter (--page-param, --page-start, --total-pages or --has-more)
    Page,
    /// Offset and limit parameters (--limit, --total)
    Offset,
    /// A cursor in the body sent back as a parameter (--cursor, --cursor-param)
    Cursor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApiFormat {
    /// JSON Lines: one record per line
    Jsonl,
    /// One JSON array (still one record per line inside it)
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// URL of the first page, or a TOML file naming several resources
    /// (then only --resume and --quiet apply from the command line)
    pub url: String,
    /// How the API pages
    #[arg(long, value_enum, default_value_t = Paginate::Auto)]
    pub paginate: Paginate,
    /// JSON pointer (RFC 6901, or dotted like data.items) to each page's array of records
    /// [default: the body if it is an array, else its one array field]
    #[arg(long, value_name = "POINTER")]
    pub records: Option<String>,
    /// Output JSONL file, or - for standard output [default: output/api-TIMESTAMP.jsonl]
    #[arg(long, value_name = "FILE")]
    pub out: Option<String>,
    /// Query parameter added to the first request (repeatable)
    #[arg(long = "param", value_name = "K=V")]
    pub param: Vec<String>,
    /// Request header 'Name: value' (repeatable)
    #[arg(long = "header", value_name = "'K: V'")]
    pub header: Vec<String>,
    /// next_url: pointer to the next page's URL
    #[arg(long, value_name = "POINTER")]
    pub next: Option<String>,
    /// page: the page-number parameter
    #[arg(long, default_value = "page", value_name = "NAME")]
    pub page_param: String,
    /// page: the number of the first page
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub page_start: u64,
    /// page: pointer to the total number of pages
    #[arg(long, value_name = "POINTER")]
    pub total_pages: Option<String>,
    /// page, cursor: pointer to a "more pages follow" flag
    #[arg(long, value_name = "POINTER")]
    pub has_more: Option<String>,
    /// offset: the offset parameter
    #[arg(long, default_value = "offset", value_name = "NAME")]
    pub offset_param: String,
    /// offset: the page-size parameter
    #[arg(long, default_value = "limit", value_name = "NAME")]
    pub limit_param: String,
    /// offset: records per page
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// offset: pointer to the total number of records
    #[arg(long, value_name = "POINTER")]
    pub total: Option<String>,
    /// cursor: pointer to the next cursor in the body
    #[arg(long, value_name = "POINTER")]
    pub cursor: Option<String>,
    /// cursor: the parameter the cursor is sent back in
    #[arg(long, default_value = "cursor", value_name = "NAME")]
    pub cursor_param: String,
    /// Stop after N pages
    #[arg(long, value_name = "N")]
    pub max_pages: Option<u64>,
    /// Pages fetched at once when the first page tells how many there are
    /// (total pages or total records); records are still written in order
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub concurrency: usize,
    /// Requests per second [default: unlimited]
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
    /// Seconds one request may take [default: 30]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub timeout: Option<f64>,
    /// Retries after a connect error, timeout, 408, 429 or 5xx [default: 3]
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// Longest wait a server can impose with Retry-After [default: 60]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub max_wait: Option<f64>,
    /// Output format: jsonl (one record per line) or json (one array)
    #[arg(long, value_enum, default_value_t = ApiFormat::Jsonl)]
    pub format: ApiFormat,
    /// Continue a pull that stopped (error, Ctrl-C, kill) from FILE.state.json and FILE.part
    #[arg(long)]
    pub resume: bool,
    /// Incremental pulls: remember the highest value of this record field (POINTER) ...
    #[arg(long, value_name = "POINTER", requires = "since_param")]
    pub since_field: Option<String>,
    /// ... and send it in this query parameter on the next pull's first request
    #[arg(long, value_name = "NAME", requires = "since_field")]
    pub since_param: Option<String>,
    /// Send `Authorization: Bearer <token>`, the token read from this environment variable
    #[arg(long, value_name = "VAR")]
    pub bearer_env: Option<String>,
    /// Send HTTP basic auth, `user:password` read from this environment variable
    #[arg(long, value_name = "VAR")]
    pub basic_env: Option<String>,
    /// Send an API key read from this environment variable (header X-API-Key unless
    /// --api-key-header or --api-key-param names another place)
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// The header the API key goes in
    #[arg(long, value_name = "NAME")]
    pub api_key_header: Option<String>,
    /// The query parameter the API key goes in
    #[arg(long, value_name = "NAME")]
    pub api_key_param: Option<String>,
    /// User-Agent header [default: collector/VERSION]
    #[arg(long, value_name = "S")]
    pub user_agent: Option<String>,
    /// No messages on standard error
    #[arg(long)]
    pub quiet: bool,
}

fn pointer(flag: &str, text: &str) -> anyhow::Result<Pointer> {
    Pointer::parse(text).with_context(|| format!("--{flag} {text:?}"))
}

fn optional(flag: &str, text: &Option<String>) -> anyhow::Result<Option<Pointer>> {
    text.as_deref().map(|t| pointer(flag, t)).transpose()
}

fn strategy(a: &ApiArgs) -> anyhow::Result<Option<Strategy>> {
    let required = |flag: &str, v: &Option<String>| -> anyhow::Result<Pointer> {
        match v {
            Some(t) => pointer(flag, t),
            None => bail!("--paginate {:?} needs --{flag}", a.paginate),
        }
    };
    Ok(Some(match a.paginate {
        Paginate::Auto => return Ok(None),
        Paginate::Link => Strategy::Link,
        Paginate::NextUrl => Strategy::NextUrl {
            pointer: required("next", &a.next)?,
        },
        Paginate::Page => Strategy::Page {
            param: a.page_param.clone(),
            start: a.page_start,
            step: 1,
            total_pages: optional("total-pages", &a.total_pages)?,
            has_more: optional("has-more", &a.has_more)?,
        },
        Paginate::Offset => {
            let Some(limit) = a.limit.filter(|l| *l > 0) else {
                bail!("--paginate offset needs --limit N (records per page, at least 1)");
            };
            Strategy::Offset {
                offset_param: a.offset_param.clone(),
                limit_param: a.limit_param.clone(),
                limit,
                total: optional("total", &a.total)?,
            }
        }
        Paginate::Cursor => Strategy::Cursor {
            pointer: required("cursor", &a.cursor)?,
            param: a.cursor_param.clone(),
            has_more: optional("has-more", &a.has_more)?,
        },
    }))
}

/// Reads a secret from the environment; the message names the variable,
/// never its value.
fn secret(flag: &str, var: &str, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<String> {
    match env(var) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => bail!("--{flag} {var}: the environment variable {var} is not set or empty"),
    }
}

fn sensitive(flag: &str, value: &str) -> anyhow::Result<HeaderValue> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        anyhow::anyhow!("--{flag}: the secret has characters a header cannot carry")
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// The credentials the flags ask for, read through `env`.
pub fn auth(a: &ApiArgs, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Option<Auth>> {
    let given = [
        a.bearer_env.is_some(),
        a.basic_env.is_some(),
        a.api_key_env.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        bail!("--bearer-env, --basic-env and --api-key-env: give one of them");
    }
    if let Some(var) = &a.bearer_env {
        let token = secret("bearer-env", var, env)?;
        return Ok(Some(Auth::Header(
            AUTHORIZATION,
            sensitive("bearer-env", &format!("Bearer {token}"))?,
        )));
    }
    if let Some(var) = &a.basic_env {
        let pair = secret("basic-env", var, env)?;
        if !pair.contains(':') {
            bail!("--basic-env {var}: expected user:password in the variable");
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        return Ok(Some(Auth::Header(
            AUTHORIZATION,
            sensitive("basic-env", &format!("Basic {encoded}"))?,
        )));
    }
    if let Some(var) = &a.api_key_env {
        let key = secret("api-key-env", var, env)?;
        return Ok(Some(match (&a.api_key_param, &a.api_key_header) {
            (Some(_), Some(_)) => bail!("--api-key-header and --api-key-param: give one of them"),
            (Some(param), None) => Auth::Query(param.clone(), key),
            (None, header) => {
                let name = header.as_deref().unwrap_or("X-API-Key");
                let name = HeaderName::from_bytes(name.as_bytes())
                    .with_context(|| format!("--api-key-header {name:?} is not a header name"))?;
                Auth::Header(name, sensitive("api-key-env", &key)?)
            }
        }));
    }
    Ok(None)
}

pub fn resolve(a: &ApiArgs) -> anyhow::Result<PullSettings> {
    resolve_with_env(a, &|var| std::env::var(var).ok())
}

/// [`resolve`] with the environment given as a lookup function.
pub fn resolve_with_env(
    a: &ApiArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<PullSettings> {
    let mut url = Url::parse(&a.url).with_context(|| {
        format!(
            "{:?} is not a URL; expected e.g. https://api.example.com/items",
            a.url
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("{:?}: only http and https APIs can be pulled", a.url);
    }
    for p in &a.param {
        let Some((k, v)) = p.split_once('=') else {
            bail!("--param {p:?}: expected NAME=VALUE");
        };
        url = with_query_param(&url, k, v);
    }
    let strategy = strategy(a)?;
    if let Some(Strategy::Offset {
        limit_param, limit, ..
    }) = &strategy
        && !url.query_pairs().any(|(k, _)| k == limit_param.as_str())
    {
        url = with_query_param(&url, limit_param, &limit.to_string());
    }
    if let Some(r) = &a.records {
        pointer("records", r)?;
    }
    if let Some(r) = a.rate
        && (!r.is_finite() || r <= 0.0)
    {
        bail!("--rate must be a positive number of requests per second, got {r}");
    }
    if a.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    if a.max_pages == Some(0) {
        bail!("--max-pages must be at least 1");
    }
    let user_agent = a
        .user_agent
        .clone()
        .unwrap_or_else(|| DEFAULT_USER_AGENT.to_string());
    if a.resume && matches!(a.out.as_deref(), None | Some("-")) {
        bail!("--resume needs --out FILE: the file of the pull to continue");
    }
    let output = match a.out.as_deref() {
        Some("-") => Output::Stdout,
        Some(path) => Output::File(PathBuf::from(path)),
        None => {
            let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
            Output::File(PathBuf::from("output").join(format!("api-{stamp}.jsonl")))
        }
    };
    Ok(PullSettings {
        url,
        strategy,
        records: a.records.clone(),
        output,
        max_pages: a.max_pages,
        concurrency: a.concurrency,
        fetch: FetchConfig {
            user_agent,
            headers: a
                .header
                .iter()
                .map(|h| header(h))
                .collect::<anyhow::Result<_>>()?,
            proxy: None,
            cookies: false,
            timeout: seconds("timeout", a.timeout, 30.0)?,
            connect_timeout: seconds("timeout", a.timeout.map(|t| t.min(10.0)), 10.0)?,
            max_body: 64 * 1024 * 1024,
            retries: a.retries.unwrap_or(3).min(100),
            backoff: Backoff::default(),
        },
        limiter: LimiterConfig {
            per_host: u32::try_from(a.concurrency).unwrap_or(u32::MAX),
            rate: a.rate,
            max_wait: seconds("max-wait", a.max_wait, 60.0)?,
        },
        auth: auth(a, env)?,
        resume: a.resume,
        tag: None,
        json_array: a.format == ApiFormat::Json,
        since: match (&a.since_field, &a.since_param) {
            (Some(field), Some(param)) => Some(Since {
                field: pointer("since-field", field)?,
                param: param.clone(),
            }),
            _ => None,
        },
        quiet: a.quiet,
    })
}
