//! JSON Lines: one record per line, the default output format, to
//! `pages.jsonl` or to standard output (`--out -`). [`JsonlWriter`] also
//! serves `skipped.jsonl` and the JSON array of `pages.json`.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::Sink;
use super::part_file::PartFile;
use crate::exchange::Exchange;
use crate::record::PageRecord;

pub struct JsonlWriter {
    file: PartFile,
    line: Vec<u8>,
}

impl JsonlWriter {
    pub fn create(path: &Path) -> io::Result<Self> {
        Ok(Self {
            file: PartFile::create(path)?,
            line: Vec::with_capacity(1024),
        })
    }

    /// Continues a `.part` file from its last checkpoint.
    pub fn resume(path: &Path, len: u64) -> io::Result<Self> {
        Self::open(path, Some(len))
    }

    /// A new file, or one continued from its checkpoint ([`PartFile::open`]).
    pub fn open(path: &Path, at: Option<u64>) -> io::Result<Self> {
        Ok(Self {
            file: PartFile::open(path, at)?,
            line: Vec::with_capacity(1024),
        })
    }

    /// See [`PartFile::checkpoint`].
    pub fn checkpoint(&mut self) -> io::Result<u64> {
        self.file.checkpoint()
    }

    pub fn write<T: Serialize>(&mut self, record: &T) -> io::Result<()> {
        self.write_after(b"", record)
    }

    /// Writes `prefix`, then the record and a newline: with `[` and `,` as
    /// prefixes (and `]` at the end) the file is one JSON array that still
    /// has one record per line.
    pub fn write_after<T: Serialize>(&mut self, prefix: &[u8], record: &T) -> io::Result<()> {
        encode_line(&mut self.line, prefix, record)?;
        self.file.writer().write_all(&self.line)
    }

    /// Writes bytes as they are (a JSON array's closing bracket).
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.writer().write_all(bytes)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    pub fn commit(self) -> io::Result<()> {
        self.file.commit().map(|_| ())
    }
}

/// `pages.jsonl`.
pub struct JsonlSink(JsonlWriter);

impl JsonlSink {
    pub fn create(path: &Path) -> io::Result<Self> {
        JsonlWriter::create(path).map(Self)
    }

    pub fn open(path: &Path, at: Option<u64>) -> io::Result<Self> {
        JsonlWriter::open(path, at).map(Self)
    }
}

impl Sink for JsonlSink {
    fn write(&mut self, record: &PageRecord, _exchange: Option<&Exchange>) -> io::Result<()> {
        self.0.write(record)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
    fn checkpoint(&mut self) -> io::Result<u64> {
        self.0.checkpoint()
    }
    fn finish(self: Box<Self>) -> io::Result<()> {
        self.0.commit()
    }
}

/// Encodes `prefix`, the record and a newline into `buf` (cleared first):
/// one line of JSONL, or of a JSON array with `[`/`,` prefixes.
pub fn encode_line<T: Serialize>(buf: &mut Vec<u8>, prefix: &[u8], record: &T) -> io::Result<()> {
    buf.clear();
    buf.extend_from_slice(prefix);
    serde_json::to_writer(&mut *buf, record).map_err(io::Error::other)?;
    buf.push(b'\n');
    Ok(())
}

/// Writes one line to standard output and flushes it, so that a reader
/// of a pipe sees each record whole as soon as it is written.
pub fn write_stdout<T: Serialize>(buf: &mut Vec<u8>, prefix: &[u8], record: &T) -> io::Result<()> {
    encode_line(buf, prefix, record)?;
    let mut out = io::stdout().lock();
    out.write_all(buf)?;
    out.flush()
}

/// A JSON array written one record per line: `[` before the first record,
/// `,` before the others, `]` (or `[]`) at the end. Plain JSONL when off.
#[derive(Clone, Copy, Debug, Default)]
pub struct Framing {
    pub array: bool,
    /// Records written so far.
    pub written: u64,
}

impl Framing {
    /// The prefix of the next record; counts it.
    pub fn prefix(&mut self) -> &'static [u8] {
        let prefix: &'static [u8] = match (self.array, self.written) {
            (false, _) => b"",
            (true, 0) => b"[",
            (true, _) => b",",
        };
        self.written += 1;
        prefix
    }

    /// What closes the output.
    pub fn closing(&self) -> &'static [u8] {
        match (self.array, self.written) {
            (false, _) => b"",
            (true, 0) => b"[]\n",
            (true, _) => b"]\n",
        }
    }
}

/// JSONL on standard output: each record is written and flushed whole as
/// it comes, so a reader at the other end of a pipe sees complete lines
/// at once.
pub struct StdoutSink {
    line: Vec<u8>,
}

impl StdoutSink {
    pub fn new() -> Self {
        Self {
            line: Vec::with_capacity(1024),
        }
    }
}

impl Default for StdoutSink {
    fn default() -> Self {
        Self::new()
    }
}

impl Sink for StdoutSink {
    fn write(&mut self, record: &PageRecord, _exchange: Option<&Exchange>) -> io::Result<()> {
        write_stdout(&mut self.line, b"", record)
    }
    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush()
    }
    /// Standard output cannot be cut back: a resumable crawl needs files.
    fn checkpoint(&mut self) -> io::Result<u64> {
        Err(io::Error::other(
            "standard output has no checkpoint; a resumable crawl writes files",
        ))
    }
    fn finish(self: Box<Self>) -> io::Result<()> {
        io::stdout().flush()
    }
}
