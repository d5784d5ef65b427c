//! Where a pull's records and progress go: the JSONL output (a `.part`
//! file, or standard output) and the state file, checkpointed together
//! after each page so that `--resume` continues exactly where the last
//! durable page ended.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::Value;
use url::Url;

use super::settings::{Output, PullSettings};
use super::state::{self, PullState};
use super::{Pointer, Strategy, with_query_param};
use crate::sink::jsonl::{self, Framing, JsonlWriter};
use crate::sink::part_file;

enum Sink {
    File(JsonlWriter),
    /// Standard output; the buffer holds one encoded line.
    Stdout(Vec<u8>),
}

pub struct Recorder {
    sink: Sink,
    /// The state file and its contents; `None` when writing to stdout.
    state: Option<(PathBuf, PullState)>,
    since_field: Option<Pointer>,
    /// Added to every record object as `"_parent": value` (child resources).
    tag: Option<Value>,
    /// JSON lines, or one JSON array; counts the records in the output
    /// so far (this run and any it resumes).
    framing: Framing,
}

/// Where a pull starts: the first request and what earlier runs did.
pub struct Start {
    pub url: Url,
    pub strategy: Option<Strategy>,
    pub pages: u64,
    pub records: u64,
    /// Pages at once, when a resumed pull keeps the stopped one's.
    pub concurrency: Option<usize>,
    /// Nothing left to fetch: the resumed pull had already written its last page.
    pub done: bool,
}

/// A run without `--resume` found a stopped pull's `.part` and state: it
/// neither continues nor silently replaces them (exit 2).
#[derive(Debug, thiserror::Error)]
#[error(
    "{part} and {state} hold a pull that stopped before it was complete; \
     run with --resume to continue it, or with --overwrite to start over"
)]
pub struct Unfinished {
    part: String,
    state: String,
}

/// [`Unfinished`] when `part` and an unfinished state are there.
fn refuse_unfinished(part: &Path, state: &Path, prior: Option<&PullState>) -> anyhow::Result<()> {
    if part.exists() && prior.is_some_and(|p| !p.finished) {
        return Err(Unfinished {
            part: part.display().to_string(),
            state: state.display().to_string(),
        }
        .into());
    }
    Ok(())
}

/// Checks before anything is fetched that a pull without `--resume` or
/// `--overwrite` finds no stopped pull in its way (a config file's
/// resources are all checked before the first is pulled).
pub fn check_start(settings: &PullSettings) -> anyhow::Result<()> {
    match &settings.output {
        Output::File(path) if !settings.resume && !settings.overwrite => {
            let state_path = state::state_path(path);
            let prior = state::load(&state_path)?;
            refuse_unfinished(&part_file::part_path(path), &state_path, prior.as_ref())
        }
        _ => Ok(()),
    }
}

/// Where an incremental pull continues FILE: the records it holds and the
/// length to cut it back to (a JSON array loses its closing `]`).
fn appending(path: &Path, array: bool, kept: u64) -> anyhow::Result<(u64, u64)> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("could not read {}", path.display()))?
        .len();
    if !array {
        return Ok((kept, len));
    }
    let mut tail = Vec::new();
    {
        use std::io::{Read as _, Seek as _, SeekFrom};
        let mut f = std::fs::File::open(path)
            .with_context(|| format!("could not read {}", path.display()))?;
        f.seek(SeekFrom::Start(len.saturating_sub(3)))?;
        f.read_to_end(&mut tail)?;
    }
    match tail.as_slice() {
        b"[]\n" => Ok((0, len - 3)),
        [.., b']', b'\n'] if kept > 0 => Ok((kept, len - 2)),
        _ => bail!(
            "{} does not end as a JSON array collector closed; move it away to pull again",
            path.display()
        ),
    }
}

