//! Incremental recrawls (`--recrawl` with `--state`, `recrawl = true` in a
//! job) against a real nginx, whose ETags, Last-Modified headers and 304s
//! are its own: the second crawl's requests for known pages are
//! conditional, unchanged pages are `not_modified` records whose stored
//! links are followed, a changed page is fetched and read again, a page
//! deleted since is `gone`.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use support::binary::{collector, stderr, summary_json, write};
use support::nginx::Nginx;
use support::records;

/// Pages `p0` .. `p{PAGES-1}` besides the index.
const PAGES: usize = 20;

/// A time well before the test, so that a page changed during the test
/// gets another Last-Modified (and ETag) even within the same second.
fn long_ago() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000)
}

fn put(root: &Path, name: &str, body: &str, modified: SystemTime) {
    let path = root.join(name);
    std::fs::write(&path, body).expect("page");
    let file = std::fs::File::options()
        .write(true)
        .open(&path)
        .expect("page");
    file.set_modified(modified).expect("mtime");
}

fn page(title: &str, links: &[String]) -> String {
    support::html_with_links(title, links)
}

/// index.html links to every p{i}.html; p{i} links to the index and to
/// p{i+1}.
fn make_site(root: &Path) {
    std::fs::create_dir_all(root).expect("root");
    let all: Vec<String> = (0..PAGES).map(|i| format!("/p{i}.html")).collect();
    put(root, "index.html", &page("index", &all), long_ago());
    for i in 0..PAGES {
        let links = vec![
            "/index.html".to_string(),
            format!("/p{}.html", (i + 1) % PAGES),
        ];
        put(
            root,
            &format!("p{i}.html"),
            &page(&format!("p{i}"), &links),
            long_ago(),
        );
    }
}

/// Records by path, each URL's record once (asserted).
fn by_path(out: &Path) -> BTreeMap<String, serde_json::Value> {
    let mut map = BTreeMap::new();
    for r in records(out) {
        let url = r["url"].as_str().expect("url");
        let path = url::Url::parse(url).expect("url").path().to_string();
        assert!(
            map.insert(path.clone(), r).is_none(),
            "{path} written twice"
        );
    }
    map
}

fn ok(o: &std::process::Output) {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
}

#[test]
fn a_recrawl_asks_conditionally_and_keeps_304s_changes_and_gone_pages() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().join("site");
    make_site(&root);
    let nginx = Nginx::start(&root, &tmp.path().join("nginx"));
    let seed = nginx.url("/index.html");
    let state = tmp.path().join("state");
    let state = state.to_str().expect("path");
    let crawl = |out: &str, extra: &[&str]| {
        let mut args = vec!["crawl", &seed, "--state", state, "--out", out];
        args.extend(["--progress", "never", "--quiet"]);
        args.extend(extra);
        collector(&args, tmp.path())
    };

    ok(&crawl("first", &[]));
    let first = by_path(&tmp.path().join("first"));
    assert_eq!(first.len(), PAGES + 1);
    assert!(
        first
            .values()
            .all(|r| r["status"] == 200 && r.get("not_modified").is_none())
    );
    let before = nginx.hits().len();
    assert!(
        nginx.hits().iter().all(|h| h.if_none_match.is_none()),
        "a first crawl sends no validators"
    );

    // Between the runs: p3 changes (and links to a new page), p5 is deleted.
    let changed = vec!["/index.html".to_string(), "/new.html".to_string()];
    let later = long_ago() + Duration::from_secs(86_400);
    put(&root, "p3.html", &page("p3 changed", &changed), later);
    put(&root, "new.html", &page("new", &[]), later);
    std::fs::remove_file(root.join("p5.html")).expect("rm");

    // The recrawl, stopped by --max-pages, then resumed to its end: the
    // resumed run's leases are conditional too.
    ok(&crawl("second", &["--recrawl", "--max-pages", "6"]));
    assert_eq!(by_path(&tmp.path().join("second")).len(), 6);
    let resumed = crawl("second", &["--recrawl"]);
    ok(&resumed);
    assert!(
        stderr(&resumed).contains("did not finish: resuming it"),
        "{}",
        stderr(&resumed)
    );
    let second = by_path(&tmp.path().join("second"));
    assert_eq!(second.len(), PAGES + 2, "every page once, and the new one");
    for (path, r) in &second {
        match path.as_str() {
            "/p3.html" => {
                assert_eq!(r["status"], 200, "{r}");
                assert_eq!(r["title"], "p3 changed");
                assert!(r.get("not_modified").is_none());
            }
            "/new.html" => assert_eq!(r["status"], 200, "{r}"),
            "/p5.html" => {
                assert_eq!(r["status"], 404, "{r}");
                assert_eq!(r["gone"], true, "{r}");
            }
            _ => {
                assert_eq!(r["status"], 304, "{r}");
                assert_eq!(r["not_modified"], true, "{r}");
                assert_eq!(r["links"], if path == "/index.html" { PAGES } else { 2 });
            }
        }
    }
    let summary = summary_json(&tmp.path().join("second"));
    assert_eq!(summary["not_modified"], PAGES - 1, "{summary}");
    assert_eq!(summary["gone"], 1);
    assert_eq!(summary["failed"], 0, "a 404 is a page, not a failure");

    // What nginx saw: every page of the first crawl asked for with both
    // validators, the new page without, none twice.
    let hits: Vec<_> = nginx.hits().split_off(before);
    let pages: Vec<_> = hits.iter().filter(|h| h.path != "/robots.txt").collect();
    assert_eq!(pages.len(), PAGES + 2, "{pages:#?}");
    for h in &pages {
        let conditional = h.path != "/new.html";
        assert_eq!(h.if_none_match.is_some(), conditional, "{h:?}");
        assert_eq!(h.if_modified_since.is_some(), conditional, "{h:?}");
    }

    // A third run recrawls the second: the new page is now known, the
    // page gone was forgotten (asked for in full, and not gone again).
    ok(&crawl("third", &["--recrawl"]));
    let third = by_path(&tmp.path().join("third"));
    assert_eq!(third["/new.html"]["not_modified"], true);
    assert_eq!(third["/p3.html"]["not_modified"], true);
    assert_eq!(third["/p5.html"]["status"], 404);
    assert!(third["/p5.html"].get("gone").is_none());
    let last: Vec<_> = nginx.hits();
    let p5 = last
        .iter()
        .rev()
        .find(|h| h.path == "/p5.html")
        .expect("p5 asked");
    assert!(p5.if_none_match.is_none(), "{p5:?}");
}

