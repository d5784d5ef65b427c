//! Sitemaps (`sitemap::SitemapReader`): no panic on any body; every entry
//! is trimmed and non-empty, and where it resolves against the sitemap's URL
//! the result reads back as the same URL; a gzip-compressed copy of the
//! body gives the same entries.
#![no_main]

use std::io::Write as _;
use std::sync::LazyLock;

use collector::extract::sitemap::{Entry, SitemapReader};
use libfuzzer_sys::fuzz_target;
use url::Url;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
});

/// The entries read until the end or the first error, and whether one came.
async fn entries(body: Vec<u8>) -> (Vec<Entry>, bool) {
    let mut reader = match SitemapReader::open(std::io::Cursor::new(body)).await {
        Ok(reader) => reader,
        Err(_) => return (Vec::new(), true),
    };
    let mut found = Vec::new();
    loop {
        match reader.next().await {
            Ok(Some(entry)) => found.push(entry),
            Ok(None) => return (found, false),
            Err(_) => return (found, true),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let sitemap = Url::parse("http://example.com/sitemap.xml").expect("valid URL");
    let (plain, _) = RUNTIME.block_on(entries(data.to_vec()));
    for entry in &plain {
        let (Entry::Page(loc) | Entry::Sitemap(loc)) = entry;
        assert!(!loc.is_empty(), "empty entry");
        assert_eq!(loc.trim(), loc, "untrimmed entry");
        if let Ok(url) = sitemap.join(loc) {
            let reread = Url::parse(url.as_str()).expect("a resolved entry reads back");
            assert_eq!(reread, url);
        }
    }
    if !data.starts_with(&[0x1f, 0x8b]) {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(data).expect("writes to memory");
        let compressed = gz.finish().expect("writes to memory");
        let (unzipped, _) = RUNTIME.block_on(entries(compressed));
        assert_eq!(unzipped, plain, "gzip changed the entries");
    }
});
