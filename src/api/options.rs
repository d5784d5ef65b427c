//! `collector api`'s flags and config-file keys. A pull's settings come in
//! three parts: request keys (`config::request`), keys every resource of
//! a file shares (output folder, concurrency, credentials), and the keys of
//! one resource (URL, pagination, records). A file's top level may hold
//! one resource's keys itself, or list `[[resource]]` tables; a flag given
//! with a file applies to every resource.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde::Deserialize;

use crate::config::file::fields;
use crate::config::{Origin, Origins, RequestFlags, RequestOptions, Table, env, switch};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[value(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Paginate {
    /// Detect from the first response (Link header, next URL, cursor, page or offset fields)
    Auto,
    /// No pagination: one request, its records
    None,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiFormat {
    /// JSON Lines: one record per line
    Jsonl,
    /// One JSON array (still one record per line inside it)
    Json,
}

/// `collector api URL|FILE [flags]`.
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// URL of the first page, or a TOML file naming one or more resources
    /// (then the flags below apply to every resource of the file)
    pub url: String,
    #[command(flatten)]
    pub resource: ResourceFlags,
    #[command(flatten)]
    pub shared: SharedFlags,
    #[command(flatten)]
    pub request: RequestFlags,
}

/// What one resource is and how it pages.
#[derive(Debug, Clone, Default, Args)]
pub struct ResourceFlags {
    /// How the API pages [default: auto]
    #[arg(long, value_enum)]
    pub paginate: Option<Paginate>,
    /// JSON pointer (RFC 6901, or dotted like data.items) to each page's array of records
    /// [default: the body if it is an array, else its one array field]
    #[arg(long, value_name = "POINTER")]
    pub records: Option<String>,
    /// Output JSONL file, or - for standard output [default: output/api-TIMESTAMP.jsonl];
    /// not with a config file, which writes NAME.jsonl per resource into its out_dir
    #[arg(long, value_name = "FILE")]
    pub out: Option<String>,
    /// Query parameter added to the first request (repeatable)
    #[arg(long = "param", value_name = "K=V")]
    pub param: Vec<String>,
    /// next_url: pointer to the next page's URL
    #[arg(long, value_name = "POINTER")]
    pub next: Option<String>,
    /// page: the page-number parameter [default: page]
    #[arg(long, value_name = "NAME")]
    pub page_param: Option<String>,
    /// page: the number of the first page [default: 1]
    #[arg(long, value_name = "N")]
    pub page_start: Option<u64>,
    /// page: pointer to the total number of pages
    #[arg(long, value_name = "POINTER")]
    pub total_pages: Option<String>,
    /// page, cursor: pointer to a "more pages follow" flag
    #[arg(long, value_name = "POINTER")]
    pub has_more: Option<String>,
    /// offset: the offset parameter [default: offset]
    #[arg(long, value_name = "NAME")]
    pub offset_param: Option<String>,
    /// offset: the page-size parameter [default: limit]
    #[arg(long, value_name = "NAME")]
    pub limit_param: Option<String>,
    /// offset: records per page
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// offset: pointer to the total number of records
    #[arg(long, value_name = "POINTER")]
    pub total: Option<String>,
    /// cursor: pointer to the next cursor in the body
    #[arg(long, value_name = "POINTER")]
    pub cursor: Option<String>,
    /// cursor: the parameter the cursor is sent back in [default: cursor]
    #[arg(long, value_name = "NAME")]
    pub cursor_param: Option<String>,
    /// Stop after N pages
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_pages: Option<i64>,
    /// Incremental pulls: remember the highest value of this record field (POINTER) ...
    #[arg(long, value_name = "POINTER", requires = "since_param")]
    pub since_field: Option<String>,
    /// ... and send it in this query parameter on the next pull's first request
    #[arg(long, value_name = "NAME", requires = "since_field")]
    pub since_param: Option<String>,
    /// Output format: jsonl (one record per line) or json (one array) [default: jsonl]
    #[arg(long, value_enum)]
    pub format: Option<ApiFormat>,
}

/// What every resource of a run shares.
#[derive(Debug, Clone, Default, Args)]
pub struct SharedFlags {
    /// Pages fetched at once when the first page tells how many there are
    /// (total pages or total records), and no more than 128 MiB of page bodies;
    /// records are still written in order [default: 4]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub concurrency: Option<i64>,
    /// Continue a pull that stopped (error, Ctrl-C, kill) from FILE.state.json and FILE.part
    #[arg(long, conflicts_with = "overwrite")]
    pub resume: bool,
    /// Start over when a stopped pull's FILE.part and FILE.state.json are there
    /// (they are removed; an incremental pull forgets its high-water mark)
    #[arg(long)]
    pub overwrite: bool,
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
    /// No messages on standard error [--no-quiet: show them]
    #[arg(short, long, overrides_with = "no_quiet")]
    pub quiet: bool,
    #[arg(long, overrides_with = "quiet", hide = true)]
    pub no_quiet: bool,
    /// Serve Prometheus metrics on http://ADDR/metrics while the pull runs (e.g. 127.0.0.1:9100)
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
    /// Keep serving the metrics this many seconds after the pull ends, for a last scrape
    /// [default: 0]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub metrics_linger: Option<f64>,
}

/// One resource's keys: a `[[resource]]` table, the top level of a file,
/// or the flags.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceOptions {
    /// Names the output file `NAME.jsonl` (files only).
    pub name: Option<String>,
    pub url: Option<String>,
    pub paginate: Option<Paginate>,
    pub records: Option<String>,
    /// The output file of a single pull (flags only).
    #[serde(skip)]
    pub out: Option<String>,
    /// Query parameters of the first request.
    pub params: Option<BTreeMap<String, String>>,
    pub next: Option<String>,
    pub page_param: Option<String>,
    pub page_start: Option<u64>,
    pub total_pages: Option<String>,
    pub has_more: Option<String>,
    pub offset_param: Option<String>,
    pub limit_param: Option<String>,
    pub limit: Option<u64>,
    pub total: Option<String>,
    pub cursor: Option<String>,
    pub cursor_param: Option<String>,
    pub max_pages: Option<i64>,
    pub since_field: Option<String>,
    pub since_param: Option<String>,
    pub format: Option<ApiFormat>,
    /// A child resource: `url` is a template (`/repos/{owner}/{name}/issues`)
    /// filled from each record of this earlier resource.
    pub parent: Option<String>,
    /// The parent record's field copied into each child record as
    /// `_parent` [default: id].
    pub parent_key: Option<String>,
}

/// The keys every resource of a run shares.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedOptions {
    /// Where a file's outputs go [default: `output/` and the file's name].
    pub out_dir: Option<PathBuf>,
    pub concurrency: Option<i64>,
    pub bearer_env: Option<String>,
    pub basic_env: Option<String>,
    pub api_key_env: Option<String>,
    pub api_key_header: Option<String>,
    pub api_key_param: Option<String>,
    #[serde(skip)]
    pub resume: Option<bool>,
    #[serde(skip)]
    pub overwrite: Option<bool>,
    pub quiet: Option<bool>,
    pub metrics: Option<String>,
    pub metrics_linger: Option<f64>,
}

