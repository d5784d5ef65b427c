//! Settings from `COLLECTOR_<KEY>` variables, through the binary: for a
//! key of each type (string, list, bool, integer, seconds) the command
//! line beats the environment, the environment beats the config file, the
//! file beats the default; errors name the variable; `COLLECTOR_CONFIG`
//! names the config file when `--config` is not given. Everything runs
//! against servers on 127.0.0.1 started here.

mod support;
mod support_api;

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;

use support::binary::{collector_env, collector_env_async, owned, stderr, summary_json, write};
use support::{Server, html_with_links, pages};

/// `collector ARGS` in `cwd` with exactly the variables in `env`.
fn run(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Output {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    collector_env(&owned(args), &env, cwd)
}

/// One key set in some of the three layers.
struct Layers<'a> {
    flag: Option<&'a [&'a str]>,
    env: Option<(&'a str, &'a str)>,
    file: Option<&'a str>,
}

/// The four cases every key is checked in: all layers set (the flag
/// wins), env and file (env wins), file alone, none (the default).
fn cases<'a>(
    flag: &'a [&'a str],
    env: (&'a str, &'a str),
    file: &'a str,
) -> [(&'static str, Layers<'a>); 4] {
    [
        (
            "flag",
            Layers {
                flag: Some(flag),
                env: Some(env),
                file: Some(file),
            },
        ),
        (
            "env",
            Layers {
                flag: None,
                env: Some(env),
                file: Some(file),
            },
        ),
        (
            "file",
            Layers {
                flag: None,
                env: None,
                file: Some(file),
            },
        ),
        (
            "default",
            Layers {
                flag: None,
                env: None,
                file: None,
            },
        ),
    ]
}

/// `base` with `layers` applied in `dir`: the file layer written as
/// `dir/c.toml` after `file_head` (named with `--config` when `base` does
/// not name it), the flags appended, the variable set.
fn apply(
    base: &[&str],
    layers: &Layers<'_>,
    dir: &Path,
    file_head: Option<&str>,
) -> (Vec<String>, Vec<(String, String)>) {
    let mut args = owned(base);
    if file_head.is_some() || layers.file.is_some() {
        let text = format!(
            "{}\n{}\n",
            file_head.unwrap_or(""),
            layers.file.unwrap_or("")
        );
        write(dir, "c.toml", &text);
        if !base.contains(&"c.toml") {
            args.extend(owned(&["--config", "c.toml"]));
        }
    }
    args.extend(owned(layers.flag.unwrap_or_default()));
    let env = layers
        .env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (args, env)
}

