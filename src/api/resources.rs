//! The full form of `collector api`: a TOML file naming one or more
//! resources, pulled one after the other into `OUT_DIR/NAME.jsonl`, with
//! one `OUT_DIR/summary.json` for the run. Every key mirrors a flag of the
//! quick form; shared settings sit at the top, resources in `[[resource]]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::pull::{self, Output, PullSettings, PullSummary};
use super::settings::{ApiArgs, Paginate, resolve_with_env};
use crate::sink::part_file;

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
    })
}

/// Validates every resource into pull settings before anything is fetched.
pub fn settings(
    file: &ApiFile,
    config_path: &Path,
    resume: bool,
    quiet: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<(PathBuf, Vec<(String, PullSettings)>)> {
    let out_dir = file.out_dir.clone().unwrap_or_else(|| {
        let stem = config_path
            .file_stem()
            .map_or_else(|| "api".into(), |s| s.to_string_lossy().into_owned());
        PathBuf::from("output").join(stem)
    });
    let mut all = Vec::new();
    for r in &file.resources {
        let out = out_dir.join(format!("{}.jsonl", r.name));
        if r.since_field.is_some() != r.since_param.is_some() {
            bail!(
                "resource {:?}: since_field and since_param go together",
                r.name
            );
        }
        let a = args(file, r, &out, resume, quiet)?;
        let s = resolve_with_env(&a, env).with_context(|| format!("resource {:?}", r.name))?;
        all.push((r.name.clone(), s));
    }
    Ok((out_dir, all))
}

/// Pulls every resource in order; with `resume`, finished resources are
/// left as they are and stopped ones continue.
pub async fn run(
    out_dir: &Path,
    resources: Vec<(String, PullSettings)>,
    stop: CancellationToken,
) -> anyhow::Result<RunSummary> {
    let mut summary = RunSummary {
        resources: BTreeMap::new(),
    };
    for (name, mut settings) in resources {
        if stop.is_cancelled() {
            break;
        }
        if settings.resume
            && let Output::File(path) = &settings.output
        {
            match super::state::load(&super::state::state_path(path))? {
                Some(state) if state.finished => continue,
                Some(_) => {}
                None => settings.resume = false,
            }
        }
        if !settings.quiet {
            eprintln!("collector api: {name}");
        }
        let result = pull::run(settings, stop.clone()).await?;
        summary.resources.insert(name, result);
    }
    let mut json = serde_json::to_vec_pretty(&summary)?;
    json.push(b'\n');
    let target = out_dir.join("summary.json");
    part_file::write_atomic(&target, &json)
        .with_context(|| format!("could not write {}", target.display()))?;
    Ok(summary)
}
