//! The report page: one self-contained HTML document built from an
//! [`Aggregate`] and `summary.json`. Every string that came from a crawl's
//! files goes through [`escape`]; no such string is ever put inside a
//! `<script>` or `<style>`, so a hostile title or URL stays text.

use std::fmt::Write as _;

use serde_json::Value;

use super::aggregate::{Aggregate, Examples, Ranked, SIZE_BUCKETS_BYTES, TIME_BUCKETS_MS};
use super::svg;

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");
/// Installed before the page's script, so an exception in it is recorded
/// in the page (`#script-errors`, `data-errors` on `<html>`).
const ERROR_HOOK: &str = "window.onerror=function(m,s,l){var e=document.getElementById('script-errors');\
if(e){e.hidden=false;e.textContent+=m+' (line '+l+')\\n';}\
document.documentElement.setAttribute('data-errors','1');};";
/// Rows of the hosts table; the rest are summed in one line.
const HOST_ROWS: usize = 100;

/// What the page is built from.
pub struct Inputs<'a> {
    /// The output directory, as the user named it (a heading).
    pub dir: &'a str,
    pub aggregate: &'a Aggregate,
    /// `summary.json`, when it could be read.
    pub summary: Option<&'a Value>,
    /// Whether `skipped.jsonl` was there (examples of skipped URLs).
    pub skipped_file: bool,
    /// Problems reading the inputs, shown at the top.
    pub warnings: &'a [String],
}

/// Text safe in HTML content and in double- or single-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A link for http(s) URLs; anything else (`javascript:`, junk) as text.
fn link(url: &str) -> String {
    let e = escape(url);
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        format!("<a href=\"{e}\" rel=\"noreferrer\">{e}</a>")
    } else {
        e
    }
}

/// A number cell a sortable table sorts by value.
fn num(n: impl std::fmt::Display) -> String {
    format!("<td class=\"n\" data-value=\"{n}\">{n}</td>")
}

/// A key figure: `data-figure` names it for tests and scripts.
fn figure(name: &str, label: &str, value: impl std::fmt::Display, shown: &str) -> String {
    format!(
        "<div class=\"figure\"><span class=\"v\" data-figure=\"{}\" data-value=\"{value}\">{}</span>\
         <span class=\"k\">{}</span></div>",
        escape(name),
        escape(shown),
        escape(label)
    )
}

/// Short size labels for chart axes: `1K`, `256K`, `4M`.
fn bytes_short(b: u64) -> String {
    match b {
        b if b >= 1 << 20 => format!("{}M", b >> 20),
        b if b >= 1 << 10 => format!("{}K", b >> 10),
        b => format!("{b}B"),
    }
}

