//! The jobs file: `[job.NAME]` tables, each with an optional `schedule`
//! (cron, 5 fields or 6 with seconds, in UTC), an optional `keep = N`, an
//! optional `recrawl = true` (a crawl job recrawls incrementally), and
//! exactly one of `crawl` / `api`, inline (`crawl = { ... }`) or a path to
//! the command's own config file (`crawl = "books.toml"`, relative to the
//! jobs file). A job's table is read by the same code as the command's
//! config file, and validated whole before anything runs: every error
//! names `FILE: job.NAME.key`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Deserialize;

use crate::api::options::{ApiFile, ApiOptions};
use crate::api::resources;
use crate::config::{Name, Origin, Table, check};
use crate::crawl::options::{CrawlOptions, Layered};
use crate::crawl::settings::{self, CrawlSettings};
use crate::rules::RuleSets;

/// A parsed, validated jobs file.
#[derive(Debug)]
pub struct JobsFile {
    pub path: PathBuf,
    pub jobs: Vec<Job>,
}

/// One named job.
#[derive(Debug)]
pub struct Job {
    pub name: String,
    /// When `collector schedule` starts it; `None`: only when asked.
    pub schedule: Option<Schedule>,
    /// Complete runs kept (the oldest beyond are removed); `None`: all.
    pub keep: Option<u64>,
    /// A crawl job that keeps its state and recrawls incrementally
    /// (`recrawl = true`): each run after the first asks for the pages
    /// the last one fetched with their validators.
    pub recrawl: bool,
    pub kind: Kind,
}

/// What a job runs.
#[derive(Debug)]
pub enum Kind {
    /// A crawl; its output directory and state are set per run.
    Crawl(Box<CrawlSettings>),
    /// An API config (inline or a file); `path` names it in messages and
    /// gives a single resource its default name.
    Api { file: Box<ApiFile>, path: PathBuf },
}

impl Kind {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Crawl(_) => "crawl",
            Self::Api { .. } => "api",
        }
    }
}

/// A cron schedule as written, and parsed.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub text: String,
    pub cron: croner::Cron,
}

impl Schedule {
    /// The first start strictly after `after` (UTC).
    pub fn next_after(
        &self,
        after: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        self.cron.find_next_occurrence(&after, false).ok()
    }
}

/// Parses a cron expression: 5 fields, or 6 with seconds first.
pub fn parse_cron(text: &str) -> Result<Schedule, String> {
    let fields = text.split_whitespace().count();
    if !text.trim_start().starts_with('@') && !(5..=6).contains(&fields) {
        return Err(format!(
            "{text:?} has {fields} fields; a cron expression has 5 (minute hour day month weekday) or 6 (seconds first)"
        ));
    }
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .year(croner::parser::Year::Disallowed)
        .build()
        .parse(text)
        .map(|cron| Schedule {
            text: text.to_string(),
            cron,
        })
        .map_err(|e| format!("{text:?} is not a cron expression: {e}"))
}

/// The keys of a job table besides `crawl` and `api`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobKeys {
    schedule: Option<String>,
    keep: Option<i64>,
    recrawl: Option<bool>,
}

/// Reads and validates `path`.
pub fn load(path: &Path) -> anyhow::Result<JobsFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read jobs file {}", path.display()))?;
    parse(&text, path)
}

/// Parses a jobs file's text; `path` names it and anchors relative paths.
pub fn parse(text: &str, path: &Path) -> anyhow::Result<JobsFile> {
    let mut top = Table::parse(text, Origin::file(path))?;
    let jobs = top.remove("job");
    top.finish()?;
    let jobs = match jobs {
        None => bail!("{}: no [job.NAME] tables: nothing to run", path.display()),
        Some(toml::Value::Table(t)) => t,
        Some(_) => bail!("{}: job: expected [job.NAME] tables", path.display()),
    };
    let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut out = Vec::new();
    for (name, value) in jobs {
        let origin = Origin::file(path).within(&format!("job.{name}"));
        check_name(&name, path)?;
        let toml::Value::Table(table) = value else {
            bail!("{}: job.{name}: expected a table", path.display());
        };
        out.push(job(name, Table::new(table, origin), &base)?);
    }
    Ok(JobsFile {
        path: path.to_path_buf(),
        jobs: out,
    })
}

/// A job's name names its output folder.
fn check_name(name: &str, path: &Path) -> anyhow::Result<()> {
    let fine = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !fine {
        bail!(
            "{}: job.{name}: use letters, digits, '-', '_' and '.' in a job's name (it names its output folder)",
            path.display()
        );
    }
    Ok(())
}

