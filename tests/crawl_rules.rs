//! Extraction rules end to end: the example configs in `config/` crawled
//! against local fixture sites, with exact field values, follow selectors
//! proven by the server logs, required fields, charsets, and bad rules
//! refused before any request.

mod support;
mod support_sites;

use std::path::Path;

use collector::config::Origin;
use collector::crawl::options::{CrawlOptions, Layered};
use serde_json::{Value, json};
use support::Server;
use support_sites::{books, news};

fn config(name: &str) -> CrawlOptions {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(name);
    collector::crawl::settings::load_file(&path).expect("the example config is valid")
}

/// The example config with the test's output directory and quiet output.
fn job(name: &str, out: &Path) -> CrawlOptions {
    let mut layered = Layered::new(support::options(out), &Origin::Flag);
    layered.under(config(name), &Origin::file(Path::new(name)));
    layered.options
}

#[tokio::test]
async fn books_config_extracts_every_product_and_follows_only_what_it_names() {
    let server = Server::start("127.0.0.1", books::handler()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let summary = support::crawl(&[server.url("/")], job("books.toml", dir.path())).await;
    let records = support::records(dir.path());
    support::assert_schema_valid(&records);

    // Every listing page and every product, nothing else but the redirect.
    let mut expected: Vec<String> = (1..=books::listing_pages())
        .map(books::listing_path)
        .chain(books::BOOKS.iter().map(books::book_path))
        .chain(["/".to_string(), "/robots.txt".to_string()])
        .collect();
    expected.sort();
    let mut requested = server.paths();
    requested.sort();
    assert_eq!(
        requested, expected,
        "category, about and home links not followed"
    );

    let book = |b: &books::Book| support::record_for(&records, &server.url(&books::book_path(b)));
    let light = book(&books::BOOKS[0]);
    assert_eq!(light["rule"], "book");
    assert_eq!(
        light["data"],
        json!({
            "title": "A Light in the Attic",
            "price": 51.77,
            "in_stock": 22,
            "rating": "Three",
            "upc": "a897fe39b1053632",
            "image": server.url("/media/cache/a-light-in-the-attic_1000.jpg"),
            "description": "It's hard to imagine a world without A Light in the Attic.",
            "category": "Poetry",
        })
    );
    assert!(light.get("incomplete").is_none());
    assert_eq!(light["links"], 0, "follow = [] follows nothing");

    for b in &books::BOOKS {
        let r = book(b);
        assert_eq!(r["data"]["title"], b.title);
        assert_eq!(r["data"]["upc"], b.upc);
        match b.price {
            Some(p) => {
                assert_eq!(r["data"]["price"].as_f64(), p.parse::<f64>().ok());
                assert!(r.get("incomplete").is_none());
            }
            None => {
                assert_eq!(r["data"]["price"], Value::Null);
                assert_eq!(r["incomplete"], json!(["price"]), "kept, marked");
                assert_eq!(r["data"]["in_stock"], Value::Null, "Out of stock");
            }
        }
    }

    let first = records
        .iter()
        .find(|r| r["final_url"] == server.url("/index.html"))
        .expect("the front page, reached by a redirect");
    assert_eq!(first["url"], server.url("/"));
    assert_eq!(first["rule"], "listing");
    assert_eq!(first["data"]["page"], 1);
    let titles: Vec<&str> = books::BOOKS[..books::BOOKS_PER_PAGE]
        .iter()
        .map(|b| b.title)
        .collect();
    assert_eq!(first["data"]["books"], json!(titles));
    assert_eq!(
        first["links"],
        books::BOOKS_PER_PAGE + 1,
        "products and next"
    );

    let pages = books::listing_pages() as u64;
    let products = books::BOOKS.len() as u64;
    assert_eq!(summary.by_rule.get("listing"), Some(&pages));
    assert_eq!(summary.by_rule.get("book"), Some(&products));
    assert_eq!(summary.incomplete, 1);
    assert!(summary.skipped["not_selected"] > 0);
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("summary.json")).expect("summary.json"),
    )
    .expect("summary is JSON");
    assert_eq!(
        written["by_rule"],
        json!({"book": products, "listing": pages})
    );
    assert_eq!(written["incomplete"], 1);
}

