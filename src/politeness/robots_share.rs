//! robots.txt shared by the workers of one crawl: the first worker to
//! need an origin's file fetches it and stores what it got; the others
//! wait for that and read it, so each origin's robots.txt is requested once
//! per job, not once per worker.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::RobotsResponse;
use crate::record::PageError;

/// Where the workers of a crawl keep the robots.txt answers.
#[async_trait]
pub trait RobotsStore: Send + Sync {
    /// What another worker stored for `origin` (waiting a while if one is
    /// fetching it now), or `None`: this worker fetches it, then [`put`]s it.
    ///
    /// [`put`]: RobotsStore::put
    async fn get_or_claim(&self, origin: &str) -> Option<Vec<u8>>;
    async fn put(&self, origin: &str, stored: Vec<u8>);
}

/// A fetched robots.txt answer with the reason it failed, if it did.
#[derive(Serialize, Deserialize)]
struct Head {
    kind: String,
    status: u16,
    failure: Option<PageError>,
}

/// `HEAD-JSON \n BODY`.
pub fn encode(resp: &RobotsResponse, failure: Option<&PageError>) -> Vec<u8> {
    let (kind, status, body): (&str, u16, &[u8]) = match resp {
        RobotsResponse::Body(b) => ("body", 0, b),
        RobotsResponse::Truncated(b) => ("truncated", 0, b),
        RobotsResponse::Status(s) => ("status", *s, &[]),
        RobotsResponse::Unreachable => ("unreachable", 0, &[]),
    };
    let head = Head {
        kind: kind.to_string(),
        status,
        failure: failure.cloned(),
    };
    let mut out = serde_json::to_vec(&head).unwrap_or_default();
    out.push(b'\n');
    out.extend_from_slice(body);
    out
}

/// The answer and failure [`encode`] stored; `None` for anything else.
pub fn decode(stored: &[u8]) -> Option<(RobotsResponse, Option<PageError>)> {
    let nl = stored.iter().position(|b| *b == b'\n')?;
    let head: Head = serde_json::from_slice(&stored[..nl]).ok()?;
    let body = stored[nl + 1..].to_vec();
    let resp = match head.kind.as_str() {
        "body" => RobotsResponse::Body(body),
        "truncated" => RobotsResponse::Truncated(body),
        "status" => RobotsResponse::Status(head.status),
        "unreachable" => RobotsResponse::Unreachable,
        _ => return None,
    };
    Some((resp, head.failure))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ErrorKind;

    #[test]
    fn every_answer_comes_back_as_stored() {
        let failure = PageError {
            kind: ErrorKind::Connect,
            message: "robots.txt unreachable: connection refused".into(),
        };
        for (resp, f) in [
            (
                RobotsResponse::Body(b"User-agent: *\nDisallow: /x\n".to_vec()),
                None,
            ),
            (RobotsResponse::Truncated(vec![b'\n'; 10]), None),
            (RobotsResponse::Status(503), None),
            (RobotsResponse::Unreachable, Some(failure)),
        ] {
            let (back, f2) = decode(&encode(&resp, f.as_ref())).expect("decodes");
            assert_eq!(format!("{back:?}"), format!("{resp:?}"));
            assert_eq!(format!("{f2:?}"), format!("{f:?}"));
        }
        assert!(decode(b"junk").is_none());
    }
}