fn job(name: String, mut table: Table, base: &Path) -> anyhow::Result<Job> {
    let origin = table.origin().clone();
    let keys: JobKeys = table.take()?;
    let crawl = table.remove("crawl");
    let api = table.remove("api");
    table.finish()?;
    let named = |key| Name {
        key,
        origin: &origin,
    };
    let schedule = keys
        .schedule
        .as_deref()
        .map(|s| parse_cron(s).map_err(|e| anyhow::anyhow!("{}: {e}", named("schedule"))))
        .transpose()?;
    let keep = keys
        .keep
        .map(|k| check::at_least_one(&named("keep"), k))
        .transpose()?;
    let kind = match (crawl, api) {
        (Some(value), None) => crawl_kind(value, &origin.within("crawl"), base)?,
        (None, Some(value)) => api_kind(&name, value, &origin.within("api"), base)?,
        (Some(_), Some(_)) => bail!(
            "{}: a job runs either crawl or api, not both",
            named("crawl")
        ),
        (None, None) => bail!(
            "{}: missing: give crawl = {{ ... }} or crawl = \"FILE\", or api = {{ ... }} or api = \"FILE\"",
            named("crawl")
        ),
    };
    let recrawl = keys.recrawl.unwrap_or(false);
    if recrawl && !matches!(kind, Kind::Crawl(_)) {
        bail!(
            "{}: recrawl is for crawl jobs; an API job's since_field pulls incrementally",
            named("recrawl")
        );
    }
    Ok(Job {
        name,
        schedule,
        keep,
        recrawl,
        kind,
    })
}

/// A job's `crawl` or `api` value: an inline table, or a file path
/// (relative to the jobs file) read as that command's config file.
fn config_table(
    value: toml::Value,
    origin: &Origin,
    base: &Path,
) -> anyhow::Result<(Table, PathBuf)> {
    match value {
        toml::Value::Table(t) => {
            let path = match origin {
                Origin::File { path, .. } => path.to_path_buf(),
                _ => PathBuf::new(),
            };
            Ok((Table::new(t, origin.clone()), path))
        }
        toml::Value::String(file) => {
            let path = base.join(file);
            Ok((Table::read(&path)?, path))
        }
        _ => bail!(
            "{}: expected a table of the command's keys, or the path of its config file",
            origin_name(origin)
        ),
    }
}

/// `FILE: job.NAME.crawl` for a value of the wrong type.
fn origin_name(origin: &Origin) -> String {
    match origin {
        Origin::File { path, table } => format!("{}: {table}", path.display()),
        _ => String::new(),
    }
}

/// Relative `ca_cert` paths of an inline table are relative to the jobs file.
fn rebase(paths: &mut Option<Vec<PathBuf>>, base: &Path) {
    for p in paths.iter_mut().flatten() {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    }
}

fn crawl_kind(value: toml::Value, origin: &Origin, base: &Path) -> anyhow::Result<Kind> {
    let inline = value.is_table();
    let (table, _) = config_table(value, origin, base)?;
    let file_origin = table.origin().clone();
    let mut options = CrawlOptions::from_table(table)?;
    if inline {
        rebase(&mut options.request.ca_cert, base);
    }
    RuleSets::compile(options.rule.as_deref().unwrap_or_default())
        .with_context(|| origin_name(&file_origin))?;
    let layered = jobs_layers(options, &file_origin);
    let seeds = settings::file_seeds(&layered).with_context(|| origin_name(&file_origin))?;
    let built = settings::build(&layered, seeds)?;
    Ok(Kind::Crawl(Box::new(built)))
}

/// A crawl job's layers: its table over the job defaults (no progress
/// display or summary on standard error: jobs report through the log).
fn jobs_layers(options: CrawlOptions, origin: &Origin) -> Layered {
    let mut defaults = CrawlOptions::default();
    defaults.run.progress = Some(crate::crawl::options::ProgressMode::Never);
    defaults.run.quiet = Some(true);
    // The output directory is the run's; a placeholder keeps `out = "-"`
    // from being taken for standard output.
    let mut options = options;
    options.run.out = Some(PathBuf::from("output"));
    let mut layered = Layered::new(options, origin);
    layered.under(defaults, &Origin::Default);
    layered
}

fn api_kind(name: &str, value: toml::Value, origin: &Origin, base: &Path) -> anyhow::Result<Kind> {
    let inline = value.is_table();
    let (table, path) = config_table(value, origin, base)?;
    let mut file = ApiFile::from_table(table)?;
    if inline {
        rebase(&mut file.top.request.ca_cert, base);
        // The single form of an inline table takes the job's name.
        if file.resources.is_empty() && file.top.resource.name.is_none() {
            file.top.resource.name = Some(name.to_string());
        }
    }
    if file.top.shared.quiet.is_none() {
        file.top.shared.quiet = Some(true);
    }
    let label = if inline {
        PathBuf::from(origin_name(origin))
    } else {
        path
    };
    // Validated now, with the environment the run will have.
    resources::settings(&file, &label, &api_flags(Path::new("output"), false), &env)?;
    Ok(Kind::Api {
        file: Box::new(file),
        path: label,
    })
}

/// The top layer of an API job's pulls: its run directory, and `--resume`.
pub fn api_flags(run_dir: &Path, resume: bool) -> ApiOptions {
    let mut flags = ApiOptions::default();
    flags.shared.out_dir = Some(run_dir.to_path_buf());
    flags.shared.resume = resume.then_some(true);
    flags
}

/// Credentials come from the environment, as for `collector api`.
pub fn env(var: &str) -> Option<String> {
    std::env::var(var).ok()
}

