//! A small news site whose articles come in the encodings found in the
//! wild: ISO-8859-1 declared only by the Content-Type header, Shift_JIS
//! declared only by a `<meta>`, UTF-8 with a byte order mark and no
//! declaration at all, and plain UTF-8. `config/news.toml` is tested
//! against it.

use std::sync::Arc;

use crate::support::{Handler, Reply};

pub struct Article {
    pub path: &'static str,
    pub headline: &'static str,
    pub author: &'static str,
    /// `None`: the article has no `<time>` (a required field is missing).
    pub published: Option<&'static str>,
    pub tags: &'static [&'static str],
    pub comments: u32,
    pub featured: bool,
    pub encoding: Encoding,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// ISO-8859-1 named by the Content-Type header only.
    Latin1ByHeader,
    /// Shift_JIS named by `<meta charset>` only.
    ShiftJisByMeta,
    /// A UTF-8 byte order mark, nothing declared.
    Utf8Bom,
}

pub const ARTICLES: [Article; 4] = [
    Article {
        path: "/articles/markets.html",
        headline: "Markets rally as rates hold",
        author: "Ada Byron",
        published: Some("2026-11-20T08:00:00Z"),
        tags: &["economy", "markets"],
        comments: 42,
        featured: true,
        encoding: Encoding::Utf8,
    },
    Article {
        path: "/articles/cuisine.html",
        headline: "Caf\u{e9} cr\u{e8}me br\u{fb}l\u{e9}e \u{e0} la fran\u{e7}aise",
        author: "Zo\u{eb} \u{c5}ngstr\u{f6}m",
        published: Some("2026-11-21T12:30:00+01:00"),
        tags: &["cuisine", "\u{e9}t\u{e9}"],
        comments: 7,
        featured: false,
        encoding: Encoding::Latin1ByHeader,
    },
    Article {
        path: "/articles/keizai.html",
        headline: "\u{65e5}\u{672c}\u{8a9e}\u{306e}\u{30cb}\u{30e5}\u{30fc}\u{30b9}",
        author: "\u{5c71}\u{7530}\u{592a}\u{90ce}",
        published: Some("2026-11-22T09:00:00+09:00"),
        tags: &["\u{7d4c}\u{6e08}"],
        comments: 3,
        featured: false,
        encoding: Encoding::ShiftJisByMeta,
    },
    Article {
        path: "/articles/groesse.html",
        headline: "Gr\u{f6}\u{df}e z\u{e4}hlt: ein \u{dc}berblick",
        author: "J\u{fc}rgen M\u{fc}ller",
        published: None,
        tags: &[],
        comments: 0,
        featured: false,
        encoding: Encoding::Utf8Bom,
    },
];

fn article_html(a: &Article) -> String {
    let meta = match a.encoding {
        Encoding::Utf8 => "<meta charset=\"utf-8\">",
        Encoding::ShiftJisByMeta => "<meta charset=\"Shift_JIS\">",
        Encoding::Latin1ByHeader | Encoding::Utf8Bom => "",
    };
    let time = a
        .published
        .map(|t| format!("<time datetime=\"{t}\">{}</time>", &t[..10]))
        .unwrap_or_default();
    let tags: String = a
        .tags
        .iter()
        .map(|t| format!("<a href=\"/tags/{}.html\">{t}</a> ", t.len()))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><head>{meta}<title>{headline} - The Daily Fixture</title>\
         <link rel=\"canonical\" href=\"{path}\"></head>\n<body>\
         <nav><a href=\"/\">Front page</a> <a href=\"/archive.html\">Archive</a></nav>\n\
         <article data-featured=\"{featured}\"><h1>\n  {headline}\n</h1>\n\
         <p class=\"byline\">By <a rel=\"author\" href=\"/people/1.html\">{author}</a> {time}</p>\n\
         <div class=\"body\"><p>First paragraph.</p><p>Second &amp; last.</p></div>\n\
         <p class=\"tags\">{tags}</p>\n<p class=\"comments\">{comments} comments</p>\n\
         </article>\n<aside><a href=\"/ads/1.html\">Advertisement</a></aside></body></html>\n",
        headline = a.headline,
        author = a.author,
        path = a.path,
        featured = a.featured,
        comments = a.comments,
    )
}

/// The article's bytes and Content-Type header.
pub fn article_bytes(a: &Article) -> (Vec<u8>, &'static str) {
    let html = article_html(a);
    match a.encoding {
        Encoding::Utf8 => (html.into_bytes(), "text/html; charset=utf-8"),
        Encoding::Latin1ByHeader => (
            encoding_rs::WINDOWS_1252.encode(&html).0.into_owned(),
            "text/html; charset=ISO-8859-1",
        ),
        Encoding::ShiftJisByMeta => (
            encoding_rs::SHIFT_JIS.encode(&html).0.into_owned(),
            "text/html",
        ),
        Encoding::Utf8Bom => {
            let mut bytes = "\u{feff}".as_bytes().to_vec();
            bytes.extend_from_slice(html.as_bytes());
            (bytes, "text/html")
        }
    }
}

fn front_page() -> String {
    let items: String = ARTICLES
        .iter()
        .map(|a| format!("<li><a href=\"{}\">{}</a></li>\n", a.path, a.headline))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>The Daily Fixture</title></head>\n\
         <body><nav><a href=\"/archive.html\">Archive</a> <a href=\"/login\">Log in</a></nav>\n\
         <ul class=\"articles\">\n{items}</ul>\n<aside><a href=\"/ads/1.html\">Advertisement</a></aside>\n\
         </body></html>\n"
    )
}

/// The site; archive, ads, tags and people pages exist, so a crawl that
/// followed every link would fetch them.
pub fn handler() -> Handler {
    Arc::new(|path, _| {
        let path = path.split('?').next().unwrap_or(path);
        match path {
            "/" => return Reply::Html(front_page()),
            "/robots.txt" => {
                return Reply::Text("text/plain", "User-agent: *\nDisallow:\n".into());
            }
            _ => {}
        }
        if let Some(a) = ARTICLES.iter().find(|a| a.path == path) {
            let (body, content_type) = article_bytes(a);
            return Reply::Full(200, vec![("content-type", content_type.into())], body);
        }
        if path.ends_with(".html") || path == "/login" {
            return Reply::Html("<!DOCTYPE html><title>Elsewhere</title><p>Elsewhere.".into());
        }
        Reply::Status(404)
    })
}
