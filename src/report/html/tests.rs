use super::*;
use serde_json::json;

#[test]
fn escape_covers_text_and_attributes() {
    assert_eq!(
        escape(r#"<a href="x">'&'</a>"#),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
    );
    assert_eq!(link("javascript:alert(1)"), "javascript:alert(1)");
    assert!(
        link("HTTP://a.test/?q=\"x\"").starts_with("<a href=\"HTTP://a.test/?q=&quot;x&quot;\"")
    );
}

#[test]
fn hostile_strings_never_become_markup() {
    let evil = "</title><script>document.body.dataset.pwned=1</script><img src=x onerror=alert(1)>";
    let url = format!("http://a.test/\"><script>alert(1)</script>?{evil}");
    let mut a = Aggregate::default();
    a.page_line(
        1,
        &json!({"url": url, "status": 404, "title": evil, "referrer": format!("http://b.test/{evil}"),
            "bytes": 10, "elapsed_ms": 5, "fetched_at": "2026-01-01T00:00:00Z",
            "error": {"kind": evil, "message": evil}, "rule": evil,
            "data": {evil: evil}, "incomplete": [evil]})
        .to_string(),
    );
    a.page_line(2, evil);
    let summary = json!({"started_at": evil, "finished_at": evil, "skipped": {evil: 1}});
    let warnings = vec![evil.to_string()];
    let page = render(&Inputs {
        dir: evil,
        aggregate: &a,
        summary: Some(&summary),
        skipped_file: false,
        warnings: &warnings,
    });
    assert_eq!(
        page.matches("<script>").count(),
        2,
        "only the report's own scripts"
    );
    assert!(!page.contains("<img"));
    assert!(!page.contains("pwned=1</script>"));
    assert!(!page.contains("\"><script"));
    assert!(page.contains("&lt;script&gt;document.body.dataset.pwned=1&lt;/script&gt;"));
}

#[test]
fn figures_are_named() {
    let mut a = Aggregate::default();
    a.page_line(
        1,
        &json!({"url": "http://a.test/", "status": 200, "bytes": 5}).to_string(),
    );
    let page = render(&Inputs {
        dir: "out",
        aggregate: &a,
        summary: None,
        skipped_file: false,
        warnings: &[],
    });
    assert!(page.contains("data-figure=\"pages\" data-value=\"1\""));
    assert!(page.contains("data-figure=\"status:200\" data-value=\"1\""));
    assert!(page.contains("data-figure=\"bytes\" data-value=\"5\""));
}

#[test]
fn labels_of_buckets() {
    let l = bucket_labels(&[1, 1000], ms_short);
    assert_eq!(l, vec!["<1ms", "<1s", "≥1s"]);
    assert_eq!(bytes_short(256 << 10), "256K");
    assert_eq!(bytes_text(1536), "1.5 KiB");
}