impl JobsFile {
    /// The jobs named (in the file's order when `names` is empty); an
    /// unknown name is an error naming the file.
    pub fn select(&self, names: &[String]) -> anyhow::Result<Vec<&Job>> {
        if names.is_empty() {
            return Ok(self.jobs.iter().collect());
        }
        names
            .iter()
            .map(|n| {
                self.jobs.iter().find(|j| j.name == *n).with_context(|| {
                    let known: Vec<&str> = self.jobs.iter().map(|j| j.name.as_str()).collect();
                    format!(
                        "{}: job.{n}: no such job; the file has: {}",
                        self.path.display(),
                        known.join(", ")
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        format!(
            "{:#}",
            parse(text, Path::new("jobs.toml")).expect_err("refused")
        )
    }

    #[test]
    fn cron_takes_five_or_six_fields() {
        assert!(parse_cron("0 */6 * * *").is_ok());
        assert!(parse_cron("*/2 * * * * *").is_ok());
        assert!(parse_cron("* * * *").expect_err("4").contains("4 fields"));
        assert!(parse_cron("* * * * * * 2026").is_err());
        assert!(parse_cron("61 * * * *").is_err());
        let every_two = parse_cron("*/2 * * * * *").expect("cron");
        let t = chrono::DateTime::parse_from_rfc3339("2026-12-02T06:00:01Z")
            .expect("time")
            .to_utc();
        let next = every_two.next_after(t).expect("next");
        assert_eq!(next.to_rfc3339(), "2026-12-02T06:00:02+00:00");
    }

    #[test]
    fn errors_name_the_file_job_and_key() {
        let e = error("[job.docs]\ncrawl = { seeds = [\"http://a.test/\"], max_dept = 3 }\n");
        assert!(
            e.starts_with(
                "jobs.toml: job.docs.crawl.max_dept: unknown key (did you mean `max_depth`?)"
            ),
            "{e}"
        );
        let e = error(
            "[job.docs]\nschedul = \"* * * * *\"\ncrawl = { seeds = [\"http://a.test/\"] }\n",
        );
        assert!(
            e.starts_with("jobs.toml: job.docs.schedul: unknown key"),
            "{e}"
        );
        let e = error(
            "[job.docs]\nschedule = \"every day\"\ncrawl = { seeds = [\"http://a.test/\"] }\n",
        );
        assert!(e.starts_with("jobs.toml: job.docs.schedule: "), "{e}");
        let e = error(
            "[job.docs]\ncrawl = { seeds = [\"http://a.test/\"] }\napi = { url = \"http://a.test/\" }\n",
        );
        assert!(
            e.contains("jobs.toml: job.docs.crawl: a job runs either crawl or api"),
            "{e}"
        );
        let e = error("[job.docs]\nkeep = 2\n");
        assert!(e.contains("jobs.toml: job.docs.crawl: missing"), "{e}");
        let e = error("[job.docs]\nkeep = 0\ncrawl = { seeds = [\"http://a.test/\"] }\n");
        assert!(e.starts_with("jobs.toml: job.docs.keep"), "{e}");
        let e = error("[job.docs]\ncrawl = { max_depth = 1 }\n");
        assert!(
            e.contains("jobs.toml: job.docs.crawl") && e.contains("seeds"),
            "{e}"
        );
        let e = error("[job.docs]\ncrawl = { seeds = [\"not a url\"] }\n");
        assert!(e.contains("jobs.toml: job.docs.crawl.seeds"), "{e}");
        let e = error("[job.docs]\napi = { url = \"http://a.test/\", paginate = \"cursor\" }\n");
        assert!(e.contains("job.docs.api"), "{e}");
        let e = error("[job.\"a b\"]\ncrawl = { seeds = [\"http://a.test/\"] }\n");
        assert!(e.contains("job.a b: use letters"), "{e}");
        let e = error("jobs = 1\n");
        assert!(e.contains("unknown key `jobs`"), "{e}");
    }

    #[test]
    fn unknown_job_names_are_refused_with_the_known_ones() {
        let file = parse(
            "[job.docs]\ncrawl = { seeds = [\"http://a.test/\"] }\n[job.items]\napi = { url = \"http://a.test/items\" }\n",
            Path::new("jobs.toml"),
        )
        .expect("valid");
        assert_eq!(file.select(&[]).expect("all").len(), 2);
        let e = file
            .select(&["nope".into()])
            .expect_err("unknown")
            .to_string();
        assert_eq!(
            e,
            "jobs.toml: job.nope: no such job; the file has: docs, items"
        );
        assert_eq!(file.jobs[1].kind.label(), "api");
    }

    #[test]
    fn the_shipped_example_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/jobs.toml");
        let file = load(&path).expect("config/jobs.toml is valid");
        let names: Vec<&str> = file.jobs.iter().map(|j| j.name.as_str()).collect();
        assert_eq!(names, ["docs", "issues", "shop"]);
        assert!(
            file.jobs
                .iter()
                .all(|j| j.schedule.is_some() || j.name == "shop")
        );
        assert!(matches!(file.jobs[2].kind, Kind::Crawl(_)));
    }
}
