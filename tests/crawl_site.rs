//! A generated site over three hosts: every in-scope page fetched exactly
//! once, variants deduplicated, scope and robots.txt obeyed, records valid.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use support::{Handler, Reply, Server};

const HOSTS: [&str; 3] = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];
const PER_HOST: usize = 100;

/// Page `g` (global index) lives on host `g % 3` at `/p{g}.html`, or `/` for
/// the first page of each host.
fn path_of(g: usize) -> String {
    if g < HOSTS.len() {
        "/".to_string()
    } else {
        format!("/p{g}.html")
    }
}

fn site_handler(site: Arc<OnceLock<HashMap<String, String>>>, robots: &'static str) -> Handler {
    Arc::new(move |path, _| {
        if path == "/robots.txt" {
            return Reply::Text("text/plain", robots.to_string());
        }
        match site.get().and_then(|m| m.get(path)) {
            Some(body) => Reply::Html(body.clone()),
            None => Reply::Status(404),
        }
    })
}

/// Every way the pages spell a link to page `g`: they must all collapse
/// into one fetch.
fn variants(g: usize, from_host: usize, addrs: &[String]) -> Vec<String> {
    let host = g % HOSTS.len();
    let path = path_of(g);
    let abs = format!("http://{}{}", addrs[host], path);
    let mut v = vec![
        abs.clone(),
        format!("{abs}#section-2"),
        format!("HTTP://{}{}", addrs[host], path),
        format!("http://{}/a/../b/./..{}", addrs[host], path),
    ];
    if host == from_host {
        v.push(path.clone());
        v.push(format!("{path}#top"));
        if path != "/" {
            v.push(format!(".{path}"));
            v.push(format!("/x/..{path}"));
        }
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_in_scope_page_is_fetched_exactly_once() {
    let sites: Vec<Arc<OnceLock<HashMap<String, String>>>> =
        (0..HOSTS.len()).map(|_| Arc::default()).collect();
    let mut servers = Vec::new();
    for (h, ip) in HOSTS.iter().enumerate() {
        let robots = if h == 1 {
            "User-agent: *\nDisallow: /private/\n"
        } else {
            "User-agent: *\nDisallow:\n"
        };
        servers.push(Server::start(ip, site_handler(sites[h].clone(), robots)).await);
    }
    let outside = Server::start("127.0.0.4", support::pages(HashMap::new())).await;
    let addrs: Vec<String> = servers.iter().map(|s| s.addr.to_string()).collect();

    let total = HOSTS.len() * PER_HOST;
    let mut rng = fastrand::Rng::with_seed(7);
    let mut maps: Vec<HashMap<String, String>> = vec![HashMap::new(); HOSTS.len()];
    for g in 0..total {
        let h = g % HOSTS.len();
        let mut links = Vec::new();
        for child in (g * 3 + 1)..=(g * 3 + 3) {
            if child < total {
                links.extend(variants(child, h, &addrs));
            }
        }
        for _ in 0..5 {
            let any = rng.usize(0..total);
            let v = variants(any, h, &addrs);
            links.push(v[rng.usize(0..v.len())].clone());
        }
        links.push(format!("http://{}/never.html", outside.addr));
        links.push(format!("http://{}/private/secret.html", addrs[1]));
        links.push("mailto:someone@example.invalid".to_string());
        links.push("javascript:void(0)".to_string());
        maps[h].insert(
            path_of(g),
            support::html_with_links(&format!("page {g}"), &links),
        );
    }
    for (site, map) in sites.iter().zip(maps) {
        site.set(map).expect("site set once");
    }

    let out = tempfile::tempdir().expect("tempdir");
    let mut opts = support::options(out.path());
    opts.scope.allow_domain = Some(HOSTS.iter().map(|h| h.to_string()).collect());
    opts.run.log_skipped = Some(true);
    let summary = support::crawl(&[format!("http://{}/", addrs[0])], opts).await;

    for (h, server) in servers.iter().enumerate() {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for p in server.paths() {
            *counts.entry(p).or_default() += 1;
        }
        assert_eq!(
            counts.remove("/robots.txt"),
            Some(1),
            "robots.txt of host {h} once"
        );
        let expected: Vec<String> = (0..total).filter(|g| g % 3 == h).map(path_of).collect();
        for p in &expected {
            assert_eq!(counts.remove(p), Some(1), "host {h} page {p} fetched once");
        }
        assert!(
            counts.is_empty(),
            "host {h} got unexpected requests: {counts:?}"
        );
        for hit in server.hits() {
            assert!(
                hit.user_agent.starts_with("collector/"),
                "{}",
                hit.user_agent
            );
        }
    }
    assert!(
        outside.hits().is_empty(),
        "an out-of-scope host was requested"
    );

    let records = support::records(out.path());
    assert_eq!(records.len(), total);
    assert!(
        records
            .iter()
            .all(|r| r["status"] == 200 && r["error"].is_null())
    );
    support::assert_schema_valid(&records);
    let seed = support::record_for(&records, &format!("http://{}/", addrs[0]));
    assert_eq!(seed["depth"], 0);
    assert!(seed["referrer"].is_null());
    assert_eq!(seed["title"], "page 0");

    assert_eq!(summary.pages, total as u64);
    assert_eq!(summary.failed, 0);
    assert_eq!(summary.hosts, 3);
    assert!(summary.skipped["robots_denied"] >= 1);
    assert!(summary.skipped["out_of_scope"] >= total as u64);
    assert!(summary.skipped["scheme"] >= 2 * total as u64);
    assert!(summary.skipped["duplicate"] > 0);

    let skipped = std::fs::read_to_string(out.path().join("skipped.jsonl")).expect("skipped.jsonl");
    let private = format!("http://{}/private/secret.html", addrs[1]);
    let denied: Vec<serde_json::Value> = skipped
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .filter(|r: &serde_json::Value| {
            r["url"] == private.as_str() && r["reason"] == "robots_denied"
        })
        .collect();
    assert_eq!(
        denied.len(),
        1,
        "the disallowed URL is logged once as denied"
    );
    assert!(denied[0]["referrer"].is_string());
    let summary_file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("summary.json")).expect("summary.json"),
    )
    .expect("summary is JSON");
    assert_eq!(summary_file["pages"], total);
}

