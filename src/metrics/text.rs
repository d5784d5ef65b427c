//! The Prometheus text exposition format (version 0.0.4): `# HELP` and
//! `# TYPE` lines, then one sample per line, label values escaped. Pure:
//! the encoder writes into a `String`.
//!
//! Written here rather than taken from `prometheus-client`, which writes
//! OpenMetrics only (counters typed without their `_total` suffix, a
//! `# EOF` line): not what `promtool check metrics` and a Prometheus
//! scraping `text/plain` read.

use std::fmt::Write as _;

/// The content type of what [`Encoder`] writes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a metric family is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
        }
    }
}

/// Writes metric families one after the other.
#[derive(Debug, Default)]
pub struct Encoder {
    out: String,
    family: &'static str,
}

impl Encoder {
    /// Starts a family: a counter's `name` ends in `_total`. `name` and
    /// `help` come from code, never from input.
    pub fn family(&mut self, name: &'static str, help: &str, kind: Kind) -> &mut Self {
        debug_assert!(valid_name(name), "metric name {name:?}");
        self.family = name;
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
        self
    }

    /// One sample of the current family.
    pub fn sample(&mut self, labels: &[(&'static str, &str)], value: f64) -> &mut Self {
        self.out.push_str(self.family);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (name, value)) in labels.iter().enumerate() {
                debug_assert!(valid_name(name), "label name {name:?}");
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{name}=\"{}\"", escape_label(value));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", number(value));
        self
    }

    /// A family of one sample without labels.
    pub fn single(&mut self, name: &'static str, help: &str, kind: Kind, value: f64) {
        self.family(name, help, kind).sample(&[], value);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Integers without a fraction; `NaN` and infinities as the format spells them.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_samples_and_escapes() {
        let mut e = Encoder::default();
        e.family(
            "collector_requests_total",
            "Requests\nby class",
            Kind::Counter,
        )
        .sample(&[("class", "2xx")], 12.0)
        .sample(&[("class", "a\"b\\c\nd")], 0.0);
        e.single(
            "collector_pages_per_second",
            "Pages per second",
            Kind::Gauge,
            2.5,
        );
        assert_eq!(
            e.finish(),
            "# HELP collector_requests_total Requests\\nby class\n\
             # TYPE collector_requests_total counter\n\
             collector_requests_total{class=\"2xx\"} 12\n\
             collector_requests_total{class=\"a\\\"b\\\\c\\nd\"} 0\n\
             # HELP collector_pages_per_second Pages per second\n\
             # TYPE collector_pages_per_second gauge\n\
             collector_pages_per_second 2.5\n"
        );
    }

    #[test]
    fn numbers_as_the_format_spells_them() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(1e20), "100000000000000000000");
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_name("collector_requests_total"));
        assert!(!valid_name("9lives"));
        assert!(!valid_name("a-b"));
        assert!(!valid_name(""));
    }
}
