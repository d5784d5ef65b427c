//! Other parsers behind the same link collection, to compare speeds.

use std::cell::RefCell;

use super::scan::{Attr, Tag};
use super::{ExtractOptions, Extracted, Page, charset, fields, links};

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    ScanOnly,
    Scanner,
    Html5gum,
    LolHtml,
    Scraper,
}

fn classify(name: &str) -> Option<Tag> {
    Some(match name.to_ascii_lowercase().as_str() {
        "a" => Tag::A,
        "area" => Tag::Area,
        "base" => Tag::Base,
        "frame" => Tag::Frame,
        "iframe" => Tag::Iframe,
        "link" => Tag::Link,
        "meta" => Tag::Meta,
        _ => return None,
    })
}

type Events = Vec<(Tag, Vec<(String, String)>)>;

pub fn extract_with(page: &Page<'_>, opts: &ExtractOptions, backend: Backend) -> Extracted {
    if !super::is_html(page.content_type, page.body) {
        return Extracted::default();
    }
    let decoded = charset::decode(page.body, page.content_type);
    let text: &str = &decoded.text;
    let mut out = Extracted {
        is_html: true,
        charset: decoded.encoding.name(),
        ..Extracted::default()
    };
    match backend {
        Backend::Scanner => return super::extract(page, opts),
        Backend::ScanOnly => {
            let mut document = super::Document::default();
            super::scan::scan(text, &mut document);
            out.title = document.title.and_then(fields::title);
        }
        Backend::Html5gum => {
            let (events, title) = html5gum_events(text);
            replay(
                &events,
                title.as_deref(),
                page,
                decoded.encoding,
                opts,
                &mut out,
            );
        }
        Backend::LolHtml => {
            let (events, title) = lol_events(text);
            replay(
                &events,
                title.as_deref(),
                page,
                decoded.encoding,
                opts,
                &mut out,
            );
        }
        Backend::Scraper => {
            use std::sync::LazyLock;
            static LINKS: LazyLock<scraper::Selector> = LazyLock::new(|| {
                scraper::Selector::parse(
                    "a[href], area[href], link[href], frame[src], iframe[src], base[href], meta[name]",
                )
                .expect("valid selector")
            });
            static TITLE: LazyLock<scraper::Selector> =
                LazyLock::new(|| scraper::Selector::parse("title").expect("valid selector"));
            let html = scraper::Html::parse_document(text);
            let mut collected = links::Links::default();
            for el in html.select(&LINKS) {
                if let Some(tag) = classify(el.value().name()) {
                    let attrs: Vec<Attr<'_>> = el
                        .value()
                        .attrs()
                        .map(|(name, value)| Attr { name, value })
                        .collect();
                    collected.start_tag(tag, &attrs);
                }
            }
            out.title = html
                .select(&TITLE)
                .next()
                .and_then(|t| fields::title(&t.text().collect::<String>()));
            collected.resolve(page.url, decoded.encoding, opts, &mut out);
        }
    }
    out
}

fn replay(
    events: &Events,
    title: Option<&str>,
    page: &Page<'_>,
    encoding: &'static encoding_rs::Encoding,
    opts: &ExtractOptions,
    out: &mut Extracted,
) {
    let mut collected = links::Links::default();
    for (tag, attrs) in events {
        let attrs: Vec<Attr<'_>> = attrs
            .iter()
            .map(|(name, value)| Attr { name, value })
            .collect();
        collected.start_tag(*tag, &attrs);
    }
    out.title = title.and_then(fields::title);
    collected.resolve(page.url, encoding, opts, out);
}

fn html5gum_events(text: &str) -> (Events, Option<String>) {
    use html5gum::emitters::callback::{CallbackEmitter, CallbackEvent};
    let mut events: Events = Vec::new();
    let mut title: Option<String> = None;
    let mut title_done = false;
    let mut in_title = false;
    let mut current: Option<Tag> = None;
    let mut attrs: Vec<(String, String)> = Vec::new();
    let mut attr_name = String::new();
    {
        let mut emitter = CallbackEmitter::new(
            |event: CallbackEvent<'_>, _span: html5gum::Span<()>| -> Option<()> {
                match event {
                    CallbackEvent::OpenStartTag { name } => {
                        let name = String::from_utf8_lossy(name);
                        current = classify(&name);
                        attrs.clear();
                        in_title = !title_done && name.eq_ignore_ascii_case("title");
                    }
                    CallbackEvent::AttributeName { name } if current.is_some() => {
                        attr_name = String::from_utf8_lossy(name).into_owned();
                    }
                    CallbackEvent::AttributeValue { value } if current.is_some() => {
                        attrs.push((
                            std::mem::take(&mut attr_name),
                            String::from_utf8_lossy(value).into_owned(),
                        ));
                    }
                    CallbackEvent::CloseStartTag { .. } => {
                        if let Some(tag) = current.take() {
                            events.push((tag, std::mem::take(&mut attrs)));
                        }
                    }
                    CallbackEvent::String { value } if in_title => {
                        title
                            .get_or_insert_with(String::new)
                            .push_str(&String::from_utf8_lossy(value));
                    }
                    CallbackEvent::EndTag { name }
                        if in_title && name.eq_ignore_ascii_case(b"title") =>
                    {
                        in_title = false;
                        title_done = true;
                    }
                    _ => {}
                }
                None
            },
        );
        emitter.naively_switch_states(true);
        for _ in html5gum::Tokenizer::new_with_emitter(text, emitter) {}
    }
    (events, title)
}

