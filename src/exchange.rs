//! One HTTP exchange as it went over the wire, kept for archival output
//! (WARC). Only built when an archival format is asked for.

use std::net::SocketAddr;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use url::Url;

/// The request collector sent and the response it got for one page (the
/// last hop of its redirects).
#[derive(Debug)]
pub struct Exchange {
    /// The URL requested.
    pub url: Url,
    /// When the request was sent, RFC 3339 with milliseconds (UTC).
    pub date: String,
    /// The server's address, when the connection reported it.
    pub remote_addr: Option<SocketAddr>,
    /// Headers the request carried, in the order they were sent.
    pub request_headers: HeaderMap,
    pub version: reqwest::Version,
    pub status: u16,
    pub response_headers: HeaderMap,
    /// The body after content decoding (the client decompresses).
    pub body: Bytes,
}
