//! A small bookshop in the shape of common shop sites: listing pages with
//! pagination, product pages, and category pages that only the sidebar
//! links to. `config/books.toml` is tested against it.

use std::sync::Arc;

use crate::support::{Handler, Reply};

pub struct Book {
    pub slug: &'static str,
    pub title: &'static str,
    /// `None`: the page has no price element.
    pub price: Option<&'static str>,
    pub stock: u32,
    pub rating: &'static str,
    pub upc: &'static str,
    pub category: &'static str,
    pub description: &'static str,
}

pub const BOOKS_PER_PAGE: usize = 4;

pub const BOOKS: [Book; 10] = [
    Book {
        slug: "a-light-in-the-attic_1000",
        title: "A Light in the Attic",
        price: Some("51.77"),
        stock: 22,
        rating: "Three",
        upc: "a897fe39b1053632",
        category: "Poetry",
        description: "It's hard to imagine a world without A Light in the Attic.",
    },
    Book {
        slug: "tipping-the-velvet_999",
        title: "Tipping the Velvet",
        price: Some("53.74"),
        stock: 20,
        rating: "One",
        upc: "90fa61229261140a",
        category: "Historical Fiction",
        description: "Erotic and absorbing...",
    },
    Book {
        slug: "formula_998",
        title: "=HYPERLINK(\"http://evil.invalid\",\"click\")",
        price: Some("50.10"),
        stock: 3,
        rating: "Two",
        upc: "6957f44c3847a760",
        category: "Poetry",
        description: "-2+3 is not a formula here",
    },
    Book {
        slug: "tiger-the-cat_997",
        title: "Tom \"Tiger\", the Cat",
        price: Some("47.82"),
        stock: 19,
        rating: "Four",
        upc: "e00eb4fd7b871a48",
        category: "Fiction",
        description: "Line one\nline two, with a comma",
    },
    Book {
        slug: "cafe-creme_996",
        title: "Caf\u{e9} Cr\u{e8}me \u{2014} \u{65e5}\u{672c}",
        price: Some("54.23"),
        stock: 7,
        rating: "Five",
        upc: "4165285e1663650f",
        category: "Food and Drink",
        description: "Gr\u{fc}\u{df}e aus K\u{f6}ln.",
    },
    Book {
        slug: "out-of-print_995",
        title: "Out of Print",
        price: None,
        stock: 0,
        rating: "Three",
        upc: "f77dbf2323deb740",
        category: "Fiction",
        description: "No longer sold.",
    },
    Book {
        slug: "sapiens_994",
        title: "Sapiens",
        price: Some("54.23"),
        stock: 20,
        rating: "Five",
        upc: "4165285e1663650a",
        category: "History",
        description: "From a renowned historian.",
    },
    Book {
        slug: "sharp-objects_993",
        title: "Sharp Objects",
        price: Some("47.82"),
        stock: 20,
        rating: "Four",
        upc: "e00eb4fd7b871a4b",
        category: "Mystery",
        description: "WICKED above her hipbone.",
    },
    Book {
        slug: "soumission_992",
        title: "Soumission",
        price: Some("50.10"),
        stock: 20,
        rating: "One",
        upc: "6957f44c3847a76c",
        category: "Fiction",
        description: "Dans une France assez proche.",
    },
    Book {
        slug: "the-requiem-red_991",
        title: "The Requiem Red",
        price: Some("22.65"),
        stock: 19,
        rating: "One",
        upc: "f77dbf2323deb74d",
        category: "Young Adult",
        description: "Patient twenty-nine.",
    },
];

pub fn listing_pages() -> usize {
    BOOKS.len().div_ceil(BOOKS_PER_PAGE)
}

/// The path of listing page `n` (1-based).
pub fn listing_path(n: usize) -> String {
    if n == 1 {
        "/index.html".to_string()
    } else {
        format!("/catalogue/page-{n}.html")
    }
}

pub fn book_path(book: &Book) -> String {
    format!("/catalogue/{}/index.html", book.slug)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn category_slug(name: &str) -> String {
    name.to_ascii_lowercase().replace(' ', "-")
}

const SIDEBAR: [&str; 4] = ["Poetry", "Fiction", "History", "Mystery"];

fn layout(title: &str, depth: usize, main: &str) -> String {
    let up = "../".repeat(depth);
    let sidebar: String = SIDEBAR
        .iter()
        .map(|c| {
            format!(
                "<li><a href=\"{up}category/{}/index.html\">{c}</a></li>",
                category_slug(c)
            )
        })
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{} | Books to Scrape</title></head>\n<body>\
         <header><a href=\"{up}index.html\">Books to Scrape</a></header>\n\
         <aside><ul class=\"nav-list\">{sidebar}</ul></aside>\n<main>{main}</main>\n\
         <footer><a href=\"{up}about.html\">About</a></footer></body></html>\n",
        escape(title)
    )
}

