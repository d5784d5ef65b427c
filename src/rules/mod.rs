//! Extraction rules: named rule sets from the job config, each applying to
//! pages whose URL matches a pattern, each with named fields taken from the
//! page by CSS selectors and optional `follow` selectors that restrict the
//! links followed. Everything is compiled and checked once, at start-up,
//! so a bad selector or regex is reported (naming the rule and field)
//! before anything is fetched.
//!
//! ```toml
//! [[rule]]
//! name = "book"
//! url = 'catalogue/[^/]+/index\.html$'
//! follow = ["ul.pager a"]
//! [rule.fields]
//! title = "div.product_main h1"
//! price = { css = "p.price_color", regex = '([0-9.]+)', type = "float", required = true }
//! ```

mod spec;

use std::sync::Arc;

use regex::Regex;
use scraper::Selector;
use url::Url;

pub use spec::RuleSpec;

/// What a field takes from the element it selects.
#[derive(Clone, Debug)]
pub enum Take {
    /// The element's text, whitespace collapsed and trimmed.
    Text,
    /// An attribute's value, trimmed.
    Attr(String),
    /// The element's inner HTML, as serialised by the parser.
    Html,
    /// An object of sub-fields, each selected inside the element: one item
    /// of a list (a product on a listing page).
    Item(Vec<Field>),
}

/// The type a field's value is converted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Float,
    Bool,
    /// A URL resolved against the page's base URL.
    Url,
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub selector: Selector,
    pub take: Take,
    /// All matches as an array instead of the first match.
    pub many: bool,
    /// Applied to the value: the first capture group (or the whole match
    /// when the regex has none) replaces it; no match means no value.
    pub regex: Option<Regex>,
    pub kind: Kind,
    pub required: bool,
}

#[derive(Clone, Debug)]
pub struct RuleSet {
    pub name: Arc<str>,
    /// Pages whose URL this matches; `None` matches every page.
    pub url: Option<Regex>,
    /// When set, only links inside (or being) elements these select are
    /// followed; `Some(vec![])` follows no link at all.
    pub follow: Option<Vec<Selector>>,
    pub fields: Vec<Field>,
}

/// The rule sets of a job, in config order: a page gets the first whose
/// URL pattern matches it.
#[derive(Clone, Debug, Default)]
pub struct RuleSets {
    sets: Vec<RuleSet>,
}

impl RuleSets {
    /// Compiles and checks rule specs; the error names the rule and field.
    pub fn compile(specs: &[RuleSpec]) -> anyhow::Result<Self> {
        let mut sets: Vec<RuleSet> = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            let set = spec.compile(i)?;
            if sets.iter().any(|s| s.name == set.name) {
                anyhow::bail!("rule {:?} is defined twice", set.name);
            }
            sets.push(set);
        }
        Ok(Self { sets })
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    pub fn sets(&self) -> &[RuleSet] {
        &self.sets
    }

    /// The rule set for a page, by its (final) URL.
    pub fn select(&self, url: &Url) -> Option<&RuleSet> {
        self.sets
            .iter()
            .find(|s| s.url.as_ref().is_none_or(|re| re.is_match(url.as_str())))
    }

    /// Only the rule set called `name`, applying to every page whatever
    /// its URL pattern: for trying a rule set on a page it was not written
    /// for. An unknown name is an error listing the known ones.
    pub fn forced(&self, name: &str) -> anyhow::Result<Self> {
        let Some(set) = self.sets.iter().find(|s| &*s.name == name) else {
            let known: Vec<String> = self.sets.iter().map(|s| format!("{:?}", s.name)).collect();
            if known.is_empty() {
                anyhow::bail!("--rule {name:?}: the config defines no [[rule]] tables");
            }
            anyhow::bail!(
                "--rule {name:?}: no such rule set (known: {})",
                known.join(", ")
            );
        };
        Ok(Self {
            sets: vec![RuleSet {
                url: None,
                ..set.clone()
            }],
        })
    }

    /// Every field name across the rule sets, first appearance first: the
    /// columns of tabular output.
    pub fn columns(&self) -> Vec<String> {
        let mut columns: Vec<String> = Vec::new();
        for field in self.sets.iter().flat_map(|s| &s.fields) {
            if !columns.contains(&field.name) {
                columns.push(field.name.clone());
            }
        }
        columns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets() -> RuleSets {
        #[derive(serde::Deserialize)]
        struct File {
            rule: Vec<RuleSpec>,
        }
        let file: File = toml::from_str(
            "[[rule]]\nname = \"book\"\nurl = '/book/'\n\
             [[rule]]\nname = \"list\"\nurl = '/list/'\n",
        )
        .expect("valid toml");
        RuleSets::compile(&file.rule).expect("valid rules")
    }

    #[test]
    fn a_forced_rule_set_applies_to_any_url() {
        let page = Url::parse("http://shop.test/about").expect("url");
        assert!(sets().select(&page).is_none());
        let forced = sets().forced("list").expect("known name");
        assert_eq!(forced.select(&page).map(|s| &*s.name), Some("list"));
        assert_eq!(forced.sets().len(), 1);
    }

    #[test]
    fn an_unknown_forced_name_lists_the_known_ones() {
        let e = sets().forced("item").expect_err("unknown").to_string();
        assert!(e.contains(r#""item""#), "{e}");
        assert!(e.contains(r#"known: "book", "list""#), "{e}");
        let e = RuleSets::default()
            .forced("item")
            .expect_err("no rules")
            .to_string();
        assert!(e.contains("no [[rule]] tables"), "{e}");
    }
}
