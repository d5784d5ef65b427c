//! The one pooled HTTP client of a run: rustls, HTTP/1.1 and HTTP/2 by
//! ALPN, gzip/brotli/deflate/zstd, our User-Agent and headers, no automatic
//! redirects.

use std::time::Duration;

use anyhow::Context as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::retry::Backoff;

#[derive(Clone, Debug)]
pub struct FetchConfig {
    pub user_agent: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub proxy: Option<Url>,
    pub cookies: bool,
    /// Whole request, body included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body: u64,
    pub retries: u32,
    pub backoff: Backoff,
}

pub fn build(config: &FetchConfig) -> anyhow::Result<reqwest::Client> {
    let mut headers = HeaderMap::new();
    for (k, v) in &config.headers {
        headers.append(k.clone(), v.clone());
    }
    let mut builder = reqwest::Client::builder()
        .user_agent(&config.user_agent)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.timeout)
        .connect_timeout(config.connect_timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .cookie_store(config.cookies);
    // Only an explicit --proxy is used: proxy variables in the environment
    // would silently change where a crawl's traffic goes.
    if let Some(proxy) = &config.proxy {
        builder = builder.proxy(
            reqwest::Proxy::all(proxy.as_str())
                .with_context(|| format!("--proxy {proxy}: not a usable proxy URL"))?,
        );
    } else {
        builder = builder.no_proxy();
    }
    builder.build().context("could not set up the HTTP client")
}
