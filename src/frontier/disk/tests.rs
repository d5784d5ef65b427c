//! The disk frontier: the shared behaviour, the depth rule, resume, refusals,
//! and a crawl killed with SIGKILL at random moments.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{DiskFrontier, Resume, STATE_FILE};
use crate::frontier::behaviour::{Fixture, cand, gate, unlimited};
use crate::frontier::{Ack, Admission, Done, Frontier, Limits, Memo, PageMemo};
use crate::gate::{HostGate, HostPermit, Wait};

fn make(limits: Limits) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let (f, _) = DiskFrontier::open(dir.path(), b"test", limits).expect("open");
    Fixture {
        frontier: Arc::new(f),
        _keep: Some(dir),
    }
}

crate::frontier::behaviour::tests!(make);

fn open(dir: &Path, limits: Limits) -> (DiskFrontier, Resume) {
    DiskFrontier::open(dir, b"test", limits).expect("open")
}

#[tokio::test]
async fn a_queued_url_takes_the_depth_of_a_shorter_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let g = gate(8, &[]);
    {
        let (f, _) = open(dir.path(), unlimited());
        f.push(vec![
            cand("http://a/1", 0),
            cand("http://a/x", 5),
            cand("http://a/y", 5),
        ])
        .await
        .expect("push");
        // Leasing a/1 reads a/x and a/y ahead into memory.
        let first = f.lease(&g).await.expect("lease").expect("some");
        assert_eq!(first.url.as_str(), "http://a/1");
        let got = f.push(vec![cand("http://a/x", 2)]).await.expect("push");
        assert_eq!(got, vec![Admission::Duplicate]);
        let x = f.lease(&g).await.expect("lease").expect("some");
        assert_eq!((x.url.as_str(), x.depth), ("http://a/x", 2));
    }
    // After a restart (nothing committed), on disk.
    let (f, _) = open(dir.path(), unlimited());
    f.push(vec![cand("http://a/y", 1), cand("http://a/y", 3)])
        .await
        .expect("push");
    let mut depths = Vec::new();
    while let Some(l) = f.lease(&g).await.expect("lease") {
        depths.push((l.url.to_string(), l.depth));
        f.complete(l, Done::Fetched).await.expect("complete");
    }
    assert_eq!(
        depths,
        [("http://a/1", 0), ("http://a/x", 2), ("http://a/y", 1)].map(|(u, d)| (u.to_string(), d))
    );
}

#[tokio::test]
async fn resume_requeues_what_was_leased_but_not_committed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let limits = Limits {
        max_pages: Some(3),
        max_depth: None,
    };
    let g = gate(8, &[]);
    {
        let (f, resume) = open(dir.path(), limits);
        assert_eq!(resume, Resume::default());
        let urls = ["http://a/1", "http://a/2", "http://b/1", "http://b/2"];
        f.push(urls.iter().map(|u| cand(u, 0)).collect())
            .await
            .expect("push");
        let first = f.lease(&g).await.expect("lease").expect("some");
        let second = f.lease(&g).await.expect("lease").expect("some");
        let done = [Ack::new(first.id, Done::Fetched)];
        f.complete(first, Done::Fetched).await.expect("complete");
        f.commit(done.to_vec(), b"pos-1").await.expect("commit");
        // `second` is in flight when the run ends.
        drop(second);
    }
    let (f, resume) = open(dir.path(), limits);
    assert_eq!(resume.positions.as_deref(), Some(&b"pos-1"[..]));
    assert_eq!((resume.queued, resume.fetched), (3, 1));
    let mut got = Vec::new();
    while let Some(l) = f.lease(&g).await.expect("lease") {
        got.push(l.url.to_string());
        f.complete(l, Done::Fetched).await.expect("complete");
    }
    got.sort();
    // One fetched before the restart, so two more make max_pages 3.
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(!got.contains(&"http://a/1".to_string()), "{got:?}");
    assert!(
        got.contains(&"http://b/1".to_string()),
        "the lease in flight: {got:?}"
    );
    let left = f.drain().await.expect("drain");
    assert_eq!(left.len(), 1);
    let again = f.push(vec![cand("http://a/1", 0)]).await.expect("push");
    assert_eq!(again, vec![Admission::Duplicate]);
}

