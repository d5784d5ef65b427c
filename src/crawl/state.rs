//! A resumable crawl's state directory (`--state DIR`): opens the on-disk
//! frontier for these seeds and scope, and checks that the output a
//! checkpoint describes is the output this run writes. `--fresh` starts
//! over in the same directory; `--recrawl` crawls a finished crawl again
//! into a new output (`recrawl.rs`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::crawl::settings::{CrawlSettings, StateDir};
use crate::frontier::disk::STATE_FILE;
use crate::frontier::{DiskFrontier, Frontier, FrontierError};
use crate::sink::SKIPPED_FILE;
use crate::sink::commit::Checkpoint;

/// The state cannot be used for this crawl: bad input, not a failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// A state opened for a run.
pub struct Opened {
    pub frontier: Arc<dyn Frontier>,
    /// The last checkpoint, when the state holds a crawl already begun.
    pub resume: Option<Checkpoint>,
}

/// Opens (or creates) the state for `settings`, whose output goes to `out`.
pub fn open(settings: &CrawlSettings, state: &StateDir, out: &Path) -> anyhow::Result<Opened> {
    let dir = &state.dir;
    if state.fresh {
        remove_store(dir)?;
    }
    let identity = identity(settings);
    let open = || DiskFrontier::open(dir, identity.as_bytes(), settings.limits);
    let (mut frontier, resume) = match open() {
        Ok(opened) => opened,
        Err(FrontierError::OtherCrawl(_)) if state.replace_other => {
            tracing::warn!(
                state = %dir.display(),
                "the seeds or scope changed since the state in {} was made: starting it over",
                dir.display()
            );
            remove_store(dir)?;
            open()?
        }
        Err(FrontierError::OtherCrawl(_)) => {
            return Err(Refused(format!(
                "--state {} holds a crawl of other seeds or scope; --fresh starts this crawl \
                 over in it, or give another --state directory",
                dir.display()
            ))
            .into());
        }
        Err(e) => return Err(e.into()),
    };
    let mut resume = match resume.positions {
        None => None,
        Some(bytes) => Some(
            Checkpoint::from_bytes(&bytes)
                .map_err(|e| anyhow::anyhow!("{}: {e}", dir.join(STATE_FILE).display()))?,
        ),
    };
    match &resume {
        Some(last) if state.recrawl && last.complete => {
            if last.out == out {
                return Err(Refused(format!(
                    "--recrawl writes a new output, and the crawl in --state {} wrote to {};                      give another --out",
                    dir.display(),
                    out.display()
                ))
                .into());
            }
            let (again, queued) = frontier.recrawl()?;
            tracing::info!(
                state = %dir.display(),
                pages = queued.queued,
                "recrawling the {} pages of the last crawl",
                queued.queued
            );
            frontier = again;
            resume = None;
        }
        Some(last) => {
            if state.recrawl {
                tracing::warn!(
                    state = %dir.display(),
                    "the last crawl in {} did not finish: resuming it; --recrawl starts                      once it has",
                    dir.display()
                );
            }
            check_output(last, settings, dir, out)?;
        }
        None => {}
    }
    Ok(Opened {
        frontier: Arc::new(frontier),
        resume,
    })
}

/// A resumed crawl writes on where the last run stopped: the same
/// directory, the same formats.
fn check_output(
    checkpoint: &Checkpoint,
    settings: &CrawlSettings,
    dir: &Path,
    out: &Path,
) -> Result<(), Refused> {
    if checkpoint.out != out {
        return Err(Refused(format!(
            "--state {} holds a crawl writing to {}, not {}; give --out {} to resume it, \
             or --fresh to start over",
            dir.display(),
            checkpoint.out.display(),
            out.display(),
            checkpoint.out.display()
        )));
    }
    let mut before: Vec<&str> = checkpoint
        .files
        .keys()
        .map(String::as_str)
        .filter(|f| *f != SKIPPED_FILE)
        .collect();
    let mut now: Vec<&str> = settings
        .output
        .formats
        .iter()
        .map(|f| f.file_name())
        .collect();
    before.sort_unstable();
    now.sort_unstable();
    if before != now {
        return Err(Refused(format!(
            "--state {} holds a crawl writing {}, and this run asks for {}; give the same \
             --format to resume it, or --fresh to start over",
            dir.display(),
            before.join(", "),
            now.join(", ")
        )));
    }
    Ok(())
}

/// Deletes the store (and SQLite's side files) so that the crawl starts over.
fn remove_store(dir: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let path = PathBuf::from(format!("{}{suffix}", dir.join(STATE_FILE).display()));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => anyhow::bail!("--fresh: could not remove {}: {e}", path.display()),
        }
    }
    Ok(())
}

/// What makes two crawls the same crawl: seeds, sitemaps, scope, depth
/// limit and URL policy. Readable text, stored as the store's identity.
/// Budgets, rates and output may change between runs.
pub fn identity(settings: &CrawlSettings) -> String {
    let mut lines = vec!["collector crawl state 1".to_string()];
    let mut seeds: Vec<&str> = settings.seeds.iter().map(|u| u.as_str()).collect();
    seeds.sort_unstable();
    seeds.dedup();
    lines.extend(seeds.iter().map(|s| format!("seed {s}")));
    let mut sitemaps: Vec<&str> = settings.sitemaps.iter().map(|u| u.as_str()).collect();
    sitemaps.sort_unstable();
    lines.extend(sitemaps.iter().map(|s| format!("sitemap {s}")));
    lines.push(scope_identity(settings));
    lines.join("\n")
}

/// The part of [`identity`] that is not seeds: what the workers of a
/// shared crawl must agree on (each may bring its own seeds). The allowed
/// domains are `domain NAME` lines.
pub fn scope_identity(settings: &CrawlSettings) -> String {
    let scope = &settings.scope;
    let mut lines: Vec<String> = scope
        .domains
        .iter()
        .map(|d| format!("domain {d}"))
        .collect();
    lines.push(format!("subdomains {}", scope.subdomains));
    lines.extend(
        scope
            .include
            .iter()
            .map(|r| format!("include {}", r.as_str())),
    );
    lines.extend(
        scope
            .exclude
            .iter()
            .map(|r| format!("exclude {}", r.as_str())),
    );
    lines.push(format!("max_depth {:?}", settings.limits.max_depth));
    lines.push(format!("query {:?}", settings.query));
    lines.push(format!("robots {}", settings.respect_robots));
    lines.push(format!("follow_nofollow {}", settings.follow_nofollow));
    lines.join("\n")
}
