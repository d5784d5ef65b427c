//! `pages.warc.gz`: WARC/1.1 (ISO 28500), the web archive format that
//! replay and analysis tools read. A `warcinfo` record first, then for each
//! fetched page (the last hop of its redirects) a `request` and a
//! `response` record linked by `WARC-Concurrent-To`. Each record is its own
//! gzip member, so a reader can seek to any record.
//!
//! Bodies are stored decoded: the fetcher decodes `Content-Encoding`
//! (gzip, deflate, brotli, zstd; `fetch::body`) and the HTTP client the
//! chunked transfer coding before a record is made. So the
//! `Content-Encoding` and `Transfer-Encoding` headers as received are
//! written as `X-Archive-Orig-Content-Encoding` and
//! `X-Archive-Orig-Transfer-Encoding`, and `Content-Length` gives the
//! stored body's length (a differing original kept as
//! `X-Archive-Orig-Content-Length`), so that readers parse the body as it
//! is stored. A body in a coding the fetcher does not decode is stored as
//! received. `WARC-Payload-Digest` is the SHA-1 of that body.

mod record;

use std::io::{self, Write};
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;

use super::Sink;
use super::part_file::PartFile;
use crate::exchange::Exchange;
use crate::record::PageRecord;
pub use record::{record, request_block, response_block, sha1_digest};

pub struct WarcSink {
    file: PartFile,
    warcinfo_id: String,
}

impl WarcSink {
    /// Creates the file and writes the `warcinfo` record.
    pub fn create(path: &Path) -> io::Result<Self> {
        Self::open(path, None)
    }

    /// A new file, or one continued at its checkpoint; either way a
    /// `warcinfo` record starts what this run writes (a WARC file may hold
    /// several), and this run's records name it.
    pub fn open(path: &Path, at: Option<u64>) -> io::Result<Self> {
        let mut sink = Self {
            file: PartFile::open(path, at)?,
            warcinfo_id: record::record_id(),
        };
        let date = now();
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let info = record::warcinfo_block();
        let fields = [
            ("WARC-Type", "warcinfo"),
            ("WARC-Record-ID", sink.warcinfo_id.as_str()),
            ("WARC-Date", date.as_str()),
            ("WARC-Filename", file_name.as_str()),
            ("Content-Type", "application/warc-fields"),
        ];
        sink.member(&record::record(&fields, &info))?;
        Ok(sink)
    }

    /// Writes one gzip member.
    fn member(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut gz = GzEncoder::new(self.file.writer(), Compression::default());
        gz.write_all(bytes)?;
        gz.finish()?;
        Ok(())
    }

    fn write_exchange(&mut self, ex: &Exchange) -> io::Result<()> {
        let request_id = record::record_id();
        let response_id = record::record_id();
        let ip = ex.remote_addr.map(|a| a.ip().to_string());
        let uri = ex.url.as_str();

        let (block, body_at) = response_block(ex);
        let block_digest = sha1_digest(&block);
        let payload_digest = sha1_digest(&block[body_at..]);
        let mut fields = vec![
            ("WARC-Type", "response"),
            ("WARC-Record-ID", response_id.as_str()),
            ("WARC-Date", ex.date.as_str()),
            ("WARC-Target-URI", uri),
            ("WARC-Warcinfo-ID", self.warcinfo_id.as_str()),
            ("WARC-Concurrent-To", request_id.as_str()),
        ];
        if let Some(ip) = &ip {
            fields.push(("WARC-IP-Address", ip));
        }
        fields.extend([
            ("Content-Type", "application/http;msgtype=response"),
            ("WARC-Block-Digest", block_digest.as_str()),
            ("WARC-Payload-Digest", payload_digest.as_str()),
        ]);
        let response = record(&fields, &block);

        let block = request_block(ex);
        let block_digest = sha1_digest(&block);
        // A GET carries no body: the payload is empty.
        let payload_digest = sha1_digest(b"");
        let mut fields = vec![
            ("WARC-Type", "request"),
            ("WARC-Record-ID", request_id.as_str()),
            ("WARC-Date", ex.date.as_str()),
            ("WARC-Target-URI", uri),
            ("WARC-Warcinfo-ID", self.warcinfo_id.as_str()),
            ("WARC-Concurrent-To", response_id.as_str()),
        ];
        if let Some(ip) = &ip {
            fields.push(("WARC-IP-Address", ip));
        }
        fields.extend([
            ("Content-Type", "application/http;msgtype=request"),
            ("WARC-Block-Digest", block_digest.as_str()),
            ("WARC-Payload-Digest", payload_digest.as_str()),
        ]);
        let request = record(&fields, &block);

        self.member(&request)?;
        self.member(&response)
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Sink for WarcSink {
    fn write(&mut self, _record: &PageRecord, exchange: Option<&Exchange>) -> io::Result<()> {
        match exchange {
            Some(ex) => self.write_exchange(ex),
            // Nothing was fetched (an error before any response).
            None => Ok(()),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
    fn checkpoint(&mut self) -> io::Result<u64> {
        self.file.checkpoint()
    }
    fn finish(self: Box<Self>) -> io::Result<()> {
        self.file.commit().map(|_| ())
    }
}