#[tokio::test]
async fn news_config_reads_fields_in_each_page_encoding() {
    let server = Server::start("127.0.0.1", news::handler()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let summary = support::crawl(&[server.url("/")], job("news.toml", dir.path())).await;
    let records = support::records(dir.path());
    support::assert_schema_valid(&records);

    let mut requested = server.paths();
    requested.sort();
    let mut expected: Vec<String> = news::ARTICLES
        .iter()
        .map(|a| a.path.to_string())
        .chain(["/".to_string(), "/robots.txt".to_string()])
        .collect();
    expected.sort();
    assert_eq!(
        requested, expected,
        "ads, archive, tags, people not followed"
    );

    let front = support::record_for(&records, &server.url("/"));
    assert_eq!(front["rule"], "front");
    let headlines: Vec<&str> = news::ARTICLES.iter().map(|a| a.headline).collect();
    assert_eq!(front["data"]["headlines"], json!(headlines));
    let articles: Vec<Value> = news::ARTICLES
        .iter()
        .map(|a| json!({"headline": a.headline, "url": server.url(a.path)}))
        .collect();
    assert_eq!(front["data"]["articles"], json!(articles));

    for a in &news::ARTICLES {
        let r = support::record_for(&records, &server.url(a.path));
        assert_eq!(r["rule"], "article", "{}", a.path);
        let data = &r["data"];
        assert_eq!(data["headline"], a.headline, "{}", a.path);
        assert_eq!(data["author"], a.author, "{}", a.path);
        assert_eq!(data["tags"], json!(a.tags), "{}", a.path);
        assert_eq!(data["comments"], a.comments, "{}", a.path);
        assert_eq!(data["featured"], a.featured, "{}", a.path);
        assert_eq!(
            data["body"], "<p>First paragraph.</p><p>Second &amp; last.</p>",
            "{}",
            a.path
        );
        assert_eq!(data["canonical"], server.url(a.path), "{}", a.path);
        let title = format!("{} - The Daily Fixture", a.headline);
        assert_eq!(r["title"], title.as_str(), "{}", a.path);
        match a.published {
            Some(t) => {
                assert_eq!(data["published"], t);
                assert!(r.get("incomplete").is_none());
            }
            None => assert_eq!(r["incomplete"], json!(["published"])),
        }
    }
    assert_eq!(summary.by_rule.get("article"), Some(&4));
    assert_eq!(summary.incomplete, 1);
}

#[tokio::test]
async fn a_bad_rule_exits_2_naming_rule_and_field_before_any_request() {
    let server = Server::start("127.0.0.1", books::handler()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let seeds = dir.path().join("seeds.txt");
    std::fs::write(&seeds, format!("{}\n", server.url("/"))).expect("seeds");
    let cases = [
        (
            "price = { css = \"p.price_color >\", type = \"float\" }",
            "rule \"book\", field \"price\": invalid CSS selector \"p.price_color >\"",
        ),
        (
            "price = { css = \"p\", regex = \"(unclosed\" }",
            "rule \"book\", field \"price\": `regex` \"(unclosed\" is not a valid regex",
        ),
        (
            "price = { css = \"p\", kind = \"float\" }",
            "rule \"book\", field \"price\": unknown field `kind`",
        ),
    ];
    for (field, message) in cases {
        let config = dir.path().join("job.toml");
        std::fs::write(
            &config,
            format!("[[rule]]\nname = \"book\"\n[rule.fields]\ntitle = \"h1\"\n{field}\n"),
        )
        .expect("config");
        let out = dir.path().join("out");
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
            .arg("crawl")
            .arg(&seeds)
            .arg("--config")
            .arg(&config)
            .arg("--out")
            .arg(&out)
            .arg("--quiet")
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .expect("collector runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
        assert!(stderr.contains("job.toml"), "names the file: {stderr}");
        assert!(!out.exists(), "nothing was started");
    }
    assert!(server.paths().is_empty(), "nothing was fetched");
}

#[tokio::test]
async fn books_csv_has_field_columns_in_config_order_quoted_and_guarded() {
    let server = Server::start("127.0.0.1", books::handler()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // The config's [output] table asks for jsonl and csv.
    support::crawl(&[server.url("/")], job("books.toml", dir.path())).await;

    let mut reader = csv::Reader::from_path(dir.path().join("pages.csv")).expect("pages.csv");
    let header: Vec<String> = reader
        .headers()
        .expect("header row")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header[..9], collector::sink::csv::RECORD_COLUMNS);
    assert_eq!(
        header[9..],
        [
            "page",
            "books",
            "data.title",
            "price",
            "in_stock",
            "rating",
            "upc",
            "image",
            "description",
            "category"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .map(|r| r.expect("a well-formed row"))
        .collect();
    assert_eq!(rows.len(), support::records(dir.path()).len());
    let row = |b: &books::Book| {
        let url = server.url(&books::book_path(b));
        rows.iter()
            .find(|r| r.get(0) == Some(url.as_str()))
            .unwrap_or_else(|| panic!("no row for {url}"))
    };
    let cell = |r: &csv::StringRecord, name: &str| {
        let i = header.iter().position(|h| h == name).expect("column");
        r.get(i).expect("cell").to_string()
    };

    let light = row(&books::BOOKS[0]);
    assert_eq!(cell(light, "status"), "200");
    assert_eq!(cell(light, "price"), "51.77");
    assert_eq!(cell(light, "in_stock"), "22");
    assert_eq!(
        cell(light, "page"),
        "",
        "a listing field, empty on a product"
    );

    // Spreadsheet formulas are neutralised; the text is otherwise intact.
    let formula = row(&books::BOOKS[2]);
    assert_eq!(
        cell(formula, "data.title"),
        format!("'{}", books::BOOKS[2].title)
    );
    assert_eq!(
        cell(formula, "description"),
        format!("'{}", books::BOOKS[2].description)
    );
    // Quotes, commas, newlines and non-ASCII text survive the quoting.
    let tiger = row(&books::BOOKS[3]);
    assert_eq!(cell(tiger, "data.title"), books::BOOKS[3].title);
    assert_eq!(
        cell(tiger, "description"),
        "Line one line two, with a comma",
        "text fields collapse whitespace"
    );
    let raw = std::fs::read_to_string(dir.path().join("pages.csv")).expect("pages.csv");
    assert!(raw.contains(r#","Tom ""Tiger"", the Cat","#), "{raw}");
    let cafe = row(&books::BOOKS[4]);
    assert_eq!(cell(cafe, "data.title"), books::BOOKS[4].title);
    // A required field that did not match is an empty cell.
    let out_of_print = row(&books::BOOKS[5]);
    assert_eq!(cell(out_of_print, "price"), "");

    let first = rows
        .iter()
        .find(|r| cell(r, "page") == "1")
        .expect("the first listing page");
    let titles: Vec<&str> = books::BOOKS[..books::BOOKS_PER_PAGE]
        .iter()
        .map(|b| b.title)
        .collect();
    let listed: Vec<String> =
        serde_json::from_str(&cell(first, "books")).expect("a many field is a JSON array cell");
    assert_eq!(listed, titles);
}

#[tokio::test]
async fn a_page_nested_too_deep_keeps_its_record_and_links_without_fields() {
    let mut deep = String::from("<!DOCTYPE html><title>deep</title><a href=/ok.html>ok</a>");
    deep.push_str(&"<div>".repeat(100_000));
    let pages = std::collections::HashMap::from([
        ("/deep.html".to_string(), deep),
        (
            "/ok.html".to_string(),
            "<!DOCTYPE html><h1>fine</h1>".to_string(),
        ),
    ]);
    let server = Server::start("127.0.0.1", support::pages(pages)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = support::options(dir.path());
    options.rule = Some(vec![
        toml::from_str("name = \"any\"\n[fields]\nheading = { css = \"h1\", required = true }\n")
            .expect("valid rule"),
    ]);
    let summary = support::crawl(&[server.url("/deep.html")], options).await;
    let records = support::records(dir.path());
    support::assert_schema_valid(&records);
    let deep = support::record_for(&records, &server.url("/deep.html"));
    assert_eq!(deep["status"], 200);
    assert_eq!(deep["error"]["kind"], "too_deep");
    assert_eq!(deep["rule"], "any");
    assert_eq!(deep["data"], json!({"heading": null}));
    assert_eq!(deep["incomplete"], json!(["heading"]));
    let ok = support::record_for(&records, &server.url("/ok.html"));
    assert_eq!(
        ok["data"],
        json!({"heading": "fine"}),
        "its link was followed"
    );
    assert_eq!(summary.by_error.get("too_deep"), Some(&1));
}
