//! What the binary says about itself: `--version`, the exit codes that end
//! every command's `--help`, `collector completions` and `collector man`.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::binary::{collector, stderr};

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

fn run_ok(args: &[&str]) -> String {
    let o = collector(args, Path::new(env!("CARGO_MANIFEST_DIR")));
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// The commit the tests were built from, as the build script saw it.
fn git_short_head() -> Option<String> {
    let o = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    let head = String::from_utf8(o.stdout).ok()?.trim().to_owned();
    (o.status.success() && !head.is_empty()).then_some(head)
}

#[test]
fn version_names_the_commit_and_build_date_in_a_checkout() {
    let printed = run_ok(&["--version"]);
    let version = env!("CARGO_PKG_VERSION");
    let Some(head) = git_short_head() else {
        assert_eq!(printed, format!("collector {version}\n"));
        return;
    };
    let rest = printed
        .strip_prefix(&format!("collector {version} ("))
        .and_then(|r| r.strip_suffix(")\n"))
        .unwrap_or_else(|| panic!("{printed:?}"));
    let (commit, date) = rest
        .split_once(' ')
        .unwrap_or_else(|| panic!("{printed:?}"));
    assert_eq!(commit, head);
    let parts: Vec<&str> = date.split('-').collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [4, 2, 2],
        "{date}"
    );
    assert!(
        date.bytes().all(|b| b.is_ascii_digit() || b == b'-'),
        "{date}"
    );
    let month: u32 = parts[1].parse().expect("month");
    let day: u32 = parts[2].parse().expect("day");
    assert!(
        (1..=12).contains(&month) && (1..=31).contains(&day),
        "{date}"
    );
}

/// The codes listed in the `Exit codes:` section that must close `help`.
fn closing_exit_codes(help: &str) -> Vec<u16> {
    let (_, section) = help
        .rsplit_once("\nExit codes:\n")
        .unwrap_or_else(|| panic!("no exit codes section:\n{help}"));
    let mut codes = Vec::new();
    for line in section.lines() {
        assert!(
            line.starts_with("  "),
            "not part of the exit codes: {line:?}\n{help}"
        );
        let first = line.split_whitespace().next().unwrap_or_default();
        if let Ok(code) = first.parse() {
            codes.push(code);
        }
    }
    codes
}

#[test]
fn every_commands_help_ends_with_its_exit_codes() {
    let interrupted = [0, 1, 2, 130];
    let with_sigterm = [0, 1, 2, 130, 143];
    let no_interrupt = [0, 1, 2];
    let cases: &[(&[&str], &[u16])] = &[
        (&["crawl"], &with_sigterm),
        (&["fetch"], &interrupted),
        (&["api"], &with_sigterm),
        (&["demo"], &interrupted),
        (&["tcp"], &interrupted),
        (&["tcp", "serve"], &no_interrupt),
        (&["tcp", "send"], &interrupted),
        (&["tcp", "check"], &interrupted),
        (&["udp"], &interrupted),
        (&["udp", "serve"], &no_interrupt),
        (&["udp", "send"], &interrupted),
        (&["daytime"], &interrupted),
        (&["daytime", "serve"], &no_interrupt),
        (&["daytime", "get"], &interrupted),
        (&["run"], &[0, 1, 2, 75, 130, 143]),
        (&["schedule"], &[0, 1, 2]),
        (&["jobs"], &no_interrupt),
        (&["completions"], &no_interrupt),
        (&["man"], &no_interrupt),
    ];
    for (command, expected) in cases {
        for flag in ["--help", "-h"] {
            let mut args = command.to_vec();
            args.push(flag);
            let help = run_ok(&args);
            assert_eq!(&closing_exit_codes(&help), expected, "{args:?}");
        }
    }
    let crawl = run_ok(&["crawl", "--help"]);
    assert!(
        crawl.contains("143  stopped by SIGTERM (as the first Ctrl-C, then exit 143)"),
        "{crawl}"
    );
}

#[test]
fn bash_completion_completes_commands_and_crawl_flags() {
    let script = run_ok(&["completions", "bash"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("collector.bash");
    std::fs::write(&path, script).expect("write script");
    // bash calls the function with the command, the word and the one before.
    let complete = |words: &str, cword: usize, current: &str, previous: &str| {
        let o = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {:?} && COMP_WORDS=({words}) && COMP_CWORD={cword} && \
                 _collector collector {current} {previous} && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                path
            ))
            .output()
            .expect("bash runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        stdout(&o).lines().map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(complete("collector cr", 1, "cr", "collector"), ["crawl"]);
    assert_eq!(
        complete("collector crawl --max-d", 2, "--max-d", "crawl"),
        ["--max-depth"]
    );
    let tcp = complete("collector tcp ''", 2, "''", "tcp");
    for sub in ["serve", "send", "check"] {
        assert!(tcp.iter().any(|w| w == sub), "{tcp:?}");
    }
}

#[test]
fn completions_exist_for_every_shell_and_name_the_commands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = run_ok(&["completions", shell]);
        assert!(
            script.contains("crawl") && script.contains("max-depth"),
            "{shell}"
        );
    }
    let o = collector(&["completions", "csh"], Path::new("."));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("possible values"), "{}", stderr(&o));
}

/// `groff -man` renders the page; warnings (with `-ww`, all of them) go
/// to standard error, which must stay empty.
fn render_man(page: &str) -> String {
    use std::io::Write as _;
    let mut groff = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("groff runs (Debian package groff-base)");
    groff
        .stdin
        .take()
        .expect("stdin")
        .write_all(page.as_bytes())
        .expect("write page");
    let o = groff.wait_with_output().expect("groff ends");
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stderr), "", "groff warned");
    // Bold and underline are overstruck characters (`c\bc`): drop them.
    let text = String::from_utf8_lossy(&o.stdout);
    let mut plain = String::new();
    for c in text.chars() {
        if c == '\u{8}' {
            plain.pop();
        } else {
            plain.push(c);
        }
    }
    plain
}

#[test]
fn man_page_renders_without_warnings_and_lists_the_commands() {
    let page = render_man(&run_ok(&["man"]));
    for section in ["NAME", "SYNOPSIS", "SUBCOMMANDS", "VERSION"] {
        assert!(page.contains(section), "{section}:\n{page}");
    }
    for command in [
        "crawl",
        "fetch",
        "api",
        "demo",
        "tcp",
        "udp",
        "daytime",
        "completions",
    ] {
        assert!(
            page.contains(&format!("collector-{command}(1)")),
            "{command}:\n{page}"
        );
    }

    let crawl = render_man(&run_ok(&["man", "crawl"]));
    assert!(crawl.contains("--max-depth"), "{crawl}");
    let status = crawl
        .split("EXIT STATUS")
        .nth(1)
        .expect("EXIT STATUS section");
    for code in ["0", "1", "2", "130", "143"] {
        assert!(
            status
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{code} "))),
            "{code}:\n{status}"
        );
    }
    let serve = render_man(&run_ok(&["man", "tcp", "serve"]));
    assert!(serve.contains("--max-conns"), "{serve}");

    let o = collector(&["man", "crawl", "deeper"], Path::new("."));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("\"deeper\""), "{}", stderr(&o));
}
