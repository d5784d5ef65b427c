//! Seed files: one URL per line; blank lines and `#` comments are ignored.
//! An invalid line stops the run before anything is fetched.

use std::io::BufRead;

use url::Url;

#[derive(Debug, thiserror::Error)]
#[error("{source_name}:{line}: {reason}")]
pub struct SeedError {
    pub source_name: String,
    pub line: usize,
    pub reason: String,
}

/// Reads seeds from `reader`; `source_name` names it in errors.
pub fn parse(reader: impl BufRead, source_name: &str) -> Result<Vec<Url>, SeedError> {
    let err = |line, reason: String| SeedError {
        source_name: source_name.to_string(),
        line,
        reason,
    };
    let mut seeds = Vec::new();
    for (i, line) in reader.split(b'\n').enumerate() {
        let n = i + 1;
        let bytes = line.map_err(|e| err(n, format!("could not read: {e}")))?;
        let Ok(text) = std::str::from_utf8(&bytes) else {
            return Err(err(n, "not valid UTF-8".to_string()));
        };
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let url = parse_url(text).map_err(|reason| err(n, reason))?;
        seeds.push(url);
    }
    if seeds.is_empty() {
        return Err(err(0, "no seed URL found (one URL per line)".to_string()));
    }
    Ok(seeds)
}

/// Checks one seed URL: absolute, http or https, with a host. The error
/// says what is wrong and what would be valid.
pub fn parse_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text)
        .map_err(|e| format!("{text:?} is not a URL ({e}); expected e.g. https://example.com/"))?;
    if !matches!(url.scheme(), "http" | "https") {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let seeds =
            parse(&b"# seeds\n\nhttp://a/\n  https://b/x  \r\n"[..], "s.txt").expect("valid");
        let got: Vec<&str> = seeds.iter().map(Url::as_str).collect();
        assert_eq!(got, ["http://a/", "https://b/x"]);
    }

    #[test]
    fn a_bad_line_is_named() {
        let e = parse(&b"http://a/\nnot a url\n"[..], "s.txt").expect_err("invalid");
        assert_eq!(e.line, 2);
        assert!(e.to_string().starts_with("s.txt:2: "), "{e}");
        let e = parse(&b"ftp://a/\n"[..], "s.txt").expect_err("scheme");
        assert!(e.to_string().contains("only http and https"), "{e}");
        let e = parse(&b"\xff\xfe\n"[..], "s.txt").expect_err("binary");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn an_empty_file_is_an_error() {
        assert!(parse(&b"# nothing\n"[..], "s.txt").is_err());
    }
}
