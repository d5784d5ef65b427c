//! The full form of `collector api`: a TOML file naming one or more
//! resources, pulled one after the other into `OUT_DIR/NAME.jsonl`, with
//! one `OUT_DIR/summary.json` for the run. Every key mirrors a flag of the
//! quick form; shared settings sit at the top, resources in `[[resource]]`
//! (or one resource's keys at the top). Flags apply to every resource.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use serde_json::Value;

use super::Pointer;
use super::StopReason;
use super::options::{ApiFile, ApiFormat, ApiOptions, ResourceOptions};
use super::pull::{self, Output, PullSettings, PullSummary, Stopped};
use super::settings::{ApiLayers, build};
use crate::config::{Name, Origin, Table};
use crate::fetch::stats::RequestStats;
use crate::sink::part_file;
use std::sync::Arc;

/// One resource's outcome in `summary.json`.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    pub resources: BTreeMap<String, PullSummary>,
}

/// Reads an API config file.
pub fn load(path: &Path) -> anyhow::Result<ApiFile> {
    ApiFile::from_table(Table::read(path)?)
}

/// Parses an API config file's text; `path` names it in messages.
pub fn parse(text: &str, path: &Path) -> anyhow::Result<ApiFile> {
    ApiFile::from_table(Table::parse(text, Origin::file(path))?)
}

/// What to do for one resource.
#[derive(Debug)]
pub enum Plan {
    Pull(Box<PullSettings>),
    /// One pull per record of `parent`, from `layers` with the URL filled in.
    Children {
        parent: String,
        key: Pointer,
        layers: Box<ApiLayers>,
        /// Where each child pull's requests are counted (metrics).
        requests: Option<Arc<RequestStats>>,
    },
}

impl Plan {
    /// Counts this resource's requests (every child pull's too) in `requests`.
    pub fn count_requests(&mut self, stats: &Arc<RequestStats>) {
        match self {
            Self::Pull(settings) => settings.requests = Some(stats.clone()),
            Self::Children { requests, .. } => *requests = Some(stats.clone()),
        }
    }

    /// Whether this resource's messages are off (`quiet`).
    pub fn quiet(&self) -> bool {
        match self {
            Self::Pull(settings) => settings.quiet,
            Self::Children { layers, .. } => layers.options.shared.quiet.unwrap_or(false),
        }
    }
}

/// A file's name for a resource: letters, digits, `-`, `_`, `.`.
fn check_name(name: &str, origin: &Origin) -> anyhow::Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bail!(
            "{}: {name:?}: use letters, digits, '-', '_' and '.' (it names a file)",
            Name {
                key: "name",
                origin
            }
        );
    }
    Ok(())
}

