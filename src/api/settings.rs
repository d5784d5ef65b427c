//! A pull's layers (flags, a resource's table, the file's top level,
//! defaults) → validated pull settings: the strategy built and its
//! pointers parsed before any request, each error naming the flag or the
//! file, resource and key.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use url::Url;

use super::options::{ApiArgs, ApiFormat, ApiOptions, Paginate, SharedOptions};
use super::{Pointer, Strategy, with_query_param};
use crate::config::{Name, Origin, Origins, check, env};
use crate::fetch::FetchConfig;
use crate::fetch::stats::RequestStats;
use crate::fetch::userinfo::{self, Credentials};
use crate::metrics::MetricsSettings;
use crate::politeness::LimiterConfig;

/// Where records go.
#[derive(Clone, Debug)]
pub enum Output {
    /// A JSONL file, written as `.part` and renamed when the pull ends.
    File(PathBuf),
    /// JSON lines on standard output.
    Stdout,
}

#[derive(Clone, Debug)]
pub struct PullSettings {
    pub url: Url,
    /// `None`: detect from the first response.
    pub strategy: Option<Strategy>,
    pub records: Option<String>,
    pub output: Output,
    pub max_pages: Option<u64>,
    /// Pages fetched at once when their number is known in advance.
    pub concurrency: usize,
    /// Whether `concurrency` was set (flag, variable or key) rather than
    /// defaulted: a resumed pull otherwise keeps the stopped pull's.
    pub concurrency_given: bool,
    pub fetch: FetchConfig,
    pub limiter: LimiterConfig,
    /// Credentials, sent only to the origin of `url`.
    pub auth: Option<Auth>,
    /// Continue a stopped pull from its state file.
    pub resume: bool,
    /// Remove a stopped pull's `.part` and state and start over.
    pub overwrite: bool,
    /// Bytes of page bodies the side-by-side fetch holds at once
    /// ([`DEFAULT_BYTES_IN_FLIGHT`]).
    pub bytes_in_flight: u64,
    /// Incremental pulls: remember the highest value of a field.
    pub since: Option<Since>,
    /// Child resources: the parent's key, added to each record as `_parent`.
    pub tag: Option<serde_json::Value>,
    /// Write one JSON array instead of JSON lines.
    pub json_array: bool,
    pub quiet: bool,
    /// `--metrics ADDR`: Prometheus metrics served while the run pulls.
    pub metrics: Option<MetricsSettings>,
    /// Where the pull's requests are counted, when metrics are served.
    pub requests: Option<Arc<RequestStats>>,
}

/// An incremental pull: the highest `field` value seen is kept in the state
/// file and sent as `param` on the next pull's first request.
#[derive(Clone, Debug)]
pub struct Since {
    pub field: Pointer,
    pub param: String,
    /// The mark to start from when the output has no state file of its
    /// own: a job's new run starts where its last complete pull ended.
    pub from: Option<serde_json::Value>,
}

/// API credentials, read from the environment at start-up.
#[derive(Clone)]
pub enum Auth {
    /// A header such as `Authorization: Bearer ...` or `X-API-Key: ...`.
    Header(HeaderName, HeaderValue),
    /// A query parameter added to each request (never to recorded URLs).
    Query(String, String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret itself.
        match self {
            Auth::Header(name, _) => write!(f, "Auth::Header({name}: ...)"),
            Auth::Query(name, _) => write!(f, "Auth::Query({name}=...)"),
        }
    }
}

/// Page bodies held at once while pages are fetched side by side: with
/// 60 MB pages, two are in flight rather than `--concurrency` of them.
pub const DEFAULT_BYTES_IN_FLIGHT: u64 = 128 * 1024 * 1024;

/// Largest API page body read by default.
const DEFAULT_MAX_BODY: u64 = 64 * 1024 * 1024;

/// A pull's options merged from their layers, each key remembering its layer.
#[derive(Clone, Debug, Default)]
pub struct ApiLayers {
    pub options: ApiOptions,
    pub origins: Origins,
}

impl ApiLayers {
    pub fn new(top: ApiOptions, origin: &Origin) -> Self {
        let mut layers = Self::default();
        layers.under(top, origin);
        layers
    }

    /// The flags over the `COLLECTOR_*` variables read through `env`.
    pub fn command_line(flags: ApiOptions, env: env::Lookup) -> anyhow::Result<Self> {
        let mut layers = Self::new(flags, &Origin::Flag);
        for (origin, layer) in ApiOptions::from_env(env)? {
            layers.under(layer, &origin);
        }
        Ok(layers)
    }

    /// Adds a lower layer: it fills only the keys still unset.
    pub fn under(&mut self, lower: ApiOptions, origin: &Origin) -> &mut Self {
        self.options.fill(lower, origin, &mut self.origins);
        self
    }
}

