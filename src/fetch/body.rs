//! Reading a response body: decoding its `Content-Encoding` (gzip,
//! deflate, brotli, zstd) and capping its size after decoding, so that a
//! small compressed body that inflates to gigabytes (a gzip bomb) is cut as
//! soon as it passes the limit instead of filling memory.
//!
//! Decoding happens here rather than in the HTTP client because the client
//! drops the `Content-Encoding` header of what it decodes, and archival
//! output (WARC) records the headers as received.

use std::io;
use std::pin::Pin;

use async_compression::tokio::bufread::{BrotliDecoder, GzipDecoder, ZlibDecoder, ZstdDecoder};
use bytes::{Bytes, BytesMut};
use futures::TryStreamExt as _;
use reqwest::header::{CONTENT_ENCODING, HeaderMap};
use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _};
use tokio_util::io::StreamReader;

use super::{FetchError, classify};

/// The codings announced in `Accept-Encoding` and decoded here.
pub const ACCEPT_ENCODING: &str = "zstd,gzip,deflate,br";

/// A content coding this module decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    /// HTTP's "deflate" is zlib-wrapped (RFC 9110 section 8.4.1.2).
    Deflate,
    Brotli,
    Zstd,
}

impl Coding {
    /// The coding of a response; one we cannot decode (or a list of
    /// several) leaves the body as it came.
    pub fn of(headers: &HeaderMap) -> Self {
        let mut values = headers.get_all(CONTENT_ENCODING).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return Self::Identity;
        };
        let value = value.to_str().unwrap_or("").trim();
        match value.to_ascii_lowercase().as_str() {
            "gzip" | "x-gzip" => Self::Gzip,
            "deflate" => Self::Deflate,
            "br" => Self::Brotli,
            "zstd" => Self::Zstd,
            _ => Self::Identity,
        }
    }
}

type Reader = Pin<Box<dyn AsyncRead + Send>>;

/// The body as a decoded byte stream. An empty body stays empty whatever
/// its announced coding (servers send `Content-Encoding: gzip` on empty
/// answers).
pub async fn decoded(resp: reqwest::Response) -> io::Result<Reader> {
    let coding = Coding::of(resp.headers());
    let raw = StreamReader::new(resp.bytes_stream().map_err(io::Error::other));
    let mut raw: Pin<Box<dyn AsyncBufRead + Send>> = Box::pin(raw);
    if coding == Coding::Identity || raw.as_mut().fill_buf().await?.is_empty() {
        return Ok(Box::pin(raw));
    }
    Ok(match coding {
        Coding::Gzip => {
            let mut d = GzipDecoder::new(raw);
            d.multiple_members(true);
            Box::pin(d)
        }
        Coding::Deflate => Box::pin(ZlibDecoder::new(raw)),
        Coding::Brotli => Box::pin(BrotliDecoder::new(raw)),
        Coding::Zstd => Box::pin(ZstdDecoder::new(raw)),
        Coding::Identity => Box::pin(raw),
    })
}

/// What went wrong while reading: the client's own error (timeout, broken
/// connection) when it is one, else a body that would not decode.
fn read_error(e: io::Error) -> FetchError {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
    {
        Some(client) => classify(client),
        None => FetchError::Decode(e.to_string()),
    }
}

/// Reads the whole decoded body, or fails with `TooLarge` once more than
/// `limit` bytes have come out. Memory stays within `limit` plus one read.
pub async fn read_capped(mut resp: reqwest::Response, limit: u64) -> Result<Bytes, FetchError> {
    let hint = resp.content_length().unwrap_or(0).min(limit).min(1 << 20);
    let mut buf = BytesMut::with_capacity(usize::try_from(hint).unwrap_or(0));
    if Coding::of(resp.headers()) == Coding::Identity {
        // Most bodies: the client's chunks appended as they come, no decoder
        // and no intermediate reader.
        while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e))? {
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(FetchError::TooLarge { limit });
            }
            buf.extend_from_slice(&chunk);
        }
        return Ok(buf.freeze());
    }
    let mut body = decoded(resp).await.map_err(read_error)?;
    loop {
        if buf.capacity() - buf.len() < 8 * 1024 {
            buf.reserve(32 * 1024);
        }
        let n = body.read_buf(&mut buf).await.map_err(read_error)?;
        if n == 0 {
            return Ok(buf.freeze());
        }
        if buf.len() as u64 > limit {
            return Err(FetchError::TooLarge { limit });
        }
    }
}

/// Reads at most `limit` decoded bytes and leaves the rest unread: what
/// fits of a body too long to read whole (robots.txt).
pub async fn read_truncated(resp: reqwest::Response, limit: u64) -> Result<Bytes, FetchError> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut buf = BytesMut::with_capacity(limit.min(64 * 1024));
    let mut body = decoded(resp).await.map_err(read_error)?.take(limit as u64);
    loop {
        if buf.capacity() - buf.len() < 8 * 1024 {
            buf.reserve(32 * 1024);
        }
        if body.read_buf(&mut buf).await.map_err(read_error)? == 0 {
            return Ok(buf.freeze());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn coding(values: &[&'static str]) -> Coding {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(CONTENT_ENCODING, HeaderValue::from_static(v));
        }
        Coding::of(&h)
    }

    #[test]
    fn codings_are_read_from_the_header() {
        assert_eq!(coding(&[]), Coding::Identity);
        assert_eq!(coding(&["gzip"]), Coding::Gzip);
        assert_eq!(coding(&[" GZIP "]), Coding::Gzip);
        assert_eq!(coding(&["deflate"]), Coding::Deflate);
        assert_eq!(coding(&["br"]), Coding::Brotli);
        assert_eq!(coding(&["zstd"]), Coding::Zstd);
        assert_eq!(coding(&["identity"]), Coding::Identity);
        assert_eq!(coding(&["compress"]), Coding::Identity);
        assert_eq!(coding(&["gzip, br"]), Coding::Identity);
        assert_eq!(coding(&["gzip", "br"]), Coding::Identity);
    }
}
