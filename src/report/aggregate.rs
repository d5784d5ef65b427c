//! What the report shows, folded from a crawl's records one at a time:
//! counts, histograms and bounded top lists, so memory stays flat however
//! many records `pages.jsonl` holds. Pure: lines in, figures out.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use serde::Deserialize;
use serde_json::Value;

use crate::record::ErrorKind;

/// Rows kept in each "top" table (slowest, largest).
pub const TOP_N: usize = 20;
/// Example URLs kept per error kind or skip reason.
pub const EXAMPLES: usize = 3;
/// Broken URLs kept with their referrers; more are counted only.
pub const MAX_BROKEN: usize = 200;
/// Pages linking to one broken URL that are kept.
pub const MAX_REFERRERS: usize = 5;
/// Hosts counted one by one; the rest are counted together as `other`.
pub const MAX_HOSTS: usize = 10_000;
/// Keys of any other open-ended map (error kinds, statuses, rules, fields,
/// depths) counted one by one; a hostile file cannot grow them further.
pub const MAX_KEYS: usize = 500;
/// Incomplete records listed (with their missing fields).
pub const MAX_INCOMPLETE: usize = 50;
/// Malformed lines named one by one.
pub const MAX_MALFORMED: usize = 20;
/// Time slots kept for the pages-over-time line before they are merged.
pub const MAX_SLOTS: usize = 4096;
/// Characters kept of any string taken from a record.
pub const MAX_TEXT: usize = 300;

/// Upper bounds (exclusive) of the response time buckets, in ms; the last
/// bucket holds everything above.
pub const TIME_BUCKETS_MS: [u64; 14] = [
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000,
];
/// Upper bounds (exclusive) of the page size buckets, in bytes.
pub const SIZE_BUCKETS_BYTES: [u64; 10] = [
    1,
    1 << 10,
    4 << 10,
    16 << 10,
    64 << 10,
    256 << 10,
    1 << 20,
    4 << 20,
    16 << 20,
    64 << 20,
];

/// One line of `pages.jsonl`, read leniently: fields the report does not
/// need are ignored, missing numbers count as 0.
#[derive(Debug, Deserialize)]
pub struct PageLine {
    pub url: String,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub depth: u32,
    #[serde(default)]
    pub referrer: Option<String>,
    #[serde(default)]
    pub bytes: u64,
    #[serde(default)]
    pub elapsed_ms: u64,
    #[serde(default)]
    pub fetched_at: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub error: Option<ErrorLine>,
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub data: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    pub incomplete: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorLine {
    pub kind: String,
    #[serde(default)]
    pub message: String,
}

/// One line of `skipped.jsonl`.
#[derive(Debug, Deserialize)]
pub struct SkipLine {
    pub url: String,
    pub reason: String,
    #[serde(default)]
    pub referrer: Option<String>,
}

/// A line that could not be read, named by file and line number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    pub file: &'static str,
    pub line: u64,
    pub reason: String,
}

/// A page in a top list: what it is ranked by, then what is shown.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ranked {
    pub value: u64,
    pub url: String,
    pub status: Option<u16>,
    pub title: Option<String>,
}

/// The `n` largest values seen, in a min-heap so each new one costs log n.
#[derive(Debug, Default)]
pub struct TopN {
    heap: BinaryHeap<Reverse<Ranked>>,
}

impl TopN {
    pub fn offer(&mut self, n: usize, item: impl FnOnce() -> Ranked, value: u64) {
        if self.heap.len() >= n {
            match self.heap.peek() {
                Some(Reverse(least)) if least.value < value => {
                    self.heap.pop();
                }
                _ => return,
            }
        }
        self.heap.push(Reverse(item()));
    }

    /// Largest first.
    pub fn sorted(&self) -> Vec<Ranked> {
        let mut v: Vec<Ranked> = self.heap.iter().map(|r| r.0.clone()).collect();
        v.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.url.cmp(&b.url)));
        v
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HostCounts {
    pub pages: u64,
    pub failed: u64,
    pub bytes: u64,
}

#[derive(Debug, Default)]
pub struct Examples {
    pub count: u64,
    /// (URL, message) of the first few.
    pub examples: Vec<(String, String)>,
}

impl Examples {
    fn add(&mut self, url: &str, message: &str) {
        self.count += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push((clip(url), clip(message)));
        }
    }
}

#[derive(Debug, Default)]
pub struct Broken {
    pub status: u16,
    /// Pages that link to it: the record's referrer, then `duplicate`
    /// skips of the same URL.
    pub referrers: Vec<String>,
    /// All linking pages seen, kept or not.
    pub linked_from: u64,
}

#[derive(Debug, Default)]
pub struct RuleCounts {
    pub records: u64,
    pub incomplete: u64,
    /// Field name → (filled, empty), in first-seen order.
    pub fields: Vec<(String, u64, u64)>,
}