impl ResourceFlags {
    pub fn options(&self) -> ResourceOptions {
        let params = self
            .param
            .iter()
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                // Kept whole, refused by name when validated.
                None => (p.clone(), String::new()),
            })
            .collect::<BTreeMap<_, _>>();
        ResourceOptions {
            name: None,
            url: None,
            paginate: self.paginate,
            records: self.records.clone(),
            out: self.out.clone(),
            params: (!params.is_empty()).then_some(params),
            next: self.next.clone(),
            page_param: self.page_param.clone(),
            page_start: self.page_start,
            total_pages: self.total_pages.clone(),
            has_more: self.has_more.clone(),
            offset_param: self.offset_param.clone(),
            limit_param: self.limit_param.clone(),
            limit: self.limit,
            total: self.total.clone(),
            cursor: self.cursor.clone(),
            cursor_param: self.cursor_param.clone(),
            max_pages: self.max_pages,
            since_field: self.since_field.clone(),
            since_param: self.since_param.clone(),
            format: self.format,
            parent: None,
            parent_key: None,
        }
    }

    /// The `--param` values without `=`, which the settings refuse.
    pub fn bad_params(&self) -> Vec<&str> {
        self.param
            .iter()
            .filter(|p| !p.contains('='))
            .map(String::as_str)
            .collect()
    }
}

