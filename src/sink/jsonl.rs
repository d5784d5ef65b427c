//! JSON Lines: one record per line, the default output format.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::part_file::PartFile;

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
        Ok(Self {
            file: PartFile::resume(path, len)?,
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
        self.line.clear();
        self.line.extend_from_slice(prefix);
        serde_json::to_writer(&mut self.line, record).map_err(io::Error::other)?;
        self.line.push(b'\n');
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
