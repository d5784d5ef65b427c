//! Seed files as people write them: one URL per line; blank lines, `#`
//! comment lines and ` # comments` after a URL are ignored, as is a UTF-8
//! byte order mark. Every invalid line is reported (file and line), and
//! any stops the run before anything is fetched. Also: whether the crawl's
//! SEEDS argument names a file, standard input or a URL.

use std::fmt;
use std::io::BufRead;

use url::Url;

/// One bad line; `line` 0 is about the whole source.
#[derive(Debug)]
pub struct SeedError {
    pub source_name: String,
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A seed may carry a password (`http://alice:S3cret@host/`).
        let reason = crate::fetch::userinfo::redacted(&self.reason);
        match self.line {
            0 => write!(f, "{}: {reason}", self.source_name),
            n => write!(f, "{}:{n}: {reason}", self.source_name),
        }
    }
}

impl std::error::Error for SeedError {}

/// Every bad line of a seed source, in line order.
#[derive(Debug)]
pub struct SeedErrors(pub Vec<SeedError>);

/// Lines listed in a message; a binary file given by mistake has millions.
const MAX_LISTED: usize = 50;

impl fmt::Display for SeedErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().take(MAX_LISTED).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        if self.0.len() > MAX_LISTED {
            write!(f, "\n(and {} more bad lines)", self.0.len() - MAX_LISTED)?;
        }
        Ok(())
    }
}

impl std::error::Error for SeedErrors {}

/// Reads seeds from `reader`; `source_name` names it in errors, which list
/// every bad line. No seed at all is an error.
pub fn parse(reader: impl BufRead, source_name: &str) -> Result<Vec<Url>, SeedErrors> {
    parse_lines(reader, source_name, false)
}

/// [`parse`], where `may_be_empty` lets a source hold no seed (a worker
/// joining a shared crawl that others seeded).
pub fn parse_lines(
    reader: impl BufRead,
    source_name: &str,
    may_be_empty: bool,
) -> Result<Vec<Url>, SeedErrors> {
    let err = |line, reason: String| SeedError {
        source_name: source_name.to_string(),
        line,
        reason,
    };
    let mut seeds = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in reader.split(b'\n').enumerate() {
        let n = i + 1;
        let bytes = match line {
            Ok(bytes) => bytes,
            Err(e) => {
                errors.push(err(n, format!("could not read: {e}")));
                break;
            }
        };
        let bytes = match n {
            1 => bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes),
            _ => &bytes,
        };
        let Ok(text) = std::str::from_utf8(bytes) else {
            errors.push(err(n, "not valid UTF-8".to_string()));
            continue;
        };
        let text = without_comment(text);
        if text.is_empty() {
            continue;
        }
        match parse_url(text) {
            Ok(url) => seeds.push(url),
            Err(reason) => errors.push(err(n, reason)),
        }
    }
    if seeds.is_empty() && errors.is_empty() && !may_be_empty {
        errors.push(err(0, "no seed URL found (one URL per line)".to_string()));
    }
    match errors.is_empty() {
        true => Ok(seeds),
        false => Err(SeedErrors(errors)),
    }
}

/// The line without white space around it and without a comment: a line
/// starting with `#`, or from a `#` after white space on (`#` right after
/// a URL is its fragment).
fn without_comment(line: &str) -> &str {
    let line = line.trim();
    if line.starts_with('#') {
        return "";
    }
    let mut previous_blank = false;
    for (at, c) in line.char_indices() {
        if c == '#' && previous_blank {
            return line[..at].trim_end();
        }
        previous_blank = c.is_whitespace();
    }
    line
}

