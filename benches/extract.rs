//! Times link extraction over a directory of HTML pages (`harness = false`):
//! pages, µs per page, MB/s and links per page, best of several passes.
//!
//! ```sh
//! python3 ../shared/bench/gen_site.py --pages 500 --out /tmp/xsite
//! cargo bench --bench extract -- /tmp/xsite
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use collector::extract::{ExtractOptions, Page, extract};
use url::Url;

/// Passes over all pages; the fastest is reported, since on a shared
/// machine the slower ones measure the neighbours.
const PASSES: usize = 7;

/// Pages are given URLs under this root, as `gen_site.py` serves them.
const ROOT: &str = "http://127.0.0.1:8081/";

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

/// Every `.html` file under `dir` with the URL it would be served at.
fn load(dir: &Path) -> std::io::Result<Vec<(Vec<u8>, Url)>> {
    let mut paths = Vec::new();
    html_files(dir, &mut paths)?;
    paths.sort();
    let root = Url::parse(ROOT).map_err(std::io::Error::other)?;
    let mut pages = Vec::with_capacity(paths.len());
    for path in paths {
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        let url = root
            .join(&relative.to_string_lossy())
            .map_err(std::io::Error::other)?;
        pages.push((std::fs::read(&path)?, url));
    }
    Ok(pages)
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; the directory is the other argument.
    let Some(dir) = std::env::args().skip(1).find(|arg| !arg.starts_with("--")) else {
        eprintln!("usage: cargo bench --bench extract -- DIR   (a directory of .html files)");
        eprintln!("  make one: python3 ../shared/bench/gen_site.py --pages 500 --out /tmp/xsite");
        // A plain `cargo bench` runs every bench: nothing to measure is no failure.
        return ExitCode::SUCCESS;
    };
    let dir = PathBuf::from(dir);
    let pages = match load(&dir) {
        Ok(pages) if !pages.is_empty() => pages,
        Ok(_) => {
            eprintln!("no .html files under {}", dir.display());
            return ExitCode::from(2);
        }
        Err(err) => {
            eprintln!("cannot read {}: {err}", dir.display());
            return ExitCode::from(2);
        }
    };
    let bytes: usize = pages.iter().map(|(body, _)| body.len()).sum();
    let opts = ExtractOptions::default();
    let mut best_s = f64::INFINITY;
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
            links += std::hint::black_box(extract(&page, &opts)).links.len();
        }
        best_s = best_s.min(start.elapsed().as_secs_f64());
    }
    let count = pages.len() as f64;
    println!(
        "{} pages, {:.1} µs/page, {:.0} MB/s, {:.1} links/page",
        pages.len(),
        best_s / count * 1e6,
        bytes as f64 / best_s / 1e6,
        links as f64 / count,
    );
    ExitCode::SUCCESS
}
