//! Settings from the environment: every config key `KEY` can come from
//! `COLLECTOR_<KEY>` (upper case, `.` and `-` as `_`: `per_host` is
//! `COLLECTOR_PER_HOST`, `[output] format` is `COLLECTOR_OUTPUT_FORMAT`),
//! a layer between the command line and the config file. `COLLECTOR_CONFIG`
//! names the config file when `--config` is not given.
//!
//! A value is read as a TOML value (`5`, `true`, `2.5`, `["a", "b"]`,
//! `"quoted"`), else as a bare string; when the key wants a string (or a
//! list) and the TOML reading gives something else, the text itself (or a
//! one-item list of it) is taken, so `COLLECTOR_USER_AGENT=1.0` and
//! `COLLECTOR_EXCLUDE=\.pdf$` mean what they say. An empty variable counts
//! as unset. Each key's layer is [`Origin::Env`], so errors name the
//! variable: `COLLECTOR_PER_HOST must be at least 1, got 0`.

use std::path::PathBuf;

use anyhow::bail;

use super::file::Table;
use super::origin::Origin;

/// What every variable's name starts with.
pub const PREFIX: &str = "COLLECTOR_";

/// The variable naming the default config file.
pub const CONFIG_VAR: &str = "COLLECTOR_CONFIG";

/// Reads one variable: `Ok(None)` when unset or empty, an error naming it
/// when it is not UTF-8.
pub type Lookup<'a> = &'a dyn Fn(&str) -> anyhow::Result<Option<String>>;

/// The process's environment as a [`Lookup`].
pub fn process(var: &str) -> anyhow::Result<Option<String>> {
    match std::env::var(var) {
        Ok(v) if v.is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => bail!("{var}: the value is not valid UTF-8"),
    }
}

/// The variable of a config key: `output.format` is `COLLECTOR_OUTPUT_FORMAT`.
pub fn var_name(key: &str) -> String {
    let mut name = String::with_capacity(PREFIX.len() + key.len());
    name.push_str(PREFIX);
    name.extend(key.chars().map(|c| match c {
        '.' | '-' => '_',
        c => c.to_ascii_uppercase(),
    }));
    name
}

/// `--config FILE`, else the file `COLLECTOR_CONFIG` names, with the
/// origin that names it in messages.
pub fn config_file(flag: Option<&PathBuf>, env: Lookup) -> anyhow::Result<Option<ConfigFile>> {
    if let Some(path) = flag {
        return Ok(Some(ConfigFile {
            path: path.clone(),
            named_by: None,
        }));
    }
    Ok(env(CONFIG_VAR)?.map(|p| ConfigFile {
        path: PathBuf::from(p),
        named_by: Some(CONFIG_VAR),
    }))
}

/// The config file a run reads.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    pub path: PathBuf,
    /// The variable that named it, `None` for `--config`.
    pub named_by: Option<&'static str>,
}

impl ConfigFile {
    /// Context for an error reading it: `COLLECTOR_CONFIG=path` when the
    /// environment named it.
    pub fn context(&self, e: anyhow::Error) -> anyhow::Error {
        match self.named_by {
            Some(var) => e.context(format!("{var}={}", self.path.display())),
            None => e,
        }
    }
}

/// A variable's text as the TOML value it spells, if it spells one.
fn toml_value(text: &str) -> Option<toml::Value> {
    let mut table: toml::Table = toml::from_str(&format!("v = {text}")).ok()?;
    if table.len() != 1 {
        return None;
    }
    table.remove("v")
}

/// The one-key table `{key = value}`; `a.b` becomes `{a = {b = value}}`.
fn one_key(key: &str, value: toml::Value) -> toml::Table {
    let mut table = toml::Table::new();
    match key.split_once('.') {
        Some((outer, inner)) => {
            table.insert(outer.to_string(), toml::Value::Table(one_key(inner, value)));
        }
        None => {
            table.insert(key.to_string(), value);
        }
    }
    table
}