/// Short time labels for chart axes: `500ms`, `2s`.
fn ms_short(ms: u64) -> String {
    if ms >= 1000 && ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

fn bytes_text(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Labels of histogram buckets by their upper bound (`<1ms`, `<2ms`, ...,
/// `≥30s`): short enough to sit under narrow bars.
fn bucket_labels(bounds: &[u64], text: fn(u64) -> String) -> Vec<String> {
    let mut labels: Vec<String> = bounds.iter().map(|b| format!("<{}", text(*b))).collect();
    if let Some(last) = bounds.last() {
        labels.push(format!("≥{}", text(*last)));
    }
    labels
}

fn section(out: &mut String, id: &str, title: &str) {
    let _ = write!(out, "<section id=\"{id}\"><h2>{}</h2>", escape(title));
}

fn table_head(out: &mut String, id: &str, columns: &[(&str, bool)]) {
    let _ = write!(out, "<table class=\"sortable\" id=\"{id}\"><thead><tr>");
    for (name, numeric) in columns {
        let kind = if *numeric { " data-type=\"num\"" } else { "" };
        let _ = write!(out, "<th{kind}>{}</th>", escape(name));
    }
    out.push_str("</tr></thead><tbody>");
}

fn summary_str<'a>(summary: Option<&'a Value>, key: &str) -> Option<&'a str> {
    summary.and_then(|s| s.get(key)).and_then(Value::as_str)
}

fn summary_u64(summary: Option<&Value>, key: &str) -> Option<u64> {
    summary.and_then(|s| s.get(key)).and_then(Value::as_u64)
}

/// The whole page.
pub fn render(inputs: &Inputs<'_>) -> String {
    let a = inputs.aggregate;
    let s = inputs.summary;
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Crawl report: {dir}</title><style>{STYLE}</style></head><body>\
         <header><h1>Crawl report</h1><p class=\"dir\">{dir}</p>",
        dir = escape(inputs.dir)
    );
    header_facts(&mut out, s);
    out.push_str("</header><pre id=\"script-errors\" hidden></pre>");
    warnings(&mut out, inputs);
    key_figures(&mut out, a, s);
    hosts(&mut out, a);
    statuses(&mut out, a);
    errors(&mut out, a);
    skips(&mut out, a, s, inputs.skipped_file);
    distributions(&mut out, a);
    top_pages(
        &mut out,
        "slowest",
        "Slowest pages",
        "elapsed ms",
        &a.slowest.sorted(),
    );
    top_pages(
        &mut out,
        "largest",
        "Largest pages",
        "bytes",
        &a.largest.sorted(),
    );
    broken(&mut out, a);
    rules(&mut out, a);
    let _ = writeln!(
        out,
        "<footer>Written by collector {} from pages.jsonl{}{}.</footer>\
         <script>{ERROR_HOOK}</script><script>{SCRIPT}</script></body></html>",
        env!("CARGO_PKG_VERSION"),
        if s.is_some() { ", summary.json" } else { "" },
        if inputs.skipped_file {
            ", skipped.jsonl"
        } else {
            ""
        },
    );
    out
}

fn header_facts(out: &mut String, s: Option<&Value>) {
    let Some(s) = s else { return };
    out.push_str("<p class=\"facts\">");
    if let (Some(start), Some(end)) = (
        summary_str(Some(s), "started_at"),
        summary_str(Some(s), "finished_at"),
    ) {
        let _ = write!(out, "{} → {}", escape(start), escape(end));
    }
    if let Some(d) = s.get("duration_s").and_then(Value::as_f64) {
        let _ = write!(
            out,
            " · <span data-figure=\"duration_s\" data-value=\"{d}\">{d:.1} s</span>"
        );
    }
    if let Some(r) = s.get("pages_per_s").and_then(Value::as_f64) {
        let _ = write!(
            out,
            " · <span data-figure=\"pages_per_s\" data-value=\"{r}\">{r:.1} pages/s</span>"
        );
    }
    if s.get("interrupted").and_then(Value::as_bool) == Some(true) {
        out.push_str(" · <strong class=\"warn\">interrupted</strong>");
    }
    if s.get("tls_verified").and_then(Value::as_bool) == Some(false) {
        out.push_str(" · <strong class=\"warn\">certificates not verified (--insecure)</strong>");
    }
    out.push_str("</p>");
}

fn warnings(out: &mut String, inputs: &Inputs<'_>) {
    let a = inputs.aggregate;
    if inputs.warnings.is_empty() && a.malformed_count == 0 {
        return;
    }
    out.push_str("<section id=\"warnings\" class=\"warn\"><h2>Warnings</h2><ul>");
    for w in inputs.warnings {
        let _ = write!(out, "<li>{}</li>", escape(w));
    }
    if a.malformed_count > 0 {
        let _ = write!(
            out,
            "<li><span data-figure=\"malformed\" data-value=\"{n}\">{n}</span> line(s) could not be read and are left out:<ul>",
            n = a.malformed_count
        );
        for m in &a.malformed {
            let _ = write!(out, "<li>{}:{}: {}</li>", m.file, m.line, escape(&m.reason));
        }
        if a.malformed_count > a.malformed.len() as u64 {
            let _ = write!(
                out,
                "<li>… and {} more</li>",
                a.malformed_count - a.malformed.len() as u64
            );
        }
        out.push_str("</ul></li>");
    }
    out.push_str("</ul></section>");
}

