//! Discovery through sitemaps: robots.txt `Sitemap:` lines and `--sitemap`,
//! sitemap indexes, gzip-compressed and text sitemaps, malformed ones.

mod support;

use std::io::Write as _;
use std::sync::{Arc, OnceLock};

use support::{Reply, Server};

fn urlset(urls: &[String]) -> String {
    let entries: String = urls
        .iter()
        .map(|u| format!("<url><loc>{u}</loc></url>\n"))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n{entries}</urlset>\n"
    )
}

fn gzip(text: &str) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).expect("compress");
    gz.finish().expect("compress")
}

#[tokio::test]
async fn sitemaps_from_robots_txt_lead_to_pages_no_link_reaches() {
    let base: Arc<OnceLock<String>> = Arc::default();
    let b = base.clone();
    let server = Server::start(
        "127.0.0.1",
        Arc::new(move |path, _| {
            let base = b.get().map_or("", String::as_str);
            match path {
                "/robots.txt" => Reply::Text(
                    "text/plain",
                    format!(
                        "User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap_index.xml\n"
                    ),
                ),
                "/" => Reply::Html("<title>home, no links</title>".into()),
                "/sitemap_index.xml" => Reply::Text(
                    "application/xml",
                    format!(
                        "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
                         <sitemap><loc>{base}/maps/hidden.xml.gz</loc></sitemap>\
                         <sitemap><loc>{base}/maps/list.txt</loc></sitemap>\
                         <sitemap><loc>{base}/maps/broken.xml</loc></sitemap>\
                         </sitemapindex>"
                    ),
                ),
                "/maps/hidden.xml.gz" => {
                    let mut urls: Vec<String> =
                        (0..20).map(|i| format!("{base}/hidden/{i}")).collect();
                    urls.push(format!("{base}/private/secret"));
                    urls.push("http://elsewhere.invalid/page".to_string());
                    Reply::Full(
                        200,
                        vec![("content-type", "application/gzip".into())],
                        gzip(&urlset(&urls)),
                    )
                }
                "/maps/list.txt" => Reply::Text(
                    "text/plain",
                    (0..5).map(|i| format!("{base}/text/{i}\n")).collect(),
                ),
                "/maps/broken.xml" => Reply::Text(
                    "application/xml",
                    format!(
                        "<urlset><url><loc>{base}/broken/0</loc></url><url><loc>{base}/broken/1</lo"
                    ),
                ),
                _ => Reply::Html("<title>page</title>".into()),
            }
        }),
    )
    .await;
    base.set(format!("http://{}", server.addr))
        .expect("set once");

    let out = tempfile::tempdir().expect("tempdir");
    let summary = support::crawl(&[server.url("/")], support::options(out.path())).await;
    let records = support::records(out.path());
    support::assert_schema_valid(&records);

    for i in 0..20 {
        assert_eq!(server.count(&format!("/hidden/{i}")), 1, "/hidden/{i}");
    }
    for i in 0..5 {
        assert_eq!(server.count(&format!("/text/{i}")), 1, "/text/{i}");
    }
    assert_eq!(
        server.count("/broken/0"),
        1,
        "entries before the error are kept"
    );
    assert_eq!(server.count("/broken/1"), 0);
    assert_eq!(
        server.count("/private/secret"),
        0,
        "robots.txt still applies"
    );
    assert_eq!(server.count("/sitemap_index.xml"), 1);

    let index = support::record_for(&records, &server.url("/sitemap_index.xml"));
    assert_eq!(index["links"], 3);
    let hidden = support::record_for(&records, &server.url("/maps/hidden.xml.gz"));
    assert_eq!(
        hidden["links"], 21,
        "20 pages and the private one; the off-site one is out of scope"
    );
    let broken = support::record_for(&records, &server.url("/maps/broken.xml"));
    assert_eq!(broken["error"]["kind"], "decode");
    assert!(
        broken["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("malformed"))
    );
    let page = support::record_for(&records, &server.url("/hidden/3"));
    assert_eq!(page["depth"], 0);
    assert_eq!(page["referrer"], server.url("/maps/hidden.xml.gz"));
    assert!(summary.skipped["out_of_scope"] >= 1);
    assert!(summary.skipped["robots_denied"] >= 1);
}

#[tokio::test]
async fn a_sitemap_given_on_the_command_line_is_read() {
    let base: Arc<OnceLock<String>> = Arc::default();
    let b = base.clone();
    let server = Server::start(
        "127.0.0.1",
        Arc::new(move |path, _| {
            let base = b.get().map_or("", String::as_str);
            match path {
                "/robots.txt" => Reply::Status(404),
                "/custom-map.xml" => Reply::Text(
                    "application/xml",
                    urlset(&[format!("{base}/a"), format!("{base}/b?x=1&amp;y=2")]),
                ),
                _ => Reply::Html("<title>page</title>".into()),
            }
        }),
    )
    .await;
    base.set(format!("http://{}", server.addr))
        .expect("set once");
    let out = tempfile::tempdir().expect("tempdir");
    let mut opts = support::options(out.path());
    opts.run.sitemap = Some(vec![server.url("/custom-map.xml")]);
    opts.run.max_pages = Some(3);
    let summary = support::crawl(&[server.url("/")], opts).await;
    assert_eq!(server.count("/a"), 1);
    assert_eq!(
        server.count("/b?x=1&y=2"),
        1,
        "XML entities in <loc> are decoded"
    );
    assert_eq!(summary.failed, 0);
    let records = support::records(out.path());
    assert_eq!(
        records.len(),
        4,
        "three pages and the sitemap, which does not use up --max-pages"
    );
}

#[tokio::test]
async fn a_sitemap_sent_with_a_content_encoding_is_decoded() {
    use tokio::io::AsyncReadExt as _;
    let base: Arc<OnceLock<String>> = Arc::default();
    let b = base.clone();
    let server = Server::start(
        "127.0.0.1",
        Arc::new(move |path, _| {
            let base = b.get().map_or("", String::as_str);
            match path {
                "/robots.txt" => Reply::Status(404),
                "/sitemap.xml" => {
                    let urls: Vec<String> = (0..3).map(|i| format!("{base}/p/{i}")).collect();
                    let xml = urlset(&urls);
                    let mut br = Vec::new();
                    let mut encoder =
                        async_compression::tokio::bufread::BrotliEncoder::new(xml.as_bytes());
                    futures::executor::block_on(encoder.read_to_end(&mut br)).expect("compress");
                    Reply::Full(
                        200,
                        vec![
                            ("content-type", "application/xml".into()),
                            ("content-encoding", "br".into()),
                        ],
                        br,
                    )
                }
                _ => Reply::Html("<title>page</title>".into()),
            }
        }),
    )
    .await;
    base.set(format!("http://{}", server.addr))
        .expect("set once");
    let out = tempfile::tempdir().expect("tempdir");
    let mut options = support::options(out.path());
    options.run.sitemap = Some(vec![server.url("/sitemap.xml")]);
    support::crawl(&[server.url("/")], options).await;
    for i in 0..3 {
        assert_eq!(server.count(&format!("/p/{i}")), 1, "/p/{i}");
    }
    let records = support::records(out.path());
    let sitemap = support::record_for(&records, &server.url("/sitemap.xml"));
    assert_eq!(sitemap["links"], 3);
    assert!(sitemap["error"].is_null(), "{sitemap}");
}