fn pointer(o: &Origins, key: &'static str, text: &str) -> anyhow::Result<Pointer> {
    Pointer::parse(text).with_context(|| format!("{} {text:?}", o.name(key)))
}

fn optional(
    o: &Origins,
    key: &'static str,
    text: &Option<String>,
) -> anyhow::Result<Option<Pointer>> {
    text.as_deref().map(|t| pointer(o, key, t)).transpose()
}

fn paginate_name(p: Paginate) -> &'static str {
    match p {
        Paginate::Auto => "auto",
        Paginate::None => "none",
        Paginate::Link => "link",
        Paginate::NextUrl => "next_url",
        Paginate::Page => "page",
        Paginate::Offset => "offset",
        Paginate::Cursor => "cursor",
    }
}

fn strategy(layers: &ApiLayers) -> anyhow::Result<Option<Strategy>> {
    let (r, o) = (&layers.options.resource, &layers.origins);
    let paginate = r.paginate.unwrap_or(Paginate::Auto);
    let asked = || format!("{} {}", o.name("paginate"), paginate_name(paginate));
    // The key it needs, spelt as in the layer `paginate` came from.
    let needs = |key| {
        Name {
            key,
            origin: o.of("paginate"),
        }
        .bare()
    };
    let required = |key: &'static str, v: &Option<String>| -> anyhow::Result<Pointer> {
        match v {
            Some(t) => pointer(o, key, t),
            None => bail!("{} needs {}", asked(), needs(key)),
        }
    };
    let text = |v: &Option<String>, default: &str| v.clone().unwrap_or_else(|| default.into());
    Ok(Some(match paginate {
        Paginate::Auto => return Ok(None),
        Paginate::None => Strategy::Single,
        Paginate::Link => Strategy::Link,
        Paginate::NextUrl => Strategy::NextUrl {
            pointer: required("next", &r.next)?,
        },
        Paginate::Page => Strategy::Page {
            param: text(&r.page_param, "page"),
            start: r.page_start.unwrap_or(1),
            step: 1,
            total_pages: optional(o, "total_pages", &r.total_pages)?,
            has_more: optional(o, "has_more", &r.has_more)?,
        },
        Paginate::Offset => {
            let Some(limit) = r.limit.filter(|l| *l > 0) else {
                bail!(
                    "{} needs {} N (records per page, at least 1)",
                    asked(),
                    needs("limit")
                );
            };
            Strategy::Offset {
                offset_param: text(&r.offset_param, "offset"),
                limit_param: text(&r.limit_param, "limit"),
                limit,
                total: optional(o, "total", &r.total)?,
            }
        }
        Paginate::Cursor => Strategy::Cursor {
            pointer: required("cursor", &r.cursor)?,
            param: text(&r.cursor_param, "cursor"),
            has_more: optional(o, "has_more", &r.has_more)?,
        },
    }))
}

/// Reads a secret from the environment; the message names the variable,
/// never its value.
fn secret(
    o: &Origins,
    key: &'static str,
    var: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<String> {
    match env(var) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => bail!(
            "{} {var}: the environment variable {var} is not set or empty",
            o.name(key)
        ),
    }
}