#[test]
fn recrawl_flags_that_cannot_work_are_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().join("site");
    make_site(&root);
    let nginx = Nginx::start(&root, &tmp.path().join("nginx"));
    let seed = nginx.url("/index.html");
    let quiet = ["--progress", "never", "--quiet"];

    let o = collector(&["crawl", &seed, "--recrawl", "--out", "o"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--state"), "{}", stderr(&o));
    let o = collector(
        &["crawl", &seed, "--state", "s", "--recrawl", "--fresh"],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    // A finished crawl whose records live in its state directory: a
    // recrawl into the same output would replace them.
    let mut args = vec!["crawl", seed.as_str(), "--state", "s"];
    args.extend(quiet);
    ok(&collector(&args, tmp.path()));
    args.push("--recrawl");
    let o = collector(&args, tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("give another --out"), "{}", stderr(&o));
    assert_eq!(records(&tmp.path().join("s")).len(), PAGES + 1, "kept");
}

#[test]
fn a_recrawl_job_asks_conditionally_from_its_second_run_on() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().join("site");
    make_site(&root);
    let nginx = Nginx::start(&root, &tmp.path().join("nginx"));
    let jobs = write(
        tmp.path(),
        "jobs.toml",
        &format!(
            "[job.site]\nrecrawl = true\ncrawl = {{ seeds = [{:?}], quiet = true }}\n\n\
             [job.plain]\ncrawl = {{ seeds = [{:?}], quiet = true }}\n",
            nginx.url("/index.html"),
            nginx.url("/p0.html")
        ),
    );
    let run = |job: &str| {
        let o = collector(
            &["run", &jobs, "--job", job, "--output-root", "out"],
            tmp.path(),
        );
        ok(&o);
        let latest = tmp.path().join("out").join(job).join("latest");
        let name = std::fs::read_link(&latest).expect("latest");
        by_path(&latest.parent().expect("job dir").join(name))
    };
    let first = run("site");
    assert!(first.values().all(|r| r["status"] == 200));
    std::thread::sleep(Duration::from_millis(1100)); // run ids are by the second
    let second = run("site");
    assert_eq!(second.len(), PAGES + 1);
    assert!(
        second.values().all(|r| r["not_modified"] == true),
        "{second:#?}"
    );
    // A job without recrawl starts over each run: no validators.
    let before = nginx.hits().len();
    run("plain");
    std::thread::sleep(Duration::from_millis(1100));
    let again = run("plain");
    assert!(again.values().all(|r| r["status"] == 200));
    assert!(
        nginx.hits()[before..]
            .iter()
            .all(|h| h.if_none_match.is_none())
    );

    // recrawl is a crawl job's key.
    let bad = write(
        tmp.path(),
        "bad.toml",
        "[job.pull]\nrecrawl = true\napi = { url = \"http://127.0.0.1:9/x\" }\n",
    );
    let o = collector(&["run", &bad], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("job.pull.recrawl"), "{}", stderr(&o));
}
