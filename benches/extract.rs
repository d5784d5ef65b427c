//! Times link extraction over a directory of HTML pages (`harness = false`).
//!
//! ```sh
//! python3 /work/shared/bench/gen_site.py --pages 500 --out /tmp/xsite
//! cargo bench --bench extract -- /tmp/xsite
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use collector::extract::candidates::{Backend, extract_with};
use collector::extract::{ExtractOptions, Page};
use url::Url;

/// Full passes over all pages; the best one is reported, since the machine
/// is shared and slower passes measure the neighbours.
const PASSES: usize = 7;

fn html_files(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            html_files(&path, found)?;
        } else if path.extension().is_some_and(|ext| ext == "html") {
            found.push(path);
        }
    }
    Ok(())
}

fn url_bench() {
    let base =
        Url::parse("http://127.0.0.1:8081/d0/page124.html").unwrap_or_else(|_| unreachable!());
    let domain =
        Url::parse("https://www.example.com/d0/page124.html").unwrap_or_else(|_| unreachable!());
    let n = 200_000;
    for (label, base, input) in [
        ("abs ip", &base, "http://127.0.0.1:8083/d0/page110.html"),
        (
            "abs domain",
            &domain,
            "https://www.example.com/d0/page110.html",
        ),
        (
            "abs domain mixed",
            &domain,
            "https://WWW.Example.com/d0/page110.html",
        ),
        ("path-abs", &base, "/d1/page384.html"),
        ("path-rel", &base, "../d1/page396.html"),
        ("frag", &base, "#sec4"),
    ] {
        let start = Instant::now();
        for _ in 0..n {
            std::hint::black_box(
                Url::options()
                    .base_url(Some(base))
                    .parse(std::hint::black_box(input))
                    .is_ok(),
            );
        }
        println!(
            "{label}: {:.0} ns",
            start.elapsed().as_secs_f64() / n as f64 * 1e9
        );
    }
}

fn main() -> ExitCode {
    if std::env::var("URLBENCH").is_ok() {
        url_bench();
        return ExitCode::SUCCESS;
    }
    // `cargo bench` passes `--bench`; the directory is the other argument.
    let Some(dir) = std::env::args().skip(1).find(|arg| !arg.starts_with("--")) else {
        eprintln!("usage: cargo bench --bench extract -- DIR   (a directory of .html files)");
        eprintln!("  e.g. python3 /work/shared/bench/gen_site.py --pages 500 --out /tmp/xsite");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
    let mut paths = Vec::new();
    if let Err(err) = html_files(&dir, &mut paths) {
        eprintln!("cannot read {}: {err}", dir.display());
        return ExitCode::from(2);
    }
    paths.sort();
    let mut pages = Vec::new();
    for path in &paths {
        let relative = path.strip_prefix(&dir).unwrap_or(path);
        let url = Url::parse("http://127.0.0.1:8081/")
            .and_then(|root| root.join(&relative.to_string_lossy()));
        match (std::fs::read(path), url) {
            (Ok(body), Ok(url)) => pages.push((body, url)),
            (Err(err), _) => eprintln!("skipping {}: {err}", path.display()),
            (_, Err(err)) => eprintln!("skipping {}: {err}", path.display()),
        }
    }
    if pages.is_empty() {
        eprintln!("no .html files under {}", dir.display());
        return ExitCode::from(2);
    }
    let bytes: usize = pages.iter().map(|(body, _)| body.len()).sum();
    let opts = ExtractOptions::default();
    let only = std::env::var("ONLY").unwrap_or_default();
    for backend in [
        Backend::ScanOnly,
        Backend::Scanner,
        Backend::Html5gum,
        Backend::LolHtml,
        Backend::Scraper,
    ] {
        if !only.is_empty() && !format!("{backend:?}").eq_ignore_ascii_case(&only) {
            continue;
        }
        let mut best = f64::INFINITY;
        let mut links = 0;
        for _ in 0..PASSES {
            links = 0;
            let start = Instant::now();
            for (body, url) in &pages {
                let page = Page {
                    body,
                    content_type: Some("text/html"),
                    url,
                };
                links += std::hint::black_box(extract_with(&page, &opts, backend))
                    .links
                    .len();
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        let n = pages.len() as f64;
        println!(
            "{backend:?}: {} pages, {:.1} µs/page, {:.0} MB/s, {:.1} links/page",
            pages.len(),
            best / n * 1e6,
            bytes as f64 / best / 1e6,
            links as f64 / n,
        );
    }
    ExitCode::SUCCESS
}