#[tokio::test]
async fn a_state_from_other_seeds_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    drop(open(dir.path(), unlimited()));
    let err = DiskFrontier::open(dir.path(), b"other", unlimited())
        .err()
        .expect("refused");
    let msg = err.to_string();
    assert!(msg.contains("other seeds"), "{msg}");
    assert!(msg.contains(STATE_FILE), "{msg}");
}

#[test]
fn a_corrupt_state_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(STATE_FILE);
    for garbage in [&b"not a database"[..], &[0xffu8; 8192][..]] {
        std::fs::write(&path, garbage).expect("write");
        let err = DiskFrontier::open(dir.path(), b"test", unlimited())
            .err()
            .expect("refused");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }
}

#[tokio::test]
async fn damage_inside_a_state_is_an_error_or_repaired_never_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let (f, _) = open(dir.path(), unlimited());
        let urls: Vec<String> = (0..3000)
            .map(|i| format!("http://h{}/p{i}", i % 5))
            .collect();
        f.push(urls.iter().map(|u| cand(u, 0)).collect())
            .await
            .expect("push");
        f.commit(Vec::new(), b"").await.expect("commit");
    }
    let path = dir.path().join(STATE_FILE);
    let clean = std::fs::read(&path).expect("read");
    let mut rng = fastrand::Rng::with_seed(3);
    for _ in 0..20 {
        let mut bytes = clean.clone();
        let at = rng.usize(512..bytes.len());
        for b in bytes.iter_mut().skip(at).take(64) {
            *b = rng.u8(..);
        }
        std::fs::write(&path, &bytes).expect("write");
        if let Ok((f, _)) = DiskFrontier::open(dir.path(), b"test", unlimited()) {
            let _ = f.drain().await;
        }
    }
}

#[test]
fn a_state_in_use_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let _held = open(dir.path(), unlimited());
    let err = DiskFrontier::open(dir.path(), b"test", unlimited())
        .err()
        .expect("refused");
    assert!(err.to_string().contains("another crawl"), "{err}");
}

/// Pages of the killed crawl: page k links to 2k+1 and 2k+2.
const PAGES: u64 = 1500;
/// Records per commit in the killed crawl.
const COMMIT_EVERY: usize = 8;
const STATE_ENV: &str = "COLLECTOR_TEST_KILLED_CRAWL";

struct Open;
impl HostGate for Open {
    fn try_start(&self, _origin: &str) -> Result<HostPermit, Wait> {
        Ok(HostPermit::new(()))
    }
}

fn page_url(k: u64) -> String {
    format!("http://h{}.test/p{k}", k % 7)
}

fn page_of(url: &str) -> Option<u64> {
    url.rsplit_once("/p")?.1.parse().ok()
}

/// A crawl as the pipeline runs it: a record written per page at once,
/// a commit with the output length every few records. Truncates the
/// output to the committed length first, as a resumed crawl does.
async fn crawl(dir: &Path) {
    let (f, resume) = open(dir, unlimited());
    let output_path = dir.join("pages.txt");
    let committed = resume
        .positions
        .and_then(|p| p.try_into().ok())
        .map_or(0, u64::from_le_bytes);
    let mut output = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&output_path)
        .expect("output");
    output.set_len(committed).expect("truncate");
    let mut leases_log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("leases.txt"))
        .expect("lease log");
    f.push(vec![cand(&page_url(0), 0)]).await.expect("seed");
    let mut pending = Vec::new();
    while let Some(lease) = f.lease(&Open).await.expect("lease") {
        let k = page_of(lease.url.as_str()).expect("page URL");
        writeln!(leases_log, "{k}").expect("log");
        let links = [2 * k + 1, 2 * k + 2]
            .into_iter()
            .filter(|c| *c < PAGES)
            .map(|c| cand(&page_url(c), lease.depth + 1))
            .collect();
        f.push(links).await.expect("push");
        pending.push(Ack::new(lease.id, Done::Fetched));
        f.complete(lease, Done::Fetched).await.expect("complete");
        writeln!(output, "{k}").expect("record");
        if pending.len() == COMMIT_EVERY {
            let len = output.metadata().expect("output length").len();
            f.commit(std::mem::take(&mut pending), &len.to_le_bytes())
                .await
                .expect("commit");
        }
    }
    let len = output.metadata().expect("output length").len();
    f.commit(std::mem::take(&mut pending), &len.to_le_bytes())
        .await
        .expect("commit");
}

