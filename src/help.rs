//! The exit-code sections that end the `--help` of `crawl`, `fetch`, `api`
//! and `demo` (the network tools keep theirs in `net::args`). The codes
//! themselves are chosen in `main.rs`; README.md has the same tables.

pub const CRAWL_EXIT_CODES: &str = "\
Exit codes:
  0    done, no URL failed
  1    done, but some URLs failed (transport error, timeout, too large,
       redirect error, 5xx after retries)
  2    bad input or config (the message names the file and line, option
       or key); nothing fetched
  130  interrupted by Ctrl-C: in-flight requests finish (10 s at most),
       output is completed and summary.json written; a second Ctrl-C
       quits at once
  143  stopped by SIGTERM (as the first Ctrl-C, then exit 143)";

pub const STATUS_EXIT_CODES: &str = "\
Exit codes:
  0    the job's status was printed
  1    Redis answered with an error
  2    bad flags, Redis unreachable, or no worker has joined the job";

pub const EXPORT_EXIT_CODES: &str = "\
Exit codes:
  0    every record committed so far (with --follow: until the job
       finished) is in the output
  1    the output could not be written, or Redis answered with an error
  2    bad flags or Redis unreachable; nothing written
  130  interrupted by Ctrl-C (the output is complete up to that point)";

pub const FETCH_EXIT_CODES: &str = "\
Exit codes:
  0    a response was received and used, whatever its status (a 404 is a
       page)
  1    the report has an error (transport failure, 5xx or 429 after
       retries, robots.txt denial, a redirect refused)
  2    bad flags, URL or config; nothing requested
  130  interrupted by Ctrl-C";

pub const API_EXIT_CODES: &str = "\
Exit codes:
  0    complete
  1    stopped by an error (records so far kept; --resume continues)
  2    bad flags or config file, or a stopped pull's FILE.part and state in the
       way (--resume or --overwrite); nothing requested
  130  interrupted by Ctrl-C (records so far kept; --resume continues)
  143  stopped by SIGTERM (as the first Ctrl-C, then exit 143)";

pub const DEMO_EXIT_CODES: &str = "\
Exit codes:
  0    done, every page fetched
  1    done, but some pages failed
  2    bad flags
  130  interrupted by Ctrl-C (output completed; a second Ctrl-C quits at
       once)";

pub const RUN_EXIT_CODES: &str = "\
Exit codes:
  (the worst of the jobs run)
  0    every job done
  1    some job failed (failed pages, a pull stopped by an error)
  2    bad jobs file (the message names FILE: job.NAME.key) or an unknown
       --job; nothing run
  75   a job is already running (its lock names the holder's pid); that
       job was not run
  130  interrupted by Ctrl-C: running jobs stop cleanly, their runs are
       left incomplete and resume at the next start
  143  stopped by SIGTERM (as the first Ctrl-C, then exit 143)";

pub const SCHEDULE_EXIT_CODES: &str = "\
Cron times are in UTC: 5 fields (minute hour day month weekday) or 6 with
seconds first. A start that falls while the job still runs is skipped.

Exit codes:
  0    stopped by SIGTERM or Ctrl-C, after the running jobs stopped
       cleanly (their runs resume at their next start)
  1    --metrics ADDR could not be served
  2    bad jobs file (the message names FILE: job.NAME.key) or --metrics
       address; nothing run";

/// `completions`, `man` and `jobs` only print.
pub const PRINT_EXIT_CODES: &str = "\
Exit codes:
  0    printed
  1    standard output could not be written
  2    bad flags, or an unknown command for man";
