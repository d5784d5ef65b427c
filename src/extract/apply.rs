//! Applying a rule set's fields to a parsed page: selectors over the DOM,
//! values taken, matched against their regex and converted to their type.

use scraper::{ElementRef, Html};
use serde_json::{Map, Value};
use url::Url;

use super::join_words;
use crate::rules::{Field, Kind, RuleSet, Take};

/// The fields a rule set extracted from one page.
#[derive(Debug, Default, PartialEq)]
pub struct FieldValues {
    /// Every field of the rule set, by name, in config order: `null` (or
    /// `[]` with `many`) when nothing matched.
    pub data: Map<String, Value>,
    /// Required fields that got no value.
    pub missing: Vec<String>,
}

impl FieldValues {
    /// Adds a field's value; `None` is written as `null` (`[]` with
    /// `many`) and, for a required field, listed as missing.
    fn record(&mut self, field: &Field, value: Option<Value>) {
        if value.is_none() && field.required {
            self.missing.push(field.name.clone());
        }
        let empty = if field.many {
            Value::Array(Vec::new())
        } else {
            Value::Null
        };
        self.data.insert(field.name.clone(), value.unwrap_or(empty));
    }
}

/// The values of a rule set whose page could not be read: every field
/// empty, every required one missing.
pub fn unmatched(set: &RuleSet) -> FieldValues {
    let mut out = FieldValues::default();
    for field in &set.fields {
        out.record(field, None);
    }
    out
}

/// Extracts every field of `set` from `doc`; `resolve` turns the values of
/// `url` fields into absolute URLs (against the page's base URL, queries in
/// the page's encoding, as its links are).
pub fn apply(set: &RuleSet, doc: &Html, resolve: &dyn Fn(&str) -> Option<Url>) -> FieldValues {
    let mut out = FieldValues::default();
    for field in &set.fields {
        let mut missing = Vec::new();
        let value = field_value(field, doc.select(&field.selector), resolve, &mut missing);
        out.record(field, value);
        for name in missing {
            if !out.missing.contains(&name) {
                out.missing.push(name);
            }
        }
    }
    out
}

/// A field's value from the elements its selector matched: the first with
/// a value, or all of them with `many`. Required sub-fields of items that
/// got no value go into `missing` as `field.sub`.
fn field_value<'a>(
    field: &Field,
    matches: impl Iterator<Item = ElementRef<'a>>,
    resolve: &dyn Fn(&str) -> Option<Url>,
    missing: &mut Vec<String>,
) -> Option<Value> {
    let mut values = matches.filter_map(|element| value(field, element, resolve, missing));
    if field.many {
        let all: Vec<Value> = values.collect();
        (!all.is_empty()).then_some(Value::Array(all))
    } else {
        values.next()
    }
}

/// One element's value for `field`, or `None` when it has none (attribute
/// absent, empty text, regex not matching, not convertible to the type).
fn value(
    field: &Field,
    element: ElementRef<'_>,
    resolve: &dyn Fn(&str) -> Option<Url>,
    missing: &mut Vec<String>,
) -> Option<Value> {
    let raw = match &field.take {
        Take::Text => collapse(element.text()),
        Take::Attr(name) => element.value().attr(name)?.trim().to_string(),
        Take::Html => element.inner_html(),
        Take::Item(sub_fields) => {
            let mut item = FieldValues::default();
            for sub in sub_fields {
                let mut nested = Vec::new();
                let v = field_value(sub, element.select(&sub.selector), resolve, &mut nested);
                item.record(sub, v);
                item.missing.extend(nested);
            }
            for name in item.missing {
                let name = format!("{}.{name}", field.name);
                if !missing.contains(&name) {
                    missing.push(name);
                }
            }
            return Some(Value::Object(item.data));
        }
    };
    let raw = match &field.regex {
        Some(re) => {
            let caps = re.captures(&raw)?;
            caps.get(1).or_else(|| caps.get(0))?.as_str().to_string()
        }
        None => raw,
    };
    convert(field.kind, raw, resolve)
}

/// Text pieces joined, whitespace runs collapsed to one space, trimmed.
fn collapse<'a>(pieces: impl Iterator<Item = &'a str>) -> String {
    let whole: String = pieces.collect();
    join_words(whole.split_whitespace(), whole.len())
}

