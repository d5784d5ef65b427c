//! Validating one value: each check takes the value's [`Name`] so that its
//! message says where the value came from. The crawl, `collector fetch`
//! and `collector api` share these, so a limit reads the same everywhere.

use std::time::Duration;

use anyhow::{Context as _, bail};
use regex::Regex;
use reqwest::header::{HeaderName, HeaderValue};

use super::origin::Name;

/// Most retries any request gets; more would hold a failing URL for hours.
pub const MAX_RETRIES: u32 = 100;

pub fn at_least_one(name: &Name, v: i64) -> anyhow::Result<u64> {
    if v < 1 {
        bail!("{name} must be at least 1, got {v}");
    }
    Ok(v.unsigned_abs())
}

pub fn non_negative(name: &Name, v: i64) -> anyhow::Result<u64> {
    if v < 0 {
        bail!("{name} must be 0 or more, got {v}");
    }
    Ok(v.unsigned_abs())
}

pub fn seconds(name: &Name, v: f64) -> anyhow::Result<Duration> {
    if !v.is_finite() || v <= 0.0 || v > 1e9 {
        bail!("{name} must be a positive number of seconds, got {v}");
    }
    Ok(Duration::from_secs_f64(v))
}

pub fn rate(name: &Name, v: f64) -> anyhow::Result<f64> {
    if !v.is_finite() || v <= 0.0 {
        bail!("{name} must be a positive number of requests per second, got {v}");
    }
    Ok(v)
}

pub fn retries(name: &Name, v: i64) -> anyhow::Result<u32> {
    let n = non_negative(name, v)?;
    match u32::try_from(n) {
        Ok(n) if n <= MAX_RETRIES => Ok(n),
        _ => bail!("{name} must be at most {MAX_RETRIES}, got {v}"),
    }
}

pub fn regexes(name: &Name, patterns: &[String]) -> anyhow::Result<Vec<Regex>> {
    patterns
        .iter()
        .map(|p| Regex::new(p).with_context(|| format!("{name} {p:?} is not a valid regex")))
        .collect()
}

/// A socket address to listen on: `127.0.0.1:9100`, `[::1]:9100`, `0.0.0.0:9100`.
pub fn listen_addr(name: &Name, v: &str) -> anyhow::Result<std::net::SocketAddr> {
    v.trim().parse().map_err(|_| {
        anyhow::anyhow!("{name} {v:?}: expected IP:PORT to listen on, e.g. 127.0.0.1:9100")
    })
}

pub fn header(name: &Name, line: &str) -> anyhow::Result<(HeaderName, HeaderValue)> {
    let Some((k, v)) = line.split_once(':') else {
        bail!("{name} {line:?}: expected 'Name: value'");
    };
    let header = HeaderName::from_bytes(k.trim().as_bytes())
        .with_context(|| format!("{name} {line:?}: {:?} is not a header name", k.trim()))?;
    let value = HeaderValue::from_str(v.trim()).with_context(|| {
        format!("{name} {line:?}: the value has characters a header cannot carry")
    })?;
    Ok((header, value))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Origin;

    #[test]
    fn messages_name_the_flag_or_the_file_key() {
        let file = Origin::file(Path::new("bad.toml"));
        let flag = Name {
            key: "per_host",
            origin: &Origin::Flag,
        };
        let key = Name {
            key: "per_host",
            origin: &file,
        };
        assert_eq!(
            at_least_one(&flag, 0).expect_err("0").to_string(),
            "--per-host must be at least 1, got 0"
        );
        assert_eq!(
            at_least_one(&key, 0).expect_err("0").to_string(),
            "bad.toml: per_host must be at least 1, got 0"
        );
        let r = Name {
            key: "retries",
            origin: &file,
        };
        assert_eq!(
            retries(&r, 500).expect_err("500").to_string(),
            "bad.toml: retries must be at most 100, got 500"
        );
        assert_eq!(retries(&r, 100).expect("100"), 100);
        assert!(seconds(&key, f64::NAN).is_err());
        assert!(rate(&key, 0.0).is_err());
        let h = Name {
            key: "header",
            origin: &Origin::Flag,
        };
        assert!(header(&h, "X-A: b").is_ok());
        assert!(
            header(&h, "no colon")
                .expect_err("bad")
                .to_string()
                .starts_with("--header")
        );
    }
}
