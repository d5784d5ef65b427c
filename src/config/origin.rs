//! Where each setting came from (a flag, a file and key, the default), so
//! that an error about a value names exactly what the user wrote.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// The layer a value was taken from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// The command line.
    Flag,
    /// An environment variable (`COLLECTOR_PER_HOST`), see `config::env`.
    Env { var: Arc<str> },
    /// A TOML file; `table` names where in it the key sits: empty for the
    /// top level, `[[resource]] "issues"` for a resource, `job.docs.crawl`
    /// for a job's table.
    File { path: Arc<Path>, table: Arc<str> },
    /// Built in (also what a key that was never set reports).
    #[default]
    Default,
}

impl Origin {
    pub fn file(path: &Path) -> Self {
        Self::File {
            path: path.into(),
            table: "".into(),
        }
    }

    /// The same file, a table inside it.
    pub fn within(&self, table: &str) -> Self {
        match self {
            Self::File { path, table: outer } if !outer.is_empty() => Self::File {
                path: path.clone(),
                table: format!("{outer}.{table}").into(),
            },
            Self::File { path, .. } => Self::File {
                path: path.clone(),
                table: table.into(),
            },
            other => other.clone(),
        }
    }
}

/// What an error calls one key: `--per-host`, `COLLECTOR_PER_HOST`, or
/// `crawl.toml: per_host`, or `api.toml: [[resource]] "issues": cursor`.
#[derive(Clone, Debug)]
pub struct Name<'a> {
    pub key: &'static str,
    pub origin: &'a Origin,
}

impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.origin {
            Origin::Flag | Origin::Default => write!(f, "--{}", flag(self.key)),
            Origin::Env { var } => f.write_str(var),
            Origin::File { path, table } => {
                write!(f, "{}: ", path.display())?;
                match (table.as_ref(), self.key.split_once('.')) {
                    ("", Some((outer, key))) => write!(f, "[{outer}] {key}"),
                    ("", None) => f.write_str(self.key),
                    (t, _) if t.starts_with('[') => write!(f, "{t}: {}", self.key),
                    (t, _) => write!(f, "{t}.{}", self.key),
                }
            }
        }
    }
}

impl Name<'_> {
    /// The key alone as it is spelt in its layer (`--cursor`, `cursor`),
    /// for a second key named in the same message.
    pub fn bare(&self) -> String {
        match self.origin {
            Origin::Flag | Origin::Default => format!("--{}", flag(self.key)),
            Origin::Env { var } => var.to_string(),
            Origin::File { .. } => self.key.to_string(),
        }
    }
}

/// The flag spelling of a file key.
fn flag(key: &str) -> String {
    match key {
        "output.format" => "format".to_string(),
        "params" => "param".to_string(),
        k => k.replace('_', "-"),
    }
}

/// The origin of every key that was set, filled while layers are combined.
#[derive(Clone, Debug, Default)]
pub struct Origins(BTreeMap<&'static str, Origin>);

impl Origins {
    pub fn set(&mut self, key: &'static str, origin: &Origin) {
        self.0.insert(key, origin.clone());
    }

    pub fn of(&self, key: &'static str) -> &Origin {
        static DEFAULT: Origin = Origin::Default;
        self.0.get(key).unwrap_or(&DEFAULT)
    }

    /// What an error about `key` calls it.
    pub fn name(&self, key: &'static str) -> Name<'_> {
        Name {
            key,
            origin: self.of(key),
        }
    }

    /// Takes `lower`'s value for `key` when `value` has none yet, noting
    /// `origin` for it: the one step of every merge of layers.
    pub fn fill<T>(
        &mut self,
        key: &'static str,
        value: &mut Option<T>,
        lower: Option<T>,
        origin: &Origin,
    ) {
        if value.is_none() && lower.is_some() {
            *value = lower;
            self.set(key, origin);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_flag_file_key_and_table() {
        let file = Origin::file(Path::new("bad.toml"));
        let name = |key, origin: &Origin| {
            Name {
                key,
                origin: &origin.clone(),
            }
            .to_string()
        };
        assert_eq!(name("per_host", &Origin::Flag), "--per-host");
        assert_eq!(name("output.format", &Origin::Flag), "--format");
        assert_eq!(name("per_host", &file), "bad.toml: per_host");
        let env = Origin::Env {
            var: "COLLECTOR_PER_HOST".into(),
        };
        assert_eq!(name("per_host", &env), "COLLECTOR_PER_HOST");
        assert_eq!(name("output.format", &file), "bad.toml: [output] format");
        assert_eq!(
            name("cursor", &file.within("[[resource]] \"issues\"")),
            "bad.toml: [[resource]] \"issues\": cursor"
        );
        assert_eq!(
            name("max_depth", &file.within("job.docs").within("crawl")),
            "bad.toml: job.docs.crawl.max_depth"
        );
    }

    #[test]
    fn the_higher_layer_keeps_its_value_and_origin() {
        let mut origins = Origins::default();
        let file = Origin::file(Path::new("f.toml"));
        let mut v = Some(1);
        origins.set("a", &Origin::Flag);
        origins.fill("a", &mut v, Some(2), &file);
        assert_eq!((v, origins.of("a")), (Some(1), &Origin::Flag));
        let mut w = None;
        origins.fill("b", &mut w, Some(2), &file);
        assert_eq!((w, origins.of("b")), (Some(2), &file));
        assert_eq!(origins.of("c"), &Origin::Default);
    }
}