/// One layer per variable set among `keys`' variables, in key order, each
/// built by `build` from a one-key table whose origin names the variable.
/// A layer fills only what the layers above left unset, so applying them
/// one after the other under the command line makes the environment layer.
pub fn layers<T>(
    keys: &[String],
    env: Lookup,
    build: impl Fn(Table) -> anyhow::Result<T>,
) -> anyhow::Result<Vec<(Origin, T)>> {
    let mut layers = Vec::new();
    for key in keys {
        let var = var_name(key);
        let Some(text) = env(&var)? else {
            continue;
        };
        let origin = Origin::Env {
            var: var.as_str().into(),
        };
        let text_value = toml::Value::String(text.clone());
        let mut candidates = Vec::with_capacity(3);
        if let Some(v) = toml_value(&text).filter(|v| !v.is_str()) {
            candidates.push(v);
        }
        candidates.push(text_value.clone());
        candidates.push(toml::Value::Array(vec![text_value]));
        let mut first_error = None;
        let mut built = None;
        for value in candidates {
            match build(Table::new(one_key(key, value), origin.clone())) {
                Ok(layer) => {
                    built = Some(layer);
                    break;
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match (built, first_error) {
            (Some(layer), _) => layers.push((origin, layer)),
            (None, Some(e)) => return Err(e),
            (None, None) => bail!("{var}: no value"),
        }
    }
    Ok(layers)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Opts {
        max_pages: Option<i64>,
        cookies: Option<bool>,
        user_agent: Option<String>,
        exclude: Option<Vec<String>>,
        timeout: Option<f64>,
        output: Option<Out>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Out {
        format: Option<String>,
    }

    fn keys() -> Vec<String> {
        [
            "max_pages",
            "cookies",
            "user_agent",
            "exclude",
            "timeout",
            "output.format",
        ]
        .map(String::from)
        .to_vec()
    }

    fn read(pairs: &[(&str, &str)]) -> anyhow::Result<Vec<(Origin, Opts)>> {
        let env = |var: &str| {
            Ok(pairs
                .iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| v.to_string()))
        };
        layers(&keys(), &env, |mut t| {
            let o: Opts = t.take()?;
            t.finish()?;
            Ok(o)
        })
    }

    #[test]
    fn names_are_upper_case_with_underscores() {
        assert_eq!(var_name("per_host"), "COLLECTOR_PER_HOST");
        assert_eq!(var_name("output.format"), "COLLECTOR_OUTPUT_FORMAT");
        assert_eq!(var_name("api-key"), "COLLECTOR_API_KEY");
    }

    #[test]
    fn values_are_toml_or_the_text_itself() {
        let got = read(&[
            ("COLLECTOR_MAX_PAGES", "5"),
            ("COLLECTOR_COOKIES", "true"),
            ("COLLECTOR_USER_AGENT", "1.0"),
            ("COLLECTOR_EXCLUDE", r"\.pdf$"),
            ("COLLECTOR_TIMEOUT", "2.5"),
            ("COLLECTOR_OUTPUT_FORMAT", "jsonl,csv"),
        ])
        .expect("layers");
        assert_eq!(got.len(), 6);
        let o = |i: usize| &got[i].1;
        assert_eq!(o(0).max_pages, Some(5));
        assert_eq!(o(1).cookies, Some(true));
        assert_eq!(o(2).user_agent.as_deref(), Some("1.0"));
        assert_eq!(o(3).exclude, Some(vec![r"\.pdf$".to_string()]));
        assert_eq!(o(4).timeout, Some(2.5));
        assert_eq!(
            o(5).output.as_ref().and_then(|t| t.format.as_deref()),
            Some("jsonl,csv")
        );
        assert_eq!(
            got[0].0,
            Origin::Env {
                var: "COLLECTOR_MAX_PAGES".into()
            }
        );
        let list = read(&[("COLLECTOR_EXCLUDE", r#"["a", "b"]"#)]).expect("list");
        assert_eq!(list[0].1.exclude, Some(vec!["a".into(), "b".into()]));
    }

    #[test]
    fn a_wrong_type_names_the_variable() {
        let e = read(&[("COLLECTOR_MAX_PAGES", "many")])
            .expect_err("type")
            .to_string();
        assert_eq!(
            e,
            "COLLECTOR_MAX_PAGES: expected an integer, got the string \"many\""
        );
        let e = read(&[("COLLECTOR_COOKIES", "yes")])
            .expect_err("type")
            .to_string();
        assert_eq!(
            e,
            "COLLECTOR_COOKIES: expected a boolean, got the string \"yes\""
        );
    }

    #[test]
    fn unset_variables_give_no_layer() {
        assert!(read(&[]).expect("none").is_empty());
    }
}
