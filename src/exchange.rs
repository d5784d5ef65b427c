//! One HTTP exchange as it went over the wire, kept for archival output
//! (WARC). Only built when an archival format is asked for.

use std::net::SocketAddr;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use url::Url;

use crate::fetch::Response;

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
    /// The body after content decoding (`Content-Encoding` and chunked
    /// transfer coding undone); `response_headers` are as received.
    pub body: Bytes,
}

impl Exchange {
    /// The exchange behind a response, if the fetcher kept its request
    /// ([`crate::fetch::Fetcher::keep_requests`]). `url` is the URL
    /// requested (the last hop).
    pub fn from_response(url: Url, response: Response) -> Option<Self> {
        let sent = response.sent?;
        Some(Self {
            url,
            date: sent.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            remote_addr: response.remote_addr,
            request_headers: sent.headers,
            version: response.version,
            status: response.status,
            response_headers: response.headers,
            body: response.body,
        })
    }
}