fn listing(n: usize) -> String {
    // Listing page 1 sits at the root, the others under /catalogue/.
    let prefix = if n == 1 { "catalogue/" } else { "" };
    let pods: String = BOOKS
        .iter()
        .skip((n - 1) * BOOKS_PER_PAGE)
        .take(BOOKS_PER_PAGE)
        .map(|b| {
            let price = b
                .price
                .map(|p| format!("<p class=\"price_color\">\u{a3}{p}</p>"))
                .unwrap_or_default();
            format!(
                "<li><article class=\"product_pod\">\
                 <h3><a href=\"{prefix}{slug}/index.html\" title=\"{title}\">{short}...</a></h3>\
                 {price}</article></li>\n",
                slug = b.slug,
                title = escape(b.title),
                short = escape(&b.title.chars().take(8).collect::<String>()),
            )
        })
        .collect();
    let mut pager = format!("<li class=\"current\">Page {n} of {}</li>", listing_pages());
    if n > 1 {
        let prev = listing_path(n - 1);
        pager.insert_str(
            0,
            &format!("<li class=\"previous\"><a href=\"{prev}\">previous</a></li>"),
        );
    }
    if n < listing_pages() {
        pager.push_str(&format!(
            "<li class=\"next\"><a href=\"{prefix}page-{}.html\">next</a></li>",
            n + 1
        ));
    }
    let main = format!("<ol class=\"row\">\n{pods}</ol>\n<ul class=\"pager\">{pager}</ul>");
    layout(
        &format!("All products, page {n}"),
        usize::from(n > 1),
        &main,
    )
}

fn product(b: &Book) -> String {
    let price = b
        .price
        .map(|p| format!("<p class=\"price_color\">\u{a3}{p}</p>\n"))
        .unwrap_or_default();
    let availability = if b.stock > 0 {
        format!("In stock ({} available)", b.stock)
    } else {
        "Out of stock".to_string()
    };
    let main = format!(
        "<ul class=\"breadcrumb\"><li><a href=\"../../index.html\">Home</a></li>\
         <li><a href=\"../../category/{cat_slug}/index.html\">{cat}</a></li>\
         <li class=\"active\">{title}</li></ul>\n\
         <div id=\"product_gallery\"><img src=\"../../media/cache/{slug}.jpg\" alt=\"{title}\"></div>\n\
         <div class=\"product_main\"><h1>{title}</h1>\n{price}\
         <p class=\"instock availability\">\n    {availability}\n</p>\n\
         <p class=\"star-rating {rating}\"><i class=\"icon-star\"></i></p></div>\n\
         <div id=\"product_description\"><h2>Product Description</h2></div>\n<p>{description}</p>\n\
         <table class=\"table table-striped\"><tr><th>UPC</th><td>{upc}</td></tr>\
         <tr><th>Product Type</th><td>Books</td></tr></table>\n\
         <a href=\"../../index.html\">Back to the shop</a>",
        cat_slug = category_slug(b.category),
        cat = escape(b.category),
        title = escape(b.title),
        slug = b.slug,
        rating = b.rating,
        description = escape(b.description),
        upc = b.upc,
    );
    layout(b.title, 2, &main)
}

/// The shop: `/` redirects to `/index.html`; category and about pages
/// exist (a crawl following every link would fetch them).
pub fn handler() -> Handler {
    Arc::new(|path, _| {
        let path = path.split('?').next().unwrap_or(path);
        if path == "/" {
            return Reply::Redirect(301, "/index.html".into());
        }
        if path == "/robots.txt" {
            return Reply::Text("text/plain", "User-agent: *\nDisallow:\n".into());
        }
        if let Some(n) = (1..=listing_pages()).find(|&n| listing_path(n) == path) {
            return Reply::Html(listing(n));
        }
        if let Some(b) = BOOKS.iter().find(|b| book_path(b) == path) {
            return Reply::Html(product(b));
        }
        if path.starts_with("/category/") || path == "/about.html" {
            return Reply::Html(layout("Elsewhere", 2, "<p>Not a product.</p>"));
        }
        Reply::Status(404)
    })
}