fn as_param(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Recorder {
    /// Opens the output for a new pull, or for `--resume` of a stopped one.
    pub fn open(settings: &PullSettings) -> anyhow::Result<(Self, Start)> {
        let since_field = settings.since.as_ref().map(|s| s.field.clone());
        let path = match &settings.output {
            Output::Stdout => {
                if settings.resume {
                    bail!(
                        "--resume needs --out FILE: there is nothing to continue on standard output"
                    );
                }
                let sink = Sink::Stdout(Vec::with_capacity(1024));
                let start = Start {
                    url: settings.url.clone(),
                    strategy: settings.strategy.clone(),
                    pages: 0,
                    records: 0,
                    concurrency: None,
                    done: false,
                };
                return Ok((
                    Self {
                        sink,
                        state: None,
                        since_field,
                        tag: settings.tag.clone(),
                        framing: Framing {
                            array: settings.json_array,
                            written: 0,
                        },
                    },
                    start,
                ));
            }
            Output::File(path) => path,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
        }
        let state_path = state::state_path(path);
        let part = part_file::part_path(path);
        let mut prior = state::load(&state_path)?;
        if let Some(p) = &prior
            && p.finished
            && std::fs::metadata(&part).is_ok_and(|m| m.len() == p.bytes)
        {
            // The state says complete but the rename did not happen (a
            // crash between the two): the state is the commit point.
            std::fs::rename(&part, path)
                .with_context(|| format!("could not rename {} into place", part.display()))?;
        }
        if settings.resume {
            return Self::resume(settings, path, state_path, prior, since_field);
        }
        if settings.overwrite {
            for file in [&part, &state_path] {
                match std::fs::remove_file(file) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(e).with_context(|| {
                            format!("--overwrite: could not remove {}", file.display())
                        });
                    }
                    _ => {}
                }
            }
            prior = None;
        }
        refuse_unfinished(&part, &state_path, prior.as_ref())?;
        let mut url = settings.url.clone();
        let since = prior
            .as_ref()
            .and_then(|p| p.since.clone())
            .or_else(|| settings.since.as_ref().and_then(|s| s.from.clone()));
        if let (Some(s), Some(value)) = (&settings.since, since.as_ref().and_then(as_param)) {
            // An incremental run asks only for what is newer than last time.
            url = with_query_param(&url, &s.param, &value);
        }
        // An incremental pull appends to what the earlier pulls wrote, when
        // it asks only for what is newer (a high-water mark was kept);
        // without one it pulls everything, which replaces FILE.
        let append = match &prior {
            Some(p)
                if settings.since.is_some() && p.since.is_some() && p.finished && path.exists() =>
            {
                // A `.part` beside a finished state was never checkpointed.
                if part.exists() {
                    std::fs::remove_file(&part)
                        .with_context(|| format!("could not remove {}", part.display()))?;
                }
                Some(appending(path, settings.json_array, p.kept + p.records)?)
            }
            _ => None,
        };
        let (kept, at) = append.map_or((0, None), |(kept, at)| (kept, Some(at)));
        let sink = Sink::File(
            JsonlWriter::open(path, at)
                .with_context(|| format!("could not write {}", path.display()))?,
        );
        let state = PullState {
            url: settings.url.to_string(),
            strategy: settings.strategy.clone(),
            next: Some(url.to_string()),
            since,
            kept,
            bytes: at.unwrap_or(0),
            concurrency: Some(settings.concurrency),
            ..PullState::default()
        };
        if at.is_some() {
            // FILE is now FILE.part: say so at once, so that a stop from
            // here on resumes (or is refused without --resume).
            state::save(&state_path, &state)?;
        }
        let start = Start {
            url,
            strategy: settings.strategy.clone(),
            pages: 0,
            records: 0,
            concurrency: None,
            done: false,
        };
        Ok((
            Self {
                sink,
                state: Some((state_path, state)),
                since_field,
                tag: settings.tag.clone(),
                framing: Framing {
                    array: settings.json_array,
                    written: kept,
                },
            },
            start,
        ))
    }

    fn resume(
        settings: &PullSettings,
        path: &Path,
        state_path: PathBuf,
        prior: Option<PullState>,
        since_field: Option<Pointer>,
    ) -> anyhow::Result<(Self, Start)> {
        let Some(prior) = prior else {
            bail!("--resume: no {} to resume from", state_path.display());
        };
        if prior.url != settings.url.as_str() {
            bail!(
                "--resume: {} belongs to a pull of {}, not {}",
                state_path.display(),
                prior.url,
                settings.url
            );
        }
        if prior.finished {
            bail!(
                "--resume: the pull into {} already finished; run without --resume to pull again",
                path.display()
            );
        }
        let writer = JsonlWriter::resume(path, prior.bytes)
            .with_context(|| format!("--resume: could not reopen {}.part", path.display()))?;
        let url = match &prior.next {
            Some(next) => Url::parse(next)
                .with_context(|| format!("{} holds a bad next URL", state_path.display()))?,
            None => settings.url.clone(),
        };
        let written = prior.kept + prior.records;
        let mut prior = prior;
        if settings.concurrency_given || prior.concurrency.is_none() {
            prior.concurrency = Some(settings.concurrency);
        }
        let start = Start {
            url,
            strategy: prior.strategy.clone().or_else(|| settings.strategy.clone()),
            pages: prior.pages,
            records: prior.records,
            concurrency: prior.concurrency,
            done: prior.next.is_none(),
        };
        Ok((
            Self {
                sink: Sink::File(writer),
                state: Some((state_path, prior)),
                since_field,
                tag: settings.tag.clone(),
                framing: Framing {
                    array: settings.json_array,
                    written,
                },
            },
            start,
        ))
    }

    /// Writes one page's records.
    pub fn write(&mut self, records: &[Value]) -> anyhow::Result<()> {
        for record in records {
            let tagged;
            let record = match (&self.tag, record) {
                (Some(tag), Value::Object(fields)) => {
                    let mut fields = fields.clone();
                    fields.insert("_parent".to_string(), tag.clone());
                    tagged = Value::Object(fields);
                    &tagged
                }
                _ => record,
            };
            let prefix = self.framing.prefix();
            match &mut self.sink {
                Sink::File(w) => w.write_after(prefix, record),
                Sink::Stdout(buf) => {
                    jsonl::write_stdout(buf, prefix, record).map_err(crate::sink::on_stdout)
                }
            }
            .context("could not write a record")?;
            if let (Some(field), Some((_, state))) = (&self.since_field, &mut self.state)
                && let Some(value) = field.get(record)
                && state::is_later(value, state.since.as_ref())
            {
                state.since = Some(value.clone());
            }
        }
        Ok(())
    }

    /// Makes the records written so far durable and records where to go on.
    pub fn checkpoint(
        &mut self,
        strategy: Option<&Strategy>,
        next: Option<&Url>,
        pages: u64,
        records: u64,
    ) -> anyhow::Result<()> {
        let bytes = match &mut self.sink {
            Sink::File(w) => w.checkpoint().context("could not flush the output")?,
            // Each line was flushed as it was written.
            Sink::Stdout(_) => 0,
        };
        if let Some((path, state)) = &mut self.state {
            state.strategy = strategy.cloned();
            state.next = next.map(Url::to_string);
            state.pages = pages;
            state.records = records;
            state.bytes = bytes;
            state::save(path, state)?;
        }
        Ok(())
    }

    /// Ends the pull. A complete pull renames its output to the final name;
    /// an incomplete one keeps `FILE.part` for `--resume`.
    pub fn finish(self, complete: bool) -> anyhow::Result<()> {
        // The array is closed only when complete: a `.part` left for
        // --resume must stay open for the records still to come.
        let closing = self.framing.closing();
        match self.sink {
            Sink::Stdout(_) => {
                if complete {
                    let mut out = std::io::stdout().lock();
                    out.write_all(closing)
                        .and_then(|()| out.flush())
                        .map_err(crate::sink::on_stdout)
                        .context("could not write to standard output")?;
                }
                Ok(())
            }
            Sink::File(mut w) => {
                if complete {
                    w.write_raw(closing)
                        .context("could not finish the output")?;
                }
                let bytes = w.checkpoint().context("could not flush the output")?;
                if let Some((path, mut state)) = self.state {
                    state.finished = complete;
                    state.bytes = bytes;
                    if complete {
                        state.next = None;
                    }
                    // Saved before the rename: a finished state with its
                    // `.part` still there is renamed by the next open.
                    state::save(&path, &state)?;
                }
                if complete {
                    w.commit().context("could not finish the output")?;
                }
                Ok(())
            }
        }
    }
}
