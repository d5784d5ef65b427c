//! The one verdict on a response status: try again, follow a redirect, a
//! failure, or a page. Every request (pages, robots.txt, sitemaps, API
//! pages) is judged by it.

/// What a status means for the request that got it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Transient: 408, 429, 500, 502, 503, 504. Tried again while retries
    /// remain, then a failure.
    Retry,
    /// 301, 302, 303, 307, 308: the next hop is in `Location`.
    Redirect,
    /// Any other 5xx: the server failed, and would fail again.
    Failure,
    /// Everything else, a 404 included: the server's answer, recorded as it is.
    Page,
}

pub fn verdict(status: u16) -> Verdict {
    match status {
        408 | 429 | 500 | 502 | 503 | 504 => Verdict::Retry,
        301 | 302 | 303 | 307 | 308 => Verdict::Redirect,
        500..=599 => Verdict::Failure,
        _ => Verdict::Page,
    }
}

/// Whether the server asked the whole origin to slow down.
pub fn is_slow_down(status: u16) -> bool {
    matches!(status, 429 | 503)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_one_verdict() {
        for status in 100..=599u16 {
            let want = match status {
                408 | 429 | 500 | 502 | 503 | 504 => Verdict::Retry,
                301 | 302 | 303 | 307 | 308 => Verdict::Redirect,
                501 | 505..=599 => Verdict::Failure,
                100..=299 | 300 | 304..=306 | 309..=407 | 409..=428 | 430..=499 => Verdict::Page,
                _ => unreachable!("{status} is covered above"),
            };
            assert_eq!(verdict(status), want, "{status}");
        }
        for status in 100..=599u16 {
            assert_eq!(
                is_slow_down(status),
                status == 429 || status == 503,
                "{status}"
            );
        }
    }
}
