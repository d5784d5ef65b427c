//! Link and title extraction (interim full-DOM version).

use scraper::{Html, Selector};
use url::Url;

pub struct Page<'a> {
    pub body: &'a [u8],
    pub content_type: Option<&'a str>,
    pub url: &'a Url,
}

#[derive(Clone, Debug, Default)]
pub struct ExtractOptions {
    pub follow_nofollow: bool,
}

#[derive(Debug, Default)]
pub struct Extracted {
    pub is_html: bool,
    pub charset: &'static str,
    pub title: Option<String>,
    pub links: Vec<Url>,
    pub nofollow: usize,
    pub other_scheme: usize,
    pub invalid: usize,
}

pub fn is_html(content_type: Option<&str>, body_prefix: &[u8]) -> bool {
    match content_type {
        Some(ct) => {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("text/html") || ct.starts_with("application/xhtml+xml")
        }
        None => {
            let head = String::from_utf8_lossy(&body_prefix[..body_prefix.len().min(512)])
                .to_ascii_lowercase();
            let t = head.trim_start();
            t.starts_with("<!doctype html") || t.starts_with("<html") || t.starts_with("<head")
        }
    }
}

pub fn extract(page: &Page<'_>, opts: &ExtractOptions) -> Extracted {
    let mut out = Extracted {
        charset: "UTF-8",
        ..Default::default()
    };
    if !is_html(page.content_type, page.body) {
        return out;
    }
    out.is_html = true;
    let text = String::from_utf8_lossy(page.body);
    let doc = Html::parse_document(&text);
    let sel = |s: &str| Selector::parse(s).ok();
    if let Some(t) = sel("title").and_then(|s| doc.select(&s).next()) {
        let t: String = t.text().collect::<Vec<_>>().join(" ");
        let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        out.title = (!t.is_empty()).then_some(t);
    }
    let base = sel("base[href]")
        .and_then(|s| doc.select(&s).next())
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| page.url.join(h.trim()).ok())
        .unwrap_or_else(|| page.url.clone());
    let Some(links) =
        sel("a[href], area[href], link[rel~=canonical][href], frame[src], iframe[src]")
    else {
        return out;
    };
    for el in doc.select(&links) {
        let v = el.value();
        let href = v
            .attr("href")
            .or_else(|| v.attr("src"))
            .unwrap_or("")
            .trim();
        let nofollow = v.attr("rel").is_some_and(|r| {
            r.split_ascii_whitespace()
                .any(|x| x.eq_ignore_ascii_case("nofollow"))
        });
        if nofollow && !opts.follow_nofollow {
            out.nofollow += 1;
            continue;
        }
        match base.join(href) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => out.links.push(u),
            Ok(_) => out.other_scheme += 1,
            Err(_) => out.invalid += 1,
        }
    }
    out
}
