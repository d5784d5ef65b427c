//! Reading settings from TOML: a file (or a table inside one, such as a
//! job's `crawl = { ... }`) is split among the option structs that own its
//! keys, unknown keys are refused by name, and serde's type errors are
//! reworded (`expected an integer`, not `expected i64`).

use std::path::Path;

use anyhow::{Context as _, bail};
use serde::de::{self, DeserializeOwned, Visitor};

use super::origin::Origin;

/// A TOML table being taken apart by the option structs that own its keys.
pub struct Table {
    table: toml::Table,
    origin: Origin,
    /// Every key some struct took, for the "unknown key" message.
    known: Vec<&'static str>,
}

impl Table {
    /// Reads and parses `path` (syntax errors show the line and column).
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read config file {}", path.display()))?;
        Self::parse(&text, Origin::file(path))
    }

    pub fn parse(text: &str, origin: Origin) -> anyhow::Result<Self> {
        let table: toml::Table = toml::from_str(text).map_err(|e| match &origin {
            Origin::File { path, .. } => anyhow::anyhow!("config file {}: {e}", path.display()),
            _ => anyhow::anyhow!("{e}"),
        })?;
        Ok(Self::new(table, origin))
    }

    pub fn new(table: toml::Table, origin: Origin) -> Self {
        Self {
            table,
            origin,
            known: Vec::new(),
        }
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Removes the keys `T` declares and deserializes them.
    pub fn take<T: DeserializeOwned>(&mut self) -> anyhow::Result<T> {
        let fields = fields::<T>();
        self.known.extend_from_slice(fields);
        let mut part = toml::Table::new();
        for field in fields {
            if let Some((k, v)) = self.table.remove_entry(*field) {
                part.insert(k, v);
            }
        }
        T::deserialize(part).map_err(|e| anyhow::anyhow!("{}", self.reword(&e.to_string())))
    }

    /// Removes one key, left for the caller to read (a list of tables such
    /// as `[[resource]]`).
    pub fn remove(&mut self, key: &'static str) -> Option<toml::Value> {
        self.known.push(key);
        self.table.remove(key)
    }

    /// Refuses the keys no struct took.
    pub fn finish(self) -> anyhow::Result<()> {
        let Some(key) = self.table.keys().next() else {
            return Ok(());
        };
        let mut known = self.known.clone();
        known.sort_unstable();
        let hint = closest(key, &known)
            .map(|k| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        match &self.origin {
            // A table inside a file (`job.docs.crawl`): the key's full name.
            Origin::File { path, table } if !table.is_empty() && !table.starts_with('[') => bail!(
                "{}: {table}.{key}: unknown key{hint}; known keys: {}",
                path.display(),
                known.join(", ")
            ),
            _ => bail!(
                "{}unknown key `{key}`{hint}; known keys: {}",
                self.prefix(),
                known.join(", ")
            ),
        }
    }

    fn prefix(&self) -> String {
        match &self.origin {
            Origin::File { path, table } if table.is_empty() => format!("{}: ", path.display()),
            Origin::File { path, table } if table.starts_with('[') => {
                format!("{}: {table}: ", path.display())
            }
            Origin::File { path, table } => format!("{}: {table}.", path.display()),
            _ => String::new(),
        }
    }

    /// `invalid type: string "x", expected i64\nin `concurrency`` becomes
    /// `FILE: concurrency: expected an integer, got the string "x"`.
    fn reword(&self, message: &str) -> String {
        let (what, key) = match message.split_once("\nin `") {
            Some((what, rest)) => (what, rest.trim_end().trim_end_matches('`')),
            None => (message, ""),
        };
        let what = what.trim();
        let what = if let Some(rest) = what.strip_prefix("invalid type: ") {
            match rest.split_once(", expected ") {
                Some((got, expected)) => {
                    format!("expected {}, got {}", words(expected), got_words(got))
                }
                None => rest.to_string(),
            }
        } else if let Some(rest) = what.strip_prefix("invalid value: ") {
            match rest.split_once(", expected ") {
                Some((got, expected)) => {
                    format!("expected {}, got {}", words(expected), got_words(got))
                }
                None => rest.to_string(),
            }
        } else {
            what.to_string()
        };
        if let Origin::Env { var } = &self.origin {
            format!("{var}: {what}")
        } else if key.is_empty() {
            format!("{}{what}", self.prefix())
        } else {
            format!("{}{key}: {what}", self.prefix())
        }
    }
}

/// serde's names for the types we read, in the words a user knows.
fn words(expected: &str) -> String {
    let e = expected.trim();
    match e {
        "i64" | "i32" => "an integer".to_string(),
        "u64" | "u32" | "u16" | "usize" => "a whole number, 0 or more".to_string(),
        "f64" | "f32" => "a number".to_string(),
        "a string" | "a boolean" | "a sequence" => e.replace("a sequence", "a list"),
        _ if e.starts_with("struct ") => "a table".to_string(),
        _ => e.replace("a sequence", "a list"),
    }
}

fn got_words(got: &str) -> String {
    let got = got.replace('`', "");
    match got.split_once(' ') {
        Some(("sequence", _)) | None if got == "sequence" => "a list".to_string(),
        Some((kind, value)) => format!("the {kind} {value}"),
        None => format!("a {got}"),
    }
}

/// The key of `known` a mistyped `key` most likely meant.
fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (distance(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance, for the "did you mean" hint.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// The field names a derived `Deserialize` struct declares: serde hands
/// them to `deserialize_struct`, which this deserializer records and then
/// refuses.
pub fn fields<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("field probe")
        }
    }
    impl std::error::Error for Stop {}
    impl de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> de::Deserializer<'de> for Probe<'_> {
        type Error = Stop;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            *self.0 = fields;
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct A {
        concurrency: Option<i64>,
        timeout: Option<f64>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct B {
        cookies: Option<bool>,
        per_host: Option<u32>,
    }

    fn table(text: &str) -> Table {
        Table::parse(text, Origin::file(Path::new("bad.toml"))).expect("toml")
    }

    #[test]
    fn keys_go_to_the_struct_that_declares_them() {
        assert_eq!(fields::<A>(), ["concurrency", "timeout"]);
        let mut t = table("concurrency = 3\ncookies = true\n");
        let a: A = t.take().expect("a");
        let b: B = t.take().expect("b");
        t.finish().expect("no key left");
        assert_eq!(
            (a.concurrency, a.timeout, b.cookies, b.per_host),
            (Some(3), None, Some(true), None)
        );
    }

    #[test]
    fn unknown_keys_are_named_with_a_hint() {
        let mut t = table("concurency = 3\n");
        let _: A = t.take().expect("a");
        let _: B = t.take().expect("b");
        let e = t.finish().expect_err("unknown").to_string();
        assert!(
            e.starts_with("bad.toml: unknown key `concurency` (did you mean `concurrency`?)"),
            "{e}"
        );
        assert!(e.contains("cookies"), "{e}");
    }

    #[test]
    fn type_errors_read_as_words() {
        let cases = [
            (
                "concurrency = \"many\"",
                "bad.toml: concurrency: expected an integer, got the string \"many\"",
            ),
            (
                "timeout = true",
                "bad.toml: timeout: expected a number, got the boolean true",
            ),
        ];
        for (text, want) in cases {
            let e = table(text).take::<A>().expect_err("type").to_string();
            assert_eq!(e, want);
        }
        let e = table("per_host = -1")
            .take::<B>()
            .expect_err("value")
            .to_string();
        assert_eq!(
            e,
            "bad.toml: per_host: expected a whole number, 0 or more, got the integer -1"
        );
        let e = table("cookies = 1")
            .take::<B>()
            .expect_err("type")
            .to_string();
        assert_eq!(
            e,
            "bad.toml: cookies: expected a boolean, got the integer 1"
        );
    }

    #[test]
    fn a_table_inside_names_its_path() {
        let origin = Origin::file(Path::new("jobs.toml"))
            .within("job.docs")
            .within("crawl");
        let mut t = Table::new(toml::from_str("timeout = \"x\"").expect("toml"), origin);
        let e = t.take::<A>().expect_err("type").to_string();
        assert!(
            e.starts_with("jobs.toml: job.docs.crawl.timeout: expected a number"),
            "{e}"
        );
    }
}