/// Pages fetched per time slot, from 100 ms slots (a short crawl still
/// draws a line); slots widen (doubling) when there would be more than
/// [`MAX_SLOTS`], so a week-long crawl costs as little as a minute's.
#[derive(Debug)]
pub struct Timeline {
    pub slot_ms: i64,
    pub slots: BTreeMap<i64, u64>,
}

impl Default for Timeline {
    fn default() -> Self {
        Self {
            slot_ms: 100,
            slots: BTreeMap::new(),
        }
    }
}

impl Timeline {
    fn add(&mut self, unix_ms: i64) {
        *self
            .slots
            .entry(unix_ms.div_euclid(self.slot_ms))
            .or_default() += 1;
        while self.slots.len() > MAX_SLOTS {
            self.slot_ms *= 2;
            let old = std::mem::take(&mut self.slots);
            for (k, v) in old {
                *self.slots.entry(k.div_euclid(2)).or_default() += v;
            }
        }
    }

    /// (seconds since the first slot, pages per second) for every slot from
    /// the first to the last, empty slots included (a stall shows as 0).
    pub fn rates(&self) -> Vec<(f64, f64)> {
        let (Some((&first, _)), Some((&last, _))) =
            (self.slots.first_key_value(), self.slots.last_key_value())
        else {
            return Vec::new();
        };
        let width_ms = self.slot_ms as f64;
        (first..=last)
            .map(|k| {
                let n = self.slots.get(&k).copied().unwrap_or(0);
                (
                    (k - first) as f64 * width_ms / 1000.0,
                    n as f64 * 1000.0 / width_ms,
                )
            })
            .collect()
    }
}

/// Everything the report shows that comes from the records.
#[derive(Debug, Default)]
pub struct Aggregate {
    pub pages: u64,
    pub failed: u64,
    pub bytes: u64,
    pub incomplete: u64,
    pub by_host: HashMap<String, HostCounts>,
    pub by_status: BTreeMap<String, u64>,
    pub by_error: BTreeMap<String, Examples>,
    pub by_depth: BTreeMap<u32, u64>,
    pub by_rule: BTreeMap<String, RuleCounts>,
    pub skips: BTreeMap<String, Examples>,
    pub time_hist: [u64; TIME_BUCKETS_MS.len() + 1],
    pub size_hist: [u64; SIZE_BUCKETS_BYTES.len() + 1],
    pub timeline: Timeline,
    /// Records whose `fetched_at` could not be read (not on the line).
    pub undated: u64,
    pub slowest: TopN,
    pub largest: TopN,
    pub broken: BTreeMap<String, Broken>,
    /// Broken URLs beyond [`MAX_BROKEN`], counted only.
    pub broken_more: u64,
    /// (URL, rule, missing fields) of the first incomplete records.
    pub incomplete_examples: Vec<(String, String, Vec<String>)>,
    pub malformed: Vec<Malformed>,
    pub malformed_count: u64,
}

impl Aggregate {
    /// Folds one line of `pages.jsonl` (number `line`, from 1) in.
    pub fn page_line(&mut self, line: u64, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        match serde_json::from_str::<PageLine>(text) {
            Ok(record) => self.page(&record),
            Err(e) => self.malformed("pages.jsonl", line, e.to_string()),
        }
    }

    /// Folds one line of `skipped.jsonl` in; call after every page line
    /// (a duplicate skip adds a linking page to a broken URL).
    pub fn skip_line(&mut self, line: u64, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        match serde_json::from_str::<SkipLine>(text) {
            Ok(skip) => self.skip(&skip),
            Err(e) => self.malformed("skipped.jsonl", line, e.to_string()),
        }
    }

    pub fn malformed(&mut self, file: &'static str, line: u64, reason: String) {
        self.malformed_count += 1;
        if self.malformed.len() < MAX_MALFORMED {
            self.malformed.push(Malformed {
                file,
                line,
                reason: clip(&reason),
            });
        }
    }

    pub fn page(&mut self, r: &PageLine) {
        self.pages += 1;
        self.bytes = self.bytes.saturating_add(r.bytes);
        let status = r
            .status
            .map_or_else(|| "none".to_string(), |s| s.to_string());
        *bounded_entry(&mut self.by_status, status) += 1;
        *bounded_entry(&mut self.by_depth, r.depth) += 1;
        let failed = r.error.as_ref().is_some_and(|e| is_failure(&e.kind));
        if failed {
            self.failed += 1;
        }
        let host = host_of(&r.url);
        let counts = if self.by_host.len() < MAX_HOSTS || self.by_host.contains_key(&host) {
            self.by_host.entry(host).or_default()
        } else {
            self.by_host.entry("other".to_string()).or_default()
        };
        counts.pages += 1;
        counts.bytes = counts.bytes.saturating_add(r.bytes);
        counts.failed += u64::from(failed);
        if let Some(e) = &r.error {
            bounded_entry(&mut self.by_error, clip(&e.kind)).add(&r.url, &e.message);
        }
        if r.incomplete.is_some() {
            self.incomplete += 1;
        }
        self.rule(r);
        if r.status.is_some() {
            self.time_hist[bucket(&TIME_BUCKETS_MS, r.elapsed_ms)] += 1;
            self.size_hist[bucket(&SIZE_BUCKETS_BYTES, r.bytes)] += 1;
            let ranked = || Ranked {
                value: 0,
                url: clip(&r.url),
                status: r.status,
                title: r.title.as_deref().map(clip),
            };
            self.slowest.offer(
                TOP_N,
                || Ranked {
                    value: r.elapsed_ms,
                    ..ranked()
                },
                r.elapsed_ms,
            );
            self.largest.offer(
                TOP_N,
                || Ranked {
                    value: r.bytes,
                    ..ranked()
                },
                r.bytes,
            );
        }
        match r
            .fetched_at
            .as_deref()
            .map(chrono::DateTime::parse_from_rfc3339)
        {
            Some(Ok(at)) => self.timeline.add(at.timestamp_millis()),
            _ => self.undated += 1,
        }
        if let Some(status) = r.status.filter(|s| (400..600).contains(s)) {
            self.broken_page(r, status);
        }
    }

