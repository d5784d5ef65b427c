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
  2    bad flags or config file; nothing requested
  130  interrupted by Ctrl-C (records so far kept; --resume continues)
  143  stopped by SIGTERM (as the first Ctrl-C, then exit 143)";

pub const DEMO_EXIT_CODES: &str = "\
Exit codes:
  0    done, every page fetched
  1    done, but some pages failed
  2    bad flags
  130  interrupted by Ctrl-C (output completed; a second Ctrl-C quits at
       once)";

/// `completions` and `man` only print.
pub const PRINT_EXIT_CODES: &str = "\
Exit codes:
  0    printed
  1    standard output could not be written
  2    bad flags, or an unknown command for man";
