//! How requests are made, for every command that makes them (crawl,
//! `collector fetch`, `collector api`): the flags, the file keys, and their
//! validation into the fetcher's configuration.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use reqwest::header::HeaderValue;
use serde::Deserialize;
use url::Url;

use super::check;
use super::origin::{Origin, Origins};
use crate::fetch::retry::Backoff;
use crate::fetch::{FetchConfig, TlsConfig};

pub const DEFAULT_USER_AGENT: &str = concat!(
    "collector/",
    env!("CARGO_PKG_VERSION"),
    " (+https://crates.io/crates/collector)"
);

/// The request keys of a config file, and the merged layer.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestOptions {
    pub user_agent: Option<String>,
    pub header: Option<Vec<String>>,
    pub proxy: Option<String>,
    pub cookies: Option<bool>,
    pub timeout: Option<f64>,
    pub connect_timeout: Option<f64>,
    pub retries: Option<i64>,
    pub max_body: Option<i64>,
    pub max_wait: Option<f64>,
    pub rate: Option<f64>,
    pub ca_cert: Option<Vec<PathBuf>>,
    pub system_roots: Option<bool>,
    pub insecure: Option<bool>,
}

/// The request flags, shared by `crawl`, `fetch` and `api`.
#[derive(Clone, Debug, Default, Args)]
pub struct RequestFlags {
    /// User-Agent header [default: collector/VERSION]
    #[arg(long, value_name = "S")]
    pub user_agent: Option<String>,
    /// Extra request header 'Name: value' (repeatable)
    #[arg(long = "header", value_name = "'K: V'")]
    pub header: Vec<String>,
    /// Send every request through this proxy (http://, https:// or socks5://)
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Keep cookies the servers set, for the whole run [--no-cookies: off]
    #[arg(long, overrides_with = "no_cookies")]
    pub cookies: bool,
    #[arg(long, overrides_with = "cookies", hide = true)]
    pub no_cookies: bool,
    /// Seconds one request may take, body included [default: 30]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub timeout: Option<f64>,
    /// Seconds to wait for a connection [default: 10]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub connect_timeout: Option<f64>,
    /// Retries after a connect error, timeout, 408, 429 or 5xx, at most 100 [default: 3]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub retries: Option<i64>,
    /// Largest body read, after decompression [default: 10485760; api: 67108864]
    #[arg(long, value_name = "BYTES", allow_negative_numbers = true)]
    pub max_body: Option<i64>,
    /// Longest wait a server can impose with Retry-After or Crawl-delay [default: 60]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub max_wait: Option<f64>,
    /// Requests per second per host [default: unlimited]; robots.txt Crawl-delay can lower it
    #[arg(long, value_name = "R", allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// Trust the CA certificates in this PEM file too (repeatable; SSL_CERT_FILE is read as well)
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub ca_cert: Vec<PathBuf>,
    /// Trust the operating system's certificate store as well as the bundled roots
    /// [--no-system-roots: bundled roots only]
    #[arg(long, overrides_with = "no_system_roots")]
    pub system_roots: bool,
    #[arg(long, overrides_with = "system_roots", hide = true)]
    pub no_system_roots: bool,
    /// Do not verify TLS certificates (a warning is printed; the summary says tls_verified: false)
    /// [--no-insecure: verify]
    #[arg(long, overrides_with = "no_insecure")]
    pub insecure: bool,
    #[arg(long, overrides_with = "insecure", hide = true)]
    pub no_insecure: bool,
}

/// `--x` / `--no-x` as a layer value: `None` when neither was given.
pub fn switch(on: bool, off: bool) -> Option<bool> {
    match (on, off) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

/// A repeatable flag as a layer value: `None` when never given.
pub fn list(values: &[String]) -> Option<Vec<String>> {
    (!values.is_empty()).then(|| values.to_vec())
}

impl RequestFlags {
    pub fn options(&self) -> RequestOptions {
        RequestOptions {
            user_agent: self.user_agent.clone(),
            header: list(&self.header),
            proxy: self.proxy.clone(),
            cookies: switch(self.cookies, self.no_cookies),
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            retries: self.retries,
            max_body: self.max_body,
            max_wait: self.max_wait,
            rate: self.rate,
            ca_cert: (!self.ca_cert.is_empty()).then(|| self.ca_cert.clone()),
            system_roots: switch(self.system_roots, self.no_system_roots),
            insecure: switch(self.insecure, self.no_insecure),
        }
    }
}

/// Reads a PEM file of CA certificates; `name` says where it was named.
fn read_pem(name: &str, path: &Path) -> anyhow::Result<Vec<u8>> {
    let pem = std::fs::read(path)
        .with_context(|| format!("{name} {}: could not read the file", path.display()))?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(pem),
        _ => bail!(
            "{name} {}: no PEM certificate in the file (expected -----BEGIN CERTIFICATE-----)",
            path.display()
        ),
    }
}

