//! Named batch jobs: a jobs file of `[job.NAME]` tables (`file`), each run
//! into `OUTPUT/JOB/RUN-ID/` (`runs`) under a per-job lock (`lock`),
//! once (`run`), on cron times (`schedule`, its `--metrics` in `metrics`), or
//! listed (`list`). The three
//! commands and their flags live in `command`.

pub mod command;
pub mod file;
pub mod list;
pub mod lock;
pub mod metrics;
pub mod run;
pub mod runs;
pub mod schedule;
pub mod since;
