//! WARC/1.1 records as bytes: header fields, the HTTP request and
//! response blocks, and SHA-1 digests in base32. Pure functions; the sink
//! in `mod.rs` compresses and writes them.

use reqwest::Version;
use reqwest::header::HeaderMap;
use sha1::{Digest as _, Sha1};

use crate::exchange::Exchange;

/// `sha1:` and the base32 SHA-1 of `bytes`, the digest form WARC tools use.
pub fn sha1_digest(bytes: &[u8]) -> String {
    let hash = Sha1::digest(bytes);
    format!("sha1:{}", data_encoding::BASE32.encode(&hash))
}

/// A new `WARC-Record-ID`.
pub fn record_id() -> String {
    format!("<urn:uuid:{}>", uuid::Uuid::new_v4())
}

/// A whole record: `WARC/1.1`, the fields, `Content-Length`, a blank line,
/// the block and the two CRLFs that end a record.
pub fn record(fields: &[(&str, &str)], block: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512 + block.len());
    out.extend_from_slice(b"WARC/1.1\r\n");
    for (name, value) in fields {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", block.len()).as_bytes());
    out.extend_from_slice(block);
    out.extend_from_slice(b"\r\n\r\n");
    out
}

/// The `warcinfo` block: `application/warc-fields` about the writer.
pub fn warcinfo_block() -> Vec<u8> {
    format!(
        "software: collector/{}\r\nformat: WARC File Format 1.1\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

pub fn http_version(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    }
}

fn push_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// The version the request went out with: the client sends HTTP/1.1 on
/// an HTTP/1 connection whatever version the server answers with.
pub fn request_version(response: Version) -> &'static str {
    match response {
        Version::HTTP_2 | Version::HTTP_3 => http_version(response),
        _ => "HTTP/1.1",
    }
}

/// The request as sent: request line (origin form), headers, blank line.
/// A GET has no body. A secret (a sensitive header: credentials from a
/// URL's userinfo, an API token) is archived as `***`: an archive is an
/// output, and secrets are never written.
pub fn request_block(ex: &Exchange) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    let mut target = ex.url.path().to_string();
    if let Some(q) = ex.url.query() {
        target.push('?');
        target.push_str(q);
    }
    out.extend_from_slice(format!("GET {target} {}\r\n", request_version(ex.version)).as_bytes());
    for (name, value) in &ex.request_headers {
        let value: &[u8] = if value.is_sensitive() {
            b"***"
        } else {
            value.as_bytes()
        };
        push_header(&mut out, name.as_str().as_bytes(), value);
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Headers that describe the bytes on the wire, not the decoded body we
/// store: kept under `X-Archive-Orig-` names so that readers do not try to
/// decode the body again.
const WIRE_HEADERS: [(&str, &str); 2] = [
    ("content-encoding", "X-Archive-Orig-Content-Encoding"),
    ("transfer-encoding", "X-Archive-Orig-Transfer-Encoding"),
];

/// The response with its body as stored: status line, the headers (see
/// `WIRE_HEADERS`; `Content-Length` states the stored body's length, the
/// original kept as `X-Archive-Orig-Content-Length` when it differed),
/// blank line, body. Returns the block and where the body starts.
pub fn response_block(ex: &Exchange) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(1024 + ex.body.len());
    let reason = reqwest::StatusCode::from_u16(ex.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    out.extend_from_slice(
        format!("{} {} {reason}\r\n", http_version(ex.version), ex.status).as_bytes(),
    );
    let body_len = ex.body.len().to_string();
    push_response_headers(&mut out, &ex.response_headers, &body_len);
    push_header(&mut out, b"Content-Length", body_len.as_bytes());
    out.extend_from_slice(b"\r\n");
    let body_at = out.len();
    out.extend_from_slice(&ex.body);
    (out, body_at)
}

fn push_response_headers(out: &mut Vec<u8>, headers: &HeaderMap, body_len: &str) {
    for (name, value) in headers {
        let name = name.as_str();
        if let Some((_, renamed)) = WIRE_HEADERS.iter().find(|(n, _)| *n == name) {
            push_header(out, renamed.as_bytes(), value.as_bytes());
        } else if name == "content-length" {
            if value.as_bytes() != body_len.as_bytes() {
                push_header(out, b"X-Archive-Orig-Content-Length", value.as_bytes());
            }
        } else {
            push_header(out, name.as_bytes(), value.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use reqwest::header::HeaderValue;

    fn exchange(headers: &[(&'static str, &'static str)], body: &'static str) -> Exchange {
        let mut response_headers = HeaderMap::new();
        for (k, v) in headers {
            response_headers.append(*k, HeaderValue::from_static(v));
        }
        let mut request_headers = HeaderMap::new();
        request_headers.insert("accept", HeaderValue::from_static("*/*"));
        request_headers.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
        Exchange {
            url: url::Url::parse("http://127.0.0.1:8080/a/b?c=d").expect("url"),
            date: "2026-11-23T08:00:00.000Z".into(),
            remote_addr: None,
            request_headers,
            version: Version::HTTP_11,
            status: 200,
            response_headers,
            body: Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn digests_are_sha1_in_base32() {
        assert_eq!(sha1_digest(b""), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
        assert_eq!(sha1_digest(b"abc"), "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
    }

    #[test]
    fn record_ids_are_unique_urns() {
        let (a, b) = (record_id(), record_id());
        assert!(a.starts_with("<urn:uuid:") && a.ends_with('>'), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn a_record_is_header_block_and_two_crlfs() {
        let r = record(&[("WARC-Type", "resource")], b"xy");
        assert_eq!(
            r,
            b"WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: 2\r\n\r\nxy\r\n\r\n"
        );
    }

    #[test]
    fn the_request_block_has_origin_form_and_sent_headers() {
        let block = request_block(&exchange(&[], ""));
        assert_eq!(
            block,
            b"GET /a/b?c=d HTTP/1.1\r\naccept: */*\r\nhost: 127.0.0.1:8080\r\n\r\n"
        );
    }

    #[test]
    fn an_http_1_0_answer_still_had_an_http_1_1_request() {
        let mut ex = exchange(&[], "");
        ex.version = Version::HTTP_10;
        assert!(request_block(&ex).starts_with(b"GET /a/b?c=d HTTP/1.1\r\n"));
        let (block, _) = response_block(&ex);
        assert!(block.starts_with(b"HTTP/1.0 200 OK\r\n"));
    }

    #[test]
    fn wire_headers_are_renamed_and_the_length_is_the_stored_body_s() {
        let ex = exchange(
            &[
                ("content-type", "text/html"),
                ("content-encoding", "gzip"),
                ("transfer-encoding", "chunked"),
                ("content-length", "999"),
                ("set-cookie", "a=1"),
                ("set-cookie", "b=2"),
            ],
            "hello",
        );
        let (block, body_at) = response_block(&ex);
        let text = String::from_utf8(block).expect("utf-8");
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n\
             X-Archive-Orig-Content-Encoding: gzip\r\n\
             X-Archive-Orig-Transfer-Encoding: chunked\r\n\
             X-Archive-Orig-Content-Length: 999\r\n\
             set-cookie: a=1\r\nset-cookie: b=2\r\n\
             Content-Length: 5\r\n\r\nhello"
        );
        assert_eq!(&text[body_at..], "hello");
        let (block, _) = response_block(&exchange(&[("content-length", "5")], "hello"));
        assert_eq!(block, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    }
}