/// Validates every resource before anything is fetched (a child's URL
/// template is checked against each parent record when it runs). `flags`
/// is the command line's layer: it applies to every resource.
pub fn settings(
    file: &ApiFile,
    config_path: &Path,
    flags: &ApiOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<(PathBuf, Vec<(String, Plan)>)> {
    let top = ApiLayers::new(flags.clone(), &Origin::Flag);
    settings_under(file, config_path, &top, env)
}

/// [`settings`] under the command line's layers, flags and environment
/// (`ApiLayers::command_line`), which apply to every resource.
pub fn settings_under(
    file: &ApiFile,
    config_path: &Path,
    top: &ApiLayers,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<(PathBuf, Vec<(String, Plan)>)> {
    if top.options.resource.out.is_some() {
        bail!(
            "--out names the file of a single pull; {} writes NAME.jsonl per resource into its out_dir (set out_dir in the file)",
            config_path.display()
        );
    }
    let mut layers = top.clone();
    layers.under(file.top.clone(), &file.origin);
    let out_dir = layers.options.shared.out_dir.clone().unwrap_or_else(|| {
        let stem = config_path
            .file_stem()
            .map_or_else(|| "api".into(), |s| s.to_string_lossy().into_owned());
        PathBuf::from("output").join(stem)
    });
    // The single form: the top level is the one resource.
    let single = [(file.origin.clone(), ResourceOptions::default())];
    let resources: &[(Origin, ResourceOptions)] = match (
        &file.top.resource.url,
        file.resources.is_empty(),
    ) {
        (Some(_), false) => bail!(
            "{}: either one resource at the top level (url = ...) or [[resource]] tables, not both",
            config_path.display()
        ),
        (None, true) => bail!(
            "{}: no url and no [[resource]] tables: nothing to pull",
            config_path.display()
        ),
        (Some(_), true) => &single,
        (None, false) => &file.resources,
    };
    let mut all: Vec<(String, Plan)> = Vec::new();
    for (origin, resource) in resources {
        let mut layers = top.clone();
        layers.under(
            ApiOptions {
                resource: resource.clone(),
                ..ApiOptions::default()
            },
            origin,
        );
        layers.under(file.top.clone(), &file.origin);
        let r = &layers.options.resource;
        let name = match &r.name {
            Some(n) => n.clone(),
            None if resources.len() == 1 && file.resources.is_empty() => config_path
                .file_stem()
                .map_or_else(|| "api".into(), |s| s.to_string_lossy().into_owned()),
            None => bail!(
                "{}: every [[resource]] needs a name",
                Name {
                    key: "name",
                    origin
                }
            ),
        };
        check_name(&name, origin)?;
        if all.iter().any(|(n, _)| *n == name) {
            bail!(
                "{}: {name:?} is used twice",
                Name {
                    key: "name",
                    origin
                }
            );
        }
        let json = r.format == Some(ApiFormat::Json);
        let out = out_dir.join(format!("{name}.{}", if json { "json" } else { "jsonl" }));
        if r.parent.is_some() && json {
            bail!(
                "{}: a child resource is written as jsonl (one file per parent record, then joined)",
                layers.origins.name("format")
            );
        }
        layers.options.resource.out = Some(out.to_string_lossy().into_owned());
        let plan = match layers.options.resource.parent.clone() {
            Some(parent) => {
                if !all.iter().any(|(n, _)| *n == parent) {
                    bail!(
                        "{}: {parent:?} must be a resource listed before it",
                        layers.origins.name("parent")
                    );
                }
                let key = layers
                    .options
                    .resource
                    .parent_key
                    .as_deref()
                    .unwrap_or("id");
                let key = Pointer::parse(key)
                    .with_context(|| layers.origins.name("parent_key").to_string())?;
                // Check everything but the URL now, with a stand-in URL.
                let mut probe = layers.clone();
                probe.options.resource.url = Some("http://template.invalid/".to_string());
                build(&probe, env)?;
                Plan::Children {
                    parent,
                    key,
                    layers: Box::new(layers),
                    requests: None,
                }
            }
            None => Plan::Pull(Box::new(build(&layers, env)?)),
        };
        all.push((name, plan));
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
    for (_, plan) in &resources {
        if let Plan::Pull(settings) = plan {
            super::recorder::check_start(settings)?;
        }
    }
    for (name, plan) in resources {
        if stop.is_cancelled() {
            break;
        }
        let result = match plan {
            Plan::Pull(settings) => match pull_one(*settings, &stop).await? {
                Some(result) => result,
                None => continue,
            },
            Plan::Children {
                parent,
                key,
                layers,
                requests,
            } => {
                let child = Child {
                    name: &name,
                    parent: &parent,
                    key: &key,
                    layers: &layers,
                    requests,
                };
                children(out_dir, &child, env, &stop).await?
            }
        };
        summary.resources.insert(name, result);
    }
    let target = out_dir.join("summary.json");
    part_file::write_json(&target, &summary)
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

/// A child resource to pull: its name, its parent's and the parent key.
struct Child<'a> {
    name: &'a str,
    parent: &'a str,
    key: &'a Pointer,
    layers: &'a ApiLayers,
    requests: Option<Arc<RequestStats>>,
}

/// One pull per parent record into `NAME/INDEX.jsonl`, then all of them,
/// in parent order, into `NAME.jsonl` once every one is complete.
async fn children(
    out_dir: &Path,
    child: &Child<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    stop: &CancellationToken,
) -> anyhow::Result<PullSummary> {
    let Child {
        name,
        parent,
        key,
        layers,
        ..
    } = *child;
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
    let template = layers.options.resource.url.clone().unwrap_or_default();
    let mut total = PullSummary {
        url: template.clone(),
        ..PullSummary::default()
    };
    let mut parts = Vec::new();
    for (i, record) in parents.iter().enumerate() {
        let url = fill(&template, record)
            .with_context(|| format!("resource {name:?}, parent record {}", i + 1))?;
        let out = dir.join(format!("{i}.jsonl"));
        let mut one = layers.clone();
        one.options.resource.url = Some(url);
        one.options.resource.out = Some(out.to_string_lossy().into_owned());
        let mut settings = build(&one, env).with_context(|| format!("resource {name:?}"))?;
        settings.tag = key.get(record).cloned();
        settings.requests.clone_from(&child.requests);
        parts.push(out);
        let Some(result) = pull_one(settings, stop).await? else {
            continue;
        };
        total.pages += result.pages;
        total.records += result.records;
        total.retries += result.retries;
        total.rate_limit_waits += result.rate_limit_waits;
        total.strategy = result.strategy;
        total.tls_verified = result.tls_verified;
        total.duration_s += result.duration_s;
        if result.stopped == Stopped::MaxPages {
            total.stopped = Stopped::MaxPages;
        }
        if result.error.is_some() || result.stopped == Stopped::Interrupted {
            total.stopped = result.stopped;
            total.error = result.error;
            return Ok(total);
        }
    }
    // Every parent record pulled; `max_pages` if it cut any of them short.
    if total.stopped != Stopped::MaxPages {
        total.stopped = Stopped::Done(StopReason::LastPage);
    }
    let mut joined = part_file::PartFile::create(&out_dir.join(format!("{name}.jsonl")))?;
    for part in &parts {
        let mut f = std::fs::File::open(part)
            .with_context(|| format!("could not read {}", part.display()))?;
        std::io::copy(&mut f, joined.writer())?;
    }
    joined.commit()?;
    Ok(total)
}
