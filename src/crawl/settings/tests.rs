use super::*;

fn seeds() -> Vec<Url> {
    vec![Url::parse("http://Example.com:8080/").expect("url")]
}

fn file(text: &str) -> anyhow::Result<Layered> {
    let path = Path::new("bad.toml");
    let options = CrawlOptions::from_table(Table::parse(text, Origin::file(path))?)?;
    let mut layered = Layered::default();
    layered.under(options, &Origin::file(path));
    Ok(layered)
}

fn built(text: &str) -> anyhow::Result<CrawlSettings> {
    build(&file(text)?, seeds())
}

#[test]
fn defaults_and_seed_hosts() {
    let s = build(&Layered::default(), seeds()).expect("valid");
    assert_eq!(s.concurrency, 64);
    assert_eq!(s.limiter.per_host, 8);
    assert_eq!(s.fetch.retries, 3);
    assert_eq!(s.scope.domains, ["example.com"]);
    assert!(s.respect_robots);
}

#[test]
fn bad_values_in_a_file_name_the_file_and_key() {
    let cases = [
        (
            "concurrency = 0",
            "bad.toml: concurrency must be at least 1, got 0",
        ),
        (
            "max_depth = -1",
            "bad.toml: max_depth must be 0 or more, got -1",
        ),
        (
            "timeout = -1",
            "bad.toml: timeout must be a positive number of seconds",
        ),
        ("rate = 0.0", "bad.toml: rate must be a positive number"),
        (
            "retries = 500",
            "bad.toml: retries must be at most 100, got 500",
        ),
        (
            "exclude = [\"(unclosed\"]",
            "bad.toml: exclude \"(unclosed\" is not a valid regex",
        ),
        (
            "[output]\nformat = [\"xml\"]",
            "bad.toml: [output] format: unknown output format \"xml\"",
        ),
        (
            "concurrency = \"many\"",
            "bad.toml: concurrency: expected an integer, got the string \"many\"",
        ),
        (
            "concurency = 4",
            "bad.toml: unknown key `concurency` (did you mean `concurrency`?)",
        ),
        ("format = \"csv\"", "bad.toml: unknown key `format`"),
        (
            "[output]\nformats = \"csv\"",
            "bad.toml: output: unknown field `formats`",
        ),
    ];
    for (text, want) in cases {
        let e = format!("{:#}", built(text).expect_err(text));
        assert!(e.starts_with(want), "{text}: {e}");
    }
}

#[test]
fn the_same_values_as_flags_name_the_flag() {
    let top = CrawlOptions {
        run: super::super::options::RunOptions {
            concurrency: Some(0),
            ..Default::default()
        },
        ..CrawlOptions::default()
    };
    let layered = Layered::new(top, &Origin::Flag);
    let e = build(&layered, seeds()).expect_err("invalid").to_string();
    assert_eq!(e, "--concurrency must be at least 1, got 0");
}

#[test]
fn the_example_config_is_valid() {
    let text = include_str!("../../../config/crawl.toml");
    let layered = file(text).expect("config/crawl.toml parses");
    build(&layered, seeds()).expect("config/crawl.toml validates");
}

#[test]
fn output_formats_from_flag_or_file() {
    use crate::sink::Format;
    let s = built("[output]\nformat = [\"jsonl\", \"csv\"]\n").expect("list");
    assert_eq!(s.output.formats, [Format::Jsonl, Format::Csv]);
    let s = built("[output]\nformat = \"warc, json\"\n").expect("string");
    assert_eq!(s.output.formats, [Format::Warc, Format::Json]);
    let s = build(&Layered::default(), seeds()).expect("valid");
    assert_eq!(s.output.formats, [Format::Jsonl]);

    let e = built("out = \"-\"\n[output]\nformat = \"csv\"\n").expect_err("stdout");
    assert_eq!(
        e.to_string(),
        "bad.toml: out - streams JSONL to standard output; bad.toml: [output] format csv needs an output directory"
    );
}
