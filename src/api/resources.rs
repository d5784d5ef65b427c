//! The full form of `collector api`: a TOML file naming one or more
//! resources, pulled one after the other into `OUT_DIR/NAME.jsonl`, with
//! one `OUT_DIR/summary.json` for the run. Every key mirrors a flag of the
//! quick form; shared settings sit at the top, resources in `[[resource]]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::Pointer;
use super::pull::{self, Output, PullSettings, PullSummary};
use super::settings::{ApiArgs, ApiFormat, Paginate, resolve_with_env};
use crate::sink::part_file;
use serde_json::Value;

/// Settings every resource shares.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiFile {
    /// Where the outputs go [default: `output/` and the config file's name].
    pub out_dir: Option<PathBuf>,
    pub rate: Option<f64>,
    pub concurrency: Option<usize>,
    pub timeout: Option<f64>,
    pub retries: Option<u32>,
    pub max_wait: Option<f64>,
    pub user_agent: Option<String>,
    #[serde(default)]
    pub header: Vec<String>,
    pub bearer_env: Option<String>,
    pub basic_env: Option<String>,
    pub api_key_env: Option<String>,
    pub api_key_header: Option<String>,
    pub api_key_param: Option<String>,
    #[serde(rename = "resource", default)]
    pub resources: Vec<Resource>,
}

/// One `[[resource]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// Names the output file `NAME.jsonl`.
    pub name: String,
    pub url: String,
    #[serde(default = "auto")]
    pub paginate: String,
    pub records: Option<String>,
    /// Query parameters of the first request.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
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
    pub max_pages: Option<u64>,
    pub since_field: Option<String>,
    pub since_param: Option<String>,
    /// `jsonl` (default) or `json` (one array).
    pub format: Option<String>,
    /// A child resource: `url` is a template (`/repos/{owner}/{name}/issues`)
    /// filled from each record of this earlier resource.
    pub parent: Option<String>,
    /// The parent record's field copied into each child record as
    /// `_parent` [default: id].
    pub parent_key: Option<String>,
}

fn auto() -> String {
    "auto".to_string()
}

/// One resource's outcome in `summary.json`.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    pub resources: BTreeMap<String, PullSummary>,
}

pub fn parse(text: &str) -> anyhow::Result<ApiFile> {
    let file: ApiFile = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
    if file.resources.is_empty() {
        bail!("no [[resource]] tables: nothing to pull");
    }
    let mut names = std::collections::BTreeSet::new();
    for r in &file.resources {
        if r.name.is_empty()
            || !r
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            bail!(
                "resource name {:?}: use letters, digits, '-', '_' and '.' (it names a file)",
                r.name
            );
        }
        if !names.insert(r.name.as_str()) {
            bail!("resource name {:?} is used twice", r.name);
        }
    }
    Ok(file)
}

fn paginate(name: &str, value: &str) -> anyhow::Result<Paginate> {
    use clap::ValueEnum as _;
    Paginate::from_str(value, true).map_err(|_| {
        anyhow::anyhow!("resource {name:?}: paginate = {value:?}; expected auto, link, next_url, page, offset or cursor")
    })
}

/// The quick-form arguments a resource stands for.
fn args(
    file: &ApiFile,
    r: &Resource,
    out: &Path,
    resume: bool,
    quiet: bool,
) -> anyhow::Result<ApiArgs> {
    Ok(ApiArgs {
        url: r.url.clone(),
        paginate: paginate(&r.name, &r.paginate)?,
        records: r.records.clone(),
        out: Some(out.to_string_lossy().into_owned()),
        param: r.params.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        header: file.header.clone(),
        next: r.next.clone(),
        page_param: r.page_param.clone().unwrap_or_else(|| "page".into()),
        page_start: r.page_start.unwrap_or(1),
        total_pages: r.total_pages.clone(),
        has_more: r.has_more.clone(),
        offset_param: r.offset_param.clone().unwrap_or_else(|| "offset".into()),
        limit_param: r.limit_param.clone().unwrap_or_else(|| "limit".into()),
        limit: r.limit,
        total: r.total.clone(),
        cursor: r.cursor.clone(),
        cursor_param: r.cursor_param.clone().unwrap_or_else(|| "cursor".into()),
        max_pages: r.max_pages,
        concurrency: file.concurrency.unwrap_or(4),
        rate: file.rate,
        timeout: file.timeout,
        retries: file.retries,
        max_wait: file.max_wait,
        resume,
        since_field: r.since_field.clone(),
        since_param: r.since_param.clone(),
        bearer_env: file.bearer_env.clone(),
        basic_env: file.basic_env.clone(),
        api_key_env: file.api_key_env.clone(),
        api_key_header: file.api_key_header.clone(),
        api_key_param: file.api_key_param.clone(),
        user_agent: file.user_agent.clone(),
        quiet,
        format: match r.format.as_deref() {
            None | Some("jsonl") => ApiFormat::Jsonl,
            Some("json") => ApiFormat::Json,
            Some(other) => bail!(
                "resource {:?}: format = {other:?}; expected jsonl or json",
                r.name
            ),
        },
    })
}

