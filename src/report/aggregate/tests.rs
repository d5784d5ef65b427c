use super::*;
use serde_json::json;

fn line(v: Value) -> String {
    v.to_string()
}

fn page(url: &str, status: u16, ms: u64, bytes: u64, at: &str) -> String {
    line(
        json!({"url": url, "final_url": url, "status": status, "depth": 1,
        "referrer": "http://a.test/", "content_type": "text/html", "bytes": bytes,
        "elapsed_ms": ms, "fetched_at": at, "title": "T", "links": 0, "retries": 0,
        "redirects": 0, "error": null}),
    )
}

#[test]
fn counts_match_the_summary_rules() {
    let mut a = Aggregate::default();
    a.page_line(
        1,
        &page("http://a.test/1", 200, 3, 1000, "2026-01-01T00:00:00.100Z"),
    );
    a.page_line(
        2,
        &page("http://a.test/2", 404, 7, 10, "2026-01-01T00:00:00.900Z"),
    );
    a.page_line(
        3,
        &line(
            json!({"url": "http://b.test:8080/x", "status": null, "depth": 0,
            "bytes": 0, "elapsed_ms": 0, "fetched_at": "2026-01-01T00:00:03Z",
            "error": {"kind": "timeout", "message": "timed out"}}),
        ),
    );
    a.page_line(
        4,
        &line(
            json!({"url": "http://b.test:8080/r", "status": null, "depth": 0,
            "fetched_at": "2026-01-01T00:00:03Z",
            "error": {"kind": "robots_denied", "message": "denied"}}),
        ),
    );
    assert_eq!(a.pages, 4);
    assert_eq!(a.failed, 1, "robots_denied is not a failure");
    assert_eq!(a.bytes, 1010);
    assert_eq!(a.by_status.get("200"), Some(&1));
    assert_eq!(a.by_status.get("none"), Some(&2));
    assert_eq!(a.by_error["timeout"].count, 1);
    assert_eq!(a.by_error["timeout"].examples[0].0, "http://b.test:8080/x");
    assert_eq!(a.by_host["a.test:80"].pages, 2);
    assert_eq!(a.by_host["b.test:8080"].failed, 1);
    assert_eq!(a.by_depth.get(&1), Some(&2));
    // Timeline: 100 ms slots from 0.1 s to 3.0 s; one page in the
    // first (10/s), two in the last (20/s), a gap of none between.
    let rates = a.timeline.rates();
    assert_eq!(rates.len(), 30);
    assert_eq!(rates[0], (0.0, 10.0));
    assert_eq!(rates[1], (0.1, 0.0));
    assert_eq!(rates[8], (0.8, 10.0));
    assert_eq!(rates[29], (2.9, 20.0));
    // Only responses go into the histograms and top lists.
    assert_eq!(a.time_hist.iter().sum::<u64>(), 2);
    assert_eq!(a.slowest.sorted()[0].url, "http://a.test/2");
    assert_eq!(a.largest.sorted()[0].value, 1000);
    assert_eq!(
        a.broken["http://a.test/2"].referrers,
        vec!["http://a.test/"]
    );
}

#[test]
fn a_malformed_line_is_named_not_fatal() {
    let mut a = Aggregate::default();
    a.page_line(1, "{not json");
    a.page_line(2, "");
    a.page_line(3, &line(json!({"status": 200})));
    a.page_line(4, &page("http://a.test/", 200, 1, 1, "yesterday"));
    assert_eq!(a.pages, 1);
    assert_eq!(a.undated, 1);
    assert_eq!(a.malformed_count, 2);
    assert_eq!(a.malformed[0].line, 1);
    assert_eq!(a.malformed[1].file, "pages.jsonl");
    assert_eq!(a.malformed[1].line, 3);
    assert!(
        a.malformed[1].reason.contains("url"),
        "{:?}",
        a.malformed[1]
    );
}

#[test]
fn top_lists_stay_bounded_and_keep_the_largest() {
    let mut a = Aggregate::default();
    for i in 0..1000u64 {
        let url = format!("http://a.test/{i}");
        a.page_line(i + 1, &page(&url, 200, i % 500, i, "2026-01-01T00:00:00Z"));
    }
    let slowest = a.slowest.sorted();
    assert_eq!(slowest.len(), TOP_N);
    assert_eq!(slowest[0].value, 499);
    let largest = a.largest.sorted();
    assert_eq!(largest.len(), TOP_N);
    assert_eq!(largest[0].url, "http://a.test/999");
    assert_eq!(largest[TOP_N - 1].value, 1000 - TOP_N as u64);
}

