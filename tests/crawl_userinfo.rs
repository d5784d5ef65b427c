//! A password in a seed URL (`http://alice:S3cret@host/`), through the
//! binary: sent as HTTP Basic auth to that origin alone (not to another
//! host after a redirect or a link), and never written or printed: not in
//! records, the summary, the report, skipped.jsonl, the WARC archive, the
//! logs or an error message.

mod support;

use std::sync::Arc;

use support::binary::{assert_nowhere, collector, every_file, stderr, write};
use support::{Reply, Server, html_with_links};

const PASSWORD: &str = "S3cret";
/// base64("alice:S3cret"): what goes over the wire.
const BASIC: &str = "Basic YWxpY2U6UzNjcmV0";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn userinfo_is_basic_auth_for_its_origin_only_and_never_written() {
    let other = Server::start(
        "127.0.0.2",
        Arc::new(|path, _| match path {
            "/robots.txt" => Reply::Status(404),
            _ => Reply::Html(html_with_links("other", &[])),
        }),
    )
    .await;
    let (to_other, link_other) = (other.url("/moved-here"), other.url("/linked"));
    let site = Server::start(
        "127.0.0.1",
        Arc::new(move |path, _| match path {
            "/robots.txt" => Reply::Status(404),
            "/" => Reply::Html(html_with_links(
                "home",
                &[
                    "/a".into(),
                    "/away".into(),
                    link_other.clone(),
                    "/missing".into(),
                ],
            )),
            "/away" => Reply::Redirect(302, to_other.clone()),
            "/missing" => Reply::Status(404),
            _ => Reply::Html(html_with_links("page", &["/".into()])),
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let seed = site
        .url("/")
        .replace("http://", &format!("http://alice:{PASSWORD}@"));
    let seeds = write(dir.path(), "seeds.txt", &seed);
    let out = dir.path().join("out");
    let out_arg = out.to_string_lossy().into_owned();
    let args = vec![
        "-v".to_string(),
        "crawl".into(),
        seeds,
        "--out".into(),
        out_arg,
        "--format".into(),
        "jsonl,csv,warc".into(),
        "--log-skipped".into(),
        "--allow-domain".into(),
        "127.0.0.1".into(),
        "--allow-domain".into(),
        "127.0.0.2".into(),
        "--progress".into(),
        "never".into(),
    ];
    let cwd = dir.path().to_path_buf();
    let o = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        collector(&args, &cwd)
    })
    .await
    .expect("ran");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // The seed's origin got the credentials on every request, robots.txt
    // included; the other origin, reached by a redirect and by a link,
    // never did.
    let hits = site.hits();
    assert!(hits.len() >= 4, "{:?}", site.paths());
    for hit in &hits {
        assert_eq!(hit.header("authorization"), Some(BASIC), "{}", hit.path);
    }
    let other_paths = other.paths();
    assert!(
        other_paths.contains(&"/moved-here".to_string())
            && other_paths.contains(&"/linked".to_string()),
        "{other_paths:?}"
    );
    for hit in other.hits() {
        assert_eq!(hit.header("authorization"), None, "{}", hit.path);
    }

    // The records name the URL without its userinfo.
    let records = support::records(&out);
    assert!(support::urls(&records).contains(&site.url("/")));

    // Nowhere in any file or stream: not the password, not its base64.
    let mut places = every_file(&out);
    assert!(
        places.iter().any(|(p, _)| p.ends_with("report.html"))
            && places.iter().any(|(p, _)| p.ends_with("skipped.jsonl"))
            && places.iter().any(|(p, _)| p.ends_with("summary.json")),
        "{:?}",
        places.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    places.push(("stdout".into(), o.stdout.clone()));
    places.push(("stderr".into(), o.stderr.clone()));
    assert!(stderr(&o).contains("GET"), "-v logs every request");
    assert_nowhere(&places, &[PASSWORD, &BASIC[6..]]);
}

#[tokio::test]
async fn a_bad_seed_with_a_password_is_named_without_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = write(
        dir.path(),
        "seeds.txt",
        &format!("ftp://alice:{PASSWORD}@127.0.0.1/\nhttp://bob:{PASSWORD}@[::1/\n"),
    );
    let o = collector(&["crawl", &seeds, "--out", "o"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("seeds.txt:1:") && e.contains("seeds.txt:2:"),
        "{e}"
    );
    assert!(e.contains("alice:***@"), "{e}");
    assert!(!e.contains(PASSWORD), "{e}");
}