/// An endless calendar: every day links to the next one.
fn calendar() -> Handler {
    Arc::new(|path, _| {
        let day: u64 = path
            .strip_prefix("/cal?d=")
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        if path == "/robots.txt" {
            return Reply::Status(404);
        }
        Reply::Html(support::html_with_links(
            &format!("day {day}"),
            &[
                format!("/cal?d={}", day + 1),
                format!("/cal?d={}#x", day + 1),
            ],
        ))
    })
}

#[tokio::test]
async fn a_spider_trap_is_bounded_by_max_depth() {
    let server = Server::start("127.0.0.1", calendar()).await;
    let out = tempfile::tempdir().expect("tempdir");
    let mut opts = support::options(out.path());
    opts.run.max_depth = Some(5);
    let summary = support::crawl(&[server.url("/cal?d=0")], opts).await;
    let records = support::records(out.path());
    assert_eq!(records.len(), 6, "depths 0 to 5");
    let max_depth = records.iter().filter_map(|r| r["depth"].as_u64()).max();
    assert_eq!(max_depth, Some(5));
    assert_eq!(server.count("/cal?d=6"), 0);
    // Both links to day 6 (one with a fragment): a URL refused for its
    // depth is not marked seen, as a shorter path could still reach it.
    assert_eq!(summary.skipped["max_depth"], 2);
}

#[tokio::test]
async fn max_depth_admits_a_page_first_found_too_deep_when_a_shorter_path_reaches_it() {
    // `/target` is two links from the seed through the slow `/slow`, and
    // three through the fast `/f1` and `/f2`: the long path finds it
    // first, too deep for --max-depth 2; the short one must still get it.
    let server = Server::start(
        "127.0.0.1",
        Arc::new(|path, _| {
            let page = |links: &[&str]| {
                let links: Vec<String> = links.iter().map(|l| l.to_string()).collect();
                Reply::Html(support::html_with_links(path, &links))
            };
            match path {
                "/robots.txt" => Reply::Status(404),
                "/" => page(&["/slow", "/f1"]),
                "/slow" => Reply::Delayed(Duration::from_millis(600), Box::new(page(&["/target"]))),
                "/f1" => page(&["/f2"]),
                "/f2" => page(&["/target"]),
                _ => page(&[]),
            }
        }),
    )
    .await;
    let out = tempfile::tempdir().expect("tempdir");
    let mut opts = support::options(out.path());
    opts.run.max_depth = Some(2);
    let summary = support::crawl(&[server.url("/")], opts).await;
    let records = support::records(out.path());
    let target = support::record_for(&records, &server.url("/target"));
    assert_eq!(target["depth"], 2, "{target}");
    assert_eq!(server.count("/target"), 1);
    assert!(
        server.hits().iter().position(|h| h.path == "/f2")
            < server.hits().iter().position(|h| h.path == "/target"),
        "the long path was there first"
    );
    assert_eq!(summary.skipped["max_depth"], 1, "/target from /f2, once");
}

#[tokio::test]
async fn max_pages_is_exact() {
    let server = Server::start("127.0.0.1", calendar()).await;
    let out = tempfile::tempdir().expect("tempdir");
    let mut opts = support::options(out.path());
    opts.run.max_pages = Some(17);
    let summary = support::crawl(&[server.url("/cal?d=0")], opts).await;
    assert_eq!(support::records(out.path()).len(), 17);
    let page_hits = server
        .paths()
        .iter()
        .filter(|p| p.starts_with("/cal"))
        .count();
    assert_eq!(page_hits, 17);
    assert_eq!(
        summary.skipped["max_pages"], 1,
        "day 17 was found but not fetched"
    );
}

#[tokio::test]
async fn urls_robots_txt_denies_do_not_use_up_max_pages() {
    let mut links: Vec<String> = (0..10).map(|i| format!("/private/{i}")).collect();
    links.extend((0..30).map(|i| format!("/open/{i}")));
    let server = Server::start(
        "127.0.0.1",
        Arc::new(move |path, _| match path {
            "/robots.txt" => {
                Reply::Text("text/plain", "User-agent: *\nDisallow: /private/\n".into())
            }
            "/" => Reply::Html(support::html_with_links("root", &links)),
            _ => Reply::Html("<title>leaf</title>".into()),
        }),
    )
    .await;
    let out = tempfile::tempdir().expect("tempdir");
    let mut opts = support::options(out.path());
    opts.run.max_pages = Some(15);
    opts.run.per_host = Some(1);
    let summary = support::crawl(&[server.url("/")], opts).await;
    let records = support::records(out.path());
    assert_eq!(records.len(), 15);
    assert!(server.paths().iter().all(|p| !p.starts_with("/private/")));
    assert_eq!(
        server
            .paths()
            .iter()
            .filter(|p| p.starts_with("/open/"))
            .count(),
        14
    );
    assert_eq!(summary.skipped["robots_denied"], 10);
    assert_eq!(summary.skipped["max_pages"], 16);
}
