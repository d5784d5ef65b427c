//! `pages.csv`: one row per record, the record's own columns a spreadsheet
//! user looks for ([`RECORD_COLUMNS`]), then the extracted fields in config
//! order (a field named like a record column is headed `data.NAME`). UTF-8 without a byte-order mark, quoted where
//! needed (the `csv` crate). Cells are made by [`cell`], a pure function:
//! strings as they are, numbers and booleans as text, null and missing
//! fields empty, arrays and objects as their JSON text.
//!
//! Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (or a tab
//! or carriage return before one) as a formula, and crawled pages are not
//! trusted: such a string cell gets a leading `'`, which spreadsheets show
//! as text. JSON numbers and booleans are not strings and are written
//! plainly (`-3` stays a number).

use std::borrow::Cow;
use std::io;
use std::path::Path;

use serde_json::Value;

use super::Sink;
use super::part_file::PartFile;
use crate::exchange::Exchange;
use crate::record::PageRecord;

/// The record's own columns, first in every row. `error` is the error's
/// kind and message (`connect: connection refused`), empty without one.
pub const RECORD_COLUMNS: [&str; 9] = [
    "url",
    "final_url",
    "status",
    "depth",
    "title",
    "content_type",
    "bytes",
    "fetched_at",
    "error",
];

/// First characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A string as a cell: a leading `'` when it would start a formula.
pub fn text_cell(s: &str) -> Cow<'_, str> {
    if s.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A field value as a cell (`None`: the record has no such field).
pub fn cell(value: Option<&Value>) -> Cow<'_, str> {
    match value {
        None | Some(Value::Null) => Cow::Borrowed(""),
        Some(Value::String(s)) => text_cell(s),
        Some(Value::Bool(b)) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Some(Value::Number(n)) => Cow::Owned(n.to_string()),
        Some(v @ (Value::Array(_) | Value::Object(_))) => Cow::Owned(v.to_string()),
    }
}

pub struct CsvSink {
    writer: csv::Writer<PartFile>,
    columns: Vec<String>,
}

impl CsvSink {
    /// Creates the file and writes the header row.
    pub fn create(path: &Path, columns: &[String]) -> io::Result<Self> {
        Self::open(path, columns, None)
    }

    /// A new file with its header row, or one continued at its checkpoint
    /// (the header is already there).
    pub fn open(path: &Path, columns: &[String], at: Option<u64>) -> io::Result<Self> {
        let mut writer = csv::WriterBuilder::new()
            .buffer_capacity(64 * 1024)
            .from_writer(PartFile::open(path, at)?);
        let sink = |writer| {
            Ok(Self {
                writer,
                columns: columns.to_vec(),
            })
        };
        if at.is_some() {
            return sink(writer);
        }
        let header: Vec<Cow<'_, str>> = RECORD_COLUMNS
            .into_iter()
            .map(Cow::Borrowed)
            .chain(
                columns
                    .iter()
                    .map(|c| match RECORD_COLUMNS.contains(&c.as_str()) {
                        true => Cow::Owned(format!("data.{c}")),
                        false => Cow::Borrowed(c.as_str()),
                    }),
            )
            .map(|c| Cow::Owned(text_cell(&c).into_owned()))
            .collect();
        writer
            .write_record(header.iter().map(|c| c.as_bytes()))
            .map_err(io::Error::other)?;
        sink(writer)
    }
}

/// The cells of one record's row.
pub fn row<'a>(record: &'a PageRecord, columns: &'a [String]) -> Vec<Cow<'a, str>> {
    let number = |n: Option<u64>| n.map_or(Cow::Borrowed(""), |n| Cow::Owned(n.to_string()));
    let text = |s: Option<&'a str>| s.map_or(Cow::Borrowed(""), text_cell);
    let mut cells = Vec::with_capacity(RECORD_COLUMNS.len() + columns.len());
    cells.extend([
        text_cell(&record.url),
        text_cell(&record.final_url),
        number(record.status.map(u64::from)),
        number(Some(u64::from(record.depth))),
        text(record.title.as_deref()),
        text(record.content_type.as_deref()),
        number(Some(record.bytes)),
        text_cell(&record.fetched_at),
        match &record.error {
            Some(e) => {
                Cow::Owned(text_cell(&format!("{}: {}", e.kind.as_str(), e.message)).into_owned())
            }
            None => Cow::Borrowed(""),
        },
    ]);
    cells.extend(
        columns
            .iter()
            .map(|c| cell(record.data.as_ref().and_then(|d| d.get(c)))),
    );
    cells
}