fn sensitive(o: &Origins, key: &'static str, value: &str) -> anyhow::Result<HeaderValue> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        anyhow::anyhow!(
            "{}: the secret has characters a header cannot carry",
            o.name(key)
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// The credentials the options ask for, read through `env`.
pub fn auth(
    a: &SharedOptions,
    o: &Origins,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<Auth>> {
    let given = [&a.bearer_env, &a.basic_env, &a.api_key_env];
    if given.iter().filter(|g| g.is_some()).count() > 1 {
        bail!(
            "{}, {} and {}: give one of them",
            o.name("bearer_env"),
            o.name("basic_env"),
            o.name("api_key_env")
        );
    }
    if let Some(var) = &a.bearer_env {
        let token = secret(o, "bearer_env", var, env)?;
        return Ok(Some(Auth::Header(
            AUTHORIZATION,
            sensitive(o, "bearer_env", &format!("Bearer {token}"))?,
        )));
    }
    if let Some(var) = &a.basic_env {
        let pair = secret(o, "basic_env", var, env)?;
        if !pair.contains(':') {
            bail!(
                "{} {var}: expected user:password in the variable",
                o.name("basic_env")
            );
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        return Ok(Some(Auth::Header(
            AUTHORIZATION,
            sensitive(o, "basic_env", &format!("Basic {encoded}"))?,
        )));
    }
    if let Some(var) = &a.api_key_env {
        let key = secret(o, "api_key_env", var, env)?;
        return Ok(Some(match (&a.api_key_param, &a.api_key_header) {
            (Some(_), Some(_)) => bail!(
                "{} and {}: give one of them",
                o.name("api_key_header"),
                o.name("api_key_param")
            ),
            (Some(param), None) => Auth::Query(param.clone(), key),
            (None, header) => {
                let name = header.as_deref().unwrap_or("X-API-Key");
                let name = HeaderName::from_bytes(name.as_bytes()).with_context(|| {
                    format!("{} {name:?} is not a header name", o.name("api_key_header"))
                })?;
                Auth::Header(name, sensitive(o, "api_key_env", &key)?)
            }
        }));
    }
    Ok(None)
}

/// `collector api URL [flags]`, the environment read for credentials.
pub fn resolve(a: &ApiArgs) -> anyhow::Result<PullSettings> {
    resolve_with_env(a, &|var| std::env::var(var).ok())
}

/// [`resolve`] with the environment given as a lookup function: for
/// credentials and `COLLECTOR_*` settings alike.
pub fn resolve_with_env(
    a: &ApiArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<PullSettings> {
    if let Some(p) = a.resource.bad_params().first() {
        bail!("--param {p:?}: expected NAME=VALUE");
    }
    let settings = |var: &str| Ok(env(var).filter(|v| !v.is_empty()));
    build(
        &ApiLayers::command_line(ApiOptions::from_args(a), &settings)?,
        env,
    )
}

/// Validates merged options into one pull's settings.
pub fn build(
    layers: &ApiLayers,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<PullSettings> {
    let (opts, o) = (&layers.options, &layers.origins);
    let (r, shared) = (&opts.resource, &opts.shared);
    let Some(text) = &r.url else {
        bail!("{}: no url to pull", o.name("url"));
    };
    let shown = userinfo::redacted(text);
    let mut url = Url::parse(text).with_context(|| {
        format!("{shown:?} is not a URL; expected e.g. https://api.example.com/items")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("{shown:?}: only http and https APIs can be pulled");
    }
    // A password in the URL is Basic auth to the API's origin, and leaves
    // the URL (summaries, state files and messages quote it).
    let mut credentials = Credentials::default();
    credentials.take(&mut url);
    let in_url = credentials
        .for_url(&url)
        .map(|value| Auth::Header(AUTHORIZATION, value.clone()));
    for (k, v) in r.params.iter().flatten() {
        url = with_query_param(&url, k, v);
    }
    let strategy = strategy(layers)?;
    if let Some(Strategy::Offset {
        limit_param, limit, ..
    }) = &strategy
        && !url.query_pairs().any(|(k, _)| k == limit_param.as_str())
    {
        url = with_query_param(&url, limit_param, &limit.to_string());
    }
    if let Some(p) = &r.records {
        pointer(o, "records", p)?;
    }
    let concurrency = match shared.concurrency {
        Some(v) => check::at_least_one(&o.name("concurrency"), v)?,
        None => 4,
    };
    let max_pages = r
        .max_pages
        .map(|v| check::at_least_one(&o.name("max_pages"), v))
        .transpose()?;
    let resume = shared.resume.unwrap_or(false);
    if resume && matches!(r.out.as_deref(), None | Some("-")) {
        bail!("--resume needs --out FILE: the file of the pull to continue");
    }
    let output = match r.out.as_deref() {
        Some("-") => Output::Stdout,
        Some(path) => Output::File(PathBuf::from(path)),
        None => Output::File(crate::sink::format::stamped("api", ".jsonl")),
    };
    let since = match (&r.since_field, &r.since_param) {
        (Some(field), Some(param)) => Some(Since {
            field: pointer(o, "since_field", field)?,
            param: param.clone(),
            from: None,
        }),
        (None, None) => None,
        _ => bail!(
            "{} and {} go together",
            o.name("since_field"),
            o.name("since_param")
        ),
    };
    let request = opts.request.build(o, DEFAULT_MAX_BODY)?;
    let concurrency = usize::try_from(concurrency).unwrap_or(usize::MAX);
    Ok(PullSettings {
        url,
        strategy,
        records: r.records.clone(),
        output,
        max_pages,
        concurrency,
        concurrency_given: shared.concurrency.is_some(),
        fetch: request.fetch,
        limiter: LimiterConfig {
            per_host: u32::try_from(concurrency).unwrap_or(u32::MAX),
            rate: request.rate,
            max_wait: request.max_wait,
        },
        // --bearer-env and the like win over the URL's userinfo.
        auth: auth(shared, o, env)?.or(in_url),
        resume,
        overwrite: shared.overwrite.unwrap_or(false),
        bytes_in_flight: DEFAULT_BYTES_IN_FLIGHT,
        tag: None,
        json_array: r.format == Some(ApiFormat::Json),
        since,
        quiet: shared.quiet.unwrap_or(false),
        metrics: MetricsSettings::build(o, shared.metrics.as_deref(), shared.metrics_linger)?,
        requests: None,
    })
}