/// What to do for one resource.
#[derive(Debug)]
pub enum Plan {
    Pull(Box<PullSettings>),
    /// One pull per record of `parent`, from `args` with the URL filled in.
    Children {
        parent: String,
        key: Pointer,
        args: Box<ApiArgs>,
    },
}

/// Validates every resource before anything is fetched (a child's URL
/// template is checked against each parent record when it runs).
pub fn settings(
    file: &ApiFile,
    config_path: &Path,
    resume: bool,
    quiet: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<(PathBuf, Vec<(String, Plan)>)> {
    let out_dir = file.out_dir.clone().unwrap_or_else(|| {
        let stem = config_path
            .file_stem()
            .map_or_else(|| "api".into(), |s| s.to_string_lossy().into_owned());
        PathBuf::from("output").join(stem)
    });
    let mut all: Vec<(String, Plan)> = Vec::new();
    for r in &file.resources {
        let ext = if r.format.as_deref() == Some("json") {
            "json"
        } else {
            "jsonl"
        };
        let out = out_dir.join(format!("{}.{ext}", r.name));
        if r.parent.is_some() && ext == "json" {
            bail!(
                "resource {:?}: a child resource is written as jsonl (one file per parent record, then joined)",
                r.name
            );
        }
        if r.since_field.is_some() != r.since_param.is_some() {
            bail!(
                "resource {:?}: since_field and since_param go together",
                r.name
            );
        }
        let a = args(file, r, &out, resume, quiet)?;
        let plan = match &r.parent {
            Some(parent) => {
                if !all.iter().any(|(n, _)| n == parent) {
                    bail!(
                        "resource {:?}: parent {parent:?} must be a resource listed before it",
                        r.name
                    );
                }
                let key = r.parent_key.as_deref().unwrap_or("id");
                let key = Pointer::parse(key)
                    .with_context(|| format!("resource {:?}: parent_key", r.name))?;
                // Check everything but the URL now, with a stand-in URL.
                let mut probe = a.clone();
                probe.url = "http://template.invalid/".to_string();
                resolve_with_env(&probe, env).with_context(|| format!("resource {:?}", r.name))?;
                Plan::Children {
                    parent: parent.clone(),
                    key,
                    args: Box::new(a),
                }
            }
            None => Plan::Pull(Box::new(
                resolve_with_env(&a, env).with_context(|| format!("resource {:?}", r.name))?,
            )),
        };
        all.push((r.name.clone(), plan));
    }
    Ok((out_dir, all))
}

/// Fills `{field}` placeholders from a record (fields named as pointers,
/// dotted or RFC 6901), each value percent-encoded.
pub fn fill(template: &str, record: &Value) -> anyhow::Result<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            bail!("unclosed '{{' in {template:?}");
        };
        let name = &rest[open + 1..open + close];
        let pointer = Pointer::parse(name).with_context(|| format!("placeholder {{{name}}}"))?;
        let value = match pointer.get(record) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            _ => bail!("the parent record has no value for {{{name}}}"),
        };
        for b in value.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Pulls every resource in order; with `resume`, finished resources are