/// Validated request settings.
#[derive(Clone, Debug)]
pub struct Request {
    pub fetch: FetchConfig,
    /// Requests per second per origin; `None` is unlimited.
    pub rate: Option<f64>,
    pub max_wait: Duration,
}

impl RequestOptions {
    /// Fills the keys this layer lacks from `lower`.
    pub fn fill(&mut self, lower: Self, origin: &Origin, o: &mut Origins) {
        o.fill("user_agent", &mut self.user_agent, lower.user_agent, origin);
        o.fill("header", &mut self.header, lower.header, origin);
        o.fill("proxy", &mut self.proxy, lower.proxy, origin);
        o.fill("cookies", &mut self.cookies, lower.cookies, origin);
        o.fill("timeout", &mut self.timeout, lower.timeout, origin);
        o.fill(
            "connect_timeout",
            &mut self.connect_timeout,
            lower.connect_timeout,
            origin,
        );
        o.fill("retries", &mut self.retries, lower.retries, origin);
        o.fill("max_body", &mut self.max_body, lower.max_body, origin);
        o.fill("max_wait", &mut self.max_wait, lower.max_wait, origin);
        o.fill("rate", &mut self.rate, lower.rate, origin);
        o.fill("ca_cert", &mut self.ca_cert, lower.ca_cert, origin);
        o.fill(
            "system_roots",
            &mut self.system_roots,
            lower.system_roots,
            origin,
        );
        o.fill("insecure", &mut self.insecure, lower.insecure, origin);
    }

    /// Validates the merged keys; `default_max_body` differs by command.
    /// `SSL_CERT_FILE`, when set, adds its certificates to `ca_cert`'s.
    pub fn build(&self, o: &Origins, default_max_body: u64) -> anyhow::Result<Request> {
        let mut tls = TlsConfig {
            extra_roots: Vec::new(),
            system_roots: self.system_roots.unwrap_or(false),
            verify: !self.insecure.unwrap_or(false),
        };
        for path in self.ca_cert.iter().flatten() {
            tls.extra_roots
                .push(read_pem(&o.name("ca_cert").to_string(), path)?);
        }
        if let Some(path) = std::env::var_os("SSL_CERT_FILE").filter(|p| !p.is_empty()) {
            tls.extra_roots
                .push(read_pem("SSL_CERT_FILE", Path::new(&path))?);
        }
        let user_agent = self
            .user_agent
            .clone()
            .unwrap_or_else(|| DEFAULT_USER_AGENT.to_string());
        if HeaderValue::from_str(&user_agent).is_err() || user_agent.trim().is_empty() {
            bail!(
                "{} {user_agent:?} cannot be sent as a header",
                o.name("user_agent")
            );
        }
        let headers = self
            .header
            .iter()
            .flatten()
            .map(|h| check::header(&o.name("header"), h))
            .collect::<anyhow::Result<_>>()?;
        let proxy = self
            .proxy
            .as_ref()
            .map(|p| {
                Url::parse(p).with_context(|| format!("{} {p:?} is not a URL", o.name("proxy")))
            })
            .transpose()?;
        let max_body = match self.max_body {
            Some(v) => check::at_least_one(&o.name("max_body"), v)?,
            None => default_max_body,
        };
        let seconds = |key, v: Option<f64>, default| match v {
            Some(v) => check::seconds(&o.name(key), v),
            None => Ok(Duration::from_secs_f64(default)),
        };
        Ok(Request {
            fetch: FetchConfig {
                user_agent,
                headers,
                proxy,
                cookies: self.cookies.unwrap_or(false),
                timeout: seconds("timeout", self.timeout, 30.0)?,
                connect_timeout: seconds("connect_timeout", self.connect_timeout, 10.0)?,
                max_body,
                retries: match self.retries {
                    Some(v) => check::retries(&o.name("retries"), v)?,
                    None => 3,
                },
                backoff: Backoff::default(),
                tls,
            },
            rate: self
                .rate
                .map(|r| check::rate(&o.name("rate"), r))
                .transpose()?,
            max_wait: seconds("max_wait", self.max_wait, 60.0)?,
        })
    }
}
