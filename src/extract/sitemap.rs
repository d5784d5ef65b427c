//! Sitemaps (sitemaps.org protocol): XML `<urlset>` and `<sitemapindex>`
//! files and plain-text lists, gzip-compressed or not, read as a stream so
//! that a 50 MB sitemap never sits in memory whole.
//!
//! A bad reference in a `<loc>` (`&nbsp;`, an undeclared entity, a bare `&`
//! in a query) does not end the reading: the entry is kept with the
//! reference as written, which is the URL its author most likely meant
//! (`?a=1&b=2`), and the problem is remembered with its byte position.

use std::pin::Pin;

use async_compression::tokio::bufread::GzipDecoder;
use quick_xml::events::Event;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader, Lines};

/// The protocol caps a sitemap at 50 MB uncompressed; a little slack for
/// servers that round up.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// One `<loc>` (or text line) of a sitemap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A page to crawl (`<url><loc>` or a line of a text sitemap).
    Page(String),
    /// Another sitemap (`<sitemap><loc>` of an index).
    Sitemap(String),
}

#[derive(Debug, thiserror::Error)]
pub enum SitemapError {
    #[error("malformed sitemap XML near byte {position}: {message}")]
    Xml { position: u64, message: String },
    /// A reference in a `<loc>` that is no XML entity; the entry was kept
    /// with `reference` as written.
    #[error(
        "sitemap entry at byte {position}: {reference:?} is not an XML entity (write & as &amp;); kept as written"
    )]
    Reference { position: u64, reference: String },
    #[error("could not read the sitemap: {0}")]
    Io(#[from] std::io::Error),
}

type Body = Pin<Box<dyn AsyncBufRead + Send>>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Parent {
    Url,
    Sitemap,
}

/// Problems remembered per sitemap; the rest are only counted.
const MAX_PROBLEMS: usize = 10;

struct XmlState {
    reader: quick_xml::Reader<Body>,
    buf: Vec<u8>,
    parent: Option<Parent>,
    in_loc: bool,
    loc: String,
    problems: Vec<SitemapError>,
    problem_count: usize,
}

enum Format {
    Xml(Box<XmlState>),
    Text(Lines<Body>),
}

/// Pulls entries out of a sitemap body one at a time.
pub struct SitemapReader {
    format: Format,
}

fn is_gzip(prefix: &[u8]) -> bool {
    prefix.starts_with(&[0x1f, 0x8b])
}

/// Whether the body (after any BOM and white space) starts like XML.
fn is_xml(prefix: &[u8]) -> bool {
    let prefix = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    prefix.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

impl SitemapReader {
    /// Looks at the first bytes to tell gzip, XML and text apart.
    pub async fn open(body: impl AsyncRead + Send + 'static) -> Result<Self, SitemapError> {
        let mut raw: Body = Box::pin(BufReader::new(body));
        let gzip = is_gzip(raw.as_mut().fill_buf().await?);
        let mut body: Body = if gzip {
            Box::pin(BufReader::new(GzipDecoder::new(raw).take(MAX_BYTES)))
        } else {
            Box::pin(raw.take(MAX_BYTES))
        };
        let xml = is_xml(body.as_mut().fill_buf().await?);
        let format = if xml {
            let mut reader = quick_xml::Reader::from_reader(body);
            reader.config_mut().trim_text(true);
            // A bare `&` comes as text, so that the entry keeps it.
            reader.config_mut().allow_dangling_amp = true;
            Format::Xml(Box::new(XmlState {
                reader,
                buf: Vec::new(),
                parent: None,
                in_loc: false,
                loc: String::new(),
                problems: Vec::new(),
                problem_count: 0,
            }))
        } else {
            Format::Text(body.lines())
        };
        Ok(Self { format })
    }

    /// The next entry, or `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Entry>, SitemapError> {
        match &mut self.format {
            Format::Text(lines) => {
                while let Some(line) = lines.next_line().await? {
                    let line = line.trim();
                    if !line.is_empty() {
                        return Ok(Some(Entry::Page(line.to_string())));
                    }
                }
                Ok(None)
            }
            Format::Xml(state) => state.next().await,
        }
    }

    /// The entries kept despite a bad reference so far (the first ten),
    /// and how many there were in all.
    pub fn problems(&self) -> (&[SitemapError], usize) {
        match &self.format {
            Format::Xml(state) => (&state.problems, state.problem_count),
            Format::Text(_) => (&[], 0),
        }
    }
}

