//! `pages.json`: one JSON array of records, still one record per line
//! (`[` before the first, `,` before the others, `]` when finished), so it
//! is a valid document once complete (`[]` when there were none) and easy
//! to read line by line.

use std::io;
use std::path::Path;

use super::Sink;
use super::jsonl::{Framing, JsonlWriter};
use crate::exchange::Exchange;
use crate::record::PageRecord;

pub struct JsonSink {
    writer: JsonlWriter,
    framing: Framing,
}

impl JsonSink {
    pub fn create(path: &Path) -> io::Result<Self> {
        Self::open(path, None)
    }

    /// A new file, or one continued at its checkpoint: a file cut back to
    /// more than nothing has its `[` and at least one record.
    pub fn open(path: &Path, at: Option<u64>) -> io::Result<Self> {
        Ok(Self {
            writer: JsonlWriter::open(path, at)?,
            framing: Framing {
                array: true,
                written: u64::from(at.is_some_and(|len| len > 0)),
            },
        })
    }
}

impl Sink for JsonSink {
    fn write(&mut self, record: &PageRecord, _exchange: Option<&Exchange>) -> io::Result<()> {
        let prefix = self.framing.prefix();
        self.writer.write_after(prefix, record)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
    fn checkpoint(&mut self) -> io::Result<u64> {
        self.writer.checkpoint()
    }
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.writer.write_raw(self.framing.closing())?;
        self.writer.commit()
    }
}