#[test]
fn broken_links_gather_referrers_from_duplicate_skips() {
    let mut a = Aggregate::default();
    a.page_line(
        1,
        &page("http://a.test/gone", 410, 1, 1, "2026-01-01T00:00:00Z"),
    );
    for (i, from) in ["http://a.test/p1", "http://a.test/p2", "http://a.test/p2"]
        .iter()
        .enumerate()
    {
        a.skip_line(
            i as u64 + 1,
            &line(json!({"url": "http://a.test/gone", "reason": "duplicate", "referrer": from})),
        );
    }
    a.skip_line(
        4,
        &line(json!({"url": "http://x.test/", "reason": "out_of_scope", "referrer": null})),
    );
    a.skip_line(5, "oops");
    let gone = &a.broken["http://a.test/gone"];
    assert_eq!(gone.status, 410);
    assert_eq!(
        gone.referrers,
        vec!["http://a.test/", "http://a.test/p1", "http://a.test/p2"]
    );
    assert_eq!(gone.linked_from, 4);
    assert_eq!(a.skips["duplicate"].count, 3);
    assert_eq!(a.skips["out_of_scope"].examples[0].0, "http://x.test/");
    assert_eq!(a.malformed[0].file, "skipped.jsonl");
}

#[test]
fn rule_fields_filled_and_empty() {
    let mut a = Aggregate::default();
    a.page_line(
        1,
        &line(
            json!({"url": "http://a.test/1", "status": 200, "rule": "book",
            "data": {"title": "X", "price": null, "tags": []}, "incomplete": ["price"]}),
        ),
    );
    a.page_line(
        2,
        &line(
            json!({"url": "http://a.test/2", "status": 200, "rule": "book",
            "data": {"title": "", "price": 3.5, "tags": ["a"]}}),
        ),
    );
    let book = &a.by_rule["book"];
    assert_eq!(book.records, 2);
    assert_eq!(book.incomplete, 1);
    assert_eq!(
        book.fields,
        vec![
            ("title".to_string(), 1, 1),
            ("price".to_string(), 1, 1),
            ("tags".to_string(), 1, 1)
        ]
    );
    assert_eq!(a.incomplete, 1);
    assert_eq!(a.incomplete_examples[0].2, vec!["price"]);
}

#[test]
fn buckets_and_clipping() {
    assert_eq!(bucket(&TIME_BUCKETS_MS, 0), 0);
    assert_eq!(bucket(&TIME_BUCKETS_MS, 1), 1);
    assert_eq!(bucket(&TIME_BUCKETS_MS, 999), 9);
    assert_eq!(bucket(&TIME_BUCKETS_MS, u64::MAX), TIME_BUCKETS_MS.len());
    assert_eq!(bucket(&SIZE_BUCKETS_BYTES, 0), 0);
    assert_eq!(bucket(&SIZE_BUCKETS_BYTES, 1023), 1);
    let long = "é".repeat(MAX_TEXT + 10);
    let clipped = clip(&long);
    assert_eq!(clipped.chars().count(), MAX_TEXT + 1);
    assert!(clipped.ends_with('…'));
}

#[test]
fn timeline_widens_its_slots_instead_of_growing() {
    let mut t = Timeline::default();
    for s in 0..(MAX_SLOTS as i64 * 3) {
        t.add(1_700_000_000_000 + s * 1000);
    }
    assert!(t.slots.len() <= MAX_SLOTS);
    assert_eq!(t.slots.values().sum::<u64>(), MAX_SLOTS as u64 * 3);
    assert!(t.slot_ms >= 2000);
}

#[test]
fn open_ended_maps_are_bounded() {
    let mut a = Aggregate::default();
    for i in 0..(MAX_KEYS as u64 + 50) {
        a.page_line(
            i + 1,
            &line(json!({"url": "http://a.test/", "status": null,
                "error": {"kind": format!("kind{i:05}"), "message": ""}})),
        );
    }
    assert_eq!(a.by_error.len(), MAX_KEYS);
    assert_eq!(
        a.by_error.values().map(|e| e.count).sum::<u64>(),
        MAX_KEYS as u64 + 50
    );
}