/// left as they are and stopped ones continue.
pub async fn run(
    out_dir: &Path,
    resources: Vec<(String, Plan)>,
    env: &dyn Fn(&str) -> Option<String>,
    stop: CancellationToken,
) -> anyhow::Result<RunSummary> {
    let mut summary = RunSummary {
        resources: BTreeMap::new(),
    };
    for (name, plan) in resources {
        if stop.is_cancelled() {
            break;
        }
        let result = match plan {
            Plan::Pull(settings) => match pull_one(*settings, &stop).await? {
                Some(result) => result,
                None => continue,
            },
            Plan::Children { parent, key, args } => {
                children(out_dir, &name, &parent, &key, &args, env, &stop).await?
            }
        };
        summary.resources.insert(name, result);
    }
    let mut json = serde_json::to_vec_pretty(&summary)?;
    json.push(b'\n');
    let target = out_dir.join("summary.json");
    part_file::write_atomic(&target, &json)
        .with_context(|| format!("could not write {}", target.display()))?;
    Ok(summary)
}

/// Runs one pull; `None` when `--resume` finds it already finished.
async fn pull_one(
    mut settings: PullSettings,
    stop: &CancellationToken,
) -> anyhow::Result<Option<PullSummary>> {
    if settings.resume
        && let Output::File(path) = &settings.output
    {
        match super::state::load(&super::state::state_path(path))? {
            Some(state) if state.finished => return Ok(None),
            Some(_) => {}
            None => settings.resume = false,
        }
    }
    pull::run(settings, stop.clone()).await.map(Some)
}

/// One pull per parent record into `NAME/INDEX.jsonl`, then all of them,
/// in parent order, into `NAME.jsonl` once every one is complete.
async fn children(
    out_dir: &Path,
    name: &str,
    parent: &str,
    key: &Pointer,
    args: &ApiArgs,
    env: &dyn Fn(&str) -> Option<String>,
    stop: &CancellationToken,
) -> anyhow::Result<PullSummary> {
    let parent_file = out_dir.join(format!("{parent}.jsonl"));
    let parent_file = if parent_file.exists() {
        parent_file
    } else {
        out_dir.join(format!("{parent}.json"))
    };
    let text = std::fs::read_to_string(&parent_file).with_context(|| {
        format!(
            "resource {name:?}: parent {parent:?} has no complete output {}",
            parent_file.display()
        )
    })?;
    let parents: Vec<Value> = if parent_file.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JSON array", parent_file.display()))?
    } else {
        text.lines()
            .enumerate()
            .map(|(i, line)| {
                serde_json::from_str(line).with_context(|| {
                    format!("{}:{}: not a JSON record", parent_file.display(), i + 1)
                })
            })
            .collect::<anyhow::Result<_>>()?
    };
    let dir = out_dir.join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    let mut total = PullSummary {
        url: args.url.clone(),
        ..PullSummary::default()
    };
    let mut parts = Vec::new();
    for (i, record) in parents.iter().enumerate() {
        let url = fill(&args.url, record)
            .with_context(|| format!("resource {name:?}, parent record {}", i + 1))?;
        let out = dir.join(format!("{i}.jsonl"));
        let mut child = args.clone();
        child.url = url;
        child.out = Some(out.to_string_lossy().into_owned());
        let mut settings =
            resolve_with_env(&child, env).with_context(|| format!("resource {name:?}"))?;
        settings.tag = key.get(record).cloned();
        parts.push(out);
        let Some(result) = pull_one(settings, stop).await? else {
            continue;
        };
        total.pages += result.pages;
        total.records += result.records;
        total.retries += result.retries;
        total.rate_limit_waits += result.rate_limit_waits;
        total.strategy = result.strategy;
        total.duration_s += result.duration_s;
        if result.error.is_some() || result.stopped == "interrupted" {
            total.stopped = result.stopped;
            total.error = result.error;
            return Ok(total);
        }
    }
    total.stopped = "last_page".to_string();
    let mut joined = part_file::PartFile::create(&out_dir.join(format!("{name}.jsonl")))?;
    for part in &parts {
        let mut f = std::fs::File::open(part)
            .with_context(|| format!("could not read {}", part.display()))?;
        std::io::copy(&mut f, joined.writer())?;
    }
    joined.commit()?;
    Ok(total)
}
