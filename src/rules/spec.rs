//! The `[[rule]]` tables of a job config as written, and their compilation
//! into [`RuleSet`]s. A field is either a selector string (the element's
//! text) or a table with `css` and the options below.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use regex::Regex;
use scraper::Selector;
use serde::Deserialize;

use super::{Field, Kind, RuleSet, Take};

/// One `[[rule]]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    /// A regex matched against the page URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Selectors of the elements whose links are followed; absent: all.
    #[serde(default)]
    pub follow: Option<Vec<String>>,
    /// Field name → selector string or field table, in config order.
    #[serde(default)]
    pub fields: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldSpec {
    css: String,
    #[serde(default)]
    attr: Option<String>,
    #[serde(default)]
    html: bool,
    #[serde(default)]
    many: bool,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    required: bool,
    /// Sub-fields selected inside each matched element.
    #[serde(default)]
    fields: Option<toml::Table>,
}

fn selector(css: &str) -> anyhow::Result<Selector> {
    if css.trim().is_empty() {
        bail!("the CSS selector is empty");
    }
    Selector::parse(css)
        .map_err(|e| anyhow::anyhow!("invalid CSS selector {css:?}: {}", describe(&e)))
}

/// The parser's error in a line: its own message, except for the selector
/// grammar errors it prints as a debug dump ("DanglingCombinator" becomes
/// "dangling combinator").
fn describe(e: &scraper::error::SelectorErrorKind<'_>) -> String {
    use scraper::error::SelectorErrorKind;
    let SelectorErrorKind::UnexpectedSelectorParseError(kind) = e else {
        return e.to_string();
    };
    let debug = format!("{kind:?}");
    let name = debug.split(['(', ' ', '{']).next().unwrap_or(&debug);
    let mut words = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() && !words.is_empty() {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    words
}

fn kind(name: &str) -> anyhow::Result<Kind> {
    Ok(match name {
        "string" => Kind::String,
        "integer" | "int" => Kind::Integer,
        "float" | "number" => Kind::Float,
        "bool" | "boolean" => Kind::Bool,
        "url" => Kind::Url,
        other => {
            bail!("unknown type {other:?} (expected string, integer, float, bool or url)")
        }
    })
}

impl RuleSpec {
    /// Compiles the rule; `index` (0-based) names it in errors when the
    /// name itself is unusable.
    pub(super) fn compile(&self, index: usize) -> anyhow::Result<RuleSet> {
        let name = self.name.trim();
        if name.is_empty() {
            bail!("rule #{}: `name` is empty", index + 1);
        }
        let context = || format!("rule {name:?}");
        let url = self
            .url
            .as_deref()
            .map(|p| Regex::new(p).with_context(|| format!("`url` {p:?} is not a valid regex")))
            .transpose()
            .with_context(context)?;
        let follow = self
            .follow
            .as_ref()
            .map(|list| {
                list.iter()
                    .map(|css| selector(css).context("in `follow`"))
                    .collect::<anyhow::Result<Vec<_>>>()
            })
            .transpose()
            .with_context(context)?;
        let mut fields = Vec::with_capacity(self.fields.len());
        for (field, value) in &self.fields {
            let compiled = compile_field(field, value)
                .with_context(|| format!("rule {name:?}, field {field:?}"))?;
            fields.push(compiled);
        }
        Ok(RuleSet {
            name: Arc::from(name),
            url,
            follow,
            fields,
        })
    }
}

fn compile_field(name: &str, value: &toml::Value) -> anyhow::Result<Field> {
    if name.trim().is_empty() {
        bail!("a field name is empty");
    }
    let spec = match value {
        toml::Value::String(css) => FieldSpec {
            css: css.clone(),
            attr: None,
            html: false,
            many: false,
            regex: None,
            kind: None,
            required: false,
            fields: None,
        },
        toml::Value::Table(_) => value
            .clone()
            .try_into::<FieldSpec>()
            .map_err(|e| anyhow::anyhow!("{}", e.message().trim()))?,
        other => bail!(
            "expected a selector string or a table with `css`, got a {}",
            other.type_str()
        ),
    };
    if let Some(sub) = &spec.fields {
        if spec.attr.is_some() || spec.html || spec.regex.is_some() || spec.kind.is_some() {
            bail!(
                "`fields` makes an object; `attr`, `html`, `regex` and `type` belong in its sub-fields"
            );
        }
        if sub.is_empty() {
            bail!("`fields` is empty");
        }
        let mut fields = Vec::with_capacity(sub.len());
        for (sub_name, sub_value) in sub {
            fields.push(
                compile_field(sub_name, sub_value)
                    .with_context(|| format!("sub-field {sub_name:?}"))?,
            );
        }
        return Ok(Field {
            name: name.to_string(),
            selector: selector(&spec.css)?,
            take: Take::Item(fields),
            many: spec.many,
            regex: None,
            kind: Kind::String,
            required: spec.required,
        });
    }
    let take = match (spec.attr, spec.html) {
        (Some(_), true) => bail!("`attr` and `html = true` cannot both be set"),
        (Some(attr), false) if attr.trim().is_empty() => bail!("`attr` is empty"),
        (Some(attr), false) => Take::Attr(attr.trim().to_ascii_lowercase()),
        (None, true) => Take::Html,
        (None, false) => Take::Text,
    };
    let regex = spec
        .regex
        .as_deref()
        .map(|p| Regex::new(p).with_context(|| format!("`regex` {p:?} is not a valid regex")))
        .transpose()?;
    if let Some(re) = &regex
        && re.captures_len() > 2
    {
        bail!(
            "`regex` {:?} has {} capture groups; use one (or (?:...) for grouping)",
            re.as_str(),
            re.captures_len() - 1
        );
    }
    Ok(Field {
        name: name.to_string(),
        selector: selector(&spec.css)?,
        take,
        many: spec.many,
        regex,
        kind: spec
            .kind
            .as_deref()
            .map(kind)
            .transpose()?
            .unwrap_or(Kind::String),
        required: spec.required,
    })
}

#[cfg(test)]
mod tests {
    use super::super::RuleSets;
    use super::*;

    #[derive(Deserialize)]
    struct File {
        rule: Vec<RuleSpec>,
    }

    fn compile(text: &str) -> anyhow::Result<RuleSets> {
        let file: File = toml::from_str(text)?;
        RuleSets::compile(&file.rule)
    }

    fn error(text: &str) -> String {
        match compile(text) {
            Ok(_) => panic!("expected an error for {text}"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn fields_keep_config_order_and_options() {
        let sets = compile(
            r#"
            [[rule]]
            name = "book"
            url = 'catalogue/'
            follow = ["ul.pager a", ".product a"]
            [rule.fields]
            title = "h1"
            price = { css = "p.price", regex = '([0-9.]+)', type = "float", required = true }
            image = { css = "img", attr = "SRC", type = "url" }
            tags = { css = ".tag", many = true }
            body = { css = "div.body", html = true }

            [[rule]]
            name = "other"
            [rule.fields]
            heading = "h2"
            title = "title"
            "#,
        )
        .expect("valid rules");
        let book = &sets.sets()[0];
        let names: Vec<&str> = book.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["title", "price", "image", "tags", "body"]);
        assert_eq!(book.follow.as_ref().map(Vec::len), Some(2));
        assert_eq!(book.fields[1].kind, Kind::Float);
        assert!(book.fields[1].required);
        assert!(matches!(&book.fields[2].take, Take::Attr(a) if a == "src"));
        assert!(book.fields[3].many);
        assert!(matches!(book.fields[4].take, Take::Html));
        assert_eq!(
            sets.columns(),
            ["title", "price", "image", "tags", "body", "heading"]
        );
        let page = url::Url::parse("http://x/catalogue/a").expect("url");
        assert_eq!(sets.select(&page).map(|s| &*s.name), Some("book"));
        let page = url::Url::parse("http://x/index.html").expect("url");
        assert_eq!(sets.select(&page).map(|s| &*s.name), Some("other"));
    }

    #[test]
    fn errors_name_the_rule_and_field() {
        let e = error("[[rule]]\nname = \"book\"\n[rule.fields]\nprice = \"p..x\"\n");
        assert!(e.contains("rule \"book\", field \"price\""), "{e}");
        assert!(e.contains("invalid CSS selector \"p..x\""), "{e}");

        let e = error("[[rule]]\nname = \"b\"\n[rule.fields]\nx = \"div >\"\n");
        assert!(
            e.ends_with("invalid CSS selector \"div >\": dangling combinator"),
            "{e}"
        );

        let e = error(
            "[[rule]]\nname = \"book\"\n[rule.fields]\nprice = { css = \"p\", regex = \"([0-9\" }\n",
        );
        assert!(e.contains("field \"price\""), "{e}");
        assert!(e.contains("`regex` \"([0-9\" is not a valid regex"), "{e}");

        let e = error("[[rule]]\nname = \"b\"\nurl = \"(\"\n");
        assert!(e.contains("rule \"b\"") && e.contains("`url`"), "{e}");

        let e = error("[[rule]]\nname = \"b\"\nfollow = [\"a[\"]\n");
        assert!(e.contains("rule \"b\"") && e.contains("in `follow`"), "{e}");

        let e =
            error("[[rule]]\nname = \"b\"\n[rule.fields]\nx = { css = \"p\", typ = \"int\" }\n");
        assert!(
            e.contains("field \"x\"") && e.contains("unknown field `typ`"),
            "{e}"
        );

        let e =
            error("[[rule]]\nname = \"b\"\n[rule.fields]\nx = { css = \"p\", type = \"date\" }\n");
        assert!(e.contains("unknown type \"date\""), "{e}");

        let e = error(
            "[[rule]]\nname = \"b\"\n[rule.fields]\nx = { css = \"p\", attr = \"href\", html = true }\n",
        );
        assert!(e.contains("cannot both be set"), "{e}");

        let e = error("[[rule]]\nname = \"b\"\n[rule.fields]\nx = 3\n");
        assert!(
            e.contains("field \"x\"") && e.contains("got a integer"),
            "{e}"
        );

        let e = error(
            "[[rule]]\nname = \"b\"\n[rule.fields]\nitems = { css = \"li\", fields = { price = \"p >\" } }\n",
        );
        assert!(
            e.contains("rule \"b\", field \"items\": sub-field \"price\": invalid CSS selector"),
            "{e}"
        );
        let e = error(
            "[[rule]]\nname = \"b\"\n[rule.fields]\nitems = { css = \"li\", attr = \"id\", fields = { p = \"p\" } }\n",
        );
        assert!(e.contains("`fields` makes an object"), "{e}");

        let e = error("[[rule]]\nname = \"b\"\n[[rule]]\nname = \"b\"\n");
        assert!(e.contains("defined twice"), "{e}");

        let e = error(
            "[[rule]]\nname = \"b\"\n[rule.fields]\nx = { css = \"p\", regex = \"(a)(b)\" }\n",
        );
        assert!(e.contains("2 capture groups"), "{e}");
    }
}