/// Run by `killed_at_random_moments_...` in a child process of its own.
#[test]
#[ignore = "the child of a kill test"]
fn killed_crawl_child() {
    let Some(dir) = std::env::var_os(STATE_ENV) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(crawl(Path::new(&dir)));
}

fn lines(path: &Path, upto: Option<u64>) -> Vec<u64> {
    let mut text = std::fs::read(path).unwrap_or_default();
    if let Some(n) = upto {
        text.truncate(usize::try_from(n).unwrap_or(usize::MAX));
    }
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect()
}

/// After a kill: every committed page once; none of them queued; every
/// page leased but not committed queued again.
async fn check_state(dir: &Path) {
    let (f, resume) = open(dir, unlimited());
    let committed_len = resume
        .positions
        .map(|p| u64::from_le_bytes(p.try_into().expect("8 bytes of positions")));
    let committed = lines(&dir.join("pages.txt"), Some(committed_len.unwrap_or(0)));
    let mut once = committed.clone();
    once.sort_unstable();
    once.dedup();
    assert_eq!(once.len(), committed.len(), "a committed page twice");
    let queued: Vec<u64> = f
        .drain()
        .await
        .expect("drain")
        .iter()
        .filter_map(|c| page_of(c.url.as_str()))
        .collect();
    assert_eq!(queued.len() as u64, resume.queued);
    for k in &queued {
        assert!(
            once.binary_search(k).is_err(),
            "committed page {k} queued again"
        );
    }
    let mut in_flight = 0;
    for k in lines(&dir.join("leases.txt"), None) {
        if once.binary_search(&k).is_err() {
            assert!(queued.contains(&k), "page {k} leased, not committed, lost");
            in_flight += 1;
        }
    }
    eprintln!(
        "after a kill: {} pages committed, {} queued, {in_flight} leases not committed",
        once.len(),
        queued.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_moments_a_crawl_loses_and_repeats_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = std::env::current_exe().expect("test binary");
    let log = dir.path().join("leases.txt");
    let mut rng = fastrand::Rng::with_seed(11);
    for _ in 0..5 {
        let before = std::fs::metadata(&log).map_or(0, |m| m.len());
        let mut child = Command::new(&exe)
            .args(["--exact", "frontier::disk::tests::killed_crawl_child"])
            .args(["--ignored", "--nocapture", "--test-threads=1"])
            .env(STATE_ENV, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the child");
        // Kill once it has made progress, at a random moment after that.
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::fs::metadata(&log).map_or(0, |m| m.len()) <= before && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.u64(0..150))).await;
        child.kill().expect("kill the child");
        child.wait().expect("reap the child");
        check_state(dir.path()).await;
    }
    crawl(dir.path()).await;
    let (_, resume) = open(dir.path(), unlimited());
    let len = resume
        .positions
        .map(|p| u64::from_le_bytes(p.try_into().expect("8 bytes")));
    let mut pages = lines(&dir.path().join("pages.txt"), len);
    pages.sort_unstable();
    assert_eq!(
        pages,
        (0..PAGES).collect::<Vec<_>>(),
        "every page exactly once"
    );
    assert!(
        lines(&log, None).len() as u64 > PAGES,
        "the kills interrupted nothing"
    );
}