impl SharedFlags {
    pub fn options(&self) -> SharedOptions {
        SharedOptions {
            out_dir: None,
            concurrency: self.concurrency,
            bearer_env: self.bearer_env.clone(),
            basic_env: self.basic_env.clone(),
            api_key_env: self.api_key_env.clone(),
            api_key_header: self.api_key_header.clone(),
            api_key_param: self.api_key_param.clone(),
            resume: self.resume.then_some(true),
            overwrite: self.overwrite.then_some(true),
            quiet: switch(self.quiet, self.no_quiet),
            metrics: self.metrics.clone(),
            metrics_linger: self.metrics_linger,
        }
    }
}

impl ResourceOptions {
    pub fn fill(&mut self, lower: Self, origin: &Origin, o: &mut Origins) {
        o.fill("name", &mut self.name, lower.name, origin);
        o.fill("url", &mut self.url, lower.url, origin);
        o.fill("paginate", &mut self.paginate, lower.paginate, origin);
        o.fill("records", &mut self.records, lower.records, origin);
        o.fill("out", &mut self.out, lower.out, origin);
        o.fill("params", &mut self.params, lower.params, origin);
        o.fill("next", &mut self.next, lower.next, origin);
        o.fill("page_param", &mut self.page_param, lower.page_param, origin);
        o.fill("page_start", &mut self.page_start, lower.page_start, origin);
        o.fill(
            "total_pages",
            &mut self.total_pages,
            lower.total_pages,
            origin,
        );
        o.fill("has_more", &mut self.has_more, lower.has_more, origin);
        o.fill(
            "offset_param",
            &mut self.offset_param,
            lower.offset_param,
            origin,
        );
        o.fill(
            "limit_param",
            &mut self.limit_param,
            lower.limit_param,
            origin,
        );
        o.fill("limit", &mut self.limit, lower.limit, origin);
        o.fill("total", &mut self.total, lower.total, origin);
        o.fill("cursor", &mut self.cursor, lower.cursor, origin);
        o.fill(
            "cursor_param",
            &mut self.cursor_param,
            lower.cursor_param,
            origin,
        );
        o.fill("max_pages", &mut self.max_pages, lower.max_pages, origin);
        o.fill(
            "since_field",
            &mut self.since_field,
            lower.since_field,
            origin,
        );
        o.fill(
            "since_param",
            &mut self.since_param,
            lower.since_param,
            origin,
        );
        o.fill("format", &mut self.format, lower.format, origin);
        o.fill("parent", &mut self.parent, lower.parent, origin);
        o.fill("parent_key", &mut self.parent_key, lower.parent_key, origin);
    }
}

impl SharedOptions {
    pub fn fill(&mut self, lower: Self, origin: &Origin, o: &mut Origins) {
        o.fill("out_dir", &mut self.out_dir, lower.out_dir, origin);
        o.fill(
            "concurrency",
            &mut self.concurrency,
            lower.concurrency,
            origin,
        );
        o.fill("bearer_env", &mut self.bearer_env, lower.bearer_env, origin);
        o.fill("basic_env", &mut self.basic_env, lower.basic_env, origin);
        o.fill(
            "api_key_env",
            &mut self.api_key_env,
            lower.api_key_env,
            origin,
        );
        o.fill(
            "api_key_header",
            &mut self.api_key_header,
            lower.api_key_header,
            origin,
        );
        o.fill(
            "api_key_param",
            &mut self.api_key_param,
            lower.api_key_param,
            origin,
        );
        o.fill("resume", &mut self.resume, lower.resume, origin);
        o.fill("overwrite", &mut self.overwrite, lower.overwrite, origin);
        o.fill("quiet", &mut self.quiet, lower.quiet, origin);
        o.fill("metrics", &mut self.metrics, lower.metrics, origin);
        o.fill(
            "metrics_linger",
            &mut self.metrics_linger,
            lower.metrics_linger,
            origin,
        );
    }
}