fn convert(kind: Kind, raw: String, resolve: &dyn Fn(&str) -> Option<Url>) -> Option<Value> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(match kind {
        Kind::String => Value::String(if trimmed.len() == raw.len() {
            raw
        } else {
            trimmed.to_string()
        }),
        Kind::Integer => Value::from(trimmed.parse::<i64>().ok()?),
        Kind::Float => {
            let f = trimmed.parse::<f64>().ok().filter(|f| f.is_finite())?;
            Value::from(f)
        }
        Kind::Bool => Value::Bool(match trimmed.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => true,
            "false" | "no" | "0" | "off" => false,
            _ => return None,
        }),
        Kind::Url => Value::String(resolve(trimmed)?.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleSets, RuleSpec};

    fn rules(fields: &str) -> RuleSets {
        #[derive(serde::Deserialize)]
        struct File {
            rule: Vec<RuleSpec>,
        }
        let text = format!("[[rule]]\nname = \"t\"\n[rule.fields]\n{fields}");
        let file: File = toml::from_str(&text).expect("valid toml");
        RuleSets::compile(&file.rule).expect("valid rules")
    }

    fn run(fields: &str, html: &str) -> FieldValues {
        let sets = rules(fields);
        let doc = Html::parse_document(html);
        let base = Url::parse("http://shop.test/catalogue/item/index.html").expect("url");
        apply(&sets.sets()[0], &doc, &|href: &str| base.join(href).ok())
    }

    const PAGE: &str = r#"<html><head><title>A  Light</title></head><body>
        <div class="product"><h1>
            A Light in
            the <em>Attic</em></h1>
          <p class="price">£51.77</p>
          <p class="stock"> In stock (22 available) </p>
          <img src="../../media/a.jpg" alt="cover">
          <ul><li class="tag">poetry</li><li class="tag"> classics </li><li class="tag"> </li></ul>
          <div class="desc"><p>It's <b>here</b> &amp; now</p></div>
          <span class="flag">Yes</span><span class="neg">-3</span>
        </div></body></html>"#;

    #[test]
    fn text_attr_html_many_regex_types() {
        let got = run(
            r#"title = "h1"
            price = { css = "p.price", regex = '([0-9.]+)', type = "float" }
            stock = { css = "p.stock", regex = '\((\d+) available\)', type = "integer" }
            image = { css = "img", attr = "src", type = "url" }
            alt = { css = "img", attr = "alt" }
            tags = { css = ".tag", many = true }
            desc = { css = "div.desc", html = true }
            flag = { css = ".flag", type = "bool" }
            neg = { css = ".neg", type = "integer" }
            whole = { css = "p.price", regex = '\d+' }
            "#,
            PAGE,
        );
        let expected = serde_json::json!({
            "title": "A Light in the Attic",
            "price": 51.77,
            "stock": 22,
            "image": "http://shop.test/media/a.jpg",
            "alt": "cover",
            "tags": ["poetry", "classics"],
            "desc": "<p>It's <b>here</b> &amp; now</p>",
            "flag": true,
            "neg": -3,
            "whole": "51",
        });
        assert_eq!(Value::Object(got.data.clone()), expected);
        let order: Vec<&String> = got.data.keys().collect();
        assert_eq!(order[..3], ["title", "price", "stock"]);
        assert!(got.missing.is_empty());
    }

    #[test]
    fn required_missing_fields_are_listed_and_null() {
        let got = run(
            r#"title = { css = "h1", required = true }
            isbn = { css = ".isbn", required = true }
            rating = { css = "p.price", type = "integer", required = true }
            reviews = { css = ".review", many = true, required = true }
            note = ".note"
            "#,
            PAGE,
        );
        assert_eq!(got.missing, ["isbn", "rating", "reviews"]);
        assert_eq!(got.data["isbn"], Value::Null);
        assert_eq!(got.data["rating"], Value::Null, "£51.77 is not an integer");
        assert_eq!(got.data["reviews"], serde_json::json!([]));
        assert_eq!(got.data["note"], Value::Null);
    }

    #[test]
    fn items_are_objects_of_sub_fields() {
        let got = run(
            r#"products = { css = "li.pod", many = true, required = true, fields = { title = { css = "a", attr = "title", required = true }, price = { css = ".p", regex = '([0-9.]+)', type = "float" }, link = { css = "a", attr = "href", type = "url" } } }
            first = { css = "li.pod", fields = { title = "a" } }
            none = { css = "li.absent", many = true, fields = { title = "a" } }
            "#,
            r#"<ul><li class=pod><a href="a.html" title="Alpha">A</a><span class=p>£1.50</span></li>
               <li class=pod><a href="b.html">B</a></li></ul>"#,
        );
        assert_eq!(
            got.data["products"],
            serde_json::json!([
                {"title": "Alpha", "price": 1.5, "link": "http://shop.test/catalogue/item/a.html"},
                {"title": null, "price": null, "link": "http://shop.test/catalogue/item/b.html"},
            ])
        );
        assert_eq!(got.data["first"], serde_json::json!({"title": "A"}));
        assert_eq!(got.data["none"], serde_json::json!([]));
        assert_eq!(got.missing, ["products.title"]);
    }

    #[test]
    fn first_element_with_a_value_wins() {
        let got = run(
            r#"link = { css = "a", attr = "href" }"#,
            "<a name=x>no href</a><a href='/one'>1</a><a href='/two'>2</a>",
        );
        assert_eq!(got.data["link"], "/one");
    }

    #[test]
    fn text_keeps_word_boundaries_between_elements() {
        let got = run(
            r#"t = "div""#,
            "<div><span>one</span> <span>two</span>\n<b>three</b>four</div>",
        );
        assert_eq!(got.data["t"], "one two threefour");
    }
}
