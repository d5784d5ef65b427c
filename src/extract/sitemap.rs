//! Sitemaps (sitemaps.org protocol): XML `<urlset>` and `<sitemapindex>`
//! files and plain-text lists, gzip-compressed or not, read as a stream so
//! that a 50 MB sitemap never sits in memory whole.

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
    #[error("could not read the sitemap: {0}")]
    Io(#[from] std::io::Error),
}

type Body = Pin<Box<dyn AsyncBufRead + Send>>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Parent {
    Url,
    Sitemap,
}

struct XmlState {
    reader: quick_xml::Reader<Body>,
    buf: Vec<u8>,
    parent: Option<Parent>,
    in_loc: bool,
    loc: String,
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
            Format::Xml(Box::new(XmlState {
                reader,
                buf: Vec::new(),
                parent: None,
                in_loc: false,
                loc: String::new(),
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
}

impl XmlState {
    fn error(&self, message: impl ToString) -> SitemapError {
        SitemapError::Xml {
            position: self.reader.error_position(),
            message: message.to_string(),
        }
    }

    async fn next(&mut self) -> Result<Option<Entry>, SitemapError> {
        loop {
            self.buf.clear();
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
                    self.loc.push_str(&text);
                }
                Event::CData(t) if self.in_loc => {
                    let text = t.decode().map_err(|e| self.error(e))?;
                    self.loc.push_str(&text);
                }
                Event::GeneralRef(r) if self.in_loc => {
                    // `&amp;` in a query string is the common case.
                    let name = r.decode().map_err(|e| self.error(e))?;
                    match r.resolve_char_ref().map_err(|e| self.error(e))? {
                        Some(c) => self.loc.push(c),
                        None => {
                            let entity = format!("&{name};");
                            let resolved =
                                quick_xml::escape::unescape(&entity).map_err(|e| self.error(e))?;
                            self.loc.push_str(&resolved);
                        }
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