/// One layer of a pull's settings.
#[derive(Debug, Clone, Default)]
pub struct ApiOptions {
    pub request: RequestOptions,
    pub shared: SharedOptions,
    pub resource: ResourceOptions,
}

impl ApiOptions {
    pub fn from_args(a: &ApiArgs) -> Self {
        let mut resource = a.resource.options();
        resource.url = Some(a.url.clone());
        Self {
            request: a.request.options(),
            shared: a.shared.options(),
            resource,
        }
    }

    pub fn fill(&mut self, lower: Self, origin: &Origin, o: &mut Origins) {
        self.request.fill(lower.request, origin, o);
        self.shared.fill(lower.shared, origin, o);
        self.resource.fill(lower.resource, origin, o);
    }

    /// The keys the environment may set: those of the file's structs,
    /// except what names one resource (`name`, `url`, `parent`,
    /// `parent_key`): like a flag, a variable applies to every resource.
    pub fn env_keys() -> Vec<String> {
        const ONE_RESOURCE: [&str; 4] = ["name", "url", "parent", "parent_key"];
        [
            fields::<RequestOptions>(),
            fields::<SharedOptions>(),
            fields::<ResourceOptions>(),
        ]
        .into_iter()
        .flatten()
        .filter(|k| !ONE_RESOURCE.contains(k))
        .map(|k| (*k).to_string())
        .collect()
    }

    /// One layer per `COLLECTOR_<KEY>` variable set (see `config::env`).
    pub fn from_env(env: env::Lookup) -> anyhow::Result<Vec<(Origin, Self)>> {
        env::layers(&Self::env_keys(), env, |mut table| {
            let options = Self {
                request: table.take()?,
                shared: table.take()?,
                resource: table.take()?,
            };
            table.finish()?;
            Ok(options)
        })
    }
}

/// An API config file: its top level (shared and request keys, and
/// possibly one resource's keys) and its `[[resource]]` tables.
#[derive(Debug, Clone)]
pub struct ApiFile {
    pub origin: Origin,
    pub top: ApiOptions,
    pub resources: Vec<(Origin, ResourceOptions)>,
}

impl ApiFile {
    pub fn from_table(mut table: Table) -> anyhow::Result<Self> {
        let origin = table.origin().clone();
        let top = ApiOptions {
            request: table.take()?,
            shared: table.take()?,
            resource: table.take()?,
        };
        let tables = match table.remove("resource") {
            None => Vec::new(),
            Some(toml::Value::Array(items)) => items,
            Some(_) => anyhow::bail!("{}", unexpected(&origin, "resource")),
        };
        table.finish()?;
        let mut resources = Vec::new();
        for (i, item) in tables.into_iter().enumerate() {
            let toml::Value::Table(t) = item else {
                anyhow::bail!("{}", unexpected(&origin, "resource"));
            };
            let label = match t.get("name").and_then(toml::Value::as_str) {
                Some(name) => format!("[[resource]] {name:?}"),
                None => format!("[[resource]] #{}", i + 1),
            };
            let within = origin.within(&label);
            let mut t = Table::new(t, within.clone());
            let r: ResourceOptions = t.take()?;
            t.finish()?;
            resources.push((within, r));
        }
        Ok(Self {
            origin,
            top,
            resources,
        })
    }
}

fn unexpected(origin: &Origin, key: &'static str) -> String {
    let name = crate::config::Name { key, origin };
    format!("{name}: expected [[{key}]] tables")
}
