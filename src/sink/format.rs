//! Which outputs a crawl writes and where: the `--format` list (`jsonl`,
//! `json`, `csv`, `warc`, each one file in the output directory) and the
//! output target, a directory or standard output (`--out -`).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// One output format for page records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `pages.jsonl`: one JSON record per line.
    Jsonl,
    /// `pages.json`: one JSON array, one record per line.
    Json,
    /// `pages.csv`: URL, status and the extracted fields.
    Csv,
    /// `pages.warc.gz`: the raw requests and responses, WARC/1.1.
    Warc,
}

impl Format {
    pub const ALL: [Format; 4] = [Self::Jsonl, Self::Json, Self::Csv, Self::Warc];

    pub fn name(self) -> &'static str {
        match self {
            Self::Jsonl => "jsonl",
            Self::Json => "json",
            Self::Csv => "csv",
            Self::Warc => "warc",
        }
    }

    /// The file this format writes in the output directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Jsonl => "pages.jsonl",
            Self::Json => "pages.json",
            Self::Csv => "pages.csv",
            Self::Warc => "pages.warc.gz",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown output format {0:?}; valid formats: jsonl, json, csv, warc")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

/// Parses format names (each may itself be a comma-separated list, as in
/// `--format jsonl,csv`), keeping the first mention of each. An empty list
/// means the default, JSONL.
pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<Format>, UnknownFormat> {
    let mut formats = Vec::new();
    for name in names
        .iter()
        .flat_map(|n| n.as_ref().split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let format = name.parse()?;
        if !formats.contains(&format) {
            formats.push(format);
        }
    }
    if formats.is_empty() {
        formats.push(Format::Jsonl);
    }
    Ok(formats)
}

/// Where records go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One file per format, plus `summary.json`, in this directory.
    Dir(PathBuf),
    /// JSONL on standard output (`--out -`); no other file is written.
    Stdout,
}

impl Target {
    /// `-` is standard output; anything else a directory.
    pub fn from_path(path: PathBuf) -> Self {
        if path.as_os_str() == "-" {
            Self::Stdout
        } else {
            Self::Dir(path)
        }
    }
}

/// The default output path of a run started now: `output/KIND-YYYYmmdd-HHMMSS`
/// followed by `ext` (`""` for a directory, `".jsonl"` for a file).
pub fn stamped(kind: &str, ext: &str) -> PathBuf {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    PathBuf::from("output").join(format!("{kind}-{stamp}{ext}"))
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dir(dir) => write!(f, "{}", dir.display()),
            Self::Stdout => f.write_str("standard output"),
        }
    }
}

/// The validated output settings of a crawl.
#[derive(Clone, Debug)]
pub struct Output {
    pub target: Target,
    /// In the order asked for, without repeats; never empty.
    pub formats: Vec<Format>,
    /// The extracted fields written as CSV columns after `url` and
    /// `status`, in config order.
    pub columns: Vec<String>,
}

impl Output {
    /// Standard output takes JSONL only: the settings check that first,
    /// naming the flag or key.
    pub fn new(target: Target, formats: Vec<Format>) -> Self {
        Self {
            target,
            formats,
            columns: Vec::new(),
        }
    }

    pub fn wants(&self, format: Format) -> bool {
        self.formats.contains(&format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_commas_keep_order_and_drop_repeats() {
        assert_eq!(
            parse_list(&["warc, CSV,jsonl", "csv"]),
            Ok(vec![Format::Warc, Format::Csv, Format::Jsonl])
        );
        assert_eq!(parse_list::<&str>(&[]), Ok(vec![Format::Jsonl]));
        assert_eq!(parse_list(&[""]), Ok(vec![Format::Jsonl]));
    }

    #[test]
    fn an_unknown_format_is_named_with_the_valid_ones() {
        let e = parse_list(&["jsonl,xml"]).expect_err("unknown");
        assert_eq!(e, UnknownFormat("xml".into()));
        let message = e.to_string();
        assert!(message.contains("\"xml\""), "{message}");
        for f in Format::ALL {
            assert!(message.contains(f.name()), "{message}");
        }
    }

    #[test]
    fn a_dash_is_standard_output() {
        assert_eq!(Target::from_path("-".into()), Target::Stdout);
        assert_eq!(Target::from_path("o".into()), Target::Dir("o".into()));
    }
}
