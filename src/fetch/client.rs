//! The one pooled HTTP client of a run: rustls, HTTP/1.1 and HTTP/2 by
//! ALPN, our User-Agent and headers, no automatic redirects. It announces
//! gzip/brotli/deflate/zstd and leaves decoding to `body`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::header::{ACCEPT, ACCEPT_ENCODING, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use url::Url;

use super::cookies::Jar;
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
    pub tls: TlsConfig,
}

/// Whom TLS trusts: the bundled web roots always, the operating system's
/// store with `system_roots`, and the PEM certificates given.
#[derive(Clone, Debug)]
pub struct TlsConfig {
    /// PEM files' contents, each holding one or more CA certificates.
    pub extra_roots: Vec<Vec<u8>>,
    pub system_roots: bool,
    /// False with `--insecure`: no certificate is checked.
    pub verify: bool,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            extra_roots: Vec::new(),
            system_roots: false,
            verify: true,
        }
    }
}

/// The headers every request carries unless it sets its own: reqwest's
/// `accept: */*`, our user agent, the codings `body` decodes, then the
/// configured headers. reqwest
/// stores defaults by replacing, so of two `--header`s with one name the
/// later is sent; building the map the same way keeps it equal to the
/// client's, for [`super::sent`].
pub fn default_headers(config: &FetchConfig) -> anyhow::Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
    headers.insert(
        USER_AGENT,
        HeaderValue::from_str(&config.user_agent)
            .with_context(|| format!("--user-agent {:?} cannot be sent", config.user_agent))?,
    );
    headers.insert(
        ACCEPT_ENCODING,
        HeaderValue::from_static(super::body::ACCEPT_ENCODING),
    );
    for (k, v) in &config.headers {
        headers.insert(k.clone(), v.clone());
    }
    Ok(headers)
}

/// The client, with `jar` as its cookie store when cookies are kept.
pub fn build(config: &FetchConfig, jar: Option<Arc<Jar>>) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .default_headers(default_headers(config)?)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.timeout)
        .connect_timeout(config.connect_timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        // Bodies are decoded by `body`, which keeps the Content-Encoding
        // header the client would drop.
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .no_zstd();
    builder = builder
        .tls_built_in_webpki_certs(true)
        .tls_built_in_native_certs(config.tls.system_roots)
        .danger_accept_invalid_certs(!config.tls.verify);
    for pem in &config.tls.extra_roots {
        for cert in reqwest::Certificate::from_pem_bundle(pem)
            .context("could not read a CA certificate file")?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let Some(jar) = jar {
        builder = builder.cookie_provider(jar);
    }
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