/// Checks one seed URL: absolute, http or https, with a host. The error
/// says what is wrong and what would be valid.
pub fn parse_url(text: &str) -> Result<Url, String> {
    let url = match Url::parse(text) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) if looks_like_host(text) => {
            return Err(format!(
                "{text:?} has no scheme: add http:// or https:// (https://{text})"
            ));
        }
        Err(e) => {
            return Err(format!(
                "{text:?} is not a URL ({e}); expected e.g. https://example.com/"
            ));
        }
    };
    if !matches!(url.scheme(), "http" | "https") {
        // `localhost:8080/x` reads as scheme `localhost`, path `8080/x`.
        let port_follows = text
            .get(url.scheme().len() + 1..)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
        if port_follows && looks_like_host(text) {
            return Err(format!(
                "{text:?} has no scheme: add http:// or https:// (http://{text})"
            ));
        }
        return Err(format!(
            "{text:?}: only http and https URLs can be crawled, not {}:",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{text:?} has no host"));
    }
    Ok(url)
}

/// Whether `text` starts like `host[:port]` (`example.com/x`,
/// `127.0.0.1:8080`, `localhost:3000`): a URL without its scheme.
fn looks_like_host(text: &str) -> bool {
    let host = text.split(['/', '?', '#']).next().unwrap_or("");
    let name = host.split(':').next().unwrap_or("");
    !name.is_empty()
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'))
        && (name.contains('.') || name.eq_ignore_ascii_case("localhost") || host.contains(':'))
}

/// What the crawl's SEEDS argument names.
#[derive(Debug, PartialEq, Eq)]
pub enum SeedsArgument {
    /// `-`: seeds are read from standard input.
    Stdin,
    /// A seed file.
    File,
    /// One seed URL, given instead of a file.
    Url(Url),
}

/// Decides what `arg` names; `is_file` says whether a file of that name
/// exists (the caller looks). An existing file always wins; otherwise an
/// argument starting with `http://` or `https://` is a seed URL, checked
/// as a seed line is. Anything else is a file name, so that opening it
/// reports it missing.
pub fn seeds_argument(arg: &str, is_file: bool) -> Result<SeedsArgument, String> {
    if arg == "-" {
        return Ok(SeedsArgument::Stdin);
    }
    let looks_like_url = ["http://", "https://"].iter().any(|scheme| {
        arg.get(..scheme.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
    });
    if is_file || !looks_like_url {
        return Ok(SeedsArgument::File);
    }
    parse_url(arg.trim()).map(SeedsArgument::Url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds(text: &str) -> Vec<String> {
        parse(text.as_bytes(), "s.txt")
            .expect("valid")
            .iter()
            .map(Url::to_string)
            .collect()
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        assert_eq!(
            seeds("# seeds\n\nhttp://a/\n  https://b/x  \r\n"),
            ["http://a/", "https://b/x"]
        );
    }

    #[test]
    fn a_comment_after_a_url_is_not_part_of_it() {
        assert_eq!(
            seeds("http://a/ # the docs\nhttp://b/x\t#tab\nhttp://c/#top # frag kept\n"),
            ["http://a/", "http://b/x", "http://c/#top"]
        );
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        assert_eq!(
            seeds("\u{feff}http://a/\nhttp://b/\n"),
            ["http://a/", "http://b/"]
        );
        assert_eq!(
            seeds("\u{feff}# only a comment\nhttp://a/\n"),
            ["http://a/"]
        );
    }

    #[test]
    fn every_bad_line_is_named() {
        let text = b"http://a/\nnot a url\n127.0.0.1:8080/x\n# fine\nexample.com/x\nftp://a/\n\xff\nhttp://b/\nlocalhost:8080/y\n";
        let e = parse(&text[..], "s.txt").expect_err("invalid lines");
        let lines: Vec<usize> = e.0.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 5, 6, 7, 9]);
        let message = e.to_string();
        let listed: Vec<&str> = message.lines().collect();
        assert_eq!(listed.len(), 6, "{message}");
        for (line, n) in listed.iter().zip(lines) {
            assert!(line.starts_with(&format!("s.txt:{n}: ")), "{line}");
        }
        assert!(
            listed[0].contains("\"not a url\" is not a URL"),
            "{message}"
        );
        for hinted in [1, 2, 5] {
            assert!(
                listed[hinted].contains("add http:// or https://"),
                "{message}"
            );
        }
        assert!(
            listed[1].contains("(https://127.0.0.1:8080/x)"),
            "{message}"
        );
        assert!(listed[3].contains("only http and https"), "{message}");
        assert!(listed[4].contains("not valid UTF-8"), "{message}");
    }

    #[test]
    fn a_long_list_of_bad_lines_is_cut_in_the_message() {
        let text = "bad line\n".repeat(MAX_LISTED + 7);
        let e = parse(text.as_bytes(), "s.txt").expect_err("invalid");
        assert_eq!(e.0.len(), MAX_LISTED + 7);
        let message = e.to_string();
        assert_eq!(message.lines().count(), MAX_LISTED + 1);
        assert!(message.ends_with("(and 7 more bad lines)"), "{message}");
    }

    #[test]
    fn an_empty_file_is_an_error() {
        let e = parse(&b"# nothing\n"[..], "s.txt").expect_err("empty");
        assert_eq!(e.to_string(), "s.txt: no seed URL found (one URL per line)");
    }

    #[test]
    fn the_seeds_argument_is_a_file_stdin_or_a_url() {
        assert_eq!(seeds_argument("-", false), Ok(SeedsArgument::Stdin));
        assert_eq!(seeds_argument("seeds.txt", false), Ok(SeedsArgument::File));
        assert_eq!(seeds_argument("seeds.txt", true), Ok(SeedsArgument::File));
        let url = Url::parse("https://example.com/x").expect("URL");
        assert_eq!(
            seeds_argument("https://example.com/x", false),
            Ok(SeedsArgument::Url(url))
        );
        assert!(matches!(
            seeds_argument("HTTP://127.0.0.1:8080/", false),
            Ok(SeedsArgument::Url(_))
        ));
        // A file that happens to be named like a URL is still read.
        assert_eq!(
            seeds_argument("http://example.com/x", true),
            Ok(SeedsArgument::File)
        );
        let e = seeds_argument("http://exa mple.com/", false).expect_err("bad URL");
        assert!(e.contains("is not a URL"), "{e}");
        // Without a scheme it is a file name: opening it says it is missing.
        assert_eq!(
            seeds_argument("example.com/x", false),
            Ok(SeedsArgument::File)
        );
    }
}