    fn broken_page(&mut self, r: &PageLine, status: u16) {
        if self.broken.len() >= MAX_BROKEN && !self.broken.contains_key(&r.url) {
            self.broken_more += 1;
            return;
        }
        let entry = self.broken.entry(clip(&r.url)).or_default();
        entry.status = status;
        if let Some(from) = &r.referrer {
            entry.linked_from += 1;
            if entry.referrers.len() < MAX_REFERRERS {
                entry.referrers.push(clip(from));
            }
        }
    }

    fn rule(&mut self, r: &PageLine) {
        let Some(rule) = &r.rule else { return };
        let counts = bounded_entry(&mut self.by_rule, clip(rule));
        counts.records += 1;
        if let Some(data) = &r.data {
            for (name, value) in data {
                let i = match counts.fields.iter().position(|(n, ..)| n == name) {
                    Some(i) => i,
                    None if counts.fields.len() < MAX_KEYS => {
                        counts.fields.push((clip(name), 0, 0));
                        counts.fields.len() - 1
                    }
                    None => continue,
                };
                if is_filled(value) {
                    counts.fields[i].1 += 1;
                } else {
                    counts.fields[i].2 += 1;
                }
            }
        }
        if let Some(missing) = &r.incomplete {
            counts.incomplete += 1;
            if self.incomplete_examples.len() < MAX_INCOMPLETE {
                self.incomplete_examples.push((
                    clip(&r.url),
                    clip(rule),
                    missing.iter().take(EXAMPLES * 4).map(|m| clip(m)).collect(),
                ));
            }
        }
    }

    pub fn skip(&mut self, s: &SkipLine) {
        let from = s.referrer.as_deref().unwrap_or("");
        bounded_entry(&mut self.skips, clip(&s.reason)).add(&s.url, from);
        if s.reason == "duplicate"
            && let (Some(entry), Some(from)) = (self.broken.get_mut(&s.url), &s.referrer)
        {
            entry.linked_from += 1;
            if entry.referrers.len() < MAX_REFERRERS && !entry.referrers.contains(from) {
                entry.referrers.push(clip(from));
            }
        }
    }

    /// Hosts by pages, most first.
    pub fn hosts(&self) -> Vec<(&str, &HostCounts)> {
        let mut v: Vec<_> = self.by_host.iter().map(|(h, c)| (h.as_str(), c)).collect();
        v.sort_by(|a, b| b.1.pages.cmp(&a.1.pages).then_with(|| a.0.cmp(b.0)));
        v
    }
}

/// The failure rule of the crawl itself ([`ErrorKind::is_failure`]); a kind
/// this version does not know counts as a failure.
fn is_failure(kind: &str) -> bool {
    serde_json::from_value::<ErrorKind>(Value::String(kind.to_string()))
        .map_or(true, ErrorKind::is_failure)
}

/// A field has a value unless it is null, an empty string or an empty list.
pub fn is_filled(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

/// `host:port` of a URL as the report groups it; the whole string, clipped,
/// when it is not a URL.
pub fn host_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port_or_known_default()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => "(no host)".to_string(),
        },
        Err(_) => "(not a URL)".to_string(),
    }
}

/// The index of the first bound above `value` (the last bucket past all).
pub fn bucket(bounds: &[u64], value: u64) -> usize {
    bounds.partition_point(|b| *b <= value)
}

/// At most [`MAX_TEXT`] characters of `s`, with `…` when cut.
pub fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_TEXT) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The entry for `key`, or for the last key when the map is full: a
/// hostile file with a million error kinds cannot grow the report.
fn bounded_entry<K: Ord + Clone, V: Default>(map: &mut BTreeMap<K, V>, key: K) -> &mut V {
    if map.len() >= MAX_KEYS
        && !map.contains_key(&key)
        && let Some(last) = map.keys().next_back().cloned()
    {
        return map.entry(last).or_default();
    }
    map.entry(key).or_default()
}

#[cfg(test)]
mod tests;
