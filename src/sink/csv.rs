//! `pages.csv`: one row per record, `url`, `status`, then the extracted
//! fields in config order. UTF-8 without a byte-order mark, quoted where
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
        let header: Vec<Cow<'_, str>> = ["url", "status"]
            .into_iter()
            .chain(columns.iter().map(String::as_str))
            .map(text_cell)
            .collect();
        writer
            .write_record(header.iter().map(|c| c.as_bytes()))
            .map_err(io::Error::other)?;
        sink(writer)
    }
}

/// The cells of one record's row.
pub fn row<'a>(record: &'a PageRecord, columns: &'a [String]) -> Vec<Cow<'a, str>> {
    let mut cells = Vec::with_capacity(2 + columns.len());
    cells.push(text_cell(&record.url));
    cells.push(
        record
            .status
            .map_or(Cow::Borrowed(""), |s| Cow::Owned(s.to_string())),
    );
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
        let expected = "url,status,title,price,tags,missing\n\
            http://127.0.0.1/a,200,\"Comma, \"\"quote\"\"\nand newline — ünïcode ✓\",9.5,\"[\"\"x\"\",\"\"y\"\"]\",\n\
            http://127.0.0.1/a,200,\"'=HYPERLINK(\"\"http://x\"\")\",,,\n";
        assert_eq!(text, expected);
        // A CSV reader gets the values back.
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        assert_eq!(&rows[0][2], "Comma, \"quote\"\nand newline — ünïcode ✓");
        assert_eq!(&rows[0][4], r#"["x","y"]"#);
        assert_eq!(&rows[1][2], "'=HYPERLINK(\"http://x\")");
    }

    #[test]
    fn a_record_without_data_has_empty_field_cells() {
        let mut r = record(Value::Null);
        r.status = None;
        let text = csv_text(&["a", "b"], &[r]);
        assert_eq!(text, "url,status,a,b\nhttp://127.0.0.1/a,,,\n");
    }
}