impl Sink for CsvSink {
    fn write(&mut self, record: &PageRecord, _exchange: Option<&Exchange>) -> io::Result<()> {
        self.writer
            .write_record(row(record, &self.columns).iter().map(|c| c.as_bytes()))
            .map_err(io::Error::other)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
    fn checkpoint(&mut self) -> io::Result<u64> {
        self.writer.flush()?;
        self.writer.get_ref().sync()
    }
    fn finish(self: Box<Self>) -> io::Result<()> {
        let file = self.writer.into_inner().map_err(|e| e.into_error())?;
        file.commit().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(data: Value) -> PageRecord {
        let url = url::Url::parse("http://127.0.0.1/a").expect("url");
        PageRecord {
            status: Some(200),
            data: data.as_object().cloned(),
            fetched_at: "2026-01-01T00:00:00.000Z".into(),
            ..PageRecord::start(&url, 0, None)
        }
    }

    /// Writes rows the way the sink does and returns the file's text.
    fn csv_text(columns: &[&str], records: &[PageRecord]) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pages.csv");
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        let mut sink = Box::new(CsvSink::create(&path, &columns).expect("create"));
        for r in records {
            sink.write(r, None).expect("write");
        }
        sink.finish().expect("finish");
        std::fs::read_to_string(&path).expect("read")
    }

    #[test]
    fn values_become_cells() {
        assert_eq!(cell(None), "");
        assert_eq!(cell(Some(&Value::Null)), "");
        assert_eq!(cell(Some(&json!("plain"))), "plain");
        assert_eq!(cell(Some(&json!(true))), "true");
        assert_eq!(cell(Some(&json!(2.5))), "2.5");
        assert_eq!(cell(Some(&json!(-3))), "-3", "numbers are not guarded");
        assert_eq!(cell(Some(&json!(["a", "b"]))), r#"["a","b"]"#);
        assert_eq!(cell(Some(&json!({"k": 1}))), r#"{"k":1}"#);
    }

    #[test]
    fn strings_that_start_a_formula_are_guarded() {
        for s in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(cell(Some(&json!(s))), format!("'{s}"), "{s:?}");
        }
        for s in ["a=b", "1-2", "", " =x", "'quoted"] {
            assert_eq!(cell(Some(&json!(s))), s, "{s:?}");
        }
    }

    #[test]
    fn header_then_rows_quoted_where_needed() {
        let text = csv_text(
            &["title", "price", "tags", "missing"],
            &[
                record(json!({
                    "title": "Comma, \"quote\"\nand newline — ünïcode ✓",
                    "price": 9.5,
                    "tags": ["x", "y"],
                })),
                record(json!({"title": "=HYPERLINK(\"http://x\")", "price": null})),
            ],
        );
        assert!(!text.starts_with('\u{feff}'), "no byte-order mark");
        let expected = "url,final_url,status,depth,title,content_type,bytes,fetched_at,error,\
            data.title,price,tags,missing\n\
            http://127.0.0.1/a,http://127.0.0.1/a,200,0,,,0,2026-01-01T00:00:00.000Z,,\"Comma, \"\"quote\"\"\nand newline — ünïcode ✓\",9.5,\"[\"\"x\"\",\"\"y\"\"]\",\n\
            http://127.0.0.1/a,http://127.0.0.1/a,200,0,,,0,2026-01-01T00:00:00.000Z,,\"'=HYPERLINK(\"\"http://x\"\")\",,,\n";
        assert_eq!(text, expected);
        // A CSV reader gets the values back.
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        assert_eq!(&rows[0][9], "Comma, \"quote\"\nand newline — ünïcode ✓");
        assert_eq!(&rows[0][11], r#"["x","y"]"#);
        assert_eq!(&rows[1][9], "'=HYPERLINK(\"http://x\")");
    }

    #[test]
    fn a_record_without_data_has_empty_field_cells() {
        let mut r = record(Value::Null);
        r.status = None;
        let text = csv_text(&["a", "b"], &[r]);
        assert_eq!(
            text,
            "url,final_url,status,depth,title,content_type,bytes,fetched_at,error,a,b\n\
             http://127.0.0.1/a,http://127.0.0.1/a,,0,,,0,2026-01-01T00:00:00.000Z,,,\n"
        );
    }
}
