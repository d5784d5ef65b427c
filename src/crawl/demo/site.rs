//! The built-in demo site: a few hundred linked pages generated in memory,
//! deterministic, with a robots.txt that disallows a section, a few broken
//! links, a link off-site and a `mailto:`, so a first crawl shows every
//! kind of outcome without touching the network.

use std::collections::HashMap;

pub struct Resource {
    pub content_type: &'static str,
    pub body: String,
}

pub struct Site {
    pub resources: HashMap<String, Resource>,
}

pub const ROBOTS_TXT: &str = "User-agent: *\nDisallow: /private/\n";

/// The path of page `i`: the root for 0, then sections of 50 pages.
pub fn page_path(i: u32) -> String {
    if i == 0 {
        "/".to_string()
    } else {
        format!("/section-{}/page-{i}.html", i / 50)
    }
}

/// A small deterministic generator (xorshift), so the site is the same on
/// every run and every machine.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % u64::from(n.max(1))) as u32
    }
}

pub fn generate(pages: u32) -> Site {
    let pages = pages.max(1);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut resources = HashMap::new();
    resources.insert(
        "/robots.txt".to_string(),
        Resource {
            content_type: "text/plain",
            body: ROBOTS_TXT.to_string(),
        },
    );
    for i in 0..pages {
        let mut links = Vec::new();
        // A tree with fanout 4 makes every page reachable from the root.
        for child in (i * 4 + 1)..=(i * 4 + 4) {
            if child < pages {
                links.push(page_path(child));
            }
        }
        for _ in 0..4 {
            links.push(page_path(rng.below(pages)));
        }
        if i > 0 {
            links.push("/".to_string());
        }
        if i % 37 == 5 {
            links.push(format!("/missing-{i}.html"));
        }
        if i % 41 == 7 {
            links.push(format!("/private/report-{i}.html"));
        }
        let items: String = links
            .iter()
            .map(|l| format!("<li><a href=\"{l}\">{l}</a></li>\n"))
            .collect();
        let body = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Demo page {i} &amp; friends</title></head>\n\
             <body><h1>Demo page {i}</h1>\n<p>A page of the collector demo site.</p>\n<ul>\n{items}</ul>\n\
             <p><a href=\"mailto:demo@example.invalid\">mail</a> \
             <a href=\"http://example.invalid/elsewhere\">elsewhere</a></p>\n</body></html>\n"
        );
        resources.insert(
            page_path(i),
            Resource {
                content_type: "text/html; charset=utf-8",
                body,
            },
        );
        if i % 41 == 7 {
            resources.insert(
                format!("/private/report-{i}.html"),
                Resource {
                    content_type: "text/html; charset=utf-8",
                    body: "<title>private</title>".to_string(),
                },
            );
        }
    }
    Site { resources }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_exists_and_links_resolve_or_are_meant_to_break() {
        let site = generate(300);
        for i in 0..300 {
            assert!(site.resources.contains_key(&page_path(i)), "page {i}");
        }
        let broken = site
            .resources
            .values()
            .flat_map(|r| r.body.match_indices("/missing-"))
            .count();
        assert!(broken > 0);
    }
}