fn lol_events(text: &str) -> (Events, Option<String>) {
    use lol_html::{HtmlRewriter, Settings, element, text};
    let events: RefCell<Events> = RefCell::new(Vec::new());
    let title: RefCell<(Option<String>, bool)> = RefCell::new((None, false));
    {
        let mut rewriter = HtmlRewriter::new(
            Settings::new()
                    .append_element_content_handler(element!(
                        "a[href], area[href], link[href], frame[src], iframe[src], base[href], meta[name]",
                        |el| {
                            if let Some(tag) = classify(&el.tag_name()) {
                                let attrs = el
                                    .attributes()
                                    .iter()
                                    .map(|a| (a.name(), a.value()))
                                    .collect();
                                events.borrow_mut().push((tag, attrs));
                            }
                            Ok(())
                        }
                    ))
                    .append_element_content_handler(text!("title", |chunk| {
                        let mut title = title.borrow_mut();
                        if !title.1 {
                            title
                                .0
                                .get_or_insert_with(String::new)
                                .push_str(chunk.as_str());
                            title.1 = chunk.last_in_text_node();
                        }
                        Ok(())
                    })),
            |_: &[u8]| {},
        );
        let _ = rewriter.write(text.as_bytes());
        let _ = rewriter.end();
    }
    (events.into_inner(), title.into_inner().0)
}

#[cfg(test)]
mod differential {
    use super::*;

    const TOKENS: &[&str] = &[
        "<a href=/u1>",
        "<a href='/u2'>",
        "<A HREF=\"/u3\">",
        "<a href=/u4",
        "<a\nhref=\"/u5\"/>",
        "<script>",
        "</script>",
        "</SCRIPT >",
        "<style>",
        "</style>",
        "<!--",
        "-->",
        "--!>",
        "-",
        "<textarea>",
        "</textarea>",
        "<title>",
        "</title>",
        ">",
        "'",
        "\"",
        " ",
        "<",
        "</",
        "<!",
        "<p title=\"",
        "<iframe src=/f>",
        "</iframe>",
        "<xmp>",
        "</xmp>",
        "<!-- <script>",
        "&amp;",
        "text",
        "<br/>",
        "<?x",
        "=",
        "<a href=/u6 rel=x>",
        "</a>",
        "<div>",
        "</p x='>'>",
        "<link rel=canonical href=/c>",
        "<area href=/ar>",
        "<!DOCTYPE html>",
        "<a href=\"/q?a=1&amp;b=2\">",
        "<noembed>",
        "</noembed>",
        "<noframes>",
        "</noframes>",
        "<a href=&#x2F;e>",
        "\n",
        "<!---->",
        "<!-->",
        "<!--->",
        "<plaintext>",
        "<a href=a>b>",
        "<a href=\"/x\"href=/y>",
        "<scriPt>",
        "<!-- <script> </script> -->",
        "</script x=\">\">",
        "<base href=/b/>",
        "<a href='  /sp  '>",
        "&#",
        "<title>T &copy; 1</title>",
        "<a href=/n&notit;>",
        "<a href='/k?x=1&copy=2'>",
        "<a href=\"",
        "<a href=javascript:x>",
        "<a =x href=/eq>",
        "<a/href=/sl>",
        "</a href=/end>",
        "<iframe>",
        "<a href>",
        "<META NAME=ROBOTS CONTENT=NOFOLLOW>",
        "<a href=/nf rel='ext nofollow'>",
    ];

    fn links(html: &str, backend: Backend) -> (Vec<String>, Option<String>, usize) {
        let url = url::Url::parse("http://example.com/d/p.html").expect("url");
        let page = Page {
            body: html.as_bytes(),
            content_type: Some("text/html"),
            url: &url,
        };
        let out = extract_with(&page, &ExtractOptions::default(), backend);
        // The tree builder clones <a> elements that formatting reopens.
        let mut seen = Vec::new();
        for u in &out.links {
            if !seen.contains(&u.to_string()) {
                seen.push(u.to_string());
            }
        }
        (seen, out.title, out.nofollow.min(1))
    }

    #[test]
    fn scanner_agrees_with_html5ever() {
        let mut rng = fastrand::Rng::with_seed(11);
        let mut failures = 0;
        for _ in 0..40000 {
            let n = rng.usize(1..30);
            let html: String = (0..n).map(|_| TOKENS[rng.usize(..TOKENS.len())]).collect();
            let ours = links(&html, Backend::Scanner);
            let theirs = links(&html, Backend::Scraper);
            if ours != theirs {
                failures += 1;
                if failures < 8 {
                    eprintln!("DIFF {html:?}\n  ours   {ours:?}\n  theirs {theirs:?}");
                }
            }
        }
        assert_eq!(failures, 0);
    }
}