/// `collector fetch URL` with the layers applied, in a fresh folder.
async fn fetch_with(url: &str, layers: &Layers<'_>) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let (args, env) = apply(&["fetch", url], layers, dir.path(), None);
    let o = collector_env_async(args, env, dir.path()).await;
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

async fn site() -> Server {
    let links: Vec<String> = (1..=4).map(|i| format!("/p{i}")).collect();
    let mut map = HashMap::new();
    map.insert("/".to_string(), html_with_links("home", &links));
    for l in &links {
        map.insert(l.clone(), html_with_links(l, &[]));
    }
    Server::start("127.0.0.1", pages(map)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_string_key_user_agent() {
    let server = site().await;
    for (winner, layers) in cases(
        &["--user-agent", "ua-flag"],
        ("COLLECTOR_USER_AGENT", "ua-env"),
        "user_agent = \"ua-file\"",
    ) {
        let before = server.hits().len();
        fetch_with(&server.url("/"), &layers).await;
        let hit = server.hits()[before..]
            .iter()
            .find(|h| h.path == "/")
            .cloned()
            .expect("page requested");
        let want = match winner {
            "default" => "collector/",
            w => &format!("ua-{w}"),
        };
        assert!(
            hit.user_agent.starts_with(want),
            "{winner}: {}",
            hit.user_agent
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_key_header() {
    let server = site().await;
    for (winner, layers) in cases(
        &["--header", "X-Layer: flag"],
        ("COLLECTOR_HEADER", r#"["X-Layer: env", "X-Env: yes"]"#),
        "header = [\"X-Layer: file\"]",
    ) {
        let before = server.hits().len();
        fetch_with(&server.url("/"), &layers).await;
        let hits = server.hits();
        let hit = hits[before..]
            .iter()
            .find(|h| h.path == "/")
            .expect("page requested");
        let want = (winner != "default").then_some(winner);
        assert_eq!(hit.header("x-layer"), want, "{winner}");
        // A list is one value: the winning layer's list replaces the others.
        assert_eq!(hit.header("x-env").is_some(), winner == "env", "{winner}");
    }
    // A bare string is a one-item list.
    let before = server.hits().len();
    let layers = Layers {
        flag: None,
        env: Some(("COLLECTOR_HEADER", "X-Layer: bare")),
        file: None,
    };
    fetch_with(&server.url("/"), &layers).await;
    let hits = server.hits();
    let hit = hits[before..].iter().find(|h| h.path == "/").expect("page");
    assert_eq!(hit.header("x-layer"), Some("bare"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bool_key_ignore_robots() {
    let server = site().await;
    // Two values only, so each layer says the opposite of the one below it.
    let cases = [
        (
            Layers {
                flag: Some(&["--ignore-robots"]),
                env: Some(("COLLECTOR_IGNORE_ROBOTS", "false")),
                file: Some("ignore_robots = true"),
            },
            true,
        ),
        (
            Layers {
                flag: Some(&["--no-ignore-robots"]),
                env: Some(("COLLECTOR_IGNORE_ROBOTS", "true")),
                file: Some("ignore_robots = false"),
            },
            false,
        ),
        (
            Layers {
                flag: None,
                env: Some(("COLLECTOR_IGNORE_ROBOTS", "false")),
                file: Some("ignore_robots = true"),
            },
            false,
        ),
        (
            Layers {
                flag: None,
                env: Some(("COLLECTOR_IGNORE_ROBOTS", "true")),
                file: Some("ignore_robots = false"),
            },
            true,
        ),
        (
            Layers {
                flag: None,
                env: None,
                file: Some("ignore_robots = true"),
            },
            true,
        ),
        (
            Layers {
                flag: None,
                env: None,
                file: None,
            },
            false,
        ),
    ];
    for (i, (layers, ignored)) in cases.iter().enumerate() {
        let before = server.hits().len();
        fetch_with(&server.url("/"), layers).await;
        let robots = server.hits()[before..]
            .iter()
            .any(|h| h.path == "/robots.txt");
        assert_eq!(robots, !ignored, "case {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_integer_key_max_pages_in_a_crawl() {
    let server = site().await;
    let seed = server.url("/");
    for (winner, layers) in cases(
        &["--max-pages", "1"],
        ("COLLECTOR_MAX_PAGES", "2"),
        "max_pages = 3",
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = ["crawl", &seed, "--out", "out", "-q"];
        let (args, env) = apply(&base, &layers, dir.path(), None);
        let o = collector_env_async(args, env, dir.path()).await;
        assert!(o.status.success(), "{winner}: {}", stderr(&o));
        let pages = summary_json(&dir.path().join("out"))["pages"].clone();
        let want = match winner {
            "flag" => 1,
            "env" => 2,
            "file" => 3,
            _ => 5,
        };
        assert_eq!(pages, want, "{winner}");
    }
}

#[test]
fn a_seconds_key_timeout_names_the_layer_that_won() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "s.txt", "http://127.0.0.1:9/\n");
    write(dir.path(), "c.toml", "timeout = -1\n");
    let env = [("COLLECTOR_TIMEOUT", "-2")];
    let refused = |args: &[&str], env: &[(&str, &str)], want: &str| {
        let o = run(args, env, dir.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    };
    let crawl = ["crawl", seeds.as_str(), "--config", "c.toml", "-q"];
    refused(
        &[&crawl[..], &["--timeout", "-3"]].concat(),
        &env,
        "--timeout must be a positive number of seconds, got -3",
    );
    refused(
        &crawl,
        &env,
        "COLLECTOR_TIMEOUT must be a positive number of seconds, got -2",
    );
    refused(
        &crawl,
        &[],
        "c.toml: timeout must be a positive number of seconds, got -1",
    );
    // A good value above hides the bad ones below: the crawl runs (and
    // fails to connect to the closed port: exit 1, not 2).
    let o = run(
        &[&crawl[..], &["--timeout", "2", "--out", "out"]].concat(),
        &env,
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = run(
        &["crawl", seeds.as_str(), "-q", "--out", "out2"],
        &[("COLLECTOR_TIMEOUT", "0.5")],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn bad_values_name_the_variable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "s.txt", "http://127.0.0.1:9/\n");
    let cases = [
        (
            ("COLLECTOR_PER_HOST", "0"),
            "COLLECTOR_PER_HOST must be at least 1, got 0",
        ),
        (
            ("COLLECTOR_MAX_PAGES", "many"),
            "COLLECTOR_MAX_PAGES: expected an integer, got the string \"many\"",
        ),
        (
            ("COLLECTOR_COOKIES", "yes"),
            "COLLECTOR_COOKIES: expected a boolean, got the string \"yes\"",
        ),
        (
            ("COLLECTOR_EXCLUDE", "(unclosed"),
            "COLLECTOR_EXCLUDE \"(unclosed\" is not a valid regex",
        ),
        (
            ("COLLECTOR_OUTPUT_FORMAT", "xml"),
            "COLLECTOR_OUTPUT_FORMAT: unknown output format \"xml\"",
        ),
    ];
    for ((var, value), want) in cases {
        let o = run(&["crawl", &seeds, "-q"], &[(var, value)], dir.path());
        assert_eq!(o.status.code(), Some(2), "{var}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{var}: {}", stderr(&o));
    }
    let o = run(
        &["api", "http://127.0.0.1:9/items", "-q"],
        &[("COLLECTOR_CONCURRENCY", "0")],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("COLLECTOR_CONCURRENCY must be at least 1, got 0"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn collector_config_names_the_default_config_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(dir.path(), "s.txt", "http://127.0.0.1:9/\n");
    write(dir.path(), "env.toml", "per_host = 0\n");
    write(dir.path(), "flag.toml", "per_host = -5\n");
    let env = [("COLLECTOR_CONFIG", "env.toml")];
    let o = run(&["crawl", &seeds, "-q"], &env, dir.path());
    assert!(
        stderr(&o).contains("env.toml: per_host must be at least 1, got 0"),
        "{}",
        stderr(&o)
    );
    // --config wins over COLLECTOR_CONFIG.
    let o = run(
        &["crawl", &seeds, "-q", "--config", "flag.toml"],
        &env,
        dir.path(),
    );
    assert!(
        stderr(&o).contains("flag.toml: per_host must be at least 1, got -5"),
        "{}",
        stderr(&o)
    );
    let o = run(
        &["fetch", "http://127.0.0.1:9/"],
        &[("COLLECTOR_CONFIG", "missing.toml")],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("COLLECTOR_CONFIG=missing.toml: could not read config file"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_max_pages_flag_env_file_default() {
    let server = support_api::server().await;
    let url = server.url("/page");
    for (winner, layers) in cases(
        &["--max-pages", "1"],
        ("COLLECTOR_MAX_PAGES", "2"),
        "max_pages = 3",
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let head = format!("out_dir = \"out\"\nurl = \"{url}\"\npaginate = \"page\"");
        let (args, env) = apply(&["api", "c.toml", "-q"], &layers, dir.path(), Some(&head));
        let o = collector_env_async(args, env, dir.path()).await;
        assert!(o.status.success(), "{winner}: {}", stderr(&o));
        let summary: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("out/summary.json")).expect("summary"),
        )
        .expect("json");
        let pages = summary["resources"]["c"]["pages"].as_u64();
        let want = match winner {
            "flag" => 1,
            "env" => 2,
            "file" => 3,
            // Every page, then the empty one that ends the pull.
            _ => support_api::TOTAL.div_ceil(support_api::SIZE) + 1,
        };
        assert_eq!(pages, Some(want), "{winner}: {summary}");
    }
}