fn key_figures(out: &mut String, a: &Aggregate, s: Option<&Value>) {
    out.push_str("<section id=\"figures\" class=\"figures\">");
    out.push_str(&figure("pages", "pages", a.pages, &a.pages.to_string()));
    out.push_str(&figure("failed", "failed", a.failed, &a.failed.to_string()));
    out.push_str(&figure(
        "bytes",
        "downloaded",
        a.bytes,
        &bytes_text(a.bytes),
    ));
    out.push_str(&figure(
        "hosts",
        "hosts",
        a.by_host.len(),
        &a.by_host.len().to_string(),
    ));
    let errors: u64 = a.by_error.values().map(|e| e.count).sum();
    out.push_str(&figure(
        "errors",
        "with an error",
        errors,
        &errors.to_string(),
    ));
    if !a.by_rule.is_empty() {
        out.push_str(&figure(
            "incomplete",
            "incomplete records",
            a.incomplete,
            &a.incomplete.to_string(),
        ));
    }
    out.push_str("</section>");
    for (key, mine) in [("pages", a.pages), ("failed", a.failed), ("bytes", a.bytes)] {
        if let Some(theirs) = summary_u64(s, key)
            && theirs != mine
        {
            let _ = write!(
                out,
                "<p class=\"warn\">summary.json says {key} = {theirs}; pages.jsonl gives {mine}.</p>"
            );
        }
    }
}

fn hosts(out: &mut String, a: &Aggregate) {
    section(out, "hosts", "Pages and errors by host");
    table_head(
        out,
        "table-hosts",
        &[
            ("host", false),
            ("pages", true),
            ("failed", true),
            ("bytes", true),
        ],
    );
    let hosts = a.hosts();
    for (host, c) in hosts.iter().take(HOST_ROWS) {
        let _ = write!(
            out,
            "<tr data-host=\"{h}\"><td>{h}</td>{}{}{}</tr>",
            num(c.pages),
            num(c.failed),
            num(c.bytes),
            h = escape(host)
        );
    }
    out.push_str("</tbody></table>");
    if hosts.len() > HOST_ROWS {
        let rest: u64 = hosts.iter().skip(HOST_ROWS).map(|h| h.1.pages).sum();
        let _ = write!(
            out,
            "<p>… {} more hosts with {rest} pages.</p>",
            hosts.len() - HOST_ROWS
        );
    }
    out.push_str("</section>");
}

fn statuses(out: &mut String, a: &Aggregate) {
    section(out, "statuses", "Status codes");
    let bars: Vec<(String, u64)> = a.by_status.iter().map(|(k, v)| (k.clone(), *v)).collect();
    out.push_str(&svg::bars("chart-status", "Pages by status code", &bars));
    table_head(out, "table-status", &[("status", false), ("pages", true)]);
    for (status, n) in &a.by_status {
        let _ = write!(
            out,
            "<tr><td>{st}</td><td class=\"n\" data-figure=\"status:{st}\" data-value=\"{n}\">{n}</td></tr>",
            st = escape(status)
        );
    }
    out.push_str("</tbody></table></section>");
}

fn examples_cell(ex: &Examples, show_message: bool) -> String {
    let mut cell = String::from("<td><ul class=\"examples\">");
    for (url, message) in &ex.examples {
        let _ = write!(cell, "<li>{}", link(url));
        if show_message && !message.is_empty() {
            let _ = write!(cell, " <span class=\"msg\">{}</span>", escape(message));
        }
        cell.push_str("</li>");
    }
    cell.push_str("</ul></td>");
    cell
}

