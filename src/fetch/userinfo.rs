//! Credentials written in a URL (`https://alice:S3cret@host/`): taken out
//! of the URL before it goes anywhere (frontier, records, logs), and sent
//! as HTTP Basic auth (RFC 7617) to that URL's origin alone, so that a
//! redirect to another host never carries them. Messages that must quote
//! such a URL show it as `alice:***@` ([`redacted`]).

use std::collections::HashMap;

use base64::Engine as _;
use reqwest::header::HeaderValue;
use url::Url;

use crate::politeness::origin_key;

/// `Authorization` values by origin (scheme, host, port).
#[derive(Clone, Debug, Default)]
pub struct Credentials(HashMap<String, HeaderValue>);

impl Credentials {
    /// Takes the userinfo out of `url` and keeps it for `url`'s origin
    /// (the first one given for an origin wins).
    pub fn take(&mut self, url: &mut Url) {
        if url.username().is_empty() && url.password().is_none() {
            return;
        }
        let decode = |s| percent_encoding::percent_decode_str(s).decode_utf8_lossy();
        let pair = format!(
            "{}:{}",
            decode(url.username()),
            decode(url.password().unwrap_or(""))
        );
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair.as_bytes());
        if let Ok(mut value) = HeaderValue::from_str(&format!("Basic {encoded}")) {
            value.set_sensitive(true);
            self.0.entry(origin_key(url)).or_insert(value);
        }
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }

    /// The `Authorization` value for a request to `url`, if its origin has
    /// credentials.
    pub fn for_url(&self, url: &Url) -> Option<&HeaderValue> {
        if self.0.is_empty() {
            return None;
        }
        self.0.get(&origin_key(url))
    }
}

/// `text` with the password of every `scheme://user:password@` in it
/// replaced by `***`, for messages that quote what a user wrote.
pub fn redacted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail
            .find(['/', '?', '#', ' ', '\t', '"'])
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&authority[..colon]);
                out.push_str(":***");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_leaves_the_url_and_is_kept_for_its_origin_alone() {
        let mut creds = Credentials::default();
        let mut url = Url::parse("http://alice:S3%3Acret@127.0.0.1:8080/a?q").expect("url");
        creds.take(&mut url);
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/a?q");
        let same = Url::parse("http://127.0.0.1:8080/other").expect("url");
        let value = creds.for_url(&same).expect("same origin");
        // base64("alice:S3:cret")
        assert_eq!(value.to_str().expect("ascii"), "Basic YWxpY2U6UzM6Y3JldA==");
        assert!(value.is_sensitive());
        for other in [
            "http://127.0.0.1:8081/a",
            "https://127.0.0.1:8080/a",
            "http://localhost:8080/",
        ] {
            let other = Url::parse(other).expect("url");
            assert!(creds.for_url(&other).is_none(), "{other}");
        }
        let mut plain = Url::parse("http://127.0.0.2/").expect("url");
        creds.take(&mut plain);
        assert!(creds.for_url(&plain).is_none());
    }

    #[test]
    fn passwords_in_text_are_starred() {
        assert_eq!(
            redacted("seeds.txt:3: http://alice:S3cret@host:1/x y https://b:c@d/ e"),
            "seeds.txt:3: http://alice:***@host:1/x y https://b:***@d/ e"
        );
        assert_eq!(
            redacted("http://alice@host/ a:b@c"),
            "http://alice@host/ a:b@c"
        );
        assert_eq!(redacted("no url"), "no url");
    }
}
