//! What field extraction costs per page (`harness = false`): a typical shop
//! product page (about 9 KB: header, a sidebar of 50 categories, the
//! product block, a description, a table, a footer), extracted three ways
//! on one thread, best of several passes:
//!
//! - links and title by the scanner (pages no rule set applies to),
//! - the `config/books.toml` rules: one html5ever parse gives the fields,
//!   links and title,
//! - the html5ever parse alone, to show where the time goes.
//!
//! ```sh
//! cargo bench --bench rules
//! ```

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use collector::extract::{ExtractOptions, Page, extract, extract_with};
use collector::rules::RuleSets;
use url::Url;

const PAGES: usize = 300;
const PASSES: usize = 7;

fn product_page(i: usize) -> String {
    let sidebar: String = (0..50)
        .map(|c| {
            format!(
                "<li>\n<a href=\"../../category/books/category-{c}_{}/index.html\">\n    Category number {c}\n</a>\n</li>\n",
                c + 2
            )
        })
        .collect();
    let description = "A thoughtful, well-paced story about people and places. ".repeat(20);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en-us\" class=\"no-js\"><head><meta charset=\"utf-8\">\
         <title>Book number {i} | Books to Scrape - Sandbox</title>\
         <meta name=\"description\" content=\"{description}\">\
         <link rel=\"stylesheet\" href=\"../../static/css/styles.css\">\
         <script src=\"../../static/js/app.js\"></script></head>\n<body id=\"default\" class=\"default\">\
         <header class=\"header container-fluid\"><div class=\"page_inner\"><div class=\"row\">\
         <div class=\"col-sm-8 h1\"><a href=\"../../index.html\">Books to Scrape</a><small> We love being scraped!</small></div>\
         </div></div></header>\n<div class=\"container-fluid page\"><div class=\"page_inner\">\
         <ul class=\"breadcrumb\"><li><a href=\"../../index.html\">Home</a></li>\
         <li><a href=\"../category/books_1/index.html\">Books</a></li>\
         <li><a href=\"../category/books/poetry_23/index.html\">Poetry</a></li>\
         <li class=\"active\">Book number {i}</li></ul>\n\
         <aside class=\"sidebar col-sm-4 col-md-3\"><div class=\"side_categories\"><ul class=\"nav nav-list\">\n{sidebar}</ul></div></aside>\n\
         <article class=\"product_page\"><div class=\"row\">\
         <div class=\"col-sm-6\"><div id=\"product_gallery\" class=\"carousel\"><div class=\"thumbnail\">\
         <div class=\"carousel-inner\"><div class=\"item active\">\
         <img src=\"../../media/cache/fe/72/{i}.jpg\" alt=\"Book number {i}\"></div></div></div></div></div>\n\
         <div class=\"col-sm-6 product_main\"><h1>Book number {i}</h1>\
         <p class=\"price_color\">\u{a3}{}.{:02}</p>\
         <p class=\"instock availability\"><i class=\"icon-ok\"></i>\n    In stock ({} available)\n</p>\
         <p class=\"star-rating Three\"><i class=\"icon-star\"></i><i class=\"icon-star\"></i></p>\
         <hr><div class=\"alert alert-warning\" role=\"alert\"><strong>Warning!</strong> This is a demo website.</div></div></div>\n\
         <div id=\"product_description\" class=\"sub-header\"><h2>Product Description</h2></div>\n\
         <p>{description}</p>\n<div class=\"sub-header\"><h2>Product Information</h2></div>\n\
         <table class=\"table table-striped\"><tr><th>UPC</th><td>a897fe39b105{i:04}</td></tr>\
         <tr><th>Product Type</th><td>Books</td></tr><tr><th>Price (excl. tax)</th><td>\u{a3}51.77</td></tr>\
         <tr><th>Tax</th><td>\u{a3}0.00</td></tr><tr><th>Availability</th><td>In stock (22 available)</td></tr>\
         <tr><th>Number of reviews</th><td>0</td></tr></table></article>\n\
         </div></div>\n<footer class=\"footer container-fluid\"><a href=\"../../about.html\">About</a></footer>\
         <script>var x = '<a href=\"/not-a-link\">';</script></body></html>\n",
        10 + i % 50,
        i % 100,
        1 + i % 30,
    )
}

/// Runs `f` over every page `PASSES` times; the fastest pass in µs/page.
fn time(pages: &[(String, Url)], mut f: impl FnMut(&[u8], &Url) -> usize) -> (f64, usize) {
    let mut best = f64::INFINITY;
    let mut checksum = 0;
    for _ in 0..PASSES {
        let started = Instant::now();
        checksum = 0;
        for (html, url) in pages {
            checksum += f(html.as_bytes(), url);
        }
        best = best.min(started.elapsed().as_secs_f64() * 1e6 / pages.len() as f64);
    }
    (best, checksum)
}

fn main() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/books.toml");
    let options = match collector::crawl::settings::load_file(&config) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e:#}");
            std::process::exit(1);
        }
    };
    let rules = match RuleSets::compile(options.rule.as_deref().unwrap_or_default()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e:#}");
            std::process::exit(1);
        }
    };
    let pages: Vec<(String, Url)> = (0..PAGES)
        .filter_map(|i| {
            let url =
                Url::parse(&format!("http://shop.test/catalogue/book-{i}_1/index.html")).ok()?;
            Some((product_page(i), url))
        })
        .collect();
    let bytes: usize = pages.iter().map(|(h, _)| h.len()).sum();
    let opts = ExtractOptions::default();
    let (scan, scan_links) = time(&pages, |body, url| {
        let p = Page {
            body,
            content_type: Some("text/html; charset=utf-8"),
            url,
        };
        black_box(extract(&p, &opts)).links.len()
    });
    let (ruled, fields) = time(&pages, |body, url| {
        let p = Page {
            body,
            content_type: Some("text/html; charset=utf-8"),
            url,
        };
        let found = black_box(extract_with(&p, &opts, Some(&rules)));
        found
            .fields
            .map_or(0, |f| f.data.values().filter(|v| !v.is_null()).count())
    });
    let (parse, nodes) = time(&pages, |body, _| {
        let text = std::str::from_utf8(body).unwrap_or("");
        black_box(scraper::Html::parse_document(text))
            .tree
            .nodes()
            .count()
    });
    println!(
        "{PAGES} product pages, {:.1} KB each on average, one thread, best of {PASSES} passes",
        bytes as f64 / PAGES as f64 / 1024.0
    );
    println!(
        "  scanner, links + title (no rule set):     {scan:7.1} µs/page  ({} links/page)",
        scan_links / PAGES
    );
    println!(
        "  books.toml rule set, fields+links+title:  {ruled:7.1} µs/page  ({} fields/page)  {:.1}x the scanner",
        fields / PAGES,
        ruled / scan
    );
    println!(
        "  of which the html5ever parse alone:       {parse:7.1} µs/page  ({} nodes/page)",
        nodes / PAGES
    );
}