fn keep(url: &str, links: &[&str]) -> PageMemo {
    let memo = Memo {
        etag: Some(format!("\"{url}\"")),
        last_modified: None,
        links: links.iter().map(|l| l.to_string()).collect(),
    };
    PageMemo::Keep {
        fp: crate::frontier::fingerprint(&url::Url::parse(url).expect("url")),
        memo: memo.encode(),
    }
}

/// Leases everything queued; returns each URL with its depth and memo's
/// first link, and acks that are committed with `page(url)`.
async fn lease_all(
    f: &DiskFrontier,
    page: impl Fn(&str) -> Option<PageMemo>,
) -> (Vec<(String, u32, Option<String>)>, Vec<Ack>) {
    let g = gate(8, &[]);
    let (mut seen, mut acks) = (Vec::new(), Vec::new());
    while let Some(l) = f.lease(&g).await.expect("lease") {
        let link = l.memo.as_ref().map(|m| m.links.join(" "));
        seen.push((l.url.to_string(), l.depth, link));
        acks.push(Ack {
            page: page(l.url.as_str()),
            ..Ack::new(l.id, Done::Fetched)
        });
        f.complete(l, Done::Fetched).await.expect("complete");
    }
    seen.sort();
    (seen, acks)
}

#[tokio::test]
async fn a_recrawl_queues_the_pages_kept_with_their_memos() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let (f, _) = open(dir.path(), unlimited());
        let urls = [("http://a/1", 0), ("http://a/2", 1), ("http://b/1", 1)];
        f.push(urls.iter().map(|(u, d)| cand(u, *d)).collect())
            .await
            .expect("push");
        // a/2 had no content (say a 500): nothing kept of it.
        let (_, acks) = lease_all(&f, |u| match u {
            "http://a/1" => Some(keep(u, &["http://a/2", "http://b/1"])),
            "http://b/1" => Some(keep(u, &["http://b/2"])),
            _ => None,
        })
        .await;
        f.commit(acks, b"first").await.expect("commit");
    }
    {
        let (f, _) = open(dir.path(), unlimited());
        let (f, resume) = f.recrawl().expect("recrawl");
        assert_eq!(
            (resume.positions, resume.queued, resume.fetched),
            (None, 2, 0)
        );
        let got = f
            .push(vec![cand("http://a/1", 0), cand("http://a/2", 1)])
            .await
            .expect("push");
        assert_eq!(got, [Admission::Duplicate, Admission::Queued]);
        let g = gate(8, &[]);
        let first = f.lease(&g).await.expect("lease").expect("some");
        assert_eq!(first.url.as_str(), "http://a/1");
        let memo = first
            .memo
            .as_ref()
            .expect("a kept page's lease carries its memo");
        assert_eq!(memo.etag.as_deref(), Some("\"http://a/1\""));
        // Only a/1 is committed (its memo kept as it was) before a kill.
        f.commit(vec![Ack::new(first.id, Done::Fetched)], b"part")
            .await
            .expect("commit");
    }
    // The resumed recrawl's leases still carry memos; b/1 is gone now.
    let (f, resume) = open(dir.path(), unlimited());
    assert_eq!(resume.positions.as_deref(), Some(&b"part"[..]));
    let (seen, acks) = lease_all(&f, |u| {
        let fp = crate::frontier::fingerprint(&url::Url::parse(u).expect("url"));
        (u == "http://b/1").then_some(PageMemo::Forget { fp })
    })
    .await;
    let want = [
        ("http://a/2", 1, None),
        ("http://b/1", 1, Some("http://b/2")),
    ];
    assert_eq!(
        seen,
        want.map(|(u, d, l)| (u.to_string(), d, l.map(str::to_string)))
    );
    f.commit(acks, b"second").await.expect("commit");
    drop(f);
    // A recrawl of that: a/1 alone was kept through both runs.
    let (f, _) = open(dir.path(), unlimited());
    let (f, _) = f.recrawl().expect("recrawl");
    let (seen, _) = lease_all(&f, |_| None).await;
    let link = Some("http://a/2 http://b/1".to_string());
    assert_eq!(seen, [("http://a/1".to_string(), 0, link)]);
}