fn errors(out: &mut String, a: &Aggregate) {
    section(out, "errors", "Errors by kind");
    if a.by_error.is_empty() {
        out.push_str("<p class=\"none\">No record has an error.</p></section>");
        return;
    }
    table_head(
        out,
        "table-errors",
        &[("kind", false), ("records", true), ("examples", false)],
    );
    for (kind, ex) in &a.by_error {
        let _ = write!(
            out,
            "<tr><td>{k}</td><td class=\"n\" data-figure=\"error:{k}\" data-value=\"{n}\">{n}</td>{}</tr>",
            examples_cell(ex, true),
            k = escape(kind),
            n = ex.count
        );
    }
    out.push_str("</tbody></table></section>");
}

fn skips(out: &mut String, a: &Aggregate, s: Option<&Value>, skipped_file: bool) {
    section(out, "skips", "URLs found but not fetched");
    // summary.json counts every skip; skipped.jsonl exists only with
    // --log-skipped, and gives the examples.
    let counts: Vec<(String, u64)> =
        match s.and_then(|s| s.get("skipped")).and_then(Value::as_object) {
            Some(map) => map
                .iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect(),
            None => a.skips.iter().map(|(k, e)| (k.clone(), e.count)).collect(),
        };
    table_head(
        out,
        "table-skips",
        &[
            ("reason", false),
            ("URLs", true),
            ("examples (found on)", false),
        ],
    );
    for (reason, n) in &counts {
        let _ = write!(
            out,
            "<tr><td>{r}</td><td class=\"n\" data-figure=\"skip:{r}\" data-value=\"{n}\">{n}</td>",
            r = escape(reason)
        );
        match a.skips.get(reason) {
            Some(ex) => {
                out.push_str("<td><ul class=\"examples\">");
                for (url, from) in &ex.examples {
                    let _ = write!(out, "<li>{}", escape(url));
                    if !from.is_empty() {
                        let _ = write!(out, " <span class=\"msg\">on {}</span>", link(from));
                    }
                    out.push_str("</li>");
                }
                out.push_str("</ul></td>");
            }
            None => out.push_str("<td></td>"),
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    if !skipped_file {
        out.push_str(
            "<p class=\"none\">Crawl with <code>--log-skipped</code> for example URLs.</p>",
        );
    }
    out.push_str("</section>");
}

fn distributions(out: &mut String, a: &Aggregate) {
    section(out, "times", "Response times");
    let labels = bucket_labels(&TIME_BUCKETS_MS, ms_short);
    let bars: Vec<(String, u64)> = labels.into_iter().zip(a.time_hist).collect();
    out.push_str(&svg::bars("chart-time", "Pages by response time", &bars));
    out.push_str("</section>");

    section(out, "sizes", "Page sizes");
    let labels = bucket_labels(&SIZE_BUCKETS_BYTES, bytes_short);
    let bars: Vec<(String, u64)> = labels.into_iter().zip(a.size_hist).collect();
    out.push_str(&svg::bars("chart-size", "Pages by body size", &bars));
    out.push_str("</section>");

    section(out, "timeline", "Pages fetched over time");
    let rates = a.timeline.rates();
    out.push_str(&svg::line("chart-rate", "Pages per second", &rates));
    let _ = write!(
        out,
        "<p>Pages per second in slots of {} ms, by each record's <code>fetched_at</code> (when its visit began); \
         a dip to 0 is a stall or a back-off.",
        a.timeline.slot_ms
    );
    if a.undated > 0 {
        let _ = write!(
            out,
            " {} records without a readable time are left out.",
            a.undated
        );
    }
    out.push_str("</p></section>");

    section(out, "depths", "Depth");
    let bars: Vec<(String, u64)> = a
        .by_depth
        .iter()
        .map(|(d, n)| (d.to_string(), *n))
        .collect();
    out.push_str(&svg::bars("chart-depth", "Pages by depth", &bars));
    out.push_str("</section>");
}

fn top_pages(out: &mut String, id: &str, title: &str, what: &str, rows: &[Ranked]) {
    section(out, id, title);
    table_head(
        out,
        &format!("table-{id}"),
        &[
            (what, true),
            ("status", true),
            ("URL", false),
            ("title", false),
        ],
    );
    for r in rows {
        let _ = write!(
            out,
            "<tr>{}{}<td>{}</td><td>{}</td></tr>",
            num(r.value),
            num(r.status.map_or_else(String::new, |s| s.to_string())),
            link(&r.url),
            escape(r.title.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</tbody></table></section>");
}

fn broken(out: &mut String, a: &Aggregate) {
    section(out, "broken", "Broken links (4xx and 5xx)");
    if a.broken.is_empty() {
        out.push_str("<p class=\"none\">No page answered 4xx or 5xx.</p></section>");
        return;
    }
    table_head(
        out,
        "table-broken",
        &[
            ("status", true),
            ("URL", false),
            ("linked from", true),
            ("pages linking to it", false),
        ],
    );
    for (url, b) in &a.broken {
        let _ = write!(
            out,
            "<tr>{}<td>{}</td>{}<td><ul class=\"examples\">",
            num(b.status),
            link(url),
            num(b.linked_from)
        );
        for from in &b.referrers {
            let _ = write!(out, "<li>{}</li>", link(from));
        }
        out.push_str("</ul></td></tr>");
    }
    out.push_str("</tbody></table>");
    if a.broken_more > 0 {
        let _ = write!(out, "<p>… and {} more broken URLs.</p>", a.broken_more);
    }
    out.push_str("</section>");
}

fn rules(out: &mut String, a: &Aggregate) {
    if a.by_rule.is_empty() {
        return;
    }
    section(out, "rules", "Extraction rules");
    for (rule, c) in &a.by_rule {
        let r = escape(rule);
        let _ = write!(
            out,
            "<h3>{r}: <span data-figure=\"rule:{r}\" data-value=\"{n}\">{n}</span> records, \
             <span data-figure=\"rule-incomplete:{r}\" data-value=\"{i}\">{i}</span> incomplete</h3>",
            n = c.records,
            i = c.incomplete
        );
        table_head(
            out,
            &format!("table-rule-{}", rule_id(rule)),
            &[
                ("field", false),
                ("filled", true),
                ("empty", true),
                ("filled %", true),
            ],
        );
        for (field, filled, empty) in &c.fields {
            let total = (filled + empty).max(1);
            let pct = *filled as f64 * 100.0 / total as f64;
            let _ = write!(
                out,
                "<tr><td>{}</td>{}{}<td class=\"n\" data-value=\"{pct:.1}\"><span class=\"meter\" style=\"width:{pct:.0}%\"></span>{pct:.0}%</td></tr>",
                escape(field),
                num(filled),
                num(empty)
            );
        }
        out.push_str("</tbody></table>");
    }
    if !a.incomplete_examples.is_empty() {
        out.push_str("<h3>Incomplete records</h3>");
        table_head(
            out,
            "table-incomplete",
            &[("URL", false), ("rule", false), ("missing", false)],
        );
        for (url, rule, missing) in &a.incomplete_examples {
            let missing: Vec<String> = missing.iter().map(|m| escape(m)).collect();
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                link(url),
                escape(rule),
                missing.join(", ")
            );
        }
        out.push_str("</tbody></table>");
        if a.incomplete > a.incomplete_examples.len() as u64 {
            let _ = write!(
                out,
                "<p>First {} of {} incomplete records.</p>",
                a.incomplete_examples.len(),
                a.incomplete
            );
        }
    }
    out.push_str("</section>");
}

/// An id-safe form of a rule name (ids must not need escaping in scripts).
fn rule_id(rule: &str) -> String {
    rule.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

#[cfg(test)]
mod tests;