impl XmlState {
    fn error(&self, message: impl ToString) -> SitemapError {
        SitemapError::Xml {
            position: self.reader.error_position(),
            message: message.to_string(),
        }
    }

    /// Keeps `reference` (found at byte `position`) in the entry as written.
    fn keep_as_written(&mut self, position: u64, reference: &str) {
        self.loc.push_str(reference);
        self.problem_count += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(SitemapError::Reference {
                position,
                reference: reference.to_string(),
            });
        }
    }

    async fn next(&mut self) -> Result<Option<Entry>, SitemapError> {
        loop {
            self.buf.clear();
            // A reference (and the text of a bare `&`) starts where the
            // previous event ended.
            let position = self.reader.buffer_position();
            let event = match self.reader.read_event_into_async(&mut self.buf).await {
                Ok(e) => e.into_owned(),
                Err(e) => return Err(self.error(e)),
            };
            match event {
                Event::Start(e) => match e.local_name().as_ref() {
                    b"url" => self.parent = Some(Parent::Url),
                    b"sitemap" => self.parent = Some(Parent::Sitemap),
                    b"loc" => {
                        self.in_loc = true;
                        self.loc.clear();
                    }
                    _ => {}
                },
                Event::Text(t) if self.in_loc => {
                    let text = t.decode().map_err(|e| self.error(e))?;
                    // Text holds `&` only when it is a bare one, which
                    // starts the text.
                    match text.strip_prefix('&') {
                        Some(rest) => {
                            self.keep_as_written(position, "&");
                            self.loc.push_str(rest);
                        }
                        None => self.loc.push_str(&text),
                    }
                }
                Event::CData(t) if self.in_loc => {
                    let text = t.decode().map_err(|e| self.error(e))?;
                    self.loc.push_str(&text);
                }
                Event::GeneralRef(r) if self.in_loc => {
                    // `&amp;` in a query string is the common case.
                    let name = r.decode().map_err(|e| self.error(e))?;
                    let entity = format!("&{name};");
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        Ok(None) => quick_xml::escape::unescape(&entity)
                            .ok()
                            .map(|s| s.into_owned()),
                        Err(_) => None,
                    };
                    match resolved {
                        Some(text) => self.loc.push_str(&text),
                        None => self.keep_as_written(position, &entity),
                    }
                }
                Event::End(e) => match e.local_name().as_ref() {
                    b"loc" => {
                        self.in_loc = false;
                        let loc = self.loc.trim().to_string();
                        match self.parent {
                            Some(Parent::Url) if !loc.is_empty() => {
                                return Ok(Some(Entry::Page(loc)));
                            }
                            Some(Parent::Sitemap) if !loc.is_empty() => {
                                return Ok(Some(Entry::Sitemap(loc)));
                            }
                            _ => {}
                        }
                    }
                    b"url" | b"sitemap" => self.parent = None,
                    _ => {}
                },
                Event::Eof => {
                    if self.in_loc || self.parent.is_some() {
                        return Err(self.error("the file ends inside an entry"));
                    }
                    return Ok(None);
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    async fn all(bytes: Vec<u8>) -> Result<Vec<Entry>, SitemapError> {
        let mut r = SitemapReader::open(std::io::Cursor::new(bytes)).await?;
        let mut out = Vec::new();
        while let Some(e) = r.next().await? {
            out.push(e);
        }
        Ok(out)
    }

    fn page(s: &str) -> Entry {
        Entry::Page(s.to_string())
    }

    const URLSET: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>http://h/a</loc><lastmod>2026-01-01</lastmod></url>
  <url><loc>
     http://h/b?x=1&amp;y=2
  </loc></url>
  <url><loc><![CDATA[http://h/c]]></loc></url>
</urlset>"#;

    #[tokio::test]
    async fn urlset_entries_with_entities_and_cdata() {
        let got = all(URLSET.as_bytes().to_vec()).await.expect("valid");
        assert_eq!(
            got,
            [
                page("http://h/a"),
                page("http://h/b?x=1&y=2"),
                page("http://h/c")
            ]
        );
    }

    #[tokio::test]
    async fn index_entries_are_sitemaps() {
        let xml = r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <sitemap><loc>http://h/s1.xml.gz</loc></sitemap></sitemapindex>"#;
        let got = all(xml.as_bytes().to_vec()).await.expect("valid");
        assert_eq!(got, [Entry::Sitemap("http://h/s1.xml.gz".into())]);
    }

    #[tokio::test]
    async fn gzip_is_detected_by_its_magic_bytes() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(URLSET.as_bytes()).expect("compress");
        let got = all(gz.finish().expect("compress")).await.expect("valid");
        assert_eq!(got.len(), 3);
    }

    #[tokio::test]
    async fn text_sitemaps_list_one_url_per_line() {
        let got = all(b"http://h/1\n\n  http://h/2  \r\n".to_vec())
            .await
            .expect("valid");
        assert_eq!(got, [page("http://h/1"), page("http://h/2")]);
    }

    /// Every entry of `xml`, and the problems with their positions.
    async fn read_with_problems(xml: &str) -> (Vec<Entry>, Vec<(u64, String)>, usize) {
        let mut r = SitemapReader::open(std::io::Cursor::new(xml.as_bytes().to_vec()))
            .await
            .expect("open");
        let mut entries = Vec::new();
        while let Some(e) = r.next().await.expect("no fatal error") {
            entries.push(e);
        }
        let (problems, count) = r.problems();
        let problems = problems
            .iter()
            .map(|p| match p {
                SitemapError::Reference {
                    position,
                    reference,
                } => (*position, reference.clone()),
                other => panic!("unexpected {other}"),
            })
            .collect();
        (entries, problems, count)
    }

    #[tokio::test]
    async fn a_bad_reference_keeps_its_entry_and_the_ones_after() {
        let xml = "<urlset>\n<url><loc>http://h/a</loc></url>\n\
                   <url><loc>http://h/q?a=1&b=2</loc></url>\n\
                   <url><loc>http://h/x&nbsp;y</loc></url>\n\
                   <url><loc>http://h/&undeclared;/&#xZZ;</loc></url>\n\
                   <url><loc>http://h/z?a=1&amp;b=2&#47;</loc></url>\n</urlset>";
        let (entries, problems, count) = read_with_problems(xml).await;
        assert_eq!(
            entries,
            [
                page("http://h/a"),
                page("http://h/q?a=1&b=2"),
                page("http://h/x&nbsp;y"),
                page("http://h/&undeclared;/&#xZZ;"),
                page("http://h/z?a=1&b=2/"),
            ]
        );
        let at = |needle: &str| xml.find(needle).expect("in the text") as u64;
        assert_eq!(
            problems,
            [
                (at("&b=2<"), "&".to_string()),
                (at("&nbsp;"), "&nbsp;".to_string()),
                (at("&undeclared;"), "&undeclared;".to_string()),
                (at("&#xZZ;"), "&#xZZ;".to_string()),
            ]
        );
        assert_eq!(count, 4);
    }

    #[tokio::test]
    async fn the_message_names_the_byte_of_the_reference() {
        let xml = "<urlset><url><loc>http://h/x&nbsp;y</loc></url></urlset>";
        let mut r = SitemapReader::open(std::io::Cursor::new(xml.as_bytes().to_vec()))
            .await
            .expect("open");
        while r.next().await.expect("no fatal error").is_some() {}
        let message = r.problems().0[0].to_string();
        assert!(message.contains("at byte 28: \"&nbsp;\""), "{message}");
        assert_eq!(xml.find('&'), Some(28));
    }

    #[tokio::test]
    async fn problems_past_the_first_ten_are_counted() {
        let entries: String = (0..25)
            .map(|n| format!("<url><loc>http://h/{n}?a&b</loc></url>"))
            .collect();
        let (got, problems, count) =
            read_with_problems(&format!("<urlset>{entries}</urlset>")).await;
        assert_eq!(got.len(), 25);
        assert_eq!((problems.len(), count), (MAX_PROBLEMS, 25));
    }

    #[tokio::test]
    async fn malformed_xml_is_an_error_after_the_good_entries() {
        let xml = b"<urlset><url><loc>http://h/a</loc></url><url><loc>http://h/b</lo".to_vec();
        let mut r = SitemapReader::open(std::io::Cursor::new(xml))
            .await
            .expect("open");
        assert_eq!(
            r.next().await.expect("first entry"),
            Some(page("http://h/a"))
        );
        let e = r.next().await.expect_err("truncated");
        assert!(e.to_string().contains("malformed sitemap"), "{e}");
    }
}
